/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* explain-bench: what explaining a process with 65,000 maps costs, measured against reading its maps by
 * hand.
 *
 * It forks a process with TARGET mappings (default 65,000, below the default vm.max_map_count of 65,530):
 * --files files of one directory, each mapped (one mapping each), --threads threads with their stacks and
 * guards (two each), and one anonymous region whose every other page is readable for the rest. Then, in
 * rounds, it times back to back: the baseline (open + read in 64 KiB chunks + memchr for newlines of that
 * process's /proc/PID/maps: nothing more), explain_read() (maps once, and each thread's syscall file),
 * explain_maps() on what was read, and explain_process() (both), in CPU time and in wall time. Each ratio is
 * against the baseline of the same round; the medians are printed. Not a test: nothing here asserts a
 * time. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "explain-read.h"
#include "explain.h"
#include "max-map-count.h"
#include "procfs.h"
#include "util.h"

#define TARGET_USEC (50 * USEC_PER_MSEC)
#define CHUNK_SIZE (64U * 1024U)
#define THREAD_STACK_SIZE (256U * 1024U)
#define READY_TIMEOUT_MSEC (120 * 1000)

static unsigned arg_target = 65000;
static unsigned arg_files = 20000;
static unsigned arg_threads = 1000;
static unsigned arg_passes = 11;

typedef enum Method {
        METHOD_BASELINE,
        METHOD_READ,     /* explain_read() */
        METHOD_CLASSIFY, /* explain_maps() on its result */
        METHOD_PROCESS,  /* explain_process(): both */
        _METHOD_MAX,
} Method;

static const char *const method_names[_METHOD_MAX] = {
        [METHOD_BASELINE] = "baseline: open + read + memchr of maps",
        [METHOD_READ] = "explain_read(): maps, and each thread's syscall",
        [METHOD_CLASSIFY] = "explain_maps(): the classifier alone",
        [METHOD_PROCESS] = "explain_process(): read + classify",
};

/* Both clocks: CPU time (CLOCK_PROCESS_CPUTIME_ID: the work, the kernel's rendering of maps included)
 * and wall time (what a caller waits, CPU contention included). */
typedef enum Clock {
        CLOCK_CPU,
        CLOCK_WALL,
        _CLOCK_MAX,
} Clock;

typedef struct Samples {
        double usec[_CLOCK_MAX][_METHOD_MAX][1000];
        double ratio[_CLOCK_MAX][_METHOD_MAX][1000];
        size_t n;
} Samples;

static uint64_t mono_usec(void) {
        return now_usec(CLOCK_MONOTONIC);
}

/* ---- the process being explained ---- */

static int block_fd = -1;

static void *blocked(void *arg) {
        char c;

        for (;;)
                (void) read(block_fd, &c, 1);
        return NULL;
}

static int child_files(const char *dir) {
        for (unsigned i = 0; i < arg_files; i++) {
                char path[4096];
                int fd;

                snprintf(path, sizeof(path), "%s/segment-%05u", dir, i);
                fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || ftruncate(fd, 4096) < 0 ||
                    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
                        return -errno;
                close(fd);
        }
        return 0;
}

static int child_threads(void) {
        pthread_attr_t attr;
        int block[2];

        if (pipe2(block, O_CLOEXEC) < 0)
                return -errno;
        block_fd = block[0];
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
        for (unsigned i = 0; i < arg_threads; i++) {
                pthread_t t;
                int r = pthread_create(&t, &attr, blocked, NULL);

                if (r != 0)
                        return -r;
        }
        return 0;
}

/* The rest up to the target: a PROT_NONE region whose every other page is made readable. */
static int child_anonymous(void) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        unsigned now, flips;
        uint8_t *region;
        int r;

        r = proc_count_maps(NULL, getpid(), &now);
        if (r < 0)
                return r;
        if (now + 1 >= arg_target)
                return -ERANGE;
        flips = (arg_target - now - 1) / 2;
        region = mmap(NULL, (2 * (size_t) flips + 1) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED)
                return -errno;
        for (unsigned i = 0; i < flips; i++)
                if (mprotect(region + (2 * (size_t) i + 1) * page, page, PROT_READ) < 0)
                        return -errno;
        return 0;
}

