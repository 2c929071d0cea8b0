/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardctl's tables: alignment, the legend, empty tables, long names on narrow terminals (the
 * ellipsized column shrinks first, lines fit), colour only when asked for, hostile cell text. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"
#include "table.h"
#include "util.h"

static const char *const headers[] = { "UNIT", "LEVEL", "MAPS", "HEADROOM" };

static Table *units_table(void) {
        Table *t = table_new(headers, ELEMENTSOF(headers));

        assert_non_null(t);
        assert_int_equal(table_set_ellipsize_column(t, 0), 0);
        assert_int_equal(table_set_align(t, 2, TABLE_ALIGN_RIGHT), 0);
        assert_int_equal(table_set_align(t, 3, TABLE_ALIGN_RIGHT), 0);
        return t;
}

static void add_row(Table *t, const char *unit, const char *level, const char *maps, const char *headroom) {
        assert_int_equal(table_add_cell(t, unit, NULL), 0);
        assert_int_equal(table_add_cell(t, level, format_level_color(level)), 0);
        assert_int_equal(table_add_cell(t, maps, NULL), 0);
        assert_int_equal(table_add_cell(t, headroom, NULL), 0);
}

/* Prints t and returns the text (caller frees), asserting table_print() returned expected_r. */
static char *print(const Table *t, size_t width, bool legend, bool color, int expected_r) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(table_print(t, f, width, legend, color), expected_r);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_aligned(void **state) {
        _cleanup_free_ char *s = NULL, *n = NULL;
        Table *t = units_table();

        add_row(t, "ingester.service", "warning", "53000", "12530 (19%)");
        add_row(t, "a.scope", "ok", "7", "65523 (99%)");
        assert_int_equal(table_rows(t), 2);

        s = print(t, 0, true, false, 0);
        /* Left columns padded after, right columns before, two blanks between, none at the end. */
        assert_string_equal(s,
                            "UNIT              LEVEL     MAPS     HEADROOM\n"
                            "ingester.service  warning  53000  12530 (19%)\n"
                            "a.scope           ok           7  65523 (99%)\n");

        n = print(t, 0, false, false, 0);
        assert_string_equal(n,
                            "ingester.service  warning  53000  12530 (19%)\n"
                            "a.scope           ok           7  65523 (99%)\n");
        table_free(t);
}

static void test_empty(void **state) {
        _cleanup_free_ char *s = NULL, *n = NULL;
        Table *t = units_table();

        assert_int_equal(table_rows(t), 0);
        s = print(t, 0, true, false, 0);
        assert_string_equal(s, "UNIT  LEVEL  MAPS  HEADROOM\n");
        n = print(t, 0, false, false, 0);
        assert_string_equal(n, "");
        table_free(t);
}

static void test_huge_numbers(void **state) {
        _cleanup_free_ char *s = NULL;
        Table *t = units_table();

        add_row(t, "x.service", "critical", "4294967295", "0 (0%)");
        add_row(t, "y.service", "ok", "0", "4294967295 (100%)");
        s = print(t, 0, true, false, 0);
        assert_string_equal(s,
                            "UNIT       LEVEL           MAPS           HEADROOM\n"
                            "x.service  critical  4294967295             0 (0%)\n"
                            "y.service  ok                 0  4294967295 (100%)\n");
        table_free(t);
}

/* Asserts no line of s is wider than width. */
static void assert_fits(const char *s, size_t width) {
        for (const char *p = s; *p;) {
                const char *nl = strchr(p, '\n');
                _cleanup_free_ char *line = NULL;

                assert_non_null(nl);
                line = strndup(p, (size_t) (nl - p));
                assert_non_null(line);
                if (format_width(line) > width)
                        fail_msg("line wider than %zu: '%s'", width, line);
                p = nl + 1;
        }
}

