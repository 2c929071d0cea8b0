/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hit-bench: what catching limit hits costs the watched processes, and what a BPF task-iterator pass
 * costs per task.
 *
 * 1. Four syscall loops -- getpid(), a read() of one byte from /dev/zero, mmap+munmap of one page, an
 *    mprotect that splits a VMA and one that merges it back -- timed with nothing attached (the
 *    baseline, 1.00, which is also what a disarmed mapguardd costs: it attaches nothing) and armed in
 *    each mode the kernel takes (bpf-hits.h: tracepoint, sys_exit, fexit), all from one run: each round
 *    measures every configuration, in an order that rotates from round to round, with the bench itself
 *    in the watched cgroup. The baseline is measured twice per round, to show the noise. The added ns
 *    and the ratio are medians over rounds of (armed - baseline) and armed / baseline of the same
 *    round, in the thread's CPU time. The calls all succeed: the cost is that of every call, not of a
 *    hit. Also the time to arm and to disarm each mode (wall clock, in the caller), and until the kernel
 *    has released a disarmed attachment (tracepoint mode: a child process does it).
 * 2. One bpf_counter_scan() pass over 100, 1,000 and 5,000 tasks: a child becomes pid 1 of a new pid
 *    namespace (the task iterator walks only the tasks visible in the namespace of whoever creates the
 *    iterator), starts processes of 10 threads each in the watched cgroup, loads its own counter and
 *    times the passes.
 * Not a test: nothing here asserts a time. Needs root, a cgroup2 mount and a build with BPF. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf-counter.h"
#include "bpf-hits.h"
#include "cgroup.h"
#include "loader.h"
#include "util.h"

static unsigned arg_rounds = 15;
static unsigned arg_passes = 50;
static bool arg_loops = true;
static unsigned arg_threads = 10; /* tasks per worker process, its main thread included */
static const unsigned pass_tasks[] = { 100, 1000, 5000 };

typedef enum Loop {
        LOOP_GETPID,
        LOOP_READ,
        LOOP_MMAP,
        LOOP_MPROTECT,
        _LOOP_MAX,
} Loop;

static const struct {
        const char *name;
        unsigned iterations; /* per run */
} loops[_LOOP_MAX] = {
        [LOOP_GETPID] = { "getpid", 1000000 },
        [LOOP_READ] = { "read 1 byte (/dev/zero)", 1000000 },
        [LOOP_MMAP] = { "mmap + munmap (1 page)", 100000 },
        [LOOP_MPROTECT] = { "mprotect split + merge", 100000 },
};

/* What the loops run under, in each round. */
typedef enum Config {
        CONFIG_NONE,       /* nothing attached: the baseline */
        CONFIG_NONE_AGAIN, /* the same, later in the round: the noise */
        CONFIG_TRACEPOINT, /* armed in each mode */
        CONFIG_SYS_EXIT,
        CONFIG_FEXIT,
        _CONFIG_MAX,
} Config;

static const char *const config_names[_CONFIG_MAX] = {
        [CONFIG_NONE] = "nothing attached", [CONFIG_NONE_AGAIN] = "baseline again",
        [CONFIG_TRACEPOINT] = "tracepoint", [CONFIG_SYS_EXIT] = "sys_exit",
        [CONFIG_FEXIT] = "fexit",
};

/* A mode loaded for the loops: forced with $MAPGUARD_BPF_HITS_WAY (the loader falls back from there, so
 * a refused mode shows as another one). */
typedef struct Mode {
        Config config;
        const char *way;
        BpfHitsMode mode;
        BpfCounter *counter;
        BpfHits *hits; /* NULL: refused, see refused */
        char refused[512];
} Mode;

static Mode modes[] = {
        { .config = CONFIG_TRACEPOINT, .way = "tracepoint", .mode = BPF_HITS_TRACEPOINT },
        { .config = CONFIG_SYS_EXIT, .way = "tp_btf", .mode = BPF_HITS_SYS_EXIT },
        { .config = CONFIG_FEXIT, .way = "fexit", .mode = BPF_HITS_FEXIT },
};

static char cgroup_dir[512], parent_procs[1200];

static uint64_t clock_nsec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Returns the CPU time per operation of one run of LOOP, in ns: this thread's, user and system, so that
 * the time other processes of a busy host take the CPU away does not count. */
