#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The crash-safety proof: CAFS_CRASH_PUBLISHES publishes (default 200; the full run is 1000)
# by CAFS_CRASH_WORKERS parallel workers (default 4), mixing writes into the mount (cp of
# wheels, npm tarballs and generic files, and cp inside the mount from one repository to
# another, which publishes by reference) with `cafs publish` and `cafs
# publish-package-version`, while the mount daemon is killed with SIGKILL at random points
# (aimed at a write in flight) CAFS_CRASH_KILLS times (default 8; the full run 20), each time
# lifted (fusermount3 -uz) and mounted again; every other kill also SIGKILLs a running CLI
# publish. Every publish that was acknowledged (cp or cafs exited 0) is recorded; a mount
# write that failed because the daemon was dead is retried once the mount is back. While it
# runs, `cafs fsck` must find nothing wrong; afterwards: fsck clean (no half-published
# version, no row without its blob, no blob whose bytes disagree), every acknowledged publish
# present with its SHA-256 and its bytes (read back through a fresh mount, or the CLI for
# Unfinished versions), every CLI publish that was not itself killed acknowledged, and after
# fsck --repair --grace 0 and gc --grace 0 (which free what the kills left) the same again.
#
# Full run:
#   CAFS=build/tools/cafs CAFS_CRASH_PUBLISHES=1000 CAFS_CRASH_KILLS=20 \
#       tests/integration/11-crash-publishes.sh
# Prints TAP.
. "$(dirname "$0")/lib.sh"

PUBLISHES=${CAFS_CRASH_PUBLISHES:-200}
KILLS=${CAFS_CRASH_KILLS:-8}
WORKERS=${CAFS_CRASH_WORKERS:-4}
START=$SECONDS
DOM=cr