static void test_narrow(void **state) {
        _cleanup_free_ char *wide = NULL, *narrow = NULL;
        const char *long_name = "prometheus-ingester-zone-a-replica-17.service";
        Table *t = units_table();

        add_row(t, long_name, "warning", "53000", "12530 (19%)");
        add_row(t, "a.scope", "ok", "7", "65523 (99%)");

        /* Wide enough: nothing changes. */
        wide = print(t, 200, true, false, 0);
        assert_non_null(strstr(wide, long_name));

        /* 60 columns: the unit column gives up exactly what is missing (74 - 60), the others stay whole,
         * and the name keeps its start and its end. */
        narrow = print(t, 60, true, false, 0);
        assert_fits(narrow, 60);
        assert_string_equal(narrow,
                            "UNIT                             LEVEL     MAPS     HEADROOM\n"
                            "prometheus-ing...ica-17.service  warning  53000  12530 (19%)\n"
                            "a.scope                          ok           7  65523 (99%)\n");
        table_free(t);
}

static void test_narrow_utf8(void **state) {
        _cleanup_free_ char *s = NULL;
        Table *t = units_table();

        /* Widths count terminal cells, not bytes or characters: a CJK character takes two, the cut lands
         * between characters, and the lines fit. */
        add_row(t, "日本語のユニット名のとても長いサービス.service", "ok", "1", "65529 (99%)");
        s = print(t, 40, true, false, 0);
        assert_fits(s, 40);
        assert_string_equal(s,
                            "UNIT            LEVEL  MAPS     HEADROOM\n"
                            "日本語...rvice  ok        1  65529 (99%)\n");
        table_free(t);
}

static void test_wide_aligned(void **state) {
        _cleanup_free_ char *s = NULL;
        Table *t = units_table();

        /* 日本 takes four cells as on a terminal, so the columns after it line up with the other rows. */
        add_row(t, "日本.service", "ok", "7", "65523 (99%)");
        add_row(t, "a.service", "warning", "53000", "12530 (19%)");
        add_row(t, "café.service", "ok", "1", "65529 (99%)");
        s = print(t, 0, true, false, 0);
        assert_string_equal(s,
                            "UNIT          LEVEL     MAPS     HEADROOM\n"
                            "日本.service  ok           7  65523 (99%)\n"
                            "a.service     warning  53000  12530 (19%)\n"
                            "café.service  ok           1  65529 (99%)\n");
        table_free(t);
}

static void test_too_narrow(void **state) {
        _cleanup_free_ char *s = NULL;
        Table *t = units_table();

        add_row(t, "prometheus-ingester-zone-a-replica-17.service", "warning", "53000", "12530 (19%)");
        /* 20 columns cannot hold the other columns: the unit column stops at its minimum and the line
         * overflows rather than losing the numbers. */
        s = print(t, 20, true, false, 0);
        assert_string_equal(s,
                            "UNIT      LEVEL     MAPS     HEADROOM\n"
                            "pro...ce  warning  53000  12530 (19%)\n");
        table_free(t);
}

static void test_color(void **state) {
        _cleanup_free_ char *off = NULL, *on = NULL;
        Table *t = units_table();

        add_row(t, "a.service", "critical", "63000", "2530 (3%)");
        add_row(t, "b.service", "warning", "53000", "12530 (19%)");
        add_row(t, "c.service", "ok", "1", "65529 (99%)");

        off = print(t, 0, true, false, 0);
        assert_null(strchr(off, '\033'));

        on = print(t, 0, true, true, 0);
        assert_non_null(strstr(on, ANSI_UNDERLINE "UNIT"));
        assert_non_null(strstr(on, ANSI_RED "critical" ANSI_NORMAL));
        assert_non_null(strstr(on, ANSI_YELLOW "warning" ANSI_NORMAL));
        /* "ok" has no colour, and colour codes take no room: the columns after line up as without. */
        assert_null(strstr(on,
                           "m"
                           "ok"));
        assert_non_null(strstr(on, ANSI_RED "critical" ANSI_NORMAL "  63000"));
        assert_non_null(strstr(on, ANSI_YELLOW "warning" ANSI_NORMAL "   53000"));
        assert_non_null(strstr(on, "c.service  ok            1"));
        table_free(t);
}

