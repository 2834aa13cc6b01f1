#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# External connections as real sources (DESIGN.md §8; spec §1.4, §2.1, §2.2, §2.6, §7.8):
# a loopback HTTP registry (tests/ext/server.py) serves fixture mirrors of all three formats
# built by tests/ext/mkfixtures.py; the same folders serve as file:// mirrors.
#
# Through the mount with unmodified clients: pip installs a package (and its dependency) that
# only the source has through a downstream repository whose upstream owns public:pypi; Maven
# resolves an artifact and its transitive dependency; npm installs a tarball that only a
# packument lists. Retention in exactly the requesting repository and the connection owner,
# origin EXTERNAL. One download for concurrent readers. Hash mismatch, 500, truncated and
# malformed answers, a stalled source: EIO with the reason, nothing stored. Seed 004 scenarios
# with the real source. A publish of a version the source has is EEXIST. With the server
# stopped: retained versions still install, a never-fetched one is EIO, the cached list is
# served until ttl + max-stale, then EIO. Prints TAP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../ext/lib.sh"

PY=${PYTHON:-python3}
if ! "$PY" -m pip --version >/dev/null 2>&1 || ! command -v curl >/dev/null; then
	echo "1..0 # SKIP needs pip and curl"
	exit 77
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONFIG_FILE
unset $(env | grep -io '^npm_config_[a-z_]*' | sort -u) 2>/dev/null
# the daemon must not take a default source from this machine's pip or npm settings
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
mkdir -p "$HOME"

FX=$WORK/ext/fx
export FIXTURE_BIG_MB=16
ext_fixtures "$FX" >/dev/null || { echo "Bail out! fixtures"; exit 1; }
ext_server_start "$FX" || { echo "Bail out! fixture server"; exit 1; }
trap 'ext_server_stop; cleanup' EXIT

C() { "$CAFS" "$@"; }
D=(--domain ext)
C create-domain "${D[@]}" >/dev/null
for f in pypi npm maven; do C create-repository "${D[@]}" --repository "$f-store" >/dev/null; done
C associate-external-connection "${D[@]}" --repository pypi-store --external-connection public:pypi >/dev/null
C associate-external-connection "${D[@]}" --repository npm-store --external-connection public:npmjs >/dev/null
C associate-external-connection "${D[@]}" --repository maven-store --external-connection public:maven-central >/dev/null
C create-repository "${D[@]}" --repository team --upstreams repositoryName=pypi-store repositoryName=npm-store repositoryName=maven-store >/dev/null
C create-repository "${D[@]}" --repository other --upstreams repositoryName=pypi-store >/dev/null

# --- sources: required where the client has no setting of its own ----------------------------------
x=$(C describe-repository "${D[@]}" --repository maven-store)
same "describe-repository: an unconfigured source says how to set one" \
	"$(echo "$x" | jq -r '.externalConnectionSources[0].sourceOrigin' | grep -c 'cafs configure-external-connection')" "1"
mkdir -p "$HOME/.config/pip"
printf '[global]\nindex-url = %s/pypi\n' "$EXT_URL" >"$HOME/.config/pip/pip.conf"
x=$(C describe-repository "${D[@]}" --repository pypi-store | jq -r '.externalConnectionSources[0] | .sourceUrl + " " + .sourceOrigin')
same "pip's own index-url is the default for public:pypi" "$x" "$EXT_URL/pypi pip's index-url in $HOME/.config/pip/pip.conf"
rm -f "$HOME/.config/pip/pip.conf"
t "configure public:pypi" C configure-external-connection "${D[@]}" --name public:pypi --url "$EXT_URL/pypi"
t "configure public:npmjs" C configure-external-connection "${D[@]}" --name public:npmjs --url "$EXT_URL/npm"
t "configure public:maven-central" C configure-external-connection "${D[@]}" --name public:maven-central --url "$EXT_URL/maven"
t_fail "a source URL must be http(s) or file" "must start with" C configure-external-connection "${D[@]}" --name public:pypi --url ftp://x

mount_domain ext
M=$MNT
INDEX=file://$M/team/pypi/

