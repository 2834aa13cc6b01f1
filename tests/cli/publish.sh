#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cafs publish` of real package files and the version read commands: wheels, sdists and npm
# tarballs built here, Debian's own pip wheel and commons-lang3 jar+POM, then describe, list,
# dependencies, readme and asset download; the upstream-reachable conflict; hostile files
# refused with nothing stored; a 50 MB asset in two repositories stored once. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: publish.sh PATH-TO-cafs}
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
. "$(dirname "$0")/lib.sh"

# --- build the package files ---------------------------------------------------------------
python3 - "$WORK" <<'PY'
import io, json, sys, tarfile, zipfile
w = sys.argv[1]
meta = """Metadata-Version: 2.1
Name: Demo_Pkg
Version: 1.0
Summary: A demo package
Home-page: https://example.invalid/demo
License: MIT
Project-URL: Source, https://example.invalid/demo.git
Requires-Python: >=3.8
Requires-Dist: requests (>=2.0)
Requires-Dist: tomli ; python_version < "3.11"

Demo readme text.
"""
with zipfile.ZipFile(f"{w}/demo_pkg-1.0-py3-none-any.whl", "w") as z:
    z.writestr("demo_pkg/__init__.py", "")
    z.writestr("demo_pkg-1.0.dist-info/METADATA", meta)
    z.writestr("demo_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    z.writestr("demo_pkg-1.0.dist-info/RECORD", "")
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with tarfile.open(f"{w}/demo_pkg-1.0.tar.gz", "w:gz") as t:
    add(t, "demo_pkg-1.0/PKG-INFO", meta.encode())
    add(t, "demo_pkg-1.0/setup.py", b"")
pj = {"name": "@acme/widget", "version": "1.2.0", "description": "A widget",
      "homepage": "https://example.invalid/widget", "license": "ISC",
      "repository": {"type": "git", "url": "git+https://example.invalid/widget.git"},
      "dependencies": {"left-pad": "^1.3.0"}, "devDependencies": {"tap": "^16"},
      "peerDependencies": {"react": ">=17"}, "optionalDependencies": {"fsevents": "*"}}
for v in ("1.2.0", "1.10.0", "2.0.0-rc.1"):
    pj["version"] = v
    with tarfile.open(f"{w}/widget-{v}.tgz", "w:gz") as t:
        add(t, "package/package.json", json.dumps(pj).encode())
        add(t, "package/README.md", b"# widget\n")
# hostile: a truncated npm tarball and a path traversal entry
data = open(f"{w}/widget-1.2.0.tgz", "rb").read()
open(f"{w}/truncated.tgz", "wb").write(data[: len(data) // 2])
with tarfile.open(f"{w}/evil-1.0.tar.gz", "w:gz") as t:
    add(t, "../evil/PKG-INFO", meta.encode())
PY

"$CAFS" create-domain --domain acme >/dev/null
"$CAFS" create-repository --domain acme --repository base >/dev/null
"$CAFS" create-repository --domain acme --repository app --upstreams repositoryName=base >/dev/null

# --- pypi ----------------------------------------------------------------------------------
ok "publish a wheel" publish --domain acme --repository base "$WORK/demo_pkg-1.0-py3-none-any.whl"
check "wheel published under the normalized name" '.published[0] | .format == "pypi" and .package == "demo-pkg" and .version == "1.0" and .status == "Published" and .asset.name == "demo_pkg-1.0-py3-none-any.whl"'
REV=$(jq -r '.published[0].versionRevision' "$OUT")
ok "publish the sdist into the same version" publish --domain acme --repository base "$WORK/demo_pkg-1.0.tar.gz"
check "revision changes when an asset is added" '.published[0].versionRevision != "'"$REV"'"'
ok "describe-package-version (pypi)" describe-package-version --domain acme --repository base --format pypi --package Demo.Pkg --package-version 1.0
check "pypi metadata" '.packageVersion | .packageName == "demo-pkg" and .displayName == "Demo_Pkg" and .summary == "A demo package"
	and .homePage == "https://example.invalid/demo" and .sourceCodeRepository == "https://example.invalid/demo.git"
	and .licenses == [{"name": "MIT"}] and .status == "Published" and .origin.originType == "INTERNAL"'
ok "list-package-version-dependencies (pypi)" list-package-version-dependencies --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0
check "Requires-Dist dependencies" '[.dependencies[] | .package] == ["requests", "tomli"] and all(.dependencies[]; .dependencyType == "Requires-Dist")
	and (.dependencies[0].versionRequirement | test(">=2.0"))'
ok "get-package-version-readme (pypi)" get-package-version-readme --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0
check "readme from the long description" '.readme | test("Demo readme text")'
ok "list-package-version-assets (pypi)" list-package-version-assets --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0
check "two assets" '[.assets[].name] == ["demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0.tar.gz"]'
ok "get-package-version-asset" get-package-version-asset --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0 --asset demo_pkg-1.0.tar.gz "$WORK/got.tar.gz"
check "get-package-version-asset response" '.assetName == "demo_pkg-1.0.tar.gz" and .packageVersion == "1.0" and (.packageVersionRevision | length) == 44'
cmp -s "$WORK/got.tar.gz" "$WORK/demo_pkg-1.0.tar.gz" && pass "downloaded bytes equal the published ones" || flunk "downloaded bytes equal the published ones"
refused "get-package-version-asset wrong revision" 1 ConflictException get-package-version-asset --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0 --asset demo_pkg-1.0.tar.gz --package-version-revision nope "$WORK/x"
refused "get-package-version-asset missing asset" 1 ResourceNotFoundException get-package-version-asset --domain acme --repository base --format pypi --package demo-pkg --package-version 1.0 --asset nope.whl "$WORK/x"
refused "publish a version an upstream already has" 1 ConflictException publish --domain acme --repository app "$WORK/demo_pkg-1.0-py3-none-any.whl"
grep -q "upstream 'base'" "$ERR" && pass "conflict names the upstream" || flunk "conflict names the upstream"
ok "with upstream=BLOCK the same version may be published" put-package-origin-configuration --domain acme --repository app --format pypi --package demo-pkg --restrictions publish=ALLOW,upstream=BLOCK
ok "publish after blocking upstream" publish --domain acme --repository app "$WORK/demo_pkg-1.0-py3-none-any.whl"

# Debian's real pip wheel
PIPWHL=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | head -1)
if [ -n "$PIPWHL" ]; then
	PIPVER=$(basename "$PIPWHL" | cut -d- -f2)
	ok "publish Debian's pip wheel" publish --domain acme --repository base "$PIPWHL"
	check "pip wheel metadata" '.published[0] | .package == "pip" and .version == "'"$PIPVER"'"'
	ok "describe Debian's pip" describe-package-version --domain acme --repository base --format pypi --package pip --package-version "$PIPVER"
	check "pip summary and license" '.packageVersion | (.summary | length) > 0 and (.licenses | length) >= 1'
else
	echo "ok $((n + 1)) # SKIP python3-pip-whl is not installed"; n=$((n + 1))
fi

# --- npm -----------------------------------------------------------------------------------
ok "publish npm tarballs" publish --domain acme --repository base "$WORK/widget-1.2.0.tgz" "$WORK/widget-1.10.0.tgz" "$WORK/widget-2.0.0-rc.1.tgz"
check "scoped npm package" '[.published[] | .namespace + "/" + .package + "@" + .version] == ["acme/widget@1.2.0", "acme/widget@1.10.0", "acme/widget@2.0.0-rc.1"] and all(.published[]; .asset.name == "package.tgz")'
ok "list-package-versions (npm)" list-package-versions --domain acme --repository base --format npm --namespace acme --package widget
check "latest follows the highest release" '.defaultDisplayVersion == "1.10.0"'
ok "describe-package-version (npm)" describe-package-version --domain acme --repository base --format npm --namespace acme --package widget --package-version 1.2.0
check "npm metadata" '.packageVersion | .displayName == "@acme/widget" and .summary == "A widget" and .homePage == "https://example.invalid/widget"
	and (.sourceCodeRepository | test("example.invalid/widget")) and .licenses == [{"name": "ISC"}]'
ok "list-package-version-dependencies (npm)" list-package-version-dependencies --domain acme --repository base --format npm --namespace acme --package widget --package-version 1.2.0
check "four npm dependency types" '([.dependencies[] | .dependencyType] | sort) == ["dev", "optional", "peer", "regular"]'
ok "get-package-version-readme (npm)" get-package-version-readme --domain acme --repository base --format npm --namespace acme --package widget --package-version 1.2.0
check "npm README" '.readme | test("# widget")'

# --- maven (Debian's commons-lang3) ---------------------------------------------------------
JAR=$(ls /usr/share/maven-repo/org/apache/commons/commons-lang3/3.*/commons-lang3-3.*.jar 2>/dev/null | grep -v '3.x' | head -1)
if [ -n "$JAR" ]; then
	MVER=$(basename "$(dirname "$JAR")")
	ok "publish a jar with the POM beside it" publish --domain acme --repository base "$JAR"
	check "jar and POM published, version Published once both are in" '([.published[] | .asset.name] | sort) == ["commons-lang3-'"$MVER"'.jar", "commons-lang3-'"$MVER"'.pom"]
		and (.published | last | .status) == "Published" and (.published | first | .status) == "Unfinished"
		and all(.published[]; .namespace == "org.apache.commons" and .package == "commons-lang3")'
	ok "describe-package-version (maven)" describe-package-version --domain acme --repository base --format maven --namespace org.apache.commons --package commons-lang3 --package-version "$MVER"
	check "maven metadata" '.packageVersion | .status == "Published" and (.summary | length) > 0 and .displayName == "commons-lang3"'
	ok "list-package-version-dependencies (maven)" list-package-version-dependencies --domain acme --repository base --format maven --namespace org.apache.commons --package commons-lang3 --package-version "$MVER"
	check "POM parent as a dependency" '[.dependencies[] | select(.dependencyType == "parent")] | length == 1'
else
	echo "ok $((n + 1)) # SKIP libcommons-lang3-java is not installed"; n=$((n + 1))
fi
head -c 1000 /dev/urandom >"$WORK/lonely.jar"
refused "a file of no known format and no POM" 1 ValidationException publish --domain acme --repository base "$WORK/lonely.jar"
cp "$WORK/demo_pkg-1.0-py3-none-any.whl" "$WORK/other-9.9-py3-none-any.whl"
refused "a wheel whose file name disagrees with its metadata" 1 ValidationException publish --domain acme --repository base "$WORK/other-9.9-py3-none-any.whl"
cp "$WORK/demo_pkg-1.0-py3-none-any.whl" "$WORK/wheel.jar"
refused "a wheel not named .whl" 1 ValidationException publish --domain acme --repository base "$WORK/wheel.jar"

# --- Maven deploy flow: Unfinished until maven-metadata.xml; SNAPSHOT builds -----------------
mkdir -p "$WORK/m"
pom() { # version
	cat <<XML
<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId>
<artifactId>app</artifactId><version>$1</version><description>An app</description></project>
XML
}
meta() { # versions...
	printf '<metadata><groupId>com.example</groupId><artifactId>app</artifactId><versioning><versions>'
	for v in "$@"; do printf '<version>%s</version>' "$v"; done
	printf '</versions></versioning></metadata>\n'
}
pom 2.0 >"$WORK/m/app-2.0.pom"
head -c 3000 /dev/urandom >"$WORK/m/app-2.0.jar"
ok "maven publish --unfinished" publish --domain acme --repository base --unfinished "$WORK/m/app-2.0.jar"
check "both files in, version Unfinished" 'all(.published[]; .status == "Unfinished") and (.published | length) == 2'
ok "list-package-versions shows the Unfinished version" list-package-versions --domain acme --repository base --format maven --namespace com.example --package app
check "Unfinished listed" '[.versions[] | select(.version == "2.0") | .status] == ["Unfinished"]'
meta 2.0 >"$WORK/m/maven-metadata.xml"
ok "maven-metadata.xml publishes it" publish --domain acme --repository base "$WORK/m/maven-metadata.xml"
check "one version finished" '.mavenMetadata[0].versionsPublished == 1'
ok "describe after maven-metadata.xml" describe-package-version --domain acme --repository base --format maven --namespace com.example --package app --package-version 2.0
check "Published with a publishedTime" '.packageVersion.status == "Published" and (.packageVersion.publishedTime | length) > 0'
mkdir -p "$WORK/m/bad"
printf '<metadata><groupId>com.other</groupId><artifactId>app</artifactId></metadata>' >"$WORK/m/bad/maven-metadata.xml"
refused "maven-metadata.xml of an unknown artifact" 1 ResourceNotFoundException publish --domain acme --repository base "$WORK/m/bad/maven-metadata.xml"
printf '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><metadata/>' >"$WORK/m/bad/maven-metadata.xml"
refused "maven-metadata.xml with a DOCTYPE" 1 ValidationException publish --domain acme --repository base "$WORK/m/bad/maven-metadata.xml"

pom 1.0-SNAPSHOT >"$WORK/m/app-1.0-20260101.120000-1.pom"
head -c 2000 /dev/urandom >"$WORK/m/app-1.0-20260101.120000-1.jar"
ok "first SNAPSHOT build" publish --domain acme --repository base --unfinished "$WORK/m/app-1.0-20260101.120000-1.jar"
check "timestamped names kept" '([.published[].asset.name] | sort) == ["app-1.0-20260101.120000-1.jar", "app-1.0-20260101.120000-1.pom"] and all(.published[]; .version == "1.0-SNAPSHOT")'
meta 2.0 1.0-SNAPSHOT >"$WORK/m/maven-metadata.xml"
ok "SNAPSHOT published by maven-metadata.xml" publish --domain acme --repository base "$WORK/m/maven-metadata.xml"
pom 1.0-SNAPSHOT >"$WORK/m/app-1.0-20260102.130000-2.pom"
head -c 2000 /dev/urandom >"$WORK/m/app-1.0-20260102.130000-2.jar"
ok "second SNAPSHOT build" publish --domain acme --repository base --unfinished "$WORK/m/app-1.0-20260102.130000-2.jar"
ok "maven-metadata.xml again" publish --domain acme --repository base "$WORK/m/maven-metadata.xml"
ok "list builds" list-package-versions --domain acme --repository base --format maven --namespace com.example --package app --status Unlisted
check "the previous build is an Unlisted version" '[.versions[].version] == ["1.0-20260101.120000-1"]'
ok "assets of the previous build" list-package-version-assets --domain acme --repository base --format maven --namespace com.example --package app --package-version 1.0-20260101.120000-1
check "previous build keeps its files" '[.assets[].name] == ["app-1.0-20260101.120000-1.jar", "app-1.0-20260101.120000-1.pom"]'
ok "assets of the SNAPSHOT" list-package-version-assets --domain acme --repository base --format maven --namespace com.example --package app --package-version 1.0-SNAPSHOT
check "SNAPSHOT holds the newest build" '[.assets[].name] == ["app-1.0-20260102.130000-2.jar", "app-1.0-20260102.130000-2.pom"]'
ok "SNAPSHOT status" describe-package-version --domain acme --repository base --format maven --namespace com.example --package app --package-version 1.0-SNAPSHOT
check "SNAPSHOT Published again" '.packageVersion.status == "Published"'

# --- hostile files store nothing -------------------------------------------------------------
BLOBS_BEFORE=$(find "$CAFS_STORE/acme/blobs" -type f | wc -l)
refused "truncated npm tarball" 1 ValidationException publish --domain acme --repository base "$WORK/truncated.tgz"
refused "path traversal in an sdist" 1 ValidationException publish --domain acme --repository base "$WORK/evil-1.0.tar.gz"
[ "$(find "$CAFS_STORE/acme/blobs" -type f | wc -l)" -eq "$BLOBS_BEFORE" ] && pass "refused files stored nothing" || flunk "refused files stored nothing"
ok "list-packages after refusals" list-packages --domain acme --repository base --format pypi
check "no package from a refused file" '[.packages[].package] | index("evil") == null'

# --- one 50 MB asset in two repositories uses 50 MB ------------------------------------------
head -c 52428800 /dev/urandom >"$WORK/big.bin"
SHA=$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)
BEFORE=$(du -sk "$CAFS_STORE/acme/blobs" | cut -f1)
for r in base app; do
	"$CAFS" publish-package-version --domain acme --repository $r --format generic --namespace big --package blob --package-version 1 --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$SHA" >/dev/null 2>"$ERR" || flunk "publish 50 MB into $r"
done
AFTER=$(du -sk "$CAFS_STORE/acme/blobs" | cut -f1)
GROWTH=$((AFTER - BEFORE))
[ "$GROWTH" -ge 51200 ] && [ "$GROWTH" -lt 52000 ] && pass "two repositories, one 50 MB blob ($GROWTH KiB)" || flunk "two repositories, one 50 MB blob ($GROWTH KiB)"

# --- delete-package frees the blob once nothing references it --------------------------------------
"$CAFS" delete-package --domain acme --repository base --format generic --namespace big --package blob >/dev/null 2>"$ERR" || flunk "delete-package in base"
AFTER1=$(du -sk "$CAFS_STORE/acme/blobs" | cut -f1)
[ "$AFTER1" -ge "$AFTER" ] && pass "a blob another repository holds stays" || flunk "a blob another repository holds stays ($AFTER1 < $AFTER)"
"$CAFS" delete-package --domain acme --repository app --format generic --namespace big --package blob >/dev/null 2>"$ERR" || flunk "delete-package in app"
AFTER2=$(du -sk "$CAFS_STORE/acme/blobs" | cut -f1)
[ $((AFTER - AFTER2)) -ge 51200 ] && pass "the last reference gone, the 50 MB are freed" || flunk "the last reference gone, the 50 MB are freed ($AFTER -> $AFTER2 KiB)"
ok "describe-domain after deletes" describe-domain --domain acme
check "assetSizeBytes no longer counts it" '.domain.assetSizeBytes < 52428800'

echo "1..$n"
[ "$failed" -eq 0 ]
