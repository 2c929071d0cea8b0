#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fleet view with the real parts, in a booted container: mapguardd writes mapguard.prom into Debian's
# node_exporter textfile directory; promtool finds it clean; Debian's prometheus-node-exporter, started
# through its packaged unit with its default textfile directory, serves mapguard_unit_memory_map_areas
# equal to the kernel's count; Debian's prometheus scrapes it with our rules loaded and answers the same
# number over its HTTP API; `mapguardctl metrics` agrees. A process that maps at start and then stays
# flat never shows growth or a time to the limit. A Kubernetes container (a scope named as kubelet and
# containerd name it, the runtime's config.json beside it) is one series named by its names, labelled
# namespace, pod, container and pod_uid, without the container_id that changes at each restart. A clean
# stop removes the file.
# Everything listens on loopback only, on ports picked free at the start (the container shares the
# host's network).
source "$(dirname "$0")/lib.sh"

for p in prometheus prometheus-node-exporter promtool curl python3; do
        command -v "$p" >/dev/null 2>&1 || tap_skip_all "$p is not installed (apt install prometheus prometheus-node-exporter curl)"
done

TEXTFILE=/var/lib/prometheus/node-exporter/mapguard.prom
POD_UID=4b0a8c3e-1f2d-4c5b-9a7e-0d1c2b3a4f5e
CONTAINER=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
NE_PORT=$(free_port)
PROM_PORT=$(free_port)

e2e_boot
tap_plan 25

# The kernel's count: lines of maps without the gate area.
kernel_count() {
        e2e_run sh -c "grep -vc '\[vsyscall\]\$' /proc/$1/maps"
}
main_pid() {
        e2e_run systemctl show -p MainPID --value "$1"
}
# The value of the sample whose name and labels are exactly $1 in the exposition on stdin.
sample() {
        awk -v s="$1" 'index($0, s " ") == 1 { print $NF; exit }'
}
textfile_sample() {
        e2e_run cat "$TEXTFILE" 2>/dev/null | sample "$1"
}
# Waits until the sample $1 of the textfile is $2.
textfile_is() {
        [ "$(textfile_sample "$1")" = "$2" ]
}

# Scans every 2 s, so that the numbers settle quickly; the rest is the default, the textfile directory too.
e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Scan]
IntervalSec=2"

tap_ok "the packaged textfile directory exists" e2e_run test -d /var/lib/prometheus/node-exporter
tap_ok "systemctl start mapguardd" e2e_run systemctl start mapguardd

# It maps its 3000 areas over its first second (500 every 200 ms), then holds: the young readings see the
# climb, every later one the same count.
tap_ok "a unit that maps 3000 areas as it starts, then holds, starts" \
        e2e_run systemd-run --unit=mapped.service --property=Type=exec \
        /usr/local/bin/vmagrow --step 500 --interval-ms 200 3000
PID=$(main_pid mapped.service)
unit_path() {
        e2e_run busctl call org.mapguard1 /org/mapguard1 org.mapguard1.Manager ListUnits |
                grep -o '"mapped.service" "[^"]*"' | cut -d'"' -f4 | grep .
}
e2e_wait_for "mapped.service watched" 20 unit_path
# The trend honesty rule: mapped at start, flat since. Read at the young cadence for its first 5 readings,
# then every 2 s: for its first 14 s it must never show growth, in any of the three places.
check_flat() {
        local deadline=$(($(_e2e_now) + 14)) path growth secs
        path=$(unit_path)
        [ -n "$path" ] || { echo "no object for mapped.service"; return 1; }
        while [ "$(_e2e_now)" -lt "$deadline" ]; do
                growth=$(e2e_run busctl get-property org.mapguard1 "$path" org.mapguard1.Unit GrowthPerMinute)
                secs=$(e2e_run busctl get-property org.mapguard1 "$path" org.mapguard1.Unit SecondsToLimit)
                [ "$growth" = "d 0" ] || { echo "GrowthPerMinute: $growth"; return 1; }
                [ "$secs" = "t 18446744073709551615" ] || { echo "SecondsToLimit: $secs"; return 1; }
                if e2e_run grep -q 'mapguard_unit_seconds_to_limit{unit="mapped.service"' "$TEXTFILE"; then
                        echo "mapguard.prom has a time to the limit"
                        return 1
                fi
                sleep 0.5
        done
}
tap_ok "a process that mapped at start, then stayed flat, shows no growth and no time to the limit" check_flat

e2e_wait_for "vmagrow holding" 20 e2e_run sh -c "test \$(grep -vc '\[vsyscall\]\$' /proc/$PID/maps) -gt 3000"
COUNT=$(kernel_count "$PID")
tap_diag "mapped.service: pid $PID, kernel count $COUNT"

SEL='mapguard_unit_memory_map_areas{unit="mapped.service"}'
tap_ok "mapguard.prom has the kernel's count for mapped.service" \
        e2e_wait_for "$SEL $COUNT in $TEXTFILE" 30 textfile_is "$SEL" "$COUNT"
tap_is "mapguard.prom is mode 0644, root's" "$(e2e_run stat -c '%a %U' "$TEXTFILE")" "644 root"
check_promtool() {
        e2e_run sh -c "promtool check metrics < $TEXTFILE"
}
tap_ok "promtool check metrics is clean on mapguard.prom" check_promtool
tap_is "no pid labels" "$(e2e_run grep -c 'pid=' "$TEXTFILE")" 0
tap_ok "no temporary file is left in the directory" \
        e2e_run sh -c "test \"\$(ls -A /var/lib/prometheus/node-exporter)\" = mapguard.prom"