# --- pip: a package only the source has, and its dependency ---------------------------------------
t "pip install extpkg==1.1 (and ext-dep) through team" "$PY" -m pip --isolated install --index-url "$INDEX" --target "$WORK/site" extpkg==1.1
same "the installed module is 1.1" "$(PYTHONPATH=$WORK/site "$PY" -c 'import extpkg; print(extpkg.VERSION)' 2>&1)" "1.1"
test -d "$WORK/site/ext_dep" && pass "its dependency ext-dep came too" || flunk "its dependency ext-dep came too" "$(ls "$WORK/site")"
versions() { # REPO FORMAT PACKAGE [NS]: "version:origin:entry" of the repository's own records
	C list-package-versions "${D[@]}" --repository "$1" --format "$2" --package "$3" ${4:+--namespace "$4"} 2>/dev/null |
		jq -r '[.versions[] | .version + ":" + .origin.originType + ":" + (.origin.domainEntryPoint.externalConnectionName // "-")] | join(",")'
}
same "retained in team: EXTERNAL from public:pypi" "$(versions team pypi extpkg)" "1.1:EXTERNAL:public:pypi"
same "retained in the connection owner" "$(versions pypi-store pypi extpkg)" "1.1:EXTERNAL:public:pypi"
same "not in another downstream repository" "$(versions other pypi extpkg)" ""
same "not in repositories off the path" "$(C list-packages "${D[@]}" --repository npm-store | jq '.packages | length')" "0"
same "ingest-style origin controls in the owner" "$(C describe-package "${D[@]}" --repository pypi-store --format pypi --package extpkg | jq -r '.package.originConfiguration.restrictions | .publish + "/" + .upstream')" "BLOCK/ALLOW"
same "the wheel was downloaded once" "$(ext_requests '^GET /files/extpkg-1.1-py3-none-any.whl 200')" "1"
t "second install (a new target) reads the stored copy" "$PY" -m pip --isolated install --index-url "$INDEX" --target "$WORK/site2" extpkg==1.1
same "still one download" "$(ext_requests '^GET /files/extpkg-1.1-py3-none-any.whl 200')" "1"
t "the bytes are the source's" cmp "$M/team/pypi/extpkg/1.1/extpkg-1.1-py3-none-any.whl" "$FX/files/extpkg-1.1-py3-none-any.whl"
t "pip download without a pin skips the yanked 2.0" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/dl1" extpkg
t "... and takes 1.1" test -f "$WORK/dl1/extpkg-1.1-py3-none-any.whl"
t "a pinned yanked version is taken" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/dl2" extpkg==2.0
same "it is Unlisted where retained" "$(C list-package-versions "${D[@]}" --repository team --format pypi --package extpkg | jq -r '.versions[] | select(.version == "2.0") | .status')" "Unlisted"
t_fail "a package nobody has: pip finds nothing" "No matching distribution" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/dl3" not-anywhere-at-all
same "listing team/pypi does not enumerate the source" "$(ls "$M/team/pypi" | grep -c ext-big)" "0"
t "but a name only the source has can be looked up" test -d "$M/team/pypi/ext-big/1.0"
t "fetch from the CLI: ext-dep 0.5 through other" C fetch "${D[@]}" --repository other --format pypi --package ext-dep --package-version 0.5
same "other retained it" "$(versions other pypi ext-dep)" "0.5:EXTERNAL:public:pypi"

# --- concurrent readers of one missing asset share one download -------------------------------------
BIG=ext_big-1.0-py3-none-any.whl
pids=()
for i in 1 2 3 4; do
	cat "$M/team/pypi/ext-big/1.0/$BIG" >"$WORK/big.$i" 2>"$WORK/big.$i.err" &
	pids+=($!)
done
wait "${pids[@]}"
ok=1
for i in 1 2 3 4; do cmp -s "$WORK/big.$i" "$FX/files/$BIG" || ok=0; done
[ $ok = 1 ] && pass "four concurrent readers got the bytes" || flunk "four concurrent readers got the bytes" "$(cat "$WORK"/big.*.err)"
same "... from one download" "$(ext_requests "^GET /files/$BIG 200")" "1"

