#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What an ordinary user learns of root's processes through mapguard, in a booted systemd whose /proc is
# mounted hidepid=invisible: nothing. A root service whose process is called rootsecret grows past the
# warning threshold, a service of user mgtest (uid 1001) runs beside it, and as mgtest:
#  - every read-only verb of mapguardctl (with and without --json) and every read method and property on
#    the bus shows the units' figures but neither root's pid nor its comm, and mgtest's own process where
#    processes are listed; `pid` and `explain` of root's pid, and of a thread of root's, are refused (exit
#    4) in the same words. Root, asking the same, sees both (so that the checks can fail);
#  - of a level change of root's process, root's `mapguardctl monitor` gets the LevelChanged signal with pid
#    and comm; mgtest's gets the unit's line without them; a dbus-monitor of mgtest gets the unit's
#    PropertiesChanged and no LevelChanged (the bus policy gives it to root only); busctl monitor is refused;
# and against mapguardd itself, by a Delegate=yes, User=nobody unit:
#  - a sub-cgroup named with terminal control sequences, made unreadable: mapguardd's warning about it
#    reaches the journal escaped (no raw ESC, CR, TAB or invalid UTF-8), and the unit is still warned about;
#  - 10,000 empty sub-cgroups: mapguardd still warns; its CPU time over 30 s is printed (not asserted).
source "$(dirname "$0")/lib.sh"

WARNING_ID=aeb43dafad1340dcb3525f43354f9f77
USER=mgtest
USER_ID=1001
# The units are not named after the processes' comms: a unit's name is everyone's, the comm is not.
ROOT_UNIT=rootjob.service
ROOT_COMM=rootsecret
ROOT_PATH=/org/mapguard1/unit/rootjob_2eservice
USER_UNIT=userjob.service
USER_COMM=mineonly
USER_PATH=/org/mapguard1/unit/userjob_2eservice
ESC_UNIT=esc-hostile.service
MANY_UNIT=many-cgroups.service
MANAGER=(org.mapguard1 /org/mapguard1 org.mapguard1.Manager)
# Where the test workload's pids start: above every map count here (the largest is 20 % of the limit) and
# below every headroom (at least 80 % of it), so that root's pid as a word (grep -w) is that pid and no
# figure that happens to be equal to it. Kept below the smallest default pid_max, 32768.
PID_FLOOR=30000
# The monitors' output, inside the container.
MON=/run/e2e-monitors

e2e_boot
tap_plan 71

LIMIT=$(e2e_run cat /proc/sys/vm/max_map_count)
# Warn at 10 %: the workloads' 20 % is a warning, and freeing it all falls below the hysteresis (5 points).
GROW=$((LIMIT * 20 / 100))

as_user() {
        e2e_run runuser -u "$USER" -- "$@"
}
# has_word WORD: stdin holds WORD as a word (grep -w), printing the lines that do.
has_word() {
        grep -w -- "$1"
}
# private EXPECTED_RC PATTERNS CMD...: CMD run as mgtest exits EXPECTED_RC, its output (stdout and stderr)
# matches each extended regex of PATTERNS (one a line), and holds neither root's pid as a word nor its comm.
# Prints the output, and which check failed.
private() {
        local expected=$1 patterns=$2 out rc=0 pat ok=0
        shift 2
        out=$(as_user "$@" 2>&1) || rc=$?
        printf '%s\n' "$out"
        if [ "$rc" -ne "$expected" ]; then
                echo "exit status $rc, expected $expected"
                ok=1
        fi
        while IFS= read -r pat; do
                [ -z "$pat" ] && continue
                if ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
                        echo "no line matches: $pat"
                        ok=1
                fi
        done <<<"$patterns"
        if printf '%s\n' "$out" | has_word "$ROOT_PID"; then
                echo "root's pid $ROOT_PID is in it"
                ok=1
        fi
        if printf '%s\n' "$out" | grep -F -- "$ROOT_COMM"; then
                echo "root's comm $ROOT_COMM is in it"
                ok=1
        fi
        return "$ok"
}
# refused TEXT CMD...: CMD run as mgtest exits 4 (access denied), prints nothing on stdout, and exactly TEXT
# on stderr. It names root's pid only because mgtest gave it.
refused() {
        local text=$1 out err rc=0
        shift
        out=$(as_user "$@" 2>"$E2E_TMPDIR/stderr") || rc=$?
        err=$(cat "$E2E_TMPDIR/stderr")
        printf 'exit %s\nstdout: %s\nstderr: %s\n' "$rc" "$out" "$err"
        [ "$rc" -eq 4 ] && [ -z "$out" ] && [ "$err" = "$text" ]
}
level_is() { # OBJECT LEVEL (asked as root)
        [ "$(e2e_run busctl get-property org.mapguard1 "$1" org.mapguard1.Unit Level)" = "s \"$2\"" ]
}
# journal_has UNIT MESSAGE_ID PID: mapguardd's entry MESSAGE_ID about PID is in journalctl -u UNIT.
journal_has() {
        e2e_run journalctl -u "$1" -o export "MESSAGE_ID=$2" | grep -qx "MAPGUARD_PID=$3"
}
unit_says() { # UNIT TEXT: the unit's own log has a line starting with TEXT
        e2e_run journalctl -u "$1" -o cat | grep -q "^$2"
}

