/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The Config object: its defaults, matching unit names, comparing two. Loading one from the files is
 * conf-load.c's, what a file says conf-parse.c's. */

#include <fnmatch.h>

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