# --- a source that misbehaves: EIO with the reason, nothing stored -----------------------------------
blobs() { find "$CAFS_STORE/ext/blobs" -type f | wc -l; }
b0=$(blobs)
ext_mode badhash /files/extpkg-1.0-py3-none-any.whl
t_fail "wrong bytes (hash mismatch): EIO" "Input/output error" cat "$M/team/pypi/extpkg/1.0/extpkg-1.0-py3-none-any.whl"
grep -q "sha256.*nothing stored" "$WORK/daemon.log" && pass "the log says why" || flunk "the log says why" "$(tail -5 "$WORK/daemon.log")"
same "nothing retained" "$(versions team pypi extpkg | grep -c '1.0:')" "0"
same "nothing in the owner" "$(versions pypi-store pypi extpkg | grep -c '1.0:')" "0"
same "no blob stored" "$(blobs)" "$b0"
same "the refusal is audited" "$(C audit "${D[@]}" --outcome refused | jq '[.events[] | select(.action == "IngestPackageVersion")] | length')" "1"
ext_mode truncate /files/extpkg-1.0.tar.gz
t_fail "a truncated transfer: EIO" "Input/output error" cat "$M/team/pypi/extpkg/1.0/extpkg-1.0.tar.gz"
same "no blob stored" "$(blobs)" "$b0"
ext_mode 500 /npm/
t_fail "a source answering 500: EIO, not 'no such package'" "Input/output error" stat "$M/team/npm/@space/other"
ext_mode malformed /npm/
t_fail "a malformed packument: EIO" "Input/output error" stat "$M/team/npm/@space/other"
ext_mode normal
t "once the source answers again it works" cmp "$M/team/pypi/extpkg/1.0/extpkg-1.0-py3-none-any.whl" "$FX/files/extpkg-1.0-py3-none-any.whl"
t "and the other file too" cmp "$M/team/pypi/extpkg/1.0/extpkg-1.0.tar.gz" "$FX/files/extpkg-1.0.tar.gz"
t_fail "a name the source does not have is ENOENT" "No such file" stat "$M/team/npm/not-there-pkg"
t "a stalled source: bounded" C configure-external-connection "${D[@]}" --name public:maven-central --timeout 2 --retries 0
ext_mode slow /maven/com/example/ext/ext-util/maven-metadata.xml 8
start=$(date +%s)
t_fail "a stalled source: EIO after the timeout" "Input/output error" ls "$M/team/maven/com/example/ext/ext-util/"
[ $(($(date +%s) - start)) -lt 8 ] && pass "... in less than the stall" || flunk "... in less than the stall"
ext_mode normal
C configure-external-connection "${D[@]}" --name public:maven-central --timeout 30 --retries 2 >/dev/null

# --- Maven: resolve an artifact and its dependency that only the source has --------------------------
DEBREPO=/usr/share/maven-repo
DEPPLUGIN=
for v in $(ls "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin" 2>/dev/null | grep -E '^[0-9]' | sort -V); do
	[ -e "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin/$v/maven-dependency-plugin-$v.jar" ] && DEPPLUGIN=$v
done
if command -v mvn >/dev/null && [ -n "$DEPPLUGIN" ]; then
	cat >"$WORK/settings.xml" <<EOF
<settings>
  <offline>true</offline>
  <profiles><profile><id>cafs</id>
    <repositories>
      <repository><id>central</id><url>file:///nonexistent</url><releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots></repository>
      <repository><id>cafs</id><url>file://$M/team/maven</url><releases><enabled>true</enabled><checksumPolicy>fail</checksumPolicy></releases><snapshots><enabled>false</enabled></snapshots></repository>
    </repositories>
    <pluginRepositories>
      <pluginRepository><id>central</id><url>file:///nonexistent</url><releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots></pluginRepository>
      <pluginRepository><id>debian</id><url>file://$DEBREPO</url><releases><enabled>true</enabled><checksumPolicy>ignore</checksumPolicy></releases></pluginRepository>
    </pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>cafs</activeProfile></activeProfiles>
</settings>
EOF
	echo '<settings/>' >"$WORK/global-settings.xml"
	if mvn -B -o -Daether.offline.protocols=file -gs "$WORK/global-settings.xml" -s "$WORK/settings.xml" \
		-Dmaven.repo.local="$WORK/m2" "org.apache.maven.plugins:maven-dependency-plugin:$DEPPLUGIN:get" \
		-Dartifact=com.example.ext:ext-core:1.1 >"$WORK/mvn.log" 2>&1; then
		pass "mvn dependency:get ext-core:1.1 (checksumPolicy=fail) through team"
	else
		flunk "mvn dependency:get ext-core:1.1 (checksumPolicy=fail) through team" "$(grep -E 'ERROR' "$WORK/mvn.log" | head -8)"
	fi
	t "the jar is the source's" cmp "$WORK/m2/com/example/ext/ext-core/1.1/ext-core-1.1.jar" "$FX/maven/com/example/ext/ext-core/1.1/ext-core-1.1.jar"
	t "its dependency ext-util came through team too" cmp "$WORK/m2/com/example/ext/ext-util/1.0/ext-util-1.0.jar" "$FX/maven/com/example/ext/ext-util/1.0/ext-util-1.0.jar"
	same "retained in team" "$(versions team maven ext-core com.example.ext)" "1.1:EXTERNAL:public:maven-central"
	same "retained in maven-store" "$(versions maven-store maven ext-util com.example.ext)" "1.0:EXTERNAL:public:maven-central"
