#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what building and testing cafs needs, from Debian 12's packages (run as root).
# Sourced or run by tools/demo.sh and tools/test.sh; safe to run again.
set -euo pipefail

CAFS_DEB_PACKAGES=(
	# build
	gcc meson ninja-build pkg-config
	# libraries (README: Dependencies)
	libfuse3-dev fuse3 libsqlite3-dev libxxhash-dev libjansson-dev libarchive-dev
	libssl-dev libexpat1-dev libcmocka-dev libcurl4-openssl-dev
	# tests and tooling
	jq python3 attr clang-format git unzip rsync tar
	# real packages the extraction and end-to-end tests read
	python3-pip-whl python3-setuptools-whl libcommons-lang3-java
	# end-to-end clients: Maven offline with Debian's plugins, pip
	maven libmaven-dependency-plugin-java libmaven-deploy-plugin-java junit4 python3-venv
	# the benchmark's comparison file systems (tools/bench)
	bindfs squashfuse squashfs-tools
)
# clients that may already come from elsewhere on the machine
command -v npm >/dev/null 2>&1 || CAFS_DEB_PACKAGES+=(npm)
python3 -m pip --version >/dev/null 2>&1 || CAFS_DEB_PACKAGES+=(python3-pip)

if [ "$(id -u)" -ne 0 ]; then
	missing=()
	for p in "${CAFS_DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "error: not root, and these packages are missing: ${missing[*]}" >&2
		echo "run as root, or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${CAFS_DEB_PACKAGES[@]}" >/dev/null
