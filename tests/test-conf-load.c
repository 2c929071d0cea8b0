/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* config_load()'s file handling (conf-load.c) on fixture trees: the drop-in directories merged by name,
 * masks, the order in which files apply (and with it Units= adding up and resetting across files),
 * $CONFIGURATION_DIRECTORY, files of the wrong type or unreadable. */

#include <sys/wait.h>

#include "conf-fixture.h"

static void test_dropin_order(void **state) {
        const char *root = *state;
        /* Applied by file name across the three directories: 10 (usr), 15 (etc), 20 (run), 30 (usr). */
        testfs_write_str(root, MAIN, "[Thresholds]\nWarningPercent=60\nCriticalPercent=99\n");
        testfs_write_str(root, USR_D "/10-a.conf",
                         "[Thresholds]\nWarningPercent=70\n[Scan]\nIntervalSec=5\n");
        testfs_write_str(root, ETC_D "/15-c.conf", "[Thresholds]\nWarningPercent=72\n");
        testfs_write_str(root, RUN_D "/20-b.conf", "[Thresholds]\nWarningPercent=75\n");
        testfs_write_str(root, USR_D "/30-d.conf", "[Scan]\nIntervalSec=2s\n");
        /* Not *.conf, or hidden: never read, even though they are invalid. */
        testfs_write_str(root, ETC_D "/40-e.conf.bak", "garbage\n");
        testfs_write_str(root, ETC_D "/.41-f.conf", "garbage\n");
        testfs_write_str(root, ETC_D "/.conf", "garbage\n");

        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 75);
        assert_int_equal(c->critical_percent, 99);
        assert_true(c->interval_usec == 2 * USEC_PER_SEC);
        config_free(c);
}

static void test_dropin_masking(void **state) {
        const char *root = *state;
        /* Invalid files that a same-named file in a higher directory masks are never parsed. */
        testfs_write_str(root, USR_D "/50-x.conf", "this is not ini\n");
        testfs_write_str(root, RUN_D "/50-x.conf", "[Thresholds]\nCriticalPercent=98\n");
        testfs_write_str(root, USR_D "/60-y.conf", "[Nope]\n");
        testfs_write_str(root, RUN_D "/60-y.conf", "[Nope]\n");
        testfs_write_str(root, ETC_D "/60-y.conf", "[Thresholds]\nCriticalPercent=97\n");

        Config *c = load_ok(root);
        assert_int_equal(c->critical_percent, 97);
        config_free(c);

        /* Without the /etc file, 60-y.conf from /run is read and refused. */
        _cleanup_free_ char *p = testfs_path(root, ETC_D "/60-y.conf");
        assert_int_equal(unlink(p), 0);
        load_fail(root, -EINVAL, RUN_D "/60-y.conf", 1, "[Nope]", "unknown section", NULL);
}

static void test_dropin_mask_devnull_and_empty(void **state) {
        const char *root = *state;
        testfs_write_str(root, USR_D "/50-x.conf", "[Thresholds]\nCriticalPercent=98\n");
        testfs_write_str(root, USR_D "/60-y.conf", "[Thresholds]\nWarningPercent=50\n");
        testfs_write_str(root, ETC_D "/60-y.conf", "");
        _cleanup_free_ char *link = testfs_path(root, ETC_D "/50-x.conf");
        assert_int_equal(symlink("/dev/null", link), 0);

        Config *c = load_ok(root), *d = config_new_default();
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);

        /* The main file masked by /dev/null is just as fine. */
        _cleanup_free_ char *main_path = testfs_path(root, MAIN);
        assert_int_equal(symlink("/dev/null", main_path), 0);
        c = load_ok(root);
        config_free(c);
}

