/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the maps are, over a real connection (bus-fixture.h): ExplainProcess() on fixture processes whose
 * /proc the explain reader reads (maps, status, task/TID/syscall), its errors and who may ask; the cause a
 * unit keeps when a process goes up to warning or critical, explained then and not on every pass; and
 * Recommend() saying what to fix. */
#include <stdio.h>

#include "bus-fixture.h"

#define STACK_LINE "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n"
#define STACK_SP "0x7ffc00020000"
#define TAIL_LINES \
        "555500000000-555500021000 rw-p 00000000 00:00 0                          [heap]\n" STACK_LINE \
        "7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0                          [vdso]\n" \
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
/* [heap], [stack] and [vdso]: the gate is not counted. */
#define TAIL_MAPS 3U

/* Makes fixture process PID one the explain reader can read: one thread, blocked in a system call with
 * its stack pointer in [stack], and MAPS as its maps. */
static void explainable(Fixture *f, int pid, const char *comm, unsigned uid, const char *maps) {
        char rel[128], buf[512];

        snprintf(rel, sizeof(rel), "proc/%d/status", pid);
        snprintf(buf, sizeof(buf),
                 "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nUid:\t%u\t%u\t%u\t%u\nThreads:\t1\n",
                 comm, pid, pid, uid, uid, uid, uid);
        testfs_write_str(f->root, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/task/%d/syscall", pid, pid);
        testfs_write_str(f->root, rel, "7 0x1 0x2 0x3 0x4 0x5 0x6 " STACK_SP " 0x7f0000001000\n");
        snprintf(rel, sizeof(rel), "proc/%d/maps", pid);
        testfs_write_str(f->root, rel, maps);
}

/* The maps text of N files of one page each in directory DIR, then the tail lines. Returns it, malloc'd. */
static char *files_maps(const char *dir, unsigned n) {
        char *text = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);

        assert_non_null(m);
        for (unsigned i = 0; i < n; i++)
                fprintf(m, "7f%010x000-7f%010x000 r--p 00000000 08:01 %u %s/chunk-%05u\n", i * 2, i * 2 + 1,
                        1000 + i, dir, i);
        fputs(TAIL_LINES, m);
        assert_int_equal(fclose(m), 0);
        return text;
}

/* The maps text of an allocator's region committed piece by piece: N 64 KiB pieces, rw-p and ---p in
 * turn, adjacent. Returns it, malloc'd. */
static char *fragmented_maps(unsigned n) {
        char *text = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);

        assert_non_null(m);
        for (unsigned i = 0; i < n; i++)
                fprintf(m, "7e%010x000-7e%010x000 %s 00000000 00:00 0 \n", i * 16, i * 16 + 16,
                        i % 2 ? "---p" : "rw-p");
        fputs(TAIL_LINES, m);
        assert_int_equal(fclose(m), 0);
        return text;
}

typedef struct Answer {
        uint32_t map_count;
        size_t n_groups;
        uint64_t mappings; /* of all groups */
        char first_kind[32], first_source[512], last_kind[32], last_source[512];
        uint64_t first_mappings, first_bytes;
        char verdict[32];
        char advice[1024];
} Answer;

/* Calls ExplainProcess(PID) and reads its answer into *A; asserts it is no error. */
static void explain(Fixture *f, uint32_t pid, Answer *a) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *kind, *source, *verdict, *advice;
        uint64_t mappings, bytes;

        reply = client_call_manager(f, "ExplainProcess", "u", pid);
        if (sd_bus_message_get_error(reply))
                fail_msg("ExplainProcess(%u): %s", pid, sd_bus_message_get_error(reply)->message);
        *a = (Answer){};
        assert_true(sd_bus_message_read(reply, "u", &a->map_count) > 0);
        assert_true(sd_bus_message_enter_container(reply, 'a', "(sstt)") > 0);
        while (sd_bus_message_read(reply, "(sstt)", &kind, &source, &mappings, &bytes) > 0) {
                if (a->n_groups == 0) {
                        snprintf(a->first_kind, sizeof(a->first_kind), "%s", kind);
                        snprintf(a->first_source, sizeof(a->first_source), "%s", source);
                        a->first_mappings = mappings;
                        a->first_bytes = bytes;
                }
                snprintf(a->last_kind, sizeof(a->last_kind), "%s", kind);
                snprintf(a->last_source, sizeof(a->last_source), "%s", source);
                a->n_groups++;
                a->mappings += mappings;
        }
        assert_true(sd_bus_message_exit_container(reply) >= 0);
        assert_true(sd_bus_message_read(reply, "ss", &verdict, &advice) > 0);
        snprintf(a->verdict, sizeof(a->verdict), "%s", verdict);
        snprintf(a->advice, sizeof(a->advice), "%s", advice);
}

