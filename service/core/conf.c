/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The Config object: its defaults, matching unit names, comparing two. Loading one from the files is
 * conf-load.c's, what a file says conf-parse.c's. */

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>

#include "conf.h"
#include "strv.h"
#include "util.h"

static const char *const backend_table[_BACKEND_MAX] = {
        [BACKEND_AUTO] = "auto",
        [BACKEND_BPF] = "bpf",
        [BACKEND_PROCFS] = "procfs",
};

const char *backend_to_string(Backend b) {
        if (b < 0 || b >= _BACKEND_MAX)
                return NULL;
        return backend_table[b];
}

Backend backend_from_string(const char *s) {
        if (!s)
                return _BACKEND_INVALID;
        for (Backend b = 0; b < _BACKEND_MAX; b++)
                if (streq(backend_table[b], s))
                        return b;
        return _BACKEND_INVALID;
}

Config *config_new_default(void) {
        Config *c = calloc(1, sizeof(Config));
        if (!c)
                return NULL;
        *c = (Config){
                .warning_percent = CONFIG_WARNING_PERCENT_DEFAULT,
                .critical_percent = CONFIG_CRITICAL_PERCENT_DEFAULT,
                .hysteresis_percent = CONFIG_HYSTERESIS_PERCENT_DEFAULT,
                .interval_usec = CONFIG_INTERVAL_USEC_DEFAULT,
                .backend = BACKEND_AUTO,
        };
        c->textfile_directory = strdup(CONFIG_TEXTFILE_DIRECTORY_DEFAULT);
        if (!c->textfile_directory || strv_split_blanks(CONFIG_UNITS_DEFAULT, &c->units) < 0)
                return config_free(c);
        return c;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        strv_free(c->units);
        free(c->textfile_directory);
        free(c);
        return NULL;
}

bool config_matches_unit(const Config *c, const char *unit) {
        if (!c || !unit || !c->units)
                return false;
        /* FNM_NOESCAPE, as systemd matches unit globs (ListUnitsByPatterns, systemctl): a backslash
         * is a character of the name, as in the escaped "mnt-data\x2d1.mount" or "foo@a\x2db.service". */
        for (char **p = c->units; *p; p++)
                if (fnmatch(*p, unit, FNM_NOESCAPE) == 0)
                        return true;
        return false;
}

unsigned config_diff(const Config *a, const Config *b) {
        unsigned changes = 0;

        if (!strv_equal(a->units, b->units))
                changes |= CONFIG_CHANGE_UNITS;
        if (a->warning_percent != b->warning_percent || a->critical_percent != b->critical_percent ||
            a->hysteresis_percent != b->hysteresis_percent)
                changes |= CONFIG_CHANGE_THRESHOLDS;
        if (a->interval_usec != b->interval_usec)
                changes |= CONFIG_CHANGE_INTERVAL;
        if (a->backend != b->backend)
                changes |= CONFIG_CHANGE_BACKEND;
        if (!streq_ptr(a->textfile_directory, b->textfile_directory))
                changes |= CONFIG_CHANGE_EXPORT;
        return changes;
}

bool config_equal(const Config *a, const Config *b) {
        if (!a || !b)
                return a == b;
        return config_diff(a, b) == 0;
}

int config_dump(const Config *c, FILE *f) {
        /* In the largest unit that keeps it exact, so that it reads back the same. */
        uint64_t unit = c->interval_usec % USEC_PER_SEC == 0 ? USEC_PER_SEC
                : c->interval_usec % USEC_PER_MSEC == 0      ? USEC_PER_MSEC
                                                             : 1;

        /* An empty assignment first, so that the list reads back as it is, not added to the default. */
        fputs("[Watch]\nUnits=\nUnits=", f);
        for (size_t i = 0; c->units && c->units[i]; i++)
                fprintf(f, "%s%s", i > 0 ? " " : "", c->units[i]);
        fprintf(f,
                "\n\n[Thresholds]\nWarningPercent=%u\nCriticalPercent=%u\nHysteresisPercent=%u\n\n"
                "[Scan]\nIntervalSec=%" PRIu64 "%s\nBackend=%s\n",
                c->warning_percent, c->critical_percent, c->hysteresis_percent, c->interval_usec / unit,
                unit == USEC_PER_SEC            ? "s"
                        : unit == USEC_PER_MSEC ? "ms"
                                                : "us",
                backend_to_string(c->backend));
        /* Empty when the export is off: it reads back as the same setting. */
        fprintf(f, "\n[Export]\nTextfileDirectory=%s\n", c->textfile_directory ? c->textfile_directory : "");
        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
