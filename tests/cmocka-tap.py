#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a cmocka test and passes its TAP through, mending one line.

cmocka 1.1.5 reports a skipped test as "not ok N # SKIP ...", which meson's TAP parser counts as a
failure (it honours SKIP only on "ok" lines, as the TAP spec has it). This rewrites such lines to
"ok N # SKIP ..." so that a test that cannot run on this host reports skipped, with its reason.
Everything else, and the exit status, is the test's own.
"""
import re
import subprocess
import sys

SKIP = re.compile(r'^not ok (\d+)(.*?)#\s*SKIP\b(.*)$', re.IGNORECASE)

def main():
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True, errors='replace')
    for line in proc.stdout:
        m = SKIP.match(line.rstrip('\n'))
        if m:
            line = f'ok {m.group(1)}{m.group(2)}# SKIP{m.group(3)}\n'
        sys.stdout.write(line)
        sys.stdout.flush()
    return proc.wait()

if __name__ == '__main__':
    sys.exit(main())
