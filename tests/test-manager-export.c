/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The textfile export (manager-export.c): mapguard.prom from a Manager's state, atomically and 0644,
 * only where the directory exists, a failing write that does not stop the next one, the file moving
 * with the configured directory, removed on a clean stop; written at once after a hit; a gone unit's
 * series kept for the hit window. */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fileio.h"
#include "manager-export.h"
#include "util.h"

typedef struct Fixture {
        char dir[64];
        Manager m;
        WatchedUnit unit;
        WatchedUnit *units[1];
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        if (!f)
                return -1;
        strcpy(f->dir, "/tmp/test-export-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        f->m.config = config_new_default();
        if (!f->m.config)
                return -1;
        free(f->m.config->textfile_directory);
        f->m.config->textfile_directory = strdup(f->dir);
        f->unit = (WatchedUnit){ .name = (char *) "ingester@a\\x2db.service",
                                 .cgroup = (char *) "/system.slice/ingester@a\\x2db.service",
                                 .level = LEVEL_OK,
                                 .n_procs = 0,
                                 .map_count = 4242,
                                 .peak_map_count = 5000,
                                 .seconds_to_limit = UINT64_MAX };
        f->units[0] = &f->unit;
        f->m.units = f->units;
        f->m.n_units = 1;
        f->m.scan.backend = BACKEND_PROCFS;
        f->m.limits.live = 65530;
        f->m.scan.last_usec = now_usec(CLOCK_REALTIME);
        f->m.scan.last_full_pass_usec = now_usec(CLOCK_MONOTONIC);
        *state = f;
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int teardown(void **state) {
        Fixture *f = *state;

        manager_export_remove(&f->m);
        manager_export_done(&f->m);
        f->m.event = sd_event_unref(f->m.event);
        (void) nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        config_free(f->m.config);
        free(f);
        return 0;
}

static char *prom_path(const Fixture *f) {
        char *p;

        assert_true(asprintf(&p, "%s/mapguard.prom", f->dir) > 0);
        return p;
}

static char *read_text(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *text = NULL;
        size_t n;

        assert_true(fd >= 0);
        assert_int_equal(read_fd_all(fd, &text, &n), 0);
        return text;
}

/* Only mapguard.prom in the directory: no temporary file left behind. */
static void assert_only_prom(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        assert_string_equal(de->d_name, "mapguard.prom");
                        n++;
                }
        assert_int_equal(n, 1);
}

static void test_write_and_remove(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = prom_path(f), *text = NULL, *again = NULL;
        struct stat st;

        umask(0077); /* as the unit sets it: the file must still be readable by node_exporter */
        manager_export_textfile(&f->m);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_only_prom(f->dir);
        text = read_text(path);
        assert_non_null(strstr(
                text, "\nmapguard_unit_memory_map_areas{unit=\"ingester@a\\\\x2db.service\"} 4242\n"));
        assert_non_null(strstr(text, "\nmapguard_memory_map_areas_limit 65530\n"));
        assert_non_null(strstr(text, "\nmapguard_scan_duration_seconds 0."));
        assert_non_null(strstr(text, "backend=\"procfs\",hit_detection=\"observed\"} 1\n"));
        /* Hits are counted (observed here): the counters are there, at 0 until the unit hits the limit. */
        assert_non_null(
                strstr(text, "\nmapguard_unit_limit_hits_total{unit=\"ingester@a\\\\x2db.service\"} 0\n"));
        assert_non_null(
                strstr(text, "\nmapguard_unit_limit_exits_total{unit=\"ingester@a\\\\x2db.service\"} 0\n"));

        /* The next pass replaces it. */
        f->unit.map_count = 4300;
        f->unit.crash_loop.hits = 3;
        f->unit.crash_loop.exits = 1;
        f->m.scan.hit_detection = HIT_DETECTION_CAUGHT;
        manager_export_textfile(&f->m);
        again = read_text(path);
        assert_non_null(strstr(again, "{unit=\"ingester@a\\\\x2db.service\"} 4300\n"));
        assert_non_null(
                strstr(again, "\nmapguard_unit_limit_hits_total{unit=\"ingester@a\\\\x2db.service\"} 3\n"));
        assert_non_null(
                strstr(again, "\nmapguard_unit_limit_exits_total{unit=\"ingester@a\\\\x2db.service\"} 1\n"));
        assert_non_null(strstr(again, "hit_detection=\"caught\"} 1\n"));
        assert_only_prom(f->dir);

        /* Text the daemon writes is the text manager_export_format() gives. */
        _cleanup_free_ char *formatted = NULL;
        assert_int_equal(manager_export_format(&f->m, &formatted), 0);
        assert_non_null(strstr(formatted, "{unit=\"ingester@a\\\\x2db.service\"} 4300\n"));

        manager_export_remove(&f->m);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(errno, ENOENT);
}

static void test_missing_directory(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *sub = NULL, *path = NULL;

        assert_true(asprintf(&sub, "%s/textfile", f->dir) > 0);
        assert_true(asprintf(&path, "%s/mapguard.prom", sub) > 0);
        free(f->m.config->textfile_directory);
        f->m.config->textfile_directory = strdup(sub);

        /* Missing: nothing written, and the directory is not created either. */
        manager_export_textfile(&f->m);
        manager_export_textfile(&f->m);
        assert_int_equal(access(sub, F_OK), -1);

        /* It appears (node_exporter installed): the next pass writes. */
        assert_int_equal(mkdir(sub, 0755), 0);
        manager_export_textfile(&f->m);
        assert_int_equal(access(path, R_OK), 0);

        /* Turned off on reload: the file goes. */
        free(f->m.config->textfile_directory);
        f->m.config->textfile_directory = NULL;
        manager_export_textfile(&f->m);
        assert_int_equal(access(path, F_OK), -1);
}

static void test_write_failure_and_move(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = prom_path(f), *other = NULL, *other_path = NULL, *inside = NULL;

        /* A directory where the file should be: rename() fails, and keeps failing, without harm. */
        assert_int_equal(mkdir(path, 0755), 0);
        assert_true(asprintf(&inside, "%s/x", path) > 0);
        assert_int_equal(mkdir(inside, 0755), 0);
        manager_export_textfile(&f->m);
        manager_export_textfile(&f->m);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        /* No temporary file is left behind either. */
        _cleanup_(closedirp) DIR *d = opendir(f->dir);
        struct dirent *de;
        while ((de = readdir(d)))
                assert_true(de->d_name[0] != '.' || streq(de->d_name, ".") || streq(de->d_name, ".."));

        /* Fixed: the next pass writes. */
        assert_int_equal(rmdir(inside), 0);
        assert_int_equal(rmdir(path), 0);
        manager_export_textfile(&f->m);
        assert_int_equal(access(path, R_OK), 0);

        /* The directory changes on reload: the old file goes, the new one comes. */
        assert_true(asprintf(&other, "%s/other", f->dir) > 0);
        assert_true(asprintf(&other_path, "%s/mapguard.prom", other) > 0);
        assert_int_equal(mkdir(other, 0755), 0);
        free(f->m.config->textfile_directory);
        f->m.config->textfile_directory = strdup(other);
        manager_export_textfile(&f->m);
        assert_int_equal(access(other_path, R_OK), 0);
        assert_int_equal(access(path, F_OK), -1);
        manager_export_remove(&f->m);
        assert_int_equal(access(other_path, F_OK), -1);
}

/* Below the Manager's root, as /proc, /sys and /etc are: a test's Manager never writes the host's
 * /var/lib/prometheus/node-exporter. */
static void test_below_root(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *dir = NULL, *path = NULL, *cmd = NULL;

        f->m.root = f->dir;
        free(f->m.config->textfile_directory);
        f->m.config->textfile_directory = strdup("/var/lib/prometheus/node-exporter");
        assert_true(asprintf(&dir, "%s/var/lib/prometheus/node-exporter", f->dir) > 0);
        assert_true(asprintf(&path, "%s/mapguard.prom", dir) > 0);
        assert_true(asprintf(&cmd, "mkdir -p '%s'", dir) > 0);
        assert_int_equal(system(cmd), 0);

        manager_export_textfile(&f->m);
        assert_int_equal(access(path, R_OK), 0);
        manager_export_remove(&f->m);
        assert_int_equal(access(path, F_OK), -1);
}

/* A unit that is gone keeps its series for the hit window after its last hit (a container that lived
 * seconds): counters as they were, no processes, level unknown; one without recent hits does not; it
 * gives way when it is watched again, and leaves when the window has passed. */
static void test_departed(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = prom_path(f), *kept = NULL, *back = NULL, *old = NULL;
        WatchedUnit quiet = { .name = (char *) "quiet.service", .seconds_to_limit = UINT64_MAX };

        f->unit.crash_loop.hits = 7;
        f->unit.crash_loop.exits = 3;
        f->unit.crash_loop.last_hit_usec = now_usec(CLOCK_REALTIME) - 60 * USEC_PER_SEC;
        quiet.crash_loop.hits = 1;
        quiet.crash_loop.last_hit_usec = now_usec(CLOCK_REALTIME) - EXPORT_HIT_WINDOW_USEC - USEC_PER_SEC;
        manager_export_unit_departed(&f->m, &f->unit);
        manager_export_unit_departed(&f->m, &quiet);
        f->m.n_units = 0;
        manager_export_textfile(&f->m);
        kept = read_text(path);
        assert_non_null(
                strstr(kept, "\nmapguard_unit_limit_hits_total{unit=\"ingester@a\\\\x2db.service\"} 7\n"));
        assert_non_null(
                strstr(kept, "\nmapguard_unit_limit_exits_total{unit=\"ingester@a\\\\x2db.service\"} 3\n"));
        assert_non_null(strstr(kept, "{unit=\"ingester@a\\\\x2db.service\",level=\"unknown\"} 1\n"));
        assert_non_null(strstr(kept, "\nmapguard_unit_processes{unit=\"ingester@a\\\\x2db.service\"} 0\n"));
        assert_null(strstr(kept, "quiet.service"));

        /* Watched again: the unit's own series, once. */
        manager_export_unit_back(&f->m, f->unit.name);
        f->m.n_units = 1;
        f->unit.crash_loop.hits = 8;
        manager_export_textfile(&f->m);
        back = read_text(path);
        assert_non_null(
                strstr(back, "\nmapguard_unit_limit_hits_total{unit=\"ingester@a\\\\x2db.service\"} 8\n"));
        assert_null(strstr(back, "} 7\n"));

        /* Gone again, and the window passes. */
        manager_export_unit_departed(&f->m, &f->unit);
        f->m.n_units = 0;
        f->m.export.departed[0].last_hit_usec = now_usec(CLOCK_REALTIME) - EXPORT_HIT_WINDOW_USEC - 1;
        manager_export_textfile(&f->m);
        old = read_text(path);
        assert_null(strstr(old, "ingester"));
}

/* After a hit the file is written at once (from the event loop), not after the next full pass. */
static void test_soon(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = prom_path(f);

        assert_int_equal(sd_event_new(&f->m.event), 0);
        assert_int_equal(access(path, F_OK), -1);
        manager_export_soon(&f->m);
        manager_export_soon(&f->m); /* asked twice: one write */
        for (int i = 0; i < 100 && access(path, F_OK) < 0; i++)
                assert_true(sd_event_run(f->m.event, 100 * USEC_PER_MSEC) >= 0);
        assert_int_equal(access(path, R_OK), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_and_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_failure_and_move, setup, teardown),
                cmocka_unit_test_setup_teardown(test_below_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_departed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_soon, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
