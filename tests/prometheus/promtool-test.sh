#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# promtool test rules on mapguard.rules.test.yml (the alerting rules in units/), as TAP. Skipped when
# promtool is not installed (Debian: the prometheus package, which tools/test installs).
set -u
cd "$(dirname "$0")" || exit 1
if ! command -v promtool >/dev/null 2>&1; then
        echo "1..0 # SKIP promtool is not installed (Debian: apt install prometheus)"
        exit 0
fi
echo "1..1"
if out=$(promtool test rules mapguard.rules.test.yml 2>&1); then
        echo "ok 1 - promtool test rules mapguard.rules.test.yml"
else
        echo "not ok 1 - promtool test rules mapguard.rules.test.yml"
        printf '%s\n' "$out" | sed 's/^/# /'
        exit 1
fi
