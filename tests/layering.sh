#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Module boundaries of STYLE.md B1, checked on the sources: which folder may include which
# library, and every header compiles on its own. Prints TAP.
set -uo pipefail
top=${1:?usage: layering.sh SOURCE-ROOT}
cd "$top"
n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# forbidden includes per folder
check_forbidden() {
	local dir=$1 pattern=$2 why=$3 hits
	hits=$(grep -nE "^#include [<\"]($pattern)" "$dir"/*.[ch] 2>/dev/null)
	[ -z "$hits" ]; result $? "$dir/ does not include $why"
	[ -n "$hits" ] && echo "$hits" | sed 's/^/# /'
}
check_forbidden policy 'sqlite3|xxhash|fuse|jansson|archive|openssl|expat|store/|fs/|tools/' "third-party, store, fs or tools headers"
check_forbidden store 'fuse|fs/|tools/' "fuse, fs or tools headers"
check_forbidden fs 'sqlite3|xxhash|jansson|archive|expat|tools/' "sqlite, xxhash, jansson, libarchive, expat or tools headers"
check_forbidden tools 'fuse|sqlite3|xxhash|archive' "fuse, sqlite, xxhash or libarchive headers"
# libarchive only in store/extract.c
hits=$(grep -lE '^#include <archive' store/*.c 2>/dev/null | grep -v '^store/extract.c$')
[ -z "$hits" ]; result $? "libarchive only in store/extract.c"

# public headers never include third-party headers, and each compiles alone
for h in policy/*.h store/*.h fs/*.h; do
	case "$h" in */internal.h) continue ;; esac
	if grep -qE '^#include <(sqlite3|xxhash|fuse|fuse_lowlevel|jansson|archive|openssl/[a-z]+|expat)\.h>' "$h"; then
		result 1 "$h includes no third-party header"
	else
		result 0 "$h includes no third-party header"
	fi
	echo "#include \"$h\"" | ${CC:-cc} -std=c17 -D_GNU_SOURCE -I. -Wall -Wextra -Werror -fsyntax-only -x c - 2>/dev/null
	result $? "$h compiles alone"
done
echo "1..$n"
[ "$failed" -eq 0 ]
