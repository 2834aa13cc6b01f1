#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Package groups through the command line (spec §7, seed 004): create, describe with
# effective modes and inheritance, list, sub-groups, update, origin configuration with allowed
# lists, delete with re-attachment, association (STRONG/WEAK, for packages that exist nowhere),
# associated packages with --preview; then the decision at every entry point the CLI has
# (publish, copy) with `cafs explain` and the audit trail. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: groups.sh PATH-TO-cafs}
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
. "$(dirname "$0")/lib.sh"

python3 - "$WORK" <<'PY'
import io, json, sys, tarfile, zipfile
w = sys.argv[1]
def npm(scope, name, version):
    full = f"@{scope}/{name}" if scope else name
    pj = json.dumps({"name": full, "version": version}).encode()
    path = f"{w}/{scope or 'x'}-{name}-{version}.tgz"
    with tarfile.open(path, "w:gz") as t:
        info = tarfile.TarInfo("package/package.json"); info.size = len(pj)
        t.addfile(info, io.BytesIO(pj))
def wheel(name, version):
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    with zipfile.ZipFile(f"{w}/{name}-{version}-py3-none-any.whl", "w") as z:
        z.writestr(f"{name}/__init__.py", "")
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
npm("space", "anycompany-ui", "1.0.0")
npm("space", "anycompany-ui", "1.1.0")
npm("space", "other", "1.0.0")
npm("", "anycompany-spicy-client", "1.0.0")
npm("", "anycompany.spicy.client", "1.0.0")
wheel("demo", "1.0")
PY
D=(--domain gd)
ok "create domain" create-domain --domain gd
for r in team up repoA repoB repoC; do "$CAFS" create-repository "${D[@]}" --repository "$r" >/dev/null; done
"$CAFS" update-repository "${D[@]}" --repository team --upstreams repositoryName=up >/dev/null
"$CAFS" update-repository "${D[@]}" --repository repoA --upstreams repositoryName=repoB >/dev/null
"$CAFS" update-repository "${D[@]}" --repository repoC --upstreams repositoryName=repoB >/dev/null

# --- the root group -------------------------------------------------------------------------
ok "the root group exists" describe-package-group "${D[@]}" --package-group '/*'
check "root: ALLOW for all three, no parent" '.packageGroup | .pattern == "/*" and (.parent == null) and ([.originConfiguration.restrictions[] | .mode] == ["ALLOW","ALLOW","ALLOW"])'
check "root ARN encodes *" '.packageGroup.arn | endswith(":package-group/gd/%2a")'
refused "the root cannot be deleted" 1 ValidationException delete-package-group "${D[@]}" --package-group '/*'
refused "the root cannot INHERIT" 1 ValidationException update-package-group-origin-configuration "${D[@]}" --package-group '/*' --restrictions PUBLISH=INHERIT

# --- create / describe / list -----------------------------------------------------------------
refused "an invalid pattern" 1 ValidationException create-package-group "${D[@]}" --package-group '/npm/space/foo'
refused "'~' right after '/'" 1 ValidationException create-package-group "${D[@]}" --package-group '/npm/~'
ok "create /npm/*" create-package-group "${D[@]}" --package-group '/npm/*' --description "all npm"
check "new groups INHERIT, effectively ALLOW from the root" '.packageGroup | ([.originConfiguration.restrictions[] | .mode] == ["INHERIT","INHERIT","INHERIT"]) and ([.originConfiguration.restrictions[] | .effectiveMode] == ["ALLOW","ALLOW","ALLOW"]) and .originConfiguration.restrictions.PUBLISH.inheritedFrom.pattern == "/*" and .parent.pattern == "/*"'
ok "create /npm/space/anycompany~ (seed 004)" create-package-group "${D[@]}" --package-group /npm/space/anycompany~ --domain-owner 000000000000 --contact-info contact@email.com --description "my package group"
check "its parent is /npm/*" '.packageGroup.parent.pattern == "/npm/*" and .packageGroup.contactInfo == "contact@email.com"'
refused "the same pattern twice" 1 ConflictException create-package-group "${D[@]}" --package-group /npm/space/anycompany~
ok "create /npm/space/*" create-package-group "${D[@]}" --package-group '/npm/space/*'
ok "describe the prefix group again" describe-package-group "${D[@]}" --package-group /npm/space/anycompany~
check "/npm/space/* slid in between" '.packageGroup.parent.pattern == "/npm/space/*"'
ok "list-package-groups" list-package-groups "${D[@]}"
check "four groups" '[.packageGroups[].pattern] == ["/*", "/npm/*", "/npm/space/*", "/npm/space/anycompany~"]'
ok "list-package-groups --prefix /npm/space" list-package-groups "${D[@]}" --prefix /npm/space
check "two of them" '[.packageGroups[].pattern] == ["/npm/space/*", "/npm/space/anycompany~"]'
ok "list-sub-package-groups of /npm/*" list-sub-package-groups "${D[@]}" --package-group '/npm/*'
check "one direct child" '[.packageGroups[].pattern] == ["/npm/space/*"]'
ok "update-package-group" update-package-group "${D[@]}" --package-group '/npm/space/*' --description "the space scope"
check "description changed" '.packageGroup.description == "the space scope"'

