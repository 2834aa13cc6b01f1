#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Many writers and readers on one domain at once: CAFS_CONC_PROCS processes (default 8) each
# make CAFS_CONC_PUBLISHES publishes (default 30; the full run is 200) of wheels, npm tarballs
# and generic files drawn from a small pool, so that names, versions and bytes overlap (two
# variants of every file: the same bytes twice succeed, other bytes under a taken name are a
# conflict), into three repositories, half through the mount (cp) and half through the CLI
# (cafs publish, publish-package-version). Meanwhile readers cat assets through the mount in a
# loop and pip downloads from it as a file:// index. Checked: every read returned the whole
# bytes of one of the candidate files for that path, and the same bytes every time (no torn
# read, no change once visible); no acknowledged publish is lost (each is stored with the
# bytes acknowledged); every refusal is a conflict (cp: "File exists", the CLI:
# ConflictException) and nothing else; no "database is locked" / SQLITE_BUSY / throttling
# surfaces anywhere (outputs and the daemon log); fsck is clean at the end. Two cp's of one
# new path at the same time are tried on their own too: at most one may succeed, and what is
# published is one of them whole (a second writer of a path being written gets EEXIST).
#
# Full run:
#   CAFS=build/tools/cafs CAFS_CONC_PUBLISHES=200 tests/integration/12-concurrency.sh
# Prints TAP.
. "$(dirname "$0")/lib.sh"

PROCS=${CAFS_CONC_PROCS:-8}
EACH=${CAFS_CONC_PUBLISHES:-30}
PY=${PYTHON:-python3}
START=$SECONDS
DOM=cc
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS
HAVE_PIP=1
"$PY" -m pip --version >/dev/null 2>&1 || HAVE_PIP=

