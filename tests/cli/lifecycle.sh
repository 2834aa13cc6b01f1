#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The batch commands on package versions, end to end against a real store:
# update-package-versions-status (the whole transition table), dispose-package-versions,
# delete-package-versions and copy-package-versions. Checks each response's JSON shape with
# jq, every error's exception name and exit status, all-or-nothing with SKIPPED, revisions
# across status changes, blob files freed only when no repository references them, and copy
# idempotence, ALREADY_EXISTS and --allow-overwrite. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: lifecycle.sh PATH-TO-cafs}
. "$(dirname "$0")/lib.sh"

D=(--domain life)
PKG=(--format generic --namespace tools --package app)

# pub REPO VERSION CONTENT ASSET [--unfinished]: publish CONTENT as one asset
pub() {
	local repo=$1 ver=$2 content=$3 asset=$4; shift 4
	printf '%s' "$content" >"$WORK/asset"
	"$CAFS" publish-package-version "${D[@]}" --repository "$repo" "${PKG[@]}" \
		--package-version "$ver" --asset-content "$WORK/asset" --asset-name "$asset" \
		--asset-sha256 "$(sha256sum "$WORK/asset" | cut -d' ' -f1)" "$@" >"$OUT" 2>"$ERR"
}

# status REPO VERSION / revision REPO VERSION: from describe-package-version ("" if absent)
status() {
	"$CAFS" describe-package-version "${D[@]}" --repository "$1" "${PKG[@]}" \
		--package-version "$2" 2>/dev/null | jq -r '.packageVersion.status // ""'
}
revision() {
	"$CAFS" describe-package-version "${D[@]}" --repository "$1" "${PKG[@]}" \
		--package-version "$2" 2>/dev/null | jq -r '.packageVersion.revision // ""'
}
blob_files() { find "$CAFS_STORE/life/blobs" -type f | wc -l; }

# set_status REPO VERSION STATUS: bring a fresh Published version to STATUS
set_status() {
	case $3 in
	Published) ;;
	Unlisted | Archived)
		"$CAFS" update-package-versions-status "${D[@]}" --repository "$1" "${PKG[@]}" \
			--versions "$2" --target-status "$3" >/dev/null 2>&1 ;;
	Disposed)
		"$CAFS" dispose-package-versions "${D[@]}" --repository "$1" "${PKG[@]}" \
			--versions "$2" >/dev/null 2>&1 ;;
	esac
}

# --- help -----------------------------------------------------------------------------------
for sub in update-package-versions-status dispose-package-versions delete-package-versions \
	copy-package-versions; do
	"$CAFS" "$sub" --help >"$OUT" 2>"$ERR" && grep -q "^usage: cafs $sub" "$OUT" || { flunk "$sub --help"; continue; }
	missing=""
	for opt in $(head -1 "$OUT" | grep -o -- '--[a-z-]*'); do
		grep -q "^  $opt " "$OUT" || missing="$missing $opt"
	done
	[ -z "$missing" ] && pass "$sub --help describes every option" || flunk "$sub --help does not describe$missing"
done
"$CAFS" copy-package-versions --help >"$OUT" 2>"$ERR"
grep -q -- "--no-allow-overwrite" "$OUT" && grep -q -- "--no-include-from-upstream" "$OUT" &&
	pass "copy help names the --no- forms" || flunk "copy help names the --no- forms"
"$CAFS" --help >"$OUT" 2>"$ERR"
for sub in update-package-versions-status dispose-package-versions delete-package-versions copy-package-versions; do
	grep -q "^  $sub " "$OUT" || { flunk "cafs --help lists $sub"; continue; }
	pass "cafs --help lists $sub"
done

