/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small helpers of util.h that carry a rule: names others choose are printed escaped, and list
 * comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "timespan.h"
#include "utf8.h"
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

static void test_utf8_make_valid(void **state) {
        char buf[32];

#define CHECK(in, out) \
        do { \
                snprintf(buf, sizeof(buf), "%s", in); \
                assert_string_equal(utf8_make_valid(buf), out); \
        } while (0)

        /* Valid text stays as it is: ASCII, 2, 3 and 4 byte characters, control characters. */
        CHECK("java", "java");
        CHECK("caf\xc3\xa9", "caf\xc3\xa9");
        CHECK("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");
        CHECK("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");
        CHECK("a\tb", "a\tb");
        CHECK("", "");
        /* What the kernel's 15-byte cut of comm leaves: half a character at the end. */
        CHECK("ingester-donne\xc3", "ingester-donne?");
        CHECK("x\xe6\x97", "x??");
        CHECK("x\xf0\x9f\x98", "x???");
        /* Stray continuation bytes, overlong forms, surrogates, above U+10FFFF, bytes never used. */
        CHECK("\x80\xbf", "??");
        CHECK("\xc0\xaf", "??");
        CHECK("\xe0\x80\xaf", "???");
        CHECK("\xed\xa0\x80", "???");
        CHECK("\xf4\x90\x80\x80", "????");
        CHECK("\xf5\xff\xfe", "???");
        /* A bad byte does not swallow the valid character after it. */
        CHECK("\xc3\xc3\xa9", "?\xc3\xa9");
#undef CHECK
}

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

static void test_endswith(void **state) {
        assert_true(endswith("wall.service", ".service"));
        assert_true(endswith(".service", ".service"));
        assert_true(endswith("x", ""));
        assert_false(endswith("wall.scope", ".service"));
        assert_false(endswith("service", ".service"));
        assert_false(endswith("", ".service"));
}

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
                cmocka_unit_test(test_strcpy_printable), cmocka_unit_test(test_endswith),
                cmocka_unit_test(test_parse_timespan),   cmocka_unit_test(test_utf8_make_valid),
                cmocka_unit_test(test_strv_equal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
