/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fileio.h"
#include "user-units.h"
#include "util.h"

/* One directory on the walk's path: the manager's, then the slices below it. */
typedef struct Frame {
        DIR *dir;
        size_t path_len; /* its control-group path's length in Walk.path */
        unsigned entries;
} Frame;

typedef struct Walk {
        const char *hierarchy_dir;
        char *path; /* the control-group path of the directory at hand, with room for one more name */
        Frame frames[USER_UNITS_DEPTH_MAX + 1];
        size_t n_frames;
        dev_t dev;
        uint64_t mnt_id;
        bool have_mnt_id;
        unsigned dirs;
        size_t allocated;
        UserUnits result;
} Walk;

void user_units_done(UserUnits *u) {
        if (!u)
                return;
        for (size_t i = 0; i < u->n; i++)
                free(u->units[i].cgroup);
        free(u->units);
        free(u->skipped_path);
        *u = (UserUnits){};
}

static int fd_mount_id(int fd, uint64_t *ret) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

/* Returns true when FD is a directory of the manager's own mount (a bind mount in the tree, maybe of
 * an ancestor making a loop, is not part of it). */
static bool same_mount(const Walk *w, int fd) {
        struct stat st;
        uint64_t mnt_id;

        if (fstat(fd, &st) < 0 || st.st_dev != w->dev)
                return false;
        return !w->have_mnt_id || (fd_mount_id(fd, &mnt_id) >= 0 && mnt_id == w->mnt_id);
}

/* Appends "/NAME" to the path of the current frame. */
static void path_push(Walk *w, const char *name) {
        size_t l = w->frames[w->n_frames - 1].path_len;

        w->path[l] = '/';
        strcpy(w->path + l + 1, name);
}

/* Notes that the child NAME of the current directory (NULL: the directory itself) could not be read. */
static int walk_skip(Walk *w, const char *name, int error) {
        if (w->result.n_skipped++ > 0)
                return 0;
        if (name)
                path_push(w, name);
        else
                w->path[w->frames[w->n_frames - 1].path_len] = '\0';
        w->result.skipped_path = strdup(w->path);
        if (!w->result.skipped_path)
                return -ENOMEM;
        w->result.skipped_error = error;
        return 0;
}

/* Opens the child directory NAME of the current directory. Returns the fd; -ENOENT when it is gone,
 * no directory, or on another mount (passed over); -E2BIG when the walk has opened all it may; -ENOMEM;
 * 0 never. An unreadable one is noted and -EACCES (its -errno) returned. */
static int walk_open(Walk *w, const char *name) {
        int fd, r;

        if (w->dirs >= USER_UNITS_DIRS_MAX) {
                w->result.bounds_hit |= USER_UNITS_BOUND_DIRS;
                return -E2BIG;
        }
        fd = openat(dirfd(w->frames[w->n_frames - 1].dir), name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                        return -ENOENT;
                if (r == -ENOMEM || r == -EMFILE || r == -ENFILE)
                        return r;
                return walk_skip(w, name, r) ?: r;
        }
        w->dirs++;
        if (!same_mount(w, fd)) {
                close(fd);
                return -ENOENT;
        }
        return fd;
}

/* Enters the directory FD, the child NAME of the current one (NULL: the manager's own, already in the
 * path), as the new current directory. Takes FD. */
static int walk_push(Walk *w, int fd, const char *name) {
        Frame *f = &w->frames[w->n_frames];
        size_t len = name ? w->frames[w->n_frames - 1].path_len + 1 + strlen(name) : strlen(w->path);

        *f = (Frame){ .dir = fdopendir(fd), .path_len = len };
        if (!f->dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (name)
                path_push(w, name);
        w->n_frames++;
        return 0;
}

static void walk_pop(Walk *w) {
        closedir(w->frames[--w->n_frames].dir);
}

/* Returns 1 when cgroup.events in DIR_FD says "populated 1", 0 for "populated 0", -ENODATA when it cannot
 * be read or says neither. */
static int events_populated(int dir_fd) {
        _cleanup_close_ int fd = -EBADF;
        char buf[256];
        ssize_t n;

        fd = openat(dir_fd, "cgroup.events", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -ENODATA;
        n = read_fd_small(fd, buf, sizeof(buf));
        if (n < 0)
                return -ENODATA;
        for (const char *p = buf; *p;) {
                size_t l = strcspn(p, "\n");

                if (l == strlen("populated 1") && strncmp(p, "populated ", 10) == 0 &&
                    (p[10] == '0' || p[10] == '1'))
                        return p[10] == '1';
                p += l;
                p += *p == '\n';
        }
        return -ENODATA;
}

/* Returns 1 when the unit directory FD (the current directory's child NAME) holds processes, 0 when not,
 * -errno when that cannot be told. */
static int unit_populated(Walk *w, int fd, const char *name) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        r = events_populated(fd);
        if (r >= 0)
                return r;
        /* No cgroup.events (cgroup v1's name=systemd hierarchy), or its user made it unreadable. */
        path_push(w, name);
        r = cgroup_read_pids(w->hierarchy_dir, w->path, &pids, &n);
        return r < 0 ? r : n > 0;
}

/* Lists the unit directory NAME, the unit UNIT, when it holds processes. Returns 0, -E2BIG when a bound
 * stops the walk, -ENOMEM. */
static int walk_unit(Walk *w, const char *name, const char *unit) {
        _cleanup_close_ int fd = -EBADF;
        UserUnit *u;
        int r;

        if (w->result.n >= USER_UNITS_MAX) {
                w->result.bounds_hit |= USER_UNITS_BOUND_UNITS;
                return -E2BIG;
        }
        fd = walk_open(w, name);
        if (fd == -ENOMEM || fd == -E2BIG)
                return fd;
        if (fd < 0)
                return 0;
        r = unit_populated(w, fd, name);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT)
                return walk_skip(w, name, r);
        if (r <= 0)
                return 0;

        if (ARRAY_RESERVE(w->result.units, w->allocated, w->result.n, 16) < 0)
                return -ENOMEM;
        u = &w->result.units[w->result.n];
        path_push(w, name);
        u->cgroup = strdup(w->path);
        if (!u->cgroup)
                return -ENOMEM;
        strcpy(u->name, unit);
        w->result.n++;
        return 0;
}