# --- setup ---------------------------------------------------------------------------------
"$CAFS" create-domain "${D[@]}" >/dev/null 2>&1
for r in ra rb rc up; do "$CAFS" create-repository "${D[@]}" --repository $r >/dev/null 2>&1; done
"$CAFS" create-repository "${D[@]}" --repository down --upstreams repositoryName=up >/dev/null 2>&1
pub ra 1.0 "one" one.txt && pass "publish 1.0" || flunk "publish 1.0"
REV10=$(jq -r .versionRevision "$OUT")
pub ra 2.0 "two" two.txt && pass "publish 2.0" || flunk "publish 2.0"
REV20=$(jq -r .versionRevision "$OUT")

# --- update-package-versions-status ----------------------------------------------------------
ok "update-package-versions-status" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 2.0 --target-status Archived
check "update response shape" '.successfulVersions == {"1.0": {"revision": "'"$REV10"'", "status": "Archived"},
	"2.0": {"revision": "'"$REV20"'", "status": "Archived"}} and .failedVersions == {}'
[ "$(status ra 1.0)" = Archived ] && [ "$(revision ra 1.0)" = "$REV10" ] && pass "status changed, revision kept" || flunk "status changed, revision kept"
ok "list-package-versions shows it" list-package-versions "${D[@]}" --repository ra "${PKG[@]}" --status Archived
check "both Archived" '[.versions[].version] == ["1.0", "2.0"]'
ok "same status again is a success" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --target-status Archived
check "no-op success" '.successfulVersions["1.0"].status == "Archived" and .failedVersions == {}'
ok "back to Published" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 2.0 --target-status Published --expected-status Archived
check "expected status met" '(.successfulVersions | keys) == ["1.0", "2.0"]'

# the transition table (spec §4.2, decision 6): every from-status to every legal target
for from in Published Unfinished Unlisted Archived Disposed; do
	for to in Published Unlisted Archived; do
		v="t-$from-$to"
		if [ "$from" = Unfinished ]; then pub ra "$v" "$v" a.txt --unfinished; else pub ra "$v" "$v" a.txt; fi
		set_status ra "$v" "$from"
		[ "$(status ra "$v")" = "$from" ] || { flunk "prepare $v"; continue; }
		before=$(revision ra "$v")
		ok "$from -> $to exits 0" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions "$v" --target-status "$to"
		if [ "$from" = Disposed ]; then
			check "$from -> $to is NOT_ALLOWED" '.successfulVersions == {} and .failedVersions["'"$v"'"].errorCode == "NOT_ALLOWED"'
			[ "$(status ra "$v")" = Disposed ] && pass "$v stays Disposed" || flunk "$v stays Disposed"
		else
			check "$from -> $to succeeds" '.successfulVersions["'"$v"'"].status == "'"$to"'" and .failedVersions == {}'
			[ "$(status ra "$v")" = "$to" ] && [ "$(revision ra "$v")" = "$before" ] && pass "$v is $to, same revision" || flunk "$v is $to, same revision"
		fi
	done
	for to in Unfinished Disposed; do
		refused "$from -> $to is not a target" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions "t-$from-Published" --target-status "$to"
	done
done

# --- errors of update --------------------------------------------------------------------------
refused "unknown target status" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --target-status Gone
refused "Deleted is no target" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --target-status Deleted
refused "unknown expected status" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --target-status Archived --expected-status Bogus
refused "missing package" 1 ResourceNotFoundException update-package-versions-status "${D[@]}" --repository ra --format generic --namespace tools --package ghost --versions 1.0 --target-status Archived
refused "missing repository" 1 ResourceNotFoundException update-package-versions-status "${D[@]}" --repository ghost "${PKG[@]}" --versions 1.0 --target-status Archived
refused "missing domain" 1 ResourceNotFoundException update-package-versions-status --domain ghost --repository ra "${PKG[@]}" --versions 1.0 --target-status Archived
# shellcheck disable=SC2046
refused "101 versions" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions $(seq -f 'v%g' 1 101) --target-status Archived
# shellcheck disable=SC2046
ok "100 versions" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions $(seq -f 'v%g' 1 100) --target-status Archived
check "100 NOT_FOUND" '(.failedVersions | length) == 100 and ([.failedVersions[].errorCode] | unique) == ["NOT_FOUND"]'
refused "bad version string" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions "a/b" --target-status Archived
usage "missing --target-status" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0
usage "missing --versions" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --target-status Archived
usage "bad --format" update-package-versions-status "${D[@]}" --repository ra --format tarball --namespace tools --package app --versions 1.0 --target-status Archived
usage "malformed --version-revisions" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions 1.0 --target-status Archived
usage "bad JSON --version-revisions" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions '{"1.0": 3}' --target-status Archived
refused "revision for an unlisted version" 1 ValidationException update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions "2.0=$REV20" --target-status Archived

