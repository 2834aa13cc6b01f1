#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: install the dependencies, build cafs, and show a demo domain at
# work: repositories with an upstream chain, Debian's real wheels and a real jar published into
# the upstream end, the domain mounted, browsed with ls and getfattr, and pip installing from
# it through the downstream repository as a file:// index. `--keep` leaves it mounted.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
keep=false
[ "${1:-}" = "--keep" ] && keep=true

bash tools/deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
CAFS=$top/build/tools/cafs

export CAFS_STORE=${CAFS_STORE:-$top/build/demo-store}
MNT=${CAFS_DEMO_MOUNT:-$top/build/demo-mnt}
if mountpoint -q "$MNT" 2>/dev/null; then
	"$CAFS" umount "$MNT"
fi
rm -rf "$CAFS_STORE"
mkdir -p "$MNT"
work=$(mktemp -d)
cleanup() {
	rm -rf "$work"
	if ! $keep && mountpoint -q "$MNT" 2>/dev/null; then
		"$CAFS" umount "$MNT" || fusermount3 -uz "$MNT"
	fi
}
trap cleanup EXIT
step() { printf '\n$ %s\n' "$*"; "$@"; }
cafs() { printf '\n$ cafs %s\n' "$*"; "$CAFS" "$@"; }

echo "store: $CAFS_STORE"
cafs create-domain --domain demo --output text
cafs create-repository --domain demo --repository pypi-store --description "Python packages" --output text
cafs create-repository --domain demo --repository shared --upstreams repositoryName=pypi-store --output text
cafs create-repository --domain demo --repository team --upstreams repositoryName=shared --output text
cafs publish --domain demo --repository pypi-store /usr/share/python-wheels/*.whl --output text
JAR=$(ls /usr/share/maven-repo/org/apache/commons/commons-lang3/3.*/commons-lang3-3.*.jar | grep -v 3.x | head -1)
cafs publish --domain demo --repository shared "$JAR" --output text

head -c 8388608 /dev/urandom >"$work/tool-linux-x86_64.tar.gz"
sha=$(sha256sum "$work/tool-linux-x86_64.tar.gz" | cut -d' ' -f1)
for repo in team shared; do
	cafs publish-package-version --domain demo --repository "$repo" --format generic \
		--namespace acme --package tool --package-version 1.0.0 \
		--asset-content "$work/tool-linux-x86_64.tar.gz" --asset-name tool-linux-x86_64.tar.gz \
		--asset-sha256 "$sha" --output text
done
echo
echo "# one 8 MiB asset in two repositories, stored once:"
cafs describe-domain --domain demo
echo "# a refusal names its exception and is audited:"
cafs update-repository --domain demo --repository pypi-store --upstreams repositoryName=team || true

cafs mount --domain demo "$MNT"
step ls "$MNT" "$MNT/team" "$MNT/team/pypi"
step cat "$MNT/team/pypi/pip/index.html"
step ls -l "$MNT/team/maven/org/apache/commons/commons-lang3/"*/
step getfattr -d "$MNT/team/pypi/setuptools/"*/
step python3 -m pip --isolated install --disable-pip-version-check --no-cache-dir --target "$work/site" \
	--index-url "file://$MNT/team/pypi/" setuptools
echo
echo "# the version pip read is now retained in 'team' (and only there):"
cafs list-package-versions --domain demo --repository team --format pypi --package setuptools --output text
cafs audit --domain demo --max-results 3 --output text
if $keep; then
	echo
	echo "mounted at $MNT (cafs umount $MNT when done)"
fi
