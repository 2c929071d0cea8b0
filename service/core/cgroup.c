/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup.h"
#include "fileio.h"
#include "path-util.h"
#include "procfs.h"
#include "util.h"

/* Deeper nesting than this is not something systemd creates; the bound keeps a pathological tree
 * from exhausting file descriptors, since the walk holds one per level. */
#define CGROUP_DEPTH_MAX 64

static bool root_is_host(const char *root) {
        return !root || streq(root, "") || streq(root, "/");
}

/* Returns true when DIR/MARKER exists and, on the host, DIR is on a filesystem with MAGIC. */
static bool hierarchy_usable(const char *dir, const char *marker, bool check_magic, long magic) {
        _cleanup_free_ char *p = NULL;
        struct statfs sfs;

        if (asprintf(&p, "%s/%s", dir, marker) < 0)
                return false;
        if (access(p, F_OK) < 0)
                return false;
        if (!check_magic)
                return true;
        if (statfs(dir, &sfs) < 0)
                return false;
        return (long) sfs.f_type == magic;
}

int cgroup_find_hierarchy(const char *root, char **ret_dir, CgroupLayout *ret_layout) {
        static const struct {
                const char *path;
                const char *marker;
                long magic;
                CgroupLayout layout;
        } candidates[] = {
                { "/sys/fs/cgroup", "cgroup.controllers", CGROUP2_SUPER_MAGIC, CGROUP_LAYOUT_UNIFIED },
                { "/sys/fs/cgroup/unified", "cgroup.controllers", CGROUP2_SUPER_MAGIC,
                  CGROUP_LAYOUT_HYBRID },
                { "/sys/fs/cgroup/systemd", "cgroup.procs", CGROUP_SUPER_MAGIC, CGROUP_LAYOUT_LEGACY },
        };
        bool host = root_is_host(root);

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                _cleanup_free_ char *dir = path_prefix_root(root, candidates[i].path);
                if (!dir)
                        return -ENOMEM;
                if (hierarchy_usable(dir, candidates[i].marker, host, candidates[i].magic)) {
                        *ret_dir = TAKE_PTR(dir);
                        if (ret_layout)
                                *ret_layout = candidates[i].layout;
                        return 0;
                }
        }
        return -ENOMEDIUM;
}

typedef struct PidSet {
        pid_t *pids;
        size_t n, allocated;
} PidSet;

static int pidset_add(PidSet *s, pid_t pid) {
        if (ARRAY_RESERVE(s->pids, s->allocated, s->n, 64) < 0)
                return -ENOMEM;
        s->pids[s->n++] = pid;
        return 0;
}

/* Parses one cgroup.procs: one decimal pid per line. Returns -ENOENT when it does not exist. */
static int read_procs_at(int dir_fd, PidSet *s) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        char *p;
        int r;

        fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r == -ENODEV) /* the cgroup was removed after we opened cgroup.procs */
                return -ENOENT;
        if (r == -EOPNOTSUPP)
                /* A threaded cgroup (cgroup2 "threaded" type) has no cgroup.procs of its own: its
                 * threads belong to processes its threaded domain above lists. */
                return 0;
        if (r < 0)
                return r;
        if (strlen(buf) != len)
                return -EBADMSG;

        for (p = buf; *p;) {
                char *end;
                unsigned long v;

                if (*p < '0' || *p > '9')
                        return -EBADMSG;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (errno != 0 || v > INT32_MAX || (*end != '\n' && *end != '\0'))
                        return -EBADMSG;
                /* 0 is a process outside our pid namespace (e.g. in a container): not ours to read. */
                if (v > 0) {
                        r = pidset_add(s, (pid_t) v);
                        if (r < 0)
                                return r;
                }
                p = *end ? end + 1 : end;
        }
        return 0;
}

static int walk(int dir_fd, unsigned depth, PidSet *s) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r, fd;

        r = read_procs_at(dir_fd, s);
        if (r < 0)
                return r;
        if (depth >= CGROUP_DEPTH_MAX)
                return -ELOOP;

        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }

        for (;;) {
                _cleanup_close_ int sub_fd = -EBADF;
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return errno == ENOENT || errno == ENODEV ? 0 : -errno;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;

                /* O_NOFOLLOW|O_DIRECTORY skips symlinks and files that DT_UNKNOWN left in doubt. */
                sub_fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub_fd < 0) {
                        /* vanished, a symlink, or not a directory after all */
                        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
                                continue;
                        return -errno;
                }
                r = walk(sub_fd, depth + 1, s);
                if (r == -ENOENT) /* the sub-cgroup went away under us */
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

int cgroup_read_pids(const char *hierarchy_dir, const char *cgroup_path, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        PidSet s = {};
        size_t n = 0;
        int r;

        if (!hierarchy_dir || !cgroup_path || cgroup_path[0] != '/')
                return -EINVAL;
        /* A unit's ControlGroup never holds "..": refuse it rather than walk out of the hierarchy. */
        if (streq(cgroup_path, "/..") || strstr(cgroup_path, "/../") ||
            (strlen(cgroup_path) >= 3 && streq(cgroup_path + strlen(cgroup_path) - 3, "/..")))
                return -EINVAL;

        if (asprintf(&path, "%s%s", hierarchy_dir, cgroup_path) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ENOENT : -errno;

        r = walk(fd, 0, &s);
        pids = s.pids;
        if (r < 0)
                return r;

        if (s.n > 0) {
                qsort(pids, s.n, sizeof(pid_t), pid_compare);
                for (size_t i = 0; i < s.n; i++)
                        if (n == 0 || pids[n - 1] != pids[i])
                                pids[n++] = pids[i];
        }

        *ret_pids = n > 0 ? TAKE_PTR(pids) : NULL;
        *ret_n = n;
        return 0;
}

int cgroup_id_from_path(const char *cgroup2_dir, uint64_t *ret_id) {
        _cleanup_close_ int fd = -EBADF;
        union {
                struct file_handle handle;
                uint8_t space[sizeof(struct file_handle) + sizeof(uint64_t)];
        } h = { .handle.handle_bytes = sizeof(uint64_t) };
        struct statfs sfs;
        uint64_t id;
        int mnt_id;

        if (!cgroup2_dir || !ret_id)
                return -EINVAL;

        fd = open(cgroup2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        /* A v1 hierarchy has kernfs ids of its own, which never match the cgroup2 ones BPF sees. */
        if (sfs.f_type != CGROUP2_SUPER_MAGIC)
                return -EMEDIUMTYPE;

        /* The file handle is the full 64-bit kernfs id, which is also what systemd calls the
         * cgroup id; the inode number equals it where ino_t is 64 bits wide. */
        if (name_to_handle_at(fd, "", &h.handle, &mnt_id, AT_EMPTY_PATH) >= 0) {
                if (h.handle.handle_bytes != sizeof(uint64_t))
                        return -EBADMSG;
                memcpy(&id, h.handle.f_handle, sizeof(id));
        } else if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EPERM) {
                /* No handles here, or a seccomp filter refuses the call. */
                struct stat st;

                if (fstat(fd, &st) < 0)
                        return -errno;
                id = (uint64_t) st.st_ino;
        } else
                return -errno;

        *ret_id = id;
        return 0;
}
