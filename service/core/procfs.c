/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "path-util.h"
#include "procfs.h"
#include "utf8.h"
#include "util.h"

/* PF_KTHREAD from include/linux/sched.h: the task is a kernel thread and has no mm of its own. */
#define PF_KTHREAD 0x00200000UL

/* /proc/PID/maps is read in chunks this big; the kernel's seq_file fills each read() with as many
 * whole lines as fit, so a big buffer means few syscalls on processes with 100k+ mappings. */
#define MAPS_CHUNK_SIZE (64U * 1024U)

/* Opens ROOT/proc/PID/NAME. A missing pid directory means the process is gone: -ESRCH. */
static int proc_open(const char *root, pid_t pid, const char *name) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        int fd;

        if (pid <= 0)
                return -EINVAL;
        if (asprintf(&rel, "/proc/%" PRIi32 "/%s", (int32_t) pid, name) < 0)
                return -ENOMEM;
        path = path_prefix_root(root, rel);
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return fd;
}

/* Opens ROOT/proc/PID itself. Files opened through this fd belong to that process for good: should it
 * exit and its pid be reused, lookups through the old directory fail instead of reaching the new one. */
static int proc_open_dir(const char *root, pid_t pid) {
        return proc_open(root, pid, "");
}

static int proc_openat(int dir_fd, const char *name) {
        int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return fd;
}

/* Reads a small /proc file whole into BUF (NUL-terminated); what does not fit is dropped, which is
 * fine for stat and status: the fields we need are at their start. */
static int proc_read_small_at(int dir_fd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = proc_openat(dir_fd, name);
        if (fd < 0)
                return fd;
        return (int) read_fd_small(fd, buf, size);
}

/* Skips one space-separated token; returns NULL at the end of the string. */
static const char *skip_token(const char *p) {
        while (*p == ' ')
                p++;
        if (*p == '\0' || *p == '\n')
                return NULL;
        while (*p != ' ' && *p != '\0' && *p != '\n')
                p++;
        return p;
}

static int parse_u64_token(const char *p, uint64_t *ret) {
        char *end;
        unsigned long long v;

        while (*p == ' ')
                p++;
        if (!isdigit((unsigned char) *p))
                return -EBADMSG;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno != 0 || (*end != ' ' && *end != '\0' && *end != '\n'))
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* comm may hold spaces and parentheses, so it runs from the first '(' to the last ')'. After it come
 * field 3 (state) and then fields 4..; flags is field 9, starttime field 22, vsize field 23. */
int proc_stat_parse(const char *buf, ProcStat *ret) {
        const char *open, *close, *p;
        ProcStat s = {};
        uint64_t v;
        size_t l;
        int r;

        open = strchr(buf, '(');
        close = strrchr(buf, ')');
        if (!open || !close || close < open)
                return -EBADMSG;
        l = (size_t) (close - open - 1);
        if (l >= sizeof(s.comm))
                l = sizeof(s.comm) - 1;
        memcpy(s.comm, open + 1, l);
        utf8_make_valid(s.comm);

        p = close + 1;
        if (p[0] != ' ' || p[1] == '\0' || (p[2] != ' ' && p[2] != '\0'))
                return -EBADMSG;
        s.state = p[1];
        p += 2;

        for (unsigned field = 4; field <= 23; field++) {
                if (field == 9 || field == 22 || field == 23) {
                        r = parse_u64_token(p, &v);
                        if (r < 0)
                                return r;
                        if (field == 9)
                                s.flags = (unsigned long) v;
                        else if (field == 22)
                                s.start_time = v;
                        else
                                s.vsize = v;
                }
                p = skip_token(p);
                if (!p)
                        return -EBADMSG;
        }

        *ret = s;
        return 0;
}