# --- 1. /proc hidepid=invisible, an ordinary user ---------------------------------------------------------
# Before mapguardd starts: its mount namespace (PrivateMounts=) is made from the container's then.
tap_ok "/proc is remounted hidepid=invisible" e2e_run mount -o remount,hidepid=invisible /proc
tap_ok "/proc/mounts says so" e2e_run grep -Eq '^proc /proc proc [^ ]*hidepid=invisible' /proc/mounts
tap_ok "user $USER (uid $USER_ID) is created" e2e_run useradd -m -u "$USER_ID" "$USER"

e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Watch]
Units=
Units=$ROOT_UNIT $USER_UNIT $ESC_UNIT $MANY_UNIT
[Thresholds]
WarningPercent=10
CriticalPercent=90
[Scan]
IntervalSec=1"
tap_ok "systemctl enable --now mapguardd" e2e_run systemctl enable --now mapguardd

# --- 2. the workloads -------------------------------------------------------------------------------------
e2e_run cp /usr/local/bin/vmagrow /usr/local/bin/$ROOT_COMM
e2e_run cp /usr/local/bin/vmagrow /usr/local/bin/$USER_COMM
# ns_last_pid of the container's pid namespace, written from the host (it is read-only inside): the
# writer's pid namespace is the one it sets.
nsenter -t "$E2E_PID1" -p -- sh -c "echo $PID_FLOOR > /proc/sys/kernel/ns_last_pid" ||
        tap_diag "cannot set the container's next pid; its pids may be small numbers"
tap_ok "a root service grows past the warning threshold" \
        e2e_run systemd-run --unit=$ROOT_UNIT -p Type=exec /usr/local/bin/$ROOT_COMM "$GROW"
tap_ok "a service of $USER runs beside it, below the threshold" \
        e2e_run systemd-run --unit=$USER_UNIT -p Type=exec -p User=$USER /usr/local/bin/$USER_COMM $((GROW / 5))
ROOT_PID=$(e2e_run systemctl show -p MainPID --value $ROOT_UNIT)
USER_PID=$(e2e_run systemctl show -p MainPID --value $USER_UNIT)
tap_diag "root's process: $ROOT_PID; $USER's: $USER_PID"
tap_is "root's process is called $ROOT_COMM" "$(e2e_run cat /proc/"$ROOT_PID"/comm)" "$ROOT_COMM"
lists_both() {
        local units
        units=$(e2e_run busctl call "${MANAGER[@]}" ListUnits) &&
                printf '%s\n' "$units" | grep -q "\"$ROOT_UNIT\" \"$ROOT_PATH\" \"warning\" 1 $ROOT_PID " &&
                printf '%s\n' "$units" | grep -q "\"$USER_UNIT\" \"$USER_PATH\" \"[a-z]*\" 1 $USER_PID "
}
tap_ok "mapguardd lists both to root, root's at warning" e2e_wait_for "both listed" 30 lists_both
# hidepid=invisible took: root's /proc/PID is not there for mgtest, its own is.
proc_hides_root() {
        as_user test ! -e /proc/"$ROOT_PID" && as_user test -e /proc/"$USER_PID" &&
                ! as_user ls /proc | has_word "$ROOT_PID"
}
tap_ok "$USER cannot see root's process in /proc, but its own" proc_hides_root

