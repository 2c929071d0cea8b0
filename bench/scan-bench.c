/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scan-bench: what one scan costs, measured against reading /proc/PID/maps by hand.
 *
 * It builds a synthetic host in a cgroup2 tree of its own (hundreds of processes with thousands of
 * mappings, a few close to vm.max_map_count), then times, in one run and in CPU time, the ways of
 * counting their mappings: `wc -l` per process, a plain open+read+memchr pass (the baseline), the
 * daemon's /proc backend at a fixed interval and with its adaptive scheduler, and its BPF backend.
 * Not a test: nothing here asserts a time. It prints the targets beside the measured values. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf-backend.h"
#include "conf.h"
#include "journal.h"
#include "manager.h"
#include "procfs.h"
#include "schedule.h"
#include "util.h"

extern char **environ;

/* Sub-cgroups of the bench tree; the processes are spread over them round-robin, one unit each. */
#define BENCH_CGROUPS 8U
/* The "big" processes: close to the default vm.max_map_count (65530), in the warning band. */
#define BIG_VMAS 60000U
/* Anything above this would need a raised vm.max_map_count, which the bench never touches. */
#define VMAS_MAX 65000U
/* The plain pass reads maps in chunks this big, like proc_count_maps(). */
#define PLAIN_CHUNK_SIZE (64U * 1024U)
/* How long the workload processes get to build their mappings before the bench gives up. */
#define SETUP_TIMEOUT_MSEC (120 * 1000)

static unsigned arg_procs = 300;
static unsigned arg_vmas = 2000;
static unsigned arg_big = 3;
static unsigned arg_passes = 7;
static unsigned arg_seconds = 30;

/* What the cleanup needs, kept where a signal handler can reach it without allocating. */
static char bench_dir[PATH_MAX];
static char sub_dirs[BENCH_CGROUPS][PATH_MAX];
static volatile sig_atomic_t n_sub_created;
static volatile sig_atomic_t top_created;
static pid_t *children;
static volatile sig_atomic_t n_children;
static volatile pid_t helper_pid; /* the RSS child or a running wc, 0 when none */

static char plain_buf[PLAIN_CHUNK_SIZE];

/* What a workload process reports once its mappings exist. */
typedef struct ChildReady {
        pid_t pid;
        int error;          /* 0, or the errno of what failed */
        unsigned map_count; /* its mm->map_count (maps lines minus the gate area) */
} ChildReady;

/* What the RSS child reports. */
typedef struct RssReport {
        int error;
        long procfs_maxrss_kib, procfs_hwm_kib; /* after the /proc backend's passes */
        long bpf_maxrss_kib, bpf_hwm_kib;       /* after the BPF backend's too; -1 when not run */
} RssReport;

/* One method's CPU time per pass, in µs, and its ratio to the plain pass of the same round. */
typedef struct Samples {
        uint64_t *usec;
        double *ratio;
        size_t n;
} Samples;

/* Async-signal-safe: also run from the SIGINT/SIGTERM handler. */
static void bench_cleanup(void) {
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

        /* A reaped process has left its cgroup, but the kernel may report it populated for a moment. */
        for (sig_atomic_t i = n_sub_created; i > 0; i--)
                for (unsigned try = 0; try < 200 && rmdir(sub_dirs[i - 1]) < 0 && errno == EBUSY; try++)
                        (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000 * 1000 }, NULL);
        n_sub_created = 0;
        if (top_created)
                for (unsigned try = 0; try < 200 && rmdir(bench_dir) < 0 && errno == EBUSY; try++)
                        (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000 * 1000 }, NULL);
        top_created = 0;
}

static void on_fatal_signal(int sig) {
        static const char msg[] = "scan-bench: interrupted, cleaning up\n";

        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        bench_cleanup();
        _exit(128 + sig);
}

static int install_signal_handlers(void) {
        struct sigaction sa = { .sa_handler = on_fatal_signal };

        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
            sigaction(SIGHUP, &sa, NULL) < 0)
                return -errno;
        return 0;
}

/* Forks with SIGINT/SIGTERM/SIGHUP blocked, so that a child never runs the parent's cleanup: the
 * child gets the default dispositions back before it unblocks them, and dies with the parent. */