static int proc_read_stat_at(int dir_fd, ProcStat *ret) {
        char buf[1024];
        int r;

        r = proc_read_small_at(dir_fd, "stat", buf, sizeof(buf));
        if (r < 0)
                return r;
        if (r == 0) /* stat of a task that is being reaped reads empty */
                return -ESRCH;
        return proc_stat_parse(buf, ret);
}

/* The numbers after "NAME:" at the start of a line of BUF (a status file): exactly N of them. */
static int status_fields(const char *buf, const char *name, uint64_t *ret, size_t n) {
        size_t l = strlen(name);
        const char *p = buf;

        for (;;) {
                if (strncmp(p, name, l) == 0 && p[l] == ':')
                        break;
                p = strchr(p, '\n');
                if (!p)
                        return -ENOENT;
                p++;
        }
        p += l + 1;
        for (size_t i = 0; i < n; i++) {
                char *end;

                while (*p == '\t' || *p == ' ')
                        p++;
                if (!isdigit((unsigned char) *p))
                        return -EBADMSG;
                errno = 0;
                ret[i] = strtoull(p, &end, 10);
                if (errno != 0)
                        return -EBADMSG;
                p = end;
        }
        return 0;
}

/* Who owns the process, and (0 when the file does not say) the thread-group id, from status. The
 * owner is the real uid when the effective and saved uids are the same; a process that changed its
 * identity (a setuid program) belongs to root: the kernel's ptrace check, which guards maps, refuses
 * it to its real user too. */
int proc_status_parse(const char *buf, uid_t *ret_uid, pid_t *ret_tgid) {
        uint64_t uids[3], tgid = 0;
        int r;

        r = status_fields(buf, "Uid", uids, ELEMENTSOF(uids));
        if (r < 0 || uids[0] >= UINT32_MAX || uids[1] >= UINT32_MAX || uids[2] >= UINT32_MAX)
                return -EBADMSG;
        r = status_fields(buf, "Tgid", &tgid, 1);
        if (r == -EBADMSG || tgid > INT32_MAX)
                return -EBADMSG;
        *ret_uid = uids[0] == uids[1] && uids[1] == uids[2] ? (uid_t) uids[0] : 0;
        *ret_tgid = (pid_t) tgid;
        return 0;
}

/* The owner as proc_status_parse() says, and root for a process that is not dumpable: its /proc/PID
 * then belongs to root (the kernel's task_dump_owner()), the ptrace check refuses its owner its maps
 * too, and /proc mounted with hidepid= hides it from them. The owner is who may learn of the process
 * through mapguardd (org.mapguard1(5), PRIVACY). */
