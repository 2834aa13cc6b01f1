#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The mounted tree: shape per format, exact sizes and bytes of synthesized files, checksum
# files, xattrs and their errors, the spec's resolution order observed through the mount,
# retention into the requesting repository only, retained versions surviving upstream
# deletion, upstream=BLOCK hiding upstream versions, and CLI changes showing up in the mount.
. "$(dirname "$0")/lib.sh"

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
def wheel(tag, version, summary):
    meta = f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\nSummary: {summary}\nRequires-Python: >=3.7\n\nbody\n"
    with zipfile.ZipFile(f"{w}/{tag}/demo-{version}-py3-none-any.whl", "w") as z:
        z.writestr("demo/__init__.py", f"# {tag}\n")
        z.writestr(f"demo-{version}.dist-info/METADATA", meta)
        z.writestr(f"demo-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        z.writestr(f"demo-{version}.dist-info/RECORD", "")
import os
for tag, version in [("re", "1.0"), ("rb", "1.0"), ("rd", "2.0"), ("rb", "2.0"), ("rc", "3.0"), ("re", "3.0")]:
    os.makedirs(f"{w}/{tag}", exist_ok=True)
    wheel(tag, version, f"from {tag}")
PY

C() { "$CAFS" "$@" >/dev/null; }
C create-domain --domain it
for r in re rc rb; do C create-repository --domain it --repository $r; done
C create-repository --domain it --repository rd --upstreams repositoryName=re
C create-repository --domain it --repository ra --upstreams repositoryName=rc repositoryName=rd
C create-repository --domain it --repository my-repo --upstreams repositoryName=ra repositoryName=rb
for r in re rb rd rc; do
	for f in "$WORK/$r"/*.whl; do C publish --domain it --repository $r "$f"; done
done
JAR=$(ls /usr/share/maven-repo/org/apache/commons/commons-lang3/3.*/commons-lang3-3.*.jar | grep -v 3.x | head -1)
MVER=$(basename "$(dirname "$JAR")")
C publish --domain it --repository rb "$JAR"
printf 'generic bytes\n' >"$WORK/tool.txt"
C publish-package-version --domain it --repository my-repo --format generic --namespace acme --package tool --package-version 1 --asset-content "$WORK/tool.txt" --asset-name tool.txt --asset-sha256 "$(sha256sum "$WORK/tool.txt" | cut -d' ' -f1)"
C create-repository --domain it --repository npmrepo
python3 - "$WORK" <<'PY'
import io, json, sys, tarfile
w = sys.argv[1]
with tarfile.open(f"{w}/w.tgz", "w:gz") as t:
    d = json.dumps({"name": "@acme/widget", "version": "1.0.0"}).encode()
    ti = tarfile.TarInfo("package/package.json"); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
PY
C publish --domain it --repository npmrepo "$WORK/w.tgz"

mount_domain it
M=$MNT

# --- tree shape ------------------------------------------------------------------------------
same "root lists repositories" "$(ls "$M" | tr '\n' ' ')" "my-repo npmrepo ra rb rc rd re "
same "a repository lists its format folders" "$(ls "$M/my-repo" | tr '\n' ' ')" "generic maven npm pypi "
same "pypi folder lists the client view" "$(ls "$M/my-repo/pypi" | tr '\n' ' ')" "demo index.html "
same "versions merged through upstreams" "$(ls "$M/my-repo/pypi/demo" | tr '\n' ' ')" "1.0 2.0 3.0 index.html "
t "maven layout" test -f "$M/my-repo/maven/org/apache/commons/commons-lang3/$MVER/commons-lang3-$MVER.jar"
same "maven group levels" "$(ls "$M/my-repo/maven/org/apache" | tr '\n' ' ')" "commons "
same "npm scope folder" "$(ls "$M/npmrepo/npm" | tr '\n' ' ')" "@acme "
t "npm tarball path" test -f "$M/npmrepo/npm/@acme/widget/1.0.0/package.tgz"
same "generic tree" "$(cat "$M/my-repo/generic/acme/tool/1/tool.txt")" "generic bytes"
t "folders are folders" test -d "$M/my-repo/pypi/demo/1.0"
t_fail "a missing name is ENOENT" "No such file" stat "$M/my-repo/pypi/nothing-here"
t_fail "generic is not served through upstreams" "No such file" ls "$M/ra/generic/acme"

