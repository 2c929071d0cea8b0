#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The e2e harness itself: lib.sh boots a container with the build installed, runs commands in it, and
# leaves nothing behind -- neither after e2e_teardown nor when the script is killed mid-test.
set -u
source "$(dirname "$0")/lib.sh"

e2e_boot
tap_plan 17

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
