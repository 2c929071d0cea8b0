/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.c: the Config object: the backend names, the defaults, comparing two Configs (what a reload acts
 * on). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf-load.h"
#include "conf.h"
#include "testfs.h"
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
/* What --check-config prints loads back to the same Config: the default, and one with every key changed
 * (an interval that is not whole seconds, an empty Units= list, the export off). */
static void dump_round_trip(const Config *c) {
        char dir[] = "/tmp/mapguard-test-conf-XXXXXX";
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t size = 0;
        Config *back = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        f = open_memstream(&text, &size);
        assert_non_null(f);
        assert_int_equal(config_dump(c, f), 0);
        assert_int_equal(fclose(f), 0);
        testfs_write_str(dir, "/mapguardd.conf", text);
        assert_int_equal(config_load(NULL, dir, &back, &error), 0);
        assert_true(config_equal(c, back));
        config_free(back);
        testfs_rm_rf(dir);
}

static void test_dump(void **state) {
        Config *c = config_new_default();

        assert_non_null(c);
        dump_round_trip(c);
        c->warning_percent = 70;
        c->critical_percent = 90;
        c->hysteresis_percent = 2;
        c->interval_usec = 2500 * USEC_PER_MSEC;
        c->backend = BACKEND_PROCFS;
        c->units = strv_free(c->units);
        assert_int_equal(strv_split_blanks("ingester@*.service db.scope", &c->units), 0);
        dump_round_trip(c);
        c->interval_usec = 100001;
        c->textfile_directory = mfree(c->textfile_directory);
        c->units = strv_free(c->units);
        assert_int_equal(strv_split_blanks("", &c->units), 0);
        dump_round_trip(c);
        config_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backend_strings),
                cmocka_unit_test(test_equal),
                cmocka_unit_test(test_dump),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
