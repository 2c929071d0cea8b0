#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the PromQL that mapguard ships, printing TAP.

  check-promql.py DASHBOARD.json RULES.yml

1. Every PromQL expression in the Grafana dashboard parses: they are written, with Grafana's variables
   replaced by values Prometheus accepts, as recording rules into a temporary rules file, and
   `promtool check rules` must accept it.
2. Every mapguard_* name in the dashboard and in the rules file is a family mapguardd exports
   (core/exposition.c, listed in mapguardd(8) METRICS): a typo parses fine and silently shows nothing.
3. The dashboard has the panels the issue asks for.

Skipped (TAP "1..0 # SKIP") when promtool is not installed (Debian: the prometheus package).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FAMILIES = {
    "mapguard_memory_map_areas_limit",
    "mapguard_memory_map_areas_limit_tuned",
    "mapguard_unit_memory_map_areas",
    "mapguard_unit_memory_map_areas_peak",
    "mapguard_unit_processes",
    "mapguard_unit_level",
    "mapguard_unit_seconds_to_limit",
    "mapguard_unit_limit_hits_total",
    "mapguard_unit_limit_exits_total",
    "mapguard_scan_duration_seconds",
    "mapguard_last_scan_timestamp_seconds",
    "mapguard_build_info",
}

# Grafana's variables, and values that stand for them in plain PromQL.
GRAFANA_VARIABLES = [
    ("${__rate_interval}", "5m"),
    ("$__rate_interval", "5m"),
    ("${__interval}", "1m"),
    ("$__interval", "1m"),
    ("${__range}", "1h"),
    ("$__range", "1h"),
    ("${instance}", ".*"),
    ("$instance", ".*"),
]


def collect_exprs(node, out):
    """Every "expr" string anywhere in the dashboard, and the metric queries of its variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                out.append(value)
            elif key == "definition" and isinstance(value, str):
                m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", value)
                out.append(m.group(1) if m else value)
            else:
                collect_exprs(value, out)
    elif isinstance(node, list):
        for value in node:
            collect_exprs(value, out)
    return out


def substitute(expr):
    for var, value in GRAFANA_VARIABLES:
        expr = expr.replace(var, value)
    return expr


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, desc, diag=""):
        self.n += 1
        print(("ok" if ok else "not ok") + f" {self.n} - {desc}")
        if not ok:
            self.failed += 1
            for line in diag.splitlines():
                print(f"# {line}")


def main():
    dashboard_path, rules_path = sys.argv[1], sys.argv[2]
    if not shutil.which("promtool"):
        print("1..0 # SKIP promtool is not installed (Debian: apt install prometheus)")
        return 0

    tap = Tap()
    with open(dashboard_path, encoding="utf-8") as f:
        dashboard = json.load(f)
    with open(rules_path, encoding="utf-8") as f:
        rules_text = f.read()

    exprs = collect_exprs(dashboard, [])
    tap.check(len(exprs) >= 8, f"the dashboard has PromQL expressions ({len(exprs)})")

    leftover = [e for e in map(substitute, exprs) if "$" in e]
    tap.check(not leftover, "every Grafana variable in them has a stand-in", "\n".join(leftover))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard.rules.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, expr in enumerate(exprs):
                f.write(f"      - record: mapguard:dashboard_check_{i}\n")
                f.write(f"        expr: {json.dumps(substitute(expr))}\n")
        res = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        tap.check(res.returncode == 0, "promtool check rules accepts every dashboard expression",
                  res.stdout + res.stderr)

    res = subprocess.run(["promtool", "check", "rules", rules_path], capture_output=True, text=True)
    tap.check(res.returncode == 0, "promtool check rules accepts the alerting rules", res.stdout + res.stderr)

    names = set(re.findall(r"\bmapguard_[a-z_]+", "\n".join(exprs) + "\n" + rules_text))
    unknown = sorted(names - FAMILIES)
    tap.check(not unknown, "the dashboard and the rules name only exported families", " ".join(unknown))

    titles = {p.get("title", "") for p in dashboard.get("panels", [])}
    for want in ("Units nearest the limit", "Memory map areas against the limit", "Limit hits and exits",
                 "Time to the limit"):
        tap.check(want in titles, f"the dashboard has the panel '{want}'")
    tap.check(all("datasource" in p for p in dashboard["panels"]),
              "every panel names its data source (the dashboard's variable)")

    print(f"1..{tap.n}")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
