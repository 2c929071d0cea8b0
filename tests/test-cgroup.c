/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup_find_hierarchy() for the three layouts and cgroup_read_pids() on generated cgroup trees, plus
 * this test's own cgroup on the host; cgroup_id_from_path() on the host's cgroup2 mount and, as root, on
 * a cgroup made for the test. */

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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "util.h"

static char base[] = "/tmp/mapguard-test-cgroup-XXXXXX";
/* The cgroups test_cgroup_id_from_path() makes, removed at the end also when an assertion failed. */
static char *id_cgroup_dir, *id_nested_dir;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

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
        return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of BASE/REL. */
static char *mkdirs(const char *rel) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", base, rel) > 0);
        for (char *s = p + strlen(base) + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        assert_true(mkdir(p, 0755) >= 0 || errno == EEXIST);
                        *s = '/';
                }
        assert_true(mkdir(p, 0755) >= 0 || errno == EEXIST);
        return p;
}

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *slash;

        assert_true(asprintf(&p, "%s/%s", base, rel) > 0);
        slash = strrchr(rel, '/');
        if (slash) {
                _cleanup_free_ char *dir = strndup(rel, (size_t) (slash - rel));
                free(mkdirs(dir));
        }
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
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
        put("unified/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        put("unified/sys/fs/cgroup/cgroup.procs", "1\n");
        check_hierarchy("unified", "sys/fs/cgroup", CGROUP_LAYOUT_UNIFIED);
}

static void test_find_hybrid(void **state) {
        put("hybrid/sys/fs/cgroup/unified/cgroup.controllers", "");
        put("hybrid/sys/fs/cgroup/unified/cgroup.procs", "1\n");
        put("hybrid/sys/fs/cgroup/systemd/cgroup.procs", "1\n");
        free(mkdirs("hybrid/sys/fs/cgroup/memory"));
        check_hierarchy("hybrid", "sys/fs/cgroup/unified", CGROUP_LAYOUT_HYBRID);
}

static void test_find_legacy(void **state) {
        put("legacy/sys/fs/cgroup/systemd/cgroup.procs", "1\n");
        free(mkdirs("legacy/sys/fs/cgroup/unified")); /* an empty mount point is not a hierarchy */
        put("legacy/sys/fs/cgroup/cpu/cgroup.procs", "1\n");
        check_hierarchy("legacy", "sys/fs/cgroup/systemd", CGROUP_LAYOUT_LEGACY);
}

/* A root whose own path holds "/systemd" (a machine image under /var/lib/systemd, say) is still pure
 * cgroup2: the layout comes from what was found, never from the path's spelling. */
static void test_find_root_named_systemd(void **state) {
        put("systemd/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        put("systemd/sys/fs/cgroup/cgroup.procs", "1\n");
        check_hierarchy("systemd", "sys/fs/cgroup", CGROUP_LAYOUT_UNIFIED);
        put("systemd/x/systemd/sys/fs/cgroup/unified/cgroup.controllers", "");
        put("systemd/x/systemd/sys/fs/cgroup/unified/cgroup.procs", "1\n");
        check_hierarchy("systemd/x/systemd", "sys/fs/cgroup/unified", CGROUP_LAYOUT_HYBRID);
}

static void test_find_none(void **state) {
        _cleanup_free_ char *root = NULL;
        char *dir = (char *) "untouched";

        free(mkdirs("none/sys/fs/cgroup/systemd")); /* no cgroup.procs: not mounted */
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
                put(p, text); \
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
        put(p, "999\n");
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

        put("empty-tree/a.service/cgroup.procs", "");
        put("empty-tree/a.service/sub/cgroup.procs", "");
        assert_true(asprintf(&dir, "%s/empty-tree", base) > 0);
        assert_int_equal(cgroup_read_pids(dir, "/a.service", &pids, &n), 0);
        assert_null(pids);
        assert_int_equal(n, 0);
}

static void test_pids_missing(void **state) {
        _cleanup_free_ char *dir = NULL;
        pid_t *pids = NULL;
        size_t n = 99;

        put("missing/x.service/notes", "no cgroup.procs: not a cgroup\n");
        put("missing/file.service", "a file, not a directory\n");
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
        put("bad/ok.service/cgroup.procs", "7\n");
        for (size_t i = 0; i < ELEMENTSOF(garbage); i++) {
                put("bad/ok.service/sub/cgroup.procs", garbage[i]);
                assert_int_equal(cgroup_read_pids(dir, "/ok.service", &pids, &n), -EBADMSG);
        }
        assert_int_equal(cgroup_read_pids(dir, "ok.service", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/ok.service/../ok.service", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/ok.service/..", &pids, &n), -EINVAL);
        assert_int_equal(cgroup_read_pids(dir, "/..", &pids, &n), -EINVAL);
        assert_int_equal(n, 99);
        assert_null(pids);
}

static void test_pids_other_namespace(void **state) {
        /* The kernel lists a process outside the reader's pid namespace as 0: not ours to read. */
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 99;

        put("ns/c.scope/cgroup.procs", "0\n12\n0\n");
        put("ns/c.scope/inner/cgroup.procs", "0\n");
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
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_unified),    cmocka_unit_test(test_find_hybrid),
                cmocka_unit_test(test_find_legacy),     cmocka_unit_test(test_find_root_named_systemd),
                cmocka_unit_test(test_find_none),       cmocka_unit_test(test_pids_unified),
                cmocka_unit_test(test_pids_hybrid),     cmocka_unit_test(test_pids_legacy),
                cmocka_unit_test(test_pids_empty),      cmocka_unit_test(test_pids_missing),
                cmocka_unit_test(test_pids_bad_input),  cmocka_unit_test(test_pids_other_namespace),
                cmocka_unit_test(test_host_own_cgroup), cmocka_unit_test(test_cgroup_id_from_path),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
