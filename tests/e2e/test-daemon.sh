#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mapguardd watching real units in a booted systemd: a unit grows its mappings past a low threshold,
# its warning shows up in `journalctl -u` of that unit with our fields and a MESSAGE_ID the catalog
# explains, LevelChanged goes out on the bus, the recovery entry follows when it frees them, every
# method answers with the kernel's count, the privileged methods refuse other users, and a bad
# drop-in on reload leaves the daemon running with the old config.
# The first argument is the Backend= to run with: procfs (the default) or bpf.
source "$(dirname "$0")/lib.sh"
BACKEND=${1:-procfs}
e2e_require_backend "$BACKEND"

WARNING_ID=aeb43dafad1340dcb3525f43354f9f77
CRITICAL_ID=97a063ad0492452d8a903b4676c6ab10
RECOVERED_ID=b265fd977bf9420197f5625598480b8b
DEST=(org.mapguard1 /org/mapguard1 org.mapguard1.Manager)

e2e_boot
tap_plan 47

# The limit is the kernel default (65530; /proc/sys is read-only in the container): warn at 50 %
# (32765 maps), critical at 90 % (58977), scan every second.
e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Watch]
Units=
Units=grow*.service mapguardd.service
[Thresholds]
WarningPercent=50
CriticalPercent=90
[Scan]
IntervalSec=1
Backend=$BACKEND"

tap_ok "systemctl enable --now mapguardd" e2e_run systemctl enable --now mapguardd
tap_is "the daemon counts with the $BACKEND backend" \
        "$(e2e_run busctl get-property org.mapguard1 /org/mapguard1 org.mapguard1.Manager Backend)" "s \"$BACKEND\""
e2e_run journalctl --update-catalog

# The kernel's count: lines of maps without the gate area.
kernel_count() {
        e2e_run sh -c "grep -vc '\[vsyscall\]\$' /proc/$1/maps"
}
main_pid() {
        e2e_run systemctl show -p MainPID --value "$1"
}
bus_u() { # property value of the Manager, as a plain number/string
        e2e_run busctl get-property "${DEST[@]}" "$1" | cut -d' ' -f2-
}

# Record LevelChanged signals from now on.
e2e_run systemd-run --unit=e2e-monitor.service --property=Type=exec \
        sh -c "exec busctl monitor --json=short --match=\"type='signal',interface='org.mapguard1.Manager',member='LevelChanged'\" > /run/levelchanged.json"

tap_ok "a unit growing to 40000 maps starts" \
        e2e_run systemd-run --unit=grow.service --property=Type=exec /usr/local/bin/vmagrow 40000
PID=$(main_pid grow.service)
tap_ok "its warning reaches journalctl -u grow.service -p warning" \
        e2e_wait_for "warning entry" 30 e2e_run sh -c \
        "journalctl -u grow.service -p warning -o export MESSAGE_ID=$WARNING_ID | grep -q '^MAPGUARD_PID=$PID\$'"

ENTRY=$(e2e_run journalctl -u grow.service -p warning -o export MESSAGE_ID=$WARNING_ID -n 1)
field() { printf '%s\n' "$ENTRY" | sed -n "s/^$1=//p" | head -n 1; }
tap_is "the entry names the unit" "$(field MAPGUARD_UNIT)" grow.service
tap_is "the entry names the process" "$(field MAPGUARD_COMM)" vmagrow
tap_is "the entry says the level" "$(field MAPGUARD_LEVEL)" warning
tap_is "the entry has PRIORITY=4" "$(field PRIORITY)" 4
tap_is "the entry has the limit" "$(field MAPGUARD_MAX_MAP_COUNT)" 65530
tap_ok "the entry's count and headroom add up to the limit" \
        test "$(( $(field MAPGUARD_MAP_COUNT) + $(field MAPGUARD_HEADROOM) ))" -eq 65530
tap_ok "the catalog explains the MESSAGE_ID" \
        e2e_run sh -c "journalctl --list-catalog | grep -qi $WARNING_ID"
