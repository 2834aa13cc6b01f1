#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cafs command line, end to end against a real store: every repository and domain
# subcommand, the JSON shape of each response (parsed with jq), --output text, and every error
# path's exception name and exit status. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: run.sh PATH-TO-cafs}
. "$(dirname "$0")/lib.sh"

# --- help -------------------------------------------------------------------
ok "cafs --help" --help
grep -q "create-repository" "$OUT" && grep -q -- "--store" "$OUT" && pass "help lists commands and --store" || flunk "help lists commands"
ok "create-repository --help" create-repository --help
grep -q -- "--upstreams" "$OUT" && grep -q -- "--description" "$OUT" && pass "sub help lists options" || flunk "sub help lists options"
for sub in create-domain describe-domain list-domains delete-domain create-repository \
	describe-repository update-repository delete-repository list-repositories-in-domain \
	list-repositories associate-external-connection disassociate-external-connection \
	configure-external-connection list-tags-for-resource audit; do
	"$CAFS" "$sub" --help >"$OUT" 2>"$ERR" && grep -q "^usage: cafs $sub" "$OUT" || { flunk "$sub --help"; continue; }
	# every option of the usage line is described on a line of its own
	missing=""
	for opt in $(head -1 "$OUT" | grep -o -- '--[a-z-]*'); do
		grep -q "^  $opt " "$OUT" || missing="$missing $opt"
	done
	[ -z "$missing" ] && pass "$sub --help" || flunk "$sub --help does not describe$missing"
done
usage "no command" 
usage "unknown command" frobnicate
usage "unknown option" list-domains --bogus
usage "missing required option" describe-domain
usage "missing value" describe-domain --domain
usage "bad --output" --output yaml list-domains
usage "bad shorthand" create-repository --domain x --repository y --upstreams name=a
usage "bad max-results" list-domains --max-results 0

# --- domains ------------------------------------------------------------------
ok "list-domains on an empty store" list-domains
check "empty domains list" '.domains == []'
ok "create-domain" create-domain --domain acme --tags key=team,value=core
check "create-domain shape" '.domain | .name == "acme" and (.owner | test("^[0-9]{12}$")) and .status == "Active"
	and (.arn | test("^arn:aws:codeartifact:local:[0-9]{12}:domain/acme$")) and .repositoryCount == 0
	and .assetSizeBytes == 0 and (.createdTime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))'
OWNER=$(jq -r .domain.owner "$OUT")
ARN=$(jq -r .domain.arn "$OUT")
refused "create-domain twice" 1 ConflictException create-domain --domain acme
refused "create-domain bad name" 1 ValidationException create-domain --domain My_Domain
refused "create-domain name too long" 1 ValidationException create-domain --domain "a$(printf 'b%.0s' $(seq 1 50))"
ok "create-domain with key" create-domain --domain other --encryption-key my-key
check "encryptionKey shown" '.domain.encryptionKey == "my-key"'
ok "describe-domain" describe-domain --domain acme
check "describe-domain shape" '.domain | has("assetSizeBytes") and has("repositoryCount") and .name == "acme"'
ok "describe-domain with owner" describe-domain --domain acme --domain-owner "$OWNER"
refused "describe-domain wrong owner" 1 ResourceNotFoundException describe-domain --domain acme --domain-owner 123456789012
refused "describe-domain bad owner" 1 ValidationException describe-domain --domain acme --domain-owner 12
refused "describe-domain missing" 1 ResourceNotFoundException describe-domain --domain ghost
ok "list-domains" list-domains
check "list-domains shape" '[.domains[].name] == ["acme", "other"] and (.domains[0] | has("arn") and has("createdTime") and has("status") and has("owner"))'
ok "list-domains paged" list-domains --max-results 1
check "first page" '[.domains[].name] == ["acme"] and .nextToken == "other"'
ok "list-domains next page" list-domains --max-results 1 --next-token other
check "second page" '[.domains[].name] == ["other"] and (has("nextToken") | not)'
ok "list-tags-for-resource domain" list-tags-for-resource --resource-arn "$ARN"
check "domain tags" '.tags == [{"key": "team", "value": "core"}]'
refused "list-tags bad arn" 1 ValidationException list-tags-for-resource --resource-arn nope

# --- repositories ---------------------------------------------------------------
ok "create-repository store" create-repository --domain acme --repository pypi-store --description "PyPI cache"
check "repository shape" '.repository | .name == "pypi-store" and .domainName == "acme" and .domainOwner == "'"$OWNER"'"
	and .description == "PyPI cache" and .upstreams == [] and .externalConnections == []
	and (.arn | endswith(":repository/acme/pypi-store")) and (.administratorAccount | test("^[0-9]{12}$"))
	and has("createdTime")'