# Debian's node_exporter, its packaged unit and default textfile directory, on loopback.
e2e_write_file /etc/default/prometheus-node-exporter "ARGS=\"--web.listen-address=127.0.0.1:$NE_PORT\""
tap_ok "systemctl start prometheus-node-exporter" e2e_run systemctl start prometheus-node-exporter
scrape_is() {
        [ "$(e2e_run curl -sf "http://127.0.0.1:$NE_PORT/metrics" | sample "$SEL")" = "$COUNT" ]
}
tap_ok "node_exporter serves $SEL = $COUNT" e2e_wait_for "node_exporter's $SEL" 30 scrape_is
tap_ok "node_exporter read the file without error" e2e_run sh -c \
        "curl -sf http://127.0.0.1:$NE_PORT/metrics | grep -qx 'node_textfile_scrape_error 0'"

# Debian's prometheus scraping it, with our rules.
e2e_write_file /etc/prometheus/prometheus.yml "global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - /usr/share/mapguard/mapguard.rules.yml
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NE_PORT']"
e2e_write_file /etc/default/prometheus "ARGS=\"--web.listen-address=127.0.0.1:$PROM_PORT\""
tap_ok "systemctl start prometheus" e2e_run systemctl start prometheus
query_is() {
        e2e_run curl -sfG "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$SEL" |
                python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(0 if len(r) == 1 and r[0]["value"][1] == sys.argv[1] else 1)' "$COUNT"
}
tap_ok "PromQL over the HTTP API returns $COUNT" e2e_wait_for "prometheus's $SEL" 60 query_is
rules_loaded() {
        e2e_run curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/rules" | python3 -c 'import json, sys
names = {r["name"] for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]}
want = {"MapguardUnitNearLimit", "MapguardUnitAtLimit", "MapguardUnitLimitHit", "MapguardLimitBelowTuned",
        "MapguardUnitPredictedLimit", "MapguardMetricsStale"}
missing = want - names
print("missing:", sorted(missing)) if missing else None
sys.exit(1 if missing else 0)'
}
tap_ok "our six alerting rules are in /api/v1/rules" e2e_wait_for "the rules" 30 rules_loaded

# mapguardctl metrics: the same exposition from the D-Bus API.
if e2e_run mapguardctl metrics >/dev/null 2>&1; then
        tap_is "mapguardctl metrics agrees" "$(e2e_run mapguardctl metrics | sample "$SEL")" "$COUNT"
        check_ctl_promtool() {
                e2e_run sh -c "mapguardctl metrics | promtool check metrics"
        }
        tap_ok "promtool check metrics is clean on mapguardctl metrics" check_ctl_promtool
else
        tap_skip "mapguardctl metrics agrees" "the metrics verb is not registered in this build"
        tap_skip "promtool check metrics is clean on mapguardctl metrics" "the metrics verb is not registered"
fi

# Kubernetes, systemd cgroup driver: a pod's slice and a container's scope, named as kubelet and
# containerd name them (the pod UID's dashes as underscores in the slice name), and the container's
# config.json with kubelet's annotations where containerd keeps it, written before the container starts.
e2e_write_file "/run/containerd/io.containerd.runtime.v2.task/k8s.io/$CONTAINER/config.json" \
        "{\"ociVersion\":\"1.2.1\",\"annotations\":{\"io.kubernetes.cri.container-name\":\"ingester\",\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-name\":\"ingester-0\",\"io.kubernetes.cri.sandbox-namespace\":\"mimir\",\"io.kubernetes.cri.sandbox-uid\":\"$POD_UID\"}}"
tap_ok "a container scope in a burstable pod's slice starts" e2e_run sh -c \
        "systemd-run --scope --slice=kubepods-burstable-pod${POD_UID//-/_}.slice \
                --unit=cri-containerd-$CONTAINER.scope /usr/local/bin/vmagrow 500 >/dev/null 2>&1 &"
K8S_LABELS="unit=\"mimir/ingester-0/ingester\",namespace=\"mimir\",pod=\"ingester-0\",container=\"ingester\",pod_uid=\"$POD_UID\""
K8S="mapguard_unit_processes{$K8S_LABELS}"
tap_ok "its series are named by its names and carry namespace, pod, container and pod_uid" \
        e2e_wait_for "$K8S" 30 textfile_is "$K8S" 1
tap_is "its level series carry them too" \
        "$(e2e_run grep -c "^mapguard_unit_level{$K8S_LABELS,level=" "$TEXTFILE")" 4
tap_is "and none carries a container_id (it changes at each restart)" \
        "$(e2e_run sh -c "grep -c 'container_id=\"$CONTAINER\"' '$TEXTFILE' || true")" 0
k8s_query() {
        e2e_run curl -sfG "http://127.0.0.1:$PROM_PORT/api/v1/query" \
                --data-urlencode "query=mapguard_unit_processes{namespace=\"mimir\",pod=\"ingester-0\",container=\"ingester\",pod_uid=\"$POD_UID\"}" |
                grep -q '"value":\[[0-9.]*,"1"\]'
}
tap_ok "prometheus has them" e2e_wait_for "the pod's series in prometheus" 30 k8s_query

# A clean stop removes the file, so node_exporter stops serving numbers nobody updates.
tap_ok "systemctl stop mapguardd" e2e_run systemctl stop mapguardd
tap_ok "mapguard.prom is gone after a clean stop" e2e_run test ! -e "$TEXTFILE"
tap_ok "the journal has no warning from mapguardd about the export" e2e_run sh -c \
        "! journalctl -u mapguardd -p warning --no-pager | grep -q 'mapguard.prom'"

tap_done