static pid_t fork_child(void) {
        sigset_t mask, old;
        pid_t parent = getpid(), pid;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
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
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return pid;
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static uint64_t cpu_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* CPU time of the waited-for children (user + system), in µs: where wc's work is accounted. */
static uint64_t children_cpu_usec(void) {
        struct rusage ru;

        getrusage(RUSAGE_CHILDREN, &ru);
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * USEC_PER_SEC +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
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

/* The cgroup2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
static int find_cgroup2_mount(const char **ret) {
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

static int parse_unsigned(const char *option, const char *s, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
                fprintf(stderr, "scan-bench: %s takes a whole number from %u to %u, not \"%s\".\n", option, min,
                        max, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static void help(void) {
        printf("Usage: scan-bench [--procs N] [--vmas N] [--big N] [--passes N] [--seconds S]\n\n"
               "Times mapguardd's scan against a plain read of /proc/PID/maps on a synthetic host\n"
               "(a cgroup2 tree of its own with N processes of --vmas mappings and --big processes of\n"
               "%u mappings). Needs root. Prints CPU time per pass and ratios; asserts nothing.\n\n"
               "  --procs N    processes with --vmas mappings each (default 300)\n"
               "  --vmas N     their mappings (default 2000, at most %u)\n"
               "  --big N      processes with %u mappings (default 3)\n"
               "  --passes N   passes per method; the median is reported (default 7)\n"
               "  --seconds S  length of the adaptive run; IntervalSec is S/3 (default 30)\n",
               BIG_VMAS, VMAS_MAX, BIG_VMAS);
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "procs", required_argument, NULL, 'p' },
                { "vmas", required_argument, NULL, 'v' },
                { "big", required_argument, NULL, 'b' },
                { "passes", required_argument, NULL, 'n' },
                { "seconds", required_argument, NULL, 's' },
                {}
        };
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        exit(EXIT_SUCCESS);
                case 'p':
                        r = parse_unsigned("--procs", optarg, 0, 20000, &arg_procs);
                        break;
                case 'v':
                        r = parse_unsigned("--vmas", optarg, 1, VMAS_MAX, &arg_vmas);
                        break;
                case 'b':
                        r = parse_unsigned("--big", optarg, 0, 100, &arg_big);
                        break;
                case 'n':
                        r = parse_unsigned("--passes", optarg, 1, 1000, &arg_passes);
                        break;
                case 's':
                        r = parse_unsigned("--seconds", optarg, 3, 3600, &arg_seconds);
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "scan-bench: unexpected argument \"%s\"; see --help.\n", argv[optind]);
                return -EINVAL;
        }
        if (arg_procs + arg_big == 0) {
                fprintf(stderr, "scan-bench: --procs and --big are both 0: nothing to scan.\n");
                return -EINVAL;
        }
        return 0;
}

/* A workload process: joins its cgroup, makes its map count about VMAS by giving every other page
 * of one PROT_NONE region PROT_READ (each page its own VMA, nothing touched, so no memory used),
 * reports, and waits to be killed. */
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
                char *region = mmap(NULL, n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

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
        /* The mount is one of two short constants: the names cannot be truncated. */
        snprintf(bench_dir, sizeof(bench_dir), "%s/mapguard-bench-%d", mount, (int) getpid());
        if (mkdir(bench_dir, 0755) < 0)
                return -errno;
        top_created = 1;
        for (unsigned i = 0; i < BENCH_CGROUPS; i++) {
                if (snprintf(sub_dirs[i], sizeof(sub_dirs[i]), "%s/w%u", bench_dir, i) >= (int) sizeof(sub_dirs[i]))
                        return -ENAMETOOLONG;
                if (mkdir(sub_dirs[i], 0755) < 0)
                        return -errno;
                n_sub_created = (sig_atomic_t) (i + 1);
        }
        return 0;
}

/* Forks the workload and waits until every process has its mappings. Returns the total map count. */
static int setup_workload(uint64_t *ret_total_maps) {
        unsigned total = arg_procs + arg_big;
        int fds[2];
        uint64_t sum = 0;
        unsigned got = 0;
        int r = 0;

        children = calloc(total, sizeof(pid_t));
        if (!children)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;

        for (unsigned i = 0; i < total; i++) {
                /* The big ones spread over the cgroups too, starting from the last. */
                bool big = i >= arg_procs;
                unsigned cg = big ? BENCH_CGROUPS - 1 - (i - arg_procs) % BENCH_CGROUPS : i % BENCH_CGROUPS;
                pid_t pid = fork_child();

                if (pid < 0) {
                        r = -errno;
                        break;
                }
                if (pid == 0) {
                        close(fds[0]);
                        workload_run(sub_dirs[cg], big ? BIG_VMAS : arg_vmas, fds[1]);
                }
                children[i] = pid;
                n_children = (sig_atomic_t) (i + 1);
        }
        close(fds[1]);
        if (r < 0) {
                close(fds[0]);
                return r;
        }

        uint64_t deadline = mono_usec() + SETUP_TIMEOUT_MSEC * USEC_PER_MSEC;
        while (got < total) {
                struct pollfd p = { .fd = fds[0], .events = POLLIN };
                uint64_t now = mono_usec();
                ChildReady ready;
                ssize_t n;

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = poll(&p, 1, (int) ((deadline - now) / USEC_PER_MSEC) + 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        r = -errno;
                        break;
                }
                if (r == 0)
                        continue;
                n = read(fds[0], &ready, sizeof(ready));
                if (n != (ssize_t) sizeof(ready)) {
                        r = n < 0 ? -errno : -EPIPE;
                        break;
                }
                if (ready.error != 0) {
                        errno = ready.error;
                        fprintf(stderr, "scan-bench: workload process %d failed to set up its mappings: %m\n",
                                (int) ready.pid);
                        r = -ready.error;
                        break;
                }
                sum += ready.map_count;
                got++;
                r = 0;
        }
        close(fds[0]);
        if (r < 0)
                return r;
        *ret_total_maps = sum;
        return 0;
}

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

/* The baseline: what a careful hand-written scanner does, and nothing more. */
static int plain_pass(uint64_t *ret_maps) {
        pid_t pids[4096];
        uint64_t maps = 0;

        for (unsigned c = 0; c < BENCH_CGROUPS; c++) {
                int n = read_cgroup_procs(sub_dirs[c], pids, ELEMENTSOF(pids));
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
                                        maps++;
                        close(fd);
                }
        }
        *ret_maps = maps;
        return 0;
}

static int wc_pass_with(const posix_spawn_file_actions_t *fa) {
        pid_t pids[4096];
        int r;

        for (unsigned c = 0; c < BENCH_CGROUPS; c++) {
                int n = read_cgroup_procs(sub_dirs[c], pids, ELEMENTSOF(pids));
                if (n < 0)
                        return n;
                for (int i = 0; i < n; i++) {
                        char path[64];
                        char *argv[] = { (char *) "wc", (char *) "-l", path, NULL };
                        pid_t pid;
                        int status;

                        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pids[i]);
                        r = posix_spawnp(&pid, "wc", fa, NULL, argv, environ);
                        if (r != 0)
                                return -r;
                        helper_pid = pid;
                        while (waitpid(pid, &status, 0) < 0)
                                if (errno != EINTR)
                                        return -errno;
                        helper_pid = 0;
                        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                                return -EIO;
                }
        }
        return 0;
}

