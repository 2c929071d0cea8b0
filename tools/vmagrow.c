/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmagrow: a process that creates many memory mappings (VMAs), for the e2e tests, the demo and the
 * benchmark.
 *
 *     vmagrow [--step N] [--interval-ms MS] [--abort-at-limit MS [--fail-calls N]] TARGET
 *
 * It maps one PROT_NONE region of TARGET pages and makes every other page readable: pages whose
 * neighbours differ in protection cannot share a VMA, so the region ends up as TARGET VMAs. It adds
 * STEP of them per interval (default: all at once), prints its progress, then holds.
 * SIGUSR1 unmaps the whole region (back to the baseline), SIGUSR2 grows it again, SIGTERM and SIGINT
 * exit 0 with the region still mapped (the kernel tears it down at exit). With --abort-at-limit, a process
 * that reaches vm.max_map_count goes on to the very end (single pages mapped until mmap() fails, at
 * map_count = limit + 1), holds there MS milliseconds, and aborts, as a service does that dies of "mmap:
 * cannot allocate memory"; --fail-calls makes it first fail N more calls in a tight loop. Signals and the
 * growth timer are file descriptors in one poll() loop: no busy waiting.
 *
 * Progress lines on stdout (line-buffered), one per change:
 *     vmagrow pid=PID maps=N extra=E target=T state=growing|holding|freed|limit
 * maps is the kernel's map_count read back from /proc/self/maps (the [vsyscall] gate line is not
 * a VMA), extra is how many VMAs the region has by construction.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util.h"

/* Far above any sane vm.max_map_count; keeps TARGET * page size well inside the address space. */
#define TARGET_MAX (UINT64_C(1) << 28)
#define INTERVAL_MS_MAX UINT64_C(86400000)
#define FAIL_CALLS_MAX UINT64_C(100000000)

typedef struct Region {
        uint8_t *base;    /* NULL while unmapped */
        uint64_t pages;   /* TARGET */
        uint64_t changed; /* odd-indexed pages made readable so far: 1, 3, ..., 2 * changed - 1 */
        size_t page_size;
        bool at_limit; /* the kernel refused a split: vm.max_map_count reached */
} Region;

/* VMAs the region consists of: pages 0 .. 2*changed-1 alternate, the untouched tail is one more. */
static uint64_t region_extra(const Region *r) {
        if (!r->base)
                return 0;
        return 2 * r->changed + 1 < r->pages ? 2 * r->changed + 1 : r->pages;
}

static int region_map(Region *r) {
        void *p;

        if (r->base)
                return 0;
        p = mmap(NULL, r->pages * r->page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                 0);
        if (p == MAP_FAILED)
                return -errno;
        r->base = p;
        r->changed = 0;
        r->at_limit = false;
        return 0;
}

static void region_unmap(Region *r) {
        if (!r->base)
                return;
        /* munmap of a whole range cannot fail for lack of VMAs: it only removes them. */
        (void) munmap(r->base, r->pages * r->page_size);
        r->base = NULL;
        r->changed = 0;
        r->at_limit = false;
}

/* Split the region until it has at least goal VMAs (or all TARGET of them). Returns 0, or -errno
 * when the kernel refuses (ENOMEM: vm.max_map_count reached); what was made so far stays. */
static int region_grow_to(Region *r, uint64_t goal) {
        int k;

        k = region_map(r);
        if (k < 0)
                return k;
        while (region_extra(r) < goal && 2 * r->changed + 1 < r->pages) {
                uint8_t *page = r->base + (2 * r->changed + 1) * r->page_size;

                if (mprotect(page, r->page_size, PROT_READ) < 0) {
                        r->at_limit = errno == ENOMEM;
                        return -errno;
                }
                r->changed++;
        }
        return 0;
}

/* Maps single pages, each in another protection than the one before so that none merges, until the
 * kernel refuses: mmap() fails once map_count exceeds vm.max_map_count. Returns the -errno it failed with
 * (-ENOMEM at the limit), or -E2BIG when MAX pages did not reach it. */
