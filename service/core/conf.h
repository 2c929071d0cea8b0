/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Config: what mapguardd.conf and its drop-ins say (mapguardd.conf(5)), its defaults, matching unit
 * names against it, comparing two. Loading it is conf-load.h's. Pure logic: no logging. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_FILE_NAME "mapguardd.conf"
#define CONFIG_DROPIN_DIR_NAME "mapguardd.conf.d"
#define CONFIG_DIR_DEFAULT "/etc/mapguard"

#define CONFIG_WARNING_PERCENT_DEFAULT 80U
#define CONFIG_CRITICAL_PERCENT_DEFAULT 95U
#define CONFIG_HYSTERESIS_PERCENT_DEFAULT 5U
#define CONFIG_INTERVAL_USEC_DEFAULT (UINT64_C(10) * UINT64_C(1000000))
#define CONFIG_INTERVAL_USEC_MIN (UINT64_C(100) * UINT64_C(1000))
#define CONFIG_INTERVAL_USEC_MAX (UINT64_C(3600) * UINT64_C(1000000))
/* The initial value of the Units= list: everything systemd runs, services and scopes (containers under the
 * systemd cgroup driver, sessions). Units= lines add to it; an empty Units= empties it. */
#define CONFIG_UNITS_DEFAULT "*.service *.scope"
/* Debian's node_exporter textfile directory (prometheus-node-exporter's --collector.textfile.directory). */
#define CONFIG_TEXTFILE_DIRECTORY_DEFAULT "/var/lib/prometheus/node-exporter"

typedef enum Backend {
        BACKEND_AUTO,
        BACKEND_BPF,
        BACKEND_PROCFS,
        _BACKEND_MAX,
        _BACKEND_INVALID = -EINVAL,
} Backend;

/* Returns "auto", "bpf" or "procfs"; NULL for anything else. */
const char *backend_to_string(Backend b);
/* Returns the Backend named exactly S (case-sensitive), _BACKEND_INVALID (-EINVAL) otherwise or for NULL. */
Backend backend_from_string(const char *s);

typedef struct Config {
        char **units;                /* NULL-terminated strv of unit names or fnmatch globs; never NULL,
                                      * empty when the configuration watches nothing */
        unsigned warning_percent;    /* 80 */
        unsigned critical_percent;   /* 95 */
        unsigned hysteresis_percent; /* 5 */
        uint64_t interval_usec;      /* [Scan] IntervalSec=10 -> 10 s */
        Backend backend;             /* auto */
        char *textfile_directory;    /* [Export] TextfileDirectory=: where mapguard.prom goes; NULL when
                                      * the export is off (an empty assignment) */
} Config;

/* Returns a Config holding the built-in defaults, NULL when out of memory. */
Config *config_new_default(void);
/* Accepts NULL; returns NULL. */
Config *config_free(Config *c);
static inline void config_freep(Config **c) {
        config_free(*c);
}

/* Returns true when UNIT matches any configured name or glob (fnmatch() without flags), false otherwise
 * (always, for an empty list) or when C or UNIT is NULL. */
bool config_matches_unit(const Config *c, const char *unit);

/* The parts of a Config that a reload acts on, as config_diff() reports them. */
typedef enum ConfigChange {
        CONFIG_CHANGE_UNITS = 1 << 0,      /* Units= (compared in order) */
        CONFIG_CHANGE_THRESHOLDS = 1 << 1, /* WarningPercent=, CriticalPercent=, HysteresisPercent= */
        CONFIG_CHANGE_INTERVAL = 1 << 2,   /* IntervalSec= */
        CONFIG_CHANGE_BACKEND = 1 << 3,    /* Backend= */
        CONFIG_CHANGE_EXPORT = 1 << 4,     /* TextfileDirectory= (read on every pass: nothing to redo) */
} ConfigChange;

/* Returns the ConfigChange bits of the parts in which A and B (both non-NULL) differ; 0 when they are
 * equal in every field. */
unsigned config_diff(const Config *a, const Config *b);

/* Returns true when A and B are equal in every field; two NULLs are equal, NULL and non-NULL are not. */
bool config_equal(const Config *a, const Config *b);

/* Writes C to F as a mapguardd.conf that loads back to an equal Config (every key, Units= reset first so
 * that it does not add to the default): what `mapguardd --check-config` prints. Returns 0, or -EIO when
 * writing failed. */
int config_dump(const Config *c, FILE *f);
