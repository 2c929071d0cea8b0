#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Limit hits in a booted systemd: a unit that dies of "mmap: cannot allocate memory" under Restart=always
# crash-loops at vm.max_map_count until systemd's start limit stops it. Its hits and the exits they
# cause show in `journalctl -u` of that unit, the journal stays bounded (three cycles in full, one
# summary), LimitExits counts every cycle, the unit stays listed through the restart gaps and while it
# sits failed, `mapguardctl check` says CRITICAL, and reset-failed takes it out of view.
# With the BPF backend the program that catches hits is armed only while something nears the limit:
# with nothing near it, HitCatching is idle and no program of ours is attached; the crash loop arms it
# (HitCatching armed, naming the unit). Its first instance reaches the limit faster than a read may
# see it at warning, so that one may be observed instead of caught, or missed (mapguardd(8), LIMIT
# HITS: what this misses by design); the following ones are caught.
# The first argument is the Backend=: procfs (evidence "observed") or bpf.
source "$(dirname "$0")/lib.sh"
BACKEND=${1:-procfs}
e2e_require_backend "$BACKEND"

HIT_ID=cb4a01a2520d4aadbc1a539961645fa6
EXIT_ID=294b343c37a34f30b42319f7b8ab5ee5
LOOP_ID=a1117bf8707842b497d328ffecd6a343
WARNING_ID=aeb43dafad1340dcb3525f43354f9f77
UNIT_PATH=/org/mapguard1/unit/loop_2eservice
STARTS=6
# How long the workload lives at the limit before it aborts. Reads see a process there (procfs: observed)
# only when it stays long enough; a caught hit must be attributed also when the process dies well within
# the second in which failed calls are grouped into one burst, as a Go program does.
if [ "$BACKEND" = bpf ]; then
        HOLD_MS=200
else
        HOLD_MS=1500
fi

e2e_boot
tap_plan 30

e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Watch]
Units=
Units=loop*.service
[Scan]
IntervalSec=1
Backend=$BACKEND"
tap_ok "systemctl enable --now mapguardd" e2e_run systemctl enable --now mapguardd
e2e_run journalctl --update-catalog

unit_prop() {
        e2e_run busctl get-property org.mapguard1 "$UNIT_PATH" org.mapguard1.Unit "$1" | cut -d' ' -f2-
}
manager_prop() { # a string property of the Manager, unquoted
        e2e_run busctl get-property org.mapguard1 /org/mapguard1 org.mapguard1.Manager "$1" |
                sed 's/^s "\(.*\)"$/\1/'
}
# How many BPF links and perf events hold one of mapguard's limit-hit programs (catch_sys*, fexit_*:
# service/bpf/hits.bpf.c; the kernel keeps 15 characters of a name), as bpftool sees them.
hit_attachments() {
        e2e_run sh -c 'bpftool -j prog show && echo && bpftool -j link show && echo && bpftool -j perf show' |
                /usr/bin/python3 -c 'import json, sys
progs, links, perf = (json.loads(l) for l in sys.stdin.read().splitlines() if l.strip())
ours = {p["id"] for p in progs if p.get("name", "").startswith(("catch_sys", "fexit_"))}
print(sum(1 for a in links + perf if a.get("prog_id") in ours))'
}
count_entries() { # MESSAGE_ID: how many entries of that kind journalctl -u loop.service shows
        e2e_run journalctl -u loop.service -o export "MESSAGE_ID=$1" | grep -c '^MESSAGE_ID='
}

# Nothing near the limit: a unit of a few maps is watched, catching is idle and nothing of ours is
# attached (the host pays nothing); with hits observed there is no program at all.
e2e_run systemd-run --unit=loop-idle.service --property=Type=exec sleep infinity
e2e_wait_for "loop-idle.service watched" 10 e2e_run sh -c \
        "busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits | grep -q loop-idle.service"
DETECTION=$(manager_prop HitDetection)
MODE=$(e2e_run journalctl -u mapguardd --no-pager | sed -n 's/.*Catching limit hits in the kernel, \([a-z_]*\) mode.*/\1/p' | tail -n 1)
tap_diag "limit hits: $DETECTION${MODE:+, $MODE mode}; HitCatching $(manager_prop HitCatching): $(manager_prop HitCatchingReason)"
if [ "$DETECTION" = observed ]; then
        tap_is "hits observed: HitCatching is off" "$(manager_prop HitCatching)" off
        tap_skip "no program attached while idle" "limit hits are observed: no program"
elif [ "$MODE" = fexit ]; then
        tap_is "fexit costs nothing on other calls: HitCatching is always" "$(manager_prop HitCatching)" always
        tap_skip "no program attached while idle" "fexit programs stay attached"
else
        tap_is "with nothing near the limit, HitCatching is idle" "$(manager_prop HitCatching)" idle
        if e2e_run sh -c 'command -v bpftool' >/dev/null; then
                tap_is "and no limit-hit program of ours is attached" "$(hit_attachments)" 0
        else
                tap_skip "no program attached while idle" "bpftool is not installed"
        fi
