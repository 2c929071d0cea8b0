/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup_find_hierarchy() for the three layouts and cgroup_read_pids() on generated cgroup trees, plus
 * this test's own cgroup on the host; cgroup_id_from_path() on the host's cgroup2 mount and, as root, on
 * a cgroup made for the test. What a delegated user can do to a unit's cgroup tree (mode 000 directories
 * and cgroup.procs, nesting hundreds deep, a bind mount loop) neither fails the unit nor hides a
 * process from the /proc completion. */

#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "testfs.h"
#include "util.h"

typedef struct PidCollect {
        size_t n;
} PidCollect;

static int collect_pid(void *userdata, pid_t pid) {
        ((PidCollect *) userdata)->n++;
        return 0;
}

static char base[] = "/tmp/mapguard-test-cgroup-XXXXXX";
/* The cgroups test_cgroup_id_from_path() makes, removed at the end also when an assertion failed. */
static char *id_cgroup_dir, *id_nested_dir;

static int group_setup(void **state) {
        return mkdtemp(base) ? 0 : -1;
}

static int group_teardown(void **state) {
        if (id_nested_dir && rmdir(id_nested_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", id_nested_dir);
        if (id_cgroup_dir && rmdir(id_cgroup_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", id_cgroup_dir);
        free(id_nested_dir);
        free(id_cgroup_dir);
        testfs_rm_rf(base);
        return 0;
}

static void check_hierarchy(const char *layout, const char *expected_rel, CgroupLayout expected_layout) {
        _cleanup_free_ char *root = NULL, *dir = NULL, *expected = NULL;
        CgroupLayout found = (CgroupLayout) -1;

        assert_true(asprintf(&root, "%s/%s", base, layout) > 0);
        assert_true(asprintf(&expected, "%s/%s", root, expected_rel) > 0);
        assert_int_equal(cgroup_find_hierarchy(root, &dir, &found), 0);
        assert_string_equal(dir, expected);
        assert_int_equal(found, expected_layout);
}

static void test_find_unified(void **state) {
        testfs_write_str(base, "unified/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        testfs_write_str(base, "unified/sys/fs/cgroup/cgroup.procs", "1\n");
        check_hierarchy("unified", "sys/fs/cgroup", CGROUP_LAYOUT_UNIFIED);
}

static void test_find_hybrid(void **state) {
        testfs_write_str(base, "hybrid/sys/fs/cgroup/unified/cgroup.controllers", "");
        testfs_write_str(base, "hybrid/sys/fs/cgroup/unified/cgroup.procs", "1\n");
        testfs_write_str(base, "hybrid/sys/fs/cgroup/systemd/cgroup.procs", "1\n");
        free(testfs_mkdir_p(base, "hybrid/sys/fs/cgroup/memory"));
        check_hierarchy("hybrid", "sys/fs/cgroup/unified", CGROUP_LAYOUT_HYBRID);
}

static void test_find_legacy(void **state) {
        testfs_write_str(base, "legacy/sys/fs/cgroup/systemd/cgroup.procs", "1\n");
        free(testfs_mkdir_p(base,
                            "legacy/sys/fs/cgroup/unified")); /* an empty mount point is not a hierarchy */
        testfs_write_str(base, "legacy/sys/fs/cgroup/cpu/cgroup.procs", "1\n");
        check_hierarchy("legacy", "sys/fs/cgroup/systemd", CGROUP_LAYOUT_LEGACY);
}

/* A root whose own path holds "/systemd" (a machine image under /var/lib/systemd, say) is still pure
 * cgroup2: the layout comes from what was found, never from the path's spelling. */
static void test_find_root_named_systemd(void **state) {
        testfs_write_str(base, "systemd/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        testfs_write_str(base, "systemd/sys/fs/cgroup/cgroup.procs", "1\n");
        check_hierarchy("systemd", "sys/fs/cgroup", CGROUP_LAYOUT_UNIFIED);
        testfs_write_str(base, "systemd/x/systemd/sys/fs/cgroup/unified/cgroup.controllers", "");
        testfs_write_str(base, "systemd/x/systemd/sys/fs/cgroup/unified/cgroup.procs", "1\n");
        check_hierarchy("systemd/x/systemd", "sys/fs/cgroup/unified", CGROUP_LAYOUT_HYBRID);
}

static void test_find_none(void **state) {
        _cleanup_free_ char *root = NULL;
        char *dir = (char *) "untouched";

        free(testfs_mkdir_p(base, "none/sys/fs/cgroup/systemd")); /* no cgroup.procs: not mounted */
        assert_true(asprintf(&root, "%s/none", base) > 0);
        assert_int_equal(cgroup_find_hierarchy(root, &dir, NULL), -ENOMEDIUM);
        assert_string_equal(dir, "untouched");
        free(root);
        assert_true(asprintf(&root, "%s/does-not-exist", base) > 0);
        assert_int_equal(cgroup_find_hierarchy(root, &dir, NULL), -ENOMEDIUM);
}

/* The same unit tree, with nested sub-cgroups and a pid listed twice, in each layout's hierarchy. */
static void make_unit_tree(const char *hier) {
        _cleanup_free_ char *u = NULL, *link = NULL, *target = NULL;

        assert_true(asprintf(&u, "%s/system.slice/foo.service", hier) > 0);
        char *p;
#define PUT(rel, text) \
        do { \
                assert_true(asprintf(&p, "%s/%s", u, rel) > 0); \
                testfs_write_str(base, p, text); \
                free(p); \
        } while (0)
        PUT("cgroup.procs", "300\n100\n");
        PUT("cgroup.controllers", "memory pids\n");
        PUT("payload/cgroup.procs", "200\n100\n");
        PUT("payload/deeper/cgroup.procs", "400\n300"); /* no newline at the end */
        PUT("empty/cgroup.procs", "");
        PUT("vanished/notes", "a sub-cgroup removed while we walk has no cgroup.procs left\n");
#undef PUT
        /* Another unit, reachable from ours only through a symlink, which must not be followed. */
        assert_true(asprintf(&p, "%s/system.slice/bar.service/cgroup.procs", hier) > 0);
        testfs_write_str(base, p, "999\n");
        free(p);
        assert_true(asprintf(&link, "%s/%s/link", base, u) > 0);
        assert_true(asprintf(&target, "%s/%s/system.slice/bar.service", base, hier) > 0);
        assert_int_equal(symlink(target, link), 0);
}

static void check_unit_pids(const char *hier) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        make_unit_tree(hier);
        assert_true(asprintf(&dir, "%s/%s", base, hier) > 0);
        assert_int_equal(cgroup_read_pids(dir, "/system.slice/foo.service", &pids, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(pids[0], 100);
        assert_int_equal(pids[1], 200);
        assert_int_equal(pids[2], 300);
        assert_int_equal(pids[3], 400);
        free(pids);
        pids = NULL;

        /* A sub-cgroup on its own. */
        assert_int_equal(cgroup_read_pids(dir, "/system.slice/foo.service/payload/deeper", &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 300);
        assert_int_equal(pids[1], 400);
        free(pids);
        pids = NULL;

        /* A trailing slash changes nothing. */
        assert_int_equal(cgroup_read_pids(dir, "/system.slice/foo.service/", &pids, &n), 0);
        assert_int_equal(n, 4);
}

static void test_pids_unified(void **state) {
        check_unit_pids("unified/sys/fs/cgroup");
}

static void test_pids_hybrid(void **state) {
        check_unit_pids("hybrid/sys/fs/cgroup/unified");
}

static void test_pids_legacy(void **state) {
        check_unit_pids("legacy/sys/fs/cgroup/systemd");
}

static void test_pids_empty(void **state) {
        _cleanup_free_ char *dir = NULL;
        pid_t *pids = (pid_t *) 0x1;
        size_t n = 99;

        testfs_write_str(base, "empty-tree/a.service/cgroup.procs", "");
        testfs_write_str(base, "empty-tree/a.service/sub/cgroup.procs", "");
        assert_true(asprintf(&dir, "%s/empty-tree", base) > 0);
        assert_int_equal(cgroup_read_pids(dir, "/a.service", &pids, &n), 0);
        assert_null(pids);
        assert_int_equal(n, 0);
}

static void test_pids_missing(void **state) {
        _cleanup_free_ char *dir = NULL;
        pid_t *pids = NULL;
        size_t n = 99;

        testfs_write_str(base, "missing/x.service/notes", "no cgroup.procs: not a cgroup\n");
        testfs_write_str(base, "missing/file.service", "a file, not a directory\n");
        assert_true(asprintf(&dir, "%s/missing", base) > 0);
        assert_int_equal(cgroup_read_pids(dir, "/gone.service", &pids, &n), -ENOENT);
        assert_int_equal(cgroup_read_pids(dir, "/x.service", &pids, &n), -ENOENT);
        assert_int_equal(cgroup_read_pids(dir, "/file.service", &pids, &n), -ENOENT);
        assert_int_equal(n, 99);
        assert_null(pids);
}

static void test_pids_bad_input(void **state) {
        static const char *const garbage[] = {
                "abc\n", "-1\n", "12x\n", "99999999999\n", "1\n\n2\n", " 5\n", "5 \n",
        };
        _cleanup_free_ char *dir = NULL;
        pid_t *pids = NULL;
        size_t n = 99;

        assert_true(asprintf(&dir, "%s/bad", base) > 0);
        testfs_write_str(base, "bad/ok.service/cgroup.procs", "7\n");
        for (size_t i = 0; i < ELEMENTSOF(garbage); i++) {
                CgroupSkipped skipped = {};

                /* In a sub-cgroup: that one is skipped and said, the rest still counts. */
                testfs_write_str(base, "bad/ok.service/sub/cgroup.procs", garbage[i]);
                assert_int_equal(cgroup_read_pids_full(NULL, dir, "/ok.service", &pids, &n, &skipped), 0);
                assert_int_equal(n, 1);
                assert_int_equal(pids[0], 7);
                assert_int_equal(skipped.n, 1);
                assert_int_equal(skipped.error, -EBADMSG);
                assert_string_equal(skipped.path, "/ok.service/sub");
                cgroup_skipped_done(&skipped);
                free(pids);
                pids = NULL;
                n = 99;

                /* In the unit's own cgroup: the unit cannot be read at all. */
                assert_int_equal(cgroup_read_pids(dir, "/ok.service/sub", &pids, &n), -EBADMSG);
        }
        assert_int_equal(cgroup_read_pids(dir, "ok.service", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/ok.service/../ok.service", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/ok.service/..", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/..", &pids, &n), -EINVAL);
        assert_int_equal(n, 99);
        assert_null(pids);
}

static void test_procs_parse(void **state) {
        static const struct {
                const char *text;
                size_t len;
                int r;
                size_t n;
        } cases[] = {
                { "", 0, 0, 0 },
                { "1", 1, 0, 1 },
                { "1\n", 2, 0, 1 },
                { "1\n2\n", 4, 0, 2 },
                { "0\n", 2, 0, 0 },
                { "2147483647\n", 11, 0, 1 },
                { "2147483648\n", 11, -EBADMSG, 0 },
                { "\n", 1, -EBADMSG, 0 },
                { "1\0", 2, -EBADMSG, 0 },
                { "1\n\n", 3, -EBADMSG, 0 },
                { "+1\n", 3, -EBADMSG, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PidCollect c = {};

                assert_int_equal(cgroup_procs_parse(cases[i].text, cases[i].len, collect_pid, &c),
                                 cases[i].r);
                if (cases[i].r == 0)
                        assert_int_equal(c.n, cases[i].n);
        }
}

/* rm -rf NAME in DIR_FD, with *at() calls only (any depth). */
static void rm_rf_at(int dir_fd, const char *name) {
        _cleanup_(closedirp) DIR *d = NULL;
        int fd;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                assert_int_equal(unlinkat(dir_fd, name, 0), 0);
                return;
        }
        d = fdopendir(fd);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        rm_rf_at(dirfd(d), de->d_name);
        assert_int_equal(unlinkat(dir_fd, name, AT_REMOVEDIR), 0);
}

/* Nesting deeper than anything systemd makes (a delegated user can nest as deep as the kernel lets
 * them) hides nothing, and the walk needs no descriptor per level: it works with 16 in all. */
static void test_pids_deep(void **state) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        CgroupSkipped skipped = {};
        struct rlimit old, tight;
        size_t n = 0, depth_bytes = 0;
        int fd, r;

        testfs_write_str(base, "deep/d.service/cgroup.procs", "1\n");
        testfs_write_str(base, "deep/d.service/n1/zz/cgroup.procs",
                         "2\n"); /* a sibling branch, after coming back up */
        assert_true(asprintf(&dir, "%s/deep", base) > 0);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        /* 300 levels, 5000+ bytes of path: beyond PATH_MAX, so only *at() calls reach the bottom. */
        for (unsigned i = 0; i <= 300; i++) {
                char name[64];
                int sub;

                if (i == 0)
                        snprintf(name, sizeof(name), "d.service");
                else
                        snprintf(name, sizeof(name), "%s%u", i % 2 ? "n" : "a-rather-longer-name-", i);
                depth_bytes += strlen(name) + 1;
                assert_true(mkdirat(fd, name, 0755) >= 0 || errno == EEXIST);
                sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(sub >= 0);
                close(fd);
                fd = sub;
                if (i > 0) {
                        const char *text = i == 65 ? "65\n" : i == 300 ? "300\n" : "";
                        int pfd = openat(fd, "cgroup.procs", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        assert_true(pfd >= 0);
                        assert_int_equal(write(pfd, text, strlen(text)), (ssize_t) strlen(text));
                        close(pfd);
                }
        }
        close(fd);
        assert_true(depth_bytes > 4096);

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        tight = (struct rlimit){ .rlim_cur = 16, .rlim_max = old.rlim_max };
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
        r = cgroup_read_pids_full(NULL, dir, "/d.service", &pids, &n, &skipped);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        assert_int_equal(r, 0);
        assert_int_equal(skipped.n, 0);
        assert_null(skipped.path);
        assert_int_equal(n, 4);
        assert_int_equal(pids[0], 1);
        assert_int_equal(pids[1], 2);
        assert_int_equal(pids[2], 65);
        assert_int_equal(pids[3], 300);

        /* testfs_rm_rf() (nftw()) in the teardown cannot go that deep. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        rm_rf_at(fd, "d.service");
        close(fd);
}

/* Runs FN as uid/gid 65534 in a child; returns false (skip) when that is not possible or the probe
 * file is still readable then (an odd LSM or uid mapping: the test would prove nothing). */
static bool run_as_nobody(void (*fn)(void), const char *probe) {
        pid_t pid;
        int status;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(77);
                if (access(probe, R_OK) == 0)
                        _exit(77);
                fn();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                return false;
        assert_int_equal(WEXITSTATUS(status), 0);
        return true;
}

#define CHILD_CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "# %s:%d: %s failed\n", __FILE__, __LINE__, #expr); \
                        _exit(1); \
                } \
        } while (0)

static char *hostile_root, *hostile_hier;

/* user@1000.service with Delegate=yes: its user made x/ mode 000, y/cgroup.procs mode 000, and the
 * kernel (the fixture's /proc) still knows who is where. */
static void hostile_as_nobody(void) {
        _cleanup_free_ pid_t *pids = NULL;
        CgroupSkipped skipped = {};
        size_t n = 0;

        /* Without /proc: the unreadable parts are skipped and said; everything else counts. */
        CHILD_CHECK(cgroup_read_pids_full(NULL, hostile_hier, "/u.slice/user@1000.service", &pids, &n,
                                          &skipped) == 0);
        CHILD_CHECK(n == 3 && pids[0] == 10 && pids[1] == 30 && pids[2] == 31);
        CHILD_CHECK(skipped.n == 2 && skipped.error == -EACCES);
        CHILD_CHECK(streq(skipped.path, "/u.slice/user@1000.service/x") ||
                    streq(skipped.path, "/u.slice/user@1000.service/y"));
        cgroup_skipped_done(&skipped);
        free(pids);
        pids = NULL;

        /* With /proc: the hidden processes are found through the kernel's word. */
        CHILD_CHECK(cgroup_read_pids_full(hostile_root, hostile_hier, "/u.slice/user@1000.service", &pids,
                                          &n, &skipped) == 0);
        CHILD_CHECK(n == 5 && pids[0] == 10 && pids[1] == 20 && pids[2] == 21 && pids[3] == 30 &&
                    pids[4] == 31);
        CHILD_CHECK(skipped.n == 2);
        cgroup_skipped_done(&skipped);
        free(pids);
        pids = NULL;

        /* The unit's own directory unreadable (systemd chowns it to the user too). */
        CHILD_CHECK(cgroup_read_pids_full(NULL, hostile_hier, "/u.slice/user@1000.service/x", &pids, &n,
                                          &skipped) == -EACCES);
        CHILD_CHECK(cgroup_read_pids_full(hostile_root, hostile_hier, "/u.slice/user@1000.service/x", &pids,
                                          &n, &skipped) == 0);
        CHILD_CHECK(n == 2 && pids[0] == 20 && pids[1] == 21);
        CHILD_CHECK(skipped.n == 1 && skipped.error == -EACCES &&
                    streq(skipped.path, "/u.slice/user@1000.service/x"));
        cgroup_skipped_done(&skipped);
}

static void test_pids_unreadable(void **state) {
        _cleanup_free_ char *x = NULL, *y_procs = NULL;

        if (geteuid() != 0) {
                print_message(
                        "# not root: cannot switch to uid 65534 to make mode 000 effective, skipping\n");
                skip();
        }
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/user@1000.service/cgroup.procs", "10\n");
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/user@1000.service/x/cgroup.procs", "20\n");
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/user@1000.service/x/deeper/cgroup.procs",
                         "21\n");
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/user@1000.service/y/cgroup.procs", "40\n");
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/user@1000.service/y/z/cgroup.procs",
                         "30\n31\n");
        testfs_write_str(base, "hostile/sys/fs/cgroup/u.slice/other.service/cgroup.procs", "50\n");
        /* The kernel's view: 40 left y (its cgroup.procs is stale in the fixture); 99 is elsewhere;
         * 98 is in a sibling whose name starts like the unit's. */
        testfs_write_str(base, "hostile/proc/10/cgroup", "0::/u.slice/user@1000.service\n");
        testfs_write_str(base, "hostile/proc/20/cgroup", "0::/u.slice/user@1000.service/x\n");
        testfs_write_str(base, "hostile/proc/21/cgroup", "0::/u.slice/user@1000.service/x/deeper\n");
        testfs_write_str(base, "hostile/proc/30/cgroup", "0::/u.slice/user@1000.service/y/z\n");
        testfs_write_str(base, "hostile/proc/31/cgroup", "0::/u.slice/user@1000.service/y/z\n");
        testfs_write_str(base, "hostile/proc/50/cgroup", "0::/u.slice/other.service\n");
        testfs_write_str(base, "hostile/proc/98/cgroup", "0::/u.slice/user@1000.service-not\n");
        testfs_write_str(base, "hostile/proc/99/cgroup",
                         "1:name=systemd:/u.slice/user@1000.service\n0::/init.scope\n");
        testfs_write_str(base, "hostile/proc/self", "not a pid directory\n");
        assert_true(asprintf(&hostile_root, "%s/hostile", base) > 0);
        assert_true(asprintf(&hostile_hier, "%s/hostile/sys/fs/cgroup", base) > 0);
        assert_true(asprintf(&x, "%s/u.slice/user@1000.service/x", hostile_hier) > 0);
        assert_true(asprintf(&y_procs, "%s/u.slice/user@1000.service/y/cgroup.procs", hostile_hier) > 0);
        assert_int_equal(chmod(base, 0755), 0);
        assert_int_equal(chmod(x, 0000), 0);
        assert_int_equal(chmod(y_procs, 0000), 0);

        if (!run_as_nobody(hostile_as_nobody, y_procs)) {
                print_message("# cannot switch to uid 65534, or it can read a mode-0000 file, skipping\n");
                assert_int_equal(chmod(x, 0755), 0);
                skip();
        }
        assert_int_equal(chmod(x, 0755), 0); /* so that the teardown can remove it */
        assert_int_equal(chmod(base, 0700), 0);
        free(hostile_root);
        free(hostile_hier);
}

/* A bind mount of the unit's cgroup inside itself makes an endless tree: not entered. */
static void test_pids_bind_loop(void **state) {
        _cleanup_free_ char *unit = NULL, *loop = NULL, *dir = NULL;
        pid_t pid;
        int status;

        testfs_write_str(base, "loop/l.service/cgroup.procs", "5\n");
        testfs_write_str(base, "loop/l.service/sub/cgroup.procs", "6\n");
        unit = testfs_mkdir_p(base, "loop/l.service");
        loop = testfs_mkdir_p(base, "loop/l.service/sub/loop");
        assert_true(asprintf(&dir, "%s/loop", base) > 0);

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(unit, loop, NULL, MS_BIND, NULL) < 0)
                        _exit(77);
                CHILD_CHECK(cgroup_read_pids(dir, "/l.service", &pids, &n) == 0);
                CHILD_CHECK(n == 2 && pids[0] == 5 && pids[1] == 6);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                print_message("# cannot bind-mount in a new mount namespace (not root?), skipping\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* cgroup2's cgroup.events tells an empty subtree at once: not read, not listed. Without it (cgroup v1)
 * everything is read; with something else in it, the subtree is read too, and noted. */
static void test_pids_unpopulated(void **state) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        CgroupSkipped skipped = {};
        size_t n = 0;

        testfs_write_str(base, "pop/p.service/cgroup.events", "populated 1\nfrozen 0\n");
        testfs_write_str(base, "pop/p.service/cgroup.procs", "1\n");
        testfs_write_str(base, "pop/p.service/full/cgroup.events", "populated 1\nfrozen 0\n");
        testfs_write_str(base, "pop/p.service/full/cgroup.procs", "2\n");
        /* The kernel says nothing is here nor below: what the files below say is never read. */
        testfs_write_str(base, "pop/p.service/empty/cgroup.events", "populated 0\nfrozen 0\n");
        testfs_write_str(base, "pop/p.service/empty/cgroup.procs", "77\n");
        testfs_write_str(base, "pop/p.service/empty/below/cgroup.procs", "78\n");
        testfs_write_str(base, "pop/p.service/v1/cgroup.procs", "3\n");
        testfs_write_str(base, "pop/p.service/garbage/cgroup.events", "populated 7\n");
        testfs_write_str(base, "pop/p.service/garbage/cgroup.procs", "4\n");
        assert_true(asprintf(&dir, "%s/pop", base) > 0);

        assert_int_equal(cgroup_read_pids_full(NULL, dir, "/p.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 4);
        assert_int_equal(pids[0], 1);
        assert_int_equal(pids[1], 2);
        assert_int_equal(pids[2], 3);
        assert_int_equal(pids[3], 4);
        assert_int_equal(skipped.n, 1);
        assert_int_equal(skipped.error, -EBADMSG);
        assert_string_equal(skipped.path, "/p.service/garbage");
        cgroup_skipped_done(&skipped);
        pids = mfree(pids);

        /* The unit's own cgroup empty: nothing of it is read. */
        testfs_write_str(base, "pop/p.service/cgroup.events", "populated 0\nfrozen 0\n");
        assert_int_equal(cgroup_read_pids_full(NULL, dir, "/p.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 0);
        assert_null(pids);
        assert_int_equal(skipped.n, 0);
}

/* A unit with more sub-cgroups than a walk is worth: /proc says who is in it, and nothing is skipped. */
static void test_pids_many_descendants(void **state) {
        _cleanup_free_ char *root = NULL, *hier = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        CgroupSkipped skipped = {};
        char stat_text[128];
        size_t n = 0;

        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.events", "populated 1\n");
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.procs", "1\n");
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/x/cgroup.procs", "5\n");
        testfs_write_str(base, "many/proc/2/cgroup", "0::/m.slice/big.service/x/y\n");
        testfs_write_str(base, "many/proc/3/cgroup", "0::/m.slice/big.service\n");
        testfs_write_str(base, "many/proc/4/cgroup", "0::/m.slice/other.service\n");
        assert_true(asprintf(&root, "%s/many", base) > 0);
        assert_true(asprintf(&hier, "%s/many/sys/fs/cgroup", base) > 0);

        /* At the bound: walked. */
        snprintf(stat_text, sizeof(stat_text), "nr_descendants %u\nnr_dying_descendants 0\n",
                 CGROUP_WALK_MAX_DESCENDANTS);
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.stat", stat_text);
        assert_int_equal(cgroup_read_pids_full(root, hier, "/m.slice/big.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 1);
        assert_int_equal(pids[1], 5);
        pids = mfree(pids);

        /* Past it: /proc's word alone. */
        snprintf(stat_text, sizeof(stat_text), "nr_descendants %u\nnr_dying_descendants 0\n",
                 CGROUP_WALK_MAX_DESCENDANTS + 1);
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.stat", stat_text);
        assert_int_equal(cgroup_read_pids_full(root, hier, "/m.slice/big.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 2);
        assert_int_equal(pids[1], 3);
        assert_int_equal(skipped.n, 0);
        assert_null(skipped.path);
        pids = mfree(pids);

        /* Without /proc to ask, it is walked all the same. */
        assert_int_equal(cgroup_read_pids_full(NULL, hier, "/m.slice/big.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 1);
        pids = mfree(pids);

        /* Nothing in it: not even /proc is read. */
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.events", "populated 0\n");
        assert_int_equal(cgroup_read_pids_full(root, hier, "/m.slice/big.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 0);
        assert_null(pids);

        /* A cgroup.stat that says something else is no count: walked. */
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.events", "populated 1\n");
        testfs_write_str(base, "many/sys/fs/cgroup/m.slice/big.service/cgroup.stat",
                         "nr_descendants lots\n");
        assert_int_equal(cgroup_read_pids_full(root, hier, "/m.slice/big.service", &pids, &n, &skipped), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 1);
        assert_int_equal(pids[1], 5);
}

static char *events_hier;

static void events_unreadable_as_nobody(void) {
        _cleanup_free_ pid_t *pids = NULL;
        CgroupSkipped skipped = {};
        size_t n = 0;

        CHILD_CHECK(cgroup_read_pids_full(NULL, events_hier, "/e.service", &pids, &n, &skipped) == 0);
        CHILD_CHECK(n == 3 && pids[0] == 10 && pids[1] == 11 && pids[2] == 12);
        CHILD_CHECK(skipped.n == 1 && skipped.error == -EACCES && streq(skipped.path, "/e.service/hidden"));
        cgroup_skipped_done(&skipped);
}

/* A delegated user's chmod 000 of a cgroup.events stops the pruning, not the walk: what is below is read
 * as it would be without cgroup.events, and it is noted, so that /proc completes it. */
static void test_pids_events_unreadable(void **state) {
        _cleanup_free_ char *events = NULL;

        if (geteuid() != 0) {
                print_message(
                        "# not root: cannot switch to uid 65534 to make mode 000 effective, skipping\n");
                skip();
        }
        testfs_write_str(base, "events/e.service/cgroup.events", "populated 1\n");
        testfs_write_str(base, "events/e.service/cgroup.procs", "10\n");
        testfs_write_str(base, "events/e.service/hidden/cgroup.events", "populated 0\n");
        testfs_write_str(base, "events/e.service/hidden/cgroup.procs", "11\n");
        testfs_write_str(base, "events/e.service/hidden/below/cgroup.procs", "12\n");
        assert_true(asprintf(&events_hier, "%s/events", base) > 0);
        assert_true(asprintf(&events, "%s/e.service/hidden/cgroup.events", events_hier) > 0);
        assert_int_equal(chmod(base, 0755), 0);
        assert_int_equal(chmod(events, 0000), 0);
        if (!run_as_nobody(events_unreadable_as_nobody, events)) {
                print_message("# cannot switch to uid 65534, or it can read a mode-0000 file, skipping\n");
                skip();
        }
        assert_int_equal(chmod(base, 0700), 0);
        free(events_hier);
}

/* Another file system mounted on a sub-cgroup (a container runtime's tmpfs) hides what is in that cgroup:
 * noted as skipped, so that /proc says who is in there. */
static void test_pids_other_mount(void **state) {
        _cleanup_free_ char *root = NULL, *hier = NULL, *sub = NULL;
        pid_t pid;
        int status;

        testfs_write_str(base, "mnt/sys/fs/cgroup/m.service/cgroup.procs", "5\n");
        testfs_write_str(base, "mnt/sys/fs/cgroup/m.service/sub/cgroup.procs", "6\n");
        testfs_write_str(base, "mnt/sys/fs/cgroup/m.service/sub/deeper/cgroup.procs", "7\n");
        testfs_write_str(base, "mnt/proc/5/cgroup", "0::/m.service\n");
        testfs_write_str(base, "mnt/proc/6/cgroup", "0::/m.service/sub\n");
        testfs_write_str(base, "mnt/proc/7/cgroup", "0::/m.service/sub/deeper\n");
        assert_true(asprintf(&root, "%s/mnt", base) > 0);
        assert_true(asprintf(&hier, "%s/mnt/sys/fs/cgroup", base) > 0);
        assert_true(asprintf(&sub, "%s/m.service/sub", hier) > 0);

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ pid_t *pids = NULL;
                CgroupSkipped skipped = {};
                size_t n = 0;

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", sub, "tmpfs", 0, "size=64k") < 0)
                        _exit(77);
                CHILD_CHECK(cgroup_read_pids_full(NULL, hier, "/m.service", &pids, &n, &skipped) == 0);
                CHILD_CHECK(n == 1 && pids[0] == 5);
                CHILD_CHECK(skipped.n == 1 && skipped.error == -EXDEV &&
                            streq(skipped.path, "/m.service/sub"));
                cgroup_skipped_done(&skipped);
                pids = mfree(pids);

                CHILD_CHECK(cgroup_read_pids_full(root, hier, "/m.service", &pids, &n, &skipped) == 0);
                CHILD_CHECK(n == 3 && pids[0] == 5 && pids[1] == 6 && pids[2] == 7);
                CHILD_CHECK(skipped.n == 1);
                cgroup_skipped_done(&skipped);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                print_message("# cannot mount a tmpfs in a new mount namespace (not root?), skipping\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_pids_other_namespace(void **state) {
        /* The kernel lists a process outside the reader's pid namespace as 0: not ours to read. */
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 99;

        testfs_write_str(base, "ns/c.scope/cgroup.procs", "0\n12\n0\n");
        testfs_write_str(base, "ns/c.scope/inner/cgroup.procs", "0\n");
        assert_true(asprintf(&dir, "%s/ns", base) > 0);
        assert_int_equal(cgroup_read_pids(dir, "/c.scope", &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], 12);
}

static void test_host_own_cgroup(void **state) {
        _cleanup_free_ char *line = NULL, *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        struct statfs sfs;
        size_t allocated = 0, n = 0;
        char *path = NULL;
        bool found = false;

        if (cgroup_find_hierarchy("/", &dir, NULL) < 0) {
                print_message("# no cgroup hierarchy mounted on this host, skipping\n");
                skip();
        }
        assert_int_equal(statfs(dir, &sfs), 0);
        assert_true(sfs.f_type == CGROUP2_SUPER_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC);

        /* "0::/path" for cgroup2, "N:name=systemd:/path" for the legacy named hierarchy. */
        f = fopen("/proc/self/cgroup", "re");
        assert_non_null(f);
        while (getline(&line, &allocated, f) > 0) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "0::", 3) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                        path = line + 3;
                else if (strstr(line, ":name=systemd:") && sfs.f_type == CGROUP_SUPER_MAGIC)
                        path = strstr(line, ":name=systemd:") + 14;
                if (path)
                        break;
        }
        if (!path) {
                print_message("# this process's cgroup is not in %s, skipping\n", dir);
                skip();
        }
        assert_int_equal(cgroup_read_pids(dir, path, &pids, &n), 0);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        assert_true(pids[i - 1] < pids[i]);
                if (pids[i] == getpid())
                        found = true;
        }
        assert_true(found);
}

/* Returns the cgroup2 mount: /sys/fs/cgroup on a pure cgroup2 host, /sys/fs/cgroup/unified on a
 * hybrid one, NULL when there is none. */
static const char *cgroup2_mount(void) {
        static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        struct statfs sfs;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (statfs(candidates[i], &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                        return candidates[i];
        return NULL;
}

static void test_cgroup_id_from_path(void **state) {
        const char *mount = cgroup2_mount();
        char file[128];
        struct stat st;
        uint64_t id = 42, cgroup_id, nested_id;

        /* Bad input; none of these touches *ret_id. */
        assert_int_equal(cgroup_id_from_path("/nonexistent-mapguard-dir", &id), -ENOENT);
        assert_int_equal(cgroup_id_from_path("/", &id), -EMEDIUMTYPE);
        assert_int_equal(id, 42);

        if (!mount) {
                printf("# no cgroup2 file system at /sys/fs/cgroup or /sys/fs/cgroup/unified: "
                       "cgroup ids not checked\n");
                return;
        }
        snprintf(file, sizeof(file), "%s/cgroup.procs", mount);
        assert_int_equal(cgroup_id_from_path(file, &id), -ENOTDIR);
        assert_int_equal(id, 42);

        /* The id is the directory's inode number (ino_t is 64 bits wide here). */
        assert_int_equal(cgroup_id_from_path(mount, &id), 0);
        assert_int_equal(stat(mount, &st), 0);
        assert_int_equal(id, (uint64_t) st.st_ino);

        /* A cgroup of our own and one nested in it: each has its own id. */
        if (access(mount, W_OK) < 0) {
                printf("# cannot create cgroups in %s (%m): ids of new cgroups not checked\n", mount);
                return;
        }
        assert_true(asprintf(&id_cgroup_dir, "%s/mapguard-test-cgroup-%d", mount, (int) getpid()) > 0);
        assert_true(asprintf(&id_nested_dir, "%s/nested", id_cgroup_dir) > 0);
        assert_int_equal(mkdir(id_cgroup_dir, 0755), 0);
        assert_int_equal(mkdir(id_nested_dir, 0755), 0);
        assert_int_equal(cgroup_id_from_path(id_cgroup_dir, &cgroup_id), 0);
        assert_int_equal(cgroup_id_from_path(id_nested_dir, &nested_id), 0);
        assert_int_equal(stat(id_cgroup_dir, &st), 0);
        assert_int_equal(cgroup_id, (uint64_t) st.st_ino);
        assert_true(cgroup_id != nested_id);

        /* Its summary: the same id, and the kernel's count of what is below it. */
        CgroupSummary s = { .id = 42 };
        assert_int_equal(cgroup_read_summary(mount, id_cgroup_dir + strlen(mount), &s), 0);
        assert_int_equal(s.id, cgroup_id);
        assert_int_equal(s.n_descendants, 1);
        assert_int_equal(cgroup_read_summary(mount, id_nested_dir + strlen(mount), &s), 0);
        assert_int_equal(s.id, nested_id);
        assert_int_equal(s.n_descendants, 0);
}

/* cgroup_read_summary() on what is no cgroup2 cgroup. */
static void test_read_summary_bad(void **state) {
        CgroupSummary s = { .id = 42, .n_descendants = 43 };

        testfs_write_str(base, "summary/s.service/cgroup.stat", "nr_descendants 5\n");
        assert_int_equal(cgroup_read_summary(base, "/summary/s.service", &s), -EMEDIUMTYPE);
        assert_int_equal(cgroup_read_summary(base, "/summary/gone.service", &s), -ENOENT);
        assert_int_equal(cgroup_read_summary(base, "summary", &s), -EINVAL);
        assert_int_equal(cgroup_read_summary(NULL, "/summary", &s), -EINVAL);
        assert_int_equal(s.id, 42);
        assert_int_equal(s.n_descendants, 43);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_unified),
                cmocka_unit_test(test_find_hybrid),
                cmocka_unit_test(test_find_legacy),
                cmocka_unit_test(test_find_root_named_systemd),
                cmocka_unit_test(test_find_none),
                cmocka_unit_test(test_pids_unified),
                cmocka_unit_test(test_pids_hybrid),
                cmocka_unit_test(test_pids_legacy),
                cmocka_unit_test(test_pids_empty),
                cmocka_unit_test(test_pids_missing),
                cmocka_unit_test(test_pids_bad_input),
                cmocka_unit_test(test_pids_other_namespace),
                cmocka_unit_test(test_host_own_cgroup),
                cmocka_unit_test(test_cgroup_id_from_path),
                cmocka_unit_test(test_procs_parse),
                cmocka_unit_test(test_pids_deep),
                cmocka_unit_test(test_pids_unreadable),
                cmocka_unit_test(test_pids_bind_loop),
                cmocka_unit_test(test_pids_unpopulated),
                cmocka_unit_test(test_pids_many_descendants),
                cmocka_unit_test(test_pids_events_unreadable),
                cmocka_unit_test(test_pids_other_mount),
                cmocka_unit_test(test_read_summary_bad),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
