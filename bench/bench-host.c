/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-host.h"
#include "procfs.h"
#include "util.h"

/* How long the workload processes get to build their mappings before the bench gives up. */
#define SETUP_TIMEOUT_USEC (UINT64_C(120) * USEC_PER_SEC)
/* rmdir() of a cgroup whose last process was just reaped may see it populated for a moment. */
#define RMDIR_TRIES 200
#define RMDIR_RETRY_NSEC (5 * 1000 * 1000)

/* What the cleanup needs, kept where a signal handler can reach it without allocating. */
static char host_dir[PATH_MAX];
static char sub_dirs[BENCH_HOST_CGROUPS][PATH_MAX];
static volatile sig_atomic_t n_sub_created;
static volatile sig_atomic_t top_created;
static pid_t *children;
static volatile sig_atomic_t n_children;
static volatile pid_t helper_pid;

/* What a workload process reports once its mappings exist. */
typedef struct ChildReady {
        pid_t pid;
        int error;          /* 0, or the errno of what failed */
        unsigned map_count; /* its mm->map_count (maps lines minus the gate area) */
} ChildReady;

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void rmdir_retry(const char *path) {
        for (unsigned try = 0; try < RMDIR_TRIES && rmdir(path) < 0 && errno == EBUSY; try++)
                (void) nanosleep(&(struct timespec){ .tv_nsec = RMDIR_RETRY_NSEC }, NULL);
}

void bench_host_cleanup(void) {
        pid_t h = helper_pid;

        if (h > 0)
                (void) kill(h, SIGKILL);
        for (sig_atomic_t i = 0; i < n_children; i++)
                if (children[i] > 0)
                        (void) kill(children[i], SIGKILL);
        if (h > 0)
                (void) waitpid(h, NULL, 0);
        helper_pid = 0;
        for (sig_atomic_t i = 0; i < n_children; i++)
                if (children[i] > 0) {
                        (void) waitpid(children[i], NULL, 0);
                        children[i] = 0;
                }
        n_children = 0;

        /* Anything in the tree that was not recorded (none should be) dies too; Linux >= 5.14. */
        if (top_created) {
                char kill_path[PATH_MAX + 16];
                size_t l = strlen(host_dir);

                if (l + sizeof("/cgroup.kill") <= sizeof(kill_path)) {
                        int fd;

                        memcpy(kill_path, host_dir, l);
                        memcpy(kill_path + l, "/cgroup.kill", sizeof("/cgroup.kill"));
                        fd = open(kill_path, O_WRONLY | O_CLOEXEC);
                        if (fd >= 0) {
                                (void) !write(fd, "1", 1);
                                close(fd);
                        }
                }
        }

        for (sig_atomic_t i = n_sub_created; i > 0; i--)
                rmdir_retry(sub_dirs[i - 1]);
        n_sub_created = 0;
        if (top_created)
                rmdir_retry(host_dir);
        top_created = 0;
}

static void on_fatal_signal(int sig) {
        static const char msg[] = "scan-bench: interrupted, cleaning up\n";

        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        bench_host_cleanup();
        _exit(128 + sig);
}

static void fatal_signals(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGHUP);
}

int bench_host_install_signal_handlers(void) {
        struct sigaction sa = { .sa_handler = on_fatal_signal };

        fatal_signals(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
            sigaction(SIGHUP, &sa, NULL) < 0)
                return -errno;
        return 0;
}

void bench_host_block_signals(sigset_t *ret_old) {
        sigset_t mask;

        fatal_signals(&mask);
        sigprocmask(SIG_BLOCK, &mask, ret_old);
}

void bench_host_restore_signals(const sigset_t *old) {
        sigprocmask(SIG_SETMASK, old, NULL);
}

/* The fatal signals stay blocked until the new pid is recorded where the cleanup finds it, and the
 * child never runs the parent's handler. */
pid_t bench_host_fork(bool helper) {
        sigset_t old;
        pid_t parent = getpid(), pid;

        bench_host_block_signals(&old);
        pid = fork();
        if (pid == 0) {
                struct sigaction dfl = { .sa_handler = SIG_DFL };

                sigemptyset(&dfl.sa_mask);
                (void) sigaction(SIGINT, &dfl, NULL);
                (void) sigaction(SIGTERM, &dfl, NULL);
                (void) sigaction(SIGHUP, &dfl, NULL);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(EXIT_FAILURE);
        } else if (pid > 0) {
                if (helper)
                        helper_pid = pid;
                else {
                        children[n_children] = pid;
                        n_children = n_children + 1;
                }
        }
        bench_host_restore_signals(&old);
        return pid;
}

void bench_host_set_helper(pid_t pid) {
        helper_pid = pid;
}

int bench_host_attach(const char *dir) {
        int r;

        r = snprintf(host_dir, sizeof(host_dir), "%s", dir);
        if (r < 0 || (size_t) r >= sizeof(host_dir))
                return -ENAMETOOLONG;
        for (unsigned i = 0; i < BENCH_HOST_CGROUPS; i++) {
                r = snprintf(sub_dirs[i], sizeof(sub_dirs[i]), "%s/w%u", host_dir, i);
                if (r < 0 || (size_t) r >= sizeof(sub_dirs[i]))
                        return -ENAMETOOLONG;
                if (access(sub_dirs[i], F_OK) < 0)
                        return -errno;
        }
        return 0;
}

const char *bench_host_dir(void) {
        return host_dir;
}

const char *bench_host_cgroup(unsigned i) {
        return i < BENCH_HOST_CGROUPS ? sub_dirs[i] : NULL;
}