static void test_units_accumulate(void **state) {
        const char *root = *state;
        /* The default is the list's first value; lines and files add to it in the merge order (main file,
         * then drop-ins by name whatever their directory), duplicates counting once at their first
         * position, the default's own entries included. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=a.service b@*.service\nUnits=c.scope *.service\n");
        testfs_write_str(root, USR_D "/20-vendor.conf", "[Watch]\nUnits=e.service *.scope\n");
        testfs_write_str(root, RUN_D "/10-more.conf", "[Watch]\nUnits=d.service a.service\n");
        Config *c = load_ok(root);
        assert_units(c, "*.service", "*.scope", "a.service", "b@*.service", "c.scope", "d.service",
                     "e.service", NULL);
        config_free(c);

        /* Restating the default changes nothing. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=" CONFIG_UNITS_DEFAULT "\n");
        _cleanup_free_ char *usr = testfs_path(root, USR_D "/20-vendor.conf");
        _cleanup_free_ char *run = testfs_path(root, RUN_D "/10-more.conf");
        assert_int_equal(unlink(usr), 0);
        assert_int_equal(unlink(run), 0);
        c = load_ok(root);
        Config *d = config_new_default();
        assert_non_null(d);
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);
}

static void test_units_reset(void **state) {
        const char *root = *state;
        Config *c;

        /* Reset then add, in one drop-in: that file's names alone, neither the default nor the main
         * file's. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=a.service b.service\n");
        testfs_write_str(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=\nUnits=ingester@*.service\n");
        c = load_ok(root);
        assert_units(c, "ingester@*.service", NULL);
        assert_true(config_matches_unit(c, "ingester@1.service"));
        assert_false(config_matches_unit(c, "a.service"));
        assert_false(config_matches_unit(c, "sshd.service"));
        config_free(c);

        /* Reset then add within the main file, later drop-ins adding on top. */
        testfs_write_str(root, MAIN,
                         "[Watch]\nUnits=a.service\nUnits=\nUnits=b.service\nUnits=c.service b.service\n");
        testfs_write_str(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=d.service\n");
        c = load_ok(root);
        assert_units(c, "b.service", "c.service", "d.service", NULL);
        config_free(c);

        /* The reset acts where it falls in the merge order: a drop-in named earlier adds before it and
         * loses its names, one named later adds after it and keeps them, whatever the directories. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=a.service\n");
        testfs_write_str(root, ETC_D "/05-early.conf", "[Watch]\nUnits=early.service\n");
        testfs_write_str(root, USR_D "/10-replace.conf", "[Watch]\nUnits=\n");
        testfs_write_str(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=\nUnits=x.service\n");
        testfs_write_str(root, USR_D "/30-late.conf", "[Watch]\nUnits=late.service\n");
        c = load_ok(root);
        assert_units(c, "x.service", "late.service", NULL);
        config_free(c);

        /* A same-named empty file in /etc masks the /run reset: back to the default plus everything. */
        testfs_write_str(root, ETC_D "/10-replace.conf", "");
        c = load_ok(root);
        assert_units(c, "*.service", "*.scope", "a.service", "early.service", "late.service", NULL);
        config_free(c);
}

/* A reset with nothing after it leaves an empty list, not the default: nothing is watched. */
static void test_units_reset_alone(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN, "[Watch]\nUnits=a.service\n");
        testfs_write_str(root, ETC_D "/90-none.conf", "[Watch]\nUnits=   \n");
        Config *c = load_ok(root), *d = config_new_default();
        assert_non_null(d);
        assert_non_null(c->units);
        assert_units(c, NULL);
        assert_false(config_matches_unit(c, "a.service"));
        assert_false(config_matches_unit(c, "sshd.service"));
        assert_false(config_matches_unit(c, "session-1.scope"));
        assert_false(config_equal(c, d));
        config_free(c);

        /* Equal to another empty list, and the reset repeated changes nothing. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=\n");
        Config *e = load_ok(root);
        assert_units(e, NULL);
        c = load_ok(root);
        assert_true(config_equal(c, e));
        config_free(c);
        config_free(e);
        config_free(d);
}

static void test_configuration_directory(void **state) {
        const char *root = *state;
        _cleanup_free_ char *env = NULL, *first = testfs_path(root, "/state/conf");
        assert_true(asprintf(&env, "%s:%s/other", first, root) >= 0);

        testfs_write_str(root, "/state/conf/mapguardd.conf", "[Thresholds]\nWarningPercent=50\n");
        testfs_write_str(root, "/state/conf/mapguardd.conf.d/10-a.conf",
                         "[Thresholds]\nCriticalPercent=60\n");
        testfs_write_str(root, "/other/mapguardd.conf", "[Thresholds]\nWarningPercent=51\n");
        testfs_write_str(root, MAIN, "[Thresholds]\nWarningPercent=52\n");
        assert_int_equal(setenv("CONFIGURATION_DIRECTORY", env, 1), 0);

        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 50);
        assert_int_equal(c->critical_percent, 60);
        config_free(c);

        /* An explicit directory wins over the environment. */
        _cleanup_free_ char *other = testfs_path(root, "/other/");
        _cleanup_free_ char *error = NULL;
        c = NULL;
        assert_int_equal(config_load(root, other, &c, &error), 0);
        assert_int_equal(c->warning_percent, 51);
        config_free(c);

        /* Errors name the file found through the environment. */
        testfs_write_str(root, "/state/conf/mapguardd.conf", "[Thresholds]\nWarningPercent=x\n");
        load_fail(root, -EINVAL, "/state/conf/mapguardd.conf", 2, "WarningPercent=x", NULL);

        /* Empty: ROOT/etc/mapguard again. */
        assert_int_equal(setenv("CONFIGURATION_DIRECTORY", "", 1), 0);
        c = load_ok(root);
        assert_int_equal(c->warning_percent, 52);
        config_free(c);
        unsetenv("CONFIGURATION_DIRECTORY");
}