static int proc_read_status_at(int dir_fd, uid_t *ret_uid, pid_t *ret_tgid) {
        char buf[4096];
        struct stat st;
        int r;

        r = proc_read_small_at(dir_fd, "status", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = proc_status_parse(buf, ret_uid, ret_tgid);
        if (r < 0)
                return r;
        if (fstat(dir_fd, &st) < 0)
                return -errno;
        if (st.st_uid != *ret_uid)
                *ret_uid = 0;
        return 0;
}

static bool proc_stat_is_dead(const ProcStat *s) {
        return s->state == 'Z' || s->state == 'X';
}

/* A process that is exiting drops its mm (exit_mm()) before it becomes a zombie (exit_notify()):
 * in between, its state still reads 'R' but vsize, taken from the mm, is 0. A maps read that
 * overlapped that moment may be partial, so a vsize of 0 counts as "no mm" as much as 'Z' does. */
static bool proc_stat_has_no_mm(const ProcStat *s) {
        return s->state == 'Z' || s->state == 'X' || (s->flags & PF_KTHREAD) || s->vsize == 0;
}

/* When a process's main thread has exited (pthread_exit()) while others live on, the leader is a
 * zombie without an mm, but the process and its maps are alive: its threads share them. Returns an fd
 * of /proc/PID/task/TID of a live thread, -ENODATA when there is none (a real zombie). */
static int proc_open_live_thread(int dir_fd, pid_t pid) {
        _cleanup_(closedirp) DIR *d = NULL;
        int task_fd;

        task_fd = openat(dir_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (task_fd < 0)
                return errno == ENOENT ? -ENODATA : -errno;
        d = fdopendir(task_fd);
        if (!d) {
                int r = -errno;
                close(task_fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));) {
                ProcStat st;
                char *end;
                long tid = strtol(de->d_name, &end, 10);
                int fd;

                if (*end != '\0' || tid <= 0 || tid == pid)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (proc_read_stat_at(fd, &st) >= 0 && !proc_stat_has_no_mm(&st))
                        return fd;
                close(fd);
        }
        return -ENODATA;
}

/* The gate area is the only line whose name field is exactly "[vsyscall]": file names are absolute
 * paths, and the other special names differ. The name is the 6th field, after a run of spaces. */
bool maps_line_is_gate(const char *line, size_t len) {
        static const char gate[] = "[vsyscall]";
        const char *p = line, *end = line + len;

        if (len > MAPS_GATE_LINE_MAX)
                return false;
        for (unsigned i = 0; i < 5; i++) {
                while (p < end && *p == ' ')
                        p++;
                if (p >= end)
                        return false;
                while (p < end && *p != ' ')
                        p++;
        }
        while (p < end && *p == ' ')
                p++;
        return (size_t) (end - p) == sizeof(gate) - 1 && memcmp(p, gate, sizeof(gate) - 1) == 0;
}

static void linebuf_append(MapsLineBuf *b, const char *p, size_t n) {
        if (b->overflow || n > sizeof(b->data) - b->len) {
                b->overflow = true;
                return;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

void maps_counter_feed(MapsCounter *c, const char *buf, size_t n) {
        const char *p, *end, *line_start, *nl, *last_nl = NULL, *last_start = NULL;

        if (n == 0)
                return;
        p = line_start = buf;
        end = buf + n;
        while ((nl = memchr(p, '\n', (size_t) (end - p)))) {
                c->lines++;
                last_start = line_start;
                last_nl = nl;
                line_start = p = nl + 1;
        }

        if (last_nl) {
                /* The last complete line of this chunk; if it began in an earlier chunk, its head is in
                 * CUR. */
                if (last_start == buf) {
                        c->last = c->cur;
                        linebuf_append(&c->last, buf, (size_t) (last_nl - buf));
                } else {
                        c->last = (MapsLineBuf){};
                        linebuf_append(&c->last, last_start, (size_t) (last_nl - last_start));
                }
                c->cur = (MapsLineBuf){};
                linebuf_append(&c->cur, last_nl + 1, (size_t) (end - last_nl - 1));
        } else
                linebuf_append(&c->cur, buf, n);
}

int maps_counter_finish(const MapsCounter *c, unsigned *ret_count) {
        MapsLineBuf last = c->last;
        uint64_t lines = c->lines;

        if (c->cur.len > 0 || c->cur.overflow) {
                /* A last line without a newline: a truncated read, still one mapping. */
                lines++;
                last = c->cur;
        }

        if (lines == 0)
                return -ENODATA;
        if (!last.overflow && maps_line_is_gate(last.data, last.len))
                lines--;
        if (lines > UINT32_MAX)
                return -EOVERFLOW;

        *ret_count = (unsigned) lines;
        return 0;
}

/* Counts the mappings in the open maps file FD, as proc_count_maps() describes. */
static int count_maps_fd(int fd, unsigned *ret_count) {
        _cleanup_free_ char *buf = NULL;
        MapsCounter c = {};

        buf = malloc(MAPS_CHUNK_SIZE);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t n = read(fd, buf, MAPS_CHUNK_SIZE);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                maps_counter_feed(&c, buf, (size_t) n);
        }
        return maps_counter_finish(&c, ret_count);
}

int proc_count_maps(const char *root, pid_t pid, unsigned *ret_count) {
        _cleanup_close_ int fd = -EBADF;

        fd = proc_open(root, pid, "maps");
        if (fd < 0)
                return fd;
        return count_maps_fd(fd, ret_count);
}

int proc_sample_identity(const char *root, pid_t pid, ProcSample *ret) {
        _cleanup_close_ int dir_fd = -EBADF;
        ProcStat st;
        uid_t uid;
        pid_t tgid;
        int r;

        dir_fd = proc_open_dir(root, pid);
        if (dir_fd < 0)
                return dir_fd;
        r = proc_read_stat_at(dir_fd, &st);
        if (r < 0)
                return r;
        if (proc_stat_is_dead(&st) && !(st.flags & PF_KTHREAD)) {
                _cleanup_close_ int thread_fd = proc_open_live_thread(dir_fd, pid);
                if (thread_fd < 0)
                        return thread_fd;
        } else if (proc_stat_has_no_mm(&st))
                return -ENODATA;
        r = proc_read_status_at(dir_fd, &uid, &tgid);
        if (r < 0)
                return r;

        *ret = (ProcSample){
                .pid = pid,
                .tgid = tgid,
                .uid = uid,
                .start_time = st.start_time,
        };
        memcpy(ret->comm, st.comm, sizeof(ret->comm));
        return 0;
}

/* stat, (status), maps, stat again: all through one directory fd, so that each file is the same
 * process's. The second stat tells whether it exited (or its pid was reused) while we read. */
static int proc_sample_full(const char *root, pid_t pid, bool want_uid, ProcSample *ret) {
        _cleanup_close_ int dir_fd = -EBADF, maps_fd = -EBADF, thread_fd = -EBADF;
        ProcStat before, after, thread_after;
        unsigned count = 0;
        uid_t uid = (uid_t) -1;
        pid_t tgid = 0;
        int r, r_maps;

        dir_fd = proc_open_dir(root, pid);
        if (dir_fd < 0)
                return dir_fd;

        r = proc_read_stat_at(dir_fd, &before);
        if (r < 0)
                return r;
        if (proc_stat_is_dead(&before) && !(before.flags & PF_KTHREAD)) {
                thread_fd = proc_open_live_thread(dir_fd, pid);
                if (thread_fd < 0)
                        return thread_fd;
        } else if (proc_stat_has_no_mm(&before))
                return -ENODATA;
        if (want_uid) {
                r = proc_read_status_at(dir_fd, &uid, &tgid);
                if (r < 0)
                        return r;
        }

        maps_fd = proc_openat(thread_fd >= 0 ? thread_fd : dir_fd, "maps");
        r_maps = maps_fd < 0 ? maps_fd : count_maps_fd(maps_fd, &count);

        /* Re-read stat: the count belongs to the process we identified only if the same process is
         * still there afterwards. A new start time means the pid was reused while we were reading. */
        r = proc_read_stat_at(dir_fd, &after);
        if (r < 0)
                return r;
        if (after.start_time != before.start_time)
                return -ESRCH;
        if (thread_fd >= 0) {
                /* Read through a thread: that thread must have outlived the read. */
                r = proc_read_stat_at(thread_fd, &thread_after);
                if (r < 0 || proc_stat_has_no_mm(&thread_after))
                        return -ENODATA;
        } else if (proc_stat_has_no_mm(&after))
                return -ENODATA; /* it exited while we read: the count may be partial */
        if (r_maps < 0)
                return r_maps;

        *ret = (ProcSample){
                .pid = pid,
                .tgid = tgid,
                .uid = uid,
                .start_time = before.start_time,
                .map_count = count,
        };
        memcpy(ret->comm, before.comm, sizeof(ret->comm));
        return 0;
}

int proc_sample(const char *root, pid_t pid, ProcSample *ret) {
        return proc_sample_full(root, pid, true, ret);
}

int proc_sample_count(const char *root, pid_t pid, ProcSample *ret) {
        return proc_sample_full(root, pid, false, ret);
}