# cleanup by process id only: the workers, the daemon, the mount
WORKER_PIDS=()
cleanup() {
	touch "$WORK/stop" 2>/dev/null
	for p in "${WORKER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${WORKER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
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

# --- the files: one per publish, each a distinct version -------------------------------------
python3 - "$WORK" "$PUBLISHES" <<'PY'
import hashlib, io, json, os, random, sys, tarfile, zipfile
w, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(11)
os.makedirs(f"{w}/files")
kinds = ["mwheel", "mnpm", "mgeneric", "cwheel", "cnpm", "cgeneric", "copy"]
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with open(f"{w}/manifest", "w") as m:
    for i in range(n):
        kind = kinds[i % len(kinds)]
        repo = "r1" if (i // len(kinds)) % 2 == 0 else "r2"
        # mostly small, every 25th 1 MB: so that some kills land inside a write
        pad = rnd.randbytes(1000000 if i % 25 == 24 else rnd.choice([300, 3000, 30000, 90000]))
        if kind in ("mwheel", "cwheel", "copy"):
            fmt, ns, name, ver = "pypi", "-", f"cw{i % 10}", f"1.{i}"
            asset = f"{name}-{ver}-py3-none-any.whl"
            path = f"{w}/files/{asset}"
            with zipfile.ZipFile(path, "w") as z:
                z.writestr(f"{name}-{ver}.dist-info/METADATA",
                           f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n\ncrash {i}\n")
                z.writestr(f"{name}-{ver}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
                z.writestr(f"{name}-{ver}.dist-info/RECORD", "")
                z.writestr(f"{name}/pad.bin", pad, compress_type=zipfile.ZIP_STORED)
        elif kind in ("mnpm", "cnpm"):
            fmt, ns, name, ver, asset = "npm", "-", f"cn{i % 10}", f"1.0.{i}", "package.tgz"
            path = f"{w}/files/cn-{i}.tgz"
            with tarfile.open(path, "w:gz") as t:
                add(t, "package/package.json", json.dumps({"name": name, "version": ver}).encode())
                add(t, "package/pad.bin", pad)
        else:
            fmt, ns, name, ver, asset = "generic", "crash", f"cg{i % 10}", str(i), f"g-{i}.bin"
            path = f"{w}/files/{asset}"
            open(path, "wb").write(pad)
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        m.write(f"{i} {kind} {repo} {fmt} {ns} {name} {ver} {asset} {sha} {path}\n")
PY

"$CAFS" create-domain --domain $DOM >/dev/null
for r in r1 r2 r3; do "$CAFS" create-repository --domain $DOM --repository $r >/dev/null; done

# --- the workers ---------------------------------------------------------------------------------
# A mount write that fails because the daemon is dead or not back yet waits for the new mount
# and is tried again (the same bytes: a publish that committed before the kill succeeds
# unchanged); any other failure is final. Each acknowledged publish goes to acks.W.
mount_try() { # CMD...
	local tries=0 err
	while :; do
		touch "$WORK/inflight.$w"
		err=$("$@" 2>&1 >/dev/null) && { rm -f "$WORK/inflight.$w"; return 0; }
		rm -f "$WORK/inflight.$w"
		echo "$err" >>"$errs"
		case $err in
		*"not connected"* | *"connection abort"* | *"No such file or directory"* | *"Not a directory"*) ;;
		*) return 1 ;;
		esac
		tries=$((tries + 1))
		[ "$tries" -ge 300 ] && return 1
		echo . >>"$WORK/retries.$w"
		sleep 0.05
	done
}
# A CLI publish, its pid in clipid.W so that the killer may kill it too: 0 when acknowledged;
# killed by SIGKILL is counted apart (never acknowledged), any other failure is a failure.
cli_run() { # ARGS...
	local pid st
	"$CAFS" "$@" >/dev/null 2>>"$errs.cli" &
	pid=$!
	echo "$pid" >"$WORK/clipid.$w"
	wait "$pid" 2>/dev/null # no "Killed" notice: a kill is expected here
	st=$?
	rm -f "$WORK/clipid.$w"
	[ "$st" -eq 0 ] && return 0
	if [ "$st" -eq 137 ]; then echo "$i" >>"$WORK/clikilled.$w"; else echo "$i" >>"$WORK/clifail.$w"; fi
	return 1
}
generic_cp() { # REPO NS NAME VER FILE ASSET
	# cd first: with the mount down, nothing may be created below the mount point
	cd "$MNT/$1/generic" && mkdir -p "$2/$3/$4" && cp "$5" "$2/$3/$4/$6"
}
worker() { # W
	local w=$1 i kind repo fmt ns name ver asset sha file last=""
	local acks=$WORK/acks.$w errs=$WORK/errs.$w
	while read -r i kind repo fmt ns name ver asset sha file; do
		[ $((i % WORKERS)) -eq "$w" ] || continue
		# the killer's gate: at most a segment ahead of the next kill, so that every kill
		# lands while publishes are running
		while [ "$(attempts)" -ge "$(cat "$WORK/gate" 2>/dev/null || echo 0)" ] &&
			[ ! -e "$WORK/stop" ]; do
			sleep 0.02
		done
		[ -e "$WORK/stop" ] && break
		echo "$i" >>"$WORK/attempts.$w"
		case $kind in
		mwheel | mnpm)
			if mount_try cp "$file" "$MNT/$repo/$fmt/"; then
				echo "$i $repo $fmt $ns $name $ver $asset $sha mount" >>"$acks"
				[ "$fmt" = pypi ] && last="$repo/pypi/$name/$ver/$asset $name $ver $asset $sha"
			fi ;;
		mgeneric)
			if mount_try generic_cp "$repo" "$ns" "$name" "$ver" "$file" "$asset"; then
				echo "$i $repo $fmt $ns $name $ver $asset $sha mount" >>"$acks"
			fi ;;
		cwheel | cnpm)
			if cli_run publish --domain $DOM --repository "$repo" "$file"; then
				echo "$i $repo $fmt $ns $name $ver $asset $sha cli" >>"$acks"
				[ "$fmt" = pypi ] && last="$repo/pypi/$name/$ver/$asset $name $ver $asset $sha"
			fi ;;
		cgeneric)
			if cli_run publish-package-version --domain $DOM --repository "$repo" --format generic \
				--namespace "$ns" --package "$name" --package-version "$ver" --asset-content "$file" \
				--asset-name "$asset" --asset-sha256 "$sha"; then
				echo "$i $repo $fmt $ns $name $ver $asset $sha cli" >>"$acks"
			fi ;;
		copy)
			# cp inside the mount: the latest wheel this worker published, into r3 by reference
			if [ -n "$last" ]; then
				set -- $last
				if mount_try cp "$MNT/$1" "$MNT/r3/pypi/"; then
					echo "$i r3 pypi - $2 $3 $4 $5 copy" >>"$acks"
				fi
			fi ;;
		esac
	done <"$WORK/manifest"
	echo done >"$WORK/done.$w"
}
attempts() { cat "$WORK"/attempts.* 2>/dev/null | wc -l; }
workers_done() { [ "$(ls "$WORK"/done.* 2>/dev/null | wc -l)" -eq "$WORKERS" ]; }

