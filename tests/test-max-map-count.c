/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* max-map-count.c: max_map_count_read_live() and max_map_count_read_tuned() on generated /proc and sysctl.d
 * trees, and the headroom below the limit. */

#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "max-map-count.h"
#include "testfs.h"
#include "util.h"

static char base[] = "/tmp/mapguard-test-max-map-count-XXXXXX";
static char *root; /* a fresh root per test */
static unsigned root_n;

static int group_setup(void **state) {
        return mkdtemp(base) ? 0 : -1;
}

static int group_teardown(void **state) {
        testfs_rm_rf(base);
        return 0;
}

static int setup(void **state) {
        if (asprintf(&root, "%s/root%u", base, root_n++) < 0)
                return -1;
        return mkdir(root, 0755);
}

static int teardown(void **state) {
        free(root);
        root = NULL;
        return 0;
}

/* Expects VALUE set by ROOT+SOURCE_REL. */
static void check_tuned(unsigned value, const char *source_rel) {
        _cleanup_free_ char *source = NULL, *expected = testfs_path(root, source_rel);
        unsigned v = 0;

        assert_int_equal(max_map_count_read_tuned(root, &v, &source), 0);
        assert_int_equal(v, value);
        assert_string_equal(source, expected);
        /* ret_source is optional. */
        v = 0;
        assert_int_equal(max_map_count_read_tuned(root, &v, NULL), 0);
        assert_int_equal(v, value);
}

static void check_tuned_error(int error) {
        unsigned v = 4242;
        char *source = (char *) "untouched";

        assert_int_equal(max_map_count_read_tuned(root, &v, &source), error);
        assert_int_equal(v, 4242);
        assert_string_equal(source, "untouched");
}

/* -EBADMSG names the file whose value the kernel will refuse. */
static void check_tuned_bad(const char *rel) {
        _cleanup_free_ char *want = testfs_path(root, rel);
        unsigned v = 4242;
        char *source = NULL;

        assert_int_equal(max_map_count_read_tuned(root, &v, &source), -EBADMSG);
        assert_int_equal(v, 4242);
        assert_non_null(source);
        assert_string_equal(source, want);
        free(source);
}

static void test_live(void **state) {
        unsigned v = 0;

        testfs_write_str(root, "/proc/sys/vm/max_map_count", "65530\n");
        assert_int_equal(max_map_count_read_live(root, &v), 0);
        assert_int_equal(v, 65530);
        testfs_write_str(root, "/proc/sys/vm/max_map_count", " 2147483647 \n");
        assert_int_equal(max_map_count_read_live(root, &v), 0);
        assert_int_equal(v, 2147483647);
        testfs_write_str(root, "/proc/sys/vm/max_map_count", "0");
        assert_int_equal(max_map_count_read_live(root, &v), 0);
        assert_int_equal(v, 0);
}

static void test_live_garbage(void **state) {
        static const char *const garbage[] = {
                "",
                "\n",
                "abc\n",
                "-1\n",
                "65530 12\n",
                "1.5\n",
                "2147483648\n",
                "99999999999999999999\n",
                "0x100000\n",
                "65530abc",
                "000000000000000000000000000000000000000000000000000000000000001\n",
        };
        unsigned v = 4242;

        for (size_t i = 0; i < ELEMENTSOF(garbage); i++) {
                testfs_write_str(root, "/proc/sys/vm/max_map_count", garbage[i]);
                assert_int_equal(max_map_count_read_live(root, &v), -EBADMSG);
        }
        assert_int_equal(v, 4242);
}

static void test_live_missing(void **state) {
        unsigned v = 4242;

        assert_int_equal(max_map_count_read_live(root, &v), -ENOENT);
        assert_int_equal(v, 4242);
}

static void test_live_host(void **state) {
        unsigned v = 0, expected = 0;
        FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

        if (!f) {
                print_message("# no /proc/sys/vm/max_map_count on this host, skipping\n");
                skip();
        }
        assert_int_equal(fscanf(f, "%u", &expected), 1);
        fclose(f);
        assert_int_equal(max_map_count_read_live("/", &v), 0);
        assert_int_equal(v, expected);
        assert_int_equal(max_map_count_read_live(NULL, &v), 0);
        assert_int_equal(v, expected);
}

static void test_tuned_none(void **state) {
        check_tuned_error(-ENOENT);
        /* Files that set other keys, comments, non-assignments, near-miss keys: still nothing. */
        testfs_write_str(root, "/usr/lib/sysctl.d/50-default.conf",
                         "# vm.max_map_count = 1\n; vm.max_map_count = 2\nkernel.pid_max = 4194304\n"
                         "vm.max_map_count_x = 3\nvm.max_map_count\nnet.vm.max_map_count = 4\n");
        testfs_write_str(root, "/etc/sysctl.d/README", "vm.max_map_count = 5\n");        /* not *.conf */
        testfs_write_str(root, "/etc/sysctl.d/99-x.conf.bak", "vm.max_map_count = 6\n"); /* not *.conf */
        testfs_write_str(root, "/etc/sysctl.d/.hidden.conf", "vm.max_map_count = 7\n");  /* hidden */
        check_tuned_error(-ENOENT);
}

