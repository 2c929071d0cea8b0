# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# lib.sh: the end-to-end harness. Sourced by the bash scripts in tests/e2e/. It boots a throwaway
# systemd in a container whose root is an overlay of the host's / with this build installed on top,
# runs commands inside it, and prints TAP.
#
# Environment (set by meson's test env): MAPGUARD_BUILD_ROOT (the build dir), MAPGUARD_SOURCE_ROOT.
# Optional: E2E_BOOT_TIMEOUT (seconds, default 90), E2E_KEEP=1 (e2e_teardown leaves the container
# running, for debugging; it prints how to enter and stop it), E2E_NSPAWN_ARGS (extra
# systemd-nspawn arguments, split at spaces, e.g. "--capability=CAP_BPF,CAP_PERFMON
# --system-call-filter=bpf": nspawn withholds those from the container by default). Unset, it is
# E2E_NSPAWN_DEFAULT_ARGS, which grants exactly those, as a host's PID 1 has them: the BPF backend then
# runs in the container as it would on a host. Set it empty to boot without them.
#
# A script looks like this:
#
#     source "$(dirname "$0")/lib.sh"
#     e2e_boot                  # skips the whole script (TAP "1..0 # SKIP why") if this host can't
#     tap_plan 2
#     tap_ok "daemon starts" e2e_run systemctl start mapguardd
#     tap_is "it is active" "$(e2e_run systemctl is-active mapguardd)" active
#     tap_done                  # exit status: non-zero if anything failed; the EXIT trap tears down
#
# lib.sh owns the EXIT, INT and TERM traps once e2e_boot ran: don't install your own. The functions
# also work under `set -e` (tools/run uses them so), but TAP scripts should not set it: tap_ok and
# tap_is return the test's status, and one failed test must not end the script.
# Everything the harness itself says goes to stdout as TAP comments ("# ...") or to stderr, so the
# TAP stream stays valid.

E2E_NSPAWN_DEFAULT_ARGS='--capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf'

E2E_PID1=
E2E_ROOT=
E2E_TMPDIR=
E2E_NSPAWN_PID=
E2E_CONSOLE_LOG=
TAP_PLANNED=
TAP_COUNT=0
TAP_FAILED=0
TAP_OUTPUT=

# Wall clock in seconds, for deadlines.
_e2e_now() {
        date +%s
}

# Print each line of stdin as a TAP comment.
_e2e_diag() {
        sed 's/^/# /'
}

# tap_diag MESSAGE...: print MESSAGE as a TAP comment (visible in the test log, ignored by parsers).
tap_diag() {
        printf '%s\n' "$*" | _e2e_diag
}

# tap_plan N: announce that N tests follow. Optional: without it tap_done prints the plan at the end.
tap_plan() {
        TAP_PLANNED=$1
        echo "1..$1"
}

