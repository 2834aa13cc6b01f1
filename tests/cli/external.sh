#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# External connections through the command line, without a mount: the source settings and
# their validation, the client tools' own settings as defaults, `cafs fetch` and `cafs
# refresh` against file:// mirrors of the fixtures (tests/ext/mkfixtures.py), retention in the
# requester and the connection owner, a mirror whose file has other bytes than its index
# says, a source that is gone, and the spec §2.6 publish conflict. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: external.sh PATH-TO-cafs}
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
. "$(dirname "$0")/lib.sh"
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
unset PIP_INDEX_URL PIP_CONFIG_FILE npm_config_registry NPM_CONFIG_REGISTRY
mkdir -p "$HOME"
FX=$WORK/fx
FIXTURE_BIG_MB=1 python3 "$(dirname "$0")/../ext/mkfixtures.py" "$FX" >/dev/null || { echo "Bail out! fixtures"; exit 1; }

D=(--domain extcli)
"$CAFS" create-domain "${D[@]}" >/dev/null
for f in pypi npm maven; do "$CAFS" create-repository "${D[@]}" --repository "$f-store" >/dev/null; done
"$CAFS" associate-external-connection "${D[@]}" --repository pypi-store --external-connection public:pypi >/dev/null
"$CAFS" associate-external-connection "${D[@]}" --repository npm-store --external-connection public:npmjs >/dev/null
"$CAFS" associate-external-connection "${D[@]}" --repository maven-store --external-connection public:maven-central >/dev/null
"$CAFS" create-repository "${D[@]}" --repository app --upstreams repositoryName=pypi-store repositoryName=npm-store repositoryName=maven-store >/dev/null

# --- settings ------------------------------------------------------------------------------------
ok "show an unconfigured source" configure-external-connection "${D[@]}" --name public:maven-central
check "no URL, and how to set one" '.externalConnection.sourceUrl == null and (.externalConnection.sourceOrigin | test("configure-external-connection"))'
check "the defaults" '.externalConnection | .ttlSeconds == 600 and .negativeTtlSeconds == 60 and .maxStaleSeconds == 86400 and .timeoutSeconds == 30 and .retries == 2'
printf 'registry=file://%s/npm\n' "$FX" >"$HOME/.npmrc"
ok "npm's own registry setting is the default" configure-external-connection "${D[@]}" --name public:npmjs
check "taken from ~/.npmrc" ".externalConnection.sourceUrl == \"file://$FX/npm\" and (.externalConnection.sourceOrigin | test(\"npmrc\"))"
rm "$HOME/.npmrc"
PIP_INDEX_URL=https://pip.invalid/simple "$CAFS" configure-external-connection "${D[@]}" --name public:pypi >"$OUT" 2>"$ERR"
check "PIP_INDEX_URL is the default for public:pypi" '.externalConnection.sourceUrl == "https://pip.invalid/simple" and .externalConnection.sourceOrigin == "PIP_INDEX_URL"'
ok "configure pypi with settings" configure-external-connection "${D[@]}" --name public:pypi --url "file://$FX/pypi" --ttl 5 --retries 0
check "settings kept" '.externalConnection | .ttlSeconds == 5 and .retries == 0 and .sourceOrigin == "configured"'
ok "settings alone keep the URL" configure-external-connection "${D[@]}" --name public:pypi --timeout 7
check "URL kept, timeout set" ".externalConnection | .sourceUrl == \"file://$FX/pypi\" and .timeoutSeconds == 7 and .ttlSeconds == 5"
refused "timeout 0 is refused" 1 ValidationException configure-external-connection "${D[@]}" --name public:pypi --timeout 0
refused "retries over 10 are refused" 1 ValidationException configure-external-connection "${D[@]}" --name public:pypi --retries 11
usage "--remove with a setting" configure-external-connection "${D[@]}" --name public:pypi --remove --ttl 3
ok "configure npm" configure-external-connection "${D[@]}" --name public:npmjs --url "file://$FX/npm"
ok "configure maven" configure-external-connection "${D[@]}" --name public:maven-central --url "file://$FX/maven"
ok "describe-repository shows the source beside the AWS shape" describe-repository "${D[@]}" --repository pypi-store
check "externalConnectionSources" ".externalConnectionSources[0].sourceUrl == \"file://$FX/pypi\" and (.repository.externalConnections[0] | keys == [\"externalConnectionName\", \"packageFormat\", \"status\"])"