static void test_tuned_simple(void **state) {
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf",
                         "# mapguard\nvm.max_map_count = 1048576\n");
        check_tuned(1048576, "/usr/lib/sysctl.d/10-mapguard.conf");
}

static void test_tuned_spellings(void **state) {
        testfs_write_str(root, "/usr/lib/sysctl.d/10-a.conf", "  vm/max_map_count=262144  \n");
        check_tuned(262144, "/usr/lib/sysctl.d/10-a.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/20-b.conf", "-vm.max_map_count = 300000\n");
        check_tuned(300000, "/usr/lib/sysctl.d/20-b.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/30-c.conf", "\t- vm/max_map_count\t=\t400000\r\n");
        check_tuned(400000, "/usr/lib/sysctl.d/30-c.conf");
        /* The kernel reads what systemd-sysctl writes in C notation: hex, and octal with a leading 0. */
        testfs_write_str(root, "/usr/lib/sysctl.d/40-d.conf", "vm.max_map_count = 0x100000\n");
        check_tuned(1048576, "/usr/lib/sysctl.d/40-d.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/50-e.conf", "vm.max_map_count = 0500000\n");
        check_tuned(163840, "/usr/lib/sysctl.d/50-e.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/60-f.conf", "vm.max_map_count = -0\n");
        check_tuned(0, "/usr/lib/sysctl.d/60-f.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/70-g.conf",
                         "vm.max_map_count = 0x000000000000040000\n"); /* 20 characters */
        check_tuned(262144, "/usr/lib/sysctl.d/70-g.conf");
}

static void test_tuned_etc_masks_usr(void **state) {
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        testfs_write_str(root, "/etc/sysctl.d/10-mapguard.conf", "vm.max_map_count = 262144\n");
        check_tuned(262144, "/etc/sysctl.d/10-mapguard.conf");
        /* /run masks /usr/lib too, and /etc masks /run. */
        testfs_write_str(root, "/run/sysctl.d/10-mapguard.conf", "vm.max_map_count = 500000\n");
        check_tuned(262144, "/etc/sysctl.d/10-mapguard.conf");
        testfs_write_str(root, "/run/sysctl.d/20-run.conf", "vm.max_map_count = 500000\n");
        testfs_write_str(root, "/usr/lib/sysctl.d/20-run.conf", "vm.max_map_count = 600000\n");
        check_tuned(500000, "/run/sysctl.d/20-run.conf");
        /* /usr/local/lib masks /usr/lib. */
        testfs_write_str(root, "/usr/local/lib/sysctl.d/30-local.conf", "vm.max_map_count = 700000\n");
        testfs_write_str(root, "/usr/lib/sysctl.d/30-local.conf", "vm.max_map_count = 800000\n");
        check_tuned(700000, "/usr/local/lib/sysctl.d/30-local.conf");
}

static void test_tuned_dev_null_masks(void **state) {
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        testfs_symlink(root, "/etc/sysctl.d/10-mapguard.conf", "/dev/null");
        check_tuned_error(-ENOENT);
        /* An empty file masks as well. */
        testfs_write_str(root, "/usr/lib/sysctl.d/20-other.conf", "vm.max_map_count = 262144\n");
        testfs_write_str(root, "/etc/sysctl.d/20-other.conf", "");
        check_tuned_error(-ENOENT);
        /* A masked name does not hide other names. */
        testfs_write_str(root, "/usr/lib/sysctl.d/05-early.conf", "vm.max_map_count = 131072\n");
        check_tuned(131072, "/usr/lib/sysctl.d/05-early.conf");
}

static void test_tuned_order_by_name(void **state) {
        /* The name decides the order, not the directory: 99-z in /usr/lib comes after 50-a in /etc. */
        testfs_write_str(root, "/etc/sysctl.d/50-a.conf", "vm.max_map_count = 300000\n");
        testfs_write_str(root, "/usr/lib/sysctl.d/99-z.conf", "vm.max_map_count = 500000\n");
        testfs_write_str(root, "/run/sysctl.d/70-m.conf", "vm.max_map_count = 400000\n");
        check_tuned(500000, "/usr/lib/sysctl.d/99-z.conf");
        /* Within a file, the later line wins. */
        testfs_write_str(root, "/usr/lib/sysctl.d/99-z.conf",
                         "vm.max_map_count = 500000\nvm/max_map_count = 510000\n");
        check_tuned(510000, "/usr/lib/sysctl.d/99-z.conf");
        /* /etc/sysctl.conf on its own is not read by systemd-sysctl, so it sets nothing here... */
        testfs_write_str(root, "/etc/sysctl.conf", "vm.max_map_count = 262144\n");
        check_tuned(510000, "/usr/lib/sysctl.d/99-z.conf");
        /* ... but through Debian's link to it, /etc/sysctl.d/99-sysctl.conf, it is read in its place by
         * name: before 99-z.conf, which still wins, and the last word once 99-z.conf is gone. */
        _cleanup_free_ char *link = testfs_path(root, "/etc/sysctl.d/99-sysctl.conf"),
                            *z = testfs_path(root, "/usr/lib/sysctl.d/99-z.conf");
        assert_int_equal(symlink("../sysctl.conf", link), 0);
        check_tuned(510000, "/usr/lib/sysctl.d/99-z.conf");
        assert_int_equal(unlink(z), 0);
        check_tuned(262144, "/etc/sysctl.d/99-sysctl.conf");
}