static int map_until_refused(size_t page_size, unsigned max) {
        for (unsigned i = 0; i < max; i++) {
                void *p = mmap(NULL, page_size, i % 2 ? PROT_READ : PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

                if (p == MAP_FAILED)
                        return -errno;
        }
        return -E2BIG;
}

/* The kernel's map_count: one line per VMA in /proc/self/maps, minus the [vsyscall] gate area. */
static int maps_count(uint64_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        static char line[8192];
        uint64_t n = 0;

        f = fopen("/proc/self/maps", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                /* A line longer than the buffer arrives in pieces: count it once, at its end. */
                if (!strchr(line, '\n'))
                        continue;
                if (!strstr(line, "[vsyscall]"))
                        n++;
        }
        if (ferror(f))
                return -EIO;
        *ret = n;
        return 0;
}

static void print_progress(const Region *r, const char *state) {
        uint64_t maps = 0;
        int k;

        k = maps_count(&maps);
        if (k < 0)
                fprintf(stderr, "vmagrow: Failed to read /proc/self/maps: %s\n", strerror(-k));
        printf("vmagrow pid=%d maps=%" PRIu64 " extra=%" PRIu64 " target=%" PRIu64 " state=%s\n",
               (int) getpid(), maps, region_extra(r), r->pages, state);
}

/* Parse a decimal in [min, max]; anything else (sign, junk, overflow) is refused. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: vmagrow [--step N] [--interval-ms MS] [--abort-at-limit MS [--fail-calls N]] "
                "TARGET\n"
                "Create TARGET extra memory mappings (VMAs), STEP per interval (default: all at once),\n"
                "then hold them. SIGUSR1 frees them, SIGUSR2 grows them again, SIGTERM exits.\n"
                "  --step N          VMAs to add per interval (1..TARGET, default TARGET)\n"
                "  --interval-ms MS  time between steps in milliseconds (1..%" PRIu64 ", default 1000)\n"
                "  --abort-at-limit MS  at vm.max_map_count, map until mmap() fails, wait MS, abort()\n"
                "  --fail-calls N    there, N more mmap() calls that fail, in a tight loop\n"
                "  -h, --help        show this help\n",
                INTERVAL_MS_MAX);
}

/* Arm the growth timer (periodic) or disarm it (interval_ms == 0). */
static int timer_arm(int fd, uint64_t interval_ms) {
        struct itimerspec its = {};

        its.it_interval.tv_sec = interval_ms / 1000;
        its.it_interval.tv_nsec = (long) (interval_ms % 1000) * 1000000L;
        its.it_value = its.it_interval;
        if (timerfd_settime(fd, 0, &its, NULL) < 0)
                return -errno;
        return 0;
}

/* Arm the timer to fire once, in MS milliseconds. */
static int timer_arm_once(int fd, uint64_t ms) {
        struct itimerspec its = {};

        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long) (ms % 1000) * 1000000L;
        if (timerfd_settime(fd, 0, &its, NULL) < 0)
                return -errno;
        return 0;
}

/* One growth step. Returns true while there is more to grow (keep the timer armed). */
static bool on_step(Region *r, uint64_t step) {
        uint64_t goal = region_extra(r) + step;
        int k;

        k = region_grow_to(r, goal < r->pages ? goal : r->pages);
        if (k < 0) {
                fprintf(stderr, "vmagrow: Failed to split the region at %" PRIu64 " extra VMAs: %s%s\n",
                        region_extra(r), strerror(-k),
                        r->at_limit ? " (vm.max_map_count reached), holding" : "");
                print_progress(r, r->at_limit ? "limit" : "holding");
                return false;
        }
        if (region_extra(r) >= r->pages) {
                print_progress(r, "holding");
                return false;
        }
        print_progress(r, "growing");
        return true;
}

/* What the command line asks for. */
typedef struct Options {
        uint64_t target, step, interval_ms, abort_ms, fail_calls;
} Options;

/* Parses ARG, the value of option NAME, as a number in 1..MAX into *RET; says what is wrong. Returns 0 or
 * -EINVAL. */
static int parse_option_u64(const char *name, const char *arg, uint64_t max, uint64_t *ret) {
        if (parse_u64(arg, 1, max, ret) >= 0)
                return 0;
        fprintf(stderr, "vmagrow: %s: '%s' is not a number in 1..%" PRIu64 "\n", name, arg, max);
        usage(stderr);
        return -EINVAL;
}