ok "associate-external-connection" associate-external-connection --domain acme --repository pypi-store --external-connection public:pypi
check "external connection shown" '.repository.externalConnections == [{"externalConnectionName": "public:pypi", "packageFormat": "pypi", "status": "Available"}]'
refused "second external connection" 1 ConflictException associate-external-connection --domain acme --repository pypi-store --external-connection public:npmjs
refused "unknown external connection" 1 ValidationException associate-external-connection --domain acme --repository pypi-store --external-connection public:cpan
ok "create-repository shared" create-repository --domain acme --repository shared
ok "create-repository with ordered upstreams" create-repository --domain acme --repository team --upstreams repositoryName=shared repositoryName=pypi-store --tags key=k,value=v
check "upstream order kept" '[.repository.upstreams[].repositoryName] == ["shared", "pypi-store"]'
ok "create-repository upstreams as JSON" create-repository --domain acme --repository team2 --upstreams '[{"repositoryName": "pypi-store"}, {"repositoryName": "shared"}]'
check "JSON upstream order kept" '[.repository.upstreams[].repositoryName] == ["pypi-store", "shared"]'
refused "create-repository twice" 1 ConflictException create-repository --domain acme --repository team
refused "create-repository bad name" 1 ValidationException create-repository --domain acme --repository -bad
refused "create-repository one-char name" 1 ValidationException create-repository --domain acme --repository a
refused "create-repository missing upstream" 1 ResourceNotFoundException create-repository --domain acme --repository t3 --upstreams repositoryName=ghost
refused "create-repository in missing domain" 1 ResourceNotFoundException create-repository --domain ghost --repository t3
refused "upstreams on a connection owner" 1 ConflictException update-repository --domain acme --repository pypi-store --upstreams repositoryName=shared
refused "connection on a repository with upstreams" 1 ConflictException associate-external-connection --domain acme --repository team --external-connection public:npmjs
ups=""
for i in $(seq 0 10); do
	"$CAFS" create-repository --domain acme --repository "u$i" >/dev/null 2>&1
	ups="$ups repositoryName=u$i"
done
# shellcheck disable=SC2086
refused "11 upstreams" 1 ServiceQuotaExceededException create-repository --domain acme --repository many --upstreams $ups
# shellcheck disable=SC2086
ok "10 upstreams" create-repository --domain acme --repository many --upstreams $(echo $ups | cut -d' ' -f1-10)
check "10 upstreams kept" '(.repository.upstreams | length) == 10'
refused "cycle" 1 ValidationException update-repository --domain acme --repository shared --upstreams repositoryName=team
grep -q "cycle" "$ERR" && pass "cycle message says cycle" || flunk "cycle message says cycle"
refused "self upstream" 1 ValidationException update-repository --domain acme --repository shared --upstreams repositoryName=shared
ok "describe-repository" describe-repository --domain acme --repository team
check "describe-repository upstreams" '[.repository.upstreams[].repositoryName] == ["shared", "pypi-store"]'
refused "describe-repository missing" 1 ResourceNotFoundException describe-repository --domain acme --repository ghost
ok "update-repository replaces upstreams" update-repository --domain acme --repository team --upstreams repositoryName=pypi-store
check "upstreams replaced" '[.repository.upstreams[].repositoryName] == ["pypi-store"]'
ok "update-repository description" update-repository --domain acme --repository team --description "new words"
check "description changed, upstreams kept" '.repository.description == "new words" and ([.repository.upstreams[].repositoryName] == ["pypi-store"])'
ok "update-repository removes upstreams" update-repository --domain acme --repository team --upstreams
check "upstreams removed" '.repository.upstreams == []'
refused "update-repository bad description" 1 ValidationException update-repository --domain acme --repository team --description "$(printf 'x%.0s' $(seq 1 1001))"
ok "list-repositories-in-domain" list-repositories-in-domain --domain acme
check "list-repositories-in-domain shape" '(.repositories | length) == 16 and (.repositories[0] | has("arn") and has("domainName") and has("administratorAccount") and (has("upstreams") | not))'
ok "list-repositories-in-domain prefix" list-repositories-in-domain --domain acme --repository-prefix team
check "prefix filter" '[.repositories[].name] == ["team", "team2"]'
ok "list-repositories-in-domain admin" list-repositories-in-domain --domain acme --administrator-account "$OWNER" --max-results 3
check "admin filter and page" '(.repositories | length) == 3 and has("nextToken")'
ok "list-repositories" list-repositories --repository-prefix team
check "list-repositories shape" '[.repositories[] | .domainName + "/" + .name] == ["acme/team", "acme/team2"]'
ok "list-tags-for-resource repository" list-tags-for-resource --resource-arn "arn:aws:codeartifact:local:$OWNER:repository/acme/team"
check "repository tags" '.tags == [{"key": "k", "value": "v"}]'

