#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile names and writes through the mount: "..", overlong names, names the format cannot
# have, a 6 GB sparse file (the 5 GB asset quota: EFBIG), a file that is not the package it
# claims, a truncated archive: each refused with its errno, the daemon alive, nothing stored,
# no blob and no temp file left. Prints TAP.
. "$(dirname "$0")/lib.sh"

C() { "$CAFS" "$@"; }
D=(--domain hostile)
C create-domain "${D[@]}" >/dev/null
C create-repository "${D[@]}" --repository rr >/dev/null
mount_domain hostile
M=$MNT
blobs() { find "$CAFS_STORE/hostile/blobs" -type f | wc -l; }
tmps() { find "$CAFS_STORE/hostile/tmp" -maxdepth 1 -type f | wc -l; }
b0=$(blobs)

long=$(printf 'x%.0s' $(seq 1 300))
t_fail "a 300-character name: ENAMETOOLONG" "File name too long" touch "$M/rr/generic/$long"
# the kernel resolves ".." itself; the command line hands names over as they are
echo x >"$WORK/evil"
t_fail "an asset name with ..: ValidationException" "ValidationException" C publish-package-version "${D[@]}" --repository rr --format generic --namespace ns --package evil --package-version 1 --asset-content "$WORK/evil" --asset-name ../evil --asset-sha256 "$(sha256sum <"$WORK/evil" | cut -d" " -f1)"
t_fail "a version '..': ValidationException" "ValidationException" C publish-package-version "${D[@]}" --repository rr --format generic --namespace ns --package evil --package-version .. --asset-content "$WORK/evil" --asset-name evil --asset-sha256 "$(sha256sum <"$WORK/evil" | cut -d" " -f1)"
t_fail "a version folder name pip cannot have" "Invalid argument" mkdir -p "$M/rr/pypi/Bad_Name/1.0"
t_fail "an npm upper-case name" "Invalid argument" mkdir -p "$M/rr/npm/UPPER/1.0.0"
echo "not a wheel" >"$WORK/fake-1.0-py3-none-any.whl"
t_fail "a file that is not a wheel: refused at close" "Invalid argument" cp "$WORK/fake-1.0-py3-none-any.whl" "$M/rr/pypi/"
python3 - "$WORK" <<'PY'
import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("trunc/__init__.py", "x" * 100000)
    z.writestr("trunc-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: trunc\nVersion: 1.0\n")
open(f"{sys.argv[1]}/trunc-1.0-py3-none-any.whl", "wb").write(buf.getvalue()[: len(buf.getvalue()) // 2])
PY
t_fail "a truncated wheel: refused at close" "Invalid argument" cp "$WORK/trunc-1.0-py3-none-any.whl" "$M/rr/pypi/"
truncate -s 6G "$WORK/sparse.bin"
mkdir -p "$M/rr/generic/ns/big/1" 2>/dev/null
t_fail "a 6 GB (sparse) file: EFBIG" "File too large" cp --sparse=always "$WORK/sparse.bin" "$M/rr/generic/ns/big/1/"
rm -f "$WORK/sparse.bin"
printf 'x' >"$WORK/tiny"
t_fail "a write past the quota with dd: EFBIG" "File too large" dd if="$WORK/tiny" of="$M/rr/generic/ns/big/1/past.bin" bs=1 seek=5000000001 conv=notrunc status=none
t "the daemon is alive" ls "$M/rr"
same "nothing was published" "$(C list-packages "${D[@]}" --repository rr | jq '.packages | length')" "0"
same "no blob was stored" "$(blobs)" "$b0"
same "no temp file is left" "$(tmps)" "0"
unmount_domain
finish
