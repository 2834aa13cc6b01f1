# SPDX-License-Identifier: MIT
# Shared by the command-line suites: a private store, and TAP helpers that run cafs and check
# its exit status, its error line and its JSON. Source it after setting CAFS.
set -uo pipefail

command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
WORK=$(mktemp -d /tmp/cafs-cli-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export CAFS_STORE=$WORK/store
unset XDG_DATA_HOME

n=0
failed=0
OUT=$WORK/out
ERR=$WORK/err

pass() { n=$((n + 1)); echo "ok $n - $1"; }
flunk() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/# stdout: /' "$OUT" | head -30
	sed 's/^/# stderr: /' "$ERR" | head -20
}

# ok NAME args...: cafs must exit 0
ok() {
	local name=$1; shift
	if "$CAFS" "$@" >"$OUT" 2>"$ERR"; then pass "$name"; else flunk "$name (exit $?)"; fi
}

# refused NAME EXIT EXCEPTION args...: must exit EXIT, name EXCEPTION on stderr, print nothing
refused() {
	local name=$1 want=$2 exc=$3; shift 3
	"$CAFS" "$@" >"$OUT" 2>"$ERR"
	local got=$?
	if [ "$got" -eq "$want" ] && grep -q "^error: $exc: " "$ERR" && [ ! -s "$OUT" ]; then
		pass "$name"
	else
		flunk "$name (exit $got, want $want and $exc)"
	fi
}

# usage NAME args...: must exit 2 with a usage message
usage() {
	local name=$1; shift
	"$CAFS" "$@" >"$OUT" 2>"$ERR"
	local got=$?
	if [ "$got" -eq 2 ] && grep -q "usage" "$ERR"; then pass "$name"; else flunk "$name (exit $got)"; fi
}

# check NAME JQ-EXPR: the last stdout satisfies the jq expression
check() {
	if jq -e "$2" "$OUT" >/dev/null 2>&1; then pass "$1"; else flunk "$1: $2"; fi
}
