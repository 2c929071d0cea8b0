/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape_printable() and its fixed-buffer form: what a name that others chose (a comm, a cgroup, a file or
 * unit name) looks like in a journal MESSAGE or on a terminal, the bound on its length, and
 * unescape_printable() giving it back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"
#include "utf8.h"
#include "util.h"

/* Checks what every result must be: valid UTF-8 without a byte below 0x20, 0x7f or a C1 control. */
static void assert_printable(const char *s) {
        for (const char *p = s; *p;) {
                size_t n = utf8_sequence_length(p);

                assert_true(n > 0);
                assert_true((unsigned char) p[0] >= 0x20 && (unsigned char) p[0] != 0x7f);
                assert_false((unsigned char) p[0] == 0xc2 && (unsigned char) p[1] <= 0x9f);
                p += n;
        }
}

static void check(const char *in, const char *expected) {
        _cleanup_free_ char *out = NULL, *back = NULL;

        out = escape_printable(in, SIZE_MAX, ESCAPE_REVERSIBLE);
        assert_non_null(out);
        assert_string_equal(out, expected);
        assert_printable(out);
        assert_int_equal(unescape_printable(out, &back), 0);
        assert_string_equal(back, in);
}

static void test_controls(void **state) {
        check("", "");
        check("java", "java");
        check("a\ab\bc\td\ne\vf\fg\rh", "a\\ab\\bc\\td\\ne\\vf\\fg\\rh");
        check("\x01\x1b\x1f\x7f", "\\x01\\x1b\\x1f\\x7f");
        check("C:\\new", "C:\\\\new");
        check("\\x1b", "\\\\x1b"); /* a backslash that was there is not taken for an escape */
        check("100% \"ok\" 'ok' $HOME", "100% \"ok\" 'ok' $HOME");
}

