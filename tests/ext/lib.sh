#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Helpers for the external-connection tests, to be sourced: build the fixture mirrors
# (mkfixtures.py), run the loopback fixture registry (server.py) in the background, switch
# its misbehaving modes and count the requests it saw.
#
#   ext_fixtures DIR            build the fixtures into DIR (once: kept if already built)
#   ext_server_start ROOT       serve ROOT; exports EXT_URL, EXT_PID, EXT_LOG
#   ext_server_stop             stop the server (safe to call twice; meant for traps)
#   ext_mode MODE [PATH] [DELAY]  set the mode (normal slow 500 truncate badhash malformed
#                               down), optionally only for request paths starting with PATH
#   ext_requests PATTERN        how many request-log lines ("<METHOD> <path> <status>")
#                               match the extended regex PATTERN
#   ext_requests_reset          empty the request log
#
# The server binds 127.0.0.1 only, stops by itself once the sourcing shell ($$) is gone or
# after EXT_MAX_SECONDS (default 900), and writes its own errors to $EXT_LOG.err.

EXT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXT_PID=${EXT_PID:-}
EXT_URL=${EXT_URL:-}
EXT_LOG=${EXT_LOG:-}

# _ext_alive PID: the process exists and is not a zombie waiting to be reaped
_ext_alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

ext_fixtures() { # DIR
	local dir=${1:?ext_fixtures DIR}
	# manifest.json is written last, so its presence means a complete earlier build
	if [ -f "$dir/manifest.json" ]; then return 0; fi
	python3 "$EXT_LIB_DIR/mkfixtures.py" "$dir"
}

ext_server_start() { # ROOT
	local root=${1:?ext_server_start ROOT} state port_file
	root=$(cd "$root" && pwd) || return 1
	# the port file and logs live next to ROOT, not inside it (ROOT is the served tree)
	state=$(dirname "$root")
	port_file=$state/server.port
	EXT_LOG=$state/server.log
	rm -f "$port_file"
	: >"$EXT_LOG"
	# Started from a command substitution, the server is not a job of this shell, so a bare
	# `wait` in a test (for its own background clients) does not wait for the server too.
	# Its output goes elsewhere, so the substitution returns as soon as $! is printed.
	EXT_PID=$(python3 "$EXT_LIB_DIR/server.py" --root "$root" --port-file "$port_file" \
		--log "$EXT_LOG" --max-seconds "${EXT_MAX_SECONDS:-900}" --parent-pid $$ \
		</dev/null >/dev/null 2>>"$EXT_LOG.err" & echo $!)
	local _
	for _ in $(seq 1 100); do # up to 10 s
		if [ -s "$port_file" ]; then
			EXT_URL=http://127.0.0.1:$(cat "$port_file")
			export EXT_URL EXT_PID EXT_LOG
			return 0
		fi
		_ext_alive "$EXT_PID" || break
		sleep 0.1
	done
	echo "ext_server_start: the fixture server did not come up" >&2
	sed 's/^/# /' "$EXT_LOG.err" >&2 || true
	ext_server_stop
	return 1
}

ext_server_stop() {
	[ -n "${EXT_PID:-}" ] || return 0
	local pid=$EXT_PID _
	EXT_PID=
	kill "$pid" 2>/dev/null || true
	# not our child (see ext_server_start), so poll for its end rather than wait for it
	for _ in $(seq 1 50); do
		_ext_alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	return 0
}

ext_mode() { # MODE [PATH] [DELAY]
	local args=(--data-urlencode "mode=${1:?ext_mode MODE [PATH] [DELAY]}")
	if [ -n "${2:-}" ]; then args+=(--data-urlencode "path=$2"); fi
	if [ -n "${3:-}" ]; then args+=(--data-urlencode "delay=$3"); fi
	curl -fsS -G "${args[@]}" "$EXT_URL/_control" >/dev/null
}

ext_requests() { # PATTERN
	local count
	count=$(grep -cE -e "${1:?ext_requests PATTERN}" "$EXT_LOG" 2>/dev/null) || true
	echo "${count:-0}"
}

ext_requests_reset() {
	if [ -n "${EXT_LOG:-}" ]; then : >"$EXT_LOG"; fi
}