# --- external connection sources ------------------------------------------------
ok "configure-external-connection show" configure-external-connection --domain acme --name public:pypi
check "unset source" '.externalConnection | .externalConnectionName == "public:pypi" and .packageFormat == "pypi" and .sourceUrl == null'
ok "configure-external-connection set" configure-external-connection --domain acme --name public:pypi --url file:///srv/pypi-mirror
check "source set" '.externalConnection.sourceUrl == "file:///srv/pypi-mirror" and has("externalConnection")'
refused "configure bad url" 1 ValidationException configure-external-connection --domain acme --name public:pypi --url gopher://x
refused "configure bad name" 1 ValidationException configure-external-connection --domain acme --name public:cpan --url https://x
ok "configure-external-connection remove" configure-external-connection --domain acme --name public:pypi --remove
check "source removed" '.externalConnection.sourceUrl == null'
usage "configure url and remove" configure-external-connection --domain acme --name public:pypi --url https://x --remove

# --- disassociate, deletes --------------------------------------------------------
refused "disassociate wrong name" 1 ResourceNotFoundException disassociate-external-connection --domain acme --repository pypi-store --external-connection public:npmjs
refused "delete upstream in use" 1 ConflictException delete-repository --domain acme --repository pypi-store
refused "delete domain with repositories" 1 ConflictException delete-domain --domain acme
ok "delete-repository" delete-repository --domain acme --repository team2
check "delete-repository returns the description" '.repository.name == "team2" and ([.repository.upstreams[].repositoryName] == ["pypi-store", "shared"])'
refused "delete-repository again" 1 ResourceNotFoundException delete-repository --domain acme --repository team2
ok "delete-repository pypi-store" delete-repository --domain acme --repository pypi-store
ok "disassociate after delete is not found" list-repositories-in-domain --domain acme
check "pypi-store gone" '[.repositories[].name] | index("pypi-store") == null'

# --- generic assets and deduplication -----------------------------------------------------
head -c 3000000 /dev/urandom >"$WORK/big.bin"
BIG_SHA=$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)
printf 'abc' >"$WORK/abc.txt"
ABC_SHA=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
"$CAFS" create-repository --domain acme --repository left >/dev/null 2>&1
"$CAFS" create-repository --domain acme --repository right >/dev/null 2>&1
ok "publish-package-version" publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 1.0 --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$BIG_SHA"
check "publish response shape" '.format == "generic" and .namespace == "tools" and .package == "blob" and .version == "1.0"
	and .status == "Published" and (.versionRevision | length) == 44 and .asset.name == "big.bin" and .asset.size == 3000000
	and .asset.hashes["SHA-256"] == "'"$BIG_SHA"'" and (.asset.hashes | keys) == ["MD5", "SHA-1", "SHA-256", "SHA-512"]'