static void test_explain_mapped_files(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *maps = files_maps("/var/lib/cortex/tsdb", 600);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *counted = NULL;
        const char *unit, *comm, *level;
        uint32_t count, max, room;
        Answer a;

        explainable(f, 1002, "ingester", 1000, maps);
        explain(f, 1002, &a);
        assert_int_equal(a.map_count, 600 + TAIL_MAPS);
        /* The groups add up to the count, and the count is GetProcess's. */
        assert_int_equal(a.mappings, a.map_count);
        counted = client_call_manager(f, "GetProcess", "u", 1002);
        assert_true(sd_bus_message_read(counted, "ssuuus", &unit, &comm, &count, &max, &room, &level) > 0);
        assert_int_equal(count, a.map_count);
        /* 600 files of one directory: one group, the directory. */
        assert_string_equal(a.first_kind, "file");
        assert_string_equal(a.first_source, "/var/lib/cortex/tsdb");
        assert_int_equal(a.first_mappings, 600);
        assert_int_equal(a.first_bytes, 600 * 4096);
        assert_string_equal(a.verdict, "mapped-files");
        /* 603 maps of a limit of 1000: twice that fits the kernel default, which is above the limit. */
        assert_non_null(strstr(a.advice, "Raise vm.max_map_count from 1,000 to 65,530"));
}

/* Sources are bytes of file names: made valid UTF-8 (sd-bus refuses a message otherwise), and past
 * EXPLAIN_REPLY_GROUPS_MAX groups the rest is one group of kind "other", so that they add up still. */
static void test_explain_names_and_many_groups(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *maps = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *m;
        Answer a;

        /* A MiB of a file whose name is no UTF-8, then 100 files, one in each of 100 directories that
         * share no parent but "/": 101 groups of their own. */
        m = open_memstream(&text, &size);
        assert_non_null(m);
        fputs("7d0000000000-7d0000100000 r--p 00000000 08:01 7 /caf\xe9/\033[2Jx\n", m);
        for (unsigned i = 0; i < 100; i++)
                fprintf(m, "7f%010x000-7f%010x000 r--p 00000000 08:01 %u /m%03u/only\n", i * 2, i * 2 + 1,
                        1000 + i, i);
        fputs(TAIL_LINES, m);
        assert_int_equal(fclose(m), 0);
        maps = text;

        explainable(f, 1002, "ingester", 1000, maps);
        explain(f, 1002, &a);
        assert_int_equal(a.map_count, 101 + TAIL_MAPS);
        assert_int_equal(a.mappings, a.map_count);
        /* The largest group first: the MiB of the odd name, its bad byte a '?', the rest as it is
         * (escaping is for whoever shows it). */
        assert_string_equal(a.first_source, "/caf?/\033[2Jx");
        assert_int_equal(a.first_mappings, 1);
        assert_int_equal(a.first_bytes, 1024 * 1024);
        assert_int_equal(a.n_groups, 64);
        assert_string_equal(a.last_kind, "other");
        /* 101 files and three kernel, heap and stack groups: 104, of which 63 are shown. */
        assert_string_equal(a.last_source, "41 more groups");
}

static void test_explain_errors(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *zero = NULL, *gone = NULL, *thread = NULL,
                                                        *zombie = NULL, *huge = NULL;

        zero = client_call_manager(f, "ExplainProcess", "u", 0);
        assert_error(zero, SD_BUS_ERROR_INVALID_ARGS, "0 is not a valid process ID.");
        huge = client_call_manager(f, "ExplainProcess", "u", (uint32_t) 3000000000U);
        assert_error(huge, SD_BUS_ERROR_INVALID_ARGS, "3000000000 is not a valid process ID.");
        gone = client_call_manager(f, "ExplainProcess", "u", 424242);
        assert_error(gone, SD_BUS_ERROR_INVALID_ARGS, "No process with PID 424242.");

        /* A thread's id: its process named. */
        fake_process(f->root, 1003, "worker-thread", 1000, 850, 600);
        testfs_write_str(f->root, "proc/1003/status",
                         "Name:\tworker-thread\nState:\tS (sleeping)\nTgid:\t1002\nPid:\t1003\n"
                         "Uid:\t1000\t1000\t1000\t1000\nThreads:\t2\n");
        thread = client_call_manager(f, "ExplainProcess", "u", 1003);
        assert_error(thread, SD_BUS_ERROR_INVALID_ARGS,
                     "1003 is a thread of process 1002, not a process: ask for 1002.");

        /* A zombie has no maps to explain. */
        fake_process(f->root, 1004, "dead", 1000, 0, 700);
        testfs_write_str(f->root, "proc/1004/stat",
                         "1004 (dead) Z 1 1004 1004 0 -1 4194564 100 0 0 0 1 1 0 0 20 0 1 0 700 0 0 "
                         "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        testfs_write_str(f->root, "proc/1004/maps", "");
        zombie = client_call_manager(f, "ExplainProcess", "u", 1004);
        assert_error(zombie, SD_BUS_ERROR_INVALID_ARGS, "Process 1004 has no memory maps");
}

/* Nobody's client: it may explain its own process, not another user's, and another user's thread says
 * nothing of its process. Returns 0 or the step that failed. */
static int explain_client(sd_bus *bus, void *userdata) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ExplainProcess", &e,
                               NULL, "u", 1002);
        if (r >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
            !strstr(e.message, "Only root and the owner of process 1002 may query it."))
                return 12;
        sd_bus_error_free(&e);
        r = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ExplainProcess", &e,
                               NULL, "u", 1003);
        if (r >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) || strstr(e.message, "1002"))
                return 13;
        sd_bus_error_free(&e);
        if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ExplainProcess", &e,
                               NULL, "u", 2002) < 0)
                return 14;
        return 0;
}

