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
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "bench-host.h"
#include "bench-manager.h"
#include "bench-rss.h"
#include "bpf-counter.h"
#include "cgroup.h"
#include "conf.h"
#include "log.h"
#include "manager-scan.h"
#include "manager.h"
#include "procfs.h"
#include "schedule.h"
#include "util.h"

/* The "big" processes: close to the default vm.max_map_count (65530), in the warning band. */
#define BIG_VMAS 60000U
/* Unswappable kernel memory per VMA, the high end of the 250-320 bytes Recommend() assumes
 * (service/core/recommend.h): the workload may pin at most half of MemAvailable this way. */
#define VMA_KERNEL_BYTES 320U
/* The RSS target, in KiB, against VmHWM (the peak VmRSS). */
#define RSS_TARGET_KIB 2048L

static unsigned arg_procs = 300;
static unsigned arg_vmas = 2000;
static unsigned arg_big = 3;
static unsigned arg_passes = 7;
static unsigned arg_seconds = 30;

/* What is timed. Each round runs the methods of one phase back to back, so that a noisy moment of the
 * host hits them alike, and each ratio is against the plain pass of the same round. */
typedef enum Method {
        METHOD_WC,
        METHOD_PLAIN,      /* the baseline of the /proc rounds */
        METHOD_COUNT_MAPS, /* proc_count_maps() alone, over the pids cgroup_read_pids() finds */
        METHOD_SAMPLE,     /* proc_sample_count(): stat, maps, stat (what a pass reads) */
        METHOD_PROCFS,     /* manager_scan(m, true), Backend=procfs */
        METHOD_PLAIN_BPF,  /* the baseline of the BPF rounds */
        METHOD_BPF_SCAN,   /* manager_scan(m, true), Backend=bpf */
        METHOD_BPF_RAW,    /* bpf_counter_scan() */
        _METHOD_MAX,
} Method;

/* One method's CPU time per pass, in µs, and its ratio to the plain pass of the same round. */
typedef struct Samples {
        uint64_t *usec;
        double *ratio;
        size_t n;
} Samples;

typedef struct Results {
        Samples s[_METHOD_MAX];
        uint64_t total_maps, plain_lines;
        size_t n_procs, bpf_tasks;
        unsigned bpf_host_tasks; /* tasks on the host during the BPF rounds */
        bool have_bpf;
        char *bpf_reason;
        RssReport rss;
        uint64_t interval_usec, fast_usec, adaptive_usec, warmup_usec;
        unsigned adaptive_passes;
} Results;

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

static int parse_unsigned(const char *option, const char *s, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
                fprintf(stderr, "scan-bench: %s takes a whole number from %u to %u, not \"%s\".\n", option,
                        min, max, s);
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
               BIG_VMAS, BENCH_HOST_VMAS_MAX, BIG_VMAS);
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "procs", required_argument, NULL, 'p' },
                                                 { "vmas", required_argument, NULL, 'v' },
                                                 { "big", required_argument, NULL, 'b' },
                                                 { "passes", required_argument, NULL, 'n' },
                                                 { "seconds", required_argument, NULL, 's' },
                                                 {} };
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
                        r = parse_unsigned("--vmas", optarg, 1, BENCH_HOST_VMAS_MAX, &arg_vmas);
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

static size_t manager_n_procs(const Manager *m) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_units; i++)
                n += m->units[i]->n_procs;
        return n;
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
        *s = (Samples){};
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
        if (s->n == 0)
                return 0.0;
        qsort(s->usec, s->n, sizeof(uint64_t), cmp_u64);
        return s->n % 2 ? (double) s->usec[s->n / 2]
                        : ((double) s->usec[s->n / 2 - 1] + (double) s->usec[s->n / 2]) / 2;
}

static double median_ratio(Samples *s) {
        if (s->n == 0)
                return 0.0;
        qsort(s->ratio, s->n, sizeof(double), cmp_double);
        return s->n % 2 ? s->ratio[s->n / 2] : (s->ratio[s->n / 2 - 1] + s->ratio[s->n / 2]) / 2;
}

