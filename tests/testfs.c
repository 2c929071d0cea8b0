/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testfs.h"
#include "util.h"

char *testfs_path(const char *root, const char *rel) {
        size_t l = root ? strlen(root) : 0;
        char *p;

        while (l > 0 && root[l - 1] == '/')
                l--;
        while (l > 0 && rel[0] == '/')
                rel++;
        if (l == 0)
                p = strdup(rel);
        else
                assert_true(asprintf(&p, "%.*s/%s", (int) l, root, rel) >= 0);
        assert_non_null(p);
        return p;
}

void testfs_mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        assert_non_null(p);
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0)
                        assert_int_equal(errno, EEXIST);
                *s = '/';
        }
}

char *testfs_mkdir_p(const char *root, const char *rel) {
        char *p = testfs_path(root, rel);

        testfs_mkdir_parents(p);
        if (mkdir(p, 0755) < 0)
                assert_int_equal(errno, EEXIST);
        return p;
}

void testfs_write(const char *root, const char *rel, const char *data, size_t len) {
        _cleanup_free_ char *p = testfs_path(root, rel);
        _cleanup_close_ int fd = -EBADF;

        testfs_mkdir_parents(p);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        if (len == SIZE_MAX)
                len = strlen(data);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
}

void testfs_write_str(const char *root, const char *rel, const char *text) {
        testfs_write(root, rel, text, SIZE_MAX);
}

void testfs_symlink(const char *root, const char *rel, const char *target) {
        _cleanup_free_ char *p = testfs_path(root, rel);

        testfs_mkdir_parents(p);
        assert_int_equal(symlink(target, p), 0);
}

char *testfs_mkdtemp(const char *prefix) {
        char *d;

        assert_true(asprintf(&d, "/tmp/%s-XXXXXX", prefix) >= 0);
        assert_non_null(mkdtemp(d));
        assert_int_equal(chmod(d, 0755), 0);
        return d;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        /* A directory a test made unreadable (mode 000) is made removable again first. */
        if (flag == FTW_DNR)
                (void) chmod(path, 0700);
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void testfs_rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0 && errno == ENOENT)
                return;
        assert_int_equal(nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}