tap_ok "journalctl -x shows the explanation" \
        e2e_run sh -c "journalctl -u grow.service -p warning -x --no-pager MESSAGE_ID=$WARNING_ID | grep -q '^░░ '"

# Every method against the kernel's count, after a rescan so the daemon's view is current.
tap_ok "Rescan as root" e2e_run busctl call "${DEST[@]}" Rescan
KERNEL=$(kernel_count "$PID")
tap_is "GetProcess matches the kernel" \
        "$(e2e_run busctl call "${DEST[@]}" GetProcess u "$PID")" \
        "ssuuus \"grow.service\" \"vmagrow\" $KERNEL 65530 $((65530 - KERNEL)) \"warning\""
tap_ok "ListProcesses matches the kernel" e2e_run sh -c \
        "busctl call ${DEST[*]} ListProcesses s grow.service | grep -q '^a(usuusdt) 1 $PID \"vmagrow\" $KERNEL $((65530 - KERNEL)) \"warning\"'"
tap_ok "GetHeadroom names it as the worst" e2e_run sh -c \
        "busctl call ${DEST[*]} GetHeadroom | grep -q '^susuuus \"grow.service\" $PID \"vmagrow\" $KERNEL 65530 $((65530 - KERNEL)) \"warning\"'"
tap_ok "ListUnits has it" e2e_run sh -c \
        "busctl call ${DEST[*]} ListUnits | grep -q '\"grow.service\" \"/org/mapguard1/unit/grow_2eservice\" \"warning\" 1 $PID $KERNEL'"
tap_is "the unit object's MapCount" \
        "$(e2e_run busctl get-property org.mapguard1 /org/mapguard1/unit/grow_2eservice org.mapguard1.Unit MapCount)" \
        "u $KERNEL"
tap_ok "LevelChanged went out on the bus" e2e_wait_for "signal" 10 e2e_run sh -c \
        "grep -q '\"grow.service\",$PID,\"vmagrow\",\"ok\",\"warning\"' /run/levelchanged.json"

# systemd's daemon-reload unloads and reloads every unit: the watch must survive it, without alerting again.
e2e_run systemctl daemon-reload
e2e_run busctl call "${DEST[@]}" Rescan
tap_ok "after daemon-reload the unit is still watched, with its level" e2e_run sh -c \
        "busctl call ${DEST[*]} ListUnits | grep -q '\"grow.service\" \"/org/mapguard1/unit/grow_2eservice\" \"warning\"'"
tap_is "and no second warning entry" \
        "$(e2e_run journalctl -u grow.service -o export MESSAGE_ID=$WARNING_ID | grep -c '^MAPGUARD_PID=')" 1

# A restart of mapguardd itself (an upgrade, Restart=on-failure): the level is kept in /run/mapguard.
tap_ok "the level is kept in /run/mapguard/state" \
        e2e_run grep -q "^process $PID [0-9]* warning [0-9]* grow.service vmagrow\$" /run/mapguard/state
e2e_run systemctl restart mapguardd
tap_ok "after a restart the unit is at warning again" e2e_run sh -c \
        "busctl call ${DEST[*]} ListUnits | grep -q '\"grow.service\" \"/org/mapguard1/unit/grow_2eservice\" \"warning\"'"
tap_is "and its warning is not given a second time" \
        "$(e2e_run journalctl -u grow.service -o export MESSAGE_ID=$WARNING_ID | grep -c '^MAPGUARD_PID=')" 1

# systemd re-executes itself (an upgrade of systemd): PID 1 is briefly off the bus. The units stay.
e2e_run systemctl daemon-reexec
e2e_run busctl call "${DEST[@]}" Rescan
tap_ok "after daemon-reexec the unit is still watched, at warning" e2e_run sh -c \
        "busctl call ${DEST[*]} ListUnits | grep -q '\"grow.service\" \"/org/mapguard1/unit/grow_2eservice\" \"warning\"'"