REV1=$(jq -r .versionRevision "$OUT")
ok "same bytes into a second repository" publish-package-version --domain acme --repository right --format generic --namespace tools --package blob --package-version 1.0 --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$BIG_SHA"
ok "describe-domain after dedup" describe-domain --domain acme
check "assetSizeBytes counts shared bytes once" '.domain.assetSizeBytes == 3000000'
[ "$(find "$CAFS_STORE/acme/blobs" -type f | wc -l)" -eq 1 ] && pass "one blob file on disk" || flunk "one blob file on disk"
ok "republish same bytes is a no-op" publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 1.0 --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$BIG_SHA"
check "revision unchanged" '.versionRevision == "'"$REV1"'"'
refused "other bytes under the same name" 1 ConflictException publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 1.0 --asset-content "$WORK/abc.txt" --asset-name big.bin --asset-sha256 "$ABC_SHA"
refused "new asset into a Published generic version" 1 ConflictException publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 1.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
refused "sha256 mismatch" 1 ValidationException publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$BIG_SHA"
refused "generic needs a namespace" 1 ValidationException publish-package-version --domain acme --repository left --format generic --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
refused "generic only" 1 ValidationException publish-package-version --domain acme --repository left --format pypi --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
refused "bad asset name" 1 ValidationException publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name "a*b" --asset-sha256 "$ABC_SHA"
refused "missing repository" 1 ResourceNotFoundException publish-package-version --domain acme --repository ghost --format generic --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
usage "bad format" publish-package-version --domain acme --repository left --format tarball --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
ok "unfinished publish" publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA" --unfinished
check "status Unfinished" '.status == "Unfinished"'
REV2=$(jq -r .versionRevision "$OUT")
ok "last asset finishes the version" publish-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 2.0 --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$BIG_SHA"
check "status Published, revision changed" '.status == "Published" and .versionRevision != "'"$REV2"'"'
ok "list-package-version-assets" list-package-version-assets --domain acme --repository left --format generic --namespace tools --package blob --package-version 2.0
check "assets listed with hashes" '[.assets[].name] == ["abc.txt", "big.bin"] and .assets[0].hashes.MD5 == "900150983cd24fb0d6963f7d28e17f72"
	and .assets[0].hashes["SHA-1"] == "a9993e364706816aba3e25717850c26c9cd0d89d" and .assets[0].size == 3'
refused "list assets of a missing version" 1 ResourceNotFoundException list-package-version-assets --domain acme --repository left --format generic --namespace tools --package blob --package-version 9.9
ok "describe-domain after both" describe-domain --domain acme
check "still counted once" '.domain.assetSizeBytes == 3000003'

# --- packages and versions ---------------------------------------------------------------
ok "list-packages" list-packages --domain acme --repository left
check "list-packages shape" '.packages == [{"format": "generic", "namespace": "tools", "package": "blob", "originConfiguration": {"restrictions": {"publish": "ALLOW", "upstream": "BLOCK"}}}]'
ok "list-packages filtered out" list-packages --domain acme --repository left --format pypi
check "format filter" '.packages == []'
ok "list-packages namespace prefix" list-packages --domain acme --repository left --namespace too --publish ALLOW
check "namespace prefix filter" '(.packages | length) == 1'
refused "list-packages bad publish filter" 1 ValidationException list-packages --domain acme --repository left --publish MAYBE
ok "describe-package" describe-package --domain acme --repository left --format generic --namespace tools --package blob
check "describe-package shape" '.package == {"format": "generic", "namespace": "tools", "name": "blob", "originConfiguration": {"restrictions": {"publish": "ALLOW", "upstream": "BLOCK"}}}'
refused "describe-package missing" 1 ResourceNotFoundException describe-package --domain acme --repository left --format generic --namespace tools --package nope
ok "list-package-versions" list-package-versions --domain acme --repository left --format generic --namespace tools --package blob --sort-by PUBLISHED_TIME
check "list-package-versions shape" '.format == "generic" and .namespace == "tools" and .package == "blob" and .defaultDisplayVersion == "2.0"
	and [.versions[].version] == ["1.0", "2.0"] and .versions[0].status == "Published"
	and .versions[0].origin == {"domainEntryPoint": {"repositoryName": "left"}, "originType": "INTERNAL"}
	and (.versions[0].revision | length) == 44'
ok "list-package-versions status filter" list-package-versions --domain acme --repository left --format generic --namespace tools --package blob --status Unfinished
check "no Unfinished versions" '.versions == []'
usage "list-package-versions bad status" list-package-versions --domain acme --repository left --format generic --namespace tools --package blob --status Gone
ok "describe-package-version" describe-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 1.0
check "describe-package-version shape" '.packageVersion | .format == "generic" and .namespace == "tools" and .packageName == "blob"
	and .displayName == "blob" and .version == "1.0" and .status == "Published" and .licenses == [] and has("publishedTime")
	and .revision == "'"$REV1"'" and .origin.originType == "INTERNAL"'
