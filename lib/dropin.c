/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dropin.h"
#include "path-util.h"
#include "util.h"

void dropin_list_done(DropInList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->files[i].name);
                free(l->files[i].path);
        }
        free(l->files);
        *l = (DropInList){};
}

static bool dropin_list_has(const DropInList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->files[i].name, name))
                        return true;
        return false;
}

static bool dropin_name_valid(const char *name) {
        size_t n = strlen(name);

        /* Hidden files are editor and package-manager leftovers, as for systemd's own drop-ins. */
        return name[0] != '.' && n > strlen(".conf") && streq(name + n - strlen(".conf"), ".conf");
}

/* Decides what DIR/NAME stands for: *RET_PATH NULL when it masks, else the path to read. Returns 0, or
 * -errno when it cannot be resolved (the caller skips it). */
static int dropin_resolve(const char *root, const char *dir, const char *name, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);

                if (n < 0)
                        return -errno;
                target[n] = '\0';
                if (streq(target, "/dev/null")) {
                        *ret_path = NULL;
                        return 0;
                }
                if (target[0] == '/') {
                        char *p = path_prefix_root(root, target);

                        if (!p)
                                return -ENOMEM;
                        free(path);
                        path = p;
                }
                if (stat(path, &st) < 0)
                        return -errno;
        }
        if (S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)) {
                *ret_path = NULL;
                return 0;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* Adds the entries of DIR whose names are not in L yet. */
static int dropin_list_add_dir(DropInList *l, size_t *allocated, const char *root, const char *dir) {
        _cleanup_(closedirp) DIR *d = NULL;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        for (;;) {
                char *path = NULL, *name;
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return -errno;
                if (!dropin_name_valid(de->d_name) || dropin_list_has(l, de->d_name))
                        continue;
                r = dropin_resolve(root, dir, de->d_name, &path);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                name = strdup(de->d_name);
                if (!name || ARRAY_RESERVE(l->files, *allocated, l->n, 8) < 0) {
                        free(name);
                        free(path);
                        return -ENOMEM;
                }
                l->files[l->n++] = (DropIn){ .name = name, .path = path };
        }
}

static int dropin_compare(const void *a, const void *b) {
        return strcmp(((const DropIn *) a)->name, ((const DropIn *) b)->name);
}

int dropin_list(const char *root, const char *const *dirs, size_t n_dirs, DropInList *ret,
                const char **ret_failed_dir) {
        DropInList l = {};
        size_t allocated = 0;

        for (size_t i = 0; i < n_dirs; i++) {
                int r = dropin_list_add_dir(&l, &allocated, root, dirs[i]);

                if (r < 0) {
                        if (ret_failed_dir && r != -ENOMEM)
                                *ret_failed_dir = dirs[i];
                        dropin_list_done(&l);
                        return r;
                }
        }
        if (l.n > 0)
                qsort(l.files, l.n, sizeof(DropIn), dropin_compare);
        *ret = l;
        return 0;
}