/* Returns 1 to run with *O, 0 to exit successfully (--help), -EINVAL for a bad command line (said). */
static int parse_argv(int argc, char *argv[], Options *o) {
        static const struct option options[] = {
                { "step", required_argument, NULL, 's' },
                { "interval-ms", required_argument, NULL, 'i' },
                { "abort-at-limit", required_argument, NULL, 'a' },
                { "fail-calls", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        *o = (Options){ .interval_ms = 1000 };
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                int k = 0;

                switch (c) {
                case 's':
                        k = parse_option_u64("--step", optarg, TARGET_MAX, &o->step);
                        break;
                case 'i':
                        k = parse_option_u64("--interval-ms", optarg, INTERVAL_MS_MAX, &o->interval_ms);
                        break;
                case 'a':
                        k = parse_option_u64("--abort-at-limit", optarg, INTERVAL_MS_MAX, &o->abort_ms);
                        break;
                case 'f':
                        k = parse_option_u64("--fail-calls", optarg, FAIL_CALLS_MAX, &o->fail_calls);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
                if (k < 0)
                        return k;
        }
        if (argc - optind != 1) {
                fprintf(stderr, "vmagrow: expected exactly one TARGET argument, got %d\n", argc - optind);
                usage(stderr);
                return -EINVAL;
        }
        if (parse_option_u64("TARGET", argv[optind], TARGET_MAX, &o->target) < 0)
                return -EINVAL;
        if (o->step == 0)
                o->step = o->target;
        if (o->fail_calls > 0 && o->abort_ms == 0) {
                fprintf(stderr, "vmagrow: --fail-calls needs --abort-at-limit\n");
                return -EINVAL;
        }
        if (o->step > o->target) {
                fprintf(stderr, "vmagrow: --step %" PRIu64 " is larger than TARGET %" PRIu64 "\n", o->step,
                        o->target);
                return -EINVAL;
        }
        return 1;
}

/* At the limit with --abort-at-limit: to the very end (mmap refused), then abort in abort_ms. */
static void start_dying(Region *r, int tfd, const Options *o) {
        int k = map_until_refused(r->page_size, 1000);
        uint64_t failed = 0;

        /* A service retrying in a loop: each call fails at the limit, faster than a reader keeps up. */
        for (uint64_t i = 0; k == -ENOMEM && i < o->fail_calls; i++)
                if (mmap(NULL, r->page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
                        failed++;
        fprintf(stderr, "vmagrow: mmap: %s (then %" PRIu64 " more failed); aborting in %" PRIu64 " ms\n",
                strerror(-k), failed, o->abort_ms);
        print_progress(r, "limit");
        k = timer_arm_once(tfd, o->abort_ms);
        if (k < 0) {
                fprintf(stderr, "vmagrow: Failed to arm the timer: %s\n", strerror(-k));
                abort();
        }
}

/* One signal from SFD. Returns 1 to go on, 0 to exit successfully, -errno on failure (said). */
static int on_signal(Region *r, int sfd, int tfd, const Options *o) {
        struct signalfd_siginfo si;
        int k;

        if (read(sfd, &si, sizeof(si)) != sizeof(si))
                return 1;
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
                /* The mappings go with the process, as a service's do when it is stopped: unmapping
                 * them first (60000 VMAs take ~100 ms) is a moment in which a read sees it back at the
                 * baseline, and mapguardd rightly tells a recovery instead of a process gone. */
                print_progress(r, "exiting");
                return 0;
        case SIGUSR1:
                (void) timer_arm(tfd, 0);
                region_unmap(r);
                print_progress(r, "freed");
                return 1;
        case SIGUSR2:
                if (on_step(r, o->step)) {
                        k = timer_arm(tfd, o->interval_ms);
                        if (k < 0) {
                                fprintf(stderr, "vmagrow: Failed to arm the timer: %s\n", strerror(-k));
                                return k;
                        }
                }
                return 1;
        default:
                return 1;
        }
}

/* The poll() loop over the signals (SFD) and the growth timer (TFD). Returns the exit status. */
static int run(Region *r, int sfd, int tfd, const Options *o) {
        bool dying = false;

        for (;;) {
                struct pollfd pfd[2] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = tfd, .events = POLLIN },
                };
                uint64_t expirations;
                int k;

                if (o->abort_ms > 0 && r->at_limit && !dying) {
                        dying = true;
                        start_dying(r, tfd, o);
                }
                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "vmagrow: Failed to poll: %m\n");
                        return 1;
                }
                if ((pfd[1].revents & POLLIN) &&
                    read(tfd, &expirations, sizeof(expirations)) == sizeof(expirations)) {
                        if (dying) {
                                fprintf(stderr, "vmagrow: out of memory maps, aborting\n");
                                abort();
                        }
                        if (!on_step(r, o->step))
                                (void) timer_arm(tfd, 0);
                }
                if (pfd[0].revents & POLLIN) {
                        k = on_signal(r, sfd, tfd, o);
                        if (k <= 0)
                                return k < 0 ? 1 : 0;
                }
        }
}

int main(int argc, char *argv[]) {
        _cleanup_close_ int sfd = -EBADF, tfd = -EBADF;
        Region region = {};
        Options o;
        sigset_t mask;
        long ps;
        int k;

        /* Line-buffered even into a pipe: whoever waits for a progress line sees it at once. */
        setvbuf(stdout, NULL, _IOLBF, 0);

        k = parse_argv(argc, argv, &o);
        if (k <= 0)
                return k < 0 ? 2 : 0;
        region.pages = o.target;
        ps = sysconf(_SC_PAGESIZE);
        if (ps <= 0) {
                fprintf(stderr, "vmagrow: Failed to get the page size\n");
                return 1;
        }
        region.page_size = (size_t) ps;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                fprintf(stderr, "vmagrow: Failed to block signals: %m\n");
                return 1;
        }
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        if (sfd < 0 || tfd < 0) {
                fprintf(stderr, "vmagrow: Failed to create the signal and timer fds: %m\n");
                return 1;
        }

        print_progress(&region, "start");
        if (on_step(&region, o.step)) {
                k = timer_arm(tfd, o.interval_ms);
                if (k < 0) {
                        fprintf(stderr, "vmagrow: Failed to arm the timer: %s\n", strerror(-k));
                        return 1;
                }
        }
        return run(&region, sfd, tfd, &o);
}