# _tap_result OK DESC: record one result (OK is 0 for pass) and print its TAP line.
_tap_result() {
        TAP_COUNT=$((TAP_COUNT + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $TAP_COUNT - $2"
        else
                TAP_FAILED=$((TAP_FAILED + 1))
                echo "not ok $TAP_COUNT - $2"
        fi
}

# tap_ok "desc" CMD...: run CMD (a command or function, stdout and stderr captured) and report
# ok/not ok. On failure its output and exit status are printed as "# " diagnostics. The output is
# left in TAP_OUTPUT either way, so a script can look at it afterwards. Returns CMD's status.
tap_ok() {
        local desc=$1 rc=0
        shift
        TAP_OUTPUT=$("$@" 2>&1) || rc=$?
        _tap_result "$rc" "$desc"
        if [ "$rc" -ne 0 ]; then
                tap_diag "command failed with status $rc: $*"
                [ -n "$TAP_OUTPUT" ] && printf '%s\n' "$TAP_OUTPUT" | _e2e_diag
        fi
        return "$rc"
}

# tap_is "desc" GOT EXPECTED: ok if the two strings are equal; on failure prints both.
tap_is() {
        local rc=0
        [ "$2" = "$3" ] || rc=1
        _tap_result "$rc" "$1"
        if [ "$rc" -ne 0 ]; then
                tap_diag "got:      '$2'"
                tap_diag "expected: '$3'"
        fi
        return "$rc"
}

# tap_skip "desc" REASON: report one test as skipped (counts as passed in TAP).
tap_skip() {
        TAP_COUNT=$((TAP_COUNT + 1))
        echo "ok $TAP_COUNT - $1 # SKIP $2"
}

# tap_skip_all REASON: skip the whole script and exit 0. Before any plan or result this is TAP's
# "1..0 # SKIP REASON"; after a plan was printed the remaining planned tests are reported skipped.
tap_skip_all() {
        if [ -z "$TAP_PLANNED" ] && [ "$TAP_COUNT" -eq 0 ]; then
                echo "1..0 # SKIP $1"
                exit 0
        fi
        while [ "$TAP_COUNT" -lt "${TAP_PLANNED:-$TAP_COUNT}" ]; do
                tap_skip "not run" "$1"
        done
        tap_done
}

# tap_done: finish the TAP stream and exit: status 1 if any test failed or the number run differs
# from the plan, else 0. Prints the plan now if tap_plan was never called.
tap_done() {
        if [ -z "$TAP_PLANNED" ]; then
                echo "1..$TAP_COUNT"
        elif [ "$TAP_COUNT" -ne "$TAP_PLANNED" ]; then
                tap_diag "planned $TAP_PLANNED tests but ran $TAP_COUNT"
                exit 1
        fi
        if [ "$TAP_FAILED" -ne 0 ]; then
                tap_diag "$TAP_FAILED of $TAP_COUNT tests failed"
                exit 1
        fi
        exit 0
}

# e2e_bail REASON: abort the script with TAP's "Bail out!" (the runner reports an error). The EXIT
# trap still tears the container down.
e2e_bail() {
        echo "Bail out! $*"
        exit 1
}

# e2e_wait_for "desc" TIMEOUT_S CMD...: run CMD every 0.2 s until it succeeds or TIMEOUT_S seconds
# pass. Returns 0 once CMD succeeded; on timeout prints CMD's last output as TAP comments and
# returns 1. Polling with a deadline, never a blind sleep.
e2e_wait_for() {
        local desc=$1 timeout=$2 deadline out
        shift 2
        deadline=$(($(_e2e_now) + timeout))
        while :; do
                if out=$("$@" 2>&1); then
                        return 0
                fi
                if [ "$(_e2e_now)" -ge "$deadline" ]; then
                        tap_diag "timed out after ${timeout}s waiting for $desc ($*); last output:"
                        [ -n "$out" ] && printf '%s\n' "$out" | _e2e_diag
                        return 1
                fi
                sleep 0.2
        done
}

# e2e_require_backend BACKEND: for "bpf", skip the whole script (TAP) where the kernel has no BTF or this
# build has no BPF backend; any other backend needs nothing.
e2e_require_backend() {
        [ "$1" = bpf ] || return 0
        if [ ! -r /sys/kernel/btf/vmlinux ]; then
                tap_skip_all "the kernel has no BTF (/sys/kernel/btf/vmlinux), so no BPF backend"
        fi
        if [ ! -e "$MAPGUARD_BUILD_ROOT/service/bpf/mapcount.skel.h" ]; then
                tap_skip_all "this build has no BPF backend (meson option bpf, or libbpf/bpftool/clang missing)"
        fi
}

# e2e_requirements: print why this host cannot run the e2e tests and return 1, or return 0 when it
# can (root, systemd-nspawn, overlayfs, and a build configured with prefix /usr so that installed
# files land where systemd and dbus-daemon look).
e2e_requirements() {
        local prefix
        if [ "$(id -u)" -ne 0 ]; then
                echo "needs root (overlay mount, systemd-nspawn)"
                return 1
        fi
        if ! command -v systemd-nspawn >/dev/null; then
                echo "systemd-nspawn not found (Debian: apt-get install systemd-container)"
                return 1
        fi
        if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
                echo "the kernel has no overlay filesystem"
                return 1
        fi
        if [ -z "${MAPGUARD_BUILD_ROOT:-}" ] || [ ! -f "$MAPGUARD_BUILD_ROOT/meson-info/intro-buildoptions.json" ]; then
                echo "MAPGUARD_BUILD_ROOT ('${MAPGUARD_BUILD_ROOT:-}') is not a meson build dir"
                return 1
        fi
        # meson itself runs on /usr/bin/python3, so it is there wherever a build dir is.
        prefix=$(/usr/bin/python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "prefix"))' \
                "$MAPGUARD_BUILD_ROOT/meson-info/intro-buildoptions.json") || {
                echo "cannot read the prefix of $MAPGUARD_BUILD_ROOT"
                return 1
        }
        if [ "$prefix" != /usr ]; then
                echo "build configured with prefix $prefix, needs --prefix=/usr --sysconfdir=/etc --localstatedir=/var"
                return 1
        fi
        return 0
}

