/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "bench-host.h"
#include "util.h"

extern char **environ;

/* The plain pass reads maps in chunks this big, like proc_count_maps(). */
#define PLAIN_CHUNK_SIZE (64U * 1024U)

static char plain_buf[PLAIN_CHUNK_SIZE];

/* Reads the pids of one cgroup.procs into PIDS (at most MAX). Returns how many, or -errno. */
static int read_cgroup_procs(const char *dir, pid_t *pids, size_t max) {
        char path[PATH_MAX + 16], buf[PLAIN_CHUNK_SIZE];
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0, n = 0;
        ssize_t k;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while ((k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t) k;
        if (k < 0)
                return -errno;
        buf[len] = '\0';
        for (char *p = buf, *end; *p && n < max; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0)
                        pids[n++] = (pid_t) v;
                while (*end == '\n')
                        end++;
        }
        return (int) n;
}

int baseline_plain_pass(uint64_t *ret_lines) {
        pid_t pids[4096];
        uint64_t lines = 0;

        for (unsigned c = 0; c < BENCH_HOST_CGROUPS; c++) {
                int n = read_cgroup_procs(bench_host_cgroup(c), pids, ELEMENTSOF(pids));
                if (n < 0)
                        return n;
                for (int i = 0; i < n; i++) {
                        char path[64];
                        int fd;
                        ssize_t k;

                        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pids[i]);
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        while ((k = read(fd, plain_buf, sizeof(plain_buf))) > 0)
                                for (const char *p = plain_buf, *end = plain_buf + k;
                                     (p = memchr(p, '\n', (size_t) (end - p))); p++)
                                        lines++;
                        close(fd);
                }
        }
        *ret_lines = lines;
        return 0;
}

static int wc_pass_with(const posix_spawn_file_actions_t *fa) {
        pid_t pids[4096];
        int r;

        for (unsigned c = 0; c < BENCH_HOST_CGROUPS; c++) {
                int n = read_cgroup_procs(bench_host_cgroup(c), pids, ELEMENTSOF(pids));
                if (n < 0)
                        return n;
                for (int i = 0; i < n; i++) {
                        char path[64];
                        char *argv[] = { (char *) "wc", (char *) "-l", path, NULL };
                        sigset_t old;
                        pid_t pid;
                        int status;

                        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pids[i]);
                        bench_host_block_signals(&old);
                        r = posix_spawnp(&pid, "wc", fa, NULL, argv, environ);
                        if (r == 0)
                                bench_host_set_helper(pid);
                        bench_host_restore_signals(&old);
                        if (r != 0)
                                return -r;
                        while (waitpid(pid, &status, 0) < 0)
                                if (errno != EINTR)
                                        return -errno;
                        bench_host_set_helper(0);
                        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                                return -EIO;
                }
        }
        return 0;
}

int baseline_wc_pass(void) {
        posix_spawn_file_actions_t fa;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        r = r != 0 ? -r : wc_pass_with(&fa);
        posix_spawn_file_actions_destroy(&fa);
        return r;
}
