/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small helpers of util.h that carry a rule: names others choose are printed escaped; suffixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "util.h"

static void test_strcpy_printable(void **state) {
        char buf[16];

        /* A comm set with prctl(PR_SET_NAME) can hold a newline and an escape sequence: escape.h shows
         * them as escapes. */
        strcpy_printable(buf, sizeof(buf), "a\nb\x1b[31mRED");
        assert_string_equal(buf, "a\\nb\\x1b[31mRED");
        strcpy_printable(buf, sizeof(buf), "tab\there\x7f");
        assert_string_equal(buf, "tab\\there\\x7f");
        /* UTF-8 and spaces stay; too long is cut with an ellipsis, still terminated. */
        strcpy_printable(buf, sizeof(buf), "caf\xc3\xa9 ok");
        assert_string_equal(buf, "caf\xc3\xa9 ok");
        strcpy_printable(buf, 7, "abcdef!");
        assert_string_equal(buf, "abc\xe2\x80\xa6");
        strcpy_printable(buf, sizeof(buf), "");
        assert_string_equal(buf, "");
}

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
                cmocka_unit_test(test_strcpy_printable),
                cmocka_unit_test(test_endswith),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
