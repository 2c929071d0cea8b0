/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exposition writer (exposition.c): exposition_format(), what mapguard.prom and `mapguardctl
 * metrics` are written with, for a unit whose name (the input up to its first NUL) anyone who can start
 * a transient unit chooses. Round trip: the unit label read back from every sample line, as a Prometheus
 * parser reads it (\\ \" \n escapes), is the name made valid UTF-8; and no line is broken by it. */

#include <errno.h>
#include <string.h>

#include "exposition.h"
#include "fuzz.h"
#include "utf8.h"
#include "util.h"

/* Reads the label value that starts at P (after the opening quote) into OUT, undoing the escapes;
 * returns a pointer after the closing quote, or NULL when the value is not well formed. */
static const char *read_label_value(const char *p, char *out) {
        for (;;) {
                if (*p == '\0' || *p == '\n')
                        return NULL;
                if (*p == '"')
                        break;
                if (*p == '\\') {
                        p++;
                        if (*p == 'n')
                                *out++ = '\n';
                        else if (*p == '\\' || *p == '"')
                                *out++ = *p;
                        else
                                return NULL;
                        p++;
                        continue;
                }
                *out++ = *p++;
        }
        *out = '\0';
        return p + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *name = fuzz_strndup(data, size), *expected = NULL, *text = NULL, *value = NULL;
        ExpositionUnit u = {
                .level = LEVEL_OK,
                .processes = 1,
                .map_count = 42,
                .peak_map_count = 42,
                .seconds_to_limit = UINT64_MAX,
        };
        Exposition e = {
                .version = "fuzz",
                .backend = "procfs",
                .hit_detection = "observed",
                .max_map_count = 65530,
                .last_scan_usec = 1,
                .scan_duration_usec = UINT64_MAX,
                .units = &u,
                .n_units = 1,
        };
        size_t samples = 0;

        u.name = name;
        /* Every label value goes through the same escaping. */
        u.pod_uid = name;
        u.container_id = name;
        FUZZ_CHECK(exposition_format(&e, &text) == 0);
        expected = strdup(name);
        value = malloc(strlen(text) + 1);
        FUZZ_CHECK(expected && value);
        utf8_make_valid(expected);

        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n'), *p;

                FUZZ_CHECK(end); /* every line ends with a newline */
                if (line[0] != '#' && (p = strstr(line, "{unit=\"")) && p < end) {
                        const char *after = read_label_value(p + strlen("{unit=\""), value);

                        FUZZ_CHECK(after && after <= end);
                        FUZZ_CHECK(streq(value, expected));
                        samples++;
                }
                line = end + 1;
        }
        FUZZ_CHECK(samples > 0);
        return 0;
}