# --- origin configuration, allowed lists ------------------------------------------------------
ok "3-deep INHERIT: /npm/* PUBLISH=BLOCK" update-package-group-origin-configuration "${D[@]}" --package-group '/npm/*' --restrictions PUBLISH=BLOCK
ok "describe the grandchild" describe-package-group "${D[@]}" --package-group /npm/space/anycompany~
check "PUBLISH effectively BLOCK, inherited from /npm/*" '.packageGroup.originConfiguration.restrictions.PUBLISH | .mode == "INHERIT" and .effectiveMode == "BLOCK" and .inheritedFrom.pattern == "/npm/*"'
ok "seed 004 scenario 2 configuration" update-package-group-origin-configuration "${D[@]}" --domain-owner 000000000000 --package-group /npm/space/anycompany~ --restrictions PUBLISH=BLOCK,EXTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES,INTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES --add-allowed-repositories originRestrictionType=INTERNAL_UPSTREAM,repositoryName=repoA originRestrictionType=EXTERNAL_UPSTREAM,repositoryName=repoB
check "allowedRepositoryUpdates lists what was added" '.allowedRepositoryUpdates == {"EXTERNAL_UPSTREAM": {"ADDED": ["repoB"]}, "INTERNAL_UPSTREAM": {"ADDED": ["repoA"]}}'
check "repositoriesCount" '.packageGroup.originConfiguration.restrictions | .INTERNAL_UPSTREAM.repositoriesCount == 1 and .EXTERNAL_UPSTREAM.repositoriesCount == 1 and .PUBLISH.mode == "BLOCK"'
ok "list-allowed-repositories-for-group" list-allowed-repositories-for-group "${D[@]}" --package-group /npm/space/anycompany~ --origin-restriction-type INTERNAL_UPSTREAM
check "repoA" '.allowedRepositories == ["repoA"]'
refused "an unknown repository cannot be allowed" 1 ResourceNotFoundException update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --add-allowed-repositories originRestrictionType=PUBLISH,repositoryName=nosuch
many=()
for i in $(seq 1 101); do many+=("originRestrictionType=PUBLISH,repositoryName=team"); done
refused "more than 100 changes in one call" 1 ValidationException update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --add-allowed-repositories "${many[@]}"
ok "add and remove in one call" update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --add-allowed-repositories originRestrictionType=INTERNAL_UPSTREAM,repositoryName=team --remove-allowed-repositories originRestrictionType=INTERNAL_UPSTREAM,repositoryName=team
check "both reported" '.allowedRepositoryUpdates.INTERNAL_UPSTREAM == {"ADDED": ["team"], "REMOVED": ["team"]}'

# --- association ----------------------------------------------------------------------------
ok "get-associated-package-group of a package that exists nowhere" get-associated-package-group "${D[@]}" --format npm --namespace space --package anycompany-ui
check "STRONG, the most specific group" '.associationType == "STRONG" and .packageGroup.pattern == "/npm/space/anycompany~"'
ok "a name that is no word-boundary extension" get-associated-package-group "${D[@]}" --format npm --namespace space --package anycompanyx
check "falls to /npm/space/*" '.associationType == "STRONG" and .packageGroup.pattern == "/npm/space/*"'
ok "a case variant" get-associated-package-group "${D[@]}" --format npm --namespace space --package AnyCompany-UI
check "WEAK" '.associationType == "WEAK" and .packageGroup.pattern == "/npm/space/anycompany~"'
ok "a pypi group" create-package-group "${D[@]}" --package-group '/pypi//demo-pkg$'
ok "pypi: the package name is normalized first" get-associated-package-group "${D[@]}" --format pypi --package Demo_Pkg
check "STRONG match of the normalized name" '.packageGroup.pattern == "/pypi//demo-pkg$" and .associationType == "STRONG"'