static void child_run(const char *dir, int ready_fd) {
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        r = child_files(dir);
        if (r >= 0)
                r = child_threads();
        if (r >= 0)
                r = child_anonymous();
        if (write(ready_fd, &r, sizeof(r)) != sizeof(r))
                _exit(EXIT_FAILURE);
        for (;;)
                pause();
}

static int child_start(const char *dir, pid_t *ret) {
        struct timespec pause_ts = { .tv_nsec = 10 * 1000 * 1000 };
        uint64_t deadline = mono_usec() + READY_TIMEOUT_MSEC * USEC_PER_MSEC;
        int ready[2], r = -ETIMEDOUT;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(ready[0]);
                child_run(dir, ready[1]);
        }
        close(ready[1]);
        while (mono_usec() < deadline) {
                ssize_t n = read(ready[0], &r, sizeof(r));

                if (n == sizeof(r))
                        break;
                if (n == 0) { /* it died before saying */
                        r = -ECHILD;
                        break;
                }
                nanosleep(&pause_ts, NULL);
        }
        close(ready[0]);
        *ret = pid;
        return r;
}

/* ---- the methods ---- */

static int baseline_lines(pid_t pid, uint64_t *ret) {
        static char buf[CHUNK_SIZE];
        char path[64];
        uint64_t lines = 0;
        ssize_t k;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                for (const char *p = buf, *end = buf + k; (p = memchr(p, '\n', (size_t) (end - p))); p++)
                        lines++;
        close(fd);
        *ret = lines;
        return 0;
}

static void clocks_now(uint64_t t[_CLOCK_MAX]) {
        t[CLOCK_CPU] = now_usec(CLOCK_PROCESS_CPUTIME_ID);
        t[CLOCK_WALL] = now_usec(CLOCK_MONOTONIC);
}

/* One round: every method once, back to back. */
static int round_run(pid_t pid, Samples *s) {
        _cleanup_(explain_input_done) ExplainInput in = {};
        uint64_t t[_METHOD_MAX + 1][_CLOCK_MAX], lines;
        Explain *e = NULL;
        int r;

        clocks_now(t[0]);
        r = baseline_lines(pid, &lines);
        clocks_now(t[1]);
        if (r >= 0)
                r = explain_read(NULL, pid, EXPLAIN_STACK_POINTERS_MAX, &in);
        clocks_now(t[2]);
        if (r >= 0)
                r = explain_maps(in.maps, in.maps_len, in.stack_pointers, in.n_threads, &e);
        clocks_now(t[3]);
        e = explain_free(e);
        if (r >= 0)
                r = explain_process(NULL, pid, &e);
        clocks_now(t[4]);
        e = explain_free(e);
        if (r < 0)
                return r;
        for (Clock k = 0; k < _CLOCK_MAX; k++) {
                uint64_t baseline = t[1][k] - t[0][k];

                for (Method m = 0; m < _METHOD_MAX; m++) {
                        s->usec[k][m][s->n] = (double) (t[m + 1][k] - t[m][k]);
                        s->ratio[k][m][s->n] = s->usec[k][m][s->n] / (double) (baseline > 0 ? baseline : 1);
                }
        }
        s->n++;
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the report ---- */

static void report_process(pid_t pid) {
        Explain *e = NULL;

        if (explain_process(NULL, pid, &e) < 0)
                return;
        printf("The process: %u maps, %u threads (%u stacks with %u guards found), verdict %s.\n",
               e->map_count, e->threads, e->thread_stacks, e->thread_guards,
               explain_verdict_to_string(e->verdict));
        for (size_t i = 0; i < e->n_groups && i < 4; i++)
                printf("    %-16s %8" PRIu64 " maps  %s\n", explain_kind_to_string(e->groups[i].kind),
                       e->groups[i].mappings, e->groups[i].source);
        explain_free(e);
}

static void report(Samples *s) {
        double process_usec[_CLOCK_MAX] = {};

        printf("\nMedians of %zu rounds, CPU time and wall time, each ratio against the baseline of its "
               "round:\n",
               s->n);
        printf("  %-50s %11s %8s %11s %8s\n", "", "CPU", "ratio", "wall", "ratio");
        for (Method m = 0; m < _METHOD_MAX; m++) {
                printf("  %-50s", method_names[m]);
                for (Clock k = 0; k < _CLOCK_MAX; k++) {
                        double usec = median(s->usec[k][m], s->n), ratio = median(s->ratio[k][m], s->n);

                        if (m == METHOD_PROCESS)
                                process_usec[k] = usec;
                        printf(" %8.2f ms %7.2fx", usec / 1e3, ratio);
                }
                printf("\n");
        }
        printf("\nTarget: explain_process() at most %.0f ms for %u maps: %s in CPU time (%.2f ms), %s in "
               "wall "
               "time (%.2f ms).\n",
               (double) TARGET_USEC / 1e3, arg_target,
               process_usec[CLOCK_CPU] <= TARGET_USEC ? "met" : "NOT met", process_usec[CLOCK_CPU] / 1e3,
               process_usec[CLOCK_WALL] <= TARGET_USEC ? "met" : "NOT met", process_usec[CLOCK_WALL] / 1e3);
}

static int parse_unsigned(const char *option, const char *s, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
                fprintf(stderr, "explain-bench: %s takes a whole number from %u to %u, not \"%s\".\n",
                        option, min, max, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },         { "target", required_argument, NULL, 'm' },
                { "files", required_argument, NULL, 'f' },  { "threads", required_argument, NULL, 't' },
                { "passes", required_argument, NULL, 'n' }, {}
        };
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: explain-bench [--target MAPS] [--files N] [--threads N] [--passes "
                               "N]\n\n"
                               "Times explaining a process of MAPS mappings (default 65000) against "
                               "reading\n"
                               "its maps by hand. Asserts nothing.\n");
                        exit(EXIT_SUCCESS);
                case 'm':
                        r = parse_unsigned("--target", optarg, 100, 10000000, &arg_target);
                        break;
                case 'f':
                        r = parse_unsigned("--files", optarg, 0, 1000000, &arg_files);
                        break;
                case 't':
                        r = parse_unsigned("--threads", optarg, 0, 30000, &arg_threads);
                        break;
                case 'n':
                        r = parse_unsigned("--passes", optarg, 1, 1000, &arg_passes);
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "explain-bench: unexpected argument \"%s\"; see --help.\n", argv[optind]);
                return -EINVAL;
        }
        if ((uint64_t) arg_files + 2 * (uint64_t) arg_threads + 100 >= arg_target) {
                fprintf(stderr, "explain-bench: --files and --threads leave no room below --target %u.\n",
                        arg_target);
                return -EINVAL;
        }
        return 0;
}