# _e2e_find_pid1 NSPAWN_PID: print the container's PID 1 as seen from the host, or return 1 while
# there is none yet. That is the child of systemd-nspawn in another pid namespace that already
# exec'd systemd. Careful: nspawn's short-lived outer child is a zombie for a moment, and a zombie's
# ns/pid cannot be read -- an empty link must not count as "another namespace".
_e2e_find_pid1() {
        local child ns
        for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
                ns=$(readlink /proc/"$child"/ns/pid 2>/dev/null) || continue
                [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/pid)" ] || continue
                [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] || continue
                echo "$child"
                return 0
        done
        return 1
}

# _e2e_alive PID: is PID running (and not a zombie waiting to be reaped)?
_e2e_alive() {
        local state
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' /proc/"$1"/status 2>/dev/null) || return 1
        [ -n "$state" ] && [ "$state" != Z ]
}

# _e2e_wait_exit PID TIMEOUT_S: wait until PID is gone; returns 1 on timeout.
_e2e_wait_exit() {
        local deadline=$(($(_e2e_now) + $2))
        while _e2e_alive "$1"; do
                [ "$(_e2e_now)" -ge "$deadline" ] && return 1
                sleep 0.1
        done
        return 0
}

# _e2e_lock: wait for, then hold until exit, the host-wide e2e lock (E2E_LOCK, default
# /run/lock/mapguard-e2e.lock). Says so when it has to wait.
_e2e_lock() {
        local lock=${E2E_LOCK:-/run/lock/mapguard-e2e.lock}
        # A script that an e2e script runs (test-harness.sh boots children) is under its parent's lock.
        [ -n "${E2E_LOCK_HELD:-}" ] && return 0
        mkdir -p "$(dirname "$lock")" 2>/dev/null || true
        exec 9>>"$lock" || e2e_bail "cannot open the e2e lock $lock"
        if ! flock -n 9; then
                tap_diag "waiting for another e2e run to finish ($lock)"
                flock 9 || e2e_bail "cannot take the e2e lock $lock"
        fi
        export E2E_LOCK_HELD=1
}

# _e2e_on_signal SIGNAME STATUS: trap handler: tear down, then exit with 128+signal number.
_e2e_on_signal() {
        tap_diag "caught SIG$1, tearing down"
        e2e_teardown
        exit "$2"
}