# fsck while the mount publishes: it must see no problem (a note is fine)
live_fsck() {
	"$CAFS" fsck --domain $DOM >"$WORK/live-fsck.json" 2>"$WORK/live-fsck.err"
	local st=$?
	if [ "$st" -ne 0 ] || ! jq -e '.problems == 0' "$WORK/live-fsck.json" >/dev/null 2>&1; then
		flunk "fsck while publishing finds nothing wrong (exit $st)" \
			"$(jq -c '.findings[] | select(.state == "PROBLEM")' "$WORK/live-fsck.json" 2>/dev/null | head -5; cat "$WORK/live-fsck.err")"
		return
	fi
	live_ok=$((live_ok + 1))
}

target() { echo $(($1 * PUBLISHES / (KILLS + 1))); }
set_gate() { echo "$1" >"$WORK/gate.new" && mv "$WORK/gate.new" "$WORK/gate"; }
set_gate "$(target 2)"
mount_domain $DOM
for w in $(seq 0 $((WORKERS - 1))); do
	worker "$w" &
	WORKER_PIDS+=($!)
done

kills=0 live_ok=0 live_runs=0 inflight_kills=0 cli_kills=0
for k in $(seq 1 "$KILLS"); do
	while [ "$(attempts)" -lt "$(target "$k")" ] && ! workers_done; do sleep 0.02; done
	workers_done && break
	sleep "0.$((RANDOM % 300))"
	# aim at a write into the mount in flight (up to a second), then a random few ms more
	for _ in $(seq 1 50); do ls "$WORK"/inflight.* >/dev/null 2>&1 && break; sleep 0.02; done
	sleep "0.00$((RANDOM % 10))"
	ls "$WORK"/inflight.* >/dev/null 2>&1 && inflight_kills=$((inflight_kills + 1))
	# every other time, a CLI publish that is running dies too
	if [ $((k % 2)) -eq 1 ]; then
		for f in "$WORK"/clipid.*; do
			p=$(cat "$f" 2>/dev/null) || continue
			[ -n "$p" ] && grep -q publish "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null &&
				{ cli_kills=$((cli_kills + 1)); break; }
		done
	fi
	kill_daemon_hard
	kills=$((kills + 1))
	sleep "0.$((RANDOM % 200))"
	mount_domain $DOM
	if [ "$k" -eq "$KILLS" ]; then set_gate "$PUBLISHES"; else set_gate "$(target $((k + 2)))"; fi
	if [ $((k % 2)) -eq 0 ]; then
		live_runs=$((live_runs + 1))
		live_fsck
	fi
done
for p in "${WORKER_PIDS[@]}"; do wait "$p"; done
WORKER_PIDS=()
RUN_END=$SECONDS