# --- resolution order: my-repo -> [ra, rb], ra -> [rc, rd], rd -> [re]: my-repo, ra, rc, rd, re, rb
same "1.0 comes from re, not rb" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/my-repo/pypi/demo/1.0" 2>&1)" "re"
same "2.0 comes from rd, not rb" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/my-repo/pypi/demo/2.0" 2>&1)" "rd"
same "3.0 comes from rc, not re" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/my-repo/pypi/demo/3.0" 2>&1)" "rc"
unzip -p "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl" demo/__init__.py >"$WORK/init.txt"
same "the bytes read are re's" "$(cat "$WORK/init.txt")" "# re"

# --- synthesized files: exact sizes, bytes, checksums ---------------------------------------
for f in "$M/my-repo/pypi/index.html" "$M/my-repo/pypi/demo/index.html" \
	"$M/my-repo/maven/org/apache/commons/commons-lang3/maven-metadata.xml" \
	"$M/my-repo/maven/org/apache/commons/commons-lang3/maven-metadata.xml.sha1"; do
	same "stat size = bytes of $(basename "$f")" "$(stat -c %s "$f")" "$(cat "$f" | wc -c)"
done
grep -q '<a href="demo/">demo</a>' "$M/my-repo/pypi/index.html" && pass "root index links the project" || flunk "root index links the project"
SHA=$(sha256sum "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl" | cut -d' ' -f1)
grep -q "href=\"1.0/demo-1.0-py3-none-any.whl#sha256=$SHA\" data-requires-python=\"&gt;=3.7\"" "$M/my-repo/pypi/demo/index.html" && pass "project index: href, sha256, requires-python" || flunk "project index: href, sha256, requires-python" "$(cat "$M/my-repo/pypi/demo/index.html")"
MSHA=$(sha256sum "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl.metadata" | cut -d' ' -f1)
grep -q "data-core-metadata=\"sha256=$MSHA\"" "$M/my-repo/pypi/demo/index.html" && pass "PEP 658 metadata file and its hash" || flunk "PEP 658 metadata file and its hash"
JARP="$M/my-repo/maven/org/apache/commons/commons-lang3/$MVER/commons-lang3-$MVER.jar"
same "jar bytes" "$(sha256sum <"$JARP")" "$(sha256sum <"$JAR")"
same "jar .sha1" "$(cat "$JARP.sha1")" "$(sha1sum "$JAR" | cut -d' ' -f1)"
same "jar .md5" "$(cat "$JARP.md5")" "$(md5sum "$JAR" | cut -d' ' -f1)"
same "jar .sha512" "$(cat "$JARP.sha512")" "$(sha512sum "$JAR" | cut -d' ' -f1)"
MD="$M/my-repo/maven/org/apache/commons/commons-lang3/maven-metadata.xml"
same "maven-metadata.xml .sha1" "$(cat "$MD.sha1")" "$(sha1sum "$MD" | cut -d' ' -f1)"
grep -q "<release>$MVER</release>" "$MD" && grep -q "<version>$MVER</version>" "$MD" && pass "maven-metadata.xml lists the version" || flunk "maven-metadata.xml lists the version" "$(cat "$MD")"

# --- retention: into the requesting repository only ---------------------------------------------
same "reading retained 1.0 into my-repo" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/my-repo/pypi/demo/1.0")" "yes"
same "my-repo holds 1.0 now" "$("$CAFS" list-package-versions --domain it --repository my-repo --format pypi --package demo | jq -r '[.versions[].version] | join(",")')" "1.0"
t_fail "intermediate ra holds nothing" "ResourceNotFoundException" "$CAFS" list-package-versions --domain it --repository ra --format pypi --package demo
same "rd holds only its own" "$("$CAFS" list-package-versions --domain it --repository rd --format pypi --package demo | jq -r '[.versions[].version] | join(",")')" "2.0"
same "retained origin kept" "$("$CAFS" describe-package-version --domain it --repository my-repo --format pypi --package demo --package-version 1.0 | jq -r .packageVersion.origin.domainEntryPoint.repositoryName)" "re"
same "retained package has ingest-style controls" "$("$CAFS" describe-package --domain it --repository my-repo --format pypi --package demo | jq -c .package.originConfiguration.restrictions)" '{"publish":"BLOCK","upstream":"ALLOW"}'

