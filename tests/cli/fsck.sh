#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cafs fsck` and `cafs gc` on a real store: a clean domain is clean; a flipped byte, a deleted
# blob file, a file without a row, a leftover temp file, a half-published version and an asset
# pointing at no blob are each reported (exit 1) and, where safe, repaired (--repair: the orphan
# removed past the grace period, the temp file swept, a blob put back from an identical file, a
# corrupt file moved to lost+found/), never touching bytes a row references; gc frees an
# unreferenced blob only past the grace period, keeps every referenced one (a wheel's core
# metadata included), and --dry-run changes nothing. Prints TAP.
set -uo pipefail

CAFS=${1:?usage: fsck.sh PATH-TO-cafs}
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
. "$(dirname "$0")/lib.sh"

D=$CAFS_STORE/fk
C() { "$CAFS" "$@"; }
fsck() { "$CAFS" fsck --domain fk "$@" >"$OUT" 2>"$ERR"; }
# status NAME WANT: the last command's exit status ($st) is WANT
status() { if [ "$st" -eq "$2" ]; then pass "$1"; else flunk "$1 (exit $st, want $2)"; fi; }
# the blob file holding exactly the bytes of FILE
blob_of() { local f; for f in "$D"/blobs/*/*; do cmp -s "$f" "$1" && { echo "$f"; return; }; done; }
sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str, x)) for x in r))' "$D/domain.db" "$1"; }

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
meta = "Metadata-Version: 2.1\nName: fsck-demo\nVersion: 1.0\nSummary: fsck\n\n"
with zipfile.ZipFile(f"{w}/fsck_demo-1.0-py3-none-any.whl", "w") as z:
    z.writestr("fsck_demo/__init__.py", "")
    z.writestr("fsck_demo-1.0.dist-info/METADATA", meta)
    z.writestr("fsck_demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    z.writestr("fsck_demo-1.0.dist-info/RECORD", "")
PY
printf 'the bytes of asset a\n' >"$WORK/a.txt"
printf 'the bytes of asset b, a little longer\n' >"$WORK/b.txt"
printf 'other bytes under the name of a\n' >"$WORK/other.txt"
pubg() { # VERSION FILE [NAME]
	"$CAFS" publish-package-version --domain fk --repository team --format generic --namespace ns \
		--package pa --package-version "$1" --asset-content "$2" --asset-name "${3:-$(basename "$2")}" \
		--asset-sha256 "$(sha256sum "$2" | cut -d' ' -f1)"
}
C create-domain --domain fk >/dev/null
C create-repository --domain fk --repository team >/dev/null
pubg 1 "$WORK/a.txt" >/dev/null
pubg 2 "$WORK/b.txt" >/dev/null
C publish --domain fk --repository team "$WORK/fsck_demo-1.0-py3-none-any.whl" >/dev/null
# the hashes CodeArtifact reports are computed once and stored: fsck checks them too
C list-package-version-assets --domain fk --repository team --format generic --namespace ns --package pa --package-version 1 >/dev/null

# --- a clean domain -------------------------------------------------------------------------
fsck; st=$?
status "fsck of a clean domain exits 0" 0
check "clean, every blob hashed" '.clean and .problems == 0 and .checked.blobs == 4 and .checked.blobFiles == 4
	and .checked.bytesVerified == .checked.blobBytes and .checked.assets == 3 and .checked.versions == 3
	and .unreferencedBlobs.count == 0 and .repair == false and .verifyBytes == true and .graceSeconds == 3600'
[ ! -s "$ERR" ] && pass "no progress bar when stderr is no terminal" || flunk "no progress bar when stderr is no terminal"
fsck --no-verify-bytes; st=$?
status "--no-verify-bytes exits 0" 0
check "--no-verify-bytes reads no byte" '.clean and .verifyBytes == false and .checked.bytesVerified == 0'
if command -v script >/dev/null; then
	script -qec "$CAFS fsck --domain fk" /dev/null >"$WORK/tty.out" 2>&1
	grep -q 'fsck \[' "$WORK/tty.out" && pass "a progress bar on a terminal" || flunk "a progress bar on a terminal"
else
	pass "a progress bar on a terminal # SKIP script is not installed"
fi
C fsck --domain fk --output text >"$OUT" 2>"$ERR" && grep -q "^CHECKED" "$OUT" && pass "--output text" || flunk "--output text"
usage "--grace must not be negative" fsck --domain fk --grace -1
refused "fsck of a domain that does not exist" 1 ResourceNotFoundException fsck --domain nope

# --- a flipped byte ---------------------------------------------------------------------------
BA=$(blob_of "$WORK/a.txt")
[ -n "$BA" ] && pass "the blob of a.txt is found" || flunk "the blob of a.txt is found"
REL_A=${BA#"$D"/}
printf 'T' | dd of="$BA" bs=1 seek=0 conv=notrunc status=none
fsck; st=$?
status "a flipped byte: exit 1" 1
check "reported as BLOB_CORRUPT, with the asset reading it" '.problems == 1 and ([.findings[] | select(.state == "PROBLEM")] | length) == 1
	and (.findings[] | select(.type == "BLOB_CORRUPT") | .path == "'"$REL_A"'" and .assets == ["team/generic/ns/pa/1/a.txt"]
	and (.message | test("sha256")))'
fsck --no-verify-bytes; st=$?
status "--no-verify-bytes cannot see a flipped byte" 0
fsck --repair; st=$?
status "--repair of a corrupt blob with no twin: still exit 1" 1
check "the corrupt file is moved to lost+found, not deleted" '.problems == 1 and (.findings[] | select(.type == "BLOB_CORRUPT") | .state == "PROBLEM" and (.message | test("lost\\+found/")))'
[ ! -e "$BA" ] && [ "$(ls "$D/lost+found" | wc -l)" -eq 1 ] && pass "the file sits in lost+found/" || flunk "the file sits in lost+found/"
refused "its asset now fails to read instead of serving wrong bytes" 1 InternalServerException get-package-version-asset --domain fk --repository team --format generic --namespace ns --package pa --package-version 1 --asset a.txt "$WORK/x"
fsck; st=$?
status "now a missing blob: exit 1" 1
check "reported as BLOB_MISSING" '.findings[] | select(.type == "BLOB_MISSING") | .state == "PROBLEM" and .assets == ["team/generic/ns/pa/1/a.txt"]'
ok "publishing the same bytes again succeeds" publish-package-version --domain fk --repository team --format generic --namespace ns --package pa --package-version 1 --asset-content "$WORK/a.txt" --asset-name a.txt --asset-sha256 "$(sha256sum "$WORK/a.txt" | cut -d' ' -f1)"
fsck; st=$?
status "and puts the blob back: clean" 0
ok "get-package-version-asset after the repair" get-package-version-asset --domain fk --repository team --format generic --namespace ns --package pa --package-version 1 --asset a.txt "$WORK/a.got"
cmp -s "$WORK/a.got" "$WORK/a.txt" && pass "with the right bytes" || flunk "with the right bytes"

# --- a deleted blob file, put back from an identical file without a row ------------------------
BB=$(blob_of "$WORK/b.txt")
REL_B=${BB#"$D"/}
rm -f "$BB"
fsck; st=$?
status "a deleted blob file: exit 1" 1
check "reported as BLOB_MISSING naming the asset" '.problems == 1 and (.findings[] | select(.type == "BLOB_MISSING") | .path == "'"$REL_B"'" and .assets == ["team/generic/ns/pa/2/b.txt"])'
mkdir -p "$D/blobs/00"
TWIN=$D/blobs/00/000000000000000000000000000000
cp "$WORK/b.txt" "$TWIN"
fsck --repair; st=$?
status "--repair with an identical file without a row: exit 0" 0
check "reported REPAIRED, put back from that file" '.problems == 0 and .repaired == 1 and (.findings[] | select(.type == "BLOB_MISSING") | .state == "REPAIRED" and (.message | test("000000000000000000000000000000")))'
cmp -s "$BB" "$WORK/b.txt" && [ ! -e "$TWIN" ] && pass "the bytes are back at the blob's address" || flunk "the bytes are back at the blob's address"
fsck; st=$?
status "clean again" 0

# --- a file without a row -----------------------------------------------------------------------
mkdir -p "$D/blobs/ff"
ORPHAN=$D/blobs/ff/ffffffffffffffffffffffffffffff
printf 'nobody owns these bytes\n' >"$ORPHAN"
fsck; st=$?
status "a fresh file without a row is no problem within the grace period" 0
check "reported as a note" '.findings[] | select(.type == "ORPHAN_FILE") | .state == "NOTE" and .path == "blobs/ff/ffffffffffffffffffffffffffffff"'
fsck --grace 0; st=$?
status "past the grace period it is a problem: exit 1" 1
check "ORPHAN_FILE problem" '.problems == 1 and (.findings[] | select(.type == "ORPHAN_FILE") | .state == "PROBLEM")'
fsck --repair; st=$?
[ -e "$ORPHAN" ] && pass "--repair keeps it within the grace period" || flunk "--repair keeps it within the grace period"
fsck --repair --grace 0; st=$?
status "--repair --grace 0 removes it: exit 0" 0
check "ORPHAN_FILE repaired" '.repaired == 1 and (.findings[] | select(.type == "ORPHAN_FILE") | .state == "REPAIRED")'
[ ! -e "$ORPHAN" ] && pass "the file is gone" || flunk "the file is gone"
echo junk >"$D/blobs/ff/not-a-blob"
fsck --grace 0; st=$?
status "a file that is no blob name is left alone (no problem)" 0
check "reported as a STRAY_FILE note" '.findings[] | select(.type == "STRAY_FILE") | .state == "NOTE" and .path == "blobs/ff/not-a-blob"'
fsck --repair --grace 0; st=$?
[ -e "$D/blobs/ff/not-a-blob" ] && pass "--repair never removes what it does not know" || flunk "--repair never removes what it does not know"
rm -f "$D/blobs/ff/not-a-blob"

# --- temp files --------------------------------------------------------------------------------
printf 'half an ingest' >"$D/tmp/ingest.4242.00000000deadbeef"
fsck; st=$?
status "a leftover temp file: exit 0 (swept)" 0
check "reported as a TEMP_FILE swept when the domain was opened" '.findings[] | select(.type == "TEMP_FILE") | .state == "REPAIRED" and .path == "tmp/ingest.4242.00000000deadbeef"'
[ ! -e "$D/tmp/ingest.4242.00000000deadbeef" ] && pass "the temp file is gone" || flunk "the temp file is gone"
printf 'an ingest in progress' >"$D/tmp/ingest.4243.00000000cafef00d"
# one process holds the lock (no child to outlive a kill and keep our stdout open)
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(60)' \
	"$D/tmp/ingest.4243.00000000cafef00d" "$WORK/locked" >/dev/null 2>&1 &
HOLDER=$!
for _ in $(seq 1 100); do [ -e "$WORK/locked" ] && break; sleep 0.05; done
fsck --repair; st=$?
status "a temp file a live process holds: exit 0" 0
check "reported as in use" '.findings[] | select(.type == "TEMP_FILE") | .state == "NOTE" and (.message | test("in use"))'
[ -e "$D/tmp/ingest.4243.00000000cafef00d" ] && pass "and kept" || flunk "and kept"
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null
rm -f "$D/tmp/ingest.4243.00000000cafef00d"

# --- rows: a half-published version, an asset without its blob ---------------------------------
sql "INSERT INTO package_versions (package_id, version, status, revision, origin_type, entry_repository, created_us, updated_us) SELECT package_id, '9', 'Published', 'x', 'INTERNAL', 'team', 0, 0 FROM package_versions LIMIT 1" >/dev/null
fsck; st=$?
status "a version without assets: exit 1" 1
check "reported as HALF_PUBLISHED_VERSION" '.problems == 1 and (.findings[] | select(.type == "HALF_PUBLISHED_VERSION") | .packageVersion == "team/generic/ns/pa/9" and .state == "PROBLEM")'
fsck --repair; st=$?
status "--repair never deletes rows: still exit 1" 1
ok "delete-package-versions removes it" delete-package-versions --domain fk --repository team --format generic --namespace ns --package pa --versions 9
sql "INSERT INTO assets (version_id, name, blob_id, created_us) SELECT id, 'ghost.txt', 999999, 0 FROM package_versions WHERE version = '2'" >/dev/null
fsck; st=$?
status "an asset pointing at no blob row: exit 1" 1
check "reported as ASSET_WITHOUT_BLOB and by foreign_key_check" '(.findings | map(.type) | index("ASSET_WITHOUT_BLOB")) != null
	and (.findings | map(.type) | index("FOREIGN_KEY")) != null'
sql "DELETE FROM assets WHERE name = 'ghost.txt'" >/dev/null
fsck; st=$?
status "clean again after the rows are fixed" 0

# --- gc -----------------------------------------------------------------------------------------
refused "a publish refused after its ingest" 1 ConflictException publish-package-version --domain fk --repository team --format generic --namespace ns --package pa --package-version 1 --asset-content "$WORK/other.txt" --asset-name a.txt --asset-sha256 "$(sha256sum "$WORK/other.txt" | cut -d' ' -f1)"
BO=$(blob_of "$WORK/other.txt")
[ -n "$BO" ] && pass "left an unreferenced blob" || flunk "left an unreferenced blob"
fsck; st=$?
status "an unreferenced blob is no problem for fsck" 0
check "counted as unreferenced" '.unreferencedBlobs.count == 1 and .unreferencedBlobs.bytes == '"$(stat -c %s "$WORK/other.txt")"
nfiles=$(ls "$D"/blobs/*/* | wc -l)
ok "gc --dry-run --grace 0" gc --domain fk --dry-run --grace 0
check "would free the blob" '.dryRun and .freedBlobs == 1 and .freedBytes == '"$(stat -c %s "$WORK/other.txt")"
[ -e "$BO" ] && [ "$(ls "$D"/blobs/*/* | wc -l)" -eq "$nfiles" ] && pass "--dry-run changes nothing" || flunk "--dry-run changes nothing"
ok "gc within the default grace period" gc --domain fk
check "keeps the young blob" '.freedBlobs == 0 and .keptYoungBlobs == 1 and .graceSeconds == 3600'
[ -e "$BO" ] && pass "its file is still there" || flunk "its file is still there"
sleep 2
ok "gc --grace 1, two seconds later" gc --domain fk --grace 1
check "frees it, rows then files" '.freedBlobs == 1 and .removedFiles == 1 and .keptYoungBlobs == 0 and .freedBytes == '"$(stat -c %s "$WORK/other.txt")"
[ ! -e "$BO" ] && [ "$(ls "$D"/blobs/*/* | wc -l)" -eq $((nfiles - 1)) ] && pass "only that file is gone" || flunk "only that file is gone"
ok "gc --grace 0 again" gc --domain fk --grace 0
check "nothing referenced is ever freed (the wheel's core metadata included)" '.freedBlobs == 0 and .orphanFilesRemoved == 0'
fsck; st=$?
status "fsck after gc: clean" 0
check "four blobs, all referenced" '.checked.blobs == 4 and .unreferencedBlobs.count == 0'
ok "the wheel still reads" get-package-version-asset --domain fk --repository team --format pypi --package fsck-demo --package-version 1.0 --asset fsck_demo-1.0-py3-none-any.whl "$WORK/w.got"
cmp -s "$WORK/w.got" "$WORK/fsck_demo-1.0-py3-none-any.whl" && pass "with its bytes" || flunk "with its bytes"
ok "audit records the collection and the repairs" audit --domain fk --outcome ok --max-results 0
check "a GarbageCollect event and RepairDomain events" '([.events[] | select(.action == "GarbageCollect" and (.reason | test("freed 1 unreferenced blobs")))] | length == 1)
	and ([.events[] | select(.action == "RepairDomain")] | length >= 2)'
