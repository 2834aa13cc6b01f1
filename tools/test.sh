#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the dependencies, build cafs twice (a normal build and one with AddressSanitizer and
# UndefinedBehaviorSanitizer), run every test suite on both, and end with "N passed, N failed".
# This is the README's test command and what .ci/run calls.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tools/deps.sh

status=0
run_suites() {
	local dir=$1; shift
	rm -rf "$dir"
	meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	ninja -C "$dir" || return 1
	meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
}

echo "== normal build =="
run_suites build || status=1
echo "== ASan + UBSan build =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suites build-asan -Db_sanitize=address,undefined -Dbuildtype=debug || status=1

python3 tools/test-summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
exit $status