static void test_explain_access(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *maps = files_maps("/srv/store", 20);

        fake_process(f->root, 2002, "mine", 65534, 10, 800);
        explainable(f, 2002, "mine", 65534, maps);
        explainable(f, 1002, "ingester", 1000, maps);
        fake_process(f->root, 1003, "worker-thread", 1000, 850, 600);
        testfs_write_str(f->root, "proc/1003/status",
                         "Name:\tworker-thread\nState:\tS (sleeping)\nTgid:\t1002\nPid:\t1003\n"
                         "Uid:\t1000\t1000\t1000\t1000\nThreads:\t2\n");
        fixture_run_unprivileged(f, explain_client, NULL);
}

static WatchedUnit *unit_a(Fixture *f) {
        WatchedUnit *u = manager_find_unit(f->m, UNIT_A);

        assert_non_null(u);
        return u;
}

/* A process that goes up to warning or critical is explained then, once: the unit keeps the verdict. A pass
 * that finds it at the same level, or lower, explains nothing, and a process that cannot be explained
 * leaves the last cause as it was. */
static void test_cause_on_level_up(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *store = files_maps("/var/lib/cortex/tsdb", 850 - TAIL_MAPS), *fragmented = NULL,
                            *more = NULL;

        /* Read at 300 and 700 maps by the first pass, ok: nothing explained. */
        assert_false(unit_a(f)->cause.known);

        /* 850 of 1000: warning, its maps mostly files of one store. */
        explainable(f, 1002, "ingester", 1000, store);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(unit_a(f)->level, LEVEL_WARNING);
        assert_true(unit_a(f)->cause.known);
        assert_int_equal(unit_a(f)->cause.verdict, EXPLAIN_VERDICT_MAPPED_FILES);

        /* Still at warning with other maps: not explained again. */
        fragmented = fragmented_maps(870 - TAIL_MAPS);
        explainable(f, 1002, "ingester", 1000, fragmented);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(unit_a(f)->procs[1].map_count, 870);
        assert_int_equal(unit_a(f)->cause.verdict, EXPLAIN_VERDICT_MAPPED_FILES);

        /* Up to critical: explained anew. */
        more = fragmented_maps(960 - TAIL_MAPS);
        explainable(f, 1002, "ingester", 1000, more);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(unit_a(f)->level, LEVEL_CRITICAL);
        assert_int_equal(unit_a(f)->cause.verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);

        /* Down to warning (below 90 %): a change, but not up, so not explained. */
        explainable(f, 1002, "ingester", 1000, store);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(unit_a(f)->level, LEVEL_WARNING);
        assert_int_equal(unit_a(f)->cause.verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);

        /* Another process of the unit goes up to warning but cannot be explained (its status says nothing
         * of its threads): announced all the same, the unit's last cause kept. */
        fake_process(f->root, 1001, "worker", 1000, 900, 500);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(unit_a(f)->procs[0].level, LEVEL_WARNING);
        assert_int_equal(unit_a(f)->cause.verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);
        /* A call completes the client's connection, which teardown flushes. */
        assert_property_s(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Level", "warning");
}

/* Recommend() says what to fix when the maps of the unit that needs the most are no store's. */
static void test_recommend_names_the_cause(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *before = NULL, *after = NULL;
        _cleanup_free_ char *fragmented = fragmented_maps(900 - TAIL_MAPS);
        const char *reason;
        uint32_t value;

        before = client_call_manager(f, "Recommend", NULL);
        assert_true(sd_bus_message_read(before, "us", &value, &reason) > 0);
        assert_null(strstr(reason, "allocator"));

        explainable(f, 1002, "ingester", 1000, fragmented);
        assert_int_equal(manager_scan(f->m, true), 0);
        after = client_call_manager(f, "Recommend", NULL);
        assert_true(sd_bus_message_read(after, "us", &value, &reason) > 0);
        assert_int_equal(value, 65530);
        assert_non_null(strstr(reason,
                               "The maps of " UNIT_A " are mostly small anonymous regions that its "
                               "allocator splits: tune the allocator"));
        assert_non_null(strstr(reason, "Peak of 900 maps in one process"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_explain_mapped_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_explain_names_and_many_groups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_explain_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_explain_access, setup_bare, teardown),
                cmocka_unit_test_setup_teardown(test_cause_on_level_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recommend_names_the_cause, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
