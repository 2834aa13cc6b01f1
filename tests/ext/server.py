#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback HTTP/1.1 server for the external-connection tests: it serves a fixture folder
built by tests/ext/mkfixtures.py as PyPI, npm and Maven registries, and can be told at run
time to misbehave (slow, failing, truncated, corrupt or vanishing answers).

    server.py --root OUT --port-file F [--log FILE] [--max-seconds 900] [--parent-pid PID]

It binds 127.0.0.1 on a free port and, once listening, writes that port to F (atomically).
It stops by itself after --max-seconds, when --parent-pid no longer exists, or on SIGTERM.

URL space (BASE = http://127.0.0.1:PORT):
  /pypi/                  root simple page
  /pypi/<name>/           project page: index.html, or index.json (PEP 691) when the Accept
                          header ranks application/vnd.pypi.simple.v1+json above text/html;
                          /pypi/<name> -> 301 to /pypi/<name>/; a non-normalized name -> 301
                          to the normalized one; unknown project -> 404
  /files/<file>           the PyPI distributions
  /npm/<name>, /npm/@scope%2f<name>, /npm/@scope/<name>
                          the packument (application/json), file://<OUT> prefixes rewritten
                          to BASE; unknown -> 404 {"error":"Not found"}
  /npm/<name>/-/<file>, /npm/@scope/<name>/-/<file>   the tarballs
  /maven/...              the Maven 2 layout
  /_control?mode=M[&path=PREFIX][&delay=S]
                          sets the misbehaving mode (answers 200 "ok"); without mode it
                          reports the current one. Control requests are never affected by a
                          mode and never written to the request log.

Modes (limited to request paths starting with PREFIX when given; each call replaces the
previous mode): normal, slow (sleep S seconds, default 5, then answer), 500, truncate (full
Content-Length, half the body, then close), badhash (last byte of the body changed), malformed
(corrupt body with the normal Content-Type), down (close without answering).

Only GET and HEAD. Every answer carries Content-Length; no chunking, no compression.
With --log, each request appends "<METHOD> <path> <status>" (status "-" when the connection
was closed without an answer) and is flushed before the answer is sent.
Python 3.11 standard library only.
"""

import argparse
import json
import os
import posixpath
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("normal", "slow", "500", "truncate", "badhash", "malformed", "down")
PYPI_JSON = "application/vnd.pypi.simple.v1+json"
HTML = "text/html; charset=utf-8"


class State:
    """The misbehaving mode, shared by all request threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.prefix, self.delay = "normal", "", 5.0

    def set(self, mode, prefix, delay):
        with self.lock:
            self.mode, self.prefix, self.delay = mode, prefix, delay

    def get(self):
        with self.lock:
            return self.mode, self.prefix, self.delay


class Response:
    """What a request resolves to before any misbehaviour is applied."""

    def __init__(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=None):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers = headers or {}


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def accepts_pypi_json(accept):
    """True when the Accept header ranks the PEP 691 JSON type above HTML."""
    json_q = html_q = 0.0
    if not accept:
        return False
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        mtype = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if mtype in (PYPI_JSON, "application/vnd.pypi.simple.latest+json"):
            json_q = max(json_q, q)
        elif mtype in ("text/html", "application/vnd.pypi.simple.v1+html",
                       "application/vnd.pypi.simple.latest+html", "text/*", "*/*"):
            html_q = max(html_q, q)
    return json_q > 0 and json_q > html_q


def content_type(path):
    """The Content-Type of a served file, by its name."""
    name = path.lower()
    if name.endswith((".html", ".htm")):
        return HTML
    if name.endswith(".json"):
        return "application/json"
    if name.endswith((".xml", ".pom")):
        return "application/xml"
    if name.endswith((".sha1", ".md5", ".sha256", ".sha512", ".asc")):
        return "text/plain"
    if name.endswith(".jar"):
        return "application/java-archive"
    return "application/octet-stream"


def malformed_body(ctype, path):
    """A corrupt body that still matches the Content-Type family of the real one."""
    if path.lower().endswith((".sha1", ".md5", ".sha256", ".sha512")):
        return b"zz"
    if "json" in ctype:
        return b'{"broken'
    if "xml" in ctype:
        return b"<metadata><versioning>"
    # HTML, and binary archives: bytes with no markup and no archive structure
    return b"\x00\x01garbage"


class Server(ThreadingHTTPServer):
    daemon_threads = True  # request threads never hold up shutdown
    allow_reuse_address = True

    def __init__(self, root, log_path):
        super().__init__(("127.0.0.1", 0), Handler)
        self.root = os.path.abspath(root)
        self.state = State()
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        # the packuments name tarballs by file://<OUT>; accept the folder under both spellings
        self.file_prefixes = sorted({"file://" + self.root, "file://" + os.path.realpath(self.root)},
                                    key=len, reverse=True)

    def log_request_line(self, method, path, status):
        if self.log_file is None:
            return
        with self.log_lock:
            self.log_file.write(f"{method} {path} {status}\n")
            self.log_file.flush()

    def handle_error(self, request, client_address):
        # a client that hangs up (timeouts in slow mode, truncate, down) is not an error
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer has a Content-Length
    server_version = "cafs-ext-fixture/1.0"
    sys_version = ""

    # -- quiet: no per-request lines on stderr, errors only ------------------------------------
    def log_message(self, format, *args):
        pass

    def log_error(self, format, *args):
        sys.stderr.write("server.py: " + (format % args) + "\n")

    # -- entry points --------------------------------------------------------------------------
    def do_GET(self):
        self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    def serve(self, head):
        split = urllib.parse.urlsplit(self.path)
        raw_path = split.path
        if raw_path == "/_control":
            self.send(self.control(split.query), head)
            return
        decoded = urllib.parse.unquote(raw_path)
        mode, prefix, delay = self.server.state.get()
        if mode != "normal" and prefix and not (raw_path.startswith(prefix) or decoded.startswith(prefix)):
            mode = "normal"

        if mode == "down":
            # close the connection without a single byte of answer
            self.server.log_request_line(self.command, self.path, "-")
            self.close_connection = True
            return
        if mode == "slow":
            time.sleep(delay)
        if mode == "500":
            resp = Response(500, b"injected failure\n")
        else:
            resp = self.route(raw_path, decoded)
            if resp.status == 200 and mode == "badhash" and resp.body:
                resp.body = resp.body[:-1] + bytes([resp.body[-1] ^ 0xFF])
            elif resp.status == 200 and mode == "malformed":
                resp.body = malformed_body(resp.ctype, decoded)
        self.server.log_request_line(self.command, self.path, resp.status)
        self.send(resp, head, truncate=(mode == "truncate"))

    def send(self, resp, head, truncate=False):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        if truncate:
            # the full length was promised; deliver half of it and hang up
            self.wfile.write(resp.body[: len(resp.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        self.wfile.write(resp.body)

    # -- the control endpoint ------------------------------------------------------------------
    def control(self, query):
        params = urllib.parse.parse_qs(query)
        if "mode" not in params:
            mode, prefix, delay = self.server.state.get()
            return Response(200, f"mode={mode} path={prefix} delay={delay:g}\n".encode())
        mode = params["mode"][-1]
        if mode not in MODES:
            return Response(400, f"unknown mode {mode!r}; one of {', '.join(MODES)}\n".encode())
        try:
            delay = float(params.get("delay", ["5"])[-1])
        except ValueError:
            return Response(400, b"delay must be a number of seconds\n")
        self.server.state.set(mode, params.get("path", [""])[-1], delay)
        return Response(200, b"ok\n")

    # -- routing -------------------------------------------------------------------------------
    def route(self, raw_path, path):
        if path == "/pypi" or path.startswith("/pypi/"):
            return self.route_pypi(path)
        if path.startswith("/npm/"):
            return self.route_npm(path[len("/npm/"):])
        if path.startswith("/files/") or path.startswith("/maven/"):
            return self.file_response(path.lstrip("/"))
        return Response(404, b"not found\n")

    def local(self, rel):
        """The file under the root for a relative URL path, or None (missing, a folder, or an
        attempt to leave the root)."""
        parts = [p for p in rel.split("/") if p]
        if not parts or any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            return None
        full = os.path.join(self.server.root, *parts)
        if not os.path.isfile(full):
            return None
        return full

    def file_response(self, rel, ctype=None):
        full = self.local(rel)
        if full is None:
            return Response(404, b"not found\n")
        with open(full, "rb") as f:
            body = f.read()
        return Response(200, body, ctype or content_type(full))

    def route_pypi(self, path):
        rest = path[len("/pypi"):]
        if rest == "":
            return Response(301, b"", headers={"Location": "/pypi/"})
        parts = [p for p in rest.split("/") if p]
        if len(parts) > 1:
            return Response(404, b"not found\n")
        name = parts[0] if parts else ""
        if name:
            norm = normalize(name)
            if self.local(f"pypi/{norm}/index.html") is None:
                return Response(404, b"not found\n")
            if norm != name or not rest.endswith("/"):
                return Response(301, b"", headers={"Location": f"/pypi/{norm}/"})
        folder = f"pypi/{name}/" if name else "pypi/"
        if accepts_pypi_json(self.headers.get("Accept", "")):
            resp = self.file_response(folder + "index.json", PYPI_JSON)
        else:
            resp = self.file_response(folder + "index.html", HTML)
        resp.headers["Vary"] = "Accept"
        return resp

    def route_npm(self, rest):
        not_found = Response(404, json.dumps({"error": "Not found"}).encode(), "application/json")
        parts = rest.split("/")  # already unquoted: @scope%2fname arrives as @scope/name
        if parts and parts[0].startswith("@"):
            if len(parts) < 2:
                return not_found
            name, tail = "/".join(parts[:2]), parts[2:]
        else:
            name, tail = parts[0], parts[1:]
        if not name or any(p in ("", ".", "..") for p in name.split("/")):
            return not_found
        if not tail:
            full = self.local(f"npm/{name}/index.json")
            if full is None:
                return not_found
            with open(full, encoding="utf-8") as f:
                text = f.read()
            for prefix in self.server.file_prefixes:
                text = text.replace(prefix, self.server.base)
            return Response(200, text.encode("utf-8"), "application/json")
        if len(tail) == 2 and tail[0] == "-" and tail[1]:
            resp = self.file_response(f"npm/{name}/-/{tail[1]}")
            return resp if resp.status == 200 else not_found
        return not_found


def parent_alive(pid):
    """Whether PID exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            # the state follows the parenthesised command name, which may contain spaces
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def main():
    ap = argparse.ArgumentParser(description="Loopback fixture registry for the cafs tests.")
    ap.add_argument("--root", required=True, help="fixture folder made by mkfixtures.py")
    ap.add_argument("--port-file", required=True, help="where to write the port once listening")
    ap.add_argument("--log", help="append '<METHOD> <path> <status>' per request")
    ap.add_argument("--max-seconds", type=float, default=900, help="stop after this long")
    ap.add_argument("--parent-pid", type=int, help="stop once this process is gone")
    args = ap.parse_args()

    if not os.path.isdir(args.root):
        print(f"server.py: no such folder: {args.root}", file=sys.stderr)
        return 2
    server = Server(args.root, args.log)
    port = server.server_address[1]

    stopping = threading.Event()

    def stop():
        # shutdown() waits for serve_forever to return, so never call it on that thread
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: stop())
    signal.signal(signal.SIGINT, lambda *_: stop())
    signal.signal(signal.SIGHUP, lambda *_: stop())

    # the time limit: a timer, so that a short --max-seconds is honoured to the moment
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()

    # the parent: polled once a second
    def watch_parent():
        while not stopping.wait(1.0):
            if not parent_alive(args.parent_pid):
                stop()

    if args.parent_pid:
        threading.Thread(target=watch_parent, daemon=True).start()

    # announce the port atomically: readers see either no file or the whole number
    tmp = f"{args.port_file}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(tmp, args.port_file)

    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        timer.cancel()
        server.server_close()
        if server.log_file:
            server.log_file.close()
        try:
            # remove the port file only if it is still ours
            with open(args.port_file, encoding="utf-8") as f:
                if f.read().strip() == str(port):
                    os.unlink(args.port_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