else
	pass "# SKIP Maven: needs mvn and Debian's maven-dependency-plugin"
fi
same "SNAPSHOT versions are never offered" "$(ls "$M/team/maven/com/example/ext/ext-core/" | grep -c SNAPSHOT)" "0"
t_fail "... nor ingested" "No such file" stat "$M/team/maven/com/example/ext/ext-core/2.0-SNAPSHOT"
t "maven-metadata.xml of a source-only artifact lists its releases" grep -q "<version>1.0</version>" "$M/team/maven/com/example/ext/ext-core/maven-metadata.xml"
same "its .sha1 matches it" "$(cat "$M/team/maven/com/example/ext/ext-core/maven-metadata.xml.sha1")" "$(sha1sum <"$M/team/maven/com/example/ext/ext-core/maven-metadata.xml" | cut -d' ' -f1)"

# --- npm: a tarball only a packument lists -------------------------------------------------------------
if command -v npm >/dev/null && command -v node >/dev/null; then
	export npm_config_cache=$WORK/npm-cache npm_config_userconfig=$WORK/npmrc npm_config_globalconfig=$WORK/npmrc-global \
		npm_config_registry=http://127.0.0.1:9/ npm_config_offline=true npm_config_audit=false npm_config_fund=false \
		npm_config_update_notifier=false npm_config_loglevel=warn
	: >"$WORK/npmrc"; : >"$WORK/npmrc-global"
	mkdir -p "$WORK/app" && echo '{"name":"app","version":"1.0.0","private":true}' >"$WORK/app/package.json"
	t "npm install of a tarball that only a packument lists" sh -c "cd '$WORK/app' && npm install '$M/team/npm/extlib/1.1.0/package.tgz'"
	same "it loads" "$(cd "$WORK/app" && node -e 'console.log(require("extlib/package.json").version)' 2>&1)" "1.1.0"
	unset npm_config_offline npm_config_registry
else
	pass "# SKIP npm: needs node and npm"
	cat "$M/team/npm/extlib/1.1.0/package.tgz" >/dev/null
fi
same "retained in team" "$(versions team npm extlib)" "1.1.0:EXTERNAL:public:npmjs"
same "the source's dist-tag latest is the owner's" "$(C list-package-versions "${D[@]}" --repository npm-store --format npm --package extlib | jq -r .defaultDisplayVersion)" "1.1.0"
same "dist-tags as npm sees them through team (spec 2.5)" "$(getfattr --absolute-names --only-values -n user.cafs.dist-tags "$M/team/npm/extlib" 2>&1 | jq -c -S .)" '{"beta":"1.2.0-beta.1","latest":"1.1.0"}'
same "an unfetched file shows the digest its source publishes" "$(getfattr --absolute-names --only-values -n user.cafs.hash.sha512 "$M/team/npm/extlib/1.0.0/package.tgz" 2>&1)" "$(jq -r '.["npm/extlib/-/extlib-1.0.0.tgz"].sha512' "$FX/manifest.json")"
same "the packument's versions are listed" "$(ls "$M/team/npm/extlib" | tr '\n' ' ')" "1.0.0 1.1.0 1.2.0-beta.1 "

# --- spec §2.6: a version the source has cannot be published while upstream is ALLOW -------------------
python3 - "$WORK" <<'PY'
import io, json, sys, tarfile
pj = json.dumps({"name": "extlib", "version": "1.0.0", "description": "a local build"}).encode()
with tarfile.open(f"{sys.argv[1]}/extlib-local.tgz", "w:gz") as t:
    i = tarfile.TarInfo("package/package.json"); i.size = len(pj); t.addfile(i, io.BytesIO(pj))
