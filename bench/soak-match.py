#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/soak-match.py SIGNALS ENTRIES LOOP_UNIT: for bench/soak, match mapguardd's D-Bus signals to its
journal entries, per level transition.

SIGNALS is `busctl monitor --json=short` of org.mapguard1.Manager's signals, ENTRIES `journalctl -o json`
of mapguardd's level, hit, exit and crash-loop entries, both over the same time. Every LevelChanged to
warning, critical, or back to ok from one of them (a recovery) wants one journal entry of its kind for
its pid: printed per kind as transitions, entries, and the two differences. LOOP_UNIT crash-loops on
purpose, and the journal quiets a crash loop after its first cycles (mapguardd(8), CRASH LOOPS) while
the signals go on: it is printed apart, with its hits, exits and crash-loop summaries.
"""

import collections
import json
import sys

KINDS = {
    "aeb43dafad1340dcb3525f43354f9f77": "warning",
    "97a063ad0492452d8a903b4676c6ab10": "critical",
    "b265fd977bf9420197f5625598480b8b": "ok",
    "cb4a01a2520d4aadbc1a539961645fa6": "hit",
    "294b343c37a34f30b42319f7b8ab5ee5": "exit",
    "a1117bf8707842b497d328ffecd6a343": "crash-loop",
}
LEVELS = ("warning", "critical", "ok")


def read_json_lines(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def main(signals_path, entries_path, loop_unit):
    # (unit is the loop unit, kind, pid) -> count
    entries = collections.Counter()
    loop_entries = collections.Counter()
    loop_hit_pids = set()
    for e in read_json_lines(entries_path):
        kind = KINDS.get(e.get("MESSAGE_ID"))
        if not kind:
            continue
        in_loop = e.get("MAPGUARD_UNIT") == loop_unit
        if in_loop:
            loop_entries[kind] += 1
            if kind == "hit":
                loop_hit_pids.add(e.get("MAPGUARD_PID"))
        elif kind in LEVELS:
            entries[(kind, e.get("MAPGUARD_PID"))] += 1
        else:
            loop_entries["elsewhere " + kind] += 1

    signals = collections.Counter()
    loop_signals = collections.Counter()
    for m in read_json_lines(signals_path):
        member = m.get("member")
        data = m.get("payload", {}).get("data", [])
        if member == "LimitHit":
            loop_signals["LimitHit" if data and data[0] == loop_unit else "LimitHit elsewhere"] += 1
            continue
        if member != "LevelChanged":
            continue
        unit, pid, _comm, old, new = data[:5]
        if not (new in ("warning", "critical") or (new == "ok" and old in ("warning", "critical"))):
            continue
        if unit == loop_unit:
            loop_signals[new] += 1
        else:
            signals[(new, str(pid))] += 1

    for kind in LEVELS:
        n_sig = sum(n for (k, _), n in signals.items() if k == kind)
        n_ent = sum(n for (k, _), n in entries.items() if k == kind)
        missing = sum(n for (k, _), n in (signals - entries).items() if k == kind)
        extra = sum(n for (k, _), n in (entries - signals).items() if k == kind)
        per = f"{n_ent / n_sig:.2f}" if n_sig else "-"
        print(f"  {kind}: {n_sig} transitions, {n_ent} entries ({per} per transition), "
              f"{missing} without an entry, {extra} without a transition")
    print(f"  {loop_unit} (crash-looping): LevelChanged warning {loop_signals['warning']}, critical "
          f"{loop_signals['critical']}, ok {loop_signals['ok']}; LimitHit {loop_signals['LimitHit']}; "
          f"entries: warning {loop_entries['warning']}, critical {loop_entries['critical']}, "
          f"hit {loop_entries['hit']} (of {len(loop_hit_pids)} processes), exit {loop_entries['exit']}, "
          f"crash-loop {loop_entries['crash-loop']}")
    others = {k: n for k, n in list(loop_entries.items()) + list(loop_signals.items()) if "elsewhere" in k}
    if others:
        print(f"  limit hits in other units: {others}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: soak-match.py SIGNALS ENTRIES LOOP_UNIT")
    main(*sys.argv[1:])