/* The seed's method: one `wc -l /proc/PID/maps` per process, as a shell loop would run it. */
static int wc_pass(void) {
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

/* A Manager over the bench's cgroups, as the daemon builds it, after one untimed pass (which reads
 * every process's identity and, for the big ones, logs their first level). */
static int bench_manager_new(const char *mount, Backend backend, uint64_t interval_usec, Manager **ret) {
        Manager *m = NULL;
        Config *c;
        sigset_t saved;
        int r;

        c = config_new_default();
        if (!c)
                return -ENOMEM;
        c->backend = backend;
        c->interval_usec = interval_usec;

        /* manager_new() blocks SIGINT/SIGTERM/SIGHUP for its signalfds; the bench keeps its own
         * handlers instead, so that an interrupt always cleans up. */
        sigprocmask(SIG_SETMASK, NULL, &saved);
        r = manager_new("", NULL, c, &m);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                config_free(c);
                return r;
        }
        if (!m->hierarchy || !streq(m->hierarchy, mount)) {
                fprintf(stderr, "scan-bench: the Manager found the cgroup hierarchy at %s, not at %s.\n",
                        m->hierarchy ? m->hierarchy : "(none)", mount);
                manager_free(m);
                return -ENOMEDIUM;
        }

        for (unsigned i = 0; i < BENCH_CGROUPS; i++) {
                char name[64], cgroup[PATH_MAX];

                snprintf(name, sizeof(name), "mapguard-bench-w%u.service", i);
                snprintf(cgroup, sizeof(cgroup), "%s", sub_dirs[i] + strlen(mount));
                r = manager_update_unit(m, name, cgroup);
                if (r < 0) {
                        manager_free(m);
                        return r;
                }
        }
        r = manager_scan(m, true);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

static size_t manager_n_procs(const Manager *m) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_units; i++)
                n += m->units[i]->n_procs;
        return n;
}

