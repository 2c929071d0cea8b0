/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Levels across thresholds, hysteresis without flapping, percent edge cases, headroom; the levels file
 * that carries them across a restart. */

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

#include "level-state.h"
#include "level.h"
#include "max-map-count.h"
#include "testfs.h"
#include "util.h"

static const Thresholds defaults = { .warning_percent = 80,
                                     .critical_percent = 95,
                                     .hysteresis_percent = 5 };

static void test_strings(void **state) {
        assert_string_equal(level_to_string(LEVEL_UNKNOWN), "unknown");
        assert_string_equal(level_to_string(LEVEL_OK), "ok");
        assert_string_equal(level_to_string(LEVEL_WARNING), "warning");
        assert_string_equal(level_to_string(LEVEL_CRITICAL), "critical");
        assert_null(level_to_string(_LEVEL_MAX));
        assert_null(level_to_string(_LEVEL_INVALID));
        assert_null(level_to_string((Level) 42));

        for (Level l = 0; l < _LEVEL_MAX; l++)
                assert_int_equal(level_from_string(level_to_string(l)), l);
        assert_int_equal(level_from_string("OK"), _LEVEL_INVALID);
        assert_int_equal(level_from_string(""), _LEVEL_INVALID);
        assert_int_equal(level_from_string("warn"), _LEVEL_INVALID);
        assert_int_equal(level_from_string("critical "), _LEVEL_INVALID);
        assert_int_equal(level_from_string(NULL), _LEVEL_INVALID);
}

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