# --- 3. every read-only verb and read method, as mgtest ------------------------------------------------
# Root asking the same sees root's process: the checks below can fail.
root_sees() {
        e2e_run mapguardctl show $ROOT_UNIT | grep -E "^ *$ROOT_PID +$ROOT_COMM " &&
                [ "$(e2e_run busctl get-property org.mapguard1 $ROOT_PATH org.mapguard1.Unit WorstPID)" = "u $ROOT_PID" ]
}
tap_ok "root: show $ROOT_UNIT lists pid $ROOT_PID ($ROOT_COMM), WorstPID is $ROOT_PID" root_sees

OWN="(^|[^0-9])$USER_PID([^0-9]|\$)"
for json in "" --json; do
        c="mapguardctl${json:+ $json}"
        if [ -z "$json" ]; then
                root_row="^$ROOT_UNIT +warning +1 +- "
                not_shown="^1 process of other users not shown"
        else
                root_row="\"unit\":\"$ROOT_UNIT\",[^}]*\"worst_pid\":null"
                not_shown="\"processes\":\[\],\"processes_not_shown\":1"
        fi
        tap_ok "$USER: $c status: $ROOT_UNIT without its pid" private 0 "$root_row" mapguardctl $json status
        tap_ok "$USER: $c list: the same" private 0 "$root_row" mapguardctl $json list
        tap_ok "$USER: $c show $ROOT_UNIT: its process not shown" private 0 "$not_shown" \
                mapguardctl $json show $ROOT_UNIT
        tap_ok "$USER: $c show $USER_UNIT: its own process" private 0 "$USER_PID.*$USER_COMM" \
                mapguardctl $json show $USER_UNIT
        tap_ok "$USER: $c pid (root's) is refused, exit 4" refused \
                "Failed to look up the process: access denied; run as root." mapguardctl $json pid "$ROOT_PID"
        tap_ok "$USER: $c pid (its own) works" private 0 "$USER_PID.*$USER_COMM" mapguardctl $json pid "$USER_PID"
        tap_ok "$USER: $c explain (root's pid) is refused, exit 4" refused \
                "Failed to explain process $ROOT_PID: access denied; run as root." mapguardctl $json explain "$ROOT_PID"
        tap_ok "$USER: $c explain $USER_UNIT: its own process" private 0 "$OWN" mapguardctl $json explain $USER_UNIT
        tap_ok "$USER: $c check: WARNING for $ROOT_UNIT, exit 1" private 1 "WARNING.*$ROOT_UNIT" \
                mapguardctl $json check
        tap_ok "$USER: $c recommend" private 0 '(vm\.max_map_count = |"value":)[0-9]+' mapguardctl $json recommend
done
# A thread's id is no process of mgtest's either: asked about one of root's threads, mapguardd must say no
# more than of the process (not which process the thread belongs to): the refusal, word for word.
tap_ok "a root service with a second thread starts" e2e_run systemd-run --unit=rootthreads.service -p Type=exec \
        /usr/bin/python3 -c 'import threading, time
threading.Thread(target=time.sleep, args=(86400,), daemon=True).start()
time.sleep(86400)'
THREADS_PID=$(e2e_run systemctl show -p MainPID --value rootthreads.service)
second_thread() {
        e2e_run ls /proc/"$THREADS_PID"/task | grep -vx "$THREADS_PID"
}
e2e_wait_for "the second thread" 20 second_thread
TID=$(second_thread | head -n 1)
tap_diag "root's threaded process: $THREADS_PID, its second thread $TID"
tap_ok "$USER: mapguardctl pid (a thread of root's) is refused, exit 4, naming no process" refused \
        "Failed to look up the process: access denied; run as root." mapguardctl pid "$TID"
tap_ok "$USER: mapguardctl explain (a thread of root's) is refused, exit 4, naming no process" refused \
        "Failed to explain process $TID: access denied; run as root." mapguardctl explain "$TID"