/* Enters the slice directory NAME. Returns 0, -E2BIG when a bound stops the walk, -ENOMEM. */
static int walk_slice(Walk *w, const char *name) {
        int fd;

        if (w->n_frames > USER_UNITS_DEPTH_MAX) {
                w->result.bounds_hit |= USER_UNITS_BOUND_DEPTH;
                return 0;
        }
        fd = walk_open(w, name);
        if (fd == -ENOMEM || fd == -E2BIG)
                return fd;
        if (fd < 0)
                return 0;
        return walk_push(w, fd, name);
}

/* Depth first from the manager's directory, one open directory per level. */
static int walk(Walk *w) {
        while (w->n_frames > 0) {
                Frame *f = &w->frames[w->n_frames - 1];
                char unit[UNIT_NAME_MAX];
                struct dirent *de;
                size_t n;
                int r = 0;

                if (f->entries >= USER_UNITS_ENTRIES_MAX) {
                        w->result.bounds_hit |= USER_UNITS_BOUND_ENTRIES;
                        walk_pop(w);
                        continue;
                }
                errno = 0;
                de = readdir(f->dir);
                if (!de) {
                        if (errno != 0 && errno != ENOENT && errno != ENODEV)
                                r = walk_skip(w, NULL, -errno);
                        walk_pop(w);
                        if (r < 0)
                                return r;
                        continue;
                }
                f->entries++;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                n = strlen(de->d_name);
                if (unit_name_component_is_slice(de->d_name, n))
                        r = walk_slice(w, de->d_name);
                else if (unit_name_from_component(de->d_name, n, unit))
                        r = walk_unit(w, de->d_name, unit);
                if (r == -E2BIG)
                        return 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int user_unit_compare(const void *a, const void *b) {
        const UserUnit *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : strcmp(x->cgroup, y->cgroup);
}

/* Sorts the units by name and keeps the first of each name. */
static void dedup(UserUnits *u) {
        size_t k = 0;

        if (u->n == 0)
                return;
        qsort(u->units, u->n, sizeof(UserUnit), user_unit_compare);
        for (size_t i = 1; i < u->n; i++) {
                if (streq(u->units[i].name, u->units[k].name))
                        free(u->units[i].cgroup);
                else
                        u->units[++k] = u->units[i];
        }
        u->n = k + 1;
}

/* Returns true when CGROUP is an absolute path without "..", whose unit is a user manager and nothing
 * is below it. */
static bool is_manager_cgroup(const char *cgroup) {
        char unit[UNIT_NAME_MAX];
        const char *rest;

        if (cgroup[0] != '/')
                return false;
        for (const char *p = cgroup; *p;) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += n;
        }
        return unit_name_of_cgroup_path(cgroup, unit, &rest) == 0 && unit_name_is_user_manager(unit, NULL) &&
                rest[strspn(rest, "/")] == '\0';
}

int user_units_list(const char *hierarchy_dir, const char *manager_cgroup, UserUnits *ret) {
        _cleanup_free_ char *dir = NULL;
        Walk w = { .hierarchy_dir = hierarchy_dir };
        struct stat st;
        size_t l;
        int fd, r;

        if (!hierarchy_dir || !manager_cgroup || !ret || !is_manager_cgroup(manager_cgroup))
                return -EINVAL;
        if (asprintf(&dir, "%s%s", hierarchy_dir, manager_cgroup) < 0)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        w.dev = st.st_dev;
        w.have_mnt_id = fd_mount_id(fd, &w.mnt_id) >= 0;

        /* The manager's path, trailing slashes dropped, and room for USER_UNITS_DEPTH_MAX slices and a
         * unit below it. */
        l = strlen(manager_cgroup);
        while (l > 1 && manager_cgroup[l - 1] == '/')
                l--;
        w.path = malloc(l + (USER_UNITS_DEPTH_MAX + 1) * (NAME_MAX + 1) + 1);
        if (!w.path) {
                close(fd);
                return -ENOMEM;
        }
        memcpy(w.path, manager_cgroup, l);
        w.path[l] = '\0';

        r = walk_push(&w, fd, NULL);
        if (r >= 0)
                r = walk(&w);
        while (w.n_frames > 0)
                walk_pop(&w);
        free(w.path);
        if (r < 0) {
                user_units_done(&w.result);
                return r;
        }
        dedup(&w.result);
        *ret = w.result;
        return 0;
}
