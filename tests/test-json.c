/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardctl's JSON writer: escaping, commas and nesting, numbers at their limits, misuse and failing
 * streams reported by json_writer_finish(). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "util.h"

/* A writer on a memory stream; finish() returns what was written. */
typedef struct Capture {
        char *buf;
        size_t size;
        FILE *f;
        JsonWriter w;
} Capture;

static void capture_start(Capture *c) {
        *c = (Capture){};
        c->f = open_memstream(&c->buf, &c->size);
        assert_non_null(c->f);
        json_writer_init(&c->w, c->f);
}

/* Returns the document (caller frees) and json_writer_finish()'s result in *ret_r. */
static char *capture_finish(Capture *c, int *ret_r) {
        *ret_r = json_writer_finish(&c->w);
        assert_int_equal(fclose(c->f), 0);
        return c->buf;
}

static char *escaped(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        json_write_escaped(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_escaped(const char *in, const char *expected) {
        _cleanup_free_ char *s = escaped(in);
        assert_string_equal(s, expected);
}

static void test_escape(void **state) {
        assert_escaped("", "\"\"");
        assert_escaped("ingester.service", "\"ingester.service\"");
        assert_escaped("say \"hi\"", "\"say \\\"hi\\\"\"");
        assert_escaped("C:\\path", "\"C:\\\\path\"");
        assert_escaped("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
        /* The other control characters as \u00XX, DEL too (valid raw, but invisible). */
        assert_escaped("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
        assert_escaped("\033[31m", "\"\\u001b[31m\"");
        /* '/' needs no escape. */
        assert_escaped("/org/mapguard1/unit/a_2eservice", "\"/org/mapguard1/unit/a_2eservice\"");
        /* Valid UTF-8 is passed through as is. */
        assert_escaped("prométhée 日本 🙂", "\"prométhée 日本 🙂\"");
        /* Each invalid byte becomes U+FFFD: the document stays valid UTF-8. */
        assert_escaped("ab\xe6\x97", "\"ab\\ufffd\\ufffd\"");
        assert_escaped("\xff", "\"\\ufffd\"");
        assert_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}

static void test_empty(void **state) {
        _cleanup_free_ char *o = NULL, *a = NULL;
        Capture c;
        int r;

        capture_start(&c);
        json_begin_object(&c.w);
        json_end_object(&c.w);
        o = capture_finish(&c, &r);
        assert_int_equal(r, 0);
        assert_string_equal(o, "{}\n");

        capture_start(&c);
        json_begin_array(&c.w);
        json_end_array(&c.w);
        a = capture_finish(&c, &r);
        assert_int_equal(r, 0);
        assert_string_equal(a, "[]\n");
}

static void test_nesting(void **state) {
        _cleanup_free_ char *s = NULL;
        Capture c;
        int r;

        capture_start(&c);
        json_begin_object(&c.w);
        json_key_string(&c.w, "version", "0.1.0");
        json_key(&c.w, "watched_units");
        json_begin_array(&c.w);
        json_string(&c.w, "*.service");
        json_string(&c.w, "*.scope");
        json_end_array(&c.w);
        json_key(&c.w, "units");
        json_begin_array(&c.w);
        json_begin_object(&c.w);
        json_key_uint(&c.w, "pid", 1);
        json_key_bool(&c.w, "ok", true);
        json_end_object(&c.w);
        json_begin_object(&c.w);
        json_key(&c.w, "seconds_to_limit");
        json_null(&c.w);
        json_key_bool(&c.w, "ok", false);
        json_key_string(&c.w, "comm", NULL);
        json_end_object(&c.w);
        json_begin_array(&c.w);
        json_end_array(&c.w);
        json_end_array(&c.w);
        json_end_object(&c.w);
        s = capture_finish(&c, &r);
        assert_int_equal(r, 0);
        assert_string_equal(s,
                            "{\"version\":\"0.1.0\",\"watched_units\":[\"*.service\",\"*.scope\"],"
                            "\"units\":[{\"pid\":1,\"ok\":true},{\"seconds_to_limit\":null,\"ok\":false,"
                            "\"comm\":null},[]]}\n");
}

static void test_numbers(void **state) {
        _cleanup_free_ char *s = NULL;
        Capture c;
        int r;

        capture_start(&c);
        json_begin_array(&c.w);
        json_uint(&c.w, 0);
        json_uint(&c.w, UINT32_MAX);
        json_uint(&c.w, UINT64_MAX);
        json_double(&c.w, 120);
        json_double(&c.w, -3);
        json_double(&c.w, 0.1);
        json_double(&c.w, -0.5);
        json_double(&c.w, 1e300);
        json_double(&c.w, 5e-324);
        /* A trend of a flat series can be -0.0: written as 0, not "-0". */
        json_double(&c.w, -0.0);
        /* JSON has no NaN or infinity. */
        json_double(&c.w, NAN);
        json_double(&c.w, INFINITY);
        json_double(&c.w, -INFINITY);
        json_end_array(&c.w);
        s = capture_finish(&c, &r);
        assert_int_equal(r, 0);
        assert_string_equal(s,
                            "[0,4294967295,18446744073709551615,120,-3,0.1,-0.5,1e+300,"
                            "4.94065645841247e-324,0,null,null,null]\n");
}

static void test_double_roundtrip(void **state) {
        /* %.15g would print 0.30000000000000004 as 0.3; the writer must keep every double exact. */
        const double values[] = { 0.1 + 0.2, 1.0 / 3.0, 123456.789e10, -2.5e-7, 9007199254740993.0 };

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_free_ char *s = NULL;
                Capture c;
                int r;

                capture_start(&c);
                json_double(&c.w, values[i]);
                s = capture_finish(&c, &r);
                assert_int_equal(r, 0);
                assert_true(strtod(s, NULL) == values[i]);
        }
}

static void test_misuse(void **state) {
        char *s;
        Capture c;
        int r;

        /* Left open. */
        capture_start(&c);
        json_begin_object(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, -EINVAL);

        /* Closed once too often. */
        capture_start(&c);
        json_begin_array(&c.w);
        json_end_array(&c.w);
        json_end_array(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, -EINVAL);

        /* A key without its value. */
        capture_start(&c);
        json_begin_object(&c.w);
        json_key(&c.w, "a");
        json_end_object(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, -EINVAL);

        /* Two keys in a row. */
        capture_start(&c);
        json_begin_object(&c.w);
        json_key(&c.w, "a");
        json_key_uint(&c.w, "b", 1);
        json_end_object(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, -EINVAL);

        /* Deeper than the writer tracks. */
        capture_start(&c);
        for (unsigned i = 0; i < JSON_DEPTH_MAX + 1; i++)
                json_begin_array(&c.w);
        for (unsigned i = 0; i < JSON_DEPTH_MAX + 1; i++)
                json_end_array(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, -EINVAL);

        /* Exactly as deep as it tracks is fine. */
        capture_start(&c);
        for (unsigned i = 0; i < JSON_DEPTH_MAX; i++)
                json_begin_array(&c.w);
        for (unsigned i = 0; i < JSON_DEPTH_MAX; i++)
                json_end_array(&c.w);
        s = capture_finish(&c, &r);
        free(s);
        assert_int_equal(r, 0);
}

static void test_write_error(void **state) {
        JsonWriter w;
        FILE *f = fopen("/dev/full", "we");

        if (!f) {
                print_message("# /dev/full is not available: %s\n", strerror(errno));
                skip();
        }
        json_writer_init(&w, f);
        json_begin_object(&w);
        json_key_string(&w, "a", "b");
        json_end_object(&w);
        assert_int_equal(json_writer_finish(&w), -EIO);
        fclose(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape),           cmocka_unit_test(test_empty),
                cmocka_unit_test(test_nesting),          cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_double_roundtrip), cmocka_unit_test(test_misuse),
                cmocka_unit_test(test_write_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