static void test_tuned_lib(void **state) {
        _cleanup_free_ char *lib = testfs_path(root, "/lib");

        /* A real /lib (split /usr): its sysctl.d counts, below /usr/lib. */
        testfs_write_str(root, "/lib/sysctl.d/60-lib.conf", "vm.max_map_count = 777777\n");
        check_tuned(777777, "/lib/sysctl.d/60-lib.conf");
        testfs_write_str(root, "/usr/lib/sysctl.d/60-lib.conf", "vm.max_map_count = 888888\n");
        check_tuned(888888, "/usr/lib/sysctl.d/60-lib.conf");

        /* Merged /usr: /lib is a symlink, not a second place to look. */
        testfs_rm_rf(lib);
        testfs_write_str(root, "/other/sysctl.d/70-elsewhere.conf", "vm.max_map_count = 999999\n");
        testfs_symlink(root, "/lib", "other");
        check_tuned(888888, "/usr/lib/sysctl.d/60-lib.conf");
}

static void test_tuned_symlinks(void **state) {
        /* An absolute link target is taken inside the root. */
        testfs_write_str(root, "/usr/share/mapguard/big.conf", "vm.max_map_count = 1048576\n");
        testfs_symlink(root, "/etc/sysctl.d/70-big.conf", "/usr/share/mapguard/big.conf");
        check_tuned(1048576, "/usr/share/mapguard/big.conf");
        /* A dangling link is skipped, as systemd does. */
        testfs_symlink(root, "/etc/sysctl.d/80-dangling.conf", "/nowhere/at/all.conf");
        check_tuned(1048576, "/usr/share/mapguard/big.conf");
        /* So is a link that loops, and a directory named like a file. */
        testfs_symlink(root, "/etc/sysctl.d/81-loop.conf", "81-loop.conf");
        testfs_write_str(root, "/etc/sysctl.d/82-dir.conf/inner", "vm.max_map_count = 1\n");
        check_tuned(1048576, "/usr/share/mapguard/big.conf");
}

static void test_tuned_garbage(void **state) {
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", "vm.max_map_count = lots\n");
        check_tuned_bad("/etc/sysctl.d/50-bad.conf");
        testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", "vm.max_map_count = 2147483648\n");
        check_tuned_bad("/etc/sysctl.d/50-bad.conf");
        testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", "vm.max_map_count = -5\n");
        check_tuned_bad("/etc/sysctl.d/50-bad.conf");
        /* 8 is no octal digit; "0x" has no hex digit; above INT_MAX in hex; more than 20 characters is
         * too long for the kernel's reader. */
        static const char *const refused[] = { "08",  "0x", "0x80000000", "0x0000000000000040000",
                                               "1e6", "+5", "262144k" };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                char line[64];

                snprintf(line, sizeof(line), "vm.max_map_count = %s\n", refused[i]);
                testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", line);
                check_tuned_bad("/etc/sysctl.d/50-bad.conf");
        }
        /* systemd-sysctl has no trailing comments: it would write "400000 # why" and fail. */
        testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", "vm.max_map_count = 400000 # why\n");
        check_tuned_bad("/etc/sysctl.d/50-bad.conf");
        /* A later good value fixes it. */
        testfs_write_str(root, "/etc/sysctl.d/60-good.conf", "vm.max_map_count = 262144\n");
        check_tuned(262144, "/etc/sysctl.d/60-good.conf");
        /* A bad value with "-": systemd-sysctl ignores the failed write, so nothing takes effect. */
        /* ... and names the file that cancelled the earlier value. */
        _cleanup_free_ char *source = NULL, *expected = testfs_path(root, "/etc/sysctl.d/70-ignored.conf");
        unsigned v = 4242;
        testfs_write_str(root, "/etc/sysctl.d/70-ignored.conf", "-vm.max_map_count = lots\n");
        assert_int_equal(max_map_count_read_tuned(root, &v, &source), -ENOENT);
        assert_string_equal(source, expected);
        assert_int_equal(v, 4242);
}

static void test_headroom(void **state) {
        assert_int_equal(max_map_count_headroom(0, 65530), 65530);
        assert_int_equal(max_map_count_headroom(65529, 65530), 1);
        assert_int_equal(max_map_count_headroom(65530, 65530), 0);
        assert_int_equal(max_map_count_headroom(70000, 65530), 0);
        assert_int_equal(max_map_count_headroom(5, 0), 0);
        assert_int_equal(max_map_count_headroom(0, UINT_MAX), UINT_MAX);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_live, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_garbage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_host, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_none, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_simple, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_spellings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_etc_masks_usr, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_dev_null_masks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_order_by_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_lib, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tuned_garbage, setup, teardown),
                cmocka_unit_test(test_headroom),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