# --- retained versions survive the upstream going away ---------------------------------------------
C update-repository --domain it --repository rd --upstreams
C delete-repository --domain it --repository re
sleep 1.2
same "1.0 still readable after re is deleted" "$(unzip -p "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl" demo/__init__.py)" "# re"
same "3.0 now only from rc" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/my-repo/pypi/demo/3.0")" "rc"

# --- upstream=BLOCK hides what is not retained ------------------------------------------------------
C put-package-origin-configuration --domain it --repository my-repo --format pypi --package demo --restrictions publish=ALLOW,upstream=BLOCK
sleep 1.2
same "only the retained version is left" "$(ls "$M/my-repo/pypi/demo" | tr '\n' ' ')" "1.0 index.html "
t_fail "a blocked upstream version is not found" "No such file" stat "$M/my-repo/pypi/demo/2.0"
getfattr --absolute-names --only-values -n user.cafs.explain "$M/my-repo/pypi/demo" | jq -e '.INTERNAL_UPSTREAM.decision == "DENY" and (.INTERNAL_UPSTREAM.reason | test("upstream=BLOCK")) and .PUBLISH.decision == "ALLOW"' >/dev/null && pass "explain names the deciding setting" || flunk "explain names the deciding setting" "$(getfattr --absolute-names -n user.cafs.explain "$M/my-repo/pypi/demo" 2>&1)"

# --- xattrs -------------------------------------------------------------------------------------
getfattr --absolute-names -d "$M/my-repo/pypi/demo/1.0" >"$WORK/x" 2>&1
grep -q 'user.cafs.status="Published"' "$WORK/x" && grep -q 'user.cafs.revision=' "$WORK/x" && grep -q 'user.cafs.origin=' "$WORK/x" && pass "getfattr -d on a version" || flunk "getfattr -d on a version" "$(cat "$WORK/x")"
same "asset sha256 xattr" "$(getfattr --absolute-names --only-values -n user.cafs.hash.sha256 "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl")" "$(sha256sum "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl" | cut -d' ' -f1)"
same "repository upstreams xattr" "$(getfattr --absolute-names --only-values -n user.cafs.upstreams "$M/my-repo")" "ra
rb"
getfattr --absolute-names --only-values -n user.cafs.domain "$M" | jq -e '.name == "it"' >/dev/null && pass "domain xattr is DescribeDomain JSON" || flunk "domain xattr is DescribeDomain JSON"
t_fail "unknown xattr is ENODATA" "No such attribute" getfattr --absolute-names -n user.cafs.nope "$M/my-repo"
t_fail "posix ACLs are EOPNOTSUPP" "Operation not supported" setfattr -n system.posix_acl_access -v 0x0200000001000600ffffffff04000400ffffffff20000400ffffffff "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl"

# --- CLI changes show in the mount within the attribute timeout -------------------------------------
C update-package-versions-status --domain it --repository my-repo --format pypi --package demo --versions 1.0 --target-status Archived
sleep 1.2
t_fail "Archived asset cannot be read" "Permission denied" cat "$M/my-repo/pypi/demo/1.0/demo-1.0-py3-none-any.whl"
grep -q "demo-1.0" "$M/my-repo/pypi/demo/index.html" && flunk "Archived left out of the index" || pass "Archived left out of the index"
C delete-package-versions --domain it --repository my-repo --format pypi --package demo --versions 1.0
sleep 1.2
t_fail "deleted version gone from the mount" "No such file" stat "$M/my-repo/pypi/demo/1.0"

unmount_domain
t "unmounted" bash -c "! mountpoint -q '$MNT'"
finish
