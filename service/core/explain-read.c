/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain-read.h"
#include "fileio.h"
#include "path-util.h"
#include "procfs.h"
#include "util.h"

/* maps is read with at least this much room per read(): the kernel fills each read with as many whole
 * lines as fit, so that a process with 65,000 mappings (~5 MB of text) takes about 80 reads. */
#define MAPS_READ_MIN (64U * 1024U)
/* "NR" and eight 64-bit numbers in hex: below 200 bytes. */
#define SYSCALL_TEXT_MAX 256U

static int errno_gone(int e) {
        return e == ENOENT ? -ESRCH : -e;
}

static int open_proc_dir(const char *root, pid_t pid) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        int fd;

        if (asprintf(&rel, "/proc/%" PRIi32, (int32_t) pid) < 0)
                return -ENOMEM;
        path = path_prefix_root(root, rel);
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? errno_gone(errno) : fd;
}

static int read_maps_at(int dir_fd, const char *name, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno_gone(errno);
        return read_fd_all_room(fd, MAPS_READ_MIN, ret, ret_len);
}

static DIR *open_tasks(int dir_fd, int *ret_error) {
        int fd = openat(dir_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0) {
                *ret_error = errno_gone(errno);
                return NULL;
        }
        d = fdopendir(fd);
        if (!d) {
                *ret_error = -errno;
                close(fd);
        }
        return d;
}

/* The tid an entry of task/ names, 0 for "." and "..". */
static pid_t task_entry_tid(const struct dirent *de) {
        char *end;
        long tid;

        errno = 0;
        tid = strtol(de->d_name, &end, 10);
        return errno == 0 && *end == '\0' && tid > 0 && tid <= INT32_MAX ? (pid_t) tid : 0;
}

/* A leader that exited while its threads live on has no mm, so an empty maps: read a live thread's. */
static int read_maps_of_a_thread(int dir_fd, char **ret, size_t *ret_len) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        d = open_tasks(dir_fd, &r);
        if (!d)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *buf = NULL;
                char name[32];
                size_t len;
                pid_t tid = task_entry_tid(de);

                if (tid == 0)
                        continue;
                snprintf(name, sizeof(name), "%" PRIi32 "/maps", (int32_t) tid);
                r = read_maps_at(dirfd(d), name, &buf, &len);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        return r;
                if (len > 0) {
                        *ret = TAKE_PTR(buf);
                        *ret_len = len;
                        return 0;
                }
        }
        return -ENODATA;
}

static int parse_sp(const char *p, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len < 3 || len > 18 || p[0] != '0' || p[1] != 'x')
                return -EBADMSG;
        for (size_t i = 2; i < len; i++) {
                char c = p[i];
                unsigned d;

                if (c >= '0' && c <= '9')
                        d = (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned) (c - 'a' + 10);
                else
                        return -EBADMSG;
                v = v << 4 | d;
        }
        *ret = v;
        return 0;
}

int explain_parse_syscall(const char *text, uint64_t *ret_sp) {
        const char *field[10];
        size_t field_len[10], n = 0;
        const char *p = text;
        int r;

        assert(text);
        assert(ret_sp);

        if (streq(text, "running\n") || streq(text, "running"))
                return 0;
        while (*p != '\0' && *p != '\n') {
                if (*p == ' ') {
                        p++;
                        continue;
                }
                if (n == ELEMENTSOF(field))
                        return -EBADMSG;
                field[n] = p;
                while (*p != '\0' && *p != '\n' && *p != ' ')
                        p++;
                field_len[n] = (size_t) (p - field[n]);
                n++;
        }
        if (*p == '\n' && p[1] != '\0')
                return -EBADMSG;
        if (n == 3 && field_len[0] == 2 && memcmp(field[0], "-1", 2) == 0)
                r = parse_sp(field[1], field_len[1], ret_sp);
        else if (n == 9 && field_len[0] > 0 && strspn(field[0], "0123456789") == field_len[0])
                r = parse_sp(field[7], field_len[7], ret_sp);
        else
                r = -EBADMSG;
        return r < 0 ? r : 1;
}

/* The stack pointer of thread TID: 1 and *RET_SP (0 when unknown: running, or not ours to read), 0 when
 * the thread is gone (or exiting), -errno on other failures. */
static int read_stack_pointer(int task_fd, pid_t tid, uint64_t *ret_sp) {
        _cleanup_close_ int fd = -EBADF;
        char name[32], buf[SYSCALL_TEXT_MAX];
        ssize_t n;

        snprintf(name, sizeof(name), "%" PRIi32 "/syscall", (int32_t) tid);
        fd = openat(task_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && (errno == ENOENT || errno == ESRCH))
                return 0;
        if (fd < 0 && errno != EACCES && errno != EPERM)
                return -errno;
        n = fd < 0 ? -EACCES : read_fd_small(fd, buf, sizeof(buf));
        if (n == -ESRCH || n == -ENOENT || n == 0)
                return 0;
        if (n < 0 && n != -EACCES && n != -EPERM)
                return (int) n;
        if (n < 0 || explain_parse_syscall(buf, ret_sp) <= 0) {
                *ret_sp = 0;
                return 1;
        }
        /* "-1 0x0 0x0": a thread past its exit, whose kernel stack (and the user registers on it) is
         * gone. Every live thread's stack pointer is an address in its process. */
        return *ret_sp != 0;
}

