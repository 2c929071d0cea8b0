#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The e2e harness itself: lib.sh boots a container with the build installed, runs commands in it, and
# leaves nothing behind -- neither after e2e_teardown nor when the script is killed mid-test.
set -u
source "$(dirname "$0")/lib.sh"

e2e_boot
tap_plan 19

tap_ok "systemd is PID 1 inside" e2e_run sh -c 'test "$(cat /proc/1/comm)" = systemd'
tap_ok "a separate pid namespace" test "$(readlink /proc/"$E2E_PID1"/ns/pid)" != "$(readlink /proc/self/ns/pid)"
state=$(e2e_run systemctl is-system-running)
tap_ok "system state is running or degraded (is '$state')" \
        sh -c 'case $1 in running | degraded) exit 0 ;; esac; exit 1' sh "$state"
tap_ok "the system bus answers" e2e_run busctl --system status org.freedesktop.DBus

# Every file meson installs is in the container (meson's own list of what it installs).
check_installed() {
        local f missing=0
        while IFS= read -r f; do
                if ! e2e_run test -e "$f"; then
                        echo "not installed in the container: $f"
                        missing=1
                fi
        done < <(/usr/bin/python3 -c 'import json, sys
for dest in json.load(open(sys.argv[1])).values():
    print(dest)' "$MAPGUARD_BUILD_ROOT/meson-info/intro-installed.json")
        return "$missing"
}
tap_ok "every file of the build is installed inside" check_installed
tap_ok "vmagrow is in /usr/local/bin inside" e2e_run /usr/local/bin/vmagrow --help

tap_ok "e2e_write_file writes into a tmpfs path" e2e_write_file /run/e2e-harness/sub/file "hello"
tap_is "and the content reads back" "$(e2e_run cat /run/e2e-harness/sub/file)" hello
tap_is "the container's writes stay out of the host's /" "$(test -e /run/e2e-harness && echo leaked)" ""

tap_ok "e2e_wait_for returns once the command succeeds" \
        e2e_wait_for "a file to appear" 10 e2e_run test -e /run/e2e-harness/sub/file
start=$(date +%s)
fails() { ! "$@"; }
tap_ok "e2e_wait_for gives up at its deadline" fails e2e_wait_for "false" 1 false
tap_ok "... after about the timeout, not much later" test $(($(date +%s) - start)) -le 3

# vmagrow, the workload the other e2e tests and the demo use: exact counts, signals, usage errors.
# Run on the host: it needs no container, and its counts are the kernel's either way.
vmagrow_field() { # FILE STATE FIELD: FIELD of the last progress line with state=STATE
        sed -n "s/.* $3=\([0-9]*\) .*state=$2\$/\1/p;" "$1" | tail -n 1
}
vmagrow_lines() { # FILE STATE N: at least N progress lines with state=STATE
        [ "$(grep -c "state=$2\$" "$1")" -ge "$3" ]
}
vmagrow_check() {
        local out pid base held freed kernel rc=0
        out=$(mktemp)
        "$MAPGUARD_BUILD_ROOT/tools/vmagrow" --step 500 --interval-ms 20 3001 >"$out" 2>&1 &
        pid=$!
        e2e_wait_for "vmagrow to hold 3001 extra maps" 30 vmagrow_lines "$out" holding 1 || rc=1
        base=$(vmagrow_field "$out" start maps)
        held=$(vmagrow_field "$out" holding maps)
        # The kernel's own count for it: maps lines minus the [vsyscall] gate line.
        kernel=$(grep -vc '\[vsyscall\]' /proc/"$pid"/maps)
        [ "$held" = $((base + 3001)) ] || { echo "held $held maps, expected $base + 3001"; rc=1; }
        [ "$kernel" = "$held" ] || { echo "/proc/$pid/maps has $kernel, vmagrow says $held"; rc=1; }
        grep -q "state=growing\$" "$out" || { echo "no step-wise growth reported"; rc=1; }
        kill -s USR1 "$pid"
        e2e_wait_for "vmagrow to free its maps" 10 vmagrow_lines "$out" freed 1 || rc=1
        freed=$(vmagrow_field "$out" freed maps)
        [ "$freed" = "$base" ] || { echo "after SIGUSR1: $freed maps, expected $base"; rc=1; }
        kill -s USR2 "$pid"
        e2e_wait_for "vmagrow to grow again" 30 vmagrow_lines "$out" holding 2 || rc=1
        kill -s TERM "$pid"
        wait "$pid" || { echo "vmagrow exited with $? on SIGTERM"; rc=1; }
        cat "$out"
        rm -f "$out"
        return "$rc"
}
tap_ok "vmagrow: exact count, SIGUSR1 frees, SIGUSR2 regrows, SIGTERM exits 0" vmagrow_check
usage_errors() {
        local args rc=0 st
        for args in "" "0" "x" "5 6" "--step 0 5" "--step 6 5" "--interval-ms 0 5" "--bogus 5"; do
                # shellcheck disable=SC2086 # the words are the arguments
                "$MAPGUARD_BUILD_ROOT/tools/vmagrow" $args >/dev/null 2>&1 && st=0 || st=$?
                [ "$st" -eq 2 ] || { echo "vmagrow $args: exit status $st, expected 2"; rc=1; }
        done
        return "$rc"
}
tap_ok "vmagrow: bad arguments are usage errors (status 2)" usage_errors

# gone ROOT TMPDIR PID1 NSPAWN_PID: nothing of that container is left on the host.
gone() {
        local rc=0
        if findmnt --mountpoint "$1" >/dev/null; then
                echo "still mounted: $1"
                rc=1
        fi
        if [ -e "$2" ]; then
                echo "temp dir left behind: $2"
                rc=1
        fi
        if _e2e_alive "$3"; then
                echo "container PID 1 ($3) still running"
                rc=1
        fi
        if _e2e_alive "$4" || pgrep -f "systemd-nspawn -D $1 " >/dev/null; then
                echo "systemd-nspawn still running for $1"
                rc=1
        fi
        return "$rc"
}

root=$E2E_ROOT tmpdir=$E2E_TMPDIR pid1=$E2E_PID1 nspawn=$E2E_NSPAWN_PID
# Not through tap_ok: that runs its command in a subshell, and teardown must reset our variables.
e2e_teardown
tap_is "e2e_teardown succeeds" "$?" 0
tap_ok "and leaves no mount, temp dir or process behind" gone "$root" "$tmpdir" "$pid1" "$nspawn"
e2e_teardown
tap_is "e2e_teardown again is a no-op" "$?" 0

booted_or_gone() {
        grep -q '^BOOTED ' "$1" || ! _e2e_alive "$2"
}

# killed SIGNAL: a child script boots, then gets SIGNAL while waiting; its trap must tear down.
killed() {
        local sig=$1 dir child line status
        dir=$(mktemp -d) || return 1
        mkfifo "$dir/block"
        cat > "$dir/child.sh" <<EOF
source "$MAPGUARD_SOURCE_ROOT/tests/e2e/lib.sh"
e2e_boot
echo "BOOTED \$E2E_ROOT \$E2E_TMPDIR \$E2E_PID1 \$E2E_NSPAWN_PID"
# Blocks until a signal: nobody ever writes to this fifo.
read -r _ <>"$dir/block"
echo "read returned without a signal"
EOF
        # A background job of a script starts with SIGINT ignored, and bash cannot trap a signal
        # ignored at entry: give the child the default disposition, as a shell in a terminal has.
        env --default-signal=INT,TERM bash "$dir/child.sh" >"$dir/out" 2>&1 &
        child=$!
        # Until it booted or gave up (e2e_boot's own deadline is 90 s); then it has torn down itself.
        e2e_wait_for "the child to boot" 240 booted_or_gone "$dir/out" "$child"
        if ! grep -q '^BOOTED ' "$dir/out"; then
                echo "the child did not boot:"
                kill -s TERM "$child" 2>/dev/null && _e2e_wait_exit "$child" 60
                wait "$child"
                cat "$dir/out"
                rm -rf "$dir"
                return 1
        fi
        line=$(grep '^BOOTED ' "$dir/out")
        set -- $line
        kill -s "$sig" "$child"
        if ! _e2e_wait_exit "$child" 90; then
                echo "child did not exit within 90s after SIG$sig"
                kill -s KILL "$child"
        fi
        wait "$child"
        status=$?
        cat "$dir/out"
        rm -rf "$dir"
        if [ "$status" -ne $((128 + $(kill -l "$sig"))) ]; then
                echo "child exited with status $status, expected 128+SIG$sig"
                return 1
        fi
        # BOOTED ROOT TMPDIR PID1 NSPAWN_PID
        gone "$2" "$3" "$4" "$5"
}
tap_ok "SIGTERM mid-test: the trap tears down, nothing left" killed TERM
tap_ok "SIGINT mid-test: the trap tears down, nothing left" killed INT

tap_done