# --- fetch ---------------------------------------------------------------------------------------
ok "fetch a wheel only the source has, through app" fetch "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1
check "one file, fetched" '.assets | length == 1 and .[0].fetched == true and .[0].assetName == "extpkg-1.1-py3-none-any.whl"'
ok "app holds it" list-package-versions "${D[@]}" --repository app --format pypi --package extpkg
check "EXTERNAL from public:pypi" '.versions | length == 1 and .[0].origin.originType == "EXTERNAL" and .[0].origin.domainEntryPoint.externalConnectionName == "public:pypi"'
ok "the owner holds it" list-package-versions "${D[@]}" --repository pypi-store --format pypi --package extpkg
check "the owner's record" '.versions | length == 1 and .[0].version == "1.1"'
ok "metadata from the wheel" describe-package-version "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1
check "summary" '.packageVersion.summary == "External fixture package"'
ok "dependencies from the wheel" list-package-version-dependencies "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1
check "ext-dep" '[.dependencies[].package] == ["ext-dep"]'
ok "get-package-version-asset of the retained file" get-package-version-asset "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1 --asset extpkg-1.1-py3-none-any.whl "$WORK/out.whl"
if cmp -s "$WORK/out.whl" "$FX/files/extpkg-1.1-py3-none-any.whl"; then pass "the source's bytes"; else flunk "the source's bytes"; fi
"$CAFS" fetch "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1 >"$OUT" 2>"$ERR"
if [ ! -s "$ERR" ]; then pass "no progress bar when stderr is not a terminal"; else flunk "no progress bar when stderr is not a terminal"; fi
check "a second fetch reads the stored file" '.assets[0].fetched == false'
ok "fetch every file of a version (wheel and sdist)" fetch "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.0
check "two files" '[.assets[].assetName] | sort == ["extpkg-1.0-py3-none-any.whl", "extpkg-1.0.tar.gz"]'
ok "fetch a scoped npm tarball" fetch "${D[@]}" --repository app --format npm --namespace space --package other --package-version 1.0.0 --asset package.tgz "$WORK/other.tgz"
if cmp -s "$WORK/other.tgz" "$FX/npm/@space/other/-/other-1.0.0.tgz"; then pass "written to OUTFILE"; else flunk "written to OUTFILE"; fi
ok "fetch a Maven jar" fetch "${D[@]}" --repository app --format maven --namespace com.example.ext --package ext-util --package-version 1.0 --asset ext-util-1.0.jar
refused "a SNAPSHOT is never fetched" 1 ResourceNotFoundException fetch "${D[@]}" --repository app --format maven --namespace com.example.ext --package ext-core --package-version 2.0-SNAPSHOT
refused "a version the source does not list" 1 ResourceNotFoundException fetch "${D[@]}" --repository app --format pypi --package extpkg --package-version 9.9
usage "OUTFILE needs --asset" fetch "${D[@]}" --repository app --format pypi --package extpkg --package-version 1.1 "$WORK/x"

# --- a mirror whose file disagrees with its index ---------------------------------------------------
printf 'X' | dd of="$FX/files/ext_dep-0.5-py3-none-any.whl" bs=1 seek=100 conv=notrunc 2>/dev/null
refused "wrong bytes: InternalServerException, nothing stored" 1 InternalServerException fetch "${D[@]}" --repository app --format pypi --package ext-dep --package-version 0.5
grep -q "nothing stored" "$ERR" && pass "the message says why" || flunk "the message says why"
refused "nothing retained" 1 ResourceNotFoundException list-package-versions "${D[@]}" --repository pypi-store --format pypi --package ext-dep
ok "the refusal is audited" audit "${D[@]}" --outcome refused
check "IngestPackageVersion refused" '[.events[] | select(.action == "IngestPackageVersion")] | length == 1'

# --- refresh -------------------------------------------------------------------------------------------
ok "refresh one package" refresh "${D[@]}" --repository app --format pypi --package extpkg
check "listed with 3 versions" '.refreshed == [{"externalConnection": "public:pypi", "package": "extpkg", "outcome": "listed", "versions": 3}]'
ok "refresh a name the source does not have" refresh "${D[@]}" --repository app --format pypi --package no-such-thing
check "not found" '.refreshed[0].outcome == "not found"'
usage "--package needs --format" refresh "${D[@]}" --repository app --package extpkg
mv "$FX/npm" "$FX/npm.gone"
"$CAFS" refresh "${D[@]}" --repository app >"$OUT" 2>"$ERR"
[ $? -eq 1 ] && pass "refresh of the repository with a source gone exits 1" || flunk "refresh of the repository with a source gone exits 1"
check "every cached list reported, the gone source as failed" '([.refreshed[] | select(.externalConnection == "public:npmjs") | .outcome] | unique) == ["failed"] and ([.refreshed[] | select(.externalConnection == "public:pypi") | .outcome] | unique) == ["listed", "not found"]'
check "with the reason" '[.refreshed[] | select(.outcome == "failed") | .message | test("mirror folder .* is missing")] | all'
ok "the cached list still serves a fetch meanwhile" fetch "${D[@]}" --repository app --format npm --namespace space --package other --package-version 1.0.0
mv "$FX/npm.gone" "$FX/npm"

# --- spec §2.6 ------------------------------------------------------------------------------------------
python3 - "$WORK" <<'PY'
import io, json, sys, tarfile
pj = json.dumps({"name": "extlib", "version": "1.0.0"}).encode()
with tarfile.open(f"{sys.argv[1]}/extlib.tgz", "w:gz") as t:
    i = tarfile.TarInfo("package/package.json"); i.size = len(pj); t.addfile(i, io.BytesIO(pj))
PY
refused "publishing a version the source lists: ConflictException" 1 ConflictException publish "${D[@]}" --repository app "$WORK/extlib.tgz"
grep -q "public:npmjs" "$ERR" && pass "the message names the connection" || flunk "the message names the connection"
ok "upstream=BLOCK" put-package-origin-configuration "${D[@]}" --repository app --format npm --package extlib --restrictions publish=ALLOW,upstream=BLOCK
ok "then it publishes" publish "${D[@]}" --repository app "$WORK/extlib.tgz"

echo "1..$n"
[ "$failed" -eq 0 ]
