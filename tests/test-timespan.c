/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* timespan.c: systemd's time spans, as IntervalSec= and --hit-window= take them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "timespan.h"
#include "util.h"

static void test_parse_timespan(void **state) {
        static const struct {
                const char *s;
                int r;
                uint64_t usec;
        } cases[] = {
                { "5", 0, 5 * USEC_PER_SEC },
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "1min 30s", 0, 90 * USEC_PER_SEC },
                { "2h30min", 0, 9000 * USEC_PER_SEC },
                { " 1.5s ", 0, 1500 * USEC_PER_MSEC },
                { "15 min", 0, 900 * USEC_PER_SEC },
                { "1m", 0, 60 * USEC_PER_SEC },
                { "2 weeks 1d", 0, 15 * 86400 * USEC_PER_SEC },
                { "3us 2\xc2\xb5s", 0, 5 },
                { "", -EINVAL, 0 },
                { "   ", -EINVAL, 0 },
                { "-1s", -EINVAL, 0 },
                { "ms", -EINVAL, 0 },
                { "1x", -EINVAL, 0 },
                { "1.s", -EINVAL, 0 },
                { "1 minutes2", 0, 62 * USEC_PER_SEC },
                { "99999999999999999999", -ERANGE, 0 },
                { "18446744073709551615us 1us", -ERANGE, 0 },
                { "307445734561826w", -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 4242;

                assert_int_equal(parse_timespan(cases[i].s, &v), cases[i].r);
                assert_int_equal(v, cases[i].r == 0 ? cases[i].usec : 4242); /* untouched on failure */
        }
        assert_int_equal(parse_timespan(NULL, &(uint64_t){ 0 }), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_timespan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