fi
e2e_run systemctl stop loop-idle.service

# Sample ListUnits every 0.2 s from inside: once the unit hit the limit it must be there through every
# restart gap.
e2e_run systemd-run --unit=e2e-sampler.service --property=Type=exec sh -c \
        'while :; do busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits >> /run/listunits.txt 2>&1; echo "--" >> /run/listunits.txt; sleep 0.2; done'

# vmagrow reaches the limit at once, maps on until mmap() fails, holds HOLD_MS, aborts; systemd starts
# it again after 1 s, STARTS times in all, then gives up (start limit): the unit sits failed.
tap_ok "a unit that dies at the limit starts under Restart=always" \
        e2e_run systemd-run --unit=loop.service --property=Type=exec --property=Restart=always \
        --property=RestartSec=1 --property=StartLimitIntervalSec=600 --property=StartLimitBurst=$STARTS \
        --property=LimitCORE=0 /usr/local/bin/vmagrow --abort-at-limit "$HOLD_MS" 70000
tap_ok "systemd gives up after $STARTS starts: the unit is failed" \
        e2e_wait_for "loop.service failed" 120 e2e_run sh -c "systemctl is-failed -q loop.service"
EXITS=$(unit_prop LimitExits)
tap_diag "LimitExits $EXITS, LimitHits $(unit_prop LimitHits) of $STARTS cycles"

# What the hits are: caught calls, or (procfs) one observed process per cycle. Caught: the first instance
# reached the limit before anything was armed; a read saw it at warning (armed: caught) or at the limit
# (observed), or none did before it died (missed: its exit is not attributed). Its failure, or its hit,
# armed the program for the next ones: every one of those is caught, and its exit attributed.
if [ "$DETECTION" = caught ]; then
        EVIDENCE=caught
        tap_ok "mapguardd counted every cycle, the first maybe not (LimitExits $EXITS)" \
                test "$EXITS" -ge "$((STARTS - 1))" -a "$EXITS" -le "$STARTS"
        tap_ok "LimitHits counts the failed calls (at least one per cycle after the first)" \
                test "$(unit_prop LimitHits)" -ge "$((STARTS - 1))"
        tap_ok "the told cycles after the first were caught" \
                test "$(e2e_run journalctl -u loop.service -o export "MESSAGE_ID=$HIT_ID" MAPGUARD_EVIDENCE=caught | grep -c '^MESSAGE_ID=')" -ge 2
        tap_ok "while it sits failed catching is armed, naming it" \
                test "$(manager_prop HitCatching)" = armed -o "$(manager_prop HitCatching)" = always
        tap_ok "HitCatchingReason names loop.service" e2e_run sh -c \
                "busctl get-property org.mapguard1 /org/mapguard1 org.mapguard1.Manager HitCatchingReason | grep -q 'loop.service hit the limit'"
        if [ "$MODE" != fexit ] && e2e_run sh -c 'command -v bpftool' >/dev/null; then
                tap_ok "armed, the limit-hit program is attached" test "$(hit_attachments)" -gt 0
        else
                tap_skip "armed, the limit-hit program is attached" "fexit, or bpftool is not installed"
        fi
else
        EVIDENCE=observed
        tap_is "mapguardd counted every cycle: LimitExits" "$EXITS" "$STARTS"
        tap_is "LimitHits counts one observed process per cycle" "$(unit_prop LimitHits)" "$STARTS"
        tap_is "hits observed: HitCatching stays off" "$(manager_prop HitCatching)" off
        tap_skip "the told cycles after the first were caught" "limit hits are observed"
        tap_skip "HitCatchingReason names loop.service" "limit hits are observed"
        tap_skip "armed, the limit-hit program is attached" "limit hits are observed"
fi
tap_ok "LastLimitHitUSec is set" test "$(unit_prop LastLimitHitUSec)" -gt 0
tap_ok "LastExit is systemd's: killed or dumped by SIGABRT" \
        e2e_run sh -c "busctl get-property org.mapguard1 $UNIT_PATH org.mapguard1.Unit LastExit | grep -Eq '\"(killed|dumped) SIGABRT\"'"

# The journal of the unit tells the first three cycles in full, then one summary, then nothing.
tap_is "three 'exit after limit hit' entries in journalctl -u loop.service" "$(count_entries $EXIT_ID)" 3
tap_is "one crash-loop summary" "$(count_entries $LOOP_ID)" 1
tap_is "three limit-hit entries (one per told cycle)" "$(count_entries $HIT_ID)" 3
tap_ok "warning entries only for the told cycles" test "$(count_entries $WARNING_ID)" -le 3
ENTRY=$(e2e_run journalctl -u loop.service -o export "MESSAGE_ID=$EXIT_ID" -n 1)
field() { printf '%s\n' "$ENTRY" | sed -n "s/^$1=//p" | head -n 1; }
tap_is "the exit entry has PRIORITY=3" "$(field PRIORITY)" 3
tap_ok "the exit entry says how systemd saw the exit" test "$(field MAPGUARD_EXIT_STATUS)" = SIGABRT
tap_ok "the exit entry counts the seconds since the hit" test "$(field MAPGUARD_SECONDS_SINCE_HIT)" -le 60
ENTRY=$(e2e_run journalctl -u loop.service -o export "MESSAGE_ID=$HIT_ID" -n 1)
tap_is "the hit entry says its evidence" "$(field MAPGUARD_EVIDENCE)" "$EVIDENCE"