static void test_cross_file_inconsistency(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN, "[Thresholds]\nCriticalPercent=90\n");
        testfs_write_str(root, RUN_D "/10-a.conf", "# raise the warning\n[Thresholds]\nWarningPercent=92\n");
        _cleanup_free_ char *where = NULL;
        assert_true(asprintf(&where, "set at %s" MAIN ":2", root) >= 0);
        load_fail(root, -EINVAL, RUN_D "/10-a.conf", 3, "WarningPercent=92 must be below CriticalPercent=90",
                  where, NULL);

        /* Consistent only after the merge: fine. */
        testfs_write_str(root, MAIN, "[Thresholds]\nWarningPercent=96\n");
        testfs_write_str(root, RUN_D "/10-a.conf", "[Thresholds]\nCriticalPercent=99\n");
        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 96);
        assert_int_equal(c->critical_percent, 99);
        config_free(c);
}

static void test_error_in_dropin(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN, "[Watch]\nUnits=a.service\n");
        testfs_write_str(root, ETC_D "/20-bad.conf", "\n\n[Scan]\nIntervalSec=soon\n");
        load_fail(root, -EINVAL, ETC_D "/20-bad.conf", 4, "IntervalSec=soon", NULL);
}

static void test_wrong_file_types(void **state) {
        const char *root = *state;
        _cleanup_free_ char *main_path = testfs_path(root, MAIN);
        testfs_mkdir_parents(main_path);

        assert_int_equal(mkdir(main_path, 0755), 0);
        load_fail(root, -EISDIR, MAIN, 0, "is a directory", NULL);
        assert_int_equal(rmdir(main_path), 0);

        _cleanup_free_ char *dropin_dir = testfs_path(root, ETC_D "/10-dir.conf");
        testfs_mkdir_parents(dropin_dir);
        assert_int_equal(mkdir(dropin_dir, 0755), 0);
        load_fail(root, -EISDIR, ETC_D "/10-dir.conf", 0, "is a directory", NULL);
        assert_int_equal(rmdir(dropin_dir), 0);

        /* The drop-in directory itself a file. */
        testfs_write_str(root, RUN_D, "[Scan]\n");
        load_fail(root, -ENOTDIR, RUN_D, 0, "is not a directory", NULL);
        _cleanup_free_ char *run_d = testfs_path(root, RUN_D);
        assert_int_equal(unlink(run_d), 0);

        _cleanup_free_ char *fifo = testfs_path(root, USR_D "/10-fifo.conf");
        testfs_mkdir_parents(fifo);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        load_fail(root, -EINVAL, USR_D "/10-fifo.conf", 0, "not a regular file", NULL);
}

/* Runs config_load() on ROOT as uid 65534 in a child (setuid() also clears the capabilities that let root
 * read anything) and expects exactly EXPECTED as the error. Returns false when the switch is not possible
 * here. */
static bool load_fail_as_nobody(const char *root, int expected_r, const char *expected, const char *probe) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(77);
                /* Still readable (some odd LSM or an unusual uid mapping): the test would prove nothing. */
                if (access(probe, R_OK) == 0)
                        _exit(77);
                Config *c = NULL;
                char *error = NULL;
                int r = config_load(root, NULL, &c, &error);
                bool good = r == expected_r && !c && error && streq(error, expected);
                if (!good)
                        fprintf(stderr, "# expected %d '%s', got %d: %s\n", expected_r, expected, r,
                                error ? error : "(none)");
                _exit(good ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                return false;
        assert_int_equal(WEXITSTATUS(status), 0);
        return true;
}

static void test_unreadable(void **state) {
        const char *root = *state;
        _cleanup_free_ char *main_path = testfs_path(root, MAIN), *etc_d = testfs_path(root, ETC_D);
        _cleanup_free_ char *expected = NULL;

        if (geteuid() != 0) {
                print_message(
                        "# not root: cannot switch to uid 65534 to test permission errors, skipping\n");
                skip();
        }

        testfs_write_str(root, MAIN, "[Scan]\nBackend=bpf\n");
        assert_int_equal(chmod(main_path, 0000), 0);
        assert_true(asprintf(&expected, "%s:0: cannot open: %s", main_path, strerror(EACCES)) >= 0);
        if (!load_fail_as_nobody(root, -EACCES, expected, main_path)) {
                print_message("# cannot switch to uid 65534, or it can read a mode-0000 file, skipping\n");
                skip();
        }

        /* An unreadable drop-in directory is refused too, not skipped as if missing. */
        assert_int_equal(chmod(main_path, 0644), 0);
        testfs_write_str(root, ETC_D "/10-a.conf", "[Scan]\nBackend=bpf\n");
        assert_int_equal(chmod(etc_d, 0700), 0);
        free(expected);
        assert_true(asprintf(&expected, "%s:0: cannot open directory: %s", etc_d, strerror(EACCES)) >= 0);
        assert_true(load_fail_as_nobody(root, -EACCES, expected, etc_d));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dropin_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_masking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_mask_devnull_and_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_accumulate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_reset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_reset_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_configuration_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cross_file_inconsistency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_in_dropin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_file_types, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