# e2e_boot: boot a throwaway container with this build installed and wait until systemd inside
# says running (or degraded). Skips the whole script (tap_skip_all) when e2e_requirements fails;
# bails out (e2e_bail) when installing or booting fails. Sets and exports E2E_ROOT (the container's
# root dir as seen from the host), E2E_PID1 (its PID 1 as seen from the host), E2E_TMPDIR and
# E2E_NSPAWN_PID, and installs the EXIT/INT/TERM traps that call e2e_teardown. Call it before
# tap_plan, so that a skip is a clean "1..0 # SKIP". vmagrow is copied to /usr/local/bin/ inside,
# and the journal catalog is rebuilt so `journalctl -x` knows mapguard's messages.
# `e2e_boot --no-install`: the same container without this build installed (nothing of mapguard in
# it but vmagrow, and the catalog not rebuilt), for a test that installs mapguard itself, e.g. the .deb.
e2e_boot() {
        local why state deadline timeout=${E2E_BOOT_TIMEOUT:-90} install=1
        case ${1:-} in
        "") ;;
        --no-install) install=0 ;;
        *) e2e_bail "e2e_boot: unknown argument '$1'" ;;
        esac
        if ! why=$(e2e_requirements); then
                tap_skip_all "$why"
        fi

        # One container at a time on this host: two booted systemds share the host's cgroup tree (one
        # may remove the other's empty cgroups), and a mapguardd in either attaches its BPF programs to
        # the host's kernel. The lock is held by fd 9 until this script exits.
        _e2e_lock

        trap 'e2e_teardown' EXIT
        trap '_e2e_on_signal INT 130' INT
        trap '_e2e_on_signal TERM 143' TERM

        # /var/tmp: on disk, not a tmpfs that the upper layer would fill up with RAM.
        E2E_TMPDIR=$(mktemp -d /var/tmp/mapguard-e2e.XXXXXX 2>/dev/null || mktemp -d /tmp/mapguard-e2e.XXXXXX) ||
                e2e_bail "cannot create a temporary directory"
        export E2E_TMPDIR
        E2E_ROOT=$E2E_TMPDIR/root
        E2E_CONSOLE_LOG=$E2E_TMPDIR/console.log
        mkdir "$E2E_TMPDIR/upper" "$E2E_TMPDIR/work" "$E2E_ROOT" || e2e_bail "cannot create dirs in $E2E_TMPDIR"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$E2E_TMPDIR/upper,workdir=$E2E_TMPDIR/work" "$E2E_ROOT" ||
                e2e_bail "cannot mount the overlay on $E2E_ROOT"
        export E2E_ROOT
        # Empty machine-id: systemd makes up a transient one instead of reusing the host's.
        : > "$E2E_ROOT/etc/machine-id" || e2e_bail "cannot write $E2E_ROOT/etc/machine-id"

        # Without --no-rebuild: meson test builds only the targets tests depend on, and an install
        # needs everything (man pages, generated units) built.
        local out
        if [ "$install" = 1 ] && ! out=$(meson install -C "$MAPGUARD_BUILD_ROOT" --destdir "$E2E_ROOT" 2>&1); then
                printf '%s\n' "$out" | tail -n 30 | _e2e_diag
                e2e_bail "meson install of $MAPGUARD_BUILD_ROOT into $E2E_ROOT failed"
        fi
        if [ ! -x "$MAPGUARD_BUILD_ROOT/tools/vmagrow" ]; then
                e2e_bail "$MAPGUARD_BUILD_ROOT/tools/vmagrow is not built"
        fi
        install -D -m 0755 "$MAPGUARD_BUILD_ROOT/tools/vmagrow" "$E2E_ROOT/usr/local/bin/vmagrow" ||
                e2e_bail "cannot copy vmagrow into $E2E_ROOT"

        # basic.target: services enabled on the host image would otherwise hold up the boot.
        # shellcheck disable=SC2086 # E2E_NSPAWN_ARGS is a list of words
        systemd-nspawn -D "$E2E_ROOT" --register=no --keep-unit --link-journal=no --console=pipe \
                ${E2E_NSPAWN_ARGS-$E2E_NSPAWN_DEFAULT_ARGS} -b systemd.unit=basic.target </dev/null >"$E2E_CONSOLE_LOG" 2>&1 &
        E2E_NSPAWN_PID=$!
        export E2E_NSPAWN_PID

        deadline=$(($(_e2e_now) + timeout))
        until E2E_PID1=$(_e2e_find_pid1 "$E2E_NSPAWN_PID"); do
                if ! _e2e_alive "$E2E_NSPAWN_PID" || [ "$(_e2e_now)" -ge "$deadline" ]; then
                        tail -n 30 "$E2E_CONSOLE_LOG" | _e2e_diag
                        e2e_bail "systemd-nspawn did not start a container"
                fi
                sleep 0.1
        done
        export E2E_PID1

        while :; do
                # Non-zero until the boot is done: tolerated, also under the caller's set -e.
                state=$(e2e_run systemctl is-system-running 2>/dev/null) || true
                case $state in
                running | degraded) break ;;
                esac
                if ! _e2e_alive "$E2E_NSPAWN_PID" || [ "$(_e2e_now)" -ge "$deadline" ]; then
                        tail -n 30 "$E2E_CONSOLE_LOG" | _e2e_diag
                        e2e_bail "the container did not boot within ${timeout}s (system state: '$state')"
                fi
                sleep 0.2
        done
        # The catalog was installed into the root, but the journal reads a compiled database.
        if [ "$install" = 1 ]; then
                e2e_run journalctl --update-catalog || e2e_bail "journalctl --update-catalog failed inside the container"
        fi
        tap_diag "booted container: root $E2E_ROOT, PID 1 is $E2E_PID1 on the host, system $state"
}