static double run_loop(Loop loop, uint8_t *region, int zero_fd) {
        size_t ps = (size_t) sysconf(_SC_PAGESIZE);
        unsigned n = loops[loop].iterations;
        uint64_t start = clock_nsec(CLOCK_THREAD_CPUTIME_ID);
        char c;

        for (unsigned i = 0; i < n; i++)
                switch (loop) {
                case LOOP_GETPID:
                        (void) syscall(SYS_getpid);
                        break;
                case LOOP_READ:
                        if (read(zero_fd, &c, 1) != 1)
                                abort();
                        break;
                case LOOP_MMAP: {
                        void *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (p == MAP_FAILED || munmap(p, ps) < 0)
                                abort();
                        break;
                }
                case LOOP_MPROTECT:
                        /* The middle page of three: two splits, then the merge back into one VMA. */
                        if (mprotect(region + ps, ps, PROT_READ) < 0 ||
                            mprotect(region + ps, ps, PROT_NONE) < 0)
                                abort();
                        break;
                default:
                        abort();
                }
        return (double) (clock_nsec(CLOCK_THREAD_CPUTIME_ID) - start) / n;
}

static const char *find_cgroup2(void) {
        static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        struct statfs sfs;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (statfs(candidates[i], &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                        return candidates[i];
        return NULL;
}

static int write_pid(const char *procs, pid_t pid) {
        _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
        char s[32];
        int len = snprintf(s, sizeof(s), "%d\n", (int) pid);

        if (fd < 0)
                return -errno;
        return write(fd, s, len) == len ? 0 : -errno;
}

/* This process's cgroup2 cgroup, as a cgroup.procs path below MOUNT, to go back to at the end. */
static int own_cgroup_procs(const char *mount) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        char line[1024];

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(parent_procs, sizeof(parent_procs), "%s%s/cgroup.procs", mount,
                                 streq(line + 3, "/") ? "" : line + 3);
                        return 0;
                }
        return -ENOENT;
}

static void cleanup(void) {
        if (parent_procs[0])
                (void) write_pid(parent_procs, getpid());
        if (cgroup_dir[0])
                (void) rmdir(cgroup_dir);
}

/* Loads each mode, forced, watching CGROUP_ID. A mode the kernel refuses is left without hits and with
 * the reason. Returns 0, or -errno when the BPF backend itself is missing. */
static int modes_load(uint64_t cgroup_id) {
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                _cleanup_free_ char *reason = NULL, *note = NULL;
                Mode *m = &modes[i];
                int r;

                (void) setenv(BPF_LOADER_HITS_WAY_ENV, m->way, 1);
                r = bpf_counter_new(&m->counter, &reason);
                (void) unsetenv(BPF_LOADER_HITS_WAY_ENV);
                if (r < 0) {
                        fprintf(stderr, "hit-bench: the BPF backend is unavailable: %s\n",
                                reason ?: strerror(-r));
                        return r;
                }
                r = bpf_counter_take_hits(m->counter, &m->hits, &note);
                if (r < 0) {
                        snprintf(m->refused, sizeof(m->refused), "%s", note ?: strerror(-r));
                        continue;
                }
                if (bpf_hits_mode(m->hits) != m->mode) {
                        /* What the loader fell back to says why this mode was refused. */
                        snprintf(m->refused, sizeof(m->refused), "%s", bpf_hits_mode_reason(m->hits));
                        m->hits = bpf_hits_free(m->hits);
                        continue;
                }
                r = bpf_counter_set_cgroups(m->counter, &cgroup_id, 1);
                if (r >= 0)
                        r = bpf_hits_set_limit(m->hits, 65530);
                if (r < 0) {
                        fprintf(stderr, "hit-bench: cannot configure the %s program: %s\n", m->way,
                                strerror(-r));
                        return r;
                }
                printf("  %s: %s\n", config_names[m->config], bpf_hits_mode_reason(m->hits));
        }
        return 0;
}

static void modes_free(void) {
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                modes[i].hits = bpf_hits_free(modes[i].hits);
                modes[i].counter = bpf_counter_free(modes[i].counter);
        }
}

static Mode *config_mode(Config c) {
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (modes[i].config == c)
                        return &modes[i];
        return NULL;
}