acked=$(cat "$WORK"/acks.* 2>/dev/null | wc -l)
retried=$(cat "$WORK"/retries.* 2>/dev/null | wc -l)
echo "# $(attempts) publishes attempted by $WORKERS workers, $acked acknowledged, $kills kills (SIGKILL; $inflight_kills with a mount write in flight), $retried mount writes retried after a kill, $cli_kills CLI publishes killed (SIGKILL), $((RUN_END - START)) s"
[ "$kills" -ge "$KILLS" ] && pass "the daemon was killed $kills times" || flunk "the daemon was killed $KILLS times" "only $kills: the publishes ran out first"
[ "$(attempts)" -eq "$PUBLISHES" ] && pass "all $PUBLISHES publishes were attempted" || flunk "all $PUBLISHES publishes were attempted" "$(attempts)"
[ "$live_ok" -eq "$live_runs" ] && pass "fsck during the run found nothing wrong ($live_runs runs)" || true
clifails=$(cat "$WORK"/clifail.* 2>/dev/null | wc -l)
[ "$clifails" -eq 0 ] && pass "every CLI publish not killed was acknowledged (a dying daemon never reaches the CLI)" ||
	flunk "every CLI publish not killed was acknowledged" "$(cat "$WORK"/errs.*.cli | sort | uniq -c | sort -rn | head -10)"
echo "# mount write failures, each retried (the daemon was dead or not back yet):"
cat "$WORK"/errs.? 2>/dev/null | sed -E 's/^.*: //' | sort | uniq -c | sort -rn | head -8 | sed 's/^/#   /'
unexpected=$(cat "$WORK"/errs.? 2>/dev/null | grep -v -E 'Transport endpoint is not connected|Software caused connection abort|No such file or directory|Not a directory' | head -5)
[ -z "$unexpected" ] && pass "mount writes failed only because the daemon died" || flunk "mount writes failed only because the daemon died" "$unexpected"
echo "# acknowledged: $(cat "$WORK"/acks.* | awk '{n[$9]++} END {printf "%d by mount writes, %d by cp inside the mount, %d by the CLI", n["mount"], n["copy"], n["cli"]}')"

# --- after the storm ----------------------------------------------------------------------------
OUT_FSCK=$WORK/fsck.json
unmount_domain
"$CAFS" fsck --domain $DOM >"$OUT_FSCK" 2>"$WORK/fsck.err"; st=$?
problems() { jq -c '.findings[] | select(.state == "PROBLEM")' "$OUT_FSCK" 2>/dev/null | head -10; cat "$WORK/fsck.err"; }
[ "$st" -eq 0 ] && pass "fsck after the kills: clean (exit 0)" || flunk "fsck after the kills: clean (exit $st)" "$(problems)"
jq -e '[.findings[] | select(.type | IN("HALF_PUBLISHED_VERSION", "BLOB_MISSING", "BLOB_CORRUPT", "ASSET_WITHOUT_BLOB", "FOREIGN_KEY", "DATABASE_INTEGRITY"))] | length == 0' "$OUT_FSCK" >/dev/null &&
	pass "no half-published version, no row without its blob, no blob whose bytes disagree" ||
	flunk "no half-published version, no row without its blob, no blob whose bytes disagree" "$(problems)"
echo "# fsck: $(jq -c '{checked, unreferencedBlobs, notes, findingTypes: ([.findings[].type] | group_by(.) | map({(.[0]): length}) | add)}' "$OUT_FSCK")"