e2e_run systemctl stop rootthreads.service
# metrics has no JSON form.
tap_ok "$USER: mapguardctl metrics: the unit's figures" private 0 "^mapguard_unit_processes\{unit=\"$ROOT_UNIT\"\} 1\$" \
        mapguardctl metrics

tap_ok "$USER: ListUnits: worst pid 0 for $ROOT_UNIT" private 0 "\"$ROOT_UNIT\" \"$ROOT_PATH\" \"warning\" 1 0 " \
        busctl call "${MANAGER[@]}" ListUnits
tap_ok "$USER: Manager.ListProcesses $ROOT_UNIT: none" private 0 '^a\(usuusdt\) 0$' \
        busctl call "${MANAGER[@]}" ListProcesses s $ROOT_UNIT
tap_ok "$USER: Manager.ListProcesses $USER_UNIT: its own" private 0 "^a\(usuusdt\) 1 $USER_PID \"$USER_COMM\" " \
        busctl call "${MANAGER[@]}" ListProcesses s $USER_UNIT
tap_ok "$USER: Unit.ListProcesses of $ROOT_UNIT: none" private 0 '^a\(usuusdt\) 0$' \
        busctl call org.mapguard1 $ROOT_PATH org.mapguard1.Unit ListProcesses
tap_ok "$USER: Unit.ListProcesses of $USER_UNIT: its own" private 0 "^a\(usuusdt\) 1 $USER_PID \"$USER_COMM\" " \
        busctl call org.mapguard1 $USER_PATH org.mapguard1.Unit ListProcesses
tap_ok "$USER: GetHeadroom: $ROOT_UNIT, pid 0, comm ''" private 0 "^susuuus \"$ROOT_UNIT\" 0 \"\" " \
        busctl call "${MANAGER[@]}" GetHeadroom
tap_ok "$USER: GetUnit $ROOT_UNIT" private 0 "^o \"$ROOT_PATH\"\$" busctl call "${MANAGER[@]}" GetUnit s $ROOT_UNIT
tap_ok "$USER: GetManagedObjects: WorstPID 0 for $ROOT_UNIT, its own for $USER_UNIT" private 0 \
        "\"$ROOT_PATH\" [^/]*\"WorstPID\" u 0 
\"$USER_PATH\" [^/]*\"WorstPID\" u $USER_PID " \
        busctl call org.mapguard1 /org/mapguard1 org.freedesktop.DBus.ObjectManager GetManagedObjects
tap_ok "$USER: GetAll of $ROOT_UNIT: WorstPID 0" private 0 '"WorstPID" u 0 ' \
        busctl call org.mapguard1 $ROOT_PATH org.freedesktop.DBus.Properties GetAll s org.mapguard1.Unit
tap_ok "$USER: busctl introspect $ROOT_UNIT's object: WorstPID 0" private 0 '^\.WorstPID +property +u +0 ' \
        busctl introspect org.mapguard1 $ROOT_PATH
tap_ok "$USER: busctl introspect $USER_UNIT's object: its own WorstPID" private 0 \
        "^\.WorstPID +property +u +$USER_PID " busctl introspect org.mapguard1 $USER_PATH
tap_ok "$USER: Get WorstPID of $ROOT_UNIT: 0" private 0 '^u 0$' \
        busctl get-property org.mapguard1 $ROOT_PATH org.mapguard1.Unit WorstPID
tap_ok "$USER: Get WorstPID of $USER_UNIT: its own" private 0 "^u $USER_PID\$" \
        busctl get-property org.mapguard1 $USER_PATH org.mapguard1.Unit WorstPID