static const char *verdict(bool met) {
        return met ? "met" : "NOT met";
}

/* MemAvailable from /proc/meminfo in KiB, or -1. */
static long mem_available_kib(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        long v;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
                        return v;
        return -1;
}

/* Refuses a workload whose mappings would pin more than half of MemAvailable. */
static int check_memory(void) {
        uint64_t maps = (uint64_t) arg_procs * arg_vmas + (uint64_t) arg_big * BIG_VMAS;
        uint64_t want_kib = maps * VMA_KERNEL_BYTES / 1024;
        long avail_kib = mem_available_kib();

        if (avail_kib > 0 && want_kib > (uint64_t) avail_kib / 2) {
                fprintf(stderr,
                        "scan-bench: %" PRIu64 " mappings would pin about %" PRIu64 " MiB of kernel "
                        "memory, more than half of MemAvailable (%ld MiB); use fewer --procs or --vmas.\n",
                        maps, want_kib / 1024, avail_kib / 1024);
                return -ENOMEM;
        }
        return 0;
}

/* Host tasks (threads included): what the BPF task iterator walks on every pass. */
static unsigned host_tasks(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/loadavg", "re");
        unsigned running = 0, total = 0;

        if (!f || fscanf(f, "%*s %*s %*s %u/%u", &running, &total) != 2)
                return 0;
        return total;
}

/* The /proc backend's reads without the Manager around them, for the breakdown: proc_count_maps()
 * alone (what the plain pass does, through the core's code), or proc_sample_count() (stat, maps,
 * stat again: what a pass reads per process), over the pids cgroup_read_pids() finds in the Manager's units.
 */
static int procfs_reads_pass(const Manager *m, bool sample) {
        for (size_t i = 0; i < m->n_units; i++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                int r;

                r = cgroup_read_pids(m->hierarchy, m->units[i]->cgroup, &pids, &n);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < n; j++) {
                        ProcSample ps;
                        unsigned count;

                        /* A failure here is a process that vanished: the Manager skips those too. */
                        if (sample)
                                (void) proc_sample_count(m->root, pids[j], &ps);
                        else
                                (void) proc_count_maps(m->root, pids[j], &count);
                }
        }
        return 0;
}

/* Methods 1-3 and the breakdown of 3, in rounds. */
static int time_procfs_rounds(const char *mount, Results *res) {
        Manager *m = NULL;
        int r;

        r = bench_manager_new(mount, BACKEND_PROCFS, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the Manager (Backend=procfs): %m\n");
                return r;
        }
        res->n_procs = manager_n_procs(m);

        for (unsigned i = 0; i < arg_passes; i++) {
                uint64_t c0, c1, k0, k1, t_wc, t_plain, t_count, t_sample, t_scan;

                k0 = children_cpu_usec();
                c0 = cpu_usec();
                r = baseline_wc_pass();
                c1 = cpu_usec();
                k1 = children_cpu_usec();
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "scan-bench: the wc -l pass failed (is wc in PATH?): %m\n");
                        manager_free(m);
                        return r;
                }
                t_wc = (c1 - c0) + (k1 - k0);

                c0 = cpu_usec();
                r = baseline_plain_pass(&res->plain_lines);
                c1 = cpu_usec();
                if (r < 0)
                        break;
                t_plain = c1 - c0;

                c0 = cpu_usec();
                r = procfs_reads_pass(m, false);
                c1 = cpu_usec();
                if (r < 0)
                        break;
                t_count = c1 - c0;

                c0 = cpu_usec();
                r = procfs_reads_pass(m, true);
                c1 = cpu_usec();
                if (r < 0)
                        break;
                t_sample = c1 - c0;

                c0 = cpu_usec();
                r = manager_scan(m, true);
                c1 = cpu_usec();
                if (r < 0)
                        break;
                t_scan = c1 - c0;

                samples_add(&res->s[METHOD_WC], t_wc, t_plain);
                samples_add(&res->s[METHOD_PLAIN], t_plain, t_plain);
                samples_add(&res->s[METHOD_COUNT_MAPS], t_count, t_plain);
                samples_add(&res->s[METHOD_SAMPLE], t_sample, t_plain);
                samples_add(&res->s[METHOD_PROCFS], t_scan, t_plain);
        }
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: a /proc round failed: %m\n");
        }
        manager_free(m);
        return r < 0 ? r : 0;
}