# cleanup by process id only
PIDS=()
cleanup() {
	touch "$WORK/stop" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if grep -q " $MNT " /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	fi
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ "$failed" -gt 0 ] && [ -s "$WORK/daemon.log" ]; then
		echo "# daemon log (last lines):"
		tail -40 "$WORK/daemon.log" | sed 's/^/# /'
	fi
	if [ -n "${KEEP:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}

# --- the pool and each writer's list of publishes ---------------------------------------------
# pool: "fmt ns name ver asset sha file" per candidate file (two variants per asset)
# ops.P: "how fmt repo ns name ver asset sha file"
"$PY" - "$WORK" "$PROCS" "$EACH" <<'PY'
import hashlib, io, json, os, random, sys, tarfile, zipfile
w, procs, each = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(12)
for var in "ab":
    os.makedirs(f"{w}/files/{var}")
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
pool = {}  # (fmt, name, ver, asset) -> [(sha, path), (sha, path)]
def sha(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
for k in range(5):
    for v in range(10):
        for var in "ab":
            pad = rnd.randbytes(rnd.choice([500, 5000, 50000, 200000]))
            name, ver = f"cc{k}", f"1.{v}"
            asset = f"{name}-{ver}-py3-none-any.whl"
            p = f"{w}/files/{var}/{asset}"
            with zipfile.ZipFile(p, "w") as z:
                z.writestr(f"{name}-{ver}.dist-info/METADATA",
                           f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n\nvariant {var}\n")
                z.writestr(f"{name}-{ver}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
                z.writestr(f"{name}-{ver}.dist-info/RECORD", "")
                z.writestr(f"{name}/pad.bin", pad, compress_type=zipfile.ZIP_STORED)
            pool.setdefault(("pypi", "-", name, ver, asset), []).append((sha(p), p))
            name, ver = f"cn{k}", f"1.0.{v}"
            p = f"{w}/files/{var}/{name}-{ver}.tgz"
            with tarfile.open(p, "w:gz") as t:
                add(t, "package/package.json", json.dumps({"name": name, "version": ver}).encode())
                add(t, "package/pad.bin", pad)
            pool.setdefault(("npm", "-", name, ver, "package.tgz"), []).append((sha(p), p))
            for f in ("f0.bin", "f1.bin"):
                name, ver = f"cg{k}", str(v)
                p = f"{w}/files/{var}/{name}-{ver}-{f}"
                open(p, "wb").write(f.encode() + pad)
                pool.setdefault(("generic", "conc", name, ver, f), []).append((sha(p), p))
with open(f"{w}/pool", "w") as out:
    for key, cands in pool.items():
        for s, p in cands:
            out.write(" ".join(key) + f" {s} {p}\n")
keys = sorted(pool)
for proc in range(procs):
    with open(f"{w}/ops.{proc}", "w") as out:
        for j in range(each):
            fmt, ns, name, ver, asset = rnd.choice(keys)
            s, p = rnd.choice(pool[(fmt, ns, name, ver, asset)])
            how = "mount" if (proc + j) % 2 == 0 else "cli"
            repo = rnd.choice(["r1", "r2", "r3"])
            out.write(f"{how} {fmt} {repo} {ns} {name} {ver} {asset} {s} {p}\n")
PY

"$CAFS" create-domain --domain $DOM >/dev/null
for r in r1 r2 r3; do "$CAFS" create-repository --domain $DOM --repository $r >/dev/null; done
mount_domain $DOM

# --- writers ---------------------------------------------------------------------------------
generic_cp() { # REPO NS NAME VER FILE ASSET
	cd "$MNT/$1/generic" && mkdir -p "$2/$3/$4" && cp "$5" "$2/$3/$4/$6"
}
writer() { # P
	local p=$1 how fmt repo ns name ver asset sha file err st
	while read -r how fmt repo ns name ver asset sha file; do
		case $how/$fmt in
		mount/generic) err=$(generic_cp "$repo" "$ns" "$name" "$ver" "$file" "$asset" 2>&1 >/dev/null) ;;
		mount/*) err=$(cp "$file" "$MNT/$repo/$fmt/" 2>&1 >/dev/null) ;;
		cli/generic)
			err=$("$CAFS" publish-package-version --domain $DOM --repository "$repo" --format generic \
				--namespace "$ns" --package "$name" --package-version "$ver" --asset-content "$file" \
				--asset-name "$asset" --asset-sha256 "$sha" --unfinished 2>&1 >/dev/null) ;;
		cli/*) err=$("$CAFS" publish --domain $DOM --repository "$repo" "$file" 2>&1 >/dev/null) ;;
		esac
		st=$?
		if [ "$st" -eq 0 ]; then
			echo "$repo $fmt $ns $name $ver $asset $sha $how" >>"$WORK/acks.$p"
		elif [ "$how" = mount ] && echo "$err" | grep -q "File exists"; then
			echo "$repo $fmt $ns $name $ver $asset $sha $how" >>"$WORK/conflicts.$p"
		elif [ "$how" = cli ] && echo "$err" | grep -q "^error: ConflictException: "; then
			echo "$repo $fmt $ns $name $ver $asset $sha $how" >>"$WORK/conflicts.$p"
		else
			echo "$how $repo $fmt $ns/$name/$ver/$asset (exit $st): $err" >>"$WORK/other.$p"
		fi
	done <"$WORK/ops.$p"
	echo done >"$WORK/done.$p"
}
writers_done() { [ "$(ls "$WORK"/done.* 2>/dev/null | wc -l)" -eq "$PROCS" ]; }

# --- readers ---------------------------------------------------------------------------------
# An asset to read: two times in three one acknowledged already (through the repository it went
# into), else any pypi or npm candidate of the pool in any repository (perhaps not there yet).
pick() { # prints "repo fmt ns name ver asset"
	local line
	if [ $((RANDOM % 3)) -ne 0 ]; then
		line=$(cat "$WORK"/acks.* 2>/dev/null | grep -v ' generic ' | shuf -n 1)
		[ -n "$line" ] && { echo "$line" | cut -d' ' -f1-6; return; }
	fi
	line=$(grep -v '^generic ' "$WORK/pool" | shuf -n 1)
	echo "r$((RANDOM % 3 + 1)) $(echo "$line" | cut -d' ' -f1-5)"
}
# cat: each successful read is recorded with the SHA-256 of what it returned
cat_reader() { # R
	local r=$1 repo fmt ns name ver asset path got
	while [ ! -e "$WORK/stop" ]; do
		read -r repo fmt ns name ver asset <<<"$(pick)"
		if [ "$fmt" = pypi ]; then path=$MNT/$repo/pypi/$name/$ver/$asset; else path=$MNT/$repo/npm/$name/$ver/package.tgz; fi
		if cat "$path" >"$WORK/read.$r" 2>"$WORK/read.$r.err"; then
			got=$(sha256sum <"$WORK/read.$r" | cut -d' ' -f1)
			echo "$repo $fmt $ns $name $ver $asset $got" >>"$WORK/reads.$r"
		elif ! grep -q "No such file or directory" "$WORK/read.$r.err"; then
			echo "$path: $(cat "$WORK/read.$r.err")" >>"$WORK/readerr.$r"
		fi
	done
}
# pip: download the newest version of a package through a repository's index (two times in
# three one that repository has a version of already)
pip_reader() {
	local runs=0 repo fmt name line
	while [ ! -e "$WORK/stop" ] || [ "$runs" -lt 2 ]; do
		line=
		[ $((RANDOM % 3)) -ne 0 ] && line=$(cat "$WORK"/acks.* 2>/dev/null | grep ' pypi ' | shuf -n 1)
		[ -z "$line" ] && line="r$((RANDOM % 3 + 1)) pypi - cc$((RANDOM % 5))"
		read -r repo fmt _ name _ <<<"$line"
		rm -rf "$WORK/pipdl"
		if "$PY" -m pip --isolated download --no-deps --index-url "file://$MNT/$repo/pypi/" \
			-d "$WORK/pipdl" "$name" >"$WORK/pip.out" 2>&1; then
			for f in "$WORK"/pipdl/*.whl; do
				echo "$repo $(basename "$f") $(sha256sum <"$f" | cut -d' ' -f1)" >>"$WORK/pipreads"
			done
		elif ! grep -q "No matching distribution" "$WORK/pip.out"; then
			{ echo "pip $name from $repo:"; tail -5 "$WORK/pip.out"; } >>"$WORK/piperr"
		fi
		echo . >>"$WORK/pipruns"
		runs=$((runs + 1))
	done
}

for p in $(seq 0 $((PROCS - 1))); do
	writer "$p" &
	PIDS+=($!)
done
WRITER_PIDS=("${PIDS[@]}")
cat_reader 1 &
PIDS+=($!)
cat_reader 2 &
PIDS+=($!)
if [ -n "$HAVE_PIP" ]; then
	pip_reader &
	PIDS+=($!)
fi
for p in "${WRITER_PIDS[@]}"; do wait "$p"; done
WRITE_END=$SECONDS
touch "$WORK/stop"
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
PIDS=()

acks=$(cat "$WORK"/acks.* 2>/dev/null | wc -l)
conflicts=$(cat "$WORK"/conflicts.* 2>/dev/null | wc -l)
reads=$(cat "$WORK"/reads.* 2>/dev/null | wc -l)
pipruns=$(cat "$WORK/pipruns" 2>/dev/null | wc -l)
piprd=$(cat "$WORK/pipreads" 2>/dev/null | wc -l)
echo "# $PROCS writers x $EACH publishes in $((WRITE_END - START)) s: $acks acknowledged ($(cat "$WORK"/acks.* | awk '{n[$8]++} END {printf "%d mount, %d CLI", n["mount"], n["cli"]}')), $conflicts conflicts; $reads reads by cat, $pipruns pip runs ($piprd wheels downloaded)"

other=$(cat "$WORK"/other.* 2>/dev/null)
[ -z "$other" ] && pass "every refusal was a conflict (File exists / ConflictException)" ||
	flunk "every refusal was a conflict (File exists / ConflictException)" "$(echo "$other" | head -10)"
[ "$conflicts" -gt 0 ] && pass "the overlapping publishes did conflict ($conflicts times)" || flunk "the overlapping publishes did conflict"
[ "$acks" -gt 0 ] && pass "publishes were acknowledged ($acks)" || flunk "publishes were acknowledged"

# The bytes of each path, as acknowledged: one value per path, or a publish was lost. Two
# different contents acknowledged through the mount for one path would mean two writers shared
# one staged file: a failure (reported below), those paths then left out of the other checks.
sort -u "$WORK"/acks.* >"$WORK/acked.how"
awk '{print $1, $2, $3, $4, $5, $6, $7}' "$WORK/acked.how" | sort -u >"$WORK/acked"
multi() { awk '{k = $1 " " $2 " " $3 " " $4 " " $5 " " $6; n[k]++} END {for (k in n) if (n[k] > 1) print k}' | sort; }
multi <"$WORK/acked" >"$WORK/multi"
awk '$8 == "mount" {print $1, $2, $3, $4, $5, $6, $7}' "$WORK/acked.how" | sort -u | multi >"$WORK/multi.mount"
comm -23 "$WORK/multi" "$WORK/multi.mount" >"$WORK/multi.other"
known() { grep -qxF -- "$1" "$WORK/multi.mount"; }
[ ! -s "$WORK/multi.other" ] && pass "no path was acknowledged with two different contents (but by two cp's into the mount)" ||
	flunk "no path was acknowledged with two different contents (a lost publish)" "$(head -5 "$WORK/multi.other")"

# every acknowledged publish is stored with its bytes, and every stored asset is a whole file
bad=0 checked=0 torn_stored=0
declare -A seen=()
while read -r repo fmt ns name ver asset sha; do
	key="$repo $fmt $ns $name $ver"
	json=$WORK/assets/$(echo "$key" | tr ' /' '__').json
	if [ -z "${seen[$key]:-}" ]; then
		mkdir -p "$WORK/assets"
		nsopt=()
		[ "$ns" != - ] && nsopt=(--namespace "$ns")
		"$CAFS" list-package-version-assets --domain $DOM --repository "$repo" --format "$fmt" \
			"${nsopt[@]}" --package "$name" --package-version "$ver" >"$json" 2>&1
		seen[$key]=1
	fi
	stored=$(jq -r --arg a "$asset" '.assets[] | select(.name == $a) | .hashes["SHA-256"]' "$json" 2>/dev/null)
	if known "$key $asset"; then
		grep -q "^$fmt $ns $name $ver $asset $stored " "$WORK/pool" || torn_stored=$((torn_stored + 1))
		continue
	fi
	if [ "$stored" != "$sha" ]; then
		bad=$((bad + 1))
		[ "$bad" -le 5 ] && echo "# lost: $repo/$fmt/$ns/$name/$ver/$asset $sha: $(head -c 300 "$json")"
	fi
	checked=$((checked + 1))
done <"$WORK/acked"
[ "$bad" -eq 0 ] && pass "no acknowledged publish lost: all $checked stored with the acknowledged bytes" ||
	flunk "no acknowledged publish lost" "$bad of $checked missing or different"
nknown=$(wc -l <"$WORK/multi.mount")
if [ "$nknown" -eq 0 ]; then
	pass "no two cp's of one path into the mount both succeeded with different bytes"
else
	flunk "no two cp's of one path into the mount both succeeded with different bytes" "$nknown paths, $torn_stored published as a mix of both
$(head -5 "$WORK/multi.mount")"
fi

# reads: whole candidate files only, and the bytes a path shows never change
torn=""
while read -r repo fmt ns name ver asset got; do
	known "$repo $fmt $ns $name $ver $asset" && continue
	grep -q "^$fmt $ns $name $ver $asset $got " "$WORK/pool" || torn="$torn
$repo/$fmt/$name/$ver/$asset read as $got"
done < <(cat "$WORK"/reads.* 2>/dev/null | sort -u)
[ -z "$torn" ] && pass "no torn read: all $reads reads returned a whole candidate file" || flunk "no torn read" "$(echo "$torn" | head -5)"
changed=$(cat "$WORK"/reads.* 2>/dev/null | sort -u | awk '{k = $1 " " $2 " " $3 " " $4 " " $5 " " $6; if (k in s && s[k] != $7) print k; s[k] = $7}')
[ -z "$changed" ] && pass "a path read the same bytes every time" || flunk "a path read the same bytes every time" "$(echo "$changed" | head -5)"
mism=$(sort -u "$WORK"/reads.* 2>/dev/null | awk 'NR == FNR {a[$1 " " $2 " " $3 " " $4 " " $5 " " $6] = $7; next}
	{k = $1 " " $2 " " $3 " " $4 " " $5 " " $6; if ((k in a) && a[k] != $7) print k}' "$WORK/acked" - |
	while read -r k; do known "$k" || echo "$k"; done)
[ -z "$mism" ] && pass "what was read is what was acknowledged" || flunk "what was read is what was acknowledged" "$(echo "$mism" | head -5)"
readerr=$(cat "$WORK"/readerr.* 2>/dev/null)
[ -z "$readerr" ] && pass "reads failed only with ENOENT (not published yet)" || flunk "reads failed only with ENOENT" "$(echo "$readerr" | sort | uniq -c | sort -rn | head -5)"
if [ -n "$HAVE_PIP" ]; then
	piperr=$(cat "$WORK/piperr" 2>/dev/null)
	[ -z "$piperr" ] && pass "pip succeeded or found no distribution yet ($pipruns runs)" || flunk "pip never failed otherwise" "$(echo "$piperr" | head -12)"
	badpip=""
	while read -r repo whl got; do
		grep -q " $whl $got " "$WORK/pool" || badpip="$badpip $repo/$whl"
	done <"$WORK/pipreads"
	[ -z "$badpip" ] && pass "every wheel pip downloaded is a whole candidate ($piprd)" || flunk "every wheel pip downloaded is a whole candidate" "$badpip"
else
	pass "pip readers # SKIP no pip for $PY"
fi

# two cp's of one new path at the same time, with different bytes: at most one may succeed,
# and what is published is one of them whole
head -c 8000000 /dev/urandom >"$WORK/race.a"
head -c 8000000 /dev/urandom >"$WORK/race.b"
RA=$(sha256sum <"$WORK/race.a" | cut -d' ' -f1)
RB=$(sha256sum <"$WORK/race.b" | cut -d' ' -f1)
both=0 mixed=0 neither=0
for v in $(seq 1 12); do
	mkdir -p "$MNT/r1/generic/race/same/$v"
	cp "$WORK/race.a" "$MNT/r1/generic/race/same/$v/f.bin" 2>/dev/null &
	ca=$!
	cp "$WORK/race.b" "$MNT/r1/generic/race/same/$v/f.bin" 2>/dev/null &
	cb=$!
	wait "$ca"; sa=$?
	wait "$cb"; sb=$?
	got=$("$CAFS" list-package-version-assets --domain $DOM --repository r1 --format generic --namespace race \
		--package same --package-version "$v" 2>/dev/null | jq -r '.assets[0].hashes["SHA-256"]')
	[ "$sa" -eq 0 ] && [ "$sb" -eq 0 ] && both=$((both + 1))
	[ "$sa" -ne 0 ] && [ "$sb" -ne 0 ] && neither=$((neither + 1))
	[ "$got" != "$RA" ] && [ "$got" != "$RB" ] && mixed=$((mixed + 1))
done
[ "$neither" -eq 0 ] && pass "two cp's of one new path at once: one of them succeeds (12 tries)" || flunk "two cp's of one new path at once: one of them succeeds" "$neither times neither"
if [ "$both" -eq 0 ] && [ "$mixed" -eq 0 ]; then
	pass "two cp's of one new path at once: never both, and one of them whole is published (12 tries)"
else
	flunk "two cp's of one new path at once: never both, and one of them whole is published" "$both of 12 both succeeded, $mixed published a mix"
fi

busy=$(cat "$WORK"/other.* "$WORK"/readerr.* "$WORK/piperr" "$WORK/daemon.log" 2>/dev/null | grep -i -E "database is locked|SQLITE_BUSY|database is busy|ThrottlingException|Resource temporarily unavailable" | head -5)
[ -z "$busy" ] && pass "no 'database is locked' / busy / throttling anywhere (outputs, daemon log)" || flunk "no busy error surfaced" "$busy"

unmount_domain
"$CAFS" fsck --domain $DOM >"$WORK/fsck.json" 2>&1; st=$?
[ "$st" -eq 0 ] && pass "fsck afterwards: clean" || flunk "fsck afterwards: clean (exit $st)" "$(jq -c '.findings[] | select(.state == "PROBLEM")' "$WORK/fsck.json" 2>/dev/null | head -5)"
if grep -E "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$WORK/daemon.log" >/dev/null; then
	flunk "no sanitizer report in the daemon log" "$(grep -E -A5 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$WORK/daemon.log" | head -20)"
else
	pass "no sanitizer report in the daemon log"
fi
echo "# total $((SECONDS - START)) s"
finish
