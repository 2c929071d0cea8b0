/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardctl's verb dispatcher (client/verbs.c): the default verb, unknown verbs, the argument counts
 * and their messages, options that only some verbs take, and what a verb returns passed on unchanged. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"
#include "verbs.h"

/* What the last verb run saw. */
static const char *called;
static int called_argc;
static char called_argv[2][32]; /* The first two words, copied: the command line is gone after dispatch(). */
static void *called_userdata;

static int record(const char *name, int argc, char *argv[], void *userdata) {
        called = name;
        called_argc = argc;
        for (int i = 0; i < 2; i++)
                snprintf(called_argv[i], sizeof(called_argv[i]), "%s", i < argc ? argv[i] : "");
        called_userdata = userdata;
        return 0;
}

static int verb_status(int argc, char *argv[], void *userdata) {
        return record("status", argc, argv, userdata);
}

static int verb_show(int argc, char *argv[], void *userdata) {
        return record("show", argc, argv, userdata);
}

static int verb_cat(int argc, char *argv[], void *userdata) {
        return record("cat", argc, argv, userdata);
}

static int verb_tune(int argc, char *argv[], void *userdata) {
        return record("tune", argc, argv, userdata);
}

/* A verb whose result is its exit status, as `check`'s plugin state. */
static int verb_check(int argc, char *argv[], void *userdata) {
        (void) record("check", argc, argv, userdata);
        return 2;
}

static int verb_fail(int argc, char *argv[], void *userdata) {
        (void) record("fail", argc, argv, userdata);
        return -ENOENT;
}

static const Verb verbs[] = {
        { "status", 1, 1, VERB_DEFAULT, verb_status, NULL },
        { "show", 2, 2, 0, verb_show, "UNIT" },
        { "cat", 2, VERB_ANY, 0, verb_cat, "UNIT..." },
        { "pair", 2, 3, 0, verb_show, "A [B]" },
        { "tune", 1, 1, VERB_APPLY, verb_tune, NULL },
        { "check", 1, 1, 0, verb_check, NULL },
        { "fail", 1, 1, 0, verb_fail, NULL },
        {},
};

/* Runs dispatch_verb() on the words of line (blank-separated), with stderr captured into *ret_err. */
static int dispatch(const char *line, VerbFlags required, char **ret_err) {
        char *words[16], *copy = strdup(line), *saveptr = NULL, *buf = NULL;
        size_t size = 0;
        FILE *saved = stderr;
        int argc = 0, r;

        assert_non_null(copy);
        for (char *w = strtok_r(copy, " ", &saveptr); w; w = strtok_r(NULL, " ", &saveptr))
                words[argc++] = w;
        words[argc] = NULL;
        called = NULL;
        stderr = open_memstream(&buf, &size);
        assert_non_null(stderr);
        r = dispatch_verb(argc, words, verbs, required, (void *) verbs);
        fclose(stderr);
        stderr = saved;
        *ret_err = buf;
        free(copy);
        return r;
}

static void test_default_verb(void **state) {
        _cleanup_free_ char *err = NULL;

        assert_int_equal(dispatch("", 0, &err), 0);
        assert_string_equal(called, "status");
        assert_int_equal(called_argc, 0);
        assert_ptr_equal(called_userdata, verbs);
        assert_string_equal(err, "");
}

static void test_named_verb(void **state) {
        _cleanup_free_ char *err = NULL;

        assert_int_equal(dispatch("show foo", 0, &err), 0);
        assert_string_equal(called, "show");
        assert_int_equal(called_argc, 2);
        assert_string_equal(called_argv[0], "show");
        assert_string_equal(called_argv[1], "foo");
        assert_string_equal(err, "");
        free(err);
        assert_int_equal(dispatch("status", 0, &err), 0);
        assert_string_equal(called, "status");
        assert_int_equal(called_argc, 1);
        assert_ptr_equal(verb_find(verbs, "tune")->dispatch, verb_tune);
        assert_null(verb_find(verbs, "frobnicate"));
        assert_ptr_equal(verb_find(verbs, NULL)->dispatch, verb_status);
}

static void test_unknown_verb(void **state) {
        _cleanup_free_ char *err = NULL;

        assert_int_equal(dispatch("frobnicate", 0, &err), -EINVAL);
        assert_null(called);
        assert_string_equal(err, "Unknown verb 'frobnicate'. See 'test-mapguardctl-verbs --help'.\n");
}

static void test_arg_counts(void **state) {
        static const struct {
                const char *line, *err;
        } cases[] = {
                { "status extra", "'status' takes no arguments.\n" },
                { "show", "'show' needs UNIT.\n" },
                { "show a b", "'show' takes only UNIT; extra argument 'b'.\n" },
                { "show a b c", "'show' takes only UNIT; extra argument 'b'.\n" },
                { "cat", "'cat' needs UNIT....\n" },
                { "pair", "'pair' needs A [B].\n" },
                { "pair a b c", "'pair' takes only A [B]; extra argument 'c'.\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(dispatch(cases[i].line, 0, &err), -EINVAL);
                assert_null(called);
                assert_string_equal(err, cases[i].err);
        }
}

static void test_arg_counts_within(void **state) {
        static const char *const lines[] = { "cat a", "cat a b c d e", "pair a", "pair a b" };

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(dispatch(lines[i], 0, &err), 0);
                assert_non_null(called);
                assert_string_equal(err, "");
        }
}

static void test_option_refused(void **state) {
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;

        assert_int_equal(dispatch("status", VERB_APPLY, &err), -EINVAL);
        assert_null(called);
        assert_string_equal(err, "--apply only goes with 'tune'.\n");
        /* The default verb too. */
        assert_int_equal(dispatch("", VERB_APPLY, &err2), -EINVAL);
        assert_string_equal(err2, "--apply only goes with 'tune'.\n");
        assert_int_equal(dispatch("tune", VERB_APPLY, &err3), 0);
        assert_string_equal(called, "tune");
}

static void test_count_before_option(void **state) {
        _cleanup_free_ char *err = NULL;

        /* The argument count is said first, as before the verb table had flags. */
        assert_int_equal(dispatch("show", VERB_APPLY, &err), -EINVAL);
        assert_string_equal(err, "'show' needs UNIT.\n");
}

static void test_return_passed_on(void **state) {
        _cleanup_free_ char *err = NULL, *err2 = NULL;

        assert_int_equal(dispatch("check", 0, &err), 2);
        assert_string_equal(called, "check");
        assert_int_equal(dispatch("fail", 0, &err2), -ENOENT);
        assert_string_equal(called, "fail");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_verb),        cmocka_unit_test(test_named_verb),
                cmocka_unit_test(test_unknown_verb),        cmocka_unit_test(test_arg_counts),
                cmocka_unit_test(test_arg_counts_within),   cmocka_unit_test(test_option_refused),
                cmocka_unit_test(test_count_before_option), cmocka_unit_test(test_return_passed_on),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