static void test_hostile_text(void **state) {
        _cleanup_free_ char *s = NULL;
        static const char *const h[] = { "PID", "COMM" };
        Table *t = table_new(h, 2);

        assert_non_null(t);
        assert_int_equal(table_add_cell(t, "1", NULL), 0);
        assert_int_equal(table_add_cell(t, "evil\n\033[2J", NULL), 0);
        assert_int_equal(table_add_cell(t, "2", NULL), 0);
        assert_int_equal(table_add_cell(t, "日本", NULL), 0);
        assert_int_equal(table_add_cell(t, "3", NULL), 0);
        assert_int_equal(table_add_cell(t, NULL, NULL), 0);
        s = print(t, 0, true, false, 0);
        /* One line per row; the last column is not padded. */
        assert_string_equal(s,
                            "PID  COMM\n"
                            "1    evil\\n\\x1b[2J\n"
                            "2    日本\n"
                            "3\n");
        table_free(t);
}

static void test_incomplete_row(void **state) {
        _cleanup_free_ char *s = NULL;
        Table *t = units_table();

        assert_int_equal(table_add_cell(t, "a.service", NULL), 0);
        assert_int_equal(table_rows(t), 0);
        s = print(t, 0, true, false, -EINVAL);
        table_free(t);
}

static void test_bad_columns(void **state) {
        Table *t = units_table();

        assert_int_equal(table_set_align(t, 4, TABLE_ALIGN_LEFT), -EINVAL);
        assert_int_equal(table_set_ellipsize_column(t, 99), -EINVAL);
        assert_null(table_new(headers, 0));
        assert_null(table_free(t));
        assert_null(table_free(NULL));
}

static void assert_ellipsized(const char *in, size_t width, const char *expected) {
        _cleanup_free_ char *s = table_ellipsize(in, width);
        assert_non_null(s);
        assert_string_equal(s, expected);
        assert_true(format_width(s) <= width);
}

static void test_ellipsize(void **state) {
        assert_ellipsized("abcdefghij", 10, "abcdefghij");
        assert_ellipsized("abcdefghij", 20, "abcdefghij");
        assert_ellipsized("abcdefghij", 9, "abc...hij");
        assert_ellipsized("abcdefghij", 8, "abc...ij");
        assert_ellipsized("abcdefghij", 7, "ab...ij");
        assert_ellipsized("abcdefghij", 4, "a...");
        assert_ellipsized("abcdefghij", 3, "abc");
        assert_ellipsized("abcdefghij", 0, "");
        /* Cut between characters, never inside one; a wide character that would straddle the limit
         * is left out, so the result may be a cell short. */
        assert_ellipsized("日本語のユニット名.service", 9, "日...ice");
        assert_ellipsized("日本語のユニット名.service", 10, "日本...ice");
        assert_ellipsized("日本語のユニット名.service", 3, "日");
        assert_ellipsized("日本語のユニット名.service", 1, "");
        assert_ellipsized("a.service日本", 8, "a.s...本");
        assert_ellipsized("a.service日本", 7, "a....本");
        assert_ellipsized("a.service日本", 6, "a....");
        /* A combining mark (U+0301) takes no cell and stays with its letter, at either end. */
        assert_ellipsized("abce\xcc\x81"
                          "fghijklmn",
                          10, "abce\xcc\x81...lmn");
        assert_ellipsized("abcdefghije\xcc\x81xy", 9, "abc...e\xcc\x81xy");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_aligned),      cmocka_unit_test(test_empty),
                cmocka_unit_test(test_huge_numbers), cmocka_unit_test(test_narrow),
                cmocka_unit_test(test_narrow_utf8),  cmocka_unit_test(test_wide_aligned),
                cmocka_unit_test(test_too_narrow),   cmocka_unit_test(test_color),
                cmocka_unit_test(test_hostile_text), cmocka_unit_test(test_incomplete_row),
                cmocka_unit_test(test_bad_columns),  cmocka_unit_test(test_ellipsize),
        };

        /* What mapguardctl's setlocale(LC_CTYPE, "") gives on a UTF-8 system; C.UTF-8 is built into glibc
         * since 2.35. */
        if (!setlocale(LC_CTYPE, "C.UTF-8")) {
                printf("1..0 # SKIP no C.UTF-8 locale, which the cell widths of wide characters need\n");
                return 0;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
