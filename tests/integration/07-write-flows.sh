#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The write side's rules and the flows 05-write does not cover: same-bytes and other-bytes
# conflicts, the reachable-upstream conflict (spec 2.6) and publish=BLOCK, each refused at
# close() and audited with its reason; shell redirects (whose close errors bash drops: the
# refusal is in the log and nothing is stored); mv from another file system, new and onto a
# published asset; mv inside the mount (EXDEV, then copy and unlink); rsync -aX; cp -a
# between two places of the mount; and cp of a 1 GiB asset inside the mount, which publishes
# by reference: no new blob, and the daemon reads none of its bytes. Prints TAP.
. "$(dirname "$0")/lib.sh"

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
def wheel(name, version, path, body="# hi\n"):
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/__init__.py", body)
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
        z.writestr(f"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        z.writestr(f"{name}-{version}.dist-info/RECORD", "")
import os
os.makedirs(f"{w}/b", exist_ok=True)
wheel("demo", "1.0", f"{w}/demo-1.0-py3-none-any.whl")
wheel("demo", "1.0", f"{w}/b/demo-1.0-py3-none-any.whl", body="# other bytes\n")
wheel("demo", "2.0", f"{w}/demo-2.0-py3-none-any.whl")
wheel("shared", "1.0", f"{w}/shared-1.0-py3-none-any.whl")
wheel("moved", "1.0", f"{w}/moved-1.0-py3-none-any.whl")
wheel("xat", "1.0", f"{w}/xat-1.0-py3-none-any.whl")
wheel("cached", "1.0", f"{w}/cached-1.0-py3-none-any.whl")
wheel("cached", "2.0", f"{w}/cached-2.0-py3-none-any.whl")
wheel("cached", "3.0", f"{w}/cached-3.0-py3-none-any.whl")
wheel("listed", "1.0", f"{w}/listed-1.0-py3-none-any.whl")
PY
C() { "$CAFS" "$@"; }
C create-domain --domain wf >/dev/null
C create-repository --domain wf --repository up >/dev/null
C create-repository --domain wf --repository team --upstreams repositoryName=up >/dev/null
C create-repository --domain wf --repository other >/dev/null
C publish --domain wf --repository up "$WORK/shared-1.0-py3-none-any.whl" >/dev/null
mount_domain wf
M=$MNT
refusals() { # ACTION-or-empty OUTCOME: how many audited refusals with that outcome
	C audit --domain wf --max-results 0 | jq --arg o "$2" '[.events[] | select(.outcome == $o and (.reason | length) > 0)] | length'
}

# --- conflicts, refused at close --------------------------------------------------------------
t "cp a wheel into r/pypi/" cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/"
out=$(cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/" 2>&1); st=$?
same "same bytes again: success, silently" "$st:$out" "0:"
c0=$(refusals "" ConflictException)
t_fail "other bytes under that name: EEXIST at close" "File exists" cp "$WORK/b/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/"
t "the published bytes are unchanged" cmp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl"
t_fail "a version an upstream has (spec 2.6): EEXIST" "File exists" cp "$WORK/shared-1.0-py3-none-any.whl" "$M/team/pypi/"
c1=$(refusals "" ConflictException)
[ "$c1" -ge $((c0 + 2)) ] && pass "both conflicts audited with a reason" || flunk "both conflicts audited with a reason" "before $c0, after $c1"
t "setfattr user.cafs.origin.publish BLOCK" setfattr -n user.cafs.origin.publish -v BLOCK "$M/team/pypi/demo"
same "the control reads back" "$(getfattr --absolute-names --only-values -n user.cafs.origin.publish "$M/team/pypi/demo" 2>&1)" "BLOCK"
a0=$(refusals "" AccessDeniedException)
t_fail "publish=BLOCK: EPERM" "not permitted" cp "$WORK/demo-2.0-py3-none-any.whl" "$M/team/pypi/"
a1=$(refusals "" AccessDeniedException)
[ "$a1" -gt "$a0" ] && pass "the EPERM audited" || flunk "the EPERM audited" "before $a0, after $a1"
t_fail "nothing of 2.0 stored" "No such file" stat "$M/team/pypi/demo/2.0"
t "setfattr user.cafs.origin.publish ALLOW" setfattr -n user.cafs.origin.publish -v ALLOW "$M/team/pypi/demo"
grep -q "File exists\|EEXIST\|Conflict" "$WORK/daemon.log" && pass "refusals logged" || flunk "refusals logged" "$(tail -5 "$WORK/daemon.log")"

# --- a reader never sees a partial asset: until close() publishes, the store has nothing -------
cat >"$WORK/slow.py" <<'PY'
import sys, time
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    f.write(data[: len(data) // 2]); f.flush()
    open(sys.argv[3], "w").close()          # half written: tell the test
    time.sleep(1.5)
    f.write(data[len(data) // 2 :])
PY
python3 "$WORK/slow.py" "$WORK/demo-2.0-py3-none-any.whl" "$M/other/pypi/demo-2.0-py3-none-any.whl" "$WORK/half" &
SLOW=$!
for _ in $(seq 100); do [ -e "$WORK/half" ] && break; sleep 0.05; done
same "mid-write: the index does not list it" "$(grep -c 'demo-2.0' "$M/other/pypi/demo/index.html" 2>/dev/null || echo 0)" "0"
t_fail "mid-write: the store has no such version" "ResourceNotFound" C describe-package-version --domain wf --repository other --format pypi --package demo --package-version 2.0
wait "$SLOW"; st=$?
same "the slow write closes cleanly" "$st" "0"
t "after close: the whole asset" cmp "$WORK/demo-2.0-py3-none-any.whl" "$M/other/pypi/demo/2.0/demo-2.0-py3-none-any.whl"
grep -q "demo-2.0-py3-none-any.whl" "$M/other/pypi/demo/index.html" && pass "and the index lists it" || flunk "and the index lists it" "$(cat "$M/other/pypi/demo/index.html")"

# --- shell redirects ----------------------------------------------------------------------------
bash -c "echo not-a-wheel >'$M/team/pypi/junk.whl'"; st=$?
same "a refused redirect: bash drops the close error" "$st" "0"
t_fail "nothing stored" "No such file" stat "$M/team/pypi/junk.whl"
grep -q "junk.whl" "$WORK/daemon.log" && pass "the refusal is in the log" || flunk "the refusal is in the log" "$(tail -5 "$WORK/daemon.log")"
t "a redirect into a generic version" bash -c "mkdir -p '$M/team/generic/ns/notes/1' && echo hello >'$M/team/generic/ns/notes/1/notes.txt'"
same "its bytes" "$(C get-package-version-asset --domain wf --repository team --format generic --namespace ns --package notes --package-version 1 --asset notes.txt "$WORK/notes.out" >/dev/null && cat "$WORK/notes.out")" "hello"
# an append redirect is refused at close, which bash does not report (it closes through dup2)
(echo more >>"$M/team/generic/ns/notes/1/notes.txt") 2>/dev/null
same "an append redirect leaves the published bytes as they were" "$(C get-package-version-asset --domain wf --repository team --format generic --namespace ns --package notes --package-version 1 --asset notes.txt "$WORK/notes2.out" >/dev/null && cat "$WORK/notes2.out")" "hello"

# --- mv from another file system ---------------------------------------------------------------
cp "$WORK/moved-1.0-py3-none-any.whl" "$WORK/moving.whl"
t "mv a new wheel in from elsewhere" mv "$WORK/moved-1.0-py3-none-any.whl" "$M/team/pypi/"
t "published" test -f "$M/team/pypi/moved/1.0/moved-1.0-py3-none-any.whl"
t "and gone from its source" test ! -e "$WORK/moved-1.0-py3-none-any.whl"
cp "$WORK/demo-1.0-py3-none-any.whl" "$WORK/again.whl"
t "mv onto a published asset with the same bytes (unlink, then create)" mv "$WORK/again.whl" "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl"
t "the asset is there, same bytes" cmp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl"
t "rm of a package's last asset" rm "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl"
sleep 0.5 # the invalidation thread has dropped the kernel's names by now
t "the folders stay: cp into the same folder a moment later" cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/"
t "published again" cmp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl"

# --- mv inside the mount: EXDEV, so mv copies and unlinks --------------------------------------
strace -f -e trace=rename,renameat,renameat2 -o "$WORK/mv.strace" mv "$M/team/pypi/moved/1.0/moved-1.0-py3-none-any.whl" "$M/other/pypi/" 2>"$WORK/mv.err"; st=$?
same "mv between repositories succeeds" "$st" "0"
grep -q "EXDEV" "$WORK/mv.strace" && pass "its rename was EXDEV" || flunk "its rename was EXDEV" "$(cat "$WORK/mv.strace")"
t "the target repository has it" cmp "$WORK/moving.whl" "$M/other/pypi/moved/1.0/moved-1.0-py3-none-any.whl"
t_fail "the source repository's version went with its last asset" "ResourceNotFound" C describe-package-version --domain wf --repository team --format pypi --package moved --package-version 1.0
sleep 0.5 # the invalidation thread has dropped the kernel's names by now
same "its folder stays in the mount, empty, as a folder does" "$(ls -A "$M/team/pypi/moved/1.0" 2>&1)" ""

# --- rsync -aX and cp -a ---------------------------------------------------------------------------
setfattr -n user.origin -v laptop "$WORK/xat-1.0-py3-none-any.whl"
t "rsync -aX a wheel with a foreign user.* attribute" rsync -aX "$WORK/xat-1.0-py3-none-any.whl" "$M/team/pypi/"
t "published" test -f "$M/team/pypi/xat/1.0/xat-1.0-py3-none-any.whl"
same "the foreign attribute is not kept" "$(getfattr --absolute-names -n user.origin "$M/team/pypi/xat/1.0/xat-1.0-py3-none-any.whl" 2>&1 | grep -c laptop)" "0"
t "cp -a between two places of the mount, no warning" bash -c "out=\$(cp -a '$M/team/pypi/xat/1.0/xat-1.0-py3-none-any.whl' '$M/other/pypi/' 2>&1) && [ -z \"\$out\" ]"
t "rsync -aX between two places of the mount" rsync -aX "$M/team/pypi/xat/1.0/xat-1.0-py3-none-any.whl" "$M/other/pypi/xat/1.0/"

# --- status by xattr: every legal transition, and the illegal ones ---------------------------------
V=$M/team/generic/ns/states
mk3() { mkdir -p "$V/1" "$V/2" "$V/3" && for v in 1 2 3; do echo "$v" >"$V/$v/f.txt" || return 1; done; }
t "three Unfinished versions" mk3
status() { getfattr --absolute-names --only-values -n user.cafs.status "$1" 2>&1; }
for step in 1:Unlisted 1:Archived 1:Published 1:Unlisted 1:Published 1:Archived 1:Unlisted 1:Archived 2:Published 3:Archived; do
	v=${step%%:*} to=${step#*:}
	from=$(status "$V/$v")
	t "$from -> $to by setfattr" setfattr -n user.cafs.status -v "$to" "$V/$v"
	same "reads $to" "$(status "$V/$v")" "$to"
done
t_fail "-> Unfinished is EPERM" "not permitted" setfattr -n user.cafs.status -v Unfinished "$V/2"
t_fail "-> Disposed is EPERM (dispose-package-versions does that)" "not permitted" setfattr -n user.cafs.status -v Disposed "$V/2"
t_fail "a word that is no status is EINVAL" "Invalid argument" setfattr -n user.cafs.status -v Gone "$V/2"
same "the refused changes changed nothing" "$(status "$V/2")" "Published"

# --- cp of a 1 GiB asset inside the mount: by reference ------------------------------------------
head -c $((1024 * 1024 * 1024)) /dev/zero | tr '\0' 'z' >"$WORK/big.bin"
t "publish a 1 GiB generic asset" bash -c "mkdir -p '$M/team/generic/ns/big/1' && cp '$WORK/big.bin' '$M/team/generic/ns/big/1/' && setfattr -n user.cafs.status -v Published '$M/team/generic/ns/big/1'"
rm -f "$WORK/big.bin"
blobs0=$(find "$CAFS_STORE/wf/blobs" -type f | wc -l)
rchar0=$(awk '/^rchar/ {print $2}' "/proc/$DAEMON_PID/io")
t0=$(date +%s%N)
t "cp it to another repository inside the mount" bash -c "mkdir -p '$M/other/generic/ns/big/1' && cp '$M/team/generic/ns/big/1/big.bin' '$M/other/generic/ns/big/1/'"
t1=$(date +%s%N)
rchar1=$(awk '/^rchar/ {print $2}' "/proc/$DAEMON_PID/io")
echo "# cp of 1 GiB inside the mount: $(((t1 - t0) / 1000000)) ms, daemon read $(((rchar1 - rchar0) / 1048576)) MiB"
same "no new blob" "$(find "$CAFS_STORE/wf/blobs" -type f | wc -l)" "$blobs0"
[ $((rchar1 - rchar0)) -lt $((64 * 1024 * 1024)) ] && pass "the daemon read none of its bytes" || flunk "the daemon read none of its bytes" "rchar grew by $((rchar1 - rchar0))"
t "publish the copy" setfattr -n user.cafs.status -v Published "$M/other/generic/ns/big/1"
same "the copy's SHA-256 is the original's" "$(getfattr --absolute-names --only-values -n user.cafs.hash.sha256 "$M/other/generic/ns/big/1/big.bin" 2>&1)" "$(getfattr --absolute-names --only-values -n user.cafs.hash.sha256 "$M/team/generic/ns/big/1/big.bin" 2>&1)"
same "its first and last bytes" "$(head -c 3 "$M/other/generic/ns/big/1/big.bin")$(tail -c 3 "$M/other/generic/ns/big/1/big.bin")" "zzzzzz"
# a copy changed after the copy (a write into the file held by reference) gets its own bytes
cat >"$WORK/cfr.py" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
i = os.open(src, os.O_RDONLY); o = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
n = os.copy_file_range(i, o, os.fstat(i).st_size)
os.pwrite(o, b"HEAD", 0)
os.close(o); os.close(i)
PY
t "copy_file_range, then a write into the copy" bash -c "mkdir -p '$M/other/generic/ns/big/2' && python3 '$WORK/cfr.py' '$M/team/generic/ns/big/1/big.bin' '$M/other/generic/ns/big/2/big.bin' && setfattr -n user.cafs.status -v Published '$M/other/generic/ns/big/2'"
same "the copy has the write" "$(head -c 6 "$M/other/generic/ns/big/2/big.bin")" "HEADzz"
same "the original has not" "$(head -c 6 "$M/team/generic/ns/big/1/big.bin")" "zzzzzz"
same "one new blob for the changed copy" "$(find "$CAFS_STORE/wf/blobs" -type f | wc -l)" "$((blobs0 + 1))"

# An index page that has not changed keeps the kernel's cached pages between opens; one that
# changed never shows its old bytes to a new open, even when a handle still open on the old
# bytes reads them back into the cache after the change, and even when the new page has the
# old one's size and time (2.0 deleted, 3.0 published: the kernel then cannot tell by itself).
same "the root index does not list it yet" "$(grep -c 'href="cached/"' "$M/team/pypi/index.html")" "0"
t "cp cached 1.0 and 2.0 in" cp "$WORK/cached-1.0-py3-none-any.whl" "$WORK/cached-2.0-py3-none-any.whl" "$M/team/pypi/"
same "the root index lists it at once" "$(grep -c 'href="cached/"' "$M/team/pypi/index.html")" "1"
same "and ls" "$(ls "$M/team/pypi" | grep -c '^cached$')" "1"
# the kernel keeps listings; a change made by a cafs command shows in the very next ls
ls "$M/team/pypi" >/dev/null
C publish --domain wf --repository team "$WORK/listed-1.0-py3-none-any.whl" >/dev/null
same "ls right after a cafs command shows its change" "$(ls "$M/team/pypi" | grep -c '^listed$')" "1"
same "and so does ls -l of the package" "$(ls -l "$M/team/pypi/listed" | grep -c ' 1.0$')" "1"
cat >"$WORK/synth.py" <<'PY'
import os, subprocess, sys, time
p, cafs, wheel = sys.argv[1], sys.argv[2], sys.argv[3]
def whole(fd):
    return os.pread(fd, 1 << 20, 0).decode()
def fresh():
    with open(p) as f:
        return f.read()
def run(*args):
    subprocess.run([cafs, *args, "--domain", "wf", "--repository", "team"], check=True,
                   stdout=subprocess.DEVNULL)
a, b = fresh(), fresh()
assert a == b and "cached-2.0" in a and "cached-3.0" not in a, a
old = os.open(p, os.O_RDONLY)
st0 = os.stat(p)
run("delete-package-versions", "--format", "pypi", "--package", "cached", "--versions", "2.0")
run("publish", wheel)
time.sleep(0.6)                     # the invalidation thread's poll
new = os.open(p, os.O_RDONLY)       # renders the new page (the poll dropped the kernel's copy)
st1 = os.stat(p)
assert (st0.st_size, st0.st_mtime) == (st1.st_size, st1.st_mtime), "not the same size and time"
assert "cached-3.0" not in whole(old), "the old handle keeps its bytes"
got = fresh()                       # the old handle's read went into the cache meanwhile
assert "cached-3.0" in got, "a new open showed the old page: " + got
assert "cached-3.0" in whole(new), "the open before the old read"
os.close(old)
os.close(new)
for _ in range(3):
    got = fresh()
    assert "cached-3.0" in got and "cached-2.0" not in got, "after the old handle closed: " + got
PY
t "index pages: never stale after a change, while an older handle keeps its bytes" python3 "$WORK/synth.py" "$M/team/pypi/cached/index.html" "$CAFS" "$WORK/cached-3.0-py3-none-any.whl"

# A large file written into the mount becomes its blob without a second copy (the staging file
# is linked as the blob): the daemon writes its bytes once, not twice.
head -c $((16 * 1048576)) /dev/urandom >"$WORK/adopt.bin"
wchar0=$(awk '/^wchar/ {print $2}' "/proc/$DAEMON_PID/io")
t "cp a 16 MiB file in" bash -c "mkdir -p '$M/team/generic/ns/adopt/1' && cp '$WORK/adopt.bin' '$M/team/generic/ns/adopt/1/'"
wchar1=$(awk '/^wchar/ {print $2}' "/proc/$DAEMON_PID/io")
[ $((wchar1 - wchar0)) -lt $((24 * 1048576)) ] && pass "the daemon wrote its bytes once" || flunk "the daemon wrote its bytes once" "wchar grew by $((wchar1 - wchar0))"
same "its SHA-256" "$(getfattr --absolute-names --only-values -n user.cafs.hash.sha256 "$M/team/generic/ns/adopt/1/adopt.bin" 2>&1)" "$(sha256sum "$WORK/adopt.bin" | cut -d' ' -f1)"
# ...and a write after that publish, through a handle still open, never reaches the blob
cat >"$WORK/adopt.py" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"a" * (1 << 20))
os.close(os.dup(fd))            # a flush: publishes the 1 MiB of "a"
os.pwrite(fd, b"ZZZZ", 0)       # the same open file changes afterwards
try:
    os.close(fd)                # other bytes under a published name: refused
    sys.exit("the second publish was accepted")
except OSError as e:
    if e.errno != errno.EEXIST:
        raise
PY
t "write, flush, write again through the same open file" bash -c "mkdir -p '$M/team/generic/ns/adopt/2' && python3 '$WORK/adopt.py' '$M/team/generic/ns/adopt/2/a.bin'"
t "publish that version" setfattr -n user.cafs.status -v Published "$M/team/generic/ns/adopt/2"
same "the published bytes are the first ones" "$(head -c 4 "$M/team/generic/ns/adopt/2/a.bin")" "aaaa"
same "its SHA-256 is theirs" "$(sha256sum <"$M/team/generic/ns/adopt/2/a.bin" | cut -d' ' -f1)" "$(head -c 1048576 /dev/zero | tr '\0' a | sha256sum | cut -d' ' -f1)"
t "fsck: every blob holds the bytes its row says" bash -c "'$CAFS' fsck --domain wf | grep -q '\"clean\": true'"

unmount_domain
finish