static long status_hwm_kib(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long v = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
                        break;
        return v;
}

static long maxrss_kib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

/* The RSS child: only what the daemon's scan does, ARG_PASSES forced passes per backend. */
static _Noreturn void rss_child_run(const char *mount, bool bpf, int report_fd) {
        RssReport rep = { .bpf_maxrss_kib = -1, .bpf_hwm_kib = -1 };
        Manager *m = NULL;
        int r;

        r = bench_manager_new(mount, BACKEND_PROCFS, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        for (unsigned i = 0; r >= 0 && i < arg_passes; i++)
                r = manager_scan(m, true);
        m = manager_free(m);
        rep.procfs_maxrss_kib = maxrss_kib();
        rep.procfs_hwm_kib = status_hwm_kib();

        if (r >= 0 && bpf) {
                r = bench_manager_new(mount, BACKEND_BPF, CONFIG_INTERVAL_USEC_DEFAULT, &m);
                if (r >= 0 && m->backend != BACKEND_BPF)
                        r = -EOPNOTSUPP;
                for (unsigned i = 0; r >= 0 && i < arg_passes; i++)
                        r = manager_scan(m, true);
                m = manager_free(m);
                rep.bpf_maxrss_kib = maxrss_kib();
                rep.bpf_hwm_kib = status_hwm_kib();
        }
        rep.error = r < 0 ? -r : 0;
        (void) !write(report_fd, &rep, sizeof(rep));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int measure_rss(const char *mount, bool bpf, RssReport *ret) {
        int fds[2], status;
        RssReport rep;
        ssize_t n;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork_child();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -errno;
        }
        if (pid == 0) {
                close(fds[0]);
                rss_child_run(mount, bpf, fds[1]);
        }
        helper_pid = pid;
        close(fds[1]);
        do
                n = read(fds[0], &rep, sizeof(rep));
        while (n < 0 && errno == EINTR);
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        helper_pid = 0;
        if (n != (ssize_t) sizeof(rep))
                return -EPIPE;
        if (rep.error != 0)
                return -rep.error;
        *ret = rep;
        return 0;
}

static int samples_init(Samples *s, size_t n) {
        s->usec = calloc(n, sizeof(uint64_t));
        s->ratio = calloc(n, sizeof(double));
        s->n = 0;
        return s->usec && s->ratio ? 0 : -ENOMEM;
}

static void samples_done(Samples *s) {
        free(s->usec);
        free(s->ratio);
        *s = (Samples) {};
}

static void samples_add(Samples *s, uint64_t usec, uint64_t plain_usec) {
        s->usec[s->n] = usec;
        s->ratio[s->n] = plain_usec > 0 ? (double) usec / (double) plain_usec : 0.0;
        s->n++;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median_usec(Samples *s) {
        qsort(s->usec, s->n, sizeof(uint64_t), cmp_u64);
        return s->n % 2 ? (double) s->usec[s->n / 2] : ((double) s->usec[s->n / 2 - 1] + (double) s->usec[s->n / 2]) / 2;
}

static double median_ratio(Samples *s) {
        qsort(s->ratio, s->n, sizeof(double), cmp_double);
        return s->n % 2 ? s->ratio[s->n / 2] : (s->ratio[s->n / 2 - 1] + s->ratio[s->n / 2]) / 2;
}

static const char *verdict(bool met) {
        return met ? "met" : "NOT met";
}

/* Host tasks (threads included): what the BPF task iterator walks on every pass. */
static unsigned host_tasks(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/loadavg", "re");
        unsigned running = 0, total = 0;

        if (!f || fscanf(f, "%*s %*s %*s %u/%u", &running, &total) != 2)
                return 0;
        return total;
}

static int run(void) {
        Samples wc = {}, plain_a = {}, procfs = {}, plain_b = {}, bpf_scan = {}, bpf_raw = {};
        const char *mount = NULL;
        _cleanup_free_ char *bpf_reason = NULL;
        BpfCounter *probe = NULL;
        RssReport rss = {};
        Manager *m = NULL;
        uint64_t total_maps = 0, plain_maps = 0, adaptive_usec = 0, interval_usec, fast_usec;
        size_t n_procs = 0, bpf_tasks = 0;
        unsigned adaptive_passes = 0;
        double plain_med, v;
        bool have_bpf;
        int r;

        r = find_cgroup2_mount(&mount);
        if (r < 0) {
                fprintf(stderr, "scan-bench: no cgroup2 file system at /sys/fs/cgroup or /sys/fs/cgroup/unified; "
                        "the bench needs one to place its processes.\n");
                return r;
        }
        r = setup_cgroups(mount);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to create the cgroup tree under %s: %m\n", mount);
                return r;
        }
        printf("Setting up %u processes of ~%u maps and %u of ~%u maps in %u cgroups under %s ...\n", arg_procs,
               arg_vmas, arg_big, BIG_VMAS, BENCH_CGROUPS, bench_dir);
        fflush(stdout);
        r = setup_workload(&total_maps);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the workload processes: %m\n");
                return r;
        }

        r = bpf_counter_new(&probe, &bpf_reason);
        have_bpf = r >= 0;
        probe = bpf_counter_free(probe);

        /* First, in a fresh process and before this one allocates anything big, the peak RSS of a
         * process running the daemon's scan code. */
        r = measure_rss(mount, have_bpf, &rss);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: the RSS child failed: %m\n");
                return r;
        }

        if (samples_init(&wc, arg_passes) < 0 || samples_init(&plain_a, arg_passes) < 0 ||
            samples_init(&procfs, arg_passes) < 0 || samples_init(&plain_b, arg_passes) < 0 ||
            samples_init(&bpf_scan, arg_passes) < 0 || samples_init(&bpf_raw, arg_passes) < 0) {
                r = -ENOMEM;
                goto finish;
        }

        /* Methods 1-3 in rounds, each round wc, plain, /proc backend, so that a noisy moment of the host
         * hits all three alike; every ratio is against the plain pass of the same round. */
        r = bench_manager_new(mount, BACKEND_PROCFS, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the Manager (Backend=procfs): %m\n");
                goto finish;
        }
        n_procs = manager_n_procs(m);
        for (unsigned i = 0; i < arg_passes; i++) {
                uint64_t c0, c1, k0, k1, t_wc, t_plain, t_procfs;

                k0 = children_cpu_usec();
                c0 = cpu_usec();
                r = wc_pass();
                c1 = cpu_usec();
                k1 = children_cpu_usec();
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "scan-bench: the wc -l pass failed (is wc in PATH?): %m\n");
                        goto finish;
                }
                t_wc = (c1 - c0) + (k1 - k0);

                c0 = cpu_usec();
                r = plain_pass(&plain_maps);
                c1 = cpu_usec();
                if (r < 0)
                        goto finish;
                t_plain = c1 - c0;

                c0 = cpu_usec();
                r = manager_scan(m, true);
                c1 = cpu_usec();
                if (r < 0)
                        goto finish;
                t_procfs = c1 - c0;

                samples_add(&plain_a, t_plain, t_plain);
                samples_add(&wc, t_wc, t_plain);
                samples_add(&procfs, t_procfs, t_plain);
        }
        m = manager_free(m);

        /* Method 5: the BPF backend, again in rounds with the plain pass. */
        if (have_bpf) {
                r = bench_manager_new(mount, BACKEND_BPF, CONFIG_INTERVAL_USEC_DEFAULT, &m);
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "scan-bench: failed to set up the Manager (Backend=bpf): %m\n");
                        goto finish;
                }
                if (m->backend != BACKEND_BPF) {
                        fprintf(stderr, "scan-bench: the Manager fell back to /proc with Backend=bpf.\n");
                        r = -EOPNOTSUPP;
                        goto finish;
                }
                for (unsigned i = 0; i < arg_passes; i++) {
                        _cleanup_free_ BpfTaskCount *tasks = NULL;
                        uint64_t c0, c1, c2, c3, t_plain;
                        uint64_t ignored;

                        c0 = cpu_usec();
                        r = plain_pass(&ignored);
                        c1 = cpu_usec();
                        if (r < 0)
                                goto finish;
                        t_plain = c1 - c0;

                        r = manager_scan(m, true);
                        c2 = cpu_usec();
                        if (r < 0)
                                goto finish;
                        if (m->backend != BACKEND_BPF) {
                                fprintf(stderr, "scan-bench: a BPF pass failed, the Manager fell back to /proc.\n");
                                r = -EIO;
                                goto finish;
                        }

                        r = bpf_counter_scan(m->bpf, &tasks, &bpf_tasks);
                        c3 = cpu_usec();
                        if (r < 0) {
                                errno = -r;
                                fprintf(stderr, "scan-bench: bpf_counter_scan() failed: %m\n");
                                goto finish;
                        }

                        samples_add(&plain_b, t_plain, t_plain);
                        samples_add(&bpf_scan, c2 - c1, t_plain);
                        samples_add(&bpf_raw, c3 - c2, t_plain);
                }
                m = manager_free(m);
        }

        /* Method 4: the daemon's own event loop over a quiet host for ARG_SECONDS. */
        interval_usec = (uint64_t) arg_seconds * USEC_PER_SEC / 3;
        fast_usec = interval_usec / SCHEDULE_FAST_DIVISOR;
        if (fast_usec < SCHEDULE_MIN_USEC)
                fast_usec = SCHEDULE_MIN_USEC;
        if (fast_usec > interval_usec)
                fast_usec = interval_usec;
        printf("Running the /proc backend's event loop for %u s (IntervalSec=%.3g s) ...\n", arg_seconds,
               (double) interval_usec / 1e6);
        fflush(stdout);
        r = bench_manager_new(mount, BACKEND_PROCFS, interval_usec, &m);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the Manager for the adaptive run: %m\n");
                goto finish;
        }
        {
                uint64_t start = mono_usec(), end = start + (uint64_t) arg_seconds * USEC_PER_SEC;
                uint64_t c0 = cpu_usec(), last_scan = m->last_scan_usec;

                for (uint64_t now = start; now < end; now = mono_usec()) {
                        r = sd_event_run(m->event, end - now);
                        if (r < 0) {
                                errno = -r;
                                fprintf(stderr, "scan-bench: the event loop failed: %m\n");
                                goto finish;
                        }
                        if (m->last_scan_usec != last_scan) {
                                adaptive_passes++;
                                last_scan = m->last_scan_usec;
                        }
                }
                adaptive_usec = cpu_usec() - c0;
        }
        m = manager_free(m);

        plain_med = median_usec(&plain_a);
        printf("\nmapguard scan-bench: %zu processes (%u x ~%u maps, %u x ~%u maps) in %u cgroups, %" PRIu64
               " maps in all\n", n_procs, arg_procs, arg_vmas, arg_big, BIG_VMAS, BENCH_CGROUPS, total_maps);
        printf("host: %ld CPUs, %u tasks, cgroup2 at %s; CPU time per pass (this process + waited children),\n"
               "median of %u passes; ratio = median of (method / plain pass of the same round)\n\n",
               sysconf(_SC_NPROCESSORS_ONLN), host_tasks(), mount, arg_passes);
        if (plain_maps != total_maps)
                printf("note: the plain pass counted %" PRIu64 " lines (maps + gate area lines), the processes "
                       "reported %" PRIu64 " maps\n\n", plain_maps, total_maps);

        printf("%-48s %12s %9s   %s\n", "method", "CPU/pass", "ratio", "target");
        printf("%-48s %9.2f ms %8.2fx\n", "1 wc -l /proc/PID/maps per process (spawned)", median_usec(&wc) / 1e3,
               median_ratio(&wc));
        printf("%-48s %9.2f ms %8.2fx   (baseline; %.2f µs per process, %.1f ns per map)\n",
               "2 plain pass: open+read(64 KiB)+memchr", plain_med / 1e3, 1.0, plain_med / (double) n_procs,
               plain_med * 1e3 / (double) total_maps);
        v = median_ratio(&procfs);
        printf("%-48s %9.2f ms %8.2fx   <= 1.05x: %s\n", "3 /proc backend, fixed interval (manager_scan)",
               median_usec(&procfs) / 1e3, v, verdict(v <= 1.05));

        {
                double horizon = (double) arg_seconds * USEC_PER_SEC;
                double fixed = plain_med * horizon / (double) fast_usec;
                double ratio = fixed > 0 ? (double) adaptive_usec / fixed : 0.0;

                printf("%-48s %9.2f ms %8.2f%%  <= 5%%: %s\n", "4 /proc backend, adaptive, whole run",
                       (double) adaptive_usec / 1e3, ratio * 100, verdict(ratio <= 0.05));
                printf("    %u passes of the event loop in %u s at IntervalSec=%.3g s over a quiet host, against\n"
                       "    a fixed-interval plain pass every %.3g s (IntervalSec/%d, the adaptive scheduler's fastest\n"
                       "    cadence) over the same %u s: %.0f passes, %.2f ms. On a quiet host the scheduler reads\n"
                       "    every process once per IntervalSec, so this ratio is about (/proc backend / plain) / %d;\n"
                       "    it shows what adapting saves over scanning everything at the fastest cadence, not a\n"
                       "    speed-up of a pass.\n",
                       adaptive_passes, arg_seconds, (double) interval_usec / 1e6, (double) fast_usec / 1e6,
                       SCHEDULE_FAST_DIVISOR, arg_seconds, horizon / (double) fast_usec, fixed / 1e3,
                       SCHEDULE_FAST_DIVISOR);
        }

        if (have_bpf) {
                double raw = median_usec(&bpf_raw);

                printf("%-48s %9.2f ms %8.3fx\n", "5 BPF backend (manager_scan)", median_usec(&bpf_scan) / 1e3,
                       median_ratio(&bpf_scan));
                printf("%-48s %9.3f ms %8.3fx   <= 0.5 ms per pass for ~600 tasks: %s\n",
                       "  raw bpf_counter_scan() pass", raw / 1e3, median_ratio(&bpf_raw),
                       verdict(raw <= 500.0));
                printf("    %zu watched processes returned; %.2f µs per watched process, %.3f µs per host task\n"
                       "    (the iterator walks every task on the host, threads included, and filters in the kernel)\n",
                       bpf_tasks, raw / (double) (bpf_tasks ? bpf_tasks : 1),
                       raw / (double) (host_tasks() ? host_tasks() : 1));
                printf("    plain pass of the BPF rounds: %.2f ms\n", median_usec(&plain_b) / 1e3);
        } else
                printf("%-48s skipped: BPF backend unavailable: %s\n", "5 BPF backend",
                       bpf_reason ? bpf_reason : "unknown reason");

        printf("\n%-48s %9.2f MiB (VmHWM %.2f MiB)   <= 2 MiB: %s\n", "peak RSS, /proc backend",
               rss.procfs_maxrss_kib / 1024.0, rss.procfs_hwm_kib / 1024.0,
               verdict(rss.procfs_maxrss_kib <= 2048));
        if (rss.bpf_maxrss_kib >= 0)
                printf("%-48s %9.2f MiB (VmHWM %.2f MiB)   <= 2 MiB: %s\n", "peak RSS, then also the BPF backend",
                       rss.bpf_maxrss_kib / 1024.0, rss.bpf_hwm_kib / 1024.0, verdict(rss.bpf_maxrss_kib <= 2048));
        printf("    (a child forked before any pass: builds the Manager, runs %u forced passes per backend)\n",
               arg_passes);
        r = 0;

finish:
        m = manager_free(m);
        samples_done(&wc);
        samples_done(&plain_a);
        samples_done(&procfs);
        samples_done(&plain_b);
        samples_done(&bpf_scan);
        samples_done(&bpf_raw);
        return r;
}

int main(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_FAILURE;
        if (geteuid() != 0) {
                fprintf(stderr, "scan-bench: must run as root: it creates cgroups and reads other processes' "
                        "maps.\n");
                return EXIT_FAILURE;
        }
        /* The daemon's code logs warnings (e.g. no journal here); the bench's output is its table. */
        log_set_max_priority(LOG_ERR);

        r = install_signal_handlers();
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to install signal handlers: %m\n");
                return EXIT_FAILURE;
        }

        r = run();
        bench_cleanup();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
