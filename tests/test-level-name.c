/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* level-name.c: the levels' names, both ways. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "level-name.h"
#include "util.h"

static void test_strings(void **state) {
        assert_string_equal(level_to_string(LEVEL_UNKNOWN), "unknown");
        assert_string_equal(level_to_string(LEVEL_OK), "ok");
        assert_string_equal(level_to_string(LEVEL_WARNING), "warning");
        assert_string_equal(level_to_string(LEVEL_CRITICAL), "critical");
        assert_null(level_to_string(_LEVEL_MAX));
        assert_null(level_to_string(_LEVEL_INVALID));
        assert_null(level_to_string((Level) 42));

        for (Level l = 0; l < _LEVEL_MAX; l++)
                assert_int_equal(level_from_string(level_to_string(l)), l);
        assert_int_equal(level_from_string("OK"), _LEVEL_INVALID);
        assert_int_equal(level_from_string(""), _LEVEL_INVALID);
        assert_int_equal(level_from_string("warn"), _LEVEL_INVALID);
        assert_int_equal(level_from_string("critical "), _LEVEL_INVALID);
        assert_int_equal(level_from_string(NULL), _LEVEL_INVALID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
