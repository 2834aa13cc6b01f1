#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# npm, unmodified, against a mounted repository: npm has no file:// registry, so it installs
# tarball paths under the mount (several at once: a scoped package and the unscoped one it
# depends on), and `npm ci` reinstalls from the lockfile that names them. Tarballs built with
# `npm pack` are published into an upstream repository and read through the downstream one,
# which retains them. npm runs --offline against a registry that does not exist, so nothing
# here can be taken from, or even asked of, a real registry.
. "$(dirname "$0")/lib.sh"

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	echo "1..0 # SKIP needs node and npm"
	exit 77
fi
# npm's configuration for this test only: private cache, no user or global npmrc, no registry
unset $(env | grep -io '^npm_config_[a-z_]*' | sort -u) 2>/dev/null
export npm_config_cache=$WORK/npm-cache npm_config_userconfig=$WORK/npmrc npm_config_globalconfig=$WORK/npmrc-global \
	npm_config_registry=http://127.0.0.1:9/ npm_config_offline=true npm_config_audit=false npm_config_fund=false \
	npm_config_update_notifier=false npm_config_loglevel=warn
: >"$WORK/npmrc"; : >"$WORK/npmrc-global"

# --- two packages: @acme/greet depends on shout ----------------------------------------------------
mkdir -p "$WORK/src/shout" "$WORK/src/greet" "$WORK/tgz"
cat >"$WORK/src/shout/package.json" <<'EOF'
{"name": "shout", "version": "1.0.0", "description": "cafs test: shouts", "main": "index.js", "license": "MIT"}
EOF
echo 'module.exports = (s) => String(s).toUpperCase() + "!";' >"$WORK/src/shout/index.js"
cat >"$WORK/src/greet/package.json" <<'EOF'
{"name": "@acme/greet", "version": "1.0.0", "description": "cafs test: greets", "main": "index.js",
 "license": "MIT", "dependencies": {"shout": "^1.0.0"}}
EOF
echo 'const shout = require("shout"); module.exports = (who) => shout("hello " + who);' >"$WORK/src/greet/index.js"
for p in shout greet; do
	(cd "$WORK/src/$p" && npm pack --pack-destination "$WORK/tgz" >/dev/null 2>"$WORK/pack.log") || { cat "$WORK/pack.log"; echo "Bail out! npm pack"; exit 1; }
done
SHOUT_TGZ=$WORK/tgz/shout-1.0.0.tgz
GREET_TGZ=$WORK/tgz/acme-greet-1.0.0.tgz
integrity() { # the Subresource Integrity string npm writes into lockfiles
	node -e 'const c = require("crypto"), fs = require("fs");
		console.log("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

C() { "$CAFS" "$@" >/dev/null; }
C create-domain --domain npm-it
C create-repository --domain npm-it --repository npm-base
C create-repository --domain npm-it --repository app --upstreams repositoryName=npm-base
t "publish the npm tarballs into npm-base" "$CAFS" publish --domain npm-it --repository npm-base "$SHOUT_TGZ" "$GREET_TGZ"
mount_domain npm-it

GREET=$MNT/app/npm/@acme/greet/1.0.0/package.tgz
SHOUT=$MNT/app/npm/shout/1.0.0/package.tgz
t "scoped tarball through app" test -f "$GREET"
t "unscoped tarball through app" test -f "$SHOUT"

# --- npm install of tarball paths, several at once -----------------------------------------------
mkdir -p "$WORK/proj"
echo '{"name": "it-npm", "version": "1.0.0", "private": true}' >"$WORK/proj/package.json"
t "npm install --offline of the scoped and unscoped tarballs through app" \
	bash -c 'cd "$1" && npm install --offline --no-audit --no-fund "$2" "$3"' _ "$WORK/proj" "$GREET" "$SHOUT"
same "node requires the scoped package and its dependency" \
	"$(cd "$WORK/proj" && node -e 'console.log(require("@acme/greet")("cafs"))' 2>&1)" "HELLO CAFS!"
t "the unscoped package is installed" test -f "$WORK/proj/node_modules/shout/index.js"
LOCK=$WORK/proj/package-lock.json
same "the lockfile names the tarball under the mount" \
	"$(jq -r '.packages["node_modules/@acme/greet"].resolved' "$LOCK" 2>&1)" "file:../mnt/app/npm/@acme/greet/1.0.0/package.tgz"
same "the lockfile's integrity is the tarball's sha512" \
	"$(jq -r '.packages["node_modules/@acme/greet"].integrity' "$LOCK" 2>&1)" "$(integrity "$GREET_TGZ")"
same "the dependency is locked to the unscoped tarball" \
	"$(jq -r '.packages["node_modules/shout"] | .resolved + " " + .integrity' "$LOCK" 2>&1)" \
	"file:../mnt/app/npm/shout/1.0.0/package.tgz $(integrity "$SHOUT_TGZ")"

# --- retention: what npm read through app is app's now -------------------------------------------
versions() { # REPOSITORY [--namespace NS] PACKAGE
	local r=$1; shift
	"$CAFS" list-package-versions --domain npm-it --repository "$r" --format npm "$@" 2>&1 |
		jq -r '[.versions[].version] | join(",")' 2>&1
}
same "@acme/greet 1.0.0 retained into app" "$(versions app --namespace acme --package greet)" "1.0.0"
same "shout 1.0.0 retained into app" "$(versions app --package shout)" "1.0.0"
same "retained origin is npm-base" "$("$CAFS" describe-package-version --domain npm-it --repository app --format npm --namespace acme --package greet --package-version 1.0.0 | jq -r .packageVersion.origin.domainEntryPoint.repositoryName)" "npm-base"
same "the version folder says retained" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$MNT/app/npm/@acme/greet/1.0.0" 2>&1)" "yes"
same "npm-base keeps its own" "$(versions npm-base --namespace acme --package greet)" "1.0.0"

# --- npm ci from that lockfile, in a second project beside the first, with an empty cache ------
mkdir -p "$WORK/proj2"
cp "$WORK/proj/package.json" "$LOCK" "$WORK/proj2/"
t "npm ci --offline from the lockfile (fresh cache: bytes read from the mount)" \
	env npm_config_cache="$WORK/npm-cache2" bash -c 'cd "$1" && npm ci --offline --no-audit --no-fund' _ "$WORK/proj2"
same "node requires what npm ci installed" \
	"$(cd "$WORK/proj2" && node -e 'console.log(require("@acme/greet")("ci"))' 2>&1)" "HELLO CI!"
t "npm ci installed the same bytes" diff -r "$WORK/proj/node_modules/@acme" "$WORK/proj2/node_modules/@acme"
t "npm ci left the lockfile alone" cmp "$LOCK" "$WORK/proj2/package-lock.json"

# --- what npm cannot do offline fails clearly ----------------------------------------------------
mkdir -p "$WORK/proj3"
echo '{"name": "it-npm3", "version": "1.0.0", "private": true}' >"$WORK/proj3/package.json"
t_fail "a registry name (not a tarball path) is not fetched offline" "ENOTCACHED" \
	bash -c 'cd "$1" && npm install --offline --no-audit --no-fund left-pad' _ "$WORK/proj3"
t_fail "a tarball path that does not exist fails" "ENOENT" \
	bash -c 'cd "$1" && npm install --offline --no-audit --no-fund "$2"' _ "$WORK/proj3" "$MNT/app/npm/shout/9.9.9/package.tgz"

unmount_domain
t "unmounted" bash -c "! mountpoint -q '$MNT'"
finish
