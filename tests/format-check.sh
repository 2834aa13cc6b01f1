#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every C file of the tree is formatted by the project's .clang-format (STYLE.md B8).
set -euo pipefail
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
if ! command -v clang-format >/dev/null; then
	echo "SKIP: clang-format is not installed"
	exit 77
fi
bad=0
while IFS= read -r -d '' f; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done < <(find fs store policy tools tests -name '*.[ch]' -not -path '*/corpus/*' -print0)
exit $bad
