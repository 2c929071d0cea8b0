/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fixture trees for the config tests: a fresh temporary root per test (setup/teardown), files written into
 * it, and config_load() on it expecting success or a "file:line: reason" error. */

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "conf-load.h"
#include "conf.h"
#include "testfs.h"
#include "util.h"

#define MAIN "/etc/mapguard/mapguardd.conf"
#define USR_D "/usr/lib/mapguard/mapguardd.conf.d"
#define RUN_D "/run/mapguard/mapguardd.conf.d"
#define ETC_D "/etc/mapguard/mapguardd.conf.d"

static inline int setup(void **state) {
        char *d = strdup("/tmp/test-conf-XXXXXX");
        if (!d || !mkdtemp(d))
                return -1;
        /* World-traversable, for the test that drops privileges. */
        if (chmod(d, 0755) < 0)
                return -1;
        /* The environment of the test runner must not leak into the lookup. */
        unsetenv("CONFIGURATION_DIRECTORY");
        *state = d;
        return 0;
}

static inline int teardown(void **state) {
        char *d = *state;
        testfs_rm_rf(d);
        int r = 0;
        free(d);
        return r;
}

/* Loads from ROOT and expects success. */
static inline Config *load_ok(const char *root) {
        Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r = config_load(root, NULL, &c, &error);
        if (r < 0)
                print_error("unexpected error %d: %s\n", r, error ? error : "(none)");
        assert_int_equal(r, 0);
        assert_null(error);
        assert_non_null(c);
        return c;
}

/* Loads from ROOT and expects failure R with a message that starts with ROOT+REL:LINE: and contains
 * every string in the NULL-terminated varargs. *ret must stay untouched. */
static inline void load_fail(const char *root, int expected_r, const char *rel, unsigned line, ...) {
        Config *sentinel = (Config *) (uintptr_t) 0x1, *c = sentinel;
        _cleanup_free_ char *error = NULL, *prefix = NULL;
        int r = config_load(root, NULL, &c, &error);

        assert_true(asprintf(&prefix, "%s%s:%u: ", root, rel, line) >= 0);
        if (r != expected_r || !error || strncmp(error, prefix, strlen(prefix)) != 0)
                print_error("expected %d with prefix '%s', got %d: %s\n", expected_r, prefix, r,
                            error ? error : "(none)");
        assert_int_equal(r, expected_r);
        assert_ptr_equal(c, sentinel);
        assert_non_null(error);
        assert_true(strncmp(error, prefix, strlen(prefix)) == 0);

        va_list ap;
        va_start(ap, line);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
                if (!strstr(error, s))
                        print_error("'%s' lacks '%s'\n", error, s);
                assert_non_null(strstr(error, s));
        }
        va_end(ap);
}

static inline void assert_units(const Config *c, ...) {
        va_list ap;
        size_t i = 0;
        va_start(ap, c);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *), i++) {
                assert_non_null(c->units[i]);
                assert_string_equal(c->units[i], s);
        }
        va_end(ap);
        assert_null(c->units[i]);
}
