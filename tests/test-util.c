/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small helpers of util.h that carry a rule: suffixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "util.h"

static void test_endswith(void **state) {
        assert_true(endswith("held.service", ".service"));
        assert_true(endswith(".service", ".service"));
        assert_true(endswith("x", ""));
        assert_false(endswith("held.scope", ".service"));
        assert_false(endswith("service", ".service"));
        assert_false(endswith("", ".service"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_endswith),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