# Through every restart gap, and now while it sits failed: listed, critical.
e2e_run systemctl stop e2e-sampler.service
# (Before its first hit it comes and goes with its instances, as any unit: the first one may die
# unseen.)
tap_ok "the unit was listed in every sample since it was first listed critical" e2e_run sh -c '
        awk "/^--/ { if (seen && !this) missing++; this = 0; next }
             /\"loop.service\" \"[^\"]*\" \"critical\"/ { seen = 1 }
             /\"loop.service\"/ { this = 1 }
             END { exit !(seen && !missing) }" /run/listunits.txt'
tap_ok "while it sits failed it is listed, critical, without processes" e2e_run sh -c \
        "busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits | grep -q '\"loop.service\" \"$UNIT_PATH\" \"critical\" 0 '"
e2e_run mapguardctl check >/dev/null 2>&1
tap_is "mapguardctl check says CRITICAL" "$?" 2
tap_ok "mapguardctl show says it is at the limit, with every exit counted" e2e_run sh -c \
        "mapguardctl show loop.service | grep -q 'exits at the limit: $EXITS, the last .*SIGABRT'"
tap_ok "mapguardctl --json show has limit_exits" e2e_run sh -c \
        "mapguardctl --json show loop.service | grep -q '\"limit_exits\":$EXITS'"

# reset-failed: out of view.
e2e_run systemctl reset-failed loop.service
tap_ok "after reset-failed the unit leaves the list" e2e_wait_for "loop.service gone" 10 e2e_run sh -c \
        "! busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits | grep -q loop.service"

# Caught hits only: a process fails calls while mapguardd cannot read (stopped here; starved on a busy
# host). The kernel's queue holds ~2,900 of them; mapguardd says how many it could not count, and
# LimitHits counts the others. The program is still armed: loop.service's crash loop, its last trigger,
# ended moments ago, and catching stays armed for a minute after the last trigger.
FLOOD=20000
if [ "$EVIDENCE" = caught ]; then
        tap_ok "a moment after the last trigger ended, catching is still armed" \
                test "$(manager_prop HitCatching)" = armed -o "$(manager_prop HitCatching)" = always
        # Watched first (its control group exists while ExecStartPre= runs), then mapguardd stops.
        e2e_run systemd-run --no-block --unit=loop-flood.service --property=Type=exec \
                --property=LimitCORE=0 --property="ExecStartPre=/bin/sleep 3" \
                /usr/local/bin/vmagrow --abort-at-limit 100 --fail-calls $FLOOD 70000
        e2e_wait_for "loop-flood.service watched" 10 e2e_run sh -c \
                "busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits | grep -q loop-flood.service"
        e2e_run systemctl kill -s SIGSTOP --kill-who=main mapguardd
        e2e_wait_for "loop-flood.service ended" 30 e2e_run sh -c \
                "systemctl is-failed -q loop-flood.service"
        e2e_run systemctl kill -s SIGCONT --kill-who=main mapguardd
        tap_ok "what the full queue lost is said" e2e_wait_for "not counted" 10 e2e_run sh -c \
                "journalctl -u mapguardd --no-pager | grep -q 'failed calls at the limit were not counted'"
        # Its burst is told once it closes (a second after its last call) or its cgroup empties.
        e2e_wait_for "loop-flood.service's hits told" 10 e2e_run sh -c \
                "busctl get-property org.mapguard1 /org/mapguard1/unit/loop_2dflood_2eservice org.mapguard1.Unit LimitHits | grep -qv '^t 0\$'"
        LOST=$(e2e_run journalctl -u mapguardd --no-pager | sed -n 's/.*: \([0-9]*\) failed calls at the limit were not counted.*/\1/p' | tail -n 1)
        HITS=$(e2e_run busctl get-property org.mapguard1 /org/mapguard1/unit/loop_2dflood_2eservice org.mapguard1.Unit LimitHits | cut -d' ' -f2)
        tap_diag "$FLOOD calls failed in a loop while mapguardd was stopped: LimitHits $HITS, not counted $LOST"
        # Every failed call: the loop's, the mmap() that first failed, and glibc's own at the limit.
        tap_ok "LimitHits and what was not counted add up to the failed calls" \
                test "$HITS" -lt "$FLOOD" -a "$((HITS + LOST))" -gt "$FLOOD" -a "$((HITS + LOST))" -le "$((FLOOD + 8))"
else
        tap_skip "Backend=procfs observes hits: no kernel queue to fill"
        tap_skip "Backend=procfs observes hits: no kernel queue to fill"
        tap_skip "Backend=procfs observes hits: no kernel queue to fill"
fi

tap_done