/* From ROOT/proc/PID/status: whether the leader (the thread whose tid is the pid) has exited (a zombie
 * whose syscall file says nothing of use), and the number of threads ("Threads:", which counts such a
 * leader). Returns 0, -ESRCH when the process is gone, -EBADMSG when a field is missing. */
static int read_status(int dir_fd, bool *ret_leader_exited, unsigned *ret_threads) {
        _cleanup_close_ int fd = openat(dir_fd, "status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        const char *state, *threads;
        char buf[4096], *end;
        unsigned long n;
        ssize_t k;

        if (fd < 0)
                return errno_gone(errno);
        k = read_fd_small(fd, buf, sizeof(buf));
        if (k <= 0)
                return k == 0 ? -ESRCH : (int) k;
        state = strstr(buf, "\nState:");
        threads = strstr(buf, "\nThreads:");
        if (!state || !threads)
                return -EBADMSG;
        state += strspn(state + strlen("\nState:"), " \t") + strlen("\nState:");
        errno = 0;
        n = strtoul(threads + strlen("\nThreads:"), &end, 10);
        if (errno != 0 || end == threads + strlen("\nThreads:") || n > UINT_MAX)
                return -EBADMSG;
        *ret_leader_exited = *state == 'Z' || *state == 'X';
        *ret_threads = (unsigned) n;
        return 0;
}

/* Appends SP to *SPS (N of ALLOCATED). */
static int stack_pointers_add(uint64_t **sps, size_t *allocated, size_t *n, uint64_t sp) {
        if (ARRAY_RESERVE(*sps, *allocated, *n, 64) < 0)
                return -ENOMEM;
        (*sps)[(*n)++] = sp;
        return 0;
}

static int read_stack_pointers(int dir_fd, pid_t pid, size_t max, uint64_t **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ uint64_t *sps = NULL;
        size_t n = 0, allocated = 0;
        bool leader_exited, more = false;
        unsigned threads;
        int r;

        r = read_status(dir_fd, &leader_exited, &threads);
        if (r < 0)
                return r;
        d = open_tasks(dir_fd, &r);
        if (!d)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                pid_t tid = task_entry_tid(de);
                uint64_t sp;

                if (tid == 0 || (tid == pid && leader_exited))
                        continue;
                if (n == max) {
                        more = true;
                        break;
                }
                r = read_stack_pointer(dirfd(d), tid, &sp);
                if (r < 0)
                        return r;
                if (r > 0 && (r = stack_pointers_add(&sps, &allocated, &n, sp)) < 0)
                        return r;
        }
        /* Past MAX, the other threads count as the process says, each with an unknown pointer. */
        for (size_t total = threads - (leader_exited && threads > 0); more && n < total;)
                if ((r = stack_pointers_add(&sps, &allocated, &n, 0)) < 0)
                        return r;
        /* Not one thread left: the process exited while we read. */
        if (n == 0)
                return -ESRCH;
        *ret = TAKE_PTR(sps);
        *ret_n = n;
        return 0;
}

void explain_input_done(ExplainInput *input) {
        if (!input)
                return;
        free(input->maps);
        free(input->stack_pointers);
        *input = (ExplainInput){};
}

int explain_read(const char *root, pid_t pid, size_t max_stack_pointers, ExplainInput *ret) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *maps = NULL;
        _cleanup_free_ uint64_t *sps = NULL;
        size_t len = 0, n = 0;
        int r;

        assert(ret);

        if (pid <= 0)
                return -EINVAL;
        dir_fd = open_proc_dir(root, pid);
        if (dir_fd < 0)
                return dir_fd;
        r = read_maps_at(dir_fd, "maps", &maps, &len);
        if (r < 0)
                return r;
        if (len == 0) {
                maps = mfree(maps);
                r = read_maps_of_a_thread(dir_fd, &maps, &len);
                if (r < 0)
                        return r;
        }
        r = read_stack_pointers(dir_fd, pid, max_stack_pointers, &sps, &n);
        if (r < 0)
                return r;

        *ret = (ExplainInput){
                .maps = TAKE_PTR(maps),
                .maps_len = len,
                .stack_pointers = TAKE_PTR(sps),
                .n_threads = n,
        };
        return 0;
}

int explain_process(const char *root, pid_t pid, Explain **ret) {
        _cleanup_(explain_input_done) ExplainInput input = {};
        int r;

        assert(ret);

        r = explain_read(root, pid, EXPLAIN_STACK_POINTERS_MAX, &input);
        if (r < 0)
                return r;
        return explain_maps(input.maps, input.maps_len, input.stack_pointers, input.n_threads, ret);
}
