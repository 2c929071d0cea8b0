#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The style gate (TAP): every tracked C file is as .clang-format says, no line is wider than 109
# columns (in characters, so a UTF-8 test string counts as it shows), and the layers hold: no file of
# the pure core or of lib/ includes a daemon or client header, nor anything through "..".
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

drift=()
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || drift+=("$f")
done
if [ "${#drift[@]}" -eq 0 ]; then
        echo "ok 1 - ${#files[@]} C files follow .clang-format"
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

# Daemon and client headers: what the core and lib/ must never see.
mapfile -t upper < <(cd service && ls *.h; cd ../client && ls *.h)
bad=()
for f in "${files[@]}"; do
        case $f in
        service/core/* | lib/*) ;;
        *) continue ;;
        esac
        while IFS= read -r inc; do
                name=${inc#*\"}
                name=${name%\"*}
                if [[ $name == *..* ]]; then
                        bad+=("$f: $inc")
                        continue
                fi
                for h in "${upper[@]}"; do
                        [ "$name" = "$h" ] && bad+=("$f: $inc")
                done
        done < <(grep -E '^#include "' "$f")
done
if [ "${#bad[@]}" -eq 0 ]; then
        echo "ok 3 - service/core/ and lib/ include no daemon or client header"
else
        echo "not ok 3 - the core or lib/ includes an upper layer"
        printf '# %s\n' "${bad[@]}"
fi