static double msec_since(uint64_t start_nsec) {
        return (double) (clock_nsec(CLOCK_MONOTONIC) - start_nsec) / 1e6;
}

/* The arming times of one mode, per round: arm, disarm (both in the caller), and disarm until the
 * kernel has released everything. */
typedef struct ArmTimes {
        double arm[64], disarm[64], released[64];
} ArmTimes;

/* Runs every loop under configuration C (arming its mode around them), into ns[.][round]. Exits on
 * failure: a bench that cannot arm measures nothing. */
static void run_config(Config c, unsigned round, uint8_t *region, int zero_fd, double ns[_LOOP_MAX][64],
                       ArmTimes *times) {
        Mode *m = config_mode(c);
        uint64_t t;
        int k;

        if (m && !m->hits)
                return;
        if (m) {
                t = clock_nsec(CLOCK_MONOTONIC);
                k = bpf_hits_arm(m->hits, true);
                if (k < 0) {
                        fprintf(stderr, "hit-bench: cannot arm the %s mode: %s\n", config_names[c],
                                strerror(-k));
                        exit(EXIT_FAILURE);
                }
                times->arm[round] = msec_since(t);
        }
        for (Loop l = 0; l < _LOOP_MAX; l++)
                ns[l][round] = run_loop(l, region, zero_fd);
        if (m) {
                t = clock_nsec(CLOCK_MONOTONIC);
                (void) bpf_hits_arm(m->hits, false);
                times->disarm[round] = msec_since(t);
                /* Before the next configuration: until then the kernel may still run the program. */
                (void) bpf_hits_wait_released(m->hits);
                times->released[round] = msec_since(t);
        }
}

static void print_loops(unsigned rounds, double ns[_CONFIG_MAX][_LOOP_MAX][64]) {
        printf("\n1. Added cost per call, armed in each mode vs nothing attached; median of %u rounds\n\n",
               rounds);
        printf("| loop |");
        for (Config c = 0; c < _CONFIG_MAX; c++)
                printf(" %s |", config_names[c]);
        printf("\n|---|");
        for (Config c = 0; c < _CONFIG_MAX; c++)
                printf("---|");
        printf("\n");
        for (Loop l = 0; l < _LOOP_MAX; l++) {
                printf("| %s | %.0f ns |", loops[l].name, median(ns[CONFIG_NONE][l], rounds));
                for (Config c = CONFIG_NONE + 1; c < _CONFIG_MAX; c++) {
                        double added[64], ratio[64];
                        Mode *m = config_mode(c);

                        if (m && !m->hits) {
                                printf(" refused |");
                                continue;
                        }
                        for (unsigned r = 0; r < rounds; r++) {
                                added[r] = ns[c][l][r] - ns[CONFIG_NONE][l][r];
                                ratio[r] = ns[c][l][r] / ns[CONFIG_NONE][l][r];
                        }
                        printf(" %+.0f ns (%.3fx) |", median(added, rounds), median(ratio, rounds));
                }
                printf("\n");
        }
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (!modes[i].hits)
                        printf("\n%s: refused: %s\n", config_names[modes[i].config], modes[i].refused);
}

static void print_arm_times(unsigned rounds, ArmTimes times[_CONFIG_MAX]) {
        printf("\n2. Arming and disarming, median of %u rounds (wall clock)\n\n", rounds);
        printf("| mode | arm | disarm (the caller) | disarmed until released |\n|---|---|---|---|\n");
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                ArmTimes *t = &times[modes[i].config];

                if (!modes[i].hits) {
                        printf("| %s | refused | | |\n", config_names[modes[i].config]);
                        continue;
                }
                printf("| %s | %.2f ms | %.2f ms | %.1f ms |\n", config_names[modes[i].config],
                       median(t->arm, rounds), median(t->disarm, rounds), median(t->released, rounds));
        }
}

/* Every configuration in every round, the order rotating by one each round so that drift hits all of
 * them alike. */