# e2e_run CMD...: run CMD inside the container, in all its namespaces (mount, pid, cgroup, net,
# ...), with the container's root as /. Returns CMD's exit status.
e2e_run() {
        nsenter -t "$E2E_PID1" -a -- "$@"
}

# e2e_write_file PATH CONTENT: write CONTENT (plus a final newline if it lacks one) to PATH inside
# the running container, creating parent dirs. Written from inside, so tmpfs paths such as /run
# work too.
e2e_write_file() {
        local content=$2
        [ "${content%$'\n'}" = "$content" ] && content+=$'\n'
        printf '%s' "$content" | e2e_run sh -c 'mkdir -p "$(dirname "$1")" && cat > "$1"' sh "$1"
}

# e2e_teardown: stop the container and remove every trace of it: poweroff PID 1 (SIGRTMIN+4), wait
# for systemd-nspawn to exit (SIGKILL after a deadline), unmount the overlay, delete the temp dir.
# Idempotent: safe to call twice and before/after a partial e2e_boot. With E2E_KEEP=1 it leaves the
# container running and prints how to enter and stop it.
e2e_teardown() {
        local rc=0
        if [ "${E2E_KEEP:-0}" = 1 ] && [ -n "$E2E_PID1" ]; then
                tap_diag "E2E_KEEP=1: container left running. Enter: nsenter -t $E2E_PID1 -a bash"
                tap_diag "Stop: kill -s SIGRTMIN+4 $E2E_PID1; while kill -0 $E2E_NSPAWN_PID; do sleep 0.2; done;" \
                        "umount $E2E_ROOT && rm -rf --one-file-system $E2E_TMPDIR"
                return 0
        fi
        if [ -n "$E2E_NSPAWN_PID" ] && _e2e_alive "$E2E_NSPAWN_PID"; then
                [ -n "$E2E_PID1" ] && kill -s SIGRTMIN+4 "$E2E_PID1" 2>/dev/null
                if ! _e2e_wait_exit "$E2E_NSPAWN_PID" 30; then
                        tap_diag "container did not power off within 30s, killing it"
                        # Killing PID 1 kills its whole pid namespace; then nspawn exits by itself.
                        [ -n "$E2E_PID1" ] && kill -s KILL "$E2E_PID1" 2>/dev/null
                        _e2e_wait_exit "$E2E_NSPAWN_PID" 10 || kill -s KILL "$E2E_NSPAWN_PID" 2>/dev/null
                        _e2e_wait_exit "$E2E_NSPAWN_PID" 10 || rc=1
                fi
        fi
        # Reap it, so no zombie is left behind (it is our child unless a subshell started it).
        [ -n "$E2E_NSPAWN_PID" ] && ! _e2e_alive "$E2E_NSPAWN_PID" && wait "$E2E_NSPAWN_PID" 2>/dev/null
        E2E_NSPAWN_PID=
        E2E_PID1=
        if [ -n "$E2E_ROOT" ] && mountpoint -q "$E2E_ROOT"; then
                local deadline=$(($(_e2e_now) + 10))
                until umount "$E2E_ROOT" 2>/dev/null; do
                        if [ "$(_e2e_now)" -ge "$deadline" ]; then
                                tap_diag "cannot unmount $E2E_ROOT, detaching it lazily"
                                umount -l "$E2E_ROOT" || rc=1
                                break
                        fi
                        sleep 0.1
                done
        fi
        # Never delete through a mounted overlay: that would put whiteouts over the host's files.
        if [ -n "$E2E_TMPDIR" ] && [ -d "$E2E_TMPDIR" ] && ! mountpoint -q "$E2E_ROOT"; then
                rm -rf --one-file-system "$E2E_TMPDIR" || rc=1
        fi
        [ "$rc" -eq 0 ] && E2E_TMPDIR= && E2E_ROOT=
        return "$rc"
}
