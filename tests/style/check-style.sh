#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The style gate (TAP): every tracked C file is as .clang-format says, no line is wider than 109
# columns (in characters, so a UTF-8 test string counts as it shows), and the layers hold (test 3).
set -uo pipefail

SRC=${MAPGUARD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1

if ! command -v clang-format >/dev/null; then
        echo "1..0 # SKIP clang-format is not installed"
        exit 0
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        mapfile -t files < <(git ls-files '*.c' '*.h')
else
        mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||')
fi

echo "1..3"

# One clang-format run for every file (one per file took most of the unit suite's time): it names each
# file that drifts in its "FILE:LINE:COL: error: code should be clang-formatted" lines.
existing=()
for f in "${files[@]}"; do
        [ -f "$f" ] && existing+=("$f")
done
out=$(clang-format --dry-run --Werror "${existing[@]}" 2>&1 >/dev/null)
rc=$?
mapfile -t drift < <(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' |
        sort -u)
if [ "${#drift[@]}" -eq 0 ] && [ "$rc" -eq 0 ]; then
        echo "ok 1 - ${#existing[@]} C files follow .clang-format"
elif [ "${#drift[@]}" -eq 0 ]; then
        echo "not ok 1 - clang-format failed (status $rc)"
        printf '%s\n' "$out" | head -n 20 | sed 's/^/# /'
else
        echo "not ok 1 - ${#drift[@]} C files drift from .clang-format (run clang-format -i on them)"
        printf '# %s\n' "${drift[@]}"
fi

wide=$(python3 - "${files[@]}" <<'PY'
import sys
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except (OSError, UnicodeDecodeError):
        continue
    for i, line in enumerate(lines, 1):
        if len(line.expandtabs(8)) > 109:
            print(f"{path}:{i}: {len(line)} columns")
PY
)
if [ -z "$wide" ]; then
        echo "ok 2 - no line is wider than 109 columns"
else
        echo "not ok 2 - lines wider than 109 columns"
        printf '%s\n' "$wide" | sed 's/^/# /'
fi

# The layers: lib/ includes only lib/; the pure core (service/core/) lib/, itself and the BPF records
# (service/bpf/); the client client/ and lib/ (it is a client of the D-Bus API, never of the daemon's
# code). A quoted include must name a header of an allowed folder, and never go through "..".
bad=$(python3 - "${files[@]}" <<'PY'
import os, re, sys

def headers(folder):
    return {f for f in os.listdir(folder) if f.endswith(".h")} if os.path.isdir(folder) else set()

lib = headers("lib") | {"config.h"}  # config.h is generated into lib/'s build folder
allowed = {
    "lib/": lib,
    "service/core/": lib | headers("service/core") | headers("service/bpf"),
    "client/": lib | headers("client"),
}
for path in sys.argv[1:]:
    folder = next((f for f in allowed if path.startswith(f) and "/" not in path[len(f):]), None)
    if folder is None or not os.path.isfile(path):
        continue
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r'#include "([^"]+)"', line)
        if m and (".." in m.group(1) or m.group(1) not in allowed[folder]):
            print(f"{path}: {line.strip()}")
PY
)
if [ -z "$bad" ]; then
        echo "ok 3 - lib/ includes only lib/, service/core/ only lib/ and the core, client/ only lib/ and client/"
else
        echo "not ok 3 - a file includes a header of a layer it must not see"
        printf '%s\n' "$bad" | sed 's/^/# /'
fi