/* Method 5 and the raw iterator pass, in rounds with a plain pass. */
static int time_bpf_rounds(const char *mount, Results *res) {
        Manager *m = NULL;
        int r;

        r = bench_manager_new(mount, BACKEND_BPF, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the Manager (Backend=bpf): %m\n");
                return r;
        }
        if (m->scan.backend != BACKEND_BPF) {
                fprintf(stderr, "scan-bench: the Manager fell back to /proc with Backend=bpf.\n");
                manager_free(m);
                return -EOPNOTSUPP;
        }

        for (unsigned i = 0; i < arg_passes; i++) {
                _cleanup_free_ BpfTaskCount *tasks = NULL;
                uint64_t c0, c1, c2, c3, lines;

                c0 = cpu_usec();
                r = baseline_plain_pass(&lines);
                c1 = cpu_usec();
                if (r < 0)
                        break;

                r = manager_scan(m, true);
                c2 = cpu_usec();
                if (r < 0)
                        break;
                if (m->scan.backend != BACKEND_BPF) {
                        fprintf(stderr, "scan-bench: a BPF pass failed, the Manager fell back to /proc.\n");
                        r = -EIO;
                        break;
                }

                r = bpf_counter_scan(m->scan.bpf, &tasks, &res->bpf_tasks);
                c3 = cpu_usec();
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "scan-bench: bpf_counter_scan() failed: %m\n");
                        break;
                }

                res->bpf_host_tasks = host_tasks();
                samples_add(&res->s[METHOD_PLAIN_BPF], c1 - c0, c1 - c0);
                samples_add(&res->s[METHOD_BPF_SCAN], c2 - c1, c1 - c0);
                samples_add(&res->s[METHOD_BPF_RAW], c3 - c2, c1 - c0);
        }
        manager_free(m);
        return r < 0 ? r : 0;
}

/* Method 4: the daemon's own event loop over the quiet synthetic host for ARG_SECONDS, IntervalSec
 * a third of that. */
/* Runs the Manager's event loop for USEC; counts the passes in *RET_PASSES when not NULL. */
static int run_event_loop(Manager *m, uint64_t usec, unsigned *ret_passes) {
        uint64_t start = mono_usec(), end = start + usec, last_scan = m->scan.last_usec;
        int r = 0;

        for (uint64_t now = start; now < end; now = mono_usec()) {
                r = sd_event_run(m->event, end - now);
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "scan-bench: the event loop failed: %m\n");
                        return r;
                }
                if (m->scan.last_usec != last_scan) {
                        if (ret_passes)
                                (*ret_passes)++;
                        last_scan = m->scan.last_usec;
                }
        }
        return 0;
}