static int check_limit(void) {
        unsigned limit;
        int r = max_map_count_read_live(NULL, &limit);

        if (r < 0) {
                errno = -r;
                fprintf(stderr, "explain-bench: failed to read vm.max_map_count: %m\n");
                return r;
        }
        /* Splitting a mapping fails at map_count >= limit: keep some room. */
        if (arg_target + 16 >= limit) {
                fprintf(stderr, "explain-bench: --target %u is too close to vm.max_map_count (%u).\n",
                        arg_target, limit);
                return -ERANGE;
        }
        return 0;
}

static int run(const char *dir) {
        _cleanup_free_ Samples *s = calloc(1, sizeof(Samples));
        pid_t pid = 0;
        int r, status;

        if (!s)
                return -ENOMEM;
        printf("Building a process of %u maps: %u files of %s, %u threads, the rest anonymous...\n",
               arg_target, arg_files, dir, arg_threads);
        fflush(stdout);
        r = child_start(dir, &pid);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "explain-bench: failed to build the process: %m\n");
        } else {
                report_process(pid);
                for (unsigned i = 0; i < arg_passes && r >= 0; i++)
                        r = round_run(pid, s);
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "explain-bench: a round failed: %m\n");
                } else
                        report(s);
        }
        if (pid > 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, &status, 0);
        }
        return r;
}

static void remove_dir(const char *dir) {
        for (unsigned i = 0; i < arg_files; i++) {
                char path[4096];

                snprintf(path, sizeof(path), "%s/segment-%05u", dir, i);
                (void) unlink(path);
        }
        (void) rmdir(dir);
}

int main(int argc, char *argv[]) {
        char dir[] = "/tmp/mapguard-explain-bench-XXXXXX";
        int r;

        if (parse_argv(argc, argv) < 0 || check_limit() < 0)
                return EXIT_FAILURE;
        if (!mkdtemp(dir)) {
                fprintf(stderr, "explain-bench: failed to make a directory: %m\n");
                return EXIT_FAILURE;
        }
        r = run(dir);
        remove_dir(dir);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