refused "describe-package-version missing" 1 ResourceNotFoundException describe-package-version --domain acme --repository left --format generic --namespace tools --package blob --package-version 7
ok "put-package-origin-configuration creates an empty package" put-package-origin-configuration --domain acme --repository left --format pypi --package My.Lib --restrictions publish=BLOCK,upstream=ALLOW
check "origin configuration response" '.originConfiguration == {"restrictions": {"publish": "BLOCK", "upstream": "ALLOW"}}'
ok "pypi name stored normalized" describe-package --domain acme --repository left --format pypi --package my_lib
check "normalized name" '.package.name == "my-lib" and (.package | has("namespace") | not)'
ok "list-package-versions of an empty package" list-package-versions --domain acme --repository left --format pypi --package my-lib
check "no versions, no default" '.versions == [] and (has("defaultDisplayVersion") | not)'
usage "put-package-origin-configuration incomplete" put-package-origin-configuration --domain acme --repository left --format pypi --package my-lib --restrictions publish=BLOCK
refused "put-package-origin-configuration bad value" 1 ValidationException put-package-origin-configuration --domain acme --repository left --format pypi --package my-lib --restrictions publish=BLOCK,upstream=PERHAPS
refused "pypi with a namespace" 1 ValidationException describe-package --domain acme --repository left --format pypi --namespace x --package my-lib
ok "publish=BLOCK on a generic package" put-package-origin-configuration --domain acme --repository right --format generic --namespace tools --package blob --restrictions publish=BLOCK,upstream=BLOCK
refused "publish into a blocked package" 1 AccessDeniedException publish-package-version --domain acme --repository right --format generic --namespace tools --package blob --package-version 3.0 --asset-content "$WORK/abc.txt" --asset-name abc.txt --asset-sha256 "$ABC_SHA"
ok "delete-package" delete-package --domain acme --repository left --format pypi --package my-lib
check "deletedPackage shape" '.deletedPackage == {"format": "pypi", "package": "my-lib", "originConfiguration": {"restrictions": {"publish": "BLOCK", "upstream": "ALLOW"}}}'
refused "delete-package again" 1 ResourceNotFoundException delete-package --domain acme --repository left --format pypi --package my-lib
ok "audit records package changes" audit --domain acme --max-results 0
check "audit of origin and delete" '([.events[] | select(.action == "PutPackageOriginConfiguration" and .outcome == "ok")] | length) == 2
	and ([.events[] | select(.action == "DeletePackage" and .outcome == "ok")] | length) == 1
	and ([.events[] | select(.action == "PublishPackageVersion" and .outcome == "AccessDeniedException")] | length) == 1'

# --- text output ----------------------------------------------------------------
ok "describe-domain --output text" describe-domain --domain acme --output text
grep -q "^DOMAIN	arn:aws:codeartifact:local:$OWNER:domain/acme	" "$OUT" && pass "text output line" || flunk "text output line"
ok "describe-repository --output text" --output text describe-repository --domain acme --repository many
grep -q "^UPSTREAMS	u0$" "$OUT" && grep -q "^REPOSITORY	" "$OUT" && pass "text nested lines" || flunk "text nested lines"

# --- audit ----------------------------------------------------------------------
ok "audit" audit --domain acme --max-results 0
check "audit has refusals with reasons" '[.events[] | select(.outcome == "ConflictException" and .action == "CreateRepository")] | length >= 1'
check "audit has successes" '[.events[] | select(.outcome == "ok" and .action == "DeleteRepository")] | length == 2'
check "audit rows name who" 'all(.events[]; .who | test("^uid:"))'

# --- store selection --------------------------------------------------------------
ok "--store chooses the root" --store "$WORK/second" create-domain --domain elsewhere
ok "list in second store" list-domains --store "$WORK/second"
check "second store has only its domain" '[.domains[].name] == ["elsewhere"]'
XDG_DATA_HOME=$WORK/xdg CAFS_STORE= "$CAFS" create-domain --domain xdg >"$OUT" 2>"$ERR" && [ -f "$WORK/xdg/cafs/xdg/domain.db" ] && pass "XDG_DATA_HOME default" || flunk "XDG_DATA_HOME default"

# --- domain deletion ----------------------------------------------------------------
for r in $("$CAFS" list-repositories-in-domain --domain acme | jq -r '.repositories[].name'); do
	"$CAFS" update-repository --domain acme --repository "$r" --upstreams >/dev/null 2>&1
done
for r in $("$CAFS" list-repositories-in-domain --domain acme | jq -r '.repositories[].name'); do
	"$CAFS" delete-repository --domain acme --repository "$r" >/dev/null 2>"$ERR" || flunk "delete $r"
done
ok "delete-domain" delete-domain --domain acme
check "delete-domain shape" '.domain.name == "acme" and .domain.status == "Deleted"'
refused "describe deleted domain" 1 ResourceNotFoundException describe-domain --domain acme
refused "delete-domain missing" 1 ResourceNotFoundException delete-domain --domain acme

echo "1..$n"
[ "$failed" -eq 0 ]