# --- expectedStatus, versionRevisions, all or nothing -------------------------------------------
ok "expected status mismatch exits 0" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 t-Archived-Archived --target-status Unlisted --expected-status Published
check "MISMATCHED_STATUS and SKIPPED" '.successfulVersions == {} and .failedVersions["t-Archived-Archived"].errorCode == "MISMATCHED_STATUS"
	and .failedVersions["1.0"].errorCode == "SKIPPED" and (.failedVersions["t-Archived-Archived"].errorMessage | test("Archived"))'
[ "$(status ra 1.0)" = Published ] && pass "nothing changed" || flunk "nothing changed"
ok "wrong revision" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 2.0 --version-revisions "1.0=$REV20" --target-status Unlisted
check "MISMATCHED_REVISION" '.failedVersions["1.0"].errorCode == "MISMATCHED_REVISION" and .failedVersions["2.0"].errorCode == "SKIPPED"'
ok "right revisions, shorthand" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 2.0 --version-revisions "1.0=$REV10,2.0=$REV20" --target-status Unlisted
check "both Unlisted" '.successfulVersions["1.0"].status == "Unlisted" and .successfulVersions["2.0"].status == "Unlisted"'
ok "right revision, JSON" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions "{\"1.0\": \"$REV10\"}" --target-status Published
check "Published again" '.successfulVersions["1.0"] == {"revision": "'"$REV10"'", "status": "Published"}'
ok "one missing version exits 0" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 9.9 2.0 --target-status Archived
check "NOT_FOUND, others SKIPPED" '.successfulVersions == {} and .failedVersions == {
	"1.0": {"errorCode": "SKIPPED", "errorMessage": .failedVersions["1.0"].errorMessage},
	"9.9": {"errorCode": "NOT_FOUND", "errorMessage": .failedVersions["9.9"].errorMessage},
	"2.0": {"errorCode": "SKIPPED", "errorMessage": .failedVersions["2.0"].errorMessage}}'
[ "$(status ra 1.0)" = Published ] && [ "$(status ra 2.0)" = Unlisted ] && pass "all or nothing" || flunk "all or nothing"
ok "--output text" --output text update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 2.0 --target-status Unlisted
grep -q "Unlisted" "$OUT" && pass "text output" || flunk "text output"

# --- revisions ----------------------------------------------------------------------------------
pub ra 5.0 "five a" a.txt --unfinished
RA=$(jq -r .versionRevision "$OUT")
pub ra 5.0 "five b" b.txt --unfinished
RB=$(jq -r .versionRevision "$OUT")
[ -n "$RA" ] && [ "$RA" != "$RB" ] && pass "an added asset changes the revision" || flunk "an added asset changes the revision"
ok "Unfinished -> Published" update-package-versions-status "${D[@]}" --repository ra "${PKG[@]}" --versions 5.0 --target-status Published
check "revision unchanged by the status change" '.successfulVersions["5.0"] == {"revision": "'"$RB"'", "status": "Published"}'
[ "$(revision ra 5.0)" = "$RB" ] && pass "describe shows the same revision" || flunk "describe shows the same revision"