tap_ok "and no LevelChanged to unknown for it" e2e_run sh -c \
        "! grep -q '\"grow.service\",$PID,\"vmagrow\",\"warning\",\"unknown\"' /run/levelchanged.json"
tap_is "and no second warning entry" \
        "$(e2e_run journalctl -u grow.service -o export MESSAGE_ID=$WARNING_ID | grep -c '^MAPGUARD_PID=')" 1


# Unprivileged callers.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
tap_ok "Rescan is refused to uid 65534" e2e_run sh -c \
        "! ${NOBODY[*]} busctl call ${DEST[*]} Rescan 2>/tmp/err; grep -qi 'access denied\|AccessDenied\|not allowed\|Only root' /tmp/err"
tap_ok "GetProcess of root's process is refused to uid 65534" e2e_run sh -c \
        "! ${NOBODY[*]} busctl call ${DEST[*]} GetProcess u $PID 2>/tmp/err; grep -qi 'owner\|denied' /tmp/err"
tap_ok "reading is allowed to uid 65534" e2e_run "${NOBODY[@]}" busctl call "${DEST[@]}" ListUnits
tap_ok "an unknown unit is InvalidArgs naming it" e2e_run sh -c \
        "! busctl call ${DEST[*]} ListProcesses s nope.service 2>/tmp/err; grep -q 'nope.service' /tmp/err"

# Critical, then recovery.
tap_ok "a second unit growing to 60000 maps" \
        e2e_run systemd-run --unit=grow2.service --property=Type=exec /usr/local/bin/vmagrow 60000
PID2=$(main_pid grow2.service)
tap_ok "its critical entry reaches journalctl -u grow2.service -p crit" \
        e2e_wait_for "critical entry" 30 e2e_run sh -c \
        "journalctl -u grow2.service -p crit -o export MESSAGE_ID=$CRITICAL_ID | grep -q '^MAPGUARD_PID=$PID2\$'"
e2e_run systemctl kill -s SIGUSR1 grow.service
tap_ok "freeing the maps gives a recovery entry in journalctl -u grow.service" \
        e2e_wait_for "recovered entry" 30 e2e_run sh -c \
        "journalctl -u grow.service -p notice -o export MESSAGE_ID=$RECOVERED_ID | grep -q '^MAPGUARD_LEVEL=ok\$'"

# A bad drop-in on reload: refused with file:line, the old config stays, the daemon keeps running.
MAINPID=$(main_pid mapguardd.service)
e2e_write_file /etc/mapguard/mapguardd.conf.d/60-bad.conf "[Thresholds]
WarningPercent=lots"
tap_ok "systemctl reload fails on it (ExecReload= checks the configuration first)" \
        e2e_run sh -c "! systemctl reload mapguardd"
tap_ok "the reload error names file and line" e2e_wait_for "reload error" 10 e2e_run sh -c \
        "journalctl -u mapguardd --no-pager | grep -q '60-bad.conf:2'"
# The daemon itself refuses it too, when told directly (SIGHUP, as kill or a script would).
e2e_run systemctl kill -s HUP --kill-who=main mapguardd
tap_ok "SIGHUP with the bad drop-in: the daemon says so itself" e2e_wait_for "daemon reload error" 10 \
        e2e_run sh -c "journalctl -u mapguardd --no-pager _PID=$MAINPID | grep -q '60-bad.conf:2'"
tap_is "the daemon still runs, same pid, old thresholds" \
        "$(e2e_run systemctl is-active mapguardd) $(main_pid mapguardd.service) $(bus_u WarningPercent)" \
        "active $MAINPID 50"

# Units come and go with systemd.
e2e_run systemctl stop grow.service
tap_ok "a stopped unit is no longer watched" e2e_wait_for "unit gone" 10 e2e_run sh -c \
        "! busctl get-property ${DEST[*]} WatchedUnits | grep -q '\"grow.service\"'"

