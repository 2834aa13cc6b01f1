#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Origin controls and package groups through the mount (spec §6, §7; seed 004): both seed
# scenarios, the dependency-confusion defaults, versions that could not be retained hidden
# (ENOENT), refusals at close() as EPERM with the reason chain in the log and the audit trail,
# and user.cafs.explain. Prints TAP.
. "$(dirname "$0")/lib.sh"

python3 - "$WORK" <<'PY'
import io, json, sys, tarfile, zipfile
w = sys.argv[1]
def npm(scope, name, version):
    pj = json.dumps({"name": f"@{scope}/{name}", "version": version}).encode()
    with tarfile.open(f"{w}/{scope}-{name}-{version}.tgz", "w:gz") as t:
        info = tarfile.TarInfo("package/package.json"); info.size = len(pj)
        t.addfile(info, io.BytesIO(pj))
def wheel(name, version):
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    with zipfile.ZipFile(f"{w}/{name}-{version}-py3-none-any.whl", "w") as z:
        z.writestr(f"{name}/__init__.py", "")
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
npm("space", "anycompany-ui", "1.0.0")
npm("space", "anycompany-lib", "1.0.0")
npm("space", "other", "1.0.0")
for n, v in [("demo", "1.0"), ("demo", "2.0"), ("shared", "1.0"), ("shared", "2.0")]:
    wheel(n, v)
PY
C() { "$CAFS" "$@"; }
D=(--domain gm)
C create-domain --domain gm >/dev/null
for r in up repoB; do C create-repository "${D[@]}" --repository "$r" >/dev/null; done
C create-repository "${D[@]}" --repository team --upstreams repositoryName=up >/dev/null
C create-repository "${D[@]}" --repository repoA --upstreams repositoryName=repoB >/dev/null
C create-repository "${D[@]}" --repository repoC --upstreams repositoryName=repoB >/dev/null
# repoB holds what its external connection would have brought in ([6/8] adds real ingest)
C publish "${D[@]}" --repository repoB "$WORK/space-anycompany-lib-1.0.0.tgz" "$WORK/space-other-1.0.0.tgz" >/dev/null
C create-package-group "${D[@]}" --package-group /npm/space/anycompany~ --contact-info contact@email.com --description "my package group" >/dev/null
mount_domain gm
M=$MNT

# --- scenario 1: private names publishable anywhere, never ingested; the rest ingest-only -------
t "root: ingest-only" C update-package-group-origin-configuration "${D[@]}" --package-group '/*' --restrictions PUBLISH=BLOCK,EXTERNAL_UPSTREAM=ALLOW,INTERNAL_UPSTREAM=ALLOW
t "scenario 1 on the group" C update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --restrictions PUBLISH=ALLOW,EXTERNAL_UPSTREAM=BLOCK,INTERNAL_UPSTREAM=ALLOW
t "cp a private name into the mount publishes" cp "$WORK/space-anycompany-ui-1.0.0.tgz" "$M/up/npm/"
t "it is there" test -f "$M/up/npm/@space/anycompany-ui/1.0.0/package.tgz"
t_fail "cp another name is EPERM (root PUBLISH=BLOCK)" "not permitted" cp "$WORK/space-other-1.0.0.tgz" "$M/up/npm/"
grep -q "@space/other.*BLOCK" "$WORK/daemon.log" && pass "the log has the reason chain" || flunk "the log has the reason chain" "$(tail -3 "$WORK/daemon.log")"
same "user.cafs.package-group names its group" "$(getfattr --absolute-names --only-values -n user.cafs.package-group "$M/up/npm/@space/anycompany-ui" 2>&1)" "/npm/space/anycompany~"
x=$(getfattr --absolute-names --only-values -n user.cafs.explain "$M/up/npm/@space/anycompany-ui" 2>&1)
same "explain xattr: EXTERNAL_UPSTREAM denied by the group" "$(echo "$x" | jq -r '.EXTERNAL_UPSTREAM.decision')" "DENY"
echo "$x" | jq -r '.EXTERNAL_UPSTREAM.reason' | grep -q "anycompany~" && pass "explain xattr names the group" || flunk "explain xattr names the group" "$x"
t "retained through an internal upstream (INTERNAL_UPSTREAM=ALLOW)" cmp "$WORK/space-anycompany-ui-1.0.0.tgz" "$M/team/npm/@space/anycompany-ui/1.0.0/package.tgz"