PY
# team retained extlib (ingest-style controls: publish=BLOCK), so a fresh downstream repository
C create-repository "${D[@]}" --repository fresh --upstreams repositoryName=npm-store >/dev/null
t_fail "cp of extlib 1.0.0 into fresh: EEXIST (the source has it)" "File exists" cp "$WORK/extlib-local.tgz" "$M/fresh/npm/"
grep -q "already available to repository 'fresh' from public:npmjs" "$WORK/daemon.log" && pass "the log says why" || flunk "the log says why" "$(tail -3 "$WORK/daemon.log")"
t_fail "publish from the CLI: ConflictException" "ConflictException" C publish "${D[@]}" --repository fresh "$WORK/extlib-local.tgz"
t "with upstream=BLOCK on the package" C put-package-origin-configuration "${D[@]}" --repository fresh --format npm --package extlib --restrictions publish=ALLOW,upstream=BLOCK
t "the publish goes through" cp "$WORK/extlib-local.tgz" "$M/fresh/npm/"
same "fresh holds its own 1.0.0" "$(versions fresh npm extlib)" "1.0.0:INTERNAL:-"
t "a version the source does not have publishes with upstream=ALLOW" C put-package-origin-configuration "${D[@]}" --repository fresh --format npm --package extlib --restrictions publish=ALLOW,upstream=ALLOW

# --- seed 004 with the real source -----------------------------------------------------------------------
C create-repository "${D[@]}" --repository repoB >/dev/null
C associate-external-connection "${D[@]}" --repository repoB --external-connection public:npmjs >/dev/null
C create-repository "${D[@]}" --repository repoA --upstreams repositoryName=repoB >/dev/null
C create-repository "${D[@]}" --repository repoD --upstreams repositoryName=repoB >/dev/null
C create-package-group "${D[@]}" --package-group /npm/space/anycompany~ >/dev/null
# (a): names matching the group are never asked of the source
t "scenario (a): EXTERNAL_UPSTREAM=BLOCK" C update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --restrictions PUBLISH=ALLOW,EXTERNAL_UPSTREAM=BLOCK,INTERNAL_UPSTREAM=ALLOW
ext_requests_reset
t_fail "scenario (a): @space/anycompany-ui is not there" "No such file" stat "$M/team/npm/@space/anycompany-ui"
same "... and the source was never asked" "$(ext_requests 'anycompany')" "0"
t "other names of the scope still come" cmp "$M/team/npm/@space/other/1.0.0/package.tgz" "$FX/npm/@space/other/-/other-1.0.0.tgz"
# (b): ingest only through repoB, retained only into repoA
t "scenario (b)" C update-package-group-origin-configuration "${D[@]}" --package-group /npm/space/anycompany~ --restrictions PUBLISH=BLOCK,EXTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES,INTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES --add-allowed-repositories originRestrictionType=EXTERNAL_UPSTREAM,repositoryName=repoB originRestrictionType=INTERNAL_UPSTREAM,repositoryName=repoA
t "scenario (b): repoA gets it through repoB" cmp "$M/repoA/npm/@space/anycompany-ui/1.0.0/package.tgz" "$FX/npm/@space/anycompany-ui/-/anycompany-ui-1.0.0.tgz"
same "retained in repoA" "$(versions repoA npm anycompany-ui space)" "1.0.0:EXTERNAL:public:npmjs"
same "retained in repoB" "$(versions repoB npm anycompany-ui space)" "1.0.0:EXTERNAL:public:npmjs"
t_fail "scenario (b): team cannot (npm-store may not ingest it)" "No such file" stat "$M/team/npm/@space/anycompany-ui/1.0.0"
t_fail "scenario (b): repoD cannot (may not retain it)" "No such file" stat "$M/repoD/npm/@space/anycompany-ui/1.0.0"
same "npm-store never ingested it" "$(versions npm-store npm anycompany-ui space)" ""

# --- refresh -------------------------------------------------------------------------------------------------
x=$(C refresh "${D[@]}" --repository team --format pypi --package extpkg)
same "refresh of one package asks the source" "$(echo "$x" | jq -r '.refreshed[0] | .outcome + " " + (.versions | tostring)')" "listed 3"
x=$(C refresh "${D[@]}" --repository team)
same "refresh of a repository: every cached list behind it" "$(echo "$x" | jq '[.refreshed[] | select(.outcome == "failed")] | length')" "0"