# every acknowledged publish: its SHA-256 in the version's asset list
verify_listed() { # label
	local bad=0 checked=0 key json
	declare -A cache=()
	while read -r i repo fmt ns name ver asset sha how; do
		key="$repo $fmt $ns $name $ver"
		json=$WORK/assets/$(echo "$key" | tr ' /' '__').json
		if [ -z "${cache[$key]:-}" ]; then
			mkdir -p "$WORK/assets"
			local nsopt=()
			[ "$ns" != - ] && nsopt=(--namespace "$ns")
			"$CAFS" list-package-version-assets --domain $DOM --repository "$repo" --format "$fmt" \
				"${nsopt[@]}" --package "$name" --package-version "$ver" >"$json" 2>&1
			cache[$key]=1
		fi
		if ! jq -e --arg a "$asset" --arg s "$sha" '.assets[] | select(.name == $a) | .hashes["SHA-256"] == $s' "$json" >/dev/null 2>&1; then
			bad=$((bad + 1))
			[ "$bad" -le 5 ] && echo "# lost: #$i $how $repo/$fmt/$ns/$name/$ver/$asset: $(head -c 300 "$json")"
		fi
		checked=$((checked + 1))
	done < <(cat "$WORK"/acks.*)
	[ "$bad" -eq 0 ] && pass "$1: all $checked acknowledged publishes listed with their SHA-256" ||
		flunk "$1: all $checked acknowledged publishes listed with their SHA-256" "$bad missing or different"
}
verify_listed "after the kills"

# and their bytes, read back through a fresh mount (Unfinished generic versions: through the CLI)
mount_domain $DOM
bad=0 checked=0
while read -r i repo fmt ns name ver asset sha how; do
	case $fmt in
	pypi) p="$MNT/$repo/pypi/$name/$ver/$asset" ;;
	npm) p="$MNT/$repo/npm/$name/$ver/package.tgz" ;;
	generic) p="$MNT/$repo/generic/$ns/$name/$ver/$asset" ;;
	esac
	if [ "$fmt" = generic ] && [ "$how" = mount ]; then
		got=$("$CAFS" get-package-version-asset --domain $DOM --repository "$repo" --format generic \
			--namespace "$ns" --package "$name" --package-version "$ver" --asset "$asset" - 2>/dev/null | sha256sum | cut -d' ' -f1)
	else
		got=$(sha256sum <"$p" 2>/dev/null | cut -d' ' -f1)
	fi
	if [ "$got" != "$sha" ]; then
		bad=$((bad + 1))
		[ "$bad" -le 5 ] && echo "# wrong bytes: #$i $how $p"
	fi
	checked=$((checked + 1))
done < <(cat "$WORK"/acks.*)
[ "$bad" -eq 0 ] && pass "all $checked acknowledged publishes read back with their bytes" ||
	flunk "all $checked acknowledged publishes read back with their bytes" "$bad wrong or unreadable"
unmount_domain

# repair what a crash may leave (files without rows, unreferenced blobs) and check again
"$CAFS" fsck --domain $DOM --repair --grace 0 >"$OUT_FSCK" 2>"$WORK/fsck.err"; st=$?
[ "$st" -eq 0 ] && pass "fsck --repair --grace 0: exit 0 ($(jq '.repaired' "$OUT_FSCK") repaired)" || flunk "fsck --repair --grace 0" "$(problems)"
"$CAFS" gc --domain $DOM --grace 0 >"$WORK/gc.json" 2>&1 && pass "gc --grace 0: $(jq -c '{freedBlobs, freedBytes, orphanFilesRemoved}' "$WORK/gc.json")" || flunk "gc --grace 0" "$(cat "$WORK/gc.json")"
"$CAFS" fsck --domain $DOM --grace 0 >"$OUT_FSCK" 2>"$WORK/fsck.err"; st=$?
[ "$st" -eq 0 ] && jq -e '.notes == 0 and .unreferencedBlobs.count == 0' "$OUT_FSCK" >/dev/null &&
	pass "then fsck --grace 0: clean, nothing unreferenced, no file without a row" || flunk "then fsck --grace 0 is clean" "$(problems)"
verify_listed "after repair and gc"
if grep -E "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$WORK/daemon.log" >/dev/null; then
	flunk "no sanitizer report in the daemon log" "$(grep -E -A5 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$WORK/daemon.log" | head -20)"
else
	pass "no sanitizer report in the daemon log"
fi
echo "# total $((SECONDS - START)) s"
finish
