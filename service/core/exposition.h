/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Prometheus exposition (text format 0.0.4) of mapguard's numbers, the families mapguardd(8)
 * lists under METRICS. One writer for both callers: the daemon's textfile (manager-export.c) and `mapguardctl
 * metrics` (client/metrics.c), so the two cannot drift apart. Pure logic: it formats what it is given. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "level.h"

/* The longest pod UID label we take from a slice name (a UUID is 36 bytes), with its NUL. */
#define EXPOSITION_POD_UID_MAX 128
/* A container ID: 64 hex digits and the NUL. */
#define EXPOSITION_CONTAINER_ID_MAX 65

typedef struct ExpositionUnit {
        const char *name;   /* the unit name as systemd spells it (\x2d escapes, any UTF-8) */
        const char *cgroup; /* its control group path; NULL: no Kubernetes labels */
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
 * \n; bytes that are not UTF-8 become '?'), a unit below a kubepods*-pod<uid>.slice labelled with
 * pod_uid and, when it is a <runtime>-<64 hex>.scope, container_id. Families with no sample are left out
 * entirely. Returns 0 with a malloc'd NUL-terminated text in *RET, or -ENOMEM (*RET untouched). */
int exposition_format(const Exposition *e, char **ret);

/* Finds, in the ancestors of the control group path CGROUP (its last component is the unit itself),
 * the deepest slice named kubepods*-pod<uid>.slice, and writes <uid> with '_' turned back into '-' to
 * BUF (SIZE bytes). Returns true when found, false otherwise (BUF untouched): no such slice, a uid that is
 * empty, holds other than [0-9A-Za-z_] or does not fit. */
bool exposition_pod_uid(const char *cgroup, char *buf, size_t size);

/* Writes to BUF the 64 lowercase hex digits of a unit named <runtime>-<64 hex>.scope (as runc, containerd
 * and CRI-O name a container's scope under the systemd cgroup driver). Returns true when UNIT is such a
 * name, false otherwise (BUF untouched). */
bool exposition_container_id(const char *unit, char buf[static EXPOSITION_CONTAINER_ID_MAX]);
