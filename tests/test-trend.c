/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Theil-Sen growth: steady, flat, shrinking, a noisy outlier; seconds to the limit; nothing published
 * before the young readings have left the window. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trend.h"
#include "util.h"

#define USEC_PER_MINUTE (60 * USEC_PER_SEC)

/* The estimator's tests: a process watched long enough that its young readings are history. */
#define SETTLED \
        { .readings = TREND_SETTLED_READINGS }

static void test_too_few(void **state) {
        Trend t = SETTLED;

        assert_true(trend_growth_per_minute(&t) == 0.0);
        trend_add(&t, 1000, 500);
        assert_true(trend_growth_per_minute(&t) == 0.0);
        assert_int_equal(trend_seconds_to_limit(&t, 500, 65530), UINT64_MAX);
        /* Two samples with one time stamp give no slope either. */
        trend_add(&t, 1000, 900);
        assert_true(trend_growth_per_minute(&t) == 0.0);
}

static void test_steady(void **state) {
        Trend t = SETTLED;

        /* +100 maps every 10 s: 600 per minute. */
        for (unsigned i = 0; i < 5; i++)
                trend_add(&t, i * 10 * USEC_PER_SEC, 1000 + i * 100);
        assert_float_equal(trend_growth_per_minute(&t), 600.0, 1e-9);
        /* 2000 maps to go at 600/min: 200 s. */
        assert_int_equal(trend_seconds_to_limit(&t, 3000, 5000), 200);
        /* 1 map to go: rounds up to 1 s, not down to 0 (0 means "at the limit"). */
        assert_int_equal(trend_seconds_to_limit(&t, 4999, 5000), 1);
}

static void test_ring_wraps(void **state) {
        Trend t = SETTLED;

        /* 20 samples: the first 12 grow fast, the last 8 (the window) grow by 60/min. */
        for (unsigned i = 0; i < 12; i++)
                trend_add(&t, i * USEC_PER_MINUTE, i * 10000);
        for (unsigned i = 12; i < 20; i++)
                trend_add(&t, i * USEC_PER_MINUTE, 110000 + (i - 12) * 60);
        assert_int_equal(t.n, TREND_SAMPLES);
        assert_int_equal(t.next, 20 % TREND_SAMPLES);
        assert_float_equal(trend_growth_per_minute(&t), 60.0, 1e-9);
}

static void test_noisy_outlier(void **state) {
        Trend t = SETTLED;
        double g;

        /* +50 per minute, with one sample read mid-burst 20000 too high. */
        for (unsigned i = 0; i < TREND_SAMPLES; i++)
                trend_add(&t, i * USEC_PER_MINUTE, 10000 + i * 50 + (i == 4 ? 20000 : 0));
        g = trend_growth_per_minute(&t);
        assert_float_equal(g, 50.0, 1e-9);

        /* A least-squares slope would have been pulled far off: make sure the data says so. */
        double mt = 3.5, mc = 0, num = 0, den = 0;
        for (unsigned i = 0; i < TREND_SAMPLES; i++)
                mc += t.count[i] / (double) TREND_SAMPLES;
        for (unsigned i = 0; i < TREND_SAMPLES; i++) {
                num += (i - mt) * (t.count[i] - mc);
                den += (i - mt) * (i - mt);
        }
        assert_true(num / den > 150.0);

        /* An outlier that dips to 0 (a failed read taken as 0) does not flip the sign. */
        Trend d = SETTLED;
        for (unsigned i = 0; i < TREND_SAMPLES; i++)
                trend_add(&d, i * USEC_PER_MINUTE, i == 6 ? 0 : 10000 + i * 50);
        assert_float_equal(trend_growth_per_minute(&d), 50.0, 1e-9);
}

static void test_flat(void **state) {
        Trend t = SETTLED;

        for (unsigned i = 0; i < TREND_SAMPLES; i++)
                trend_add(&t, i * 10 * USEC_PER_SEC, 4242);
        assert_true(trend_growth_per_minute(&t) == 0.0);
        assert_int_equal(trend_seconds_to_limit(&t, 4242, 65530), UINT64_MAX);
        assert_int_equal(trend_seconds_to_limit(&t, 65530, 65530), 0);
        assert_int_equal(trend_seconds_to_limit(&t, 70000, 65530), 0);

        /* Once the ring has wrapped, pairs come later sample first: still +0, not -0. */
        for (unsigned i = 0; i < TREND_SAMPLES + 3; i++)
                trend_add(&t, (TREND_SAMPLES + i) * 10 * USEC_PER_SEC, 4242);
        assert_true(trend_growth_per_minute(&t) == 0.0);
        assert_false(signbit(trend_growth_per_minute(&t)));
}

