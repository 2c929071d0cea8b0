/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The crash-loop rule (crash-loop.h): every hit and exit counted, the first cycles told in full, one
 * summary, then quiet until the unit runs clean for CRASH_LOOP_CLEAN_USEC or the loop is ended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "crash-loop.h"

#define T0 (UINT64_C(1700000000) * UINT64_C(1000000))
#define SEC UINT64_C(1000000)

/* One cycle of a service that hits the limit twice (two bursts) and dies, 5 s apart. */
static void cycle(CrashLoop *l, uint64_t *now, CrashLoopTell expect_hits, CrashLoopTell expect_exit) {
        assert_int_equal(crash_loop_hit(l, 3, *now), expect_hits);
        assert_int_equal(crash_loop_hit(l, 1, *now + SEC), expect_hits);
        assert_int_equal(crash_loop_exit(l, "dumped SIGABRT", *now + 2 * SEC), expect_exit);
        *now += 5 * SEC;
}

static void test_loop_told_then_quiet(void **state) {
        CrashLoop l = {};
        uint64_t now = T0;

        assert_false(crash_loop_active(&l, now));
        for (unsigned i = 0; i < CRASH_LOOP_TOLD_IN_FULL; i++) {
                assert_false(crash_loop_quiet(&l, now));
                cycle(&l, &now, CRASH_LOOP_TELL_FULL, CRASH_LOOP_TELL_FULL);
        }
        /* The fourth instance's level entries are quiet already. */
        assert_true(crash_loop_quiet(&l, now));
        /* The hits of the fourth instance are counted only; its exit is the summary. */
        cycle(&l, &now, CRASH_LOOP_TELL_QUIET, CRASH_LOOP_TELL_SUMMARY);
        assert_true(crash_loop_quiet(&l, now));
        for (unsigned i = 0; i < 20; i++)
                cycle(&l, &now, CRASH_LOOP_TELL_QUIET, CRASH_LOOP_TELL_QUIET);

        /* Every cycle counted exactly. */
        assert_int_equal(l.exits, CRASH_LOOP_TOLD_IN_FULL + 21);
        assert_int_equal(l.hits, 4 * (CRASH_LOOP_TOLD_IN_FULL + 21));
        assert_string_equal(l.last_exit, "dumped SIGABRT");
        assert_true(crash_loop_active(&l, now));
        assert_int_equal(l.last_hit_usec, now - 4 * SEC);
}

static void test_runs_clean_then_new_loop(void **state) {
        CrashLoop l = {};
        uint64_t now = T0;

        for (unsigned i = 0; i < CRASH_LOOP_TOLD_IN_FULL + 2; i++)
                cycle(&l, &now, i < CRASH_LOOP_TOLD_IN_FULL ? CRASH_LOOP_TELL_FULL : CRASH_LOOP_TELL_QUIET,
                      i < CRASH_LOOP_TOLD_IN_FULL            ? CRASH_LOOP_TELL_FULL
                              : i == CRASH_LOOP_TOLD_IN_FULL ? CRASH_LOOP_TELL_SUMMARY
                                                             : CRASH_LOOP_TELL_QUIET);
        /* Just short of the clean interval after the last hit: still in the loop. */
        now = l.last_hit_usec + CRASH_LOOP_CLEAN_USEC - 1;
        assert_true(crash_loop_active(&l, now));
        assert_true(crash_loop_quiet(&l, now));
        /* Clean for the whole interval: the loop is over, the next hit is told again. */
        now = l.last_hit_usec + CRASH_LOOP_CLEAN_USEC;
        assert_false(crash_loop_active(&l, now));
        assert_false(crash_loop_quiet(&l, now));
        cycle(&l, &now, CRASH_LOOP_TELL_FULL, CRASH_LOOP_TELL_FULL);
        assert_int_equal(l.exits, CRASH_LOOP_TOLD_IN_FULL + 3);
}

static void test_end(void **state) {
        CrashLoop l = {};
        uint64_t now = T0;

        assert_false(crash_loop_active(&l, now));
        (void) crash_loop_hit(&l, 1, now);
        for (unsigned i = 0; i <= CRASH_LOOP_TOLD_IN_FULL; i++)
                (void) crash_loop_exit(&l, "exited 1", now + i);
        assert_true(crash_loop_quiet(&l, now));
        /* Stopped or reset-failed: the loop ends, the counters stay. */
        crash_loop_end(&l);
        assert_false(crash_loop_quiet(&l, now));
        assert_int_equal(crash_loop_hit(&l, 1, now + 1), CRASH_LOOP_TELL_FULL);
        assert_int_equal(l.hits, 2);
        assert_int_equal(l.exits, CRASH_LOOP_TOLD_IN_FULL + 1);
        assert_string_equal(l.last_exit, "exited 1");
        (void) crash_loop_exit(&l, NULL, now + 2);
        assert_string_equal(l.last_exit, "exited 1");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loop_told_then_quiet),
                cmocka_unit_test(test_runs_clean_then_new_loop),
                cmocka_unit_test(test_end),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
