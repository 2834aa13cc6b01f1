# SPDX-License-Identifier: MIT
# Shared by the integration tests: a private store and mount point, a real mount through
# `cafs mount` (which returns once the mount is ready), an unmount that always runs, TAP
# helpers, and exit 77 (skip) only where FUSE is truly absent.
set -uo pipefail

CAFS=${CAFS:?set CAFS to the cafs binary}
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "1..0 # SKIP /dev/fuse or fusermount3 is not available"
	exit 77
fi
WORK=$(mktemp -d /tmp/cafs-it.XXXXXX)
export CAFS_STORE=$WORK/store
MNT=$WORK/mnt
mkdir -p "$MNT"
n=0
failed=0

DAEMON_PID=
cleanup() {
	# /proc/mounts, not mountpoint -q: a killed daemon leaves a mount that stat cannot see
	if grep -q " $MNT " /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	# never leave a daemon behind
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null
	pkill -f "cafs mount .*$MNT" 2>/dev/null
	if [ "$failed" -gt 0 ] && [ -s "$WORK/daemon.log" ]; then
		echo "# daemon log:"
		tail -80 "$WORK/daemon.log" | sed 's/^/# /'
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

pass() { n=$((n + 1)); echo "ok $n - $1"; }
flunk() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/# /' | head -20; return 0; }
# t NAME CMD...: the command must succeed
t() { local name=$1; shift; local out; if out=$("$@" 2>&1); then pass "$name"; else flunk "$name" "$out"; fi; }
# t_fail NAME ERRTEXT CMD...: the command must fail and print ERRTEXT
t_fail() {
	local name=$1 want=$2; shift 2; local out
	if out=$("$@" 2>&1); then flunk "$name (succeeded)" "$out"
	elif echo "$out" | grep -q -- "$want"; then pass "$name"
	else flunk "$name (wrong error)" "$out"; fi
}
# same NAME A B: two strings equal
same() { if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1" "got:  $2
want: $3"; fi; }

# The daemon runs in the foreground of a background job so that its log (and any sanitizer
# report) is kept in $WORK/daemon.log; readiness is a bounded poll of mountpoint.
mount_domain() { # DOMAIN
	"$CAFS" mount --domain "$1" --foreground "$MNT" >>"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "Bail out! cafs mount did not come up"
	sed 's/^/# /' "$WORK/daemon.log"
	exit 1
}
# kill_daemon_hard: SIGKILL the daemon, reap it and lift its dead mount. A daemon killed while a
# thread of it waits in the kernel (its invalidation thread notifying the kernel of a change
# waits for a folder's lock, which a lookup in flight holds while it waits for the daemon's
# answer) cannot finish dying: that thread keeps /dev/fuse open, so the kernel never fails the
# lookup. After 5 s the mount's FUSE connection is aborted through fusectl, as an administrator
# would, which fails what waits on it and lets the thread go; if even that does not free it,
# the test bails out rather than wait forever.
daemon_threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
kill_daemon_hard() {
	local pid=$DAEMON_PID dev
	[ -n "$pid" ] || { echo "Bail out! kill_daemon_hard: no daemon"; exit 1; }
	# the top mount on $MNT (a dead one may lie under it)
	dev=$(awk -v m="$MNT" '$5 == m { split($3, d, ":"); x = d[2] } END { print x }' /proc/self/mountinfo)
	kill -9 "$pid"
	for _ in $(seq 1 50); do
		# the main thread is a zombie at once; the process is gone when its last thread is
		[ "$(daemon_threads "$pid")" -le 1 ] && break
		sleep 0.1
	done
	if [ "$(daemon_threads "$pid")" -gt 1 ]; then
		echo "# the killed daemon is stuck in the kernel: aborting FUSE connection ${dev:-?}"
		mountpoint -q /sys/fs/fuse/connections || mount -t fusectl fusectl /sys/fs/fuse/connections
		[ -n "$dev" ] && echo 1 >"/sys/fs/fuse/connections/$dev/abort"
		for _ in $(seq 1 50); do
			[ "$(daemon_threads "$pid")" -le 1 ] && break
			sleep 0.1
		done
		if [ "$(daemon_threads "$pid")" -gt 1 ]; then
			echo "Bail out! the killed daemon $pid stays stuck after aborting connection ${dev:-?}"
			exit 1
		fi
	fi
	wait "$pid" 2>/dev/null
	DAEMON_PID=
	grep -q " $MNT " /proc/mounts && { fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"; }
	return 0
}
unmount_domain() {
	"$CAFS" umount "$MNT"
	# the daemon exits once unmounted; a crash shows in its status
	if [ -n "$DAEMON_PID" ]; then
		wait "$DAEMON_PID"
		local st=$?
		DAEMON_PID=
		[ "$st" -eq 0 ] && pass "daemon exited cleanly" || flunk "daemon exited cleanly (status $st)"
	fi
}
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