static void test_shrinking(void **state) {
        Trend t = SETTLED;

        for (unsigned i = 0; i < 6; i++)
                trend_add(&t, i * USEC_PER_MINUTE, 60000 - i * 1000);
        assert_float_equal(trend_growth_per_minute(&t), -1000.0, 1e-9);
        assert_int_equal(trend_seconds_to_limit(&t, 55000, 65530), UINT64_MAX);
        /* Over the limit counts as there, whatever the trend. */
        assert_int_equal(trend_seconds_to_limit(&t, 65530, 65530), 0);
}

static void test_slow_growth_cap(void **state) {
        Trend t = SETTLED;

        /* One map over ~32 years of µs: tiny, positive; the answer stays below UINT64_MAX. */
        trend_add(&t, 0, 0);
        trend_add(&t, UINT64_C(1) << 60, 1);
        assert_true(trend_growth_per_minute(&t) > 0.0);
        uint64_t s = trend_seconds_to_limit(&t, 0, 4000000000U);
        assert_true(s != UINT64_MAX);
        assert_true(s > UINT64_C(1) << 50);
}

static void test_unordered_times(void **state) {
        /* The slope of a pair does not depend on which came first in the ring. */
        Trend t = SETTLED;

        trend_add(&t, 3 * USEC_PER_MINUTE, 130);
        trend_add(&t, 1 * USEC_PER_MINUTE, 110);
        trend_add(&t, 2 * USEC_PER_MINUTE, 120);
        assert_float_equal(trend_growth_per_minute(&t), 10.0, 1e-9);
}

/* The young cadence at the default 10 s interval (schedule.h): reads after 0.625, 1.25, 2.5, 5 s,
 * then every 10 s. */
static uint64_t young_cadence_usec(unsigned reading) {
        static const uint64_t at_ms[] = { 0, 625, 1875, 4375, 9375 };

        return reading < ELEMENTSOF(at_ms) ? at_ms[reading] * USEC_PER_MSEC
                                           : (9375 + (reading - 4) * 10000) * USEC_PER_MSEC;
}

/* The process: it mapped its memory as it started (first read mid-way, second after), then
 * stayed flat. The raw Theil-Sen slope of such a window says +33996/min two seconds in; nothing of it
 * may be published, at any reading. */
static void test_maps_at_start_then_flat(void **state) {
        for (unsigned burst = 1; burst <= TREND_YOUNG_READINGS; burst++) {
                Trend t = {};

                for (unsigned i = 0; i < 40; i++) {
                        /* The first BURST readings climb to 34000, then it holds. */
                        unsigned count = i < burst ? 1000 + i * (33000 / burst) : 34000;

                        trend_add(&t, young_cadence_usec(i), count);
                        assert_true(trend_growth_per_minute(&t) == 0.0);
                        assert_int_equal(trend_seconds_to_limit(&t, count, 65530), UINT64_MAX);
                }
                assert_true(trend_settled(&t));
        }

        /* What the rule prevents: the same window, judged as if settled, shows steep growth. */
        Trend raw = {};
        trend_add(&raw, young_cadence_usec(0), 1000);
        trend_add(&raw, young_cadence_usec(1), 34000);
        trend_add(&raw, young_cadence_usec(2), 34000);
        raw.readings = TREND_SETTLED_READINGS;
        assert_true(trend_growth_per_minute(&raw) > 10000.0);
}

/* A real grower is published, from the reading on which its window holds only steady readings. */
static void test_settles(void **state) {
        Trend t = {};

        for (unsigned i = 0; i < TREND_SETTLED_READINGS; i++) {
                assert_false(trend_settled(&t));
                assert_true(trend_growth_per_minute(&t) == 0.0);
                /* +600 per minute: 100 per 10 s. */
                trend_add(&t, young_cadence_usec(i),
                          1000 + (unsigned) (young_cadence_usec(i) / (100 * USEC_PER_MSEC)));
        }
        assert_true(trend_settled(&t));
        assert_float_equal(trend_growth_per_minute(&t), 600.0, 1.0);
        assert_true(trend_seconds_to_limit(&t, 2000, 65530) != UINT64_MAX);
        /* About 90 s after the first reading, the window spanning 70 s. */
        assert_int_equal(young_cadence_usec(TREND_SETTLED_READINGS - 1) / USEC_PER_SEC, 89);

        /* At or over the limit is a fact, known before any trend. */
        Trend young = {};
        trend_add(&young, 0, 65530);
        assert_int_equal(trend_seconds_to_limit(&young, 65530, 65530), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_too_few),
                cmocka_unit_test(test_steady),
                cmocka_unit_test(test_ring_wraps),
                cmocka_unit_test(test_noisy_outlier),
                cmocka_unit_test(test_flat),
                cmocka_unit_test(test_shrinking),
                cmocka_unit_test(test_slow_growth_cap),
                cmocka_unit_test(test_unordered_times),
                cmocka_unit_test(test_maps_at_start_then_flat),
                cmocka_unit_test(test_settles),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