static int time_adaptive(const char *mount, Results *res) {
        Manager *m = NULL;
        uint64_t c0;
        int r;

        res->interval_usec = (uint64_t) arg_seconds * USEC_PER_SEC / 3;
        /* The scheduler's fastest cadence, by its own rule (schedule.h). */
        res->fast_usec = res->interval_usec / SCHEDULE_FAST_DIVISOR;
        if (res->fast_usec < SCHEDULE_MIN_USEC)
                res->fast_usec = SCHEDULE_MIN_USEC;
        if (res->fast_usec > res->interval_usec)
                res->fast_usec = res->interval_usec;

        printf("Running the /proc backend's event loop for %u s (IntervalSec=%.3g s), after a warm-up of "
               "IntervalSec ...\n",
               arg_seconds, (double) res->interval_usec / 1e6);
        fflush(stdout);

        r = bench_manager_new(mount, BACKEND_PROCFS, res->interval_usec, &m);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the Manager for the adaptive run: %m\n");
                return r;
        }

        /* Warm-up, timed on its own: every process is new to this Manager, and the scheduler reads a
         * young process four more times in its first IntervalSec (schedule.h). That happens once
         * per process lifetime; the quiet host is what comes after. */
        c0 = cpu_usec();
        r = run_event_loop(m, res->interval_usec, NULL);
        res->warmup_usec = cpu_usec() - c0;

        c0 = cpu_usec();
        if (r >= 0)
                r = run_event_loop(m, (uint64_t) arg_seconds * USEC_PER_SEC, &res->adaptive_passes);
        res->adaptive_usec = cpu_usec() - c0;
        manager_free(m);
        return r < 0 ? r : 0;
}

static void print_row(const char *name, double usec, double ratio, const char *target) {
        printf("%-50s %9.2f ms %8.3fx   %s\n", name, usec / 1e3, ratio, target);
}

static void print_adaptive(const Results *res, double plain) {
        double horizon = (double) arg_seconds * (double) USEC_PER_SEC;
        double fixed = plain * horizon / (double) res->fast_usec;
        double ratio = fixed > 0 ? (double) res->adaptive_usec / fixed : 0.0;

        printf("%-50s %9.2f ms %7.2f %%   <= 5 %%: %s\n", "4 /proc backend, adaptive: the whole run",
               (double) res->adaptive_usec / 1e3, ratio * 100, verdict(ratio <= 0.05));
        printf("    The event loop ran %u passes in %u s at IntervalSec=%.3g s over a quiet host.\n"
               "    Compared with a fixed-interval plain pass every %.3g s (IntervalSec/%d, the adaptive\n"
               "    scheduler's fastest cadence, which a fixed scanner needs everywhere to see a fast\n"
               "    grower as early) over the same %u s: %.0f passes, %.2f ms. On a quiet host every\n"
               "    process is read once per IntervalSec, so this is about (method 3 / plain) / %d:\n"
               "    what adapting saves over scanning everything at the fastest cadence, not a faster\n"
               "    pass.\n",
               res->adaptive_passes, arg_seconds, (double) res->interval_usec / 1e6,
               (double) res->fast_usec / 1e6, SCHEDULE_FAST_DIVISOR, arg_seconds,
               horizon / (double) res->fast_usec, fixed / 1e3, SCHEDULE_FAST_DIVISOR);
        printf("    Before it, a warm-up of IntervalSec, not counted: %.2f ms. Every process was new, and\n"
               "    a young process is read five times in its first IntervalSec (schedule.h), once per\n"
               "    process lifetime: %.2fx the plain pass.\n",
               (double) res->warmup_usec / 1e3, plain > 0 ? (double) res->warmup_usec / plain : 0.0);
}

static void print_bpf(Results *res) {
        double raw = median_usec(&res->s[METHOD_BPF_RAW]);
        unsigned tasks = res->bpf_host_tasks;
        double per_task = raw / (double) (tasks ? tasks : 1);
        char target[128];

        if (!res->have_bpf) {
                printf("%-50s skipped: BPF backend unavailable: %s\n", "5 BPF backend",
                       res->bpf_reason ? res->bpf_reason : "unknown reason");
                return;
        }

        print_row("5 BPF backend (manager_scan)", median_usec(&res->s[METHOD_BPF_SCAN]),
                  median_ratio(&res->s[METHOD_BPF_SCAN]), "");
        snprintf(target, sizeof(target), "<= 0.5 ms per pass for ~600 tasks: %s at %u tasks",
                 verdict(raw <= 500.0), tasks);
        print_row("  raw bpf_counter_scan() pass", raw, median_ratio(&res->s[METHOD_BPF_RAW]), target);
        printf("    The iterator walks every task on the host (threads included) and filters in the\n"
               "    kernel: %.3f µs per host task, so ~%.2f ms for 600 tasks (scaled, fixed costs\n"
               "    included): %s; %zu watched processes returned, %.2f µs per watched process.\n"
               "    Plain pass of these rounds: %.2f ms.\n",
               per_task, per_task * 600 / 1e3, verdict(per_task * 600 <= 500.0), res->bpf_tasks,
               raw / (double) (res->bpf_tasks ? res->bpf_tasks : 1),
               median_usec(&res->s[METHOD_PLAIN_BPF]) / 1e3);
}

