/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The adaptive scheduler's rule (schedule.h): never slower than the configured interval, faster near
 * a threshold or when growth would cross it sooner, never faster than interval / 32. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schedule.h"

#define SLOW (10 * UINT64_C(1000000))
#define MAX 65530u
/* Read often enough to have a trend: the young-process rule no longer applies. */
#define OLD SCHEDULE_YOUNG_READINGS

static const Thresholds t = { .warning_percent = 80, .critical_percent = 95, .hysteresis_percent = 5 };

static void test_quiet_process_is_read_at_the_slow_interval(void **state) {
        assert_int_equal(schedule_interval(SLOW, OLD, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW);
        /* shrinking is quiet too */
        assert_int_equal(schedule_interval(SLOW, OLD, 1000, MAX, LEVEL_OK, &t, -500.0), SLOW);
        /* slow growth that needs hours to reach the warning threshold changes nothing */
        assert_int_equal(schedule_interval(SLOW, OLD, 1000, MAX, LEVEL_OK, &t, 10.0), SLOW);
}

static void test_growth_bounds_the_next_read(void **state) {
        /* 52424 is 80 % of 65530; 52424 - 42424 = 10000 maps at 60000/min = 10 s to cross: read after 5 s.
         */
        uint64_t i = schedule_interval(SLOW, OLD, 42424, MAX, LEVEL_OK, &t, 60000.0);
        assert_true(i >= 4900000 && i <= 5100000);
        /* the faster it grows, the sooner */
        assert_true(schedule_interval(SLOW, OLD, 42424, MAX, LEVEL_OK, &t, 120000.0) < i);
}

static void test_near_a_threshold_is_read_often(void **state) {
        /* within 2 % of the limit's worth of maps below warning, not growing: SLOW / 8 */
        assert_int_equal(schedule_interval(SLOW, OLD, 52000, MAX, LEVEL_OK, &t, 0.0), SLOW / 8);
        /* in warning, the next threshold is critical (62254): far again */
        assert_int_equal(schedule_interval(SLOW, OLD, 53000, MAX, LEVEL_WARNING, &t, 0.0), SLOW);
        /* critical: the next is the limit itself */
        assert_int_equal(schedule_interval(SLOW, OLD, 65000, MAX, LEVEL_CRITICAL, &t, 0.0), SLOW / 8);
}

static void test_never_faster_than_the_floor(void **state) {
        assert_int_equal(schedule_interval(SLOW, OLD, 52400, MAX, LEVEL_OK, &t, 1e9),
                         SLOW / SCHEDULE_FAST_DIVISOR);
        /* at or past the threshold, any growth: the floor */
        assert_int_equal(schedule_interval(SLOW, OLD, 65530, MAX, LEVEL_CRITICAL, &t, 1.0),
                         SLOW / SCHEDULE_FAST_DIVISOR);
        /* with a short interval the floor is 100 ms */
        assert_int_equal(schedule_interval(1000000, OLD, 52400, MAX, LEVEL_OK, &t, 1e9), SCHEDULE_MIN_USEC);
        /* an interval below 100 ms is used as it is */
        assert_int_equal(schedule_interval(50000, OLD, 52400, MAX, LEVEL_OK, &t, 1e9), 50000);
}

static void test_young_process_is_read_again_soon(void **state) {
        /* Quiet and far from any threshold, but new: / 16, / 8, / 4, / 2, then the slow interval. */
        assert_int_equal(schedule_interval(SLOW, 1, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW / 16);
        assert_int_equal(schedule_interval(SLOW, 2, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW / 8);
        assert_int_equal(schedule_interval(SLOW, 3, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW / 4);
        assert_int_equal(schedule_interval(SLOW, 4, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW / 2);
        assert_int_equal(schedule_interval(SLOW, 5, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW);
        /* the sum of the young intervals: five reads in the first SLOW */
        assert_true(SLOW / 16 + SLOW / 8 + SLOW / 4 + SLOW / 2 < SLOW);
        /* other rules that ask for sooner still win, and the floor still holds */
        assert_int_equal(schedule_interval(SLOW, 4, 52000, MAX, LEVEL_OK, &t, 0.0), SLOW / 8);
        assert_int_equal(schedule_interval(SLOW, 1, 52400, MAX, LEVEL_OK, &t, 1e9),
                         SLOW / SCHEDULE_FAST_DIVISOR);
        assert_int_equal(schedule_interval(1000000, 1, 1000, MAX, LEVEL_OK, &t, 0.0), SCHEDULE_MIN_USEC);
        /* 0 readings is taken as 1 */
        assert_int_equal(schedule_interval(SLOW, 0, 1000, MAX, LEVEL_OK, &t, 0.0), SLOW / 16);
}

static void test_unknown_limit(void **state) {
        assert_int_equal(schedule_interval(SLOW, OLD, 100, 0, LEVEL_UNKNOWN, &t, 1e6), SLOW);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quiet_process_is_read_at_the_slow_interval),
                cmocka_unit_test(test_growth_bounds_the_next_read),
                cmocka_unit_test(test_young_process_is_read_again_soon),
                cmocka_unit_test(test_near_a_threshold_is_read_often),
                cmocka_unit_test(test_never_faster_than_the_floor),
                cmocka_unit_test(test_unknown_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