# --- dispose-package-versions ----------------------------------------------------------------
base=$(blob_files)
pub ra 9.0 "shared between ra and rb $$" shared.bin
pub rb 9.0 "shared between ra and rb $$" shared.bin
pub ra 9.1 "only in ra $$" own.bin
[ "$(blob_files)" -eq $((base + 2)) ] && pass "two new blob files" || flunk "two new blob files"
R90=$(revision ra 9.0)
ok "dispose-package-versions" dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 9.0 9.1
check "dispose response shape" '(.successfulVersions | keys) == ["9.0", "9.1"] and .successfulVersions["9.0"].status == "Disposed"
	and (.successfulVersions["9.0"].revision | length) == 44 and .failedVersions == {}'
[ "$(blob_files)" -eq $((base + 1)) ] && pass "the blob rb references stays on disk" || flunk "the blob rb references stays on disk"
[ "$(status ra 9.0)" = Disposed ] && [ "$(revision ra 9.0)" != "$R90" ] && pass "Disposed record kept, revision of no assets" || flunk "Disposed record kept"
ok "list assets of a Disposed version" list-package-version-assets "${D[@]}" --repository ra "${PKG[@]}" --package-version 9.0
check "no assets" '.assets == []'
ok "rb's copy still readable" list-package-version-assets "${D[@]}" --repository rb "${PKG[@]}" --package-version 9.0
check "rb keeps its asset" '[.assets[].name] == ["shared.bin"]'
ok "dispose the last reference" dispose-package-versions "${D[@]}" --repository rb "${PKG[@]}" --versions 9.0
[ "$(blob_files)" -eq "$base" ] && pass "last reference gone: file removed" || flunk "last reference gone: file removed"
ok "dispose a Disposed version" dispose-package-versions "${D[@]}" --repository rb "${PKG[@]}" --versions 9.0
check "still a success" '.successfulVersions["9.0"].status == "Disposed"'
ok "dispose with a wrong revision" dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions "1.0=$REV20"
check "dispose MISMATCHED_REVISION" '.failedVersions["1.0"].errorCode == "MISMATCHED_REVISION"'
ok "dispose with expected status" dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --expected-status Archived
check "dispose MISMATCHED_STATUS" '.failedVersions["1.0"].errorCode == "MISMATCHED_STATUS"'
ok "dispose one missing" dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 8.8
check "dispose NOT_FOUND and SKIPPED" '.failedVersions["8.8"].errorCode == "NOT_FOUND" and .failedVersions["1.0"].errorCode == "SKIPPED"'
[ "$(status ra 1.0)" = Published ] && pass "nothing disposed" || flunk "nothing disposed"
refused "dispose in a missing repository" 1 ResourceNotFoundException dispose-package-versions "${D[@]}" --repository ghost "${PKG[@]}" --versions 1.0
refused "dispose revision for an unlisted version" 1 ValidationException dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions "2.0=$REV20"
usage "dispose without --versions" dispose-package-versions "${D[@]}" --repository ra "${PKG[@]}"

# --- delete-package-versions ------------------------------------------------------------------
pub ra 7.0 "seven $$" seven.bin
R70=$(revision ra 7.0)
base=$(blob_files)
ok "delete with expected status" delete-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 7.0 --expected-status Unlisted
check "delete MISMATCHED_STATUS" '.failedVersions["7.0"].errorCode == "MISMATCHED_STATUS" and .successfulVersions == {}'
ok "delete with expected status Published" delete-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 7.0 9.0 --expected-status Published
check "delete MISMATCHED_STATUS for a Disposed one" '.failedVersions["9.0"].errorCode == "MISMATCHED_STATUS" and .failedVersions["7.0"].errorCode == "SKIPPED"'
ok "delete-package-versions" delete-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 7.0 9.0
check "delete response shape" '.successfulVersions == {"7.0": {"revision": "'"$R70"'", "status": "Deleted"},
	"9.0": {"revision": .successfulVersions["9.0"].revision, "status": "Deleted"}} and .failedVersions == {}'
