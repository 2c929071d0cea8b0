/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mapguardd.conf: defaults, drop-in merging (conf.c), the inih handler and validation (conf-parse.c).
 * Pure logic: no logging; errors come back as "file:line: reason" strings for the caller to log. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

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

/* Loads CONFIG_DIR/mapguardd.conf, then the drop-ins *.conf of
 *   ROOT/usr/lib/mapguard/mapguardd.conf.d/, ROOT/run/mapguard/mapguardd.conf.d/,
 * CONFIG_DIR/mapguardd.conf.d/. CONFIG_DIR NULL means the first entry of the colon-separated
 * $CONFIGURATION_DIRECTORY when that is set and non-empty, else ROOT/etc/mapguard. ROOT NULL, "" or "/" is
 * the real root; ROOT is never prefixed to an explicit CONFIG_DIR or to $CONFIGURATION_DIRECTORY (both name
 * host paths already).
 *
 * Drop-ins are merged by file name: a same-named file in CONFIG_DIR masks /run and /usr/lib, /run masks
 * /usr/lib; a masking file that is empty or a symlink to /dev/null contributes nothing. Hidden files
 * (".foo.conf") are ignored. The surviving files are applied in strcmp() order of their names, after the
 * main file; for a scalar key the last assignment wins (also within one file).
 *
 * [Watch] Units= takes space-separated unit names or fnmatch globs. The list starts as the built-in
 * default "*.service *.scope"; every non-empty assignment appends to it, across lines and files in the
 * order above (duplicates dropped, first position kept), and an empty "Units=" empties it, the default
 * included (the systemd convention). So "Units=ingester@*.service" alone adds to the default, "Units="
 * then "Units=ingester@*.service" watches only those, and "Units=" as the last assignment leaves an
 * empty list: nothing is watched.
 *
 * Percent keys take a decimal integer with an optional trailing '%'. IntervalSec= takes seconds or a
 * systemd time span ("500ms", "1min 30s"). Empty values are refused except for Units=. Lines must not
 * start with whitespace (inih would silently join them to the previous value) and must fit inih's line
 * buffer (198 bytes plus newline with libinih 55).
 *
 * [Export] TextfileDirectory= takes an absolute, normalized path (no "." or ".." components, no "//",
 * no trailing slash, no control characters, at most PATH_MAX bytes); an empty value turns the export off.
 *
 * WarningPercent < CriticalPercent and HysteresisPercent < WarningPercent are checked after the merge,
 * and the error names the line of whichever of the two keys was assigned last (the one that made the
 * pair inconsistent), with the other one's location in the reason.
 *
 * Missing main file or missing directories are fine (defaults). Returns 0 and a new Config in *ret, or
 * -errno (-EINVAL bad syntax or value, -EACCES unreadable, -EISDIR/-ENOTDIR wrong file type, -EFBIG,
 * -ENOMEM, other I/O errors) with *ret untouched and a malloc'd "file:line: reason" in *ret_error when
 * RET_ERROR is non-NULL (NULL only on -ENOMEM). Line 0 means the file as a whole (cannot open, is a
 * directory). Nothing is half-applied: each call parses into a fresh Config. */
int config_load(const char *root, const char *config_dir, Config **ret, char **ret_error);

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
