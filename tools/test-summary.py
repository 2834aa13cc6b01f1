#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count test cases across meson test logs and print the closing line "N passed, N failed".

A TAP test (cmocka, the shell suites) counts each of its "ok"/"not ok" lines; any other test
counts once by its result. A test that crashed or timed out before reporting counts as failed.
Exit status 1 when anything failed or no test ran.
"""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as err:
        print(f"missing test log {path}: {err}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        result = t.get("result")
        out = t.get("stdout", "") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        noks = len(re.findall(r"^not ok \d+", out, re.M))
        if t.get("protocol") == "tap" or oks or noks:
            skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
            passed += oks - skips
            skipped += skips
            failed += noks
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and noks == 0:
                failed += 1  # crashed, timed out or bad plan
            if result == "SKIP" and oks == 0:
                skipped += 1
        elif result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
