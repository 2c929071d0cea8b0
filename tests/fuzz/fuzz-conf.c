/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardd.conf with inih: what config_load() runs on each file it reads (parser_parse_buffer()), one
 * file after the other into the same Parser, then parser_check_merged(). The input is up to three
 * files, split at "\n%%". A Config that passes must hold what the checks promise. */

#include <errno.h>
#include <string.h>

#include "conf-load.h"
#include "conf-parse.h"
#include "conf.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = { "/etc/mapguard/mapguardd.conf", "/run/a.conf", "/etc/b.conf" };
        Parser p = {};
        const char *text = (const char *) data, *end = text + size;
        int r = 0;

        if (size > 64 * 1024)
                return 0;
        p.config = config_new_default();
        FUZZ_CHECK(p.config);

        for (size_t i = 0; i < ELEMENTSOF(names) && r >= 0 && text <= end; i++) {
                const char *sep =
                        i + 1 < ELEMENTSOF(names) ? memmem(text, (size_t) (end - text), "\n%%", 3) : NULL;
                size_t len = (size_t) ((sep ? sep + 1 : end) - text);
                char *buf = fuzz_strndup((const uint8_t *) text, len);

                /* config_load() skips empty files. */
                if (len > 0)
                        r = parser_parse_buffer(&p, names[i], buf, len);
                free(buf);
                if (!sep)
                        break;
                text = sep + 3;
        }
        if (r >= 0)
                r = parser_check_merged(&p);

        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0) {
                /* "file:line: reason" */
                FUZZ_CHECK(p.error && strchr(p.error, ':'));
        } else {
                Config *c = p.config;

                FUZZ_CHECK(!p.error);
                FUZZ_CHECK(c->units);
                FUZZ_CHECK(c->warning_percent < c->critical_percent);
                FUZZ_CHECK(c->hysteresis_percent < c->warning_percent);
                FUZZ_CHECK(c->critical_percent <= 100);
                FUZZ_CHECK(c->interval_usec >= CONFIG_INTERVAL_USEC_MIN &&
                           c->interval_usec <= CONFIG_INTERVAL_USEC_MAX);
                FUZZ_CHECK(backend_to_string(c->backend));
                for (char **u = c->units; *u; u++)
                        FUZZ_CHECK((*u)[0] != '\0' && !strpbrk(*u, " \t\n"));
                FUZZ_CHECK(config_equal(c, c));
        }
        config_free(p.config);
        parser_done(&p);
        return 0;
}