# --- 4. signals -------------------------------------------------------------------------------------------
# dbus-daemon (1.14) lets root alone call BecomeMonitor: system.conf allows the
# org.freedesktop.DBus.Monitoring interface to root only, and the daemon itself refuses any other uid but its
# own even where a policy allows it ("rejected attempt to call BecomeMonitor by connection ... with uid
# 1001", seen with a system.d file allowing it to mgtest). dbus-monitor, refused, says so on stderr ("unable
# to enable new-style monitoring: ...AccessDenied... Falling back to eavesdropping.") and adds its match
# rules with eavesdrop=true, which the system bus honours only for what the policy lets the user receive
# anyway: broadcast signals its receive rules allow. busctl monitor has no such fallback: it exits 1 with
# "Call to org.freedesktop.DBus.Monitoring.BecomeMonitor failed: Access denied".
e2e_run mkdir -p $MON
monitor() { # UNIT NAME USER|"" CMD...: CMD in the background as a service, its stdout to $MON/NAME.out
        local unit=$1 name=$2 user=$3
        shift 3
        e2e_run systemd-run --unit="$unit" ${user:+-p User=$user} -p StandardOutput="file:$MON/$name.out" \
                -p StandardError="file:$MON/$name.err" "$@"
}
mon_has() { # NAME EXTENDED-REGEX
        e2e_run grep -Eq -- "$2" "$MON/$1.out"
}
err_has() { # NAME TEXT
        e2e_run grep -Fq -- "$2" "$MON/$1.err"
}
tap_ok "$USER's dbus-monitor of org.mapguard1 starts" \
        monitor e2e-mon-user-dbus.service user-dbus $USER dbus-monitor --system "sender='org.mapguard1'"
tap_ok "$USER's mapguardctl monitor --json starts" \
        monitor e2e-mon-user-ctl.service user-ctl $USER mapguardctl monitor --json
tap_ok "root's mapguardctl monitor --json starts" monitor e2e-mon-root-ctl.service root-ctl "" mapguardctl monitor --json
# Subscribed: mapguardctl prints its legend after that, dbus-monitor the bus's NameAcquired once its match
# rules are in place.
monitors_up() {
        err_has user-ctl "Monitoring level changes" && err_has root-ctl "Monitoring level changes" &&
                mon_has user-dbus "member=NameAcquired"
}
tap_ok "the three are listening" e2e_wait_for "monitors" 30 monitors_up
tap_diag "$USER's dbus-monitor said: $(e2e_run cat $MON/user-dbus.err)"

# Root's process frees its maps (ok), then grows again (warning): two level changes.
e2e_run kill -USR1 "$ROOT_PID"
e2e_wait_for "$ROOT_UNIT at ok" 30 level_is $ROOT_PATH ok
e2e_run kill -USR2 "$ROOT_PID"
tap_ok "root's process went back to warning" e2e_wait_for "$ROOT_UNIT at warning" 30 level_is $ROOT_PATH warning
tap_ok "root's monitor: LevelChanged with pid $ROOT_PID and comm $ROOT_COMM" e2e_wait_for "root's line" 30 \
        mon_has root-ctl "^\{\"unit\":\"$ROOT_UNIT\",\"pid\":$ROOT_PID,\"comm\":\"$ROOT_COMM\",\"old_level\":\"ok\",\"new_level\":\"warning\","
tap_ok "$USER's monitor: the unit's change to warning" e2e_wait_for "$USER's line" 30 \
        mon_has user-ctl "^\{\"unit\":\"$ROOT_UNIT\",\"old_level\":\"ok\",\"new_level\":\"warning\","
# The unit's PropertiesChanged: its block in dbus-monitor's output has Level, then "warning" on the next line.
dbus_level_warning() {
        e2e_run cat $MON/user-dbus.out | awk -v path="path=$ROOT_PATH;" '
                /^[a-z]/ { p = index($0, path) && index($0, "member=PropertiesChanged"); l = 0; next }
                p && /string "Level"/ { l = 1; next }
                p && l && /variant +string "warning"/ { found = 1 }
                { l = 0 }
                END { exit !found }'
}
tap_ok "$USER's dbus-monitor: the unit's PropertiesChanged, Level warning" \
        e2e_wait_for "PropertiesChanged" 30 dbus_level_warning
tap_ok "the monitors stop" e2e_run systemctl stop e2e-mon-user-dbus.service e2e-mon-user-ctl.service \
        e2e-mon-root-ctl.service
