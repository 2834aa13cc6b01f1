#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pip, unmodified, against a mounted repository as a file:// index: Debian's real wheels
# published into an upstream repository and installed through the downstream one; PEP 658
# metadata; an Unlisted (yanked) version taken only when pinned.
. "$(dirname "$0")/lib.sh"

PY=${PYTHON:-python3}
if ! "$PY" -m pip --version >/dev/null 2>&1; then
	echo "1..0 # SKIP no pip for $PY"
	exit 77
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
for v in ("1.0", "2.0"):
    with zipfile.ZipFile(f"{w}/yankme-{v}-py3-none-any.whl", "w") as z:
        z.writestr("yankme/__init__.py", f"VERSION = {v!r}\n")
        z.writestr(f"yankme-{v}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: yankme\nVersion: {v}\n")
        z.writestr(f"yankme-{v}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"yankme-{v}.dist-info/RECORD", "")
PY
"$CAFS" create-domain --domain py >/dev/null
"$CAFS" create-repository --domain py --repository pypi-base >/dev/null
"$CAFS" create-repository --domain py --repository team --upstreams repositoryName=pypi-base >/dev/null
"$CAFS" publish --domain py --repository pypi-base /usr/share/python-wheels/*.whl >/dev/null || { echo "Bail out! publish"; exit 1; }
"$CAFS" publish --domain py --repository team "$WORK"/yankme-*.whl >/dev/null
"$CAFS" update-package-versions-status --domain py --repository team --format pypi --package yankme --versions 2.0 --target-status Unlisted >/dev/null
mount_domain py
INDEX=file://$MNT/team/pypi/
SETUPTOOLS=$(basename /usr/share/python-wheels/setuptools-*.whl | cut -d- -f2)

t "pip download through the downstream repository" "$PY" -m pip --isolated download --index-url "$INDEX" -d "$WORK/dl" "setuptools==$SETUPTOOLS"
cmp -s "$WORK/dl/setuptools-$SETUPTOOLS-py3-none-any.whl" /usr/share/python-wheels/setuptools-*.whl && pass "downloaded wheel is byte-identical" || flunk "downloaded wheel is byte-identical"
t "pip install --target through the mount" "$PY" -m pip --isolated install --index-url "$INDEX" --target "$WORK/site" setuptools
t "installed package imports" env PYTHONPATH="$WORK/site" "$PY" -c "import setuptools"
same "the version read was retained into team" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$MNT/team/pypi/setuptools/$SETUPTOOLS")" "yes"
t "yanked version skipped unless pinned" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/y1" yankme
t "the unpinned download is 1.0" test -f "$WORK/y1/yankme-1.0-py3-none-any.whl"
t "pinned yanked version is taken" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/y2" "yankme==2.0"
t "the pinned download is 2.0" test -f "$WORK/y2/yankme-2.0-py3-none-any.whl"
t_fail "a package nobody has" "No matching distribution" "$PY" -m pip --isolated download --no-deps --index-url "$INDEX" -d "$WORK/y3" not-there-anywhere

unmount_domain
finish