int bench_host_find_cgroup2(const char **ret) {
        static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                struct statfs sfs;

                if (statfs(candidates[i], &sfs) == 0 && (long) sfs.f_type == CGROUP2_SUPER_MAGIC) {
                        *ret = candidates[i];
                        return 0;
                }
        }
        return -ENOMEDIUM;
}

static int write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        size_t l = strlen(text);
        ssize_t n;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = write(fd, text, l);
        if (n < 0)
                return -errno;
        return (size_t) n == l ? 0 : -EIO;
}

/* A workload process: joins its cgroup, makes its map count about VMAS by giving every other page of
 * one PROT_NONE region PROT_READ (each page its own VMA; nothing is touched, so it costs no memory but
 * the kernel's VMA structures), reports, and waits to be killed. */
static _Noreturn void workload_run(const char *cgroup_dir, unsigned vmas, int ready_fd) {
        _cleanup_free_ char *procs = NULL;
        ChildReady ready = { .pid = getpid() };
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        unsigned base = 0;
        int r;

        if (asprintf(&procs, "%s/cgroup.procs", cgroup_dir) < 0)
                r = -ENOMEM;
        else
                r = write_file(procs, "0");
        if (r >= 0)
                r = proc_count_maps(NULL, ready.pid, &base);
        if (r >= 0 && vmas > base + 1) {
                size_t n = vmas - base;
                char *region =
                        mmap(NULL, n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

                if (region == MAP_FAILED)
                        r = -errno;
                for (size_t i = 1; r >= 0 && i < n; i += 2)
                        if (mprotect(region + i * page, page, PROT_READ) < 0)
                                r = -errno;
        }
        if (r >= 0)
                r = proc_count_maps(NULL, ready.pid, &ready.map_count);
        ready.error = r < 0 ? -r : 0;
        (void) !write(ready_fd, &ready, sizeof(ready));
        close(ready_fd);
        for (;;)
                pause();
}

static int setup_cgroups(const char *mount) {
        int r;

        r = snprintf(host_dir, sizeof(host_dir), "%s/mapguard-bench-%d", mount, (int) getpid());
        if (r < 0 || (size_t) r >= sizeof(host_dir))
                return -ENAMETOOLONG;
        if (mkdir(host_dir, 0755) < 0)
                return -errno;
        top_created = 1;
        for (unsigned i = 0; i < BENCH_HOST_CGROUPS; i++) {
                r = snprintf(sub_dirs[i], sizeof(sub_dirs[i]), "%s/w%u", host_dir, i);
                if (r < 0 || (size_t) r >= sizeof(sub_dirs[i]))
                        return -ENAMETOOLONG;
                if (mkdir(sub_dirs[i], 0755) < 0)
                        return -errno;
                n_sub_created = (sig_atomic_t) (i + 1);
        }
        return 0;
}

/* Collects one ChildReady per process from FD. Returns the sum of their map counts or -errno. */
static int wait_ready(int fd, unsigned total, uint64_t *ret_sum) {
        uint64_t deadline = mono_usec() + SETUP_TIMEOUT_USEC, sum = 0;
        unsigned got = 0;
        int r;

        while (got < total) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = mono_usec();
                ChildReady ready;
                ssize_t n;

                if (now >= deadline) {
                        fprintf(stderr,
                                "scan-bench: only %u of %u workload processes were ready after "
                                "%u s.\n",
                                got, total, (unsigned) (SETUP_TIMEOUT_USEC / USEC_PER_SEC));
                        return -ETIMEDOUT;
                }
                r = poll(&p, 1, (int) ((deadline - now) / USEC_PER_MSEC) + 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        continue;
                n = read(fd, &ready, sizeof(ready));
                if (n != (ssize_t) sizeof(ready)) {
                        fprintf(stderr, "scan-bench: a workload process died before reporting ready.\n");
                        return n < 0 ? -errno : -EPIPE;
                }
                if (ready.error != 0) {
                        errno = ready.error;
                        fprintf(stderr,
                                "scan-bench: workload process %d failed to set up its mappings: "
                                "%m\n",
                                (int) ready.pid);
                        return -ready.error;
                }
                sum += ready.map_count;
                got++;
        }
        *ret_sum = sum;
        return 0;
}

int bench_host_setup(const char *mount, unsigned n_procs, unsigned vmas, unsigned n_big, unsigned big_vmas,
                     uint64_t *ret_total_maps) {
        unsigned total = n_procs + n_big;
        int fds[2], r;

        if (vmas > BENCH_HOST_VMAS_MAX || big_vmas > BENCH_HOST_VMAS_MAX)
                return -EINVAL;

        r = setup_cgroups(mount);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to create the cgroup tree under %s: %m\n", mount);
                return r;
        }

        children = calloc(total ? total : 1, sizeof(pid_t));
        if (!children)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;

        r = 0;
        for (unsigned i = 0; i < total; i++) {
                /* The big ones are spread too, from the last cgroup backwards. */
                bool big = i >= n_procs;
                unsigned cg = big ? BENCH_HOST_CGROUPS - 1 - (i - n_procs) % BENCH_HOST_CGROUPS
                                  : i % BENCH_HOST_CGROUPS;
                pid_t pid = bench_host_fork(false);

                if (pid < 0) {
                        r = -errno;
                        fprintf(stderr, "scan-bench: failed to fork workload process %u of %u: %m\n", i + 1,
                                total);
                        break;
                }
                if (pid == 0) {
                        close(fds[0]);
                        workload_run(sub_dirs[cg], big ? big_vmas : vmas, fds[1]);
                }
        }
        close(fds[1]);
        if (r >= 0)
                r = wait_ready(fds[0], total, ret_total_maps);
        close(fds[0]);
        return r;
}
