#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The write side of the mount, tool by tool: cp, cp -a, install, rsync -a, tar --xattrs into a
# staging folder and mv into place, shell redirects, mkdir/rmdir of repositories and pending
# folders, rm of assets and versions, status and origin xattrs, same-bytes and other-bytes
# conflicts, refusals with their errno, and cp inside the mount. Prints TAP.
set -uo pipefail
CAFS=${CAFS:?set CAFS to the cafs binary}
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "1..0 # SKIP /dev/fuse or fusermount3 is not available"
	exit 77
fi
WORK=$(mktemp -d /tmp/cafs-smoke.XXXXXX)
export CAFS_STORE=$WORK/store
MNT=$WORK/mnt
mkdir -p "$MNT"
PID=
n=0 failed=0
cleanup() {
	# /proc/mounts, not mountpoint -q: a crashed daemon leaves a mount that stat cannot see
	if grep -q " $MNT " /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
	fi
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	if [ "${KEEP:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
ok() { n=$((n+1)); echo "ok $n - $1"; }
no() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /' | head -15; }
t() { local name=$1; shift; local out; if out=$("$@" 2>&1); then ok "$name"; else no "$name" "$out"; fi; }
t_fail() { local name=$1 want=$2; shift 2; local out; if out=$("$@" 2>&1); then no "$name (succeeded)" "$out"; elif echo "$out" | grep -q -- "$want"; then ok "$name"; else no "$name (wrong error)" "$out"; fi; }
same() { if [ "$2" = "$3" ]; then ok "$1"; else no "$1" "got:  $2
want: $3"; fi; }

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
def wheel(name, version, path):
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/__init__.py", "# hi\n")
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
        z.writestr(f"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        z.writestr(f"{name}-{version}.dist-info/RECORD", "")
wheel("demo", "1.0", f"{w}/demo-1.0-py3-none-any.whl")
wheel("demo", "2.0", f"{w}/demo-2.0-py3-none-any.whl")
wheel("other", "1.0", f"{w}/other-1.0-py3-none-any.whl")
wheel("rsyncd", "1.0", f"{w}/rsyncd-1.0-py3-none-any.whl")
wheel("tarred", "1.0", f"{w}/tarred-1.0-py3-none-any.whl")
PY
"$CAFS" create-domain --domain dd >/dev/null
"$CAFS" create-repository --domain dd --repository team >/dev/null
"$CAFS" create-repository --domain dd --repository team2 >/dev/null
"$CAFS" mount --domain dd --foreground "$MNT" >"$WORK/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { echo "Bail out! no mount"; cat "$WORK/daemon.log"; exit 1; }
M=$MNT

# --- pypi: cp a wheel into the format folder --------------------------------------------------
t "cp wheel into r/pypi/" cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/"
same "published where its metadata says" "$(ls "$M/team/pypi/demo/1.0/" 2>&1)" "demo-1.0-py3-none-any.whl
demo-1.0-py3-none-any.whl.metadata"
same "same bytes" "$(sha256sum <"$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl")" "$(sha256sum <"$WORK/demo-1.0-py3-none-any.whl")"
grep -q "demo-1.0-py3-none-any.whl" "$M/team/pypi/demo/index.html" && ok "index page lists it at once" || no "index page lists it at once" "$(cat "$M/team/pypi/demo/index.html")"
same "the written name does not stay" "$(ls "$M/team/pypi" | tr '\n' ' ')" "demo index.html "
t "cp the same wheel again (same bytes) succeeds" cp "$WORK/demo-1.0-py3-none-any.whl" "$M/team/pypi/"
t "mkdir version folder then cp" bash -c "mkdir '$M/team/pypi/demo/2.0' && cp '$WORK/demo-2.0-py3-none-any.whl' '$M/team/pypi/demo/2.0/'"
same "2.0 listed" "$(ls "$M/team/pypi/demo" | tr '\n' ' ')" "1.0 2.0 index.html "
t_fail "wrong metadata for the path is EINVAL" "Invalid argument" cp "$WORK/other-1.0-py3-none-any.whl" "$M/team/pypi/demo/1.0/"
t_fail "not a wheel is EINVAL" "Invalid argument" cp /etc/hostname "$M/team/pypi/junk.txt"
t_fail "a refused file leaves nothing" "No such file" stat "$M/team/pypi/junk.txt"
t_fail "other bytes under a published name is EEXIST" "File exists" bash -c "cp '$WORK/demo-2.0-py3-none-any.whl' '$WORK/x.whl' && printf 'junk' >>'$WORK/x.whl' && cp '$WORK/x.whl' '$M/team/pypi/demo/2.0/demo-2.0-py3-none-any.whl'"
same "refused overwrite kept the old bytes" "$(sha256sum <"$M/team/pypi/demo/2.0/demo-2.0-py3-none-any.whl")" "$(sha256sum <"$WORK/demo-2.0-py3-none-any.whl")"

# --- generic ------------------------------------------------------------------------------------
printf 'generic bytes\n' >"$WORK/x.txt"
t "mkdir -p generic version folder (pending)" mkdir -p "$M/team/generic/ns/pkg/1"
t "pending folder is a folder" test -d "$M/team/generic/ns/pkg/1"
t "cp x into generic version" cp "$WORK/x.txt" "$M/team/generic/ns/pkg/1/"
same "generic file listed" "$(ls "$M/team/generic/ns/pkg/1" | tr '\n' ' ')" "x.txt "
same "generic version is Unfinished" "$(getfattr --absolute-names --only-values -n user.cafs.status "$M/team/generic/ns/pkg/1" 2>&1)" "Unfinished"
t "echo hi > generic file" bash -c "echo hi >'$M/team/generic/ns/pkg/1/hi.txt'"
same "generic listing" "$(ls "$M/team/generic/ns/pkg/1" | tr '\n' ' ')" "hi.txt x.txt "
t "setfattr status Published on generic version" setfattr -n user.cafs.status -v Published "$M/team/generic/ns/pkg/1"
same "generic bytes readable once Published" "$(cat "$M/team/generic/ns/pkg/1/hi.txt" 2>&1)" "hi"
t_fail "write into a Published generic version is refused" "Read-only\|not permitted\|File exists" cp "$WORK/x.txt" "$M/team/generic/ns/pkg/1/more.txt"

# --- atomic staging folder: cp -r build .2 && mv .2 2 ----------------------------------------
mkdir -p "$WORK/build" && printf 'a\n' >"$WORK/build/a.txt" && printf 'b\n' >"$WORK/build/b.txt"
t "cp -r build into a dot folder" cp -r "$WORK/build" "$M/team/generic/ns/pkg/.2"
same "the dot folder is listed" "$(ls -a "$M/team/generic/ns/pkg" | tr '\n' ' ')" ". .. .2 1 "
same "its files are there" "$(cat "$M/team/generic/ns/pkg/.2/a.txt" 2>&1)" "a"
t_fail "rsync-like rename of plain file is EXDEV" "cross-device\|Invalid cross" python3 -c "import os; os.rename('$M/team/generic/ns/pkg/1/x.txt', '$M/team/generic/ns/pkg/1/y.txt')"
t "mv .2 2 publishes the version" mv "$M/team/generic/ns/pkg/.2" "$M/team/generic/ns/pkg/2"
same "version 2 published at once" "$(getfattr --absolute-names --only-values -n user.cafs.status "$M/team/generic/ns/pkg/2" 2>&1)" "Published"
same "version 2 files" "$(ls "$M/team/generic/ns/pkg/2" | tr '\n' ' ')" "a.txt b.txt "
same "version 2 bytes" "$(cat "$M/team/generic/ns/pkg/2/b.txt" 2>&1)" "b"
same "the dot folder went" "$(ls -a "$M/team/generic/ns/pkg" | tr '\n' ' ')" ". .. 1 2 "

# --- rsync ------------------------------------------------------------------------------------
t "rsync -a a wheel into r/pypi/" rsync -a "$WORK/rsyncd-1.0-py3-none-any.whl" "$M/team/pypi/"
t "rsync'd wheel published" test -f "$M/team/pypi/rsyncd/1.0/rsyncd-1.0-py3-none-any.whl"
t "rsync -a again (same bytes)" rsync -a -I "$WORK/rsyncd-1.0-py3-none-any.whl" "$M/team/pypi/"
t "rsync -aX a folder into a generic version" rsync -aX "$WORK/build/" "$M/team/generic/ns/pkg/3/"
same "rsync'd generic files" "$(ls "$M/team/generic/ns/pkg/3" 2>&1 | tr '\n' ' ')" "a.txt b.txt "

# --- tar --xattrs (mknod) into a dot folder, then mv -----------------------------------------
mkdir -p "$WORK/tarsrc/.4" && cp "$WORK/build/a.txt" "$WORK/tarsrc/.4/" && setfattr -n user.foo -v bar "$WORK/tarsrc/.4/a.txt" 2>/dev/null
t "tar --xattrs extract into generic package" bash -c "tar -C '$WORK/tarsrc' --xattrs -cf - .4 | tar -C '$M/team/generic/ns/pkg' --xattrs -xf -"
t "mv .4 4" mv "$M/team/generic/ns/pkg/.4" "$M/team/generic/ns/pkg/4"
same "tar'd version bytes" "$(cat "$M/team/generic/ns/pkg/4/a.txt" 2>&1)" "a"
t "tar --xattrs a wheel straight into pypi/" bash -c "tar -C '$WORK' --xattrs -cf - tarred-1.0-py3-none-any.whl | tar -C '$M/team/pypi' --xattrs -xf -"
t "tar'd wheel published" test -f "$M/team/pypi/tarred/1.0/tarred-1.0-py3-none-any.whl"

# --- cp inside the mount: copy_file_range ------------------------------------------------------
t "cp inside the mount (team -> team2)" cp "$M/team/pypi/demo/1.0/demo-1.0-py3-none-any.whl" "$M/team2/pypi/"
same "copied bytes" "$(sha256sum <"$M/team2/pypi/demo/1.0/demo-1.0-py3-none-any.whl" 2>&1)" "$(sha256sum <"$WORK/demo-1.0-py3-none-any.whl")"
grep -q "copy_file_range\|COPY_FILE_RANGE" "$WORK/daemon.log" && no "no copy_file_range error logged" "$(grep copy_file_range "$WORK/daemon.log")" || ok "no copy_file_range error logged"

# --- install: chmod after close ----------------------------------------------------------------
t "install -m 644 a wheel into pypi/" install -m 644 "$WORK/other-1.0-py3-none-any.whl" "$M/team/pypi/"
t "install'd wheel published" test -f "$M/team/pypi/other/1.0/other-1.0-py3-none-any.whl"
t "cp -a a file (times, mode, xattrs)" bash -c "mkdir '$M/team/generic/ns/pkg/5' && cp -a '$WORK/build/a.txt' '$M/team/generic/ns/pkg/5/a.txt'"
same "cp -a'd file listed" "$(ls "$M/team/generic/ns/pkg/5" 2>&1)" "a.txt"

# --- mkdir / rmdir / rm -------------------------------------------------------------------------
t "mkdir newrepo creates a repository" mkdir "$M/newrepo"
same "newrepo listed" "$(ls "$M" | tr '\n' ' ')" "newrepo team team2 "
same "newrepo is a repository" "$("$CAFS" describe-repository --domain dd --repository newrepo | jq -r .repository.name)" "newrepo"
t "rmdir newrepo deletes it" rmdir "$M/newrepo"
same "newrepo gone" "$(ls "$M" | tr '\n' ' ')" "team team2 "
t "mkdir pending folder, rmdir forgets it" bash -c "mkdir -p '$M/team/maven/com/acme' && rmdir '$M/team/maven/com/acme' && rmdir '$M/team/maven/com'"
t_fail "mkdir of nonsense in a repository is refused" "not permitted\|Invalid" mkdir "$M/team/notaformat"
t "rm an asset of an Unfinished generic version" rm "$M/team/generic/ns/pkg/3/a.txt"
same "asset gone" "$(ls "$M/team/generic/ns/pkg/3" | tr '\n' ' ')" "b.txt "
t "rm -r a version folder" rm -r "$M/team/generic/ns/pkg/3"
t_fail "version 3 gone" "No such file" stat "$M/team/generic/ns/pkg/3"

# --- xattrs: status ----------------------------------------------------------------------------
t "setfattr status Archived" setfattr -n user.cafs.status -v Archived "$M/team/pypi/demo/1.0"
same "status reads Archived" "$(getfattr --absolute-names --only-values -n user.cafs.status "$M/team/pypi/demo/1.0")" "Archived"
grep -q "demo-1.0" "$M/team/pypi/demo/index.html" && no "Archived left out of the index at once" || ok "Archived left out of the index at once"
t_fail "read-only xattr is EROFS" "Read-only" setfattr -n user.cafs.revision -v x "$M/team/pypi/demo/2.0"
t "foreign user.* xattr absorbed" setfattr -n user.foo -v bar "$M/team/pypi/demo/2.0"
t_fail "posix ACL is EOPNOTSUPP" "Operation not supported" setfattr -n system.posix_acl_access -v 0x0200000001000600ffffffff04000400ffffffff20000400ffffffff "$M/team/pypi/demo/2.0"
t "removexattr user.cafs.status absorbed" setfattr -x user.cafs.status "$M/team/pypi/demo/2.0"

# --- truncate / chmod / touch ------------------------------------------------------------------
t_fail "truncate of a published asset is EROFS" "Read-only" truncate -s 0 "$M/team/pypi/demo/2.0/demo-2.0-py3-none-any.whl"
t "chmod of a published asset absorbed" chmod 600 "$M/team/pypi/demo/2.0/demo-2.0-py3-none-any.whl"
t "touch of a folder absorbed" touch "$M/team/pypi/demo/2.0"
t_fail "rename of a published file is EXDEV" "cross-device" python3 -c "import os; os.rename('$M/team/pypi/demo/2.0', '$M/team/pypi/demo/2.1')"
t_fail "symlink is EPERM" "not permitted" ln -s x "$M/team/pypi/l"

# --- a dot file: private until renamed ---------------------------------------------------------
t "write a dot file" bash -c "cp '$WORK/demo-2.0-py3-none-any.whl' '$M/team2/pypi/.tmp.whl'"
same "dot file shows" "$(ls -a "$M/team2/pypi" | tr '\n' ' ')" ". .. .tmp.whl demo index.html "
t "dot file not published" bash -c "! test -e '$M/team2/pypi/demo/2.0'"
t "rename dot file to its plain name publishes" python3 -c "import os; os.rename('$M/team2/pypi/.tmp.whl', '$M/team2/pypi/demo-2.0-py3-none-any.whl')"
t "r2 has demo 2.0" test -f "$M/team2/pypi/demo/2.0/demo-2.0-py3-none-any.whl"
t "write and unlink a dot file" bash -c "echo x >'$M/team2/pypi/.gone' && rm '$M/team2/pypi/.gone' && ! test -e '$M/team2/pypi/.gone'"


# --- more staging: NOREPLACE, moves inside a dot tree, rsync into a dot folder ------------------
cat >"$WORK/rn2.py" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 1)  # RENAME_NOREPLACE
if r != 0:
    e = ctypes.get_errno(); print(os.strerror(e)); sys.exit(1)
PY
t "write dot file for NOREPLACE" cp "$WORK/demo-2.0-py3-none-any.whl" "$M/team/pypi/.d2.whl"
t_fail "RENAME_NOREPLACE onto a published name is EEXIST" "File exists" python3 "$WORK/rn2.py" "$M/team/pypi/.d2.whl" "$M/team/pypi/demo"
t "plain rename onto an existing name: same bytes publish" python3 -c "import os; os.rename('$M/team/pypi/.d2.whl', '$M/team/pypi/demo-2.0-py3-none-any.whl')"
t "mkdir a dot folder with a sub folder" mkdir -p "$M/team/generic/ns/pkg/.6/sub"
t "write into the sub folder" cp "$WORK/build/a.txt" "$M/team/generic/ns/pkg/.6/sub/a.txt"
t "move a file inside the dot tree" mv "$M/team/generic/ns/pkg/.6/sub/a.txt" "$M/team/generic/ns/pkg/.6/a.txt"
t "rmdir the empty sub folder" rmdir "$M/team/generic/ns/pkg/.6/sub"
t "rename dot folder to dot folder" mv "$M/team/generic/ns/pkg/.6" "$M/team/generic/ns/pkg/.7"
same "moved tree listing" "$(ls -a "$M/team/generic/ns/pkg/.7" | tr '\n' ' ')" ". .. a.txt "
same "moved file bytes" "$(cat "$M/team/generic/ns/pkg/.7/a.txt")" "a"
t_fail "rmdir a non-empty dot folder" "not empty" rmdir "$M/team/generic/ns/pkg/.7"
t "mv .7 7 publishes" mv "$M/team/generic/ns/pkg/.7" "$M/team/generic/ns/pkg/7"
same "7 Published" "$(getfattr --absolute-names --only-values -n user.cafs.status "$M/team/generic/ns/pkg/7" 2>&1)" "Published"
t "rsync -a into a dot folder" rsync -a "$WORK/build/" "$M/team/generic/ns/pkg/.8/"
same "rsync left no temp files" "$(ls -a "$M/team/generic/ns/pkg/.8" | tr '\n' ' ')" ". .. a.txt b.txt "
t "mv .8 8 publishes" mv "$M/team/generic/ns/pkg/.8" "$M/team/generic/ns/pkg/8"
same "8 files" "$(ls "$M/team/generic/ns/pkg/8" | tr '\n' ' ')" "a.txt b.txt "
t "mv an empty dot folder to a plain name makes a pending folder" bash -c "mkdir '$M/team/generic/ns/pkg/.9' && mv '$M/team/generic/ns/pkg/.9' '$M/team/generic/ns/pkg/9' && test -d '$M/team/generic/ns/pkg/9' && rmdir '$M/team/generic/ns/pkg/9'"
strace -f -e trace=mknodat,mknod -o "$WORK/tar.strace" bash -c "tar -C '$WORK/tarsrc' --xattrs -cf - .4 | tar -C '$M/team/generic/ns/pkg' --xattrs -xf -" 2>/dev/null
grep -q "mknodat(.*a.txt" "$WORK/tar.strace" && ok "tar --xattrs made its file with mknod" || no "tar --xattrs made its file with mknod" "$(cat "$WORK/tar.strace")"
t "and it is staged with its bytes" test "$(cat "$M/team/generic/ns/pkg/.4/a.txt")" = a

# --- unmount ----------------------------------------------------------------------------------
t "unmount" fusermount3 -u "$MNT"
wait "$PID"; st=$?; PID=
same "daemon exited cleanly" "$st" "0"
echo "# daemon log:"; sed 's/^/#   /' "$WORK/daemon.log" | tail -40
echo "1..$n"
[ "$failed" -eq 0 ]