static void test_utf8(void **state) {
        /* Valid text stays: 2, 3 and 4 byte characters, and a no-break space (U+00A0). */
        check("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82\xc2\xa0",
              "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
              "\xf0\x9f\x99\x82\xc2\xa0");
        /* C1 controls (U+009B is CSI) are valid UTF-8 and still escaped, byte by byte. */
        check("\xc2\x9b"
              "31m\xc2\x80",
              "\\xc2\\x9b31m\\xc2\\x80");
        /* What is no UTF-8, one \xNN per byte: stray continuation, overlong, surrogate, above U+10FFFF,
         * F5..FF, a sequence cut by the end (the kernel's 15-byte cut of a comm). */
        check("\x80", "\\x80");
        check("\xc0\xaf", "\\xc0\\xaf");
        check("\xed\xa0\x80", "\\xed\\xa0\\x80");
        check("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
        check("\xf5\xff", "\\xf5\\xff");
        check("ingester-donne\xc3", "ingester-donne\\xc3");
        check("\xe6\x97", "\\xe6\\x97");
        /* A bad byte does not swallow the valid character after it. */
        check("\xe6\xe6\x97\xa5", "\\xe6\xe6\x97\xa5");
}

/* The name of issue 20: a sub-cgroup a delegated user made to clear the reader's screen and forge a
 * line, plus 200 characters. */
static void test_hostile_cgroup_name(void **state) {
        _cleanup_free_ char *in = NULL, *expected = NULL, *out = NULL, *cut = NULL, *back = NULL;
        const char *head = "\x1b[2J\x1b[31mX\tY\xff\xfe\rsshd.service: critical";
        const char *head_escaped = "\\x1b[2J\\x1b[31mX\\tY\\xff\\xfe\\rsshd.service: critical";
        char tail[201], buf[80];

        memset(tail, 'a', 200);
        tail[200] = '\0';
        assert_true(asprintf(&in, "%s%s", head, tail) > 0);
        assert_true(asprintf(&expected, "%s%s", head_escaped, tail) > 0);

        out = escape_printable(in, SIZE_MAX, ESCAPE_REVERSIBLE);
        assert_non_null(out);
        assert_string_equal(out, expected);
        assert_printable(out);
        assert_null(strchr(out, '\x1b'));
        assert_null(strchr(out, '\r'));
        assert_null(strchr(out, '\t'));
        assert_int_equal(unescape_printable(out, &back), 0);
        assert_string_equal(back, in);

        /* Bounded to 64 bytes: 61 of the escape (51 of it the head) and the ellipsis. */
        cut = escape_printable(in, 64, ESCAPE_REVERSIBLE);
        assert_non_null(cut);
        assert_int_equal(strlen(cut), 61 + strlen(ESCAPE_ELLIPSIS));
        assert_string_equal(cut,
                            "\\x1b[2J\\x1b[31mX\\tY\\xff\\xfe\\rsshd.service: critical"
                            "aaaaaaaaaa" ESCAPE_ELLIPSIS);
        assert_printable(cut);

        /* The fixed-buffer form gives the same, within its size. */
        assert_ptr_equal(escape_printable_buf(buf, 65, in, ESCAPE_REVERSIBLE), buf);
        assert_string_equal(buf, cut);
        escape_printable_buf(buf, sizeof(buf), in, ESCAPE_REVERSIBLE);
        assert_int_equal(strlen(buf), sizeof(buf) - 1);
        assert_true(endswith(buf, ESCAPE_ELLIPSIS));
}

static void test_bound(void **state) {
        _cleanup_free_ char *big = NULL, *out = NULL;
        char buf[16];

#define CHECK_CUT(in, max, expected) \
        do { \
                _cleanup_free_ char *_o = escape_printable((in), (max), ESCAPE_REVERSIBLE); \
                assert_non_null(_o); \
                assert_string_equal(_o, (expected)); \
                assert_true(strlen(_o) <= (max)); \
        } while (0)

        /* Exactly fits: no ellipsis. One byte more: cut, ellipsis within the bound. */
        CHECK_CUT("abcdef", 6, "abcdef");
        CHECK_CUT("abcdefg", 6, "abc" ESCAPE_ELLIPSIS);
        /* Never inside an escape, nor inside a UTF-8 sequence. */
        CHECK_CUT("abc\x1b", 7, "abc\\x1b");
        CHECK_CUT("abc\x1b", 6, "abc" ESCAPE_ELLIPSIS);
        CHECK_CUT("ab\x1bz", 7, "ab\\x1bz");
        CHECK_CUT("ab\x1bz", 6, "ab" ESCAPE_ELLIPSIS);
        CHECK_CUT("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
        CHECK_CUT("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 8, "\xe6\x97\xa5" ESCAPE_ELLIPSIS);
        CHECK_CUT("\xc2\x9bX", 8, ESCAPE_ELLIPSIS);
        /* Too small for the ellipsis: cut without it. */
        CHECK_CUT("abc", 3, "abc");
        CHECK_CUT("abcd", 3, ESCAPE_ELLIPSIS);
        CHECK_CUT("abc", 2, "ab");
        CHECK_CUT("\x1b", 2, "");
        CHECK_CUT("abc", 0, "");
#undef CHECK_CUT

        /* A 4 KiB cgroup name does not make a 4 KiB MESSAGE, nor a 16 KiB buffer. */
        big = malloc(4097);
        assert_non_null(big);
        memset(big, '\x1b', 4096);
        big[4096] = '\0';
        out = escape_printable(big, 256, ESCAPE_REVERSIBLE);
        assert_non_null(out);
        assert_true(strlen(out) <= 256);
        assert_int_equal(strlen(out), 252 + strlen(ESCAPE_ELLIPSIS));
        assert_true(endswith(out, ESCAPE_ELLIPSIS));

        /* The fixed-buffer form: SIZE - 1 bytes and the NUL; nothing at all for SIZE 0; NULL is "". */
        escape_printable_buf(buf, sizeof(buf), "abcdefghijklmnopq", ESCAPE_REVERSIBLE);
        assert_string_equal(buf, "abcdefghijkl" ESCAPE_ELLIPSIS);
        escape_printable_buf(buf, 1, "abc", ESCAPE_REVERSIBLE);
        assert_string_equal(buf, "");
        buf[0] = 'x';
        escape_printable_buf(buf, 0, "abc", ESCAPE_REVERSIBLE);
        assert_int_equal(buf[0], 'x');
        escape_printable_buf(buf, sizeof(buf), NULL, ESCAPE_REVERSIBLE);
        assert_string_equal(buf, "");

        errno = 0;
        assert_null(escape_printable(NULL, 10, ESCAPE_REVERSIBLE));
        assert_int_equal(errno, EINVAL);
}

static void test_unescape(void **state) {
        _cleanup_free_ char *out = NULL;
        char *untouched = (char *) "untouched";

        assert_int_equal(unescape_printable("A\\x1B\\x1b\\\\n", &out), 0);
        assert_string_equal(out, "A\x1b\x1b\\n");
        /* What escape_printable() never writes is refused, and says so. */
        assert_int_equal(unescape_printable("\\q", &untouched), -EINVAL);
        assert_int_equal(unescape_printable("end\\", &untouched), -EINVAL);
        assert_int_equal(unescape_printable("\\x0", &untouched), -EINVAL);
        assert_int_equal(unescape_printable("\\xg1", &untouched), -EINVAL);
        assert_int_equal(unescape_printable("\\x00", &untouched), -EINVAL);
        assert_string_equal(untouched, "untouched");
        assert_int_equal(unescape_printable(NULL, &untouched), -EINVAL);
}

/* For display (a journal MESSAGE, a terminal) a backslash stays as it is: a unit name reads as systemd
 * writes it, and still nothing a terminal acts on gets through. */
static void test_display(void **state) {
        char buf[64];
        _cleanup_free_ char *out = escape_printable("ingester@a\\x2db.service \x1b[2J", SIZE_MAX, 0);

        assert_string_equal(out, "ingester@a\\x2db.service \\x1b[2J");
        assert_printable(out);
        assert_string_equal(escape_printable_buf(buf, sizeof(buf), "C:\\new\r\xff", 0), "C:\\new\\r\\xff");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_controls),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_hostile_cgroup_name),
                cmocka_unit_test(test_bound),
                cmocka_unit_test(test_unescape),
                cmocka_unit_test(test_display),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
