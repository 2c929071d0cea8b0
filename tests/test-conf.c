/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.c: the Config object: the backend names, the defaults, comparing two Configs (what a reload acts
 * on). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf.h"
#include "strv.h"
#include "util.h"

static void test_backend_strings(void **state) {
        for (Backend b = 0; b < _BACKEND_MAX; b++) {
                assert_non_null(backend_to_string(b));
                assert_int_equal(backend_from_string(backend_to_string(b)), b);
        }
        assert_string_equal(backend_to_string(BACKEND_AUTO), "auto");
        assert_string_equal(backend_to_string(BACKEND_BPF), "bpf");
        assert_string_equal(backend_to_string(BACKEND_PROCFS), "procfs");
        assert_null(backend_to_string(_BACKEND_MAX));
        assert_null(backend_to_string(_BACKEND_INVALID));
        assert_int_equal(backend_from_string("Procfs"), -EINVAL);
        assert_int_equal(backend_from_string(""), -EINVAL);
        assert_int_equal(backend_from_string(NULL), -EINVAL);
}

static void test_equal(void **state) {
        Config *a = config_new_default(), *b = config_new_default();
        assert_non_null(a);
        assert_non_null(b);
        assert_true(config_equal(a, b));
        assert_true(config_equal(NULL, NULL));
        assert_false(config_equal(a, NULL));
        assert_false(config_equal(NULL, b));

        b->warning_percent++;
        assert_false(config_equal(a, b));
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_THRESHOLDS);
        b->warning_percent--;
        b->critical_percent--;
        assert_false(config_equal(a, b));
        b->critical_percent++;
        b->hysteresis_percent++;
        assert_false(config_equal(a, b));
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_THRESHOLDS);
        b->hysteresis_percent--;
        b->interval_usec++;
        assert_false(config_equal(a, b));
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_INTERVAL);
        b->interval_usec--;
        b->backend = BACKEND_BPF;
        assert_false(config_equal(a, b));
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_BACKEND);
        b->interval_usec++;
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_BACKEND | CONFIG_CHANGE_INTERVAL);
        b->interval_usec--;
        b->backend = BACKEND_AUTO;
        assert_true(config_equal(a, b));
        assert_int_equal(config_diff(a, b), 0);

        /* Order matters (WatchedUnits shows it), and so does length. */
        char *t = b->units[0];
        b->units[0] = b->units[1];
        b->units[1] = t;
        assert_false(config_equal(a, b));
        assert_int_equal(config_diff(a, b), CONFIG_CHANGE_UNITS);
        b->units[1] = b->units[0];
        b->units[0] = t;
        assert_true(config_equal(a, b));
        free(b->units[1]);
        b->units[1] = NULL;
        assert_false(config_equal(a, b));
        free(b->units[0]);
        b->units[0] = NULL;
        assert_false(config_equal(a, b));
        assert_true(config_equal(b, b));

        assert_null(config_free(a));
        assert_null(config_free(b));
        assert_null(config_free(NULL));
}
int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backend_strings),
                cmocka_unit_test(test_equal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