USER_CTL=$(e2e_run cat $MON/user-ctl.out)
USER_DBUS=$(e2e_run cat $MON/user-dbus.out)
nothing_of_root() { # TEXT: neither root's pid as a word nor its comm (the lines that have them printed)
        ! printf '%s\n' "$1" | has_word "$ROOT_PID" && ! printf '%s\n' "$1" | grep -F -- "$ROOT_COMM"
}
lacks() { # EXTENDED-REGEX TEXT: no line of TEXT matches (those that do printed)
        ! printf '%s\n' "$2" | grep -E -- "$1"
}
tap_ok "$USER's monitor: no pid or comm key" lacks '"(pid|comm)":' "$USER_CTL"
tap_ok "$USER's monitor: neither pid $ROOT_PID nor $ROOT_COMM" nothing_of_root "$USER_CTL"
tap_ok "$USER's dbus-monitor: no LevelChanged" lacks "member=LevelChanged" "$USER_DBUS"
tap_ok "$USER's dbus-monitor: neither pid $ROOT_PID nor $ROOT_COMM" nothing_of_root "$USER_DBUS"
BUSCTL_RC=0
BUSCTL_OUT=$(as_user timeout 10 busctl monitor org.mapguard1 2>&1) || BUSCTL_RC=$?
tap_diag "busctl monitor as $USER: exit $BUSCTL_RC: $BUSCTL_OUT"
tap_ok "$USER's busctl monitor is refused (BecomeMonitor: access denied)" sh -c \
        '[ "$1" -ne 0 ] && [ "$1" -ne 124 ] && printf "%s\n" "$2" | grep "BecomeMonitor.*Access denied"' \
        sh "$BUSCTL_RC" "$BUSCTL_OUT"

# --- 5. an unreadable sub-cgroup whose name is a terminal escape --------------------------------------------
# The unit's program, run as nobody: the trick, then exec the workload (same pid: the unit's MainPID). The
# hierarchy is the one mapguardd walks: cgroup2 at /sys/fs/cgroup, or /sys/fs/cgroup/unified.
#   escape  64 empty sub-cgroups, and one named ESC [2J ESC [31m X TAB Y 0xff 0xfe CR "sshd.service:
#           critical" and 200 Z (237 bytes: NAME_MAX is 255): the process moves into it, then it is made
#           mode 000. With the BPF backend mapguardd walks a unit's cgroup tree only from 64 sub-cgroups on
#           (below that the BPF pass finds all its processes): the 64 make it walk, and meet the one it
#           cannot read, under either backend.
#   many    10,000 empty sub-cgroups.
e2e_write_file /usr/local/bin/hostile-trick '#!/bin/bash
set -e
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then root=/sys/fs/cgroup; else root=/sys/fs/cgroup/unified; fi
cg=$root$(sed -n "s/^0:://p" /proc/self/cgroup)
case "$1" in
escape)
        printf -v pad "%200s" ""
        name=$'"'"'\e[2J\e[31mX\tY\xff\xfe\rsshd.service: critical'"'"'${pad// /Z}
        for i in $(seq 1 64); do mkdir "$cg/s$i"; done
        mkdir "$cg/$name"
        echo $$ > "$cg/$name/cgroup.procs"
        chmod 000 "$cg/$name" ;;
many)
        cd "$cg"
        seq -f "e%05.0f" 1 10000 | xargs mkdir ;;
esac
echo "trick $1 played in $cg"
exec /usr/local/bin/vmagrow "$2"'
e2e_run chmod 0755 /usr/local/bin/hostile-trick
hostile() { # UNIT TRICK
        e2e_run systemd-run --unit="$1" -p Type=exec -p Delegate=yes -p User=nobody -p Group=nogroup \
                /usr/local/bin/hostile-trick "$2" "$GROW"
}

tap_ok "escape: a Delegate=yes, User=nobody unit plays it" hostile $ESC_UNIT escape
ESC_PID=$(e2e_run systemctl show -p MainPID --value $ESC_UNIT)
tap_ok "escape: the trick was played (the unit says so)" e2e_wait_for "trick" 20 unit_says $ESC_UNIT "trick escape played"
# What mapguardd writes of the name: escaped (ESC as \x1b, TAB \t, CR \r, the bytes that are no UTF-8 \xNN).
ESCAPED='\x1b[2J\x1b[31mX\tY\xff\xfe\rsshd.service: critical'
daemon_log() {
        e2e_run journalctl -u mapguardd -o cat --no-pager
}
warned_escaped() {
        daemon_log | grep -F -- "sub-cgroup(s) of $ESC_UNIT, first " | grep -F -- "$ESC_UNIT/$ESCAPED"
}
tap_ok "escape: mapguardd's warning names the sub-cgroup it cannot read, escaped" \
        e2e_wait_for "the warning" 30 warned_escaped
