#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The spine: the installed mapguardd.service starts under a real systemd, says READY=1 once it owns
# org.mapguard1 on the system bus, serves org.mapguard1.Manager, reloads in place, stops cleanly, and
# systemd-analyze accepts the unit.
set -u
source "$(dirname "$0")/lib.sh"

e2e_boot
tap_plan 16

# prop UNIT NAME: one property's value.
prop() {
        e2e_run systemctl show -p "$2" --value "$1"
}

tap_ok "systemctl enable --now mapguardd" e2e_run systemctl enable --now mapguardd.service
# Type=notify: `systemctl start` returns once the daemon sent READY=1; it must stay up after that.
tap_is "it is Type=notify" "$(prop mapguardd Type)" notify
tap_ok "it reaches active (running)" e2e_wait_for "mapguardd active" 30 \
        sh -c 'test "$(nsenter -t "$1" -a systemctl show -p ActiveState,SubState --value mapguardd)" = "$(printf "active\nrunning")"' \
        sh "$E2E_PID1"
pid=$(prop mapguardd MainPID)
tap_ok "it has a main PID ($pid)" test "$pid" -gt 0
tap_is "enabled" "$(e2e_run systemctl is-enabled mapguardd)" enabled

# Its main process, not a helper, owns the name: READY=1 is promised only after the name is taken.
tap_ok "org.mapguard1 is owned on the system bus" e2e_run busctl --system status org.mapguard1
owner=$(e2e_run busctl --system status org.mapguard1 2>/dev/null | sed -n 's/^PID=//p')
tap_is "by mapguardd's main PID" "$owner" "$pid"
tap_ok "/org/mapguard1 implements org.mapguard1.Manager" \
        sh -c 'nsenter -t "$1" -a busctl --system introspect --list org.mapguard1 /org/mapguard1 |
               grep -q "^org\.mapguard1\.Manager[[:space:]]*interface"' sh "$E2E_PID1"

# Reload: SIGHUP, answered with RELOADING=1 ... READY=1, in place.
tap_ok "systemctl reload mapguardd" e2e_run systemctl reload mapguardd.service
tap_ok "back to active (running) after the reload" e2e_wait_for "mapguardd active after reload" 30 \
        sh -c 'test "$(nsenter -t "$1" -a systemctl show -p ActiveState,SubState --value mapguardd)" = "$(printf "active\nrunning")"' \
        sh "$E2E_PID1"
tap_is "same main PID after the reload" "$(prop mapguardd MainPID)" "$pid"
tap_ok "still owns org.mapguard1 after the reload" e2e_run busctl --system status org.mapguard1

tap_ok "systemctl stop mapguardd" e2e_run systemctl stop mapguardd.service
tap_is "it is inactive" "$(prop mapguardd ActiveState)" inactive
# Result=success covers the exit status, a timeout, a watchdog kill and a core dump alike.
tap_is "it exited cleanly (Result, ExecMainStatus)" \
        "$(prop mapguardd Result) $(prop mapguardd ExecMainStatus)" "success 0"

# On the installed file, not the source: that is the one with @SBINDIR@ substituted.
verify_unit() {
        local path out rc=0
        path=$(prop mapguardd FragmentPath)
        [ -n "$path" ] || { echo "no FragmentPath for mapguardd.service"; return 1; }
        out=$(e2e_run systemd-analyze verify "$path" 2>&1) || rc=$?
        echo "$out"
        [ "$rc" -eq 0 ] || return "$rc"
        # verify exits 0 on warnings (unknown keys, bad values are ignored at load): refuse them too.
        ! grep -q "mapguardd\.service:" <<<"$out"
}
tap_ok "systemd-analyze verify accepts the installed unit" verify_unit

tap_done