[ "$(blob_files)" -eq $((base - 1)) ] && pass "delete frees the blob file" || flunk "delete frees the blob file"
refused "deleted version is gone" 1 ResourceNotFoundException describe-package-version "${D[@]}" --repository ra "${PKG[@]}" --package-version 7.0
pub ra 7.0 "seven again" seven.bin && pass "a deleted version can be published again" || flunk "a deleted version can be published again"
ok "delete a missing version" delete-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 6.6
check "delete NOT_FOUND" '.failedVersions["6.6"].errorCode == "NOT_FOUND"'
refused "delete in a missing package" 1 ResourceNotFoundException delete-package-versions "${D[@]}" --repository rb --format generic --namespace tools --package ghost --versions 1.0
usage "delete takes no --version-revisions" delete-package-versions "${D[@]}" --repository ra "${PKG[@]}" --versions 1.0 --version-revisions "1.0=$REV10"

# --- copy-package-versions ---------------------------------------------------------------------
CP=(copy-package-versions "${D[@]}" "${PKG[@]}")
base=$(blob_files)
ok "copy-package-versions" "${CP[@]}" --source-repository ra --destination-repository rc --versions 1.0 2.0
check "copy response shape" '.successfulVersions == {"1.0": {"revision": "'"$REV10"'", "status": "Published"},
	"2.0": {"revision": "'"$REV20"'", "status": "Unlisted"}} and .failedVersions == {}'
[ "$(blob_files)" -eq "$base" ] && pass "copy stores no new bytes" || flunk "copy stores no new bytes"
ok "copied version described" describe-package-version "${D[@]}" --repository rc "${PKG[@]}" --package-version 2.0
check "status, revision and origin kept" '.packageVersion | .status == "Unlisted" and .revision == "'"$REV20"'"
	and .origin == {"domainEntryPoint": {"repositoryName": "ra"}, "originType": "INTERNAL"}'
ok "destination package created" describe-package "${D[@]}" --repository rc "${PKG[@]}"
check "origin defaults of an INTERNAL copy" '.package.originConfiguration.restrictions == {"publish": "ALLOW", "upstream": "BLOCK"}'
ok "identical copy again" "${CP[@]}" --source-repository ra --destination-repository rc --versions 1.0 2.0 --no-allow-overwrite
check "identical versions are omitted" '.successfulVersions == {} and .failedVersions == {}'
pub rc 3.0 "three in rc" three.txt
pub ra 3.0 "three in ra" three.txt
R30=$(revision ra 3.0)
ok "copy onto other content" "${CP[@]}" --source-repository ra --destination-repository rc --versions 1.0 3.0
check "ALREADY_EXISTS, others SKIPPED" '.successfulVersions == {} and .failedVersions["3.0"].errorCode == "ALREADY_EXISTS" and .failedVersions["1.0"].errorCode == "SKIPPED"'
base=$(blob_files)
ok "copy --allow-overwrite" "${CP[@]}" --source-repository ra --destination-repository rc --versions 3.0 --allow-overwrite
check "overwritten" '.successfulVersions["3.0"].revision == "'"$R30"'"'
[ "$(revision rc 3.0)" = "$R30" ] && pass "destination has the source's revision" || flunk "destination has the source's revision"
[ "$(blob_files)" -eq $((base - 1)) ] && pass "overwritten bytes freed" || flunk "overwritten bytes freed"
ok "copy a missing version" "${CP[@]}" --source-repository ra --destination-repository rb --versions 1.0 4.4
check "NOT_FOUND and SKIPPED" '.failedVersions["4.4"].errorCode == "NOT_FOUND" and .failedVersions["1.0"].errorCode == "SKIPPED"'
[ -z "$(status rb 1.0)" ] && pass "nothing copied" || flunk "nothing copied"
ok "copy with a wrong revision" "${CP[@]}" --source-repository ra --destination-repository rb --version-revisions "1.0=$REV20"
check "copy MISMATCHED_REVISION" '.failedVersions["1.0"].errorCode == "MISMATCHED_REVISION"'
ok "copy by --version-revisions" "${CP[@]}" --source-repository ra --destination-repository rb --version-revisions "{\"1.0\": \"$REV10\"}"
check "copied by revision" '.successfulVersions["1.0"].revision == "'"$REV10"'"'
ok "copy a Disposed version" "${CP[@]}" --source-repository ra --destination-repository rb --versions 9.1
check "Disposed: NOT_ALLOWED" '.failedVersions["9.1"].errorCode == "NOT_ALLOWED"'
refused "both --versions and --version-revisions" 1 ValidationException "${CP[@]}" --source-repository ra --destination-repository rb --versions 1.0 --version-revisions "1.0=$REV10"
refused "neither --versions nor --version-revisions" 1 ValidationException "${CP[@]}" --source-repository ra --destination-repository rb
refused "copy into itself" 1 ValidationException "${CP[@]}" --source-repository ra --destination-repository ra --versions 1.0
refused "copy into a missing repository" 1 ResourceNotFoundException "${CP[@]}" --source-repository ra --destination-repository ghost --versions 1.0
refused "copy from a missing repository" 1 ResourceNotFoundException "${CP[@]}" --source-repository ghost --destination-repository rb --versions 1.0
refused "copy a missing package" 1 ResourceNotFoundException copy-package-versions "${D[@]}" --format generic --namespace tools --package ghost --source-repository ra --destination-repository rb --versions 1.0
usage "copy without --destination-repository" "${CP[@]}" --source-repository ra --versions 1.0
# shellcheck disable=SC2046
refused "copy 101 versions" 1 ValidationException "${CP[@]}" --source-repository ra --destination-repository rb --versions $(seq -f 'v%g' 1 101)

