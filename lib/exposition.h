/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Prometheus exposition (text format 0.0.4) of mapguard's numbers, the families mapguardd(8)
 * lists under METRICS. One writer for both callers: the daemon's textfile (manager-export.c) and
 * `mapguardctl metrics` (client/metrics.c), so the two cannot drift apart. Pure logic: it formats
 * what it is given. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "level-name.h"

typedef struct ExpositionUnit {
        const char *name; /* the unit name as systemd spells it (\x2d escapes, any UTF-8) */
        /* A Kubernetes container's names (labels namespace, pod, container, as kube-state-metrics and
         * cAdvisor name them), its pod's uid (pod_uid), and the id of a container that is watched by its
         * scope (container_id: never for one watched across restarts, whose counters must stay one
         * series); NULL: none. */
        const char *k8s_namespace, *k8s_pod, *k8s_container;
        const char *pod_uid;
        const char *container_id;
        Level level;
        unsigned processes;
        unsigned map_count; /* of its worst process */
        unsigned peak_map_count;
        uint64_t seconds_to_limit; /* UINT64_MAX: not growing (or no trend yet), the sample is left out */
        uint64_t limit_hits;       /* written only when Exposition.hit_detection is set */
        uint64_t limit_exits;
} ExpositionUnit;

typedef struct Exposition {
        const char *version;
        const char *backend;          /* "bpf" or "procfs" */
        const char *hit_detection;    /* "caught" or "observed"; NULL: limit hits are not known, so the
                                       * _limit_hits_total and _limit_exits_total families are left out
                                       * and build_info says hit_detection="none" */
        unsigned max_map_count;       /* the live limit; 0 (unknown): left out */
        unsigned tuned_max_map_count; /* 0 (no sysctl.d file sets it): left out */
        uint64_t last_scan_usec;      /* CLOCK_REALTIME µs; 0 (none yet): left out */
        uint64_t scan_duration_usec;  /* UINT64_MAX (unknown, e.g. over D-Bus): left out */
        const ExpositionUnit *units;
        size_t n_units;
} Exposition;

/* Formats E as a complete exposition: HELP and TYPE before each family, label values escaped (\\, \",
 * \n; bytes that are not UTF-8 become '?'), a unit's namespace, pod, container, pod_uid and container_id
 * labels when it has them. Families with no sample are left out entirely. Returns 0 with a malloc'd
 * NUL-terminated text in *RET, or -ENOMEM (*RET untouched). */
int exposition_format(const Exposition *e, char **ret);
