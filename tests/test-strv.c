/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.c: NULL-terminated string lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "strv.h"
#include "util.h"

static void test_strv_equal(void **state) {
        char *a[] = { (char *) "x.service", (char *) "*.scope", NULL };
        char *b[] = { (char *) "x.service", (char *) "*.scope", NULL };
        char *c[] = { (char *) "*.scope", (char *) "x.service", NULL };
        char *empty[] = { NULL };

        assert_true(strv_equal(a, b));
        assert_false(strv_equal(a, c));
        assert_false(strv_equal(a, empty));
        assert_true(strv_equal(empty, NULL));
        assert_true(strv_equal(NULL, NULL));
}

static void test_strv_split_blanks(void **state) {
        _cleanup_strv_free_ char **l = NULL, **empty = NULL;

        assert_int_equal(strv_split_blanks("  a.service\t*.scope  b ", &l), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "a.service");
        assert_string_equal(l[1], "*.scope");
        assert_string_equal(l[2], "b");
        assert_null(l[3]);
        /* Blank: an empty list, not NULL. */
        assert_int_equal(strv_split_blanks(" \t ", &empty), 0);
        assert_non_null(empty);
        assert_int_equal(strv_length(empty), 0);
}

static void test_strv_consume_contains(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_false(strv_contains(l, "x"));
        assert_int_equal(strv_consume(&l, strdup("x")), 0);
        assert_int_equal(strv_consume(&l, strdup("y")), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "y"));
        assert_false(strv_contains(l, "z"));
        assert_null(strv_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv_equal),
                cmocka_unit_test(test_strv_split_blanks),
                cmocka_unit_test(test_strv_consume_contains),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