static void print_rss(const char *name, const RssPoint *p, const RssPoint *floor) {
        printf("%-50s %9.2f MiB   +%.2f MiB over the floor, %.2fx   <= 2 MiB: %s\n", name,
               p->hwm_kib / 1024.0, (p->hwm_kib - floor->hwm_kib) / 1024.0,
               (double) p->hwm_kib / (double) (floor->hwm_kib > 0 ? floor->hwm_kib : 1),
               verdict(p->hwm_kib <= RSS_TARGET_KIB));
        printf("%-50s %9.2f MiB   RssAnon %.2f MiB, Pss %.2f MiB\n", "    VmRSS with the Manager",
               p->rss_kib / 1024.0, p->anon_kib / 1024.0, p->pss_kib / 1024.0);
}

static void print_results(const char *mount, Results *res) {
        const RssReport *rss = &res->rss;
        double plain = median_usec(&res->s[METHOD_PLAIN]), v;
        char target[128];

        printf("\nmapguard scan-bench: %zu processes (%u x ~%u maps, %u x ~%u maps) in %u cgroups, "
               "%" PRIu64 " maps in all\n",
               res->n_procs, arg_procs, arg_vmas, arg_big, BIG_VMAS, BENCH_HOST_CGROUPS, res->total_maps);
        printf("host: %ld CPUs, %u tasks, cgroup2 at %s. CPU time per pass (this process + waited-for\n"
               "children), median of %u passes; ratio = median of (method / plain pass), per round.\n",
               sysconf(_SC_NPROCESSORS_ONLN), host_tasks(), mount, arg_passes);
        if (res->plain_lines != res->total_maps)
                printf("The plain pass counts lines: %" PRIu64 ", the maps plus each process's gate-area "
                       "line.\n",
                       res->plain_lines);
        printf("\n%-50s %12s %9s   %s\n", "method", "CPU/pass", "ratio", "target");

        print_row("1 wc -l /proc/PID/maps, one spawn per process", median_usec(&res->s[METHOD_WC]),
                  median_ratio(&res->s[METHOD_WC]), "");
        snprintf(target, sizeof(target), "baseline: %.1f µs per process, %.0f ns per map",
                 plain / (double) (res->n_procs ? res->n_procs : 1),
                 plain * 1e3 / (double) (res->total_maps ? res->total_maps : 1));
        print_row("2 plain pass: open+read(64 KiB)+memchr", plain, 1.0, target);
        v = median_ratio(&res->s[METHOD_PROCFS]);
        snprintf(target, sizeof(target), "<= 1.05x: %s", verdict(v <= 1.05));
        print_row("3 /proc backend, fixed interval (manager_scan)", median_usec(&res->s[METHOD_PROCFS]), v,
                  target);
        print_row("  of which proc_count_maps() alone", median_usec(&res->s[METHOD_COUNT_MAPS]),
                  median_ratio(&res->s[METHOD_COUNT_MAPS]), "the same reads as the plain pass");
        print_row("  of which proc_sample_count(): stat+maps+stat", median_usec(&res->s[METHOD_SAMPLE]),
                  median_ratio(&res->s[METHOD_SAMPLE]), "the rest: cgroup walk, limits, levels, trends");
        print_adaptive(res, plain);
        print_bpf(res);

        printf("\nPeak RSS (VmHWM) of a fresh process running the daemon's scan code: the bench executes\n"
               "itself, with the same libraries as mapguardd, builds the Manager and runs %u forced passes\n"
               "per backend. The baseline, the floor, is that process at main(), before any Manager:\n"
               "VmHWM %.2f MiB, RssAnon %.2f MiB, Pss %.2f MiB (the rest of VmRSS is pages of libc,\n"
               "libsystemd and the libraries they bring, shared with every process that maps them).\n",
               arg_passes, rss->floor.hwm_kib / 1024.0, rss->floor.anon_kib / 1024.0,
               rss->floor.pss_kib / 1024.0);
        print_rss("  /proc backend: peak", &rss->procfs, &rss->floor);
        if (rss->bpf_run)
                print_rss("  then the BPF backend too: peak", &rss->bpf, &rss->floor);
}

