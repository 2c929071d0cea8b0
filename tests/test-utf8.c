/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8.c: names that processes choose are made valid UTF-8 where they are read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "utf8.h"
#include "util.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8_make_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