# upstreams and origin controls
pub up 1.5 "in up" up.txt
refused "without --include-from-upstream the source lacks the package" 1 ResourceNotFoundException "${CP[@]}" --source-repository down --destination-repository rb --versions 1.5 --no-include-from-upstream
ok "copy --include-from-upstream" "${CP[@]}" --source-repository down --destination-repository rb --versions 1.5 --include-from-upstream
check "found upstream" '.successfulVersions["1.5"].status == "Published"'
ok "entry point kept" describe-package-version "${D[@]}" --repository rb "${PKG[@]}" --package-version 1.5
check "entry point is up" '.packageVersion.origin.domainEntryPoint == {"repositoryName": "up"}'
ok "block publishing into rb" put-package-origin-configuration "${D[@]}" --repository rb "${PKG[@]}" --restrictions publish=BLOCK,upstream=ALLOW
ok "copy into publish=BLOCK" "${CP[@]}" --source-repository ra --destination-repository rb --versions 2.0
check "NOT_ALLOWED" '.failedVersions["2.0"].errorCode == "NOT_ALLOWED" and (.failedVersions["2.0"].errorMessage | test("publish=BLOCK"))'
[ -z "$(status rb 2.0)" ] && pass "blocked copy left nothing" || flunk "blocked copy left nothing"

# --- audit: one row per call ----------------------------------------------------------------------
ok "audit" audit "${D[@]}" --max-results 0
check "audit rows per action" '([.events[] | select(.action == "UpdatePackageVersionsStatus")] | length) >= 20
	and ([.events[] | select(.action == "CopyPackageVersions" and .outcome == "ok")] | length) >= 4
	and ([.events[] | select(.action == "DisposePackageVersions" and .outcome == "FAILED")] | length) >= 3
	and ([.events[] | select(.action == "DeletePackageVersions" and .outcome == "ok")] | length) >= 1
	and ([.events[] | select(.action == "CopyPackageVersions" and .outcome == "ResourceNotFoundException")] | length) >= 1'
check "a failed batch names its failures" '[.events[] | select(.outcome == "FAILED" and (.reason | test("9.9 NOT_FOUND")))] | length >= 1'
check "resource is the package" '[.events[] | select(.action == "DisposePackageVersions")][0].resource | test(":package/life/[a-z]+/generic/tools/app$")'

echo "1..$n"
[ "$failed" -eq 0 ]