static void measure_loops(void) {
        static double ns[_CONFIG_MAX][_LOOP_MAX][64];
        static ArmTimes times[_CONFIG_MAX];
        size_t ps = (size_t) sysconf(_SC_PAGESIZE);
        unsigned rounds = arg_rounds > 64 ? 64 : arg_rounds;
        _cleanup_close_ int zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        uint8_t *region;

        region = mmap(NULL, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED || zero_fd < 0)
                abort();

        /* Warm up caches and the page allocator once, untimed. */
        for (Loop l = 0; l < _LOOP_MAX; l++)
                (void) run_loop(l, region, zero_fd);

        for (unsigned r = 0; r < rounds; r++)
                for (unsigned k = 0; k < _CONFIG_MAX; k++) {
                        Config c = (Config) ((k + r) % _CONFIG_MAX);

                        run_config(c, r, region, zero_fd, ns[c], &times[c]);
                }

        print_loops(rounds, ns);
        print_arm_times(rounds, times);
        (void) munmap(region, 3 * ps);
}

/* In the pid namespace: pid 1 starts the workers, loads a counter and times the passes. */
static void *worker_thread(void *userdata) {
        int fd = (int) (intptr_t) userdata;
        char c;

        while (read(fd, &c, 1) < 0 && errno == EINTR)
                ;
        return NULL;
}

static _Noreturn void worker_main(int release_fd, int ready_fd) {
        pthread_attr_t attr;
        pthread_t t;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (unsigned i = 1; i < arg_threads; i++)
                if (pthread_create(&t, &attr, worker_thread, (void *) (intptr_t) release_fd) != 0)
                        _exit(EXIT_FAILURE);
        (void) !write(ready_fd, "x", 1);
        worker_thread((void *) (intptr_t) release_fd);
        _exit(EXIT_SUCCESS);
}

typedef struct PassResult {
        int error;
        unsigned tasks, reported;
        double usec;
} PassResult;