printf 'a crash left this\n' >"$ORPHAN"
ok "gc with a young file without a row" gc --domain fk
check "keeps it" '.orphanFilesRemoved == 0 and .keptYoungOrphanFiles == 1'
ok "gc --grace 0 with a file without a row" gc --domain fk --grace 0
check "removes it" '.orphanFilesRemoved == 1 and .orphanBytes == 18'
[ ! -e "$ORPHAN" ] && pass "the file is gone" || flunk "the file is gone"
ok "delete-repository leaves its blobs" delete-repository --domain fk --repository team
ok "gc --grace 0 after the repository went" gc --domain fk --grace 0
check "frees all four" '.freedBlobs == 4 and .removedFiles == 4'
[ -z "$(ls "$D"/blobs/*/* 2>/dev/null)" ] && pass "no blob file left" || flunk "no blob file left"
fsck; st=$?
status "an empty domain is clean" 0

# --- a publish that re-uses a file without a row while gc removes that file ----------------------
# (the ingest finds the orphan at its address, hashes it and inserts its row; gc --grace 0,
# started the moment the ingest opens the orphan (inotify), removes it in between: the ingest
# must notice and put its bytes back)
C create-domain --domain fr >/dev/null
C create-repository --domain fr --repository team >/dev/null
head -c $((128 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
BIGSHA=$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)
pubbig() { "$CAFS" publish-package-version --domain fr --repository team --format generic --namespace ns --package big --package-version "$1" --asset-content "$WORK/big.bin" --asset-name big.bin --asset-sha256 "$BIGSHA"; }
pubbig 1 >/dev/null
BIGF=$(ls "$CAFS_STORE"/fr/blobs/*/*)
cp "$BIGF" "$WORK/big.saved"
C delete-package-versions --domain fr --repository team --format generic --namespace ns --package big --versions 1 >/dev/null
cp "$WORK/big.saved" "$BIGF"
rm -f "$WORK/big.saved"
python3 - "$BIGF" "$CAFS" "$WORK/gc.json" "$WORK/watch.ready" >/dev/null 2>&1 <<'PY' &
import ctypes, os, subprocess, sys
path, cafs, out, ready = sys.argv[1:5]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, path.encode(), 0x20) < 0:  # IN_OPEN
    sys.exit(1)
open(ready, "w").close()
os.read(fd, 4096)  # the publish opens the orphan to hash it
r = subprocess.run([cafs, "gc", "--domain", "fr", "--grace", "0"], capture_output=True)
open(out, "wb").write(r.stdout + r.stderr)
PY
WATCH=$!
for _ in $(seq 1 100); do [ -e "$WORK/watch.ready" ] && break; sleep 0.05; done
pubbig 2 >"$OUT" 2>"$ERR"; st=$?
wait "$WATCH"
if [ -e "$WORK/watch.ready" ] && jq -e '.orphanFilesRemoved == 1' "$WORK/gc.json" >/dev/null 2>&1; then
	status "a publish re-using an orphan that gc removed meanwhile succeeds" 0
	"$CAFS" fsck --domain fr >"$OUT" 2>"$ERR"; st=$?
	status "and its blob has its file (fsck clean)" 0
	"$CAFS" get-package-version-asset --domain fr --repository team --format generic --namespace ns --package big --package-version 2 --asset big.bin - 2>/dev/null | cmp -s - "$WORK/big.bin" &&
		pass "with its bytes" || flunk "with its bytes"
else
	for _ in 1 2 3; do pass "a publish re-using an orphan gc removes # SKIP gc did not run inside the window ($(head -c 200 "$WORK/gc.json" 2>/dev/null))"; done
fi
rm -f "$WORK/big.bin"

usage "gc --grace must not be negative" gc --domain fk --grace -5
refused "gc of a domain that does not exist" 1 ResourceNotFoundException gc --domain nope

echo "1..$n"
[ "$failed" -eq 0 ]