# --- the source stopped -----------------------------------------------------------------------------------------
t "short ttl for the outage" C configure-external-connection "${D[@]}" --name public:pypi --ttl 2 --max-stale 600
C refresh "${D[@]}" --repository team --format pypi --package extpkg >/dev/null
ext_server_stop
t "retained versions still install" "$PY" -m pip --isolated install --index-url "$INDEX" --target "$WORK/site3" extpkg==1.1
t_fail "a version listed but never fetched, source gone: EIO" "Input/output error" cat "$M/team/npm/extlib/1.0.0/package.tgz"
grep -q "extlib-1.0.0.tgz: Failed to connect" "$WORK/daemon.log" && pass "the log has the reason" || flunk "the log has the reason" "$(tail -5 "$WORK/daemon.log")"
same "nothing retained" "$(versions team npm extlib | grep -c '1.0.0')" "0"
if [ -n "${DEPPLUGIN:-}" ] && command -v mvn >/dev/null; then
	if mvn -B -o -Daether.offline.protocols=file -gs "$WORK/global-settings.xml" -s "$WORK/settings.xml" \
		-Dmaven.repo.local="$WORK/m2-outage" "org.apache.maven.plugins:maven-dependency-plugin:$DEPPLUGIN:get" \
		-Dartifact=com.example.ext:ext-core:1.1 >"$WORK/mvn2.log" 2>&1; then
		pass "a Maven resolve of what was retained works with the source stopped"
	else
		flunk "a Maven resolve of what was retained works with the source stopped" "$(grep -E 'ERROR' "$WORK/mvn2.log" | head -8)"
	fi
fi
sleep 3
t "past the ttl the cached list is served" cat "$M/team/pypi/extpkg/index.html"
grep -q "serving the cached list of extpkg" "$WORK/daemon.log" && pass "with a logged warning" || flunk "with a logged warning" "$(tail -5 "$WORK/daemon.log")"
t "max-stale shortened" C configure-external-connection "${D[@]}" --name public:pypi --max-stale 1
t_fail "past ttl + max-stale: EIO" "Input/output error" cat "$M/team/pypi/extpkg/index.html"
t "retained bytes still read by exact path" cmp "$M/team/pypi/extpkg/1.1/extpkg-1.1-py3-none-any.whl" "$FX/files/extpkg-1.1-py3-none-any.whl"
unmount_domain

# --- file:// mirrors of the same fixtures ------------------------------------------------------------------------
DF=(--domain extf)
C create-domain "${DF[@]}" >/dev/null
for f in pypi npm maven; do C create-repository "${DF[@]}" --repository "$f-store" >/dev/null; done
C associate-external-connection "${DF[@]}" --repository pypi-store --external-connection public:pypi >/dev/null
C associate-external-connection "${DF[@]}" --repository npm-store --external-connection public:npmjs >/dev/null
C associate-external-connection "${DF[@]}" --repository maven-store --external-connection public:maven-central >/dev/null
C create-repository "${DF[@]}" --repository team --upstreams repositoryName=pypi-store repositoryName=npm-store repositoryName=maven-store >/dev/null
C configure-external-connection "${DF[@]}" --name public:pypi --url "file://$FX/pypi" >/dev/null
C configure-external-connection "${DF[@]}" --name public:npmjs --url "file://$FX/npm" >/dev/null
C configure-external-connection "${DF[@]}" --name public:maven-central --url "file://$FX/maven" >/dev/null
mount_domain extf
t "file:// mirror: pip install extpkg==1.1" "$PY" -m pip --isolated install --index-url "file://$MNT/team/pypi/" --target "$WORK/site-f" extpkg==1.1
t "file:// mirror: a scoped npm tarball" cmp "$MNT/team/npm/@space/other/1.0.0/package.tgz" "$FX/npm/@space/other/-/other-1.0.0.tgz"
t "file:// mirror: a Maven jar" cmp "$MNT/team/maven/com/example/ext/ext-util/1.0/ext-util-1.0.jar" "$FX/maven/com/example/ext/ext-util/1.0/ext-util-1.0.jar"
same "file:// mirror: the jar's .sha1 is the source's" "$(cat "$MNT/team/maven/com/example/ext/ext-util/1.0/ext-util-1.0.jar.sha1")" "$(cat "$FX/maven/com/example/ext/ext-util/1.0/ext-util-1.0.jar.sha1")"
same "file:// mirror: retained as EXTERNAL" "$(C list-package-versions "${DF[@]}" --repository team --format pypi --package extpkg | jq -r '.versions[0].origin.originType')" "EXTERNAL"
unmount_domain
finish
