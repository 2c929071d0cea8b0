#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A local user must not blind mapguardd. Every login's user@UID.service, and any unit with
# Delegate=yes, hands its cgroup to its user, and mapguardd (root without CAP_DAC_*) then reads what
# that user allows. Tested the way it was found: a Delegate=yes, User=nobody unit plays one trick on
# its cgroup, then its process grows its mappings to the limit (vm.max_map_count), and the warning and
# critical entries must still reach `journalctl -u` of that unit:
#   dir000    mkdir x, move into x, chmod 000 x      (the walk meets EACCES opening x)
#   procs000  mkdir y, move into y, chmod 000 y/cgroup.procs
#   deep      70 nested sub-cgroups, the process at the bottom (the walk used to stop at 64: ELOOP)
#   top000    chmod 000 of the unit's own cgroup directory (systemd chowns it to the user too)
# The first argument is the Backend= to run with: procfs (the default) or bpf.
source "$(dirname "$0")/lib.sh"
BACKEND=${1:-procfs}
e2e_require_backend "$BACKEND"

WARNING_ID=aeb43dafad1340dcb3525f43354f9f77
CRITICAL_ID=97a063ad0492452d8a903b4676c6ab10
TRICKS=(dir000 procs000 deep top000)

e2e_boot
tap_plan $((2 + 5 * ${#TRICKS[@]}))

# Warn at 50 % of the kernel default 65530 (32765 maps), critical at 90 % (58977), scan every second.
e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Watch]
Units=
Units=hostile-*.service
[Thresholds]
WarningPercent=50
CriticalPercent=90
[Scan]
IntervalSec=1
Backend=$BACKEND"

# The unit's program, run as nobody: the trick, then exec the workload (same pid: the unit's MainPID).
# The hierarchy is the one mapguardd walks: cgroup2 at /sys/fs/cgroup, or /sys/fs/cgroup/unified.
e2e_write_file /usr/local/bin/hostile-trick '#!/bin/sh
set -e
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then root=/sys/fs/cgroup; else root=/sys/fs/cgroup/unified; fi
cg=$root$(sed -n "s/^0:://p" /proc/self/cgroup)
case "$1" in
dir000)
        mkdir "$cg/x"
        echo $$ > "$cg/x/cgroup.procs"
        chmod 000 "$cg/x" ;;
procs000)
        mkdir "$cg/y"
        echo $$ > "$cg/y/cgroup.procs"
        chmod 000 "$cg/y/cgroup.procs" ;;
deep)
        d=$cg
        i=0
        while [ $i -lt 70 ]; do
                d=$d/n$i
                mkdir "$d"
                i=$((i + 1))
        done
        echo $$ > "$d/cgroup.procs" ;;
top000)
        chmod 000 "$cg" ;;
esac
echo "trick $1 played in $cg"
exec /usr/local/bin/vmagrow --step 4000 --interval-ms 300 70000'
e2e_run chmod 0755 /usr/local/bin/hostile-trick

tap_ok "systemctl enable --now mapguardd" e2e_run systemctl enable --now mapguardd
tap_is "the daemon counts with the $BACKEND backend" \
        "$(e2e_run busctl get-property org.mapguard1 /org/mapguard1 org.mapguard1.Manager Backend)" "s \"$BACKEND\""

for trick in "${TRICKS[@]}"; do
        unit=hostile-$trick.service
        tap_ok "$trick: a Delegate=yes, User=nobody unit plays it and grows to the limit" \
                e2e_run systemd-run --unit="$unit" -p Type=exec -p Delegate=yes -p User=nobody \
                -p Group=nogroup /usr/local/bin/hostile-trick "$trick"
        pid=$(e2e_run systemctl show -p MainPID --value "$unit")
        tap_ok "$trick: the trick was played (the unit says so)" e2e_wait_for "trick" 20 e2e_run sh -c \
                "journalctl -u $unit -o cat | grep -q '^trick $trick played'"
        tap_ok "$trick: its process reaches the limit" e2e_wait_for "limit" 60 e2e_run sh -c \
                "journalctl -u $unit -o cat | grep -q 'pid=$pid .*state=limit'"
        tap_ok "$trick: the warning entry is in journalctl -u $unit" e2e_wait_for "warning entry" 20 \
                e2e_run sh -c \
                "journalctl -u $unit -p warning -o export MESSAGE_ID=$WARNING_ID | grep -q '^MAPGUARD_PID=$pid\$'"
        tap_ok "$trick: the critical entry is in journalctl -u $unit" e2e_wait_for "critical entry" 20 \
                e2e_run sh -c \
                "journalctl -u $unit -p crit -o export MESSAGE_ID=$CRITICAL_ID | grep -q '^MAPGUARD_PID=$pid\$'"
        e2e_run systemctl stop "$unit"
done
tap_diag "what mapguardd said about the cgroups it could not read:"
e2e_run journalctl -u mapguardd --no-pager -o cat | grep -i 'sub-cgroup\|processes of' | _e2e_diag || true

tap_done