# --- explain and enforcement: scenario 2 (ingest only through repoB, never published) -------
ok "explain PUBLISH into repoA" explain "${D[@]}" --repository repoA --format npm --namespace space --package anycompany-ui --action PUBLISH
check "BLOCKED by the group" '.verdict == "BLOCKED" and .packageGroup.pattern == "/npm/space/anycompany~" and .packageGroup.effectiveMode == "BLOCK" and (.explanation | test("/npm/space/anycompany~"))'
ok "explain EXTERNAL_UPSTREAM into repoB" explain "${D[@]}" --repository repoB --format npm --namespace space --package anycompany-ui --action EXTERNAL_UPSTREAM
check "ALLOWED: repoB is on the list" '.verdict == "ALLOWED" and .packageGroup.repositoryAllowed == true'
ok "explain EXTERNAL_UPSTREAM into repoA" explain "${D[@]}" --repository repoA --format npm --namespace space --package anycompany-ui --action EXTERNAL_UPSTREAM
check "BLOCKED: not on the list" '.verdict == "BLOCKED" and .packageGroup.repositoryAllowed == false'
ok "explain INTERNAL_UPSTREAM into repoA" explain "${D[@]}" --repository repoA --format npm --namespace space --package anycompany-ui --action INTERNAL_UPSTREAM
check "ALLOWED" '.verdict == "ALLOWED"'
ok "explain INTERNAL_UPSTREAM into repoC" explain "${D[@]}" --repository repoC --format npm --namespace space --package anycompany-ui --action INTERNAL_UPSTREAM
check "BLOCKED" '.verdict == "BLOCKED"'
refused "publishing is refused everywhere" 1 AccessDeniedException publish "${D[@]}" --repository repoB "$WORK/space-anycompany-ui-1.0.0.tgz"
grep -q "anycompany~" "$ERR" && pass "the refusal names the group" || flunk "the refusal names the group"
ok "audit --package matches the package name only" audit "${D[@]}" --max-results 0 --package npm
check "nothing is named npm" '(.events | length) == 0'
ok "audit: the refusal with its reason chain" audit "${D[@]}" --max-results 0 --outcome AccessDeniedException --package anycompany-ui
check "one row, reason names the group" '(.events | length) >= 1 and (.events[0].reason | test("anycompany~"))'

# --- scenario 1: private names publishable, never ingested --------------------------------------
ok "seed 004 scenario 1 configuration" update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --restrictions PUBLISH=ALLOW,EXTERNAL_UPSTREAM=BLOCK,INTERNAL_UPSTREAM=ALLOW
ok "publish a matching name" publish "${D[@]}" --repository up "$WORK/space-anycompany-ui-1.0.0.tgz"
refused "publish a name under /npm/space/* (PUBLISH inherited BLOCK)" 1 AccessDeniedException publish "${D[@]}" --repository up "$WORK/space-other-1.0.0.tgz"
ok "explain EXTERNAL_UPSTREAM for the private name" explain "${D[@]}" --repository team --format npm --namespace space --package anycompany-ui --action EXTERNAL_UPSTREAM
check "never ingested" '.verdict == "BLOCKED" and .packageGroup.effectiveMode == "BLOCK"'
ok "copy into team is a publish: allowed" copy-package-versions "${D[@]}" --source-repository up --destination-repository team --format npm --namespace space --package anycompany-ui --versions 1.0.0
check "copied" '.successfulVersions | has("1.0.0")'
ok "publish=BLOCK on the package in team" put-package-origin-configuration "${D[@]}" --repository team --format npm --namespace space --package anycompany-ui --restrictions publish=BLOCK,upstream=ALLOW
ok "publish 1.1.0 into up" publish "${D[@]}" --repository up "$WORK/space-anycompany-ui-1.1.0.tgz"
ok "copy 1.1.0 into team" copy-package-versions "${D[@]}" --source-repository up --destination-repository team --format npm --namespace space --package anycompany-ui --versions 1.1.0
check "NOT_ALLOWED with the package control in the reason" '.failedVersions["1.1.0"].errorCode == "NOT_ALLOWED" and (.failedVersions["1.1.0"].errorMessage | test("publish=BLOCK"))'

