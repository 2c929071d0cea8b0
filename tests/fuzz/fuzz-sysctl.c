/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm.max_map_count as mapguard reads it: the first byte picks the live value
 * (max_map_count_parse_live(), fed as max_map_count_read_live() feeds it: at most 63 bytes) or sysctl.d
 * text (max_map_count_parse_sysctl(), what max_map_count_read_tuned() runs on each file; the rest of
 * the input is two files split at the first NUL). */

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "max-map-count.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        if (data[0] & 1) {
                char buf[64];
                size_t n = size - 1;
                unsigned v = 4242;
                int r;

                if (n >= sizeof(buf) - 1)
                        return 0; /* max_map_count_read_live() refuses it before parsing */
                memcpy(buf, data + 1, n);
                buf[n] = '\0';
                r = max_map_count_parse_live(buf, n, &v);
                FUZZ_CHECK(r == 0 || r == -EBADMSG);
                FUZZ_CHECK(r == 0 ? v <= INT_MAX : v == 4242);
        } else {
                MaxMapCountTuned t = {};
                const char *text = (const char *) data + 1, *nul;
                size_t len = size - 1;
                int r;

                nul = memchr(text, '\0', len);
                r = max_map_count_parse_sysctl("/etc/sysctl.d/a.conf", text,
                                               nul ? (size_t) (nul - text) : len, &t);
                FUZZ_CHECK(r == 0);
                if (nul) {
                        r = max_map_count_parse_sysctl("/usr/lib/sysctl.d/b.conf", nul + 1,
                                                       len - (size_t) (nul - text) - 1, &t);
                        FUZZ_CHECK(r == 0);
                }
                FUZZ_CHECK(!(t.set && t.bad));
                FUZZ_CHECK(!t.set || t.value <= INT_MAX);
                FUZZ_CHECK(!(t.set || t.bad) || t.source);
        }
        return 0;
}