# A unit stopped at critical: its process leaves that level on the bus (to "unknown").
e2e_run systemctl stop grow2.service
tap_ok "stopping a unit at critical sends LevelChanged critical -> unknown" e2e_wait_for "signal" 10 e2e_run sh -c \
        "grep -q '\"grow2.service\",$PID2,\"vmagrow\",\"critical\",\"unknown\"' /run/levelchanged.json"

# A unit that stopped must not be asked about again and again (our question would load it anew).
e2e_run systemd-run --unit=grow-oneshot.service -p Type=oneshot true
e2e_run sh -c "timeout 3 busctl monitor --json=short --match=\"type='method_call',destination='org.freedesktop.systemd1',member='Get'\" > /run/gets.json" || true
tap_ok "a stopped unit is not asked about in a loop (fewer than 20 Get calls in 3 s)" \
        test "$(e2e_run sh -c 'grep -c "\"Get\"" /run/gets.json')" -lt 20

# A process that grows soon after it starts and lives less than IntervalSec (one instance of a crash
# loop): a new process is read again after IntervalSec/16, /8, /4, /2, so its warning is not missed.
# With IntervalSec=10 it would otherwise be read at its start, small, and next after it is gone.
e2e_run rm -f /etc/mapguard/mapguardd.conf.d/60-bad.conf
e2e_write_file /etc/mapguard/mapguardd.conf.d/70-slow.conf "[Scan]
IntervalSec=10"
e2e_run systemctl reload mapguardd
tap_is "IntervalSec=10 after a reload" "$(bus_u ScanIntervalUSec)" 10000000
e2e_run systemd-run --unit=grow-young.service --property=Type=exec \
        timeout 6 /usr/local/bin/vmagrow --step 20000 --interval-ms 1000 40000
tap_ok "a process that reaches the warning 2 s after it starts and lives 6 s gets its warning" \
        e2e_wait_for "young warning" 15 e2e_run sh -c \
        "journalctl -u grow-young.service -p warning -o export MESSAGE_ID=$WARNING_ID | grep -q '^MAPGUARD_COMM=vmagrow\$'"

# A program named "ingester-donneé": the kernel cuts comm at 15 bytes, in the middle of the é. D-Bus
# needs valid UTF-8; the name is answered made valid, and the answers keep working.
e2e_run cp /usr/local/bin/vmagrow "/usr/local/bin/ingester-donneé"
e2e_run systemd-run --unit=grow-utf8.service --property=Type=exec "/usr/local/bin/ingester-donneé" 100
tap_ok "ListProcesses answers for a process whose comm is not UTF-8, with the name made valid" \
        e2e_wait_for "utf8 name" 10 e2e_run sh -c \
        "busctl call ${DEST[*]} ListProcesses s grow-utf8.service | grep -q '\"ingester-donne?\"'"
tap_ok "GetHeadroom still answers" e2e_run busctl call "${DEST[@]}" GetHeadroom

# The system bus restarts: mapguardd exits (failure) and systemd starts it again on the new bus.
# Last, as it ends the LevelChanged recorder too.
MAINPID=$(main_pid mapguardd.service)
e2e_run systemctl restart dbus
tap_ok "after a restart of dbus, mapguardd is back with its name" e2e_wait_for "mapguardd back" 30 \
        e2e_run sh -c "test \"\$(systemctl show -p MainPID --value mapguardd)\" != $MAINPID && \
                       busctl get-property ${DEST[*]} Version >/dev/null"
tap_ok "it said why it left" e2e_run sh -c \
        "journalctl -u mapguardd _PID=$MAINPID --no-pager | grep -q 'Lost the connection to the bus'"

# For the record (bench/ measures memory; no test asserts it): the running daemon's memory.
MAINPID=$(main_pid mapguardd.service)
tap_diag "mapguardd ($BACKEND backend) after the run: $(e2e_run sh -c \
        "grep -hE '^(VmHWM|VmRSS|RssAnon|Pss):' /proc/$MAINPID/status /proc/$MAINPID/smaps_rollup" | tr -s ' \t\n' ' ')"

tap_done
