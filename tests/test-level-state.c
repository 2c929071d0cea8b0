/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* level-state.c: the file that carries levels and hit counters across a restart of mapguardd. */

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
#include "testfs.h"
#include "util.h"

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

/* The hit counters of units (LimitHits, LimitExits, ...) come back as they were saved; a bad line is
 * skipped and named, the rest still read; a line as earlier builds wrote it ("wall") still counts. */
static void test_state_hits(void **state) {
        char dir[] = "/tmp/mapguard-test-hits-XXXXXX", path[64];
        SavedHits in[] = {
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
        assert_int_equal(level_state_save(path, &(LevelState){ .hits = in, .n_hits = ELEMENTSOF(in) }), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 0);
        assert_int_equal(out.n_hits, 2);
        for (size_t i = 0; i < ELEMENTSOF(in); i++) {
                SavedHits *w = level_state_find_hits(&out, in[i].unit);

                assert_non_null(w);
                assert_int_equal(w->hits, in[i].hits);
                assert_int_equal(w->exits, in[i].exits);
                assert_int_equal(w->last_hit_usec, in[i].last_hit_usec);
                assert_string_equal(w->last_exit, in[i].last_exit);
        }
        assert_null(level_state_find_hits(&out, "other.service"));
        level_state_done(&out);

        f = fopen(path, "ae");
        assert_non_null(f);
        fputs("hits broken.service 1 x 3 exited 1\nwall late.service 1 2 3 killed SIGKILL\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(level_state_load(path, &out, &bad_line), 0);
        assert_int_equal(bad_line, 4);
        assert_int_equal(out.n_hits, 3);
        assert_string_equal(level_state_find_hits(&out, "late.service")->last_exit, "killed SIGKILL");
        level_state_done(&out);

        testfs_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_round_trip),
                cmocka_unit_test(test_state_garbage),
                cmocka_unit_test(test_state_hits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
