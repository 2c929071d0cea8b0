/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* level.c: levels across thresholds, hysteresis without flapping, percent edge cases. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "level.h"
#include "util.h"

static const Thresholds defaults = { .warning_percent = 80,
                                     .critical_percent = 95,
                                     .hysteresis_percent = 5 };

static void test_up_exact_thresholds(void **state) {
        /* max 1000: warning at 800, critical at 950, exactly. */
        assert_int_equal(level_next(LEVEL_UNKNOWN, 0, 1000, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_UNKNOWN, 799, 1000, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_UNKNOWN, 800, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 949, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 950, 1000, &defaults), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_WARNING, 950, 1000, &defaults), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_OK, 1000, 1000, &defaults), LEVEL_CRITICAL);
        /* Over the limit (it was lowered at run time): still critical, no overflow. */
        assert_int_equal(level_next(LEVEL_OK, UINT_MAX, 1000, &defaults), LEVEL_CRITICAL);
}

static void test_up_rounding(void **state) {
        /* The default limit 65530: 80 % is 52424.0, 95 % is 62253.5 -- no float rounding may let
         * 62253 count as critical. */
        assert_int_equal(level_next(LEVEL_OK, 52423, 65530, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, 52424, 65530, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 62253, 65530, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 62254, 65530, &defaults), LEVEL_CRITICAL);
        /* Near UINT_MAX, count * 100 needs 64 bits. */
        assert_int_equal(level_next(LEVEL_OK, 4000000000U, 4200000000U, &defaults), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_OK, 3000000000U, 4200000000U, &defaults), LEVEL_OK);
}

static void test_down_hysteresis(void **state) {
        /* Critical holds down to 900 (95 - 5 %), warning down to 750 (80 - 5 %). */
        assert_int_equal(level_next(LEVEL_CRITICAL, 949, 1000, &defaults), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_CRITICAL, 900, 1000, &defaults), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_CRITICAL, 899, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_WARNING, 799, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_WARNING, 750, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_WARNING, 749, 1000, &defaults), LEVEL_OK);
        /* A fall from critical straight below both lines lands on ok. */
        assert_int_equal(level_next(LEVEL_CRITICAL, 749, 1000, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_CRITICAL, 750, 1000, &defaults), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_CRITICAL, 0, 1000, &defaults), LEVEL_OK);
        /* Without a previous level there is nothing to hold. */
        assert_int_equal(level_next(LEVEL_UNKNOWN, 799, 1000, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, 940, 1000, &defaults), LEVEL_WARNING);
}

static void test_no_flapping(void **state) {
        /* A count oscillating +-2 % around each threshold changes level once, not on every sample. */
        static const unsigned around_warning[] = { 790, 810, 790, 810, 785, 815, 780, 800, 790 };
        static const unsigned around_critical[] = { 940, 960, 930, 955, 940, 951, 910, 949 };
        Level l = LEVEL_UNKNOWN;
        unsigned changes = 0;

        for (size_t i = 0; i < ELEMENTSOF(around_warning); i++) {
                Level n = level_next(l, around_warning[i], 1000, &defaults);
                if (n != l && l != LEVEL_UNKNOWN)
                        changes++;
                l = n;
        }
        assert_int_equal(l, LEVEL_WARNING);
        assert_int_equal(changes, 1); /* ok -> warning, once */

        changes = 0;
        for (size_t i = 0; i < ELEMENTSOF(around_critical); i++) {
                Level n = level_next(l, around_critical[i], 1000, &defaults);
                if (n != l)
                        changes++;
                l = n;
        }
        assert_int_equal(l, LEVEL_CRITICAL);
        assert_int_equal(changes, 1); /* warning -> critical, once */

        /* Without hysteresis the same series does flap: the test above measures something. */
        const Thresholds none = { 80, 95, 0 };
        changes = 0;
        l = LEVEL_OK;
        for (size_t i = 0; i < ELEMENTSOF(around_warning); i++) {
                Level n = level_next(l, around_warning[i], 1000, &none);
                if (n != l)
                        changes++;
                l = n;
        }
        assert_true(changes >= 8);
}

static void test_max_zero(void **state) {
        assert_int_equal(level_next(LEVEL_CRITICAL, 100, 0, &defaults), LEVEL_UNKNOWN);
        assert_int_equal(level_next(LEVEL_OK, 0, 0, &defaults), LEVEL_UNKNOWN);
}

static void test_percent_edges(void **state) {
        /* 0 %: every count is at or above it. */
        const Thresholds zero = { 0, 95, 5 };
        assert_int_equal(level_next(LEVEL_OK, 0, 1000, &zero), LEVEL_WARNING);
        /* 100 %: only at the limit itself. */
        const Thresholds hundred = { 80, 100, 5 };
        assert_int_equal(level_next(LEVEL_OK, 999, 1000, &hundred), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 1000, 1000, &hundred), LEVEL_CRITICAL);
        /* Over 100 %: reachable only over the limit. */
        const Thresholds over = { 80, 101, 5 };
        assert_int_equal(level_next(LEVEL_OK, 1000, 1000, &over), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_OK, 1010, 1000, &over), LEVEL_CRITICAL);
        /* Hysteresis as large as the threshold: nothing below the line, only 0 lets go. */
        const Thresholds wide = { 5, 10, 10 };
        assert_int_equal(level_next(LEVEL_CRITICAL, 1, 1000, &wide), LEVEL_CRITICAL);
        assert_int_equal(level_next(LEVEL_WARNING, 1, 1000, &wide), LEVEL_WARNING);
        assert_int_equal(level_next(LEVEL_CRITICAL, 0, 1000, &wide), LEVEL_OK);
        /* An invalid previous level is taken as unknown. */
        assert_int_equal(level_next(_LEVEL_INVALID, 799, 1000, &defaults), LEVEL_OK);
        assert_int_equal(level_next((Level) 17, 900, 1000, &defaults), LEVEL_WARNING);
        /* max 1: the smallest limit. */
        assert_int_equal(level_next(LEVEL_OK, 0, 1, &defaults), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, 1, 1, &defaults), LEVEL_CRITICAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_up_exact_thresholds),
                cmocka_unit_test(test_up_rounding),
                cmocka_unit_test(test_down_hysteresis),
                cmocka_unit_test(test_no_flapping),
                cmocka_unit_test(test_max_zero),
                cmocka_unit_test(test_percent_edges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
