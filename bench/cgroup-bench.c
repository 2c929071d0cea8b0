/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cgroup-bench: what a delegated cgroup tree costs mapguardd's pass.
 *
 * A unit with Delegate=yes hands its cgroup to its user, who can mkdir as many sub-cgroups in it as the
 * kernel allows. The bench makes such a unit's cgroup of its own on the cgroup2 mount, with one process in
 * it, and times the daemon's pass over it (manager_scan(), CPU time) with no sub-cgroups (the baseline),
 * then with each --sizes count of empty sibling sub-cgroups, on both backends, in one run. It prints the
 * CPU per pass, its ratio to the baseline and what it comes to in % of a core at the default
 * IntervalSec=10 s. Not a test: nothing here asserts a time. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-host.h"
#include "cgroup.h"
#include "conf.h"
#include "log.h"
#include "manager-scan.h"
#include "manager-watch.h"
#include "manager.h"
#include "util.h"

#define UNIT_NAME "mapguard-cgroup-bench.service"
/* The target, in % of one core, at the default interval. */
#define TARGET_PERCENT 1.0
#define SIZES_MAX 8
#define SIZE_MAX_CGROUPS 1000000U

static unsigned arg_passes = 7;
static unsigned arg_sizes[SIZES_MAX] = { 10000, 100000 };
static size_t arg_n_sizes = 2;

static volatile sig_atomic_t interrupted;

/* What the cleanup removes. */
static char top_dir[PATH_MAX], unit_dir[PATH_MAX];
static bool top_made, unit_made;
static unsigned n_made; /* sub-cgroups c0 .. c<n_made - 1> */
static pid_t child;

typedef struct Row {
        Backend backend;
        unsigned n_cgroups;
        double usec;  /* median CPU time of a pass */
        double ratio; /* median of (pass / baseline pass of the same backend, same round) */
        size_t n_procs;
} Row;

static uint64_t cpu_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void on_signal(int sig) {
        interrupted = 1;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return (x > y) - (x < y);
}