static void test_headroom(void **state) {
        assert_int_equal(max_map_count_headroom(0, 65530), 65530);
        assert_int_equal(max_map_count_headroom(65529, 65530), 1);
        assert_int_equal(max_map_count_headroom(65530, 65530), 0);
        assert_int_equal(max_map_count_headroom(70000, 65530), 0);
        assert_int_equal(max_map_count_headroom(5, 0), 0);
        assert_int_equal(max_map_count_headroom(0, UINT_MAX), UINT_MAX);
}

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void test_state_round_trip(void **state) {
        char dir[] = "/tmp/mapguard-test-levels-XXXXXX", path[64], cmd[128];
        SavedLevel in[] = {
                { .pid = 4000,
                  .start_time = 77,
                  .level = LEVEL_CRITICAL,
                  .map_count = 64000,
                  .unit = "ingester@a\\x2db.service",
                  .comm = "java" },
                { .pid = 12,
                  .start_time = UINT64_MAX,
                  .level = LEVEL_WARNING,
                  .map_count = 53000,
                  .unit = "es.service",
                  .comm = "a b (c)" },
                { .pid = INT32_MAX,
                  .start_time = 0,
                  .level = LEVEL_WARNING,
                  .map_count = 0,
                  .unit = "",
                  .comm = "" },
                /* A name that would cut its line in two, with a backslash and a C1 control. */
                { .pid = 2147483000,
                  .start_time = 5,
                  .level = LEVEL_CRITICAL,
                  .map_count = 1,
                  .unit = "x.service",
                  .comm = "a\nb\\c\x1b\xc2\x9b\x7f" },
        };
        LevelState out = {}, empty = { .below_tuned_live = 7 };
        unsigned bad_line = 42;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/state", dir);
        assert_int_equal(level_state_load(path, &out, &bad_line), -ENOENT);
        assert_int_equal(bad_line, 42);

        assert_int_equal(level_state_save(path,
                                          &(LevelState){ .levels = in,
                                                         .n_levels = ELEMENTSOF(in),
                                                         .below_tuned_live = 65530,
                                                         .below_tuned_tuned = 1048576 }),
                         0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        /* Renamed into place: no temporary file is left beside it. */
        snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = state", dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 0);
        assert_int_equal(out.n_levels, 4);
        assert_int_equal(out.below_tuned_live, 65530);
        assert_int_equal(out.below_tuned_tuned, 1048576);
        /* Sorted by pid, for level_state_find(); every field back, spaces in comm too. */
        assert_int_equal(out.levels[0].pid, 12);
        assert_int_equal(out.levels[0].start_time, UINT64_MAX);
        assert_string_equal(out.levels[0].comm, "a b (c)");
        assert_int_equal(out.levels[1].pid, 4000);
        assert_int_equal(out.levels[1].level, LEVEL_CRITICAL);
        assert_int_equal(out.levels[1].map_count, 64000);
        assert_string_equal(out.levels[1].unit, "ingester@a\\x2db.service");
        assert_string_equal(out.levels[1].comm, "java");
        assert_false(out.levels[1].matched);
        assert_int_equal(out.levels[2].pid, 2147483000);
        assert_string_equal(out.levels[2].comm, "a\nb\\c\x1b\xc2\x9b\x7f");
        assert_int_equal(out.levels[3].pid, INT32_MAX);
        assert_string_equal(out.levels[3].unit, "");
        assert_string_equal(out.levels[3].comm, "");
        assert_ptr_equal(level_state_find(&out, 4000), &out.levels[1]);
        assert_null(level_state_find(&out, 4001));
        assert_null(level_state_find(NULL, 4000));
        level_state_done(&out);
        assert_null(out.levels);

        /* Nothing at warning: read back as none. */
        assert_int_equal(level_state_save(path, &empty), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(out.n_levels, 0);
        assert_null(out.levels);
        assert_int_equal(out.below_tuned_live, 7);
        assert_int_equal(out.below_tuned_tuned, 0);

        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_state_garbage(void **state) {
        /* Not such a file at all: nothing of it is used. */
        static const char *const foreign[] = { "", "something else\nprocess 12 77 warning 1 a.service x\n",
                                               "mapguardd state 2\nprocess 12 77 warning 1 a.service x\n" };
        /* Bad lines: skipped one by one, the good ones kept. */
        static const char *const bad[] = {
                "process 12 77 alarm 1 a.service x",
                "process 12 77 ok 1 a.service x", /* only warning and critical are kept */
                "process 0 77 warning 1 a.service x",
                "process -3 77 warning 1 a.service x",
                "process 2147483648 77 warning 1 a.service x",
                "process 12 seventy warning 1 a.service x",
                "process 12 77 warning 1",
                "process 12 77 warning 1 a.service 0123456789abcdefX",
                /* 16 bytes once unescaped: more than a comm holds. */
                "process 12 77 warning 1 a.service "
                "\\x41\\x41\\x41\\x41\\x41\\x41\\x41\\x41\\x41\\x41\\x41\\x41"
                "\\x41\\x41\\x41\\x41",
                "below-tuned 1",
                "below-tuned 1 2 3",
                "hello",
        };
        char dir[] = "/tmp/mapguard-test-levels-XXXXXX", path[64], text[256];
        LevelState out = { .n_levels = 42 };
        unsigned bad_line = 42;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/state", dir);
        for (size_t i = 0; i < ELEMENTSOF(foreign); i++) {
                write_text(path, foreign[i]);
                assert_int_equal(level_state_load(path, &out, &bad_line), -EBADMSG);
        }
        assert_int_equal(out.n_levels, 42);
        assert_int_equal(bad_line, 42);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(text, sizeof(text),
                         "mapguardd state 1\nprocess 5 9 warning 100 a.service ok\n%s\n"
                         "process 6 9 critical 200 b.service fine\n",
                         bad[i]);
                write_text(path, text);
                assert_int_equal(level_state_load(path, &out, &bad_line), 0);
                assert_int_equal(bad_line, 3);
                assert_int_equal(out.n_levels, 2);
                assert_int_equal(out.levels[1].level, LEVEL_CRITICAL);
                level_state_done(&out);
        }

        /* A file of an older mapguardd: '?' for control characters, a backslash as it was. */
        write_text(path,
                   "mapguardd state 1\nprocess 5 9 warning 100 a.service a?b\nprocess 6 9 warning 1 "
                   "b.service C:\\q\n");
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 0);
        assert_int_equal(out.n_levels, 2);
        assert_string_equal(out.levels[0].comm, "a?b");
        assert_string_equal(out.levels[1].comm, "C:\\q");
        level_state_done(&out);

        /* A last line without a newline (a hand edit) is fine. */
        write_text(path, "mapguardd state 1\nprocess 5 9 warning 100 a.service ok");
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 0);
        assert_int_equal(out.n_levels, 1);
        assert_string_equal(out.levels[0].comm, "ok");
        level_state_done(&out);

        /* A NUL byte: the text ends there, and its line is reported. */
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(
                fwrite("mapguardd state 1\nprocess 5 9 warning 100 a.service ok\nproc\0ess", 1, 62, f), 62);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(out.n_levels, 1);
        assert_int_equal(bad_line, 3);
        level_state_done(&out);

        /* Not followed through a symlink. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/hostname", path), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), -ELOOP);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* The wall counters of units (LimitHits, LimitExits, ...) come back as they were saved; a bad wall line is
 * skipped and named, the rest still read. */
static void test_state_walls(void **state) {
        char dir[] = "/tmp/mapguard-test-walls-XXXXXX", path[64];
        SavedWall in[] = {
                { .unit = "ingester.service",
                  .hits = 12,
                  .exits = 5,
                  .last_hit_usec = UINT64_C(1796000000000000),
                  .last_exit = "dumped SIGABRT" },
                { .unit = "es\\x2dnode.scope",
                  .hits = UINT64_MAX,
                  .exits = 0,
                  .last_hit_usec = 1,
                  .last_exit = "" },
        };
        LevelState out = {};
        unsigned bad_line = 0;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/state", dir);
        assert_int_equal(level_state_save(path, &(LevelState){ .walls = in, .n_walls = ELEMENTSOF(in) }), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 0);
        assert_int_equal(out.n_walls, 2);
        for (size_t i = 0; i < ELEMENTSOF(in); i++) {
                SavedWall *w = level_state_find_wall(&out, in[i].unit);

                assert_non_null(w);
                assert_int_equal(w->hits, in[i].hits);
                assert_int_equal(w->exits, in[i].exits);
                assert_int_equal(w->last_hit_usec, in[i].last_hit_usec);
                assert_string_equal(w->last_exit, in[i].last_exit);
        }
        assert_null(level_state_find_wall(&out, "other.service"));
        level_state_done(&out);

        f = fopen(path, "ae");
        assert_non_null(f);
        fputs("wall broken.service 1 x 3 exited 1\nwall late.service 1 2 3 killed SIGKILL\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 4);
        assert_int_equal(out.n_walls, 3);
        assert_string_equal(level_state_find_wall(&out, "late.service")->last_exit, "killed SIGKILL");
        level_state_done(&out);

        testfs_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),          cmocka_unit_test(test_up_exact_thresholds),
                cmocka_unit_test(test_up_rounding),      cmocka_unit_test(test_down_hysteresis),
                cmocka_unit_test(test_no_flapping),      cmocka_unit_test(test_max_zero),
                cmocka_unit_test(test_percent_edges),    cmocka_unit_test(test_headroom),
                cmocka_unit_test(test_state_round_trip), cmocka_unit_test(test_state_garbage),
                cmocka_unit_test(test_state_walls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
