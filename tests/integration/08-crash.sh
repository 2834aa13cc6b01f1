#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of the daemon in the middle of a 100 MB cp into the mount: the cp is stopped once a
# fifth of its bytes reached the daemon (so the kill always lands mid-copy), the daemon is
# killed, the dead mount is lifted and the domain mounted again. Then: the version is absent,
# no row lacks its blob or its version, no version lacks an asset, no temp file is left, every
# blob file has its row, and the same cp succeeds. Prints TAP.
. "$(dirname "$0")/lib.sh"

C() { "$CAFS" "$@"; }
C create-domain --domain cr >/dev/null
C create-repository --domain cr --repository team >/dev/null
head -c $((100 * 1000 * 1000)) /dev/urandom >"$WORK/big.bin"
mount_domain cr
M=$MNT
DB=$CAFS_STORE/cr/domain.db

t "a small version first" bash -c "mkdir -p '$M/team/generic/ns/keep/1' && echo kept >'$M/team/generic/ns/keep/1/a.txt' && setfattr -n user.cafs.status -v Published '$M/team/generic/ns/keep/1'"
mkdir -p "$M/team/generic/ns/crash/1"
wchar() { awk '/^wchar/ {print $2}' "/proc/$DAEMON_PID/io"; }
w0=$(wchar)
cp "$WORK/big.bin" "$M/team/generic/ns/crash/1/" 2>"$WORK/cp.err" &
CP=$!
for _ in $(seq 1 2000); do
	[ $(($(wchar) - w0)) -ge $((20 * 1000 * 1000)) ] && break
	kill -0 "$CP" 2>/dev/null || break
	sleep 0.005
done
kill -STOP "$CP" 2>/dev/null
moved=$(($(wchar) - w0))
kill_daemon_hard
kill -CONT "$CP" 2>/dev/null
wait "$CP"; cpst=$?
echo "# killed after $((moved / 1000000)) MB had reached the daemon"
[ "$moved" -lt $((100 * 1000 * 1000)) ] && pass "the kill landed mid-copy" || flunk "the kill landed mid-copy" "$moved bytes moved"
[ "$cpst" -ne 0 ] && pass "the interrupted cp failed" || flunk "the interrupted cp failed"
grep -q " $MNT " /proc/mounts && flunk "the dead mount is lifted" || pass "the dead mount is lifted"

# the store as the crash left it, before anything opens it again
same "no version of 'crash'" "$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT count(*) FROM package_versions v JOIN packages p ON p.id=v.package_id WHERE p.name='crash'\").fetchone()[0])" "$DB")" "0"

mount_domain cr
t_fail "the version is absent after the remount" "No such file" stat "$M/team/generic/ns/crash/1"
same "the version kept before the crash is intact" "$(cat "$M/team/generic/ns/keep/1/a.txt" 2>&1)" "kept"
check_store() {
	python3 - "$DB" "$CAFS_STORE/cr" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); d = sys.argv[2]
bad = []
q = lambda sql: c.execute(sql).fetchone()[0]
n = q("SELECT count(*) FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id WHERE b.id IS NULL")
if n: bad.append(f"{n} assets without a blob row")
n = q("SELECT count(*) FROM assets a LEFT JOIN package_versions v ON v.id = a.version_id WHERE v.id IS NULL")
if n: bad.append(f"{n} assets without a version")
n = q("SELECT count(*) FROM package_versions v WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.version_id = v.id)")
if n: bad.append(f"{n} versions without an asset")
rows = set()
for xxh, seq in c.execute("SELECT xxh128, seq FROM blobs"):
    rel = f"blobs/{xxh[:2]}/{xxh[2:]}" + (f".{seq}" if seq else "")
    rows.add(rel)
    if not os.path.isfile(os.path.join(d, rel)): bad.append(f"row without its file: {rel}")
for root, _, files in os.walk(os.path.join(d, "blobs")):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), d)
        if rel not in rows: bad.append(f"file without its row: {rel}")
left = os.listdir(os.path.join(d, "tmp"))
if left: bad.append(f"temp files left: {left}")
print("\n".join(bad) if bad else "consistent")
PY
}
same "the store is consistent" "$(check_store)" "consistent"
t "the same cp succeeds (its pending folder went with the daemon: mkdir again)" bash -c "mkdir -p '$M/team/generic/ns/crash/1' && cp '$WORK/big.bin' '$M/team/generic/ns/crash/1/'"
t "and its version can be published" setfattr -n user.cafs.status -v Published "$M/team/generic/ns/crash/1"
t "with the bytes written" cmp "$WORK/big.bin" "$M/team/generic/ns/crash/1/big.bin"
same "the store is still consistent" "$(check_store)" "consistent"
unmount_domain
finish