static int run(Results *res) {
        const char *mount = NULL;
        BpfCounter *probe = NULL;
        int r;

        r = bench_host_find_cgroup2(&mount);
        if (r < 0) {
                fprintf(stderr,
                        "scan-bench: no cgroup2 file system at /sys/fs/cgroup or "
                        "/sys/fs/cgroup/unified; the bench needs one to place its processes.\n");
                return r;
        }
        for (Method i = 0; i < _METHOD_MAX; i++)
                if (samples_init(&res->s[i], arg_passes) < 0)
                        return -ENOMEM;

        r = check_memory();
        if (r < 0)
                return r;

        printf("Setting up %u processes of ~%u maps and %u of ~%u maps in %u cgroups under "
               "%s/mapguard-bench-%d ...\n",
               arg_procs, arg_vmas, arg_big, BIG_VMAS, BENCH_HOST_CGROUPS, mount, (int) getpid());
        fflush(stdout);
        r = bench_host_setup(mount, arg_procs, arg_vmas, arg_big, BIG_VMAS, &res->total_maps);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to set up the synthetic host: %m\n");
                return r;
        }

        r = bpf_counter_new(&probe, &res->bpf_reason);
        res->have_bpf = r >= 0;
        probe = bpf_counter_free(probe);
        if (!res->have_bpf)
                printf("BPF backend unavailable: %s; skipping method 5.\n",
                       res->bpf_reason ? res->bpf_reason : "unknown reason");

        r = bench_rss_measure(res->have_bpf, arg_passes, &res->rss);
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: the RSS probe failed: %m\n");
                return r;
        }

        r = time_procfs_rounds(mount, res);
        if (r < 0)
                return r;
        if (res->have_bpf) {
                r = time_bpf_rounds(mount, res);
                if (r < 0)
                        return r;
        }
        r = time_adaptive(mount, res);
        if (r < 0)
                return r;

        print_results(mount, res);
        return 0;
}

int main(int argc, char *argv[]) {
        Results res = {};
        sigset_t old;
        int r;

#ifdef BENCH_BPF_LOADER
        /* bpf_counter_new() runs the loader of this build, not an installed one. */
        (void) setenv("MAPGUARD_BPF_LOADER", BENCH_BPF_LOADER, false);
#endif
        /* The RSS probe: this binary executed by bench_rss_measure(). */
        if (argc > 1 && streq(argv[1], "--rss-probe"))
                return bench_rss_probe_main(argc, argv);

        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_FAILURE;
        if (geteuid() != 0) {
                fprintf(stderr,
                        "scan-bench: must run as root: it creates cgroups and reads other "
                        "processes' maps.\n");
                return EXIT_FAILURE;
        }
        /* The daemon's code logs warnings (e.g. when there is no journal); the output is the table. */
        log_set_max_priority(LOG_ERR);

        r = bench_host_install_signal_handlers();
        if (r < 0) {
                errno = -r;
                fprintf(stderr, "scan-bench: failed to install signal handlers: %m\n");
                return EXIT_FAILURE;
        }

        r = run(&res);

        /* From here the cleanup runs once, not also from a handler. */
        bench_host_block_signals(&old);
        bench_host_cleanup();

        for (Method i = 0; i < _METHOD_MAX; i++)
                samples_done(&res.s[i]);
        free(res.bpf_reason);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
