#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: install the dependencies, build cafs, and show a demo domain:
# repositories with an upstream chain and an external connection, generic packages published
# into two repositories, and the domain counting their shared bytes once.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tools/deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
CAFS=$top/build/tools/cafs

export CAFS_STORE=${CAFS_STORE:-$top/build/demo-store}
rm -rf "$CAFS_STORE"
step() { printf '\n$ cafs %s\n' "$*"; "$CAFS" "$@"; }

echo "store: $CAFS_STORE"
step create-domain --domain demo --output text
step create-repository --domain demo --repository pypi-store --description "cache of the public PyPI" --output text
step associate-external-connection --domain demo --repository pypi-store --external-connection public:pypi --output text
step create-repository --domain demo --repository shared --upstreams repositoryName=pypi-store --output text
step create-repository --domain demo --repository team --upstreams repositoryName=shared repositoryName=pypi-store --output text
step describe-repository --domain demo --repository team

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 8388608 /dev/urandom >"$work/tool-linux-x86_64.tar.gz"
sha=$(sha256sum "$work/tool-linux-x86_64.tar.gz" | cut -d' ' -f1)
for repo in team shared; do
	step publish-package-version --domain demo --repository "$repo" --format generic \
		--namespace acme --package tool --package-version 1.0.0 \
		--asset-content "$work/tool-linux-x86_64.tar.gz" --asset-name tool-linux-x86_64.tar.gz \
		--asset-sha256 "$sha" --output text
done
echo
echo "# the same 8 MiB asset is in two repositories; the domain stores it once:"
step describe-domain --domain demo
echo
echo "# blob files on disk: $(find "$CAFS_STORE/demo/blobs" -type f | wc -l)"
echo "# a refusal names its exception and is audited:"
step update-repository --domain demo --repository pypi-store --upstreams repositoryName=team || true
step update-repository --domain demo --repository shared --upstreams repositoryName=team || true
step audit --domain demo --max-results 3 --output text
