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
#include "cgroup-unit.h"
#include "fileio.h"
#include "path-util.h"
#include "procfs.h"
#include "util.h"

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

int cgroup_procs_parse(const char *text, size_t len, int (*add)(void *userdata, pid_t pid), void *userdata) {
        const char *p = text, *end = text + len;

        if (!text || !add)
                return -EINVAL;
        while (p < end) {
                unsigned long v = 0;
                const char *start = p;
                int r;

                for (; p < end && *p >= '0' && *p <= '9'; p++) {
                        v = v * 10 + (unsigned long) (*p - '0');
                        if (v > INT32_MAX)
                                return -EBADMSG;
                }
                if (p == start || (p < end && *p != '\n'))
                        return -EBADMSG;
                if (p < end)
                        p++;
                /* 0 is a process outside our pid namespace (e.g. in a container): not ours to read. */
                if (v > 0) {
                        r = add(userdata, (pid_t) v);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int pidset_add_cb(void *userdata, pid_t pid) {
        return pidset_add(userdata, pid);
}

/* Reads and parses the cgroup.procs of DIR_FD. Returns -ENOENT when it does not exist. */
static int read_procs_at(int dir_fd, PidSet *s) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, n_before = s->n;
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
        r = cgroup_procs_parse(buf, len, pidset_add_cb, s);
        if (r < 0)
                s->n = n_before; /* all of a cgroup.procs or nothing */
        return r;
}

/* Reads the small file NAME of DIR_FD (cgroup.events) into BUF of SIZE bytes, NUL-terminated, without
 * allocating: the walk reads one per sub-cgroup. Returns the length, -E2BIG when it does not fit,
 * -ENOENT when there is no such file, other -errno. */
static ssize_t read_small_at(int dir_fd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;

                if (len >= size - 1)
                        return -E2BIG;
                n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == ENODEV ? -ENOENT : -errno; /* ENODEV: the cgroup was removed */
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        return (ssize_t) len;
}

/* The value of the line "KEY N" of TEXT (cgroup.events, cgroup.stat: one "key value" per line). Returns 0,
 * -ENOENT when there is no such line, -EBADMSG when N is no decimal number. */
static int keyed_value(const char *text, const char *key, uint64_t *ret) {
        size_t l = strlen(key);

        for (const char *p = text; *p;) {
                const char *v = p + l + 1, *eol = strchrnul(p, '\n');
                uint64_t n = 0;

                if (strncmp(p, key, l) != 0 || p[l] != ' ') {
                        p = *eol ? eol + 1 : eol;
                        continue;
                }
                if (*v < '0' || *v > '9')
                        return -EBADMSG;
                for (; *v >= '0' && *v <= '9'; v++) {
                        if (n > (UINT64_MAX - 9) / 10)
                                return -EBADMSG;
                        n = n * 10 + (uint64_t) (*v - '0');
                }
                if (*v != '\n' && *v != '\0')
                        return -EBADMSG;
                *ret = n;
                return 0;
        }
        return -ENOENT;
}

/* Whether the cgroup DIR_FD or any below it holds a process, as its cgroup.events says ("populated 0|1"):
 * cgroup2 keeps it for the whole subtree, so an empty subtree is known without opening it. Returns 1
 * or 0; -ENOENT when there is no cgroup.events (cgroup v1, a fixture) or the cgroup was removed; -EBADMSG
 * when it says something else; other -errno (-EACCES: a delegated user's chmod). */
static int populated_at(int dir_fd) {
        char buf[256];
        uint64_t v;
        ssize_t n;
        int r;

        n = read_small_at(dir_fd, "cgroup.events", buf, sizeof(buf));
        if (n == -E2BIG)
                return -EBADMSG; /* a few short lines in the kernel's: no fixture needs more */
        if (n < 0)
                return (int) n;
        r = keyed_value(buf, "populated", &v);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        if (v > 1)
                return -EBADMSG;
        return (int) v;
}

/* The sub-cgroups below DIR_FD at any depth, as its cgroup.stat counts them ("nr_descendants N": live
 * ones; a dying cgroup has no process left and no directory). Returns 0, -ENOENT when there is no
 * cgroup.stat (cgroup v1, a fixture) or no such line, -EBADMSG, other -errno. */
static int descendants_at(int dir_fd, uint64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        /* One line per controller and more with each kernel: not a fixed buffer. */
        fd = openat(dir_fd, "cgroup.stat", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r == -ENODEV ? -ENOENT : r;
        if (strlen(buf) != len)
                return -EBADMSG;
        return keyed_value(buf, "nr_descendants", ret);
}

/* One directory on the walk's path from the unit's cgroup down to where it is. No file descriptor is
 * kept per level (the walk holds one, of the deepest directory): depth costs memory, not descriptors. */
typedef struct WalkFrame {
        char *name;      /* in its parent; NULL for the unit's own cgroup */
        char **children; /* the names of its entries that may be sub-cgroups, read when it was entered */
        size_t n_children, next;
        dev_t dev; /* to tell that ".." led back to it */
        ino_t ino;
} WalkFrame;

typedef struct Walk {
        const char *cgroup_path;
        WalkFrame *frames;
        size_t n_frames, allocated;
        uint64_t mnt_id; /* the mount of the unit's cgroup: the walk never leaves it */
        bool have_mnt_id;
        PidSet pids;
        CgroupSkipped *skipped;
} Walk;

static void walk_frame_done(WalkFrame *f) {
        for (size_t i = 0; i < f->n_children; i++)
                free(f->children[i]);
        free(f->children);
        free(f->name);
        *f = (WalkFrame){};
}

static void walk_done(Walk *w) {
        for (size_t i = 0; i < w->n_frames; i++)
                walk_frame_done(&w->frames[i]);
        free(w->frames);
        free(w->pids.pids);
}

/* The cgroup path of the current frame's child NAME (or of the current frame, for NULL). */
static char *walk_path(const Walk *w, const char *name) {
        char *path = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&path, &size);
        if (!f)
                return NULL;
        fputs(w->cgroup_path, f);
        for (size_t i = 1; i < w->n_frames; i++)
                fprintf(f, "/%s", w->frames[i].name);
        if (name)
                fprintf(f, "/%s", name);
        if (fclose(f) != 0) {
                free(path);
                return NULL;
        }
        return path;
}

/* Notes that the child NAME of the current frame (or the frame itself, for NULL) could not be read. */
static int walk_skip(Walk *w, const char *name, int error) {
        if (!w->skipped)
                return 0;
        if (w->skipped->n++ == 0) {
                w->skipped->path = walk_path(w, name);
                if (!w->skipped->path)
                        return -ENOMEM;
                w->skipped->error = error;
        }
        return 0;
}

/* The entries of the directory DIR_FD that may be sub-cgroups (directories, or unknown types) into
 * the frame F. */
static int list_children(int dir_fd, WalkFrame *f) {
        _cleanup_(closedirp) DIR *d = NULL;
        size_t allocated = 0;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno == 0 || errno == ENOENT || errno == ENODEV ? 0 : -errno;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (ARRAY_RESERVE(f->children, allocated, f->n_children, 8) < 0)
                        return -ENOMEM;
                f->children[f->n_children] = strdup(de->d_name);
                if (!f->children[f->n_children])
                        return -ENOMEM;
                f->n_children++;
        }
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

/* Enters the directory FD (the current frame's child NAME, or the unit's cgroup for NULL): its own
 * processes, then the list of its children, pushed as a new frame. Returns 0; 1 when there is nothing to
 * enter: no process in it nor below (cgroup.events), or skipped (another mount, or unreadable: noted in
 * w->skipped); -ENOENT when it vanished; -ENOMEM. */
static int walk_enter(Walk *w, int fd, const char *name) {
        WalkFrame f = {};
        struct stat st;
        uint64_t mnt_id;
        bool noted = false;
        int r;

        if (fstat(fd, &st) < 0)
                return walk_skip(w, name, -errno) ?: 1;
        if (name) {
                /* Another mount here (a bind mount, maybe of an ancestor: a loop; a tmpfs over a sub-cgroup)
                 * is not the unit's cgroup tree, and hides the sub-cgroup under it: noted, so that /proc
                 * says who is in there. */
                if (st.st_dev != w->frames[0].dev ||
                    (w->have_mnt_id && fd_mount_id(fd, &mnt_id) >= 0 && mnt_id != w->mnt_id))
                        return walk_skip(w, name, -EXDEV) ?: 1;
        }

        /* cgroup2 says at once whether anything of a subtree holds a process: an empty one costs this read,
         * not a read of its cgroup.procs and a listing of each of its sub-cgroups. cgroup v1 (name=systemd)
         * has no cgroup.events: everything is read there. One a delegated user made unreadable tells
         * nothing: the subtree is read as it would be without it, and it is noted, so that /proc completes
         * what the walk cannot read. */
        r = populated_at(fd);
        if (r == 0)
                return 1;
        if (r < 0 && r != -ENOENT) {
                r = walk_skip(w, name, r);
                if (r < 0)
                        return r;
                noted = true;
        }

        r = read_procs_at(fd, &w->pids);
        if (r == -ENOENT && !name)
                return -ENOENT; /* the unit's cgroup is gone, or is no cgroup */
        if (r == -ENOENT)
                return 1; /* removed while we walk, or a plain directory: nothing to count */
        if (r == -ENOMEM || (r < 0 && !name && r != -EACCES && r != -EPERM))
                return r;
        if (r < 0 && !noted) {
                /* Unreadable (a delegated user's chmod), or garbage in a fixture: the rest of the unit
                 * still counts. */
                r = walk_skip(w, name, r);
                if (r < 0)
                        return r;
        }

        if (ARRAY_RESERVE(w->frames, w->allocated, w->n_frames, 16) < 0)
                return -ENOMEM;
        if (name) {
                f.name = strdup(name);
                if (!f.name)
                        return -ENOMEM;
        }
        f.dev = st.st_dev;
        f.ino = st.st_ino;
        r = list_children(fd, &f);
        if (r == -ENOMEM) {
                walk_frame_done(&f);
                return r;
        }
        w->frames[w->n_frames++] = f;
        if (r < 0) {
                /* Its processes were counted; what is below it cannot be listed. */
                r = walk_skip(w, NULL, r);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Opens the directory of the current frame again from FD, which is the directory of the frame that was
 * just left: through "..", checked to be the same directory; when that fails (it was removed and made
 * anew, say), from the top through the names. Returns the fd, -ENOENT when it is gone, other -errno. */
static int walk_reopen_parent(Walk *w, int fd, int top_fd) {
        const WalkFrame *cur = &w->frames[w->n_frames - 1];
        struct stat st;
        int up;

        up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up >= 0) {
                if (fstat(up, &st) >= 0 && st.st_dev == cur->dev && st.st_ino == cur->ino)
                        return up;
                close(up);
        }

        up = fcntl(top_fd, F_DUPFD_CLOEXEC, 3);
        if (up < 0)
                return -errno;
        for (size_t i = 1; i < w->n_frames; i++) {
                int next = openat(up, w->frames[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                close(up);
                if (next < 0)
                        return -ENOENT;
                up = next;
        }
        if (fstat(up, &st) < 0 || st.st_ino != cur->ino) {
                close(up);
                return -ENOENT;
        }
        return up;
}

/* Depth first, with one directory fd open (besides TOP_FD) at any depth. */
static int walk(Walk *w, int top_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = fcntl(top_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        w->have_mnt_id = fd_mount_id(fd, &w->mnt_id) >= 0;
        /* The first frame's dev/ino are needed by walk_enter()'s mount check: stat before entering. */
        r = walk_enter(w, fd, NULL);
        if (r != 0)
                return r < 0 ? r : 0; /* nothing in the unit's cgroup, or it could not be read (noted) */

        while (w->n_frames > 0) {
                WalkFrame *cur = &w->frames[w->n_frames - 1];
                _cleanup_close_ int sub = -EBADF;
                const char *name;

                if (cur->next >= cur->n_children) {
                        /* Done with this directory: back up to its parent. */
                        walk_frame_done(cur);
                        w->n_frames--;
                        if (w->n_frames == 0)
                                break;
                        for (;;) {
                                int up = walk_reopen_parent(w, fd, top_fd);

                                if (up >= 0) {
                                        close(fd);
                                        fd = up;
                                        break;
                                }
                                if (up != -ENOENT)
                                        return up;
                                /* The parent went away: so did all of it that is left to walk. */
                                walk_frame_done(&w->frames[--w->n_frames]);
                                if (w->n_frames == 0)
                                        return 0;
                        }
                        continue;
                }

                name = cur->children[cur->next++];
                /* O_NOFOLLOW|O_DIRECTORY skips symlinks and files that DT_UNKNOWN left in doubt. */
                sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        /* vanished, a symlink, or not a directory after all */
                        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
                                continue;
                        if (errno == ENOMEM || errno == EMFILE || errno == ENFILE)
                                return -errno;
                        /* EACCES: a user made a sub-cgroup of a delegated unit unreadable. */
                        r = walk_skip(w, name, -errno);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = walk_enter(w, sub, name);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r == 0) {
                        /* Entered: SUB is now the current directory. */
                        close(fd);
                        fd = sub;
                        sub = -EBADF;
                }
        }
        return 0;
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

/* Adds the processes of ROOT/proc whose /proc/PID/cgroup line of the hierarchy (the cgroup2 one, or
 * name=systemd for LEGACY) is at or below CGROUP_PATH: what the kernel says, whatever a delegated
 * user did to the cgroup tree's permissions. */
static int pids_from_proc(const char *root, bool legacy, const char *cgroup_path, PidSet *s) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char *dir = NULL;

        dir = path_prefix_root(root, "/proc");
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return -errno;
        for (;;) {
                _cleanup_free_ char *buf = NULL, *path = NULL;
                _cleanup_close_ int fd = -EBADF;
                char name[64], *end;
                struct dirent *de;
                unsigned long pid;
                size_t len;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno == 0 ? 0 : -errno;
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                pid = strtoul(de->d_name, &end, 10);
                if (*end != '\0' || pid > INT32_MAX)
                        continue;
                snprintf(name, sizeof(name), "%lu/cgroup", pid);
                fd = openat(dirfd(d), name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        continue; /* gone */
                if (read_fd_all(fd, &buf, &len) < 0)
                        continue;
                r = cgroup_proc_file_path(buf, len, !legacy, &path);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !cgroup_path_is_below(path, cgroup_path))
                        continue;
                r = pidset_add(s, (pid_t) pid);
                if (r < 0)
                        return r;
        }
}

void cgroup_skipped_done(CgroupSkipped *s) {
        if (!s)
                return;
        free(s->path);
        *s = (CgroupSkipped){};
}

int cgroup_read_pids_full(const char *root, const char *hierarchy_dir, const char *cgroup_path,
                          pid_t **ret_pids, size_t *ret_n, CgroupSkipped *ret_skipped) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        CgroupSkipped skipped = {};
        Walk w = { .cgroup_path = cgroup_path, .skipped = &skipped };
        uint64_t n_sub;
        bool via_proc = false;
        size_t n = 0;
        int r;

        if (!hierarchy_dir || !cgroup_path || cgroup_path[0] != '/' || !ret_pids || !ret_n)
                return -EINVAL;
        /* A unit's ControlGroup never holds "..": refuse it rather than walk out of the hierarchy. */
        if (streq(cgroup_path, "/..") || strstr(cgroup_path, "/../") ||
            (strlen(cgroup_path) >= 3 && streq(cgroup_path + strlen(cgroup_path) - 3, "/..")))
                return -EINVAL;

        if (asprintf(&path, "%s%s", hierarchy_dir, cgroup_path) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = errno == ENOTDIR ? -ENOENT : -errno;
                /* The unit's own directory is its user's under Delegate=yes: it may be mode 000. */
                if ((r != -EACCES && r != -EPERM) || !root)
                        return r;
                skipped = (CgroupSkipped){ .path = strdup(cgroup_path), .error = r, .n = 1 };
                if (!skipped.path)
                        return -ENOMEM;
        } else if (root && descendants_at(fd, &n_sub) >= 0 && n_sub > CGROUP_WALK_MAX_DESCENDANTS)
                /* Even an empty sub-cgroup costs the walk ~12 µs on every pass, and a delegated user
                 * makes 100,000 with mkdir; /proc costs about as much per process on the host, whatever the
                 * tree. Unless cgroup.events says there is no process at all. */
                via_proc = populated_at(fd) != 0;
        else {
                r = walk(&w, fd);
                if (r < 0)
                        goto fail;
        }

        if ((via_proc || skipped.n > 0) && root) {
                size_t l = strlen(hierarchy_dir);
                bool legacy = l >= 8 && streq(hierarchy_dir + l - 8, "/systemd");

                r = pids_from_proc(root, legacy, cgroup_path, &w.pids);
                if (r < 0)
                        goto fail;
        }

        if (w.pids.n > 0) {
                qsort(w.pids.pids, w.pids.n, sizeof(pid_t), pid_compare);
                for (size_t i = 0; i < w.pids.n; i++)
                        if (n == 0 || w.pids.pids[n - 1] != w.pids.pids[i])
                                w.pids.pids[n++] = w.pids.pids[i];
        }

        *ret_pids = n > 0 ? TAKE_PTR(w.pids.pids) : NULL;
        *ret_n = n;
        if (ret_skipped)
                *ret_skipped = skipped;
        else
                cgroup_skipped_done(&skipped);
        walk_done(&w);
        return 0;
fail:
        walk_done(&w);
        cgroup_skipped_done(&skipped);
        return r;
}

int cgroup_read_pids(const char *hierarchy_dir, const char *cgroup_path, pid_t **ret_pids, size_t *ret_n) {
        return cgroup_read_pids_full(NULL, hierarchy_dir, cgroup_path, ret_pids, ret_n, NULL);
}

/* The cgroup id of the cgroup2 directory FD, as cgroup_id_from_path() says. */
static int cgroup_id_at(int fd, uint64_t *ret_id) {
        union {
                struct file_handle handle;
                uint8_t space[sizeof(struct file_handle) + sizeof(uint64_t)];
        } h = { .handle.handle_bytes = sizeof(uint64_t) };
        struct statfs sfs;
        uint64_t id;
        int mnt_id;

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

int cgroup_id_from_path(const char *cgroup2_dir, uint64_t *ret_id) {
        _cleanup_close_ int fd = -EBADF;

        if (!cgroup2_dir || !ret_id)
                return -EINVAL;
        fd = open(cgroup2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return cgroup_id_at(fd, ret_id);
}

int cgroup_read_summary(const char *hierarchy_dir, const char *cgroup_path, CgroupSummary *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        CgroupSummary s = {};
        int r;

        if (!hierarchy_dir || !cgroup_path || cgroup_path[0] != '/' || !ret)
                return -EINVAL;
        if (asprintf(&path, "%s%s", hierarchy_dir, cgroup_path) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = cgroup_id_at(fd, &s.id);
        if (r < 0)
                return r;
        r = descendants_at(fd, &s.n_descendants);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}