static _Noreturn void ns_init_main(unsigned tasks, uint64_t cgroup_id, int result_fd) {
        _cleanup_free_ char *reason = NULL;
        PassResult res = {};
        BpfCounter *c = NULL;
        double usec[256];
        unsigned n_procs = tasks / arg_threads, passes = arg_passes > 256 ? 256 : arg_passes;
        int release[2], ready[2], r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (pipe2(release, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        for (unsigned i = 0; i < n_procs; i++) {
                pid_t pid = fork();
                char x;

                if (pid < 0)
                        _exit(EXIT_FAILURE);
                if (pid == 0) {
                        close(release[1]);
                        worker_main(release[0], ready[1]);
                }
                if (read(ready[0], &x, 1) != 1)
                        _exit(EXIT_FAILURE);
        }
        /* pid 1 itself and the workers' threads. */
        res.tasks = 1 + n_procs * arg_threads;

        r = bpf_counter_new(&c, &reason);
        if (r >= 0)
                r = bpf_counter_set_cgroups(c, &cgroup_id, 1);
        for (unsigned i = 0; r >= 0 && i < passes + 1; i++) {
                _cleanup_free_ BpfTaskCount *out = NULL;
                size_t n = 0;
                uint64_t start = clock_nsec(CLOCK_THREAD_CPUTIME_ID);

                r = bpf_counter_scan(c, &out, &n);
                /* The first pass warms up, untimed. CPU time: the kernel runs the iterator in our
                 * read()s. */
                if (i > 0)
                        usec[i - 1] = (double) (clock_nsec(CLOCK_THREAD_CPUTIME_ID) - start) / 1e3;
                res.reported = (unsigned) n;
        }
        res.error = r < 0 ? -r : 0;
        if (r >= 0)
                res.usec = median(usec, passes);
        (void) !write(result_fd, &res, sizeof(res));
        bpf_counter_free(c);
        close(release[1]);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static int measure_pass(unsigned tasks, uint64_t cgroup_id, PassResult *ret) {
        int p[2];
        pid_t pid;
        ssize_t k;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        /* The next child is pid 1 of a new pid namespace. */
        pid = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(p[0]);
                ns_init_main(tasks, cgroup_id, p[1]);
        }
        close(p[1]);
        do
                k = read(p[0], ret, sizeof(*ret));
        while (k < 0 && errno == EINTR);
        close(p[0]);
        (void) waitpid(pid, NULL, 0);
        return k == sizeof(*ret) ? 0 : -EIO;
}

static void print_passes(uint64_t cgroup_id) {
        double per_task[ELEMENTSOF(pass_tasks)];

        printf("\n3. One task-iterator pass (bpf_counter_scan()), median of %u, in a pid namespace\n\n",
               arg_passes);
        printf("| tasks | processes reported | pass | per task |\n|---|---|---|---|\n");
        for (size_t i = 0; i < ELEMENTSOF(pass_tasks); i++) {
                PassResult res = {};
                int r = measure_pass(pass_tasks[i], cgroup_id, &res);

                if (r < 0 || res.error) {
                        printf("| %u | failed: %s | | |\n", pass_tasks[i], strerror(r < 0 ? -r : res.error));
                        per_task[i] = 0;
                        continue;
                }
                per_task[i] = res.usec * 1e3 / res.tasks;
                printf("| %u | %u | %.1f µs | %.0f ns |\n", res.tasks, res.reported, res.usec, per_task[i]);
        }
        if (per_task[0] > 0 && per_task[ELEMENTSOF(pass_tasks) - 1] > 0)
                printf("\nLinear when the cost per task stays flat: %.2fx from %u to %u tasks.\n",
                       per_task[ELEMENTSOF(pass_tasks) - 1] / per_task[0], pass_tasks[0],
                       pass_tasks[ELEMENTSOF(pass_tasks) - 1]);
}

static int parse_args(int argc, char *argv[]) {
        static const struct option options[] = {
                { "rounds", required_argument, NULL, 'r' },  { "passes", required_argument, NULL, 'p' },
                { "threads", required_argument, NULL, 't' }, { "no-loops", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },          {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                case 'p': {
                        unsigned long v = strtoul(optarg, NULL, 10);

                        if (v < 1 || v > (c == 'r' ? 64 : 256)) {
                                fprintf(stderr, "hit-bench: --%s takes 1 to %d.\n",
                                        c == 'r' ? "rounds" : "passes", c == 'r' ? 64 : 256);
                                return -EINVAL;
                        }
                        *(c == 'r' ? &arg_rounds : &arg_passes) = (unsigned) v;
                        break;
                }
                case 't': {
                        unsigned long v = strtoul(optarg, NULL, 10);

                        if (v < 1 || v > 100) {
                                fprintf(stderr, "hit-bench: --threads takes 1 to 100.\n");
                                return -EINVAL;
                        }
                        arg_threads = (unsigned) v;
                        break;
                }
                case 'n':
                        arg_loops = false;
                        break;
                case 'h':
                        printf("Usage: hit-bench [--rounds N (15)] [--passes N (50)] [--threads N (10)] "
                               "[--no-loops]\n"
                               "Times syscalls with nothing attached and with the limit-hit program armed "
                               "in\n"
                               "each mode, arming and disarming, and a BPF task-iterator pass at 100, 1000\n"
                               "and 5000 tasks. Needs root. Asserts nothing.\n");
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        uint64_t cgroup_id;
        const char *mount;
        int r;

        r = parse_args(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

#ifdef BENCH_BPF_LOADER
        (void) setenv("MAPGUARD_BPF_LOADER", BENCH_BPF_LOADER, false);
#endif
        mount = find_cgroup2();
        if (!mount) {
                fprintf(stderr,
                        "hit-bench: no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified.\n");
                return EXIT_FAILURE;
        }
        if (own_cgroup_procs(mount) < 0) {
                fprintf(stderr, "hit-bench: cannot find our own cgroup2 cgroup.\n");
                return EXIT_FAILURE;
        }
        snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/mapguard-hit-bench-%d", mount, (int) getpid());
        if (mkdir(cgroup_dir, 0755) < 0) {
                fprintf(stderr, "hit-bench: cannot create %s: %m\n", cgroup_dir);
                cgroup_dir[0] = '\0';
                return EXIT_FAILURE;
        }
        atexit(cleanup);
        {
                char procs[600];

                snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dir);
                r = write_pid(procs, getpid());
        }
        if (r >= 0)
                r = cgroup_id_from_path(cgroup_dir, &cgroup_id);
        if (r < 0) {
                fprintf(stderr, "hit-bench: cannot join %s: %s\n", cgroup_dir, strerror(-r));
                return EXIT_FAILURE;
        }

        if (arg_loops) {
                printf("hit-bench: the modes, forced one by one (why each is what it is):\n");
                r = modes_load(cgroup_id);
                if (r < 0)
                        return EXIT_FAILURE;
                measure_loops();
                modes_free();
        }

        print_passes(cgroup_id);
        return EXIT_SUCCESS;
}
