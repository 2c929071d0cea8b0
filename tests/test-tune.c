/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `mapguardctl tune --apply` on a scratch root: the value never lowers the limit, the sysctl.d file is
 * replaced atomically with a comment header that no daemon text can escape, and the live value is written
 * to proc/sys/vm/max_map_count; errors leave nothing behind. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "testfs.h"
#include "tune.h"
#include "util.h"

/* 2026-11-18 11:06:40 UTC */
#define NOW_USEC (UINT64_C(1795000000) * USEC_PER_SEC)

static int setup_root(void **state) {
        char *root = strdup("/tmp/test-tune.XXXXXX");

        if (!root || !mkdtemp(root))
                return -1;
        *state = root;
        return 0;
}

static int teardown_root(void **state) {
        char *root = *state;

        testfs_rm_rf(root);
        free(root);
        return 0;
}

static char *read_file(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char *text = NULL;
        size_t n = 0;

        assert_int_equal(tune_path(root, path, &p), 0);
        f = fopen(p, "re");
        if (!f)
                return NULL;
        assert_true(getdelim(&text, &n, '\0', f) >= 0);
        return text;
}

/* Returns the number of entries in ROOT/etc/sysctl.d (temporary files would show up here). */
static size_t count_sysctl_dir(const char *root) {
        _cleanup_free_ char *p = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        assert_int_equal(tune_path(root, "/etc/sysctl.d", &p), 0);
        d = opendir(p);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_target(void **state) {
        assert_int_equal(tune_target(65530, 1048576, 262144), 1048576);
        assert_int_equal(tune_target(65530, 0, 262144), 262144);
        /* Never lowers: a recommendation under the live limit changes nothing. */
        assert_int_equal(tune_target(2000000, 1048576, 262144), 2000000);
        assert_int_equal(tune_target(0, 0, 0), 0);
        assert_int_equal(tune_target(UINT32_MAX, 0, 1), UINT32_MAX);
}

static void test_path(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        assert_int_equal(tune_path(NULL, TUNE_SYSCTL_FILE, &a), 0);
        assert_string_equal(a, "/etc/sysctl.d/90-mapguard-tuned.conf");
        assert_int_equal(tune_path("/", TUNE_PROC_FILE, &b), 0);
        assert_string_equal(b, "/proc/sys/vm/max_map_count");
        assert_int_equal(tune_path("", TUNE_PROC_FILE, &c), 0);
        assert_string_equal(c, "/proc/sys/vm/max_map_count");
        assert_int_equal(tune_path("/tmp/r", TUNE_PROC_FILE, &d), 0);
        assert_string_equal(d, "/tmp/r/proc/sys/vm/max_map_count");
}

static void test_write_file(void **state) {
        const char *root = *state;
        _cleanup_free_ char *text = NULL, *p = NULL;
        struct stat st;

        /* No etc/sysctl.d yet: created. */
        testfs_write_str(root, "/etc/.keep", "");
        assert_int_equal(tune_write_sysctl_file(root, 1048576, "mapguardd recommended 262144.", NOW_USEC),
                         0);
        text = read_file(root, TUNE_SYSCTL_FILE);
        assert_non_null(text);
        assert_string_equal(
                text,
                "# Written by 'mapguardctl tune --apply' on Wed 2026-11-18 11:06:40 UTC.\n"
                "# mapguardd(8) watches the vm.max_map_count headroom; mapguardctl(1) tune --apply\n"
                "# wrote this file so that the tuned value survives reboots. It is replaced whole the\n"
                "# next time tune --apply runs.\n"
                "#\n"
                "# mapguardd recommended 262144.\n"
                "vm.max_map_count = 1048576\n");
        assert_int_equal(tune_path(root, TUNE_SYSCTL_FILE, &p), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        /* No temporary file left beside it. */
        assert_int_equal(count_sysctl_dir(root), 1);
}

static void test_replace(void **state) {
        const char *root = *state;
        _cleanup_free_ char *text = NULL;

        testfs_write_str(root, TUNE_SYSCTL_FILE, "vm.max_map_count = 5\n");
        testfs_write_str(root, "/etc/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        assert_int_equal(tune_write_sysctl_file(root, 2097152, NULL, NOW_USEC), 0);
        text = read_file(root, TUNE_SYSCTL_FILE);
        assert_non_null(text);
        assert_null(strstr(text, "= 5\n"));
        assert_non_null(strstr(text, "\nvm.max_map_count = 2097152\n"));
        assert_int_equal(count_sysctl_dir(root), 2);
}

static void test_why_cannot_escape(void **state) {
        const char *root = *state;
        _cleanup_free_ char *text = NULL;
        size_t settings = 0;

        testfs_write_str(root, "/etc/.keep", "");
        /* Whatever the daemon's reason says, every line but the last stays a comment. */
        assert_int_equal(tune_write_sysctl_file(root, 300000,
                                                "first line\nvm.max_map_count = 1\r\nkernel.panic = 1\x1b\n",
                                                NOW_USEC),
                         0);
        text = read_file(root, TUNE_SYSCTL_FILE);
        assert_non_null(text);
        for (char *line = text; *line;) {
                char *nl = strchr(line, '\n');
                assert_non_null(nl);
                if (line[0] != '#') {
                        settings++;
                        assert_true(strncmp(line, "vm.max_map_count = 300000\n", (size_t) (nl - line + 1)) ==
                                    0);
                }
                line = nl + 1;
        }
        assert_int_equal(settings, 1);
        assert_non_null(strstr(text, "# vm.max_map_count = 1 \n# kernel.panic = 1 \n"));
}

static void test_write_errors(void **state) {
        const char *root = *state;
        _cleanup_free_ char *etc = NULL;

        assert_int_equal(tune_write_sysctl_file(root, TUNE_VALUE_MAX + 1, NULL, NOW_USEC), -ERANGE);
        assert_int_equal(count_sysctl_dir(root), 0);

        /* etc is a file: the directory cannot be made, and nothing is written. */
        assert_int_equal(tune_path(root, "/etc", &etc), 0);
        testfs_write_str(root, "/etc", "not a directory\n");
        assert_int_equal(tune_write_sysctl_file(root, 1048576, NULL, NOW_USEC), -ENOTDIR);
}

static void test_apply_live(void **state) {
        const char *root = *state;
        _cleanup_free_ char *after = NULL;

        testfs_write_str(root, TUNE_PROC_FILE, "65530\n");
        assert_int_equal(tune_apply_live(root, 1048576), 0);
        after = read_file(root, TUNE_PROC_FILE);
        assert_string_equal(after, "1048576\n");

        assert_int_equal(tune_apply_live(root, TUNE_VALUE_MAX + 1), -ERANGE);
}

static void test_apply_live_errors(void **state) {
        const char *root = *state;
        _cleanup_free_ char *p = NULL;

        /* No proc/sys/vm/max_map_count under the root. */
        assert_int_equal(tune_apply_live(root, 1048576), -ENOENT);

        /* The errno of open() reaches the caller unchanged. */
        assert_int_equal(tune_path(root, TUNE_PROC_FILE, &p), 0);
        testfs_write_str(root, "/proc/sys/vm/.keep", "");
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(tune_apply_live(root, 1048576), -EISDIR);
}

/* Asserts what tune_check_boot() says of 1048576, after tune --apply wrote it (`written`) or in the
 * preview: r, and when r is 1, the file that wins (relative to root; NULL: none), the link's target
 * (relative to root's real path; NULL: no link), and its value (0: invalid). */
static void assert_boot_of(const char *root, bool written, int r, const char *source, const char *target,
                           uint32_t value) {
        _cleanup_free_ char *want_source = NULL, *real_root = NULL, *want_target = NULL;
        TuneBoot b = {};

        assert_int_equal(tune_check_boot(root, 1048576, written, &b), r);
        if (r == 0) {
                assert_null(b.source);
                return;
        }
        if (source) {
                assert_int_equal(tune_path(root, source, &want_source), 0);
                assert_string_equal(b.source, want_source);
        } else
                assert_null(b.source);
        if (target) {
                real_root = realpath(root, NULL);
                assert_non_null(real_root);
                assert_int_equal(tune_path(real_root, target, &want_target), 0);
                assert_string_equal(b.target, want_target);
        } else
                assert_null(b.target);
        assert_int_equal(b.valid, value > 0);
        assert_int_equal(b.value, value);
        tune_boot_done(&b);
        assert_null(b.source);
}

static void assert_boot(const char *root, int r, const char *source, const char *target, uint32_t value) {
        assert_boot_of(root, true, r, source, target, value);
}

/* The preview must never write ours, whatever it finds. */
static void assert_preview(const char *root, int r, const char *source, const char *target, uint32_t value) {
        _cleanup_free_ char *ours = read_file(root, TUNE_SYSCTL_FILE);

        assert_boot_of(root, false, r, source, target, value);
        if (ours) {
                _cleanup_free_ char *now = read_file(root, TUNE_SYSCTL_FILE);
                assert_string_equal(now, ours);
        } else
                assert_null(read_file(root, TUNE_SYSCTL_FILE));
}

static void test_check_boot(void **state) {
        const char *root = *state;
        _cleanup_free_ char *link = NULL;

        testfs_write_str(root, "/etc/hostname", "test\n");
        assert_int_equal(tune_write_sysctl_file(root, 1048576, "why", NOW_USEC), 0);
        /* Ours alone, or with a file that sorts before it: ours counts. */
        assert_boot(root, 0, NULL, NULL, 0);
        testfs_write_str(root, "/usr/lib/sysctl.d/50-default.conf", "vm.max_map_count = 65530\n");
        assert_boot(root, 0, NULL, NULL, 0);

        /* Debian: /etc/sysctl.d/99-sysctl.conf links to /etc/sysctl.conf, where guides put 262144. It sorts
         * later and wins at boot; the line to edit is in the file the link leads to. */
        testfs_write_str(root, "/etc/sysctl.conf", "# Elasticsearch\nvm.max_map_count=700000\n");
        assert_int_equal(tune_path(root, "/etc/sysctl.d/99-sysctl.conf", &link), 0);
        assert_int_equal(symlink("../sysctl.conf", link), 0);
        assert_boot(root, 1, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf", 700000);

        /* The same value later: the boot sets ours all the same. */
        testfs_write_str(root, "/etc/sysctl.conf", "vm.max_map_count = 1048576\n");
        assert_boot(root, 0, NULL, NULL, 0);

        /* A value the kernel refuses: systemd-sysctl fails to set it and the kernel's default stays. */
        testfs_write_str(root, "/etc/sysctl.conf", "vm.max_map_count = lots\n");
        assert_boot(root, 1, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf", 0);
        /* Refused with "-": nothing is set, and the file that cancels ours is named all the same. */
        testfs_write_str(root, "/etc/sysctl.conf", "-vm.max_map_count = lots\n");
        assert_boot(root, 1, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf", 0);

        /* Any of the sysctl.d directories, merged by file name. */
        assert_int_equal(unlink(link), 0);
        testfs_write_str(root, "/run/sysctl.d/95-other.conf", "vm/max_map_count = 2000000\n");
        assert_boot(root, 1, "/run/sysctl.d/95-other.conf", NULL, 2000000);
        /* A file of the same name in /etc masks it. */
        testfs_write_str(root, "/etc/sysctl.d/95-other.conf", "");
        assert_boot(root, 0, NULL, NULL, 0);
}

/* tune without --apply: the same verdict, before ours is written, from the files as they are. */
static void test_check_preview(void **state) {
        const char *root = *state;
        _cleanup_free_ char *link = NULL;

        /* Nothing sets it, or only files that sort before ours: ours would count. */
        assert_preview(root, 0, NULL, NULL, 0);
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 65530\n");
        assert_preview(root, 0, NULL, NULL, 0);
        /* Even a value the kernel refuses: ours, read later, would replace it. */
        testfs_write_str(root, "/etc/sysctl.d/50-bad.conf", "vm.max_map_count = lots\n");
        assert_preview(root, 0, NULL, NULL, 0);
        /* A file of our name elsewhere is masked by ours once written; an older ours is replaced. */
        testfs_write_str(root, "/run/sysctl.d/90-mapguard-tuned.conf", "vm.max_map_count = 300000\n");
        assert_preview(root, 0, NULL, NULL, 0);
        assert_int_equal(tune_write_sysctl_file(root, 500000, "why", NOW_USEC), 0);
        assert_preview(root, 0, NULL, NULL, 0);

        /* Debian's 99-sysctl.conf, a link to /etc/sysctl.conf: read after ours, it would win at boot. */
        testfs_write_str(root, "/etc/sysctl.conf", "vm.max_map_count=700000\n");
        assert_int_equal(tune_path(root, "/etc/sysctl.d/99-sysctl.conf", &link), 0);
        assert_int_equal(symlink("../sysctl.conf", link), 0);
        assert_preview(root, 1, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf", 700000);
        /* Asking for the value --apply would write: nothing to warn of. */
        testfs_write_str(root, "/etc/sysctl.conf", "vm.max_map_count = 1048576\n");
        assert_preview(root, 0, NULL, NULL, 0);
        /* Refused by the kernel, or with "-": it would still cancel ours. */
        testfs_write_str(root, "/etc/sysctl.conf", "-vm.max_map_count = lots\n");
        assert_preview(root, 1, "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf", 0);

        /* Any of the directories, merged by name; the same name in /etc masks it. */
        assert_int_equal(unlink(link), 0);
        testfs_write_str(root, "/usr/lib/sysctl.d/99-z.conf", "vm.max_map_count = 300000\n");
        assert_preview(root, 1, "/usr/lib/sysctl.d/99-z.conf", NULL, 300000);
        testfs_write_str(root, "/etc/sysctl.d/99-z.conf", "");
        assert_preview(root, 0, NULL, NULL, 0);
}

static void test_read_tuned(void **state) {
        const char *root = *state;

        /* No file sets it: 0, whatever the daemon last said (it may not have seen a file removed). */
        assert_int_equal(tune_read_tuned(root, 7), 0);
        testfs_write_str(root, "/usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        assert_int_equal(tune_read_tuned(root, 7), 1048576);
        /* A file written a moment ago counts at once: the daemon's property would lag a pass behind. */
        testfs_write_str(root, "/etc/sysctl.d/95-es.conf", "vm.max_map_count = 2097152\n");
        assert_int_equal(tune_read_tuned(root, 1048576), 2097152);
        /* Ours, from an earlier tune --apply, is one of the files: its value is read back like any. */
        assert_int_equal(tune_write_sysctl_file(root, 3000000, "why", NOW_USEC), 0);
        assert_int_equal(tune_read_tuned(root, 1048576), 2097152);
        testfs_write_str(root, "/etc/sysctl.d/95-es.conf", "");
        assert_int_equal(tune_read_tuned(root, 1048576), 3000000);
        /* A value the kernel refuses sets nothing at boot, as the daemon's 0 says too. */
        testfs_write_str(root, "/etc/sysctl.d/95-es.conf", "vm.max_map_count = lots\n");
        assert_int_equal(tune_read_tuned(root, 1048576), 0);
}

static void test_read_tuned_unreadable(void **state) {
        const char *root = *state;

        /* /run/sysctl.d is a file, not a directory: the files cannot be read, the daemon's value stands. */
        testfs_write_str(root, "/etc/sysctl.d/95-es.conf", "vm.max_map_count = 2097152\n");
        testfs_write_str(root, "/run/sysctl.d", "");
        assert_int_equal(tune_read_tuned(root, 1048576), 1048576);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_target),
                cmocka_unit_test(test_path),
                cmocka_unit_test_setup_teardown(test_write_file, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_replace, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_why_cannot_escape, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_write_errors, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_apply_live, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_apply_live_errors, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_check_boot, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_check_preview, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_read_tuned, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_read_tuned_unreadable, setup_root, teardown_root),
        };
        /* The header's timestamp is in local time. */
        if (setenv("TZ", "UTC", 1) < 0)
                return EXIT_FAILURE;
        tzset();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