static int parse_unsigned(const char *option, const char *s, unsigned min, unsigned max, unsigned *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || (*end != '\0' && *end != ',') || errno != 0 || v < min || v > max) {
                fprintf(stderr, "cgroup-bench: %s takes whole numbers from %u to %u, not \"%s\".\n", option,
                        min, max, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static int parse_sizes(const char *s) {
        size_t n = 0;

        for (const char *p = s;; p++) {
                if (n >= SIZES_MAX) {
                        fprintf(stderr, "cgroup-bench: --sizes takes at most %d counts.\n", SIZES_MAX);
                        return -EINVAL;
                }
                if (parse_unsigned("--sizes", p, 1, SIZE_MAX_CGROUPS, &arg_sizes[n++]) < 0)
                        return -EINVAL;
                p = strchr(p, ',');
                if (!p)
                        break;
        }
        qsort(arg_sizes, n, sizeof(unsigned), cmp_unsigned);
        arg_n_sizes = n;
        return 0;
}

static void help(void) {
        printf("Usage: cgroup-bench [--passes N] [--sizes N,N,...]\n\n"
               "Times mapguardd's pass over a watched unit's cgroup holding one process and N empty\n"
               "sibling sub-cgroups (as a delegated user can make them), against the same pass without\n"
               "them, on both backends. Needs root and a cgroup2 mount. Prints CPU time per pass and %% of "
               "a\n"
               "core at IntervalSec=10 s; asserts nothing.\n\n"
               "  --passes N     timed passes per backend and size; the median is reported (default 7)\n"
               "  --sizes N,...  counts of empty sub-cgroups (default 10000,100000, each at most %u)\n",
               SIZE_MAX_CGROUPS);
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "passes", required_argument, NULL, 'n' },
                                                 { "sizes", required_argument, NULL, 's' },
                                                 {} };
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        exit(EXIT_SUCCESS);
                case 'n':
                        r = parse_unsigned("--passes", optarg, 1, 1000, &arg_passes);
                        break;
                case 's':
                        r = parse_sizes(optarg);
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "cgroup-bench: unexpected argument \"%s\"; see --help.\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static void cleanup(void) {
        char name[32];
        int fd;

        if (child > 0) {
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                child = 0;
        }
        fd = unit_made ? open(unit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        for (; fd >= 0 && n_made > 0; n_made--) {
                snprintf(name, sizeof(name), "c%u", n_made - 1);
                (void) unlinkat(fd, name, AT_REMOVEDIR);
        }
        if (fd >= 0)
                close(fd);
        /* The child's cgroup may look populated for a moment after it was reaped. */
        for (unsigned try = 0; unit_made && try < 200; try++) {
                if (rmdir(unit_dir) >= 0 || errno != EBUSY)
                        unit_made = false;
                else
                        (void) nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
        }
        if (top_made && rmdir(top_dir) >= 0)
                top_made = false;
        if (unit_made || top_made)
                fprintf(stderr, "cgroup-bench: could not remove %s: %m; rmdir it by hand.\n",
                        top_made ? top_dir : unit_dir);
}

/* The unit's cgroup under MOUNT and its one process: a child that joins it and waits to be killed (and
 * dies with the bench). */
static int setup(const char *mount) {
        char procs[PATH_MAX + 16];
        int pipefd[2], fd, r;
        char ok = 0;

        r = snprintf(top_dir, sizeof(top_dir), "%s/mapguard-cgroup-bench-%d", mount, (int) getpid());
        if (r < 0 || (size_t) r >= sizeof(top_dir))
                return -ENAMETOOLONG;
        r = snprintf(unit_dir, sizeof(unit_dir), "%s/%s", top_dir, UNIT_NAME);
        if (r < 0 || (size_t) r >= sizeof(unit_dir))
                return -ENAMETOOLONG;
        if (mkdir(top_dir, 0755) < 0)
                return -errno;
        top_made = true;
        if (mkdir(unit_dir, 0755) < 0)
                return -errno;
        unit_made = true;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return -errno;
        }
        if (child == 0) {
                close(pipefd[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", unit_dir);
                fd = open(procs, O_WRONLY | O_CLOEXEC);
                ok = fd >= 0 && write(fd, "0", 1) == 1;
                (void) !write(pipefd[1], &ok, 1);
                for (;;)
                        pause();
        }
        close(pipefd[1]);
        if (read(pipefd[0], &ok, 1) != 1 || !ok) {
                close(pipefd[0]);
                return -EIO;
        }
        close(pipefd[0]);
        return 0;
}

/* Makes the unit's empty sub-cgroups c<n_made> .. c<n - 1>. */
static int grow(unsigned n) {
        _cleanup_close_ int fd = -EBADF;
        char name[32];

        fd = open(unit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (; n_made < n; n_made++) {
                if (interrupted)
                        return -EINTR;
                snprintf(name, sizeof(name), "c%u", n_made);
                if (mkdirat(fd, name, 0755) < 0) {
                        int r = -errno;

                        errno = -r;
                        fprintf(stderr, "cgroup-bench: the kernel refused sub-cgroup %u: %m\n", n_made + 1);
                        return r;
                }
        }
        return 0;
}

/* A Manager as the daemon builds it, watching the unit, after one untimed pass. */
static int manager_for(const char *mount, Backend backend, Manager **ret) {
        Manager *m = NULL;
        Config *c;
        sigset_t saved;
        int r;

        c = config_new_default();
        if (!c)
                return -ENOMEM;
        c->backend = backend;
        /* manager_new() blocks the termination signals for its signalfds: the bench keeps its handlers. */
        sigprocmask(SIG_SETMASK, NULL, &saved);
        r = manager_new("", NULL, c, &m);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                config_free(c);
                return r;
        }
        if (!m->hierarchy || !streq(m->hierarchy, mount)) {
                fprintf(stderr, "cgroup-bench: the Manager found the cgroup hierarchy at %s, not at %s.\n",
                        m->hierarchy ?: "(none)", mount);
                manager_free(m);
                return -ENOMEDIUM;
        }
        if (m->scan.backend != backend) {
                manager_free(m);
                return -EOPNOTSUPP;
        }
        r = manager_watch_update_unit(m, UNIT_NAME, unit_dir + strlen(mount));
        if (r >= 0)
                r = manager_scan(m, true);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

/* The passes of one backend over the tree as it is now: the median CPU time in *ROW. BASE, the baseline
 * passes of the same backend (NULL when measuring the baseline itself), gives the ratios. */
static int time_passes(const char *mount, Backend backend, const double *base, double *usec, Row *row) {
        _cleanup_free_ double *ratio = calloc(arg_passes, sizeof(double));
        Manager *m = NULL;
        int r;

        if (!ratio)
                return -ENOMEM;
        r = manager_for(mount, backend, &m);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < arg_passes && !interrupted; i++) {
                uint64_t c0 = cpu_usec();

                r = manager_scan(m, true);
                usec[i] = (double) (cpu_usec() - c0);
                if (r < 0)
                        break;
                ratio[i] = base && base[i] > 0 ? usec[i] / base[i] : 1.0;
        }
        row->backend = backend;
        row->n_procs = m->n_units > 0 ? m->units[0]->n_procs : 0;
        if (m->scan.backend != backend) {
                fprintf(stderr, "cgroup-bench: a BPF pass failed, the Manager fell back to /proc.\n");
                r = -EIO;
        }
        manager_free(m);
        if (r < 0)
                return r;
        if (interrupted)
                return -EINTR;
        {
                _cleanup_free_ double *sorted = malloc(arg_passes * sizeof(double));

                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, usec, arg_passes * sizeof(double));
                row->usec = median(sorted, arg_passes);
        }
        row->ratio = median(ratio, arg_passes);
        return 0;
}

static void print_row(const Row *row, const Row *base) {
        double percent = row->usec / (double) CONFIG_INTERVAL_USEC_DEFAULT * 100.0;
        char what[32];

        if (row->n_cgroups == 0)
                snprintf(what, sizeof(what), "0 (baseline)");
        else
                snprintf(what, sizeof(what), "%u", row->n_cgroups);
        printf("%-8s %14s %11.3f ms %8.2fx %+11.3f ms %9.4f %%   %s%s\n",
               row->backend == BACKEND_BPF ? "bpf" : "procfs", what, row->usec / 1e3, row->ratio,
               (row->usec - base->usec) / 1e3, percent,
               percent <= TARGET_PERCENT ? "<= 1 %: met" : "<= 1 %: NOT met",
               row->n_procs == 1 ? "" : "  (the pass did not find the unit's one process!)");
}

static int run(void) {
        static const Backend backends[] = { BACKEND_PROCFS, BACKEND_BPF };
        Row rows[ELEMENTSOF(backends)][SIZES_MAX + 1] = {};
        _cleanup_free_ double *base = NULL, *usec = NULL;
        bool have[ELEMENTSOF(backends)] = {};
        const char *mount = NULL;
        int r;

        r = bench_host_find_cgroup2(&mount);
        if (r < 0) {
                fprintf(stderr,
                        "cgroup-bench: no cgroup2 file system at /sys/fs/cgroup or "
                        "/sys/fs/cgroup/unified.\n");
                return r;
        }
        base = calloc(ELEMENTSOF(backends) * arg_passes, sizeof(double));
        usec = calloc(arg_passes, sizeof(double));
        if (!base || !usec)
                return -ENOMEM;
        r = setup(mount);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "cgroup-bench: failed to set up %s with one process: %m\n", unit_dir);
                return r;
        }
        printf("A watched unit's cgroup %s, one process in it.\n", unit_dir);

        for (size_t s = 0; s <= arg_n_sizes; s++) {
                unsigned n = s == 0 ? 0 : arg_sizes[s - 1];

                if (s > 0) {
                        printf("Making %u empty sub-cgroups in it ...\n", n);
                        fflush(stdout);
                        r = grow(n);
                        if (r < 0)
                                return r;
                }
                for (size_t b = 0; b < ELEMENTSOF(backends); b++) {
                        Row *row = &rows[b][s];

                        if (s > 0 && !have[b])
                                continue;
                        r = time_passes(mount, backends[b], s == 0 ? NULL : base + b * arg_passes,
                                        s == 0 ? base + b * arg_passes : usec, row);
                        if (r == -EOPNOTSUPP && backends[b] == BACKEND_BPF) {
                                printf("The BPF backend is unavailable here: its rows are left out.\n");
                                continue;
                        }
                        if (r < 0) {
                                errno = -r;
                                fprintf(stderr, "cgroup-bench: the passes failed: %m\n");
                                return r;
                        }
                        row->n_cgroups = n;
                        have[b] = true;
                }
        }

        printf("\nmapguard cgroup-bench: CPU time of manager_scan() over one watched unit with one process "
               "and N\n"
               "empty sibling sub-cgroups, median of %u passes; ratio = median of (pass / baseline pass of\n"
               "the same backend and round); %% of a core at the default IntervalSec=%g s.\n\n",
               arg_passes, (double) CONFIG_INTERVAL_USEC_DEFAULT / 1e6);
        printf("%-8s %14s %14s %9s %14s %11s   %s\n", "backend", "sub-cgroups", "CPU/pass", "ratio",
               "over baseline", "of a core", "target");
        for (size_t b = 0; b < ELEMENTSOF(backends); b++)
                for (size_t s = 0; have[b] && s <= arg_n_sizes; s++)
                        print_row(&rows[b][s], &rows[b][0]);
        return 0;
}

int main(int argc, char *argv[]) {
        struct sigaction sa = { .sa_handler = on_signal };
        int r;

#ifdef BENCH_BPF_LOADER
        /* bpf_counter_new() runs the loader of this build, not an installed one. */
        (void) setenv("MAPGUARD_BPF_LOADER", BENCH_BPF_LOADER, false);
#endif
        if (parse_argv(argc, argv) < 0)
                return EXIT_FAILURE;
        if (geteuid() != 0) {
                fprintf(stderr, "cgroup-bench: must run as root: it creates cgroups.\n");
                return EXIT_FAILURE;
        }
        log_set_max_priority(LOG_ERR);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
            sigaction(SIGHUP, &sa, NULL) < 0) {
                fprintf(stderr, "cgroup-bench: failed to install signal handlers: %m\n");
                return EXIT_FAILURE;
        }

        r = run();
        if (interrupted)
                fprintf(stderr, "cgroup-bench: interrupted, cleaning up\n");
        printf("Removing the %u sub-cgroups ...\n", n_made);
        cleanup();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