# --- scenario 2: repoA -> repoB, ingest only via repoB, retain only into repoA, never publish --
t "scenario 2 on the group" C update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --restrictions PUBLISH=BLOCK,EXTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES,INTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES --add-allowed-repositories originRestrictionType=INTERNAL_UPSTREAM,repositoryName=repoA originRestrictionType=EXTERNAL_UPSTREAM,repositoryName=repoB
t "repoA reads it through repoB" cmp "$WORK/space-anycompany-lib-1.0.0.tgz" "$M/repoA/npm/@space/anycompany-lib/1.0.0/package.tgz"
same "and retained it" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$M/repoA/npm/@space/anycompany-lib/1.0.0" 2>&1)" "yes"
t_fail "repoC does not see it (could not retain: 404)" "No such file" stat "$M/repoC/npm/@space/anycompany-lib"
same "nor lists it beside a name of the scope it may see" "$(ls "$M/repoC/npm/@space" 2>&1 | tr '\n' ' ')" "other "
t_fail "publishing into repoB is refused" "not permitted" cp "$WORK/space-anycompany-ui-1.0.0.tgz" "$M/repoB/npm/"
t_fail "and into repoA" "not permitted" cp "$WORK/space-anycompany-ui-1.0.0.tgz" "$M/repoA/npm/"
ok_rows=$(C audit "${D[@]}" --max-results 0 --outcome AccessDeniedException --repository repoA | jq '[.events[] | select(.reason | test("anycompany~"))] | length')
[ "$ok_rows" -ge 1 ] && pass "the refusal is audited with the group in its reason" || flunk "the refusal is audited with the group in its reason" "$ok_rows rows"
same "explain: EXTERNAL_UPSTREAM into repoB allowed (a name repoB has no record of)" "$(C explain "${D[@]}" --repository repoB --format npm --namespace space --package anycompany-ui --action EXTERNAL_UPSTREAM | jq -r .verdict)" "ALLOWED"
same "explain: INTERNAL_UPSTREAM into repoC blocked" "$(C explain "${D[@]}" --repository repoC --format npm --namespace space --package anycompany-lib --action INTERNAL_UPSTREAM | jq -r .verdict)" "BLOCKED"

# --- dependency confusion: package-level defaults (spec §6.2) ------------------------------------
t "root: allow everything again" C update-package-group-origin-configuration "${D[@]}" --package-group '/*' --restrictions PUBLISH=ALLOW
t "an internal package published into team" cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/"
same "its defaults: publish ALLOW, upstream BLOCK" "$(getfattr --absolute-names --only-values -n user.cafs.origin.publish "$M/team/pypi/demo")/$(getfattr --absolute-names --only-values -n user.cafs.origin.upstream "$M/team/pypi/demo")" "ALLOW/BLOCK"
t "a higher version appears upstream" C publish "${D[@]}" --repository up "$WORK/demo-2.0-py3-none-any.whl"
same "team never picks it up" "$(ls "$M/team/pypi/demo" | tr '\n' ' ')" "1.0 index.html "
grep -q "demo-2.0" "$M/team/pypi/demo/index.html" && flunk "nor lists it in the index" || pass "nor lists it in the index"
t "an external-style package reaches team from up" bash -c "C() { '$CAFS' \"\$@\"; }; C publish --domain gm --repository up '$WORK/shared-1.0-py3-none-any.whl' >/dev/null && cat '$M/team/pypi/shared/1.0/shared-1.0-py3-none-any.whl' >/dev/null"
same "retained with ingest defaults: publish BLOCK" "$(getfattr --absolute-names --only-values -n user.cafs.origin.publish "$M/team/pypi/shared")" "BLOCK"
t_fail "a same-name publish into team is refused" "not permitted" cp "$WORK/shared-2.0-py3-none-any.whl" "$M/team/pypi/"

unmount_domain
finish