tap_diag "it says: $(warned_escaped | head -n 1)"
raw_bytes() { # how many lines of mapguardd's log hold a raw ESC, CR, TAB, 0xff or 0xfe
        daemon_log | LC_ALL=C grep -c $'[\x1b\r\t\xff\xfe]'
}
tap_is "escape: journalctl -u mapguardd -o cat has no raw ESC, CR, TAB, 0xff or 0xfe" "$(raw_bytes)" 0
tap_ok "escape: the unit's warning entry is in journalctl -u $ESC_UNIT" \
        e2e_wait_for "warning entry" 30 journal_has $ESC_UNIT $WARNING_ID "$ESC_PID"

# --- 6. 10,000 sub-cgroups ----------------------------------------------------------------------------------
# mapguardd's CPU time in ns: its unit's CPUUsageNSec where CPU accounting is on, else its process's
# utime + stime (/proc/PID/stat, in clock ticks).
daemon_cpu_nsec() {
        local v
        v=$(e2e_run systemctl show -p CPUUsageNSec --value mapguardd)
        case $v in
        '' | *[!0-9]*)
                # shellcheck disable=SC2016 # expanded inside the container
                e2e_run sh -c 'pid=$(systemctl show -p MainPID --value mapguardd); s=$(cat /proc/$pid/stat)
                        set -- ${s##*) }; echo $(((${12} + ${13}) * 1000000000 / $(getconf CLK_TCK)))' ;;
        *) echo "$v" ;;
        esac
}
# cpu_percent SECONDS: mapguardd's CPU time over SECONDS of wall clock, as % of one core. A measurement
# window, not a wait for something.
cpu_percent() {
        local a b
        a=$(daemon_cpu_nsec)
        sleep "$1"
        b=$(daemon_cpu_nsec)
        awk -v d=$((b - a)) -v s="$1" 'BEGIN { printf "%.2f%% of one core (%.0f ms in %d s)", d / (s * 1e7), d / 1e6, s }'
}
DAEMON_PID=$(e2e_run systemctl show -p MainPID --value mapguardd)
BEFORE=$(cpu_percent 30)

tap_ok "many: a Delegate=yes, User=nobody unit makes 10,000 sub-cgroups" hostile $MANY_UNIT many
MANY_PID=$(e2e_run systemctl show -p MainPID --value $MANY_UNIT)
tap_ok "many: the trick was played (the unit says so)" e2e_wait_for "trick" 60 unit_says $MANY_UNIT "trick many played"
tap_ok "many: cgroup.stat counts them" e2e_run sh -c \
        "cg=\$(sed -n 's/^0:://p' /proc/$MANY_PID/cgroup); for h in /sys/fs/cgroup /sys/fs/cgroup/unified; do
                [ -e \$h\$cg/cgroup.stat ] && exec grep -qx 'nr_descendants 10000' \$h\$cg/cgroup.stat; done; exit 1"
tap_ok "many: the unit's warning entry is in journalctl -u $MANY_UNIT" \
        e2e_wait_for "warning entry" 60 journal_has $MANY_UNIT $WARNING_ID "$MANY_PID"
AFTER=$(cpu_percent 30)
tap_diag "mapguardd's CPU time over 30 s: $BEFORE before the 10,000 sub-cgroups, $AFTER with them"
tap_is "mapguardd ran through it all (same main pid, no restart)" \
        "$(e2e_run systemctl show -p MainPID --value mapguardd)/$(e2e_run systemctl show -p NRestarts --value mapguardd)" \
        "$DAEMON_PID/0"
e2e_run systemctl stop $MANY_UNIT $ESC_UNIT

tap_done