# --- weak matches block everything ---------------------------------------------------------------
ok "an exact-name group" create-package-group "${D[@]}" --package-group '/npm//anycompany-spicy-client$'
ok "root: PUBLISH=BLOCK" update-package-group-origin-configuration "${D[@]}" --package-group '/*' --restrictions PUBLISH=BLOCK
ok "the exact name: PUBLISH=ALLOW" update-package-group-origin-configuration "${D[@]}" --package-group '/npm//anycompany-spicy-client$' --restrictions PUBLISH=ALLOW
ok "and /npm/*: PUBLISH=ALLOW (a fall-through would allow the variant)" update-package-group-origin-configuration "${D[@]}" --package-group '/npm/*' --restrictions PUBLISH=ALLOW
ok "publish the exact spelling" publish "${D[@]}" --repository up "$WORK/x-anycompany-spicy-client-1.0.0.tgz"
refused "a spelling variant is blocked" 1 AccessDeniedException publish "${D[@]}" --repository up "$WORK/x-anycompany.spicy.client-1.0.0.tgz"
grep -q "WEAK" "$ERR" && pass "because of the weak match" || flunk "because of the weak match"
ok "its association" get-associated-package-group "${D[@]}" --format npm --package anycompany.spicy.client
check "WEAK" '.associationType == "WEAK" and .packageGroup.pattern == "/npm//anycompany-spicy-client$"'
ok "list-associated-packages" list-associated-packages "${D[@]}" --package-group '/npm//anycompany-spicy-client$'
check "the published spelling, STRONG" '[.packages[] | .package + ":" + .associationType] == ["anycompany-spicy-client:STRONG"]'
ok "list-associated-packages --preview of a group not yet made" list-associated-packages "${D[@]}" --package-group '/npm/space/anycompany-ui$' --preview
check "it would take anycompany-ui" '[.packages[] | .namespace + "/" + .package] == ["space/anycompany-ui"]'
refused "without --preview it does not exist" 1 ResourceNotFoundException list-associated-packages "${D[@]}" --package-group '/npm/space/anycompany-ui$'

# --- a deleted repository leaves the allowed lists --------------------------------------------
ok "allow a repository" update-package-group-origin-configuration "${D[@]}" --package-group '/npm/*' --add-allowed-repositories originRestrictionType=PUBLISH,repositoryName=repoC
ok "delete it" delete-repository "${D[@]}" --repository repoC
ok "recreate the name" create-repository "${D[@]}" --repository repoC
ok "the list" list-allowed-repositories-for-group "${D[@]}" --package-group '/npm/*' --origin-restriction-type PUBLISH
check "the new repoC inherits nothing" '.allowedRepositories == []'

# --- delete: children re-attach -----------------------------------------------------------------
ok "delete /npm/space/*" delete-package-group "${D[@]}" --package-group '/npm/space/*'
ok "describe the prefix group" describe-package-group "${D[@]}" --package-group /npm/space/anycompany~
check "its parent is /npm/* again" '.packageGroup.parent.pattern == "/npm/*"'
refused "describe the deleted one" 1 ResourceNotFoundException describe-package-group "${D[@]}" --package-group '/npm/space/*'
ok "audit lists group changes" audit "${D[@]}" --max-results 0 --outcome ok --since 1d
check "create, update, delete rows" '[.events[].action] | (index("CreatePackageGroup") != null and index("UpdatePackageGroupOriginConfiguration") != null and index("DeletePackageGroup") != null)'
ok "audit --repository up --output text" audit "${D[@]}" --repository up --max-results 0 --output text
grep -q "PublishPackageVersion" "$OUT" && pass "text rows for up" || flunk "text rows for up"

echo "1..$n"
[ "$failed" -eq 0 ]
