/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The limit-hit program against the real kernel: forked children in a throwaway cgroup2 cgroup fill
 * their own map count to the live vm.max_map_count (never changed: it is global) and then make one
 * mapping call that fails at the wall; each must be caught, with the right syscall name, errno, map
 * count, limit, cgroup, pid and comm. An ENOMEM with headroom (under a small RLIMIT_AS), a call at the
 * wall from an unwatched cgroup, and one made while the program is detached must not be. Needs root,
 * kernel BTF, a writable cgroup2 and a build with BPF; without them it skips, and says why. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "bpf-hits.h"
#include "cgroup.h"
#include "limit-hit.h"
#include "loader.h"
#include "testproc.h"
#include "util.h"

#ifndef MADV_DONTFORK
#define MADV_DONTFORK 10
#endif
#define SYS_MSEAL 462

/* Filling a process to a limit this high takes too long (and ~300 bytes of kernel memory per VMA). */
#define LIMIT_FILL_MAX 1100000U
/* How long a caught call may take to show in the ring buffer. */
#define HIT_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* More failed calls than the ring buffer holds (MAPGUARD_HIT_RINGBUF_SIZE / 88-byte records: 2,978). */
#define FLOOD_CALLS 5000

typedef enum Scenario {
        SC_MMAP,          /* at L: a new mapping makes L+1, the next one fails */
        SC_MPROTECT,      /* at L: mprotect inside a VMA (splits) */
        SC_PKEY_MPROTECT, /* at L: the same with pkey_mprotect(pkey -1) */
        SC_MUNMAP,        /* at L: a hole inside a VMA */
        SC_MREMAP,        /* at L-3: a moving mremap */
        SC_MADVISE,       /* at L: MADV_DONTFORK on a page inside a VMA (EAGAIN) */
        SC_MLOCK,         /* at L: mlock of a page inside a VMA */
        SC_MSEAL,         /* at L: mseal of a page inside a VMA (6.10+) */
        SC_BRK,           /* at L+1: growing the heap */
        SC_SHORTAGE,      /* at L-6, a real ENOMEM: mmap beyond a small RLIMIT_AS */
        SC_MPROTECT_3,    /* at L: three failing mprotect calls, then one failing munmap */
        SC_FLOOD,         /* at L: FLOOD_CALLS failing mprotect calls in a tight loop */
        _SC_MAX,
} Scenario;

static const struct {
        const char *comm;
        LimitHitSyscall syscall;
        int error;
} scenarios[_SC_MAX] = {
        [SC_MMAP] = { "mg-hit-mmap", LIMIT_HIT_SYSCALL_MMAP, ENOMEM },
        [SC_MPROTECT] = { "mg-hit-mprot", LIMIT_HIT_SYSCALL_MPROTECT, ENOMEM },
        [SC_PKEY_MPROTECT] = { "mg-hit-pkey", LIMIT_HIT_SYSCALL_PKEY_MPROTECT, ENOMEM },
        [SC_MUNMAP] = { "mg-hit-munmap", LIMIT_HIT_SYSCALL_MUNMAP, ENOMEM },
        [SC_MREMAP] = { "mg-hit-mremap", LIMIT_HIT_SYSCALL_MREMAP, ENOMEM },
        [SC_MADVISE] = { "mg-hit-madvise", LIMIT_HIT_SYSCALL_MADVISE, EAGAIN },
        [SC_MLOCK] = { "mg-hit-mlock", LIMIT_HIT_SYSCALL_MLOCK, ENOMEM },
        [SC_MSEAL] = { "mg-hit-mseal", LIMIT_HIT_SYSCALL_MSEAL, ENOMEM },
        [SC_BRK] = { "mg-hit-brk", LIMIT_HIT_SYSCALL_BRK, ENOMEM },
        [SC_SHORTAGE] = { "mg-hit-short", LIMIT_HIT_SYSCALL_MMAP, ENOMEM },
        [SC_MPROTECT_3] = { "mg-hit-burst", LIMIT_HIT_SYSCALL_MUNMAP, ENOMEM },
        [SC_FLOOD] = { "mg-hit-flood", LIMIT_HIT_SYSCALL_MPROTECT, ENOMEM },
};

/* What a child reports after its call. */
typedef struct ChildResult {
        int setup_error;   /* errno of what failed before the call, 0 when the call was made */
        const char *step;  /* what failed (a string of the test binary, valid in the parent too) */
        int64_t ret;       /* the raw return value (brk: the break it got) */
        int call_errno;    /* errno after the call (0 for brk) */
        int64_t brk_asked; /* brk: the break asked for */
        uint32_t map_count_before, map_count_after;
} ChildResult;

static struct {
        const char *missing;
        BpfCounter *counter;
        BpfHits *hits;
        char *top_dir, *watched_dir, *unwatched_dir;
        uint64_t watched_id;
        uint32_t limit;
        LimitHit seen[256];
        size_t n_seen;
} F;

static size_t page_size(void) {
        return (size_t) sysconf(_SC_PAGESIZE);
}

/* mm->map_count of this process: the lines of /proc/self/maps but the gate area, [vsyscall], which is
 * the last line where there is one. Reads with a static buffer, so that counting makes no mapping.
 * Returns the count or -errno. */
static int64_t count_maps(void) {
        static const char gate[] = "[vsyscall]\n";
        static char buf[64 * 1024];
        _cleanup_close_ int fd = -EBADF;
        char last[sizeof(gate) - 1] = {};
        const size_t k = sizeof(last);
        int64_t lines = 0;

        fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t i = 0; i < n; i++)
                        lines += buf[i] == '\n';
                /* Keep the last K bytes of the file read so far. */
                if ((size_t) n >= k)
                        memcpy(last, buf + n - k, k);
                else {
                        memmove(last, last + n, k - (size_t) n);
                        memcpy(last + k - (size_t) n, buf, (size_t) n);
                }
        }
        return lines - (memcmp(last, gate, k) == 0);
}

/* Maps NPAGES with PROT at an address with a free page on both sides, so that it merges with nothing:
 * exactly one new VMA. Returns the address or NULL (errno set). */
static uint8_t *lonely_map(size_t npages, int prot) {
        size_t ps = page_size(), size = (npages + 2) * ps;
        uint8_t *reserve, *p;

        reserve = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (reserve == MAP_FAILED)
                return NULL;
        if (munmap(reserve, size) < 0)
                return NULL;
        p = mmap(reserve + ps, npages * ps, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

/* Brings this process's map count to exactly TARGET with one lonely PROT_NONE region split page by
 * page: its first page made readable adds one VMA, every other page after it two. Returns 0 or -errno
 * (-ERANGE when already above, -EIO when the count did not come out exact). */
static int fill_to(uint32_t target) {
        size_t ps = page_size();
        int64_t c = count_maps();
        uint64_t more;
        uint8_t *b;

        if (c < 0)
                return (int) c;
        if ((uint64_t) c + 1 > target)
                return -ERANGE;
        more = target - (uint64_t) c - 1; /* after the region itself */
        b = lonely_map(more + 3, PROT_NONE);
        if (!b)
                return -errno;
        if (more % 2 == 1 && mprotect(b, ps, PROT_READ) < 0)
                return -errno;
        for (uint64_t i = 1; i <= more / 2; i++)
                if (mprotect(b + 2 * i * ps, ps, PROT_READ) < 0)
                        return -errno;
        c = count_maps();
        if (c < 0)
                return (int) c;
        return c == (int64_t) target ? 0 : -EIO;
}

#define STEP(res, what, expr) \
        do { \
                int _k = (expr); \
                if (_k < 0) { \
                        (res)->setup_error = -_k; \
                        (res)->step = (what); \
                        return; \
                } \
        } while (0)

/* The scenario in the child, up to and including its call. */
static void child_run(Scenario sc, ChildResult *res) {
        size_t ps = page_size();
        uint32_t L = F.limit, target = L;
        uint8_t *s = NULL;
        long r;

        /* The region the call works on, made before filling (it counts). */
        switch (sc) {
        case SC_MPROTECT:
        case SC_PKEY_MPROTECT:
        case SC_MUNMAP:
        case SC_MLOCK:
        case SC_MSEAL:
        case SC_MPROTECT_3:
        case SC_FLOOD:
                s = lonely_map(3, PROT_NONE);
                break;
        case SC_MADVISE:
                s = lonely_map(3, PROT_READ | PROT_WRITE);
                break;
        case SC_MREMAP:
                /* Three pages that cannot grow in place: a readable page right after them. */
                s = lonely_map(4, PROT_NONE);
                if (s && mprotect(s + 3 * ps, ps, PROT_READ) < 0)
                        s = NULL;
                target = L - 3;
                break;
        case SC_SHORTAGE:
                target = L - LIMIT_HIT_MARGIN - 1;
                break;
        default:
                break;
        }
        if (sc != SC_MMAP && sc != SC_BRK && sc != SC_SHORTAGE)
                STEP(res, "map the region to work on", s ? 0 : -errno);

        STEP(res, "fill the map count", fill_to(target));
        if (sc == SC_MMAP || sc == SC_BRK)
                /* At L a new mapping is still allowed: L+1 is what a process reaches. */
                STEP(res, "map the (L+1)th VMA", lonely_map(1, PROT_READ) ? 0 : -errno);
        if (sc == SC_SHORTAGE) {
                struct rlimit rl = { .rlim_cur = 64ULL << 20, .rlim_max = RLIM_INFINITY };

                /* Far below what the process has reserved already: any new mapping fails. */
                STEP(res, "set RLIMIT_AS", setrlimit(RLIMIT_AS, &rl) < 0 ? -errno : 0);
        }
        res->map_count_before = (uint32_t) count_maps();

        errno = 0;
        switch (sc) {
        case SC_MMAP:
        case SC_SHORTAGE: {
                void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                r = p == MAP_FAILED ? -1 : 0;
                break;
        }
        case SC_MPROTECT:
                r = mprotect(s + ps, ps, PROT_READ);
                break;
        case SC_PKEY_MPROTECT:
                r = syscall(SYS_pkey_mprotect, s + ps, ps, PROT_READ, -1);
                break;
        case SC_MUNMAP:
                r = munmap(s + ps, ps);
                break;
        case SC_MPROTECT_3:
                for (int i = 0; i < 3; i++)
                        (void) mprotect(s + ps, ps, PROT_READ);
                r = munmap(s + ps, ps);
                break;
        case SC_FLOOD: {
                int failed = 0;

                while (failed < FLOOD_CALLS && mprotect(s + ps, ps, PROT_READ) < 0)
                        failed++;
                /* One that did not fail leaves errno 0: the caller says so. */
                r = failed == FLOOD_CALLS ? -1 : 0;
                break;
        }
        case SC_MREMAP: {
                void *p = mremap(s, 3 * ps, 6 * ps, MREMAP_MAYMOVE);
                r = p == MAP_FAILED ? -1 : 0;
                break;
        }
        case SC_MADVISE:
                r = madvise(s + ps, ps, MADV_DONTFORK);
                break;
        case SC_MLOCK:
                /* The system call itself: AddressSanitizer's mlock() returns 0 without calling it. */
                r = syscall(SYS_mlock, s + ps, ps);
                break;
        case SC_MSEAL:
                r = syscall(SYS_MSEAL, s + ps, ps, 0);
                break;
        case SC_BRK: {
                long cur = syscall(SYS_brk, 0);

                res->brk_asked = cur + (1 << 20);
                r = syscall(SYS_brk, res->brk_asked);
                res->ret = r;
                res->map_count_after = (uint32_t) count_maps();
                return;
        }
        default:
                r = 0;
        }
        res->call_errno = r < 0 ? errno : 0;
        res->ret = r < 0 ? -errno : r;
        res->map_count_after = (uint32_t) count_maps();
}

/* Forks a child that joins DIR, names itself and runs the scenario. Returns its pid (reaped) and its
 * result. */
static pid_t run_child(Scenario sc, const char *dir, ChildResult *ret) {
        ChildResult res = {};
        int p[2];
        pid_t pid;
        ssize_t k;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) prctl(PR_SET_NAME, scenarios[sc].comm);
                {
                        int r = testproc_join_cgroup(dir);
                        if (r < 0) {
                                res.setup_error = -r;
                                res.step = "join the cgroup";
                        } else
                                child_run(sc, &res);
                }
                (void) !write(p[1], &res, sizeof(res));
                _exit(EXIT_SUCCESS);
        }
        close(p[1]);
        do
                k = read(p[0], ret, sizeof(*ret));
        while (k < 0 && errno == EINTR);
        close(p[0]);
        (void) waitpid(pid, NULL, 0);
        if (k != sizeof(*ret))
                fail_msg("%s: the child died before it answered", scenarios[sc].comm);
        if (ret->setup_error != 0)
                fail_msg("%s: cannot %s: %s", scenarios[sc].comm, ret->step, strerror(ret->setup_error));
        return pid;
}

static void on_hit(const LimitHit *hit, void *userdata) {
        if (F.n_seen < ELEMENTSOF(F.seen))
                F.seen[F.n_seen++] = *hit;
}

static const LimitHit *seen_pid(pid_t pid) {
        for (size_t i = 0; i < F.n_seen; i++)
                if (F.seen[i].pid == (uint32_t) pid)
                        return &F.seen[i];
        return NULL;
}

/* Drains the ring buffer, waiting for it to be readable, until a hit of PID shows (or the deadline). */
static const LimitHit *wait_hit(pid_t pid) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + HIT_TIMEOUT_USEC;

        for (;;) {
                struct pollfd pfd = { .fd = bpf_hits_fd(F.hits), .events = POLLIN };
                const LimitHit *hit;
                uint64_t bad = 0, now;
                int r;

                r = bpf_hits_drain(F.hits, on_hit, NULL, 0, &bad);
                assert_true(r >= 0);
                assert_int_equal(bad, 0);
                hit = seen_pid(pid);
                now = now_usec(CLOCK_MONOTONIC);
                if (hit || now >= deadline)
                        return hit;
                (void) poll(&pfd, 1, (int) ((deadline - now) / USEC_PER_MSEC) + 1);
        }
}

/* Runs a scenario that must fail at the wall in the watched cgroup, and returns the hit caught. */
static const LimitHit *expect_caught(Scenario sc, ChildResult *ret_res, pid_t *ret_pid) {
        const LimitHit *hit;
        pid_t pid;

        pid = run_child(sc, F.watched_dir, ret_res);
        if (sc == SC_BRK) {
                if (ret_res->ret == ret_res->brk_asked)
                        fail_msg("brk reached %" PRIx64 " at map count %u (limit %u)", ret_res->brk_asked,
                                 ret_res->map_count_before, F.limit);
        } else if (ret_res->call_errno != scenarios[sc].error)
                fail_msg("%s at map count %u (limit %u) returned %" PRId64 " (%s), not %s",
                         scenarios[sc].comm, ret_res->map_count_before, F.limit, ret_res->ret,
                         strerror(ret_res->call_errno), limit_hit_errno_to_string(scenarios[sc].error));

        hit = wait_hit(pid);
        if (!hit)
                fail_msg("%s (pid %d): the failed %s was not caught", scenarios[sc].comm, (int) pid,
                         limit_hit_syscall_to_string(scenarios[sc].syscall));
        assert_string_equal(limit_hit_syscall_to_string(hit->syscall),
                            limit_hit_syscall_to_string(scenarios[sc].syscall));
        assert_int_equal(hit->error, scenarios[sc].error);
        assert_int_equal(hit->map_count, ret_res->map_count_after);
        assert_int_equal(hit->max_map_count, F.limit);
        assert_int_equal(hit->cgroup_id, F.watched_id);
        assert_int_equal(hit->tid, (uint32_t) pid);
        assert_int_equal(hit->evidence, LIMIT_HIT_CAUGHT);
        assert_string_equal(hit->comm, scenarios[sc].comm);
        assert_true(hit->start_time_ns > 0);
        if (ret_pid)
                *ret_pid = pid;
        return hit;
}

static int make_cgroups(void) {
        const char *mount = cgroup2_mount();

        if (asprintf(&F.top_dir, "%s/mapguard-test-hits-%d", mount, (int) getpid()) < 0 ||
            asprintf(&F.watched_dir, "%s/watched", F.top_dir) < 0 ||
            asprintf(&F.unwatched_dir, "%s/unwatched", F.top_dir) < 0)
                return -ENOMEM;
        if (mkdir(F.top_dir, 0755) < 0 || mkdir(F.watched_dir, 0755) < 0 || mkdir(F.unwatched_dir, 0755) < 0)
                return -errno;
        return cgroup_id_from_path(F.watched_dir, &F.watched_id);
}

static int teardown_all(void **state) {
        F.hits = bpf_hits_free(F.hits);
        F.counter = bpf_counter_free(F.counter);
        /* The children were reaped: the cgroups are empty. */
        if (F.watched_dir)
                (void) rmdir(F.watched_dir);
        if (F.unwatched_dir)
                (void) rmdir(F.unwatched_dir);
        if (F.top_dir && rmdir(F.top_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", F.top_dir);
        free(F.watched_dir);
        free(F.unwatched_dir);
        free(F.top_dir);
        F.watched_dir = F.unwatched_dir = F.top_dir = NULL;
        return 0;
}

static int setup_all(void **state) {
        _cleanup_free_ char *reason = NULL, *note = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        static char missing[600];
        unsigned limit = 0;
        int r;

        F.missing = kernel_tests_missing();
        if (F.missing)
                return 0;

        f = fopen("/proc/sys/vm/max_map_count", "re");
        if (!f || fscanf(f, "%u", &limit) != 1)
                return -EIO;
        if (limit > LIMIT_FILL_MAX || limit < 1000) {
                snprintf(missing, sizeof(missing),
                         "vm.max_map_count is %u: filling a process to it is not practical here", limit);
                F.missing = missing;
                return 0;
        }
        F.limit = limit;

        r = bpf_counter_new(&F.counter, &reason);
        if (r < 0) {
                fprintf(stderr, "bpf_counter_new() failed: %s: %s\n", strerror(-r), reason);
                return r;
        }
        r = bpf_counter_take_hits(F.counter, &F.hits, &note);
        if (r == -EPERM || r == -EOPNOTSUPP) {
                snprintf(missing, sizeof(missing), "the limit-hit program is unavailable: %s",
                         note ?: strerror(-r));
                F.missing = missing;
                return 0;
        }
        if (r < 0) {
                fprintf(stderr, "bpf_counter_take_hits() failed: %s: %s\n", strerror(-r), note ?: "");
                return r;
        }
        printf("# catching by %s%s%s\n", bpf_hits_mode_to_string(bpf_hits_mode(F.hits)), note ? ": " : "",
               note ?: "");

        r = make_cgroups();
        if (r < 0)
                goto fail;
        r = bpf_counter_set_cgroups(F.counter, &F.watched_id, 1);
        if (r < 0)
                goto fail;
        r = bpf_hits_set_limit(F.hits, F.limit);
        if (r < 0)
                goto fail;
        r = bpf_hits_set_attached(F.hits, true);
        if (r < 0)
                goto fail;
        return 0;
fail:
        fprintf(stderr, "setup failed: %s\n", strerror(-r));
        (void) teardown_all(state);
        return r;
}

static void require_kernel(void) {
        skip_when_missing(F.missing);
}

static void test_mmap(void **state) {
        ChildResult res;
        const LimitHit *hit;

        require_kernel();
        hit = expect_caught(SC_MMAP, &res, NULL);
        /* mmap fails above the limit only: the process got to L+1 first. */
        assert_int_equal(hit->map_count, F.limit + 1);
}

static void test_mprotect_split(void **state) {
        ChildResult res;

        require_kernel();
        assert_int_equal(expect_caught(SC_MPROTECT, &res, NULL)->map_count, F.limit);
}

static void test_pkey_mprotect_split(void **state) {
        ChildResult res;

        require_kernel();
        assert_int_equal(expect_caught(SC_PKEY_MPROTECT, &res, NULL)->map_count, F.limit);
}

static void test_munmap_hole(void **state) {
        ChildResult res;

        require_kernel();
        assert_int_equal(expect_caught(SC_MUNMAP, &res, NULL)->map_count, F.limit);
}

static void test_mremap_move(void **state) {
        ChildResult res;

        require_kernel();
        /* A move needs room for three more VMAs: it fails at L-3 already. */
        assert_int_equal(expect_caught(SC_MREMAP, &res, NULL)->map_count, F.limit - 3);
}

static void test_madvise_split(void **state) {
        ChildResult res;

        require_kernel();
        assert_int_equal(expect_caught(SC_MADVISE, &res, NULL)->map_count, F.limit);
}

static void test_mlock_split(void **state) {
        ChildResult res;

        require_kernel();
        assert_int_equal(expect_caught(SC_MLOCK, &res, NULL)->map_count, F.limit);
}

static void test_mseal_split(void **state) {
        ChildResult res;
        pid_t pid;

        require_kernel();
        pid = run_child(SC_MSEAL, F.watched_dir, &res);
        if (res.call_errno == ENOSYS) {
                print_message("# the kernel has no mseal() (Linux 6.10+), skipping\n");
                skip();
        }
        (void) pid;
        assert_int_equal(expect_caught(SC_MSEAL, &res, NULL)->map_count, F.limit);
}

static void test_brk(void **state) {
        ChildResult res;

        require_kernel();
        /* brk fails by returning the old break; like mmap, only above the limit. */
        assert_int_equal(expect_caught(SC_BRK, &res, NULL)->map_count, F.limit + 1);
}

/* A call caught after NEGATIVE's call proves that NEGATIVE's record, had there been one, was drained:
 * the ring buffer keeps the order in which records were reserved. */
static void assert_not_caught(pid_t negative, const char *what) {
        ChildResult res;
        pid_t marker;

        (void) expect_caught(SC_MPROTECT, &res, &marker);
        assert_non_null(seen_pid(marker));
        if (seen_pid(negative))
                fail_msg("%s (pid %d) was caught", what, (int) negative);
}

static void test_shortage_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_kernel();
        pid = run_child(SC_SHORTAGE, F.watched_dir, &res);
        /* A real ENOMEM, one VMA more than the margin away from the limit. */
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(res.map_count_before, F.limit - LIMIT_HIT_MARGIN - 1);
        assert_not_caught(pid, "an ENOMEM with headroom");
}

static void test_unwatched_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_kernel();
        pid = run_child(SC_MPROTECT, F.unwatched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_not_caught(pid, "a process in an unwatched cgroup");
}

static void test_detached_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_kernel();
        assert_int_equal(bpf_hits_set_attached(F.hits, false), 0);
        assert_false(bpf_hits_is_attached(F.hits));
        pid = run_child(SC_MPROTECT, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        /* Attaching again is a bpf(2) call: nothing is reloaded. */
        assert_int_equal(bpf_hits_set_attached(F.hits, true), 0);
        assert_true(bpf_hits_is_attached(F.hits));
        assert_int_equal(bpf_hits_set_attached(F.hits, true), 0);
        assert_not_caught(pid, "a call while detached");
}

/* A limit of 0 (none known yet) catches nothing; the program's counters agree with what was read. */
static void test_limit_zero_and_stats(void **state) {
        uint64_t caught = 0, dropped = UINT64_MAX;
        ChildResult res;
        pid_t pid;

        require_kernel();
        assert_int_equal(bpf_hits_set_limit(F.hits, 0), 0);
        pid = run_child(SC_MPROTECT, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(bpf_hits_set_limit(F.hits, F.limit), 0);
        assert_not_caught(pid, "a call while the limit was 0");

        assert_int_equal(bpf_hits_stats(F.hits, &caught, &dropped), 0);
        assert_int_equal(dropped, 0);
        assert_int_equal(caught, F.n_seen);
}

/* Four failed calls drained one at a time: each partial drain leaves the fd readable (the daemon's
 * level-triggered io source fires again) and the records come in the order of the calls. */
static void test_partial_drain_in_order(void **state) {
        static const LimitHitSyscall expected[] = { LIMIT_HIT_SYSCALL_MPROTECT, LIMIT_HIT_SYSCALL_MPROTECT,
                                                    LIMIT_HIT_SYSCALL_MPROTECT, LIMIT_HIT_SYSCALL_MUNMAP };
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + HIT_TIMEOUT_USEC;
        ChildResult res;
        size_t first;
        pid_t pid;

        require_kernel();
        /* Nothing queued from before. */
        assert_true(bpf_hits_drain(F.hits, on_hit, NULL, 0, NULL) >= 0);
        first = F.n_seen;

        pid = run_child(SC_MPROTECT_3, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                struct pollfd pfd = { .fd = bpf_hits_fd(F.hits), .events = POLLIN };

                /* Readable until the last record is consumed (the child's calls were all made before
                 * it answered, so each record is there or being committed). */
                while (poll(&pfd, 1, 0) == 0)
                        if (now_usec(CLOCK_MONOTONIC) > deadline)
                                fail_msg("record %zu of 4 never became readable", i + 1);
                assert_int_equal(bpf_hits_drain(F.hits, on_hit, NULL, 1, NULL), 1);
                assert_int_equal(F.n_seen, first + i + 1);
                assert_int_equal(F.seen[first + i].pid, (uint32_t) pid);
                assert_int_equal(F.seen[first + i].syscall, expected[i]);
                assert_int_equal(F.seen[first + i].map_count, F.limit);
        }
        {
                struct pollfd pfd = { .fd = bpf_hits_fd(F.hits), .events = POLLIN };

                assert_int_equal(poll(&pfd, 1, 0), 0);
                assert_int_equal(bpf_hits_drain(F.hits, on_hit, NULL, 0, NULL), 0);
        }
}

/* The tracepoint ways the loader falls back to, forced: on a kernel with trampolines the tests above
 * ran with fexit, here with the BTF-typed tracepoint program; the untyped one is what remains on
 * kernels that refuse both. Each must catch, with the first argument (brk's) read right. */
static void test_tracepoint_fallbacks(void **state) {
        static const char *const ways[] = { "tp_btf", "raw_tp" };
        BpfCounter *saved_counter = F.counter;
        BpfHits *saved_hits = F.hits;

        require_kernel();
        assert_int_equal(bpf_hits_set_attached(saved_hits, false), 0);
        for (size_t i = 0; i < ELEMENTSOF(ways); i++) {
                _cleanup_free_ char *reason = NULL, *note = NULL;
                BpfCounter *c = NULL;
                BpfHits *h = NULL;
                ChildResult res;
                int r;

                assert_int_equal(setenv(BPF_LOADER_HITS_WAY_ENV, ways[i], 1), 0);
                r = bpf_counter_new(&c, &reason);
                assert_int_equal(unsetenv(BPF_LOADER_HITS_WAY_ENV), 0);
                if (r < 0)
                        fail_msg("bpf_counter_new() with %s: %s", ways[i], reason);
                r = bpf_counter_take_hits(c, &h, &note);
                if (r < 0) {
                        /* A kernel that refuses the typed program falls back to the untyped one. */
                        bpf_counter_free(c);
                        fail_msg("no limit-hit program from %s on: %s", ways[i], note);
                }
                assert_int_equal(bpf_hits_mode(h), BPF_HITS_TRACEPOINT);
                {
                        _cleanup_free_ char *again_note = NULL;
                        BpfHits *again = NULL;

                        /* Handed over once. */
                        assert_int_equal(bpf_counter_take_hits(c, &again, &again_note), -ENOENT);
                        assert_null(again);
                }
                print_message("# %s: %s\n", ways[i], note ?: "taken");
                assert_int_equal(bpf_counter_set_cgroups(c, &F.watched_id, 1), 0);
                assert_int_equal(bpf_hits_set_limit(h, F.limit), 0);
                assert_int_equal(bpf_hits_set_attached(h, true), 0);

                F.counter = c;
                F.hits = h;
                assert_int_equal(expect_caught(SC_MPROTECT, &res, NULL)->map_count, F.limit);
                assert_int_equal(expect_caught(SC_BRK, &res, NULL)->map_count, F.limit + 1);
                F.hits = bpf_hits_free(h);
                bpf_counter_free(c);
                F.counter = saved_counter;
                F.hits = saved_hits;
        }
        assert_int_equal(bpf_hits_set_attached(saved_hits, true), 0);
}

static void count_record(const LimitHit *hit, void *userdata) {
        size_t *n = userdata;

        assert_int_equal(hit->syscall, LIMIT_HIT_SYSCALL_MPROTECT);
        (*n)++;
}

/* A process failing calls in a tight loop while nobody reads: the ring buffer holds what fits (~2,900
 * records), and the program counts every call, as queued or as dropped (what mapguardd says it did not
 * count). */
static void test_flood_counted(void **state) {
        uint64_t caught0, dropped0, caught1, dropped1;
        size_t n = 0;
        ChildResult res;

        require_kernel();
        assert_true(bpf_hits_drain(F.hits, on_hit, NULL, 0, NULL) >= 0);
        assert_int_equal(bpf_hits_stats(F.hits, &caught0, &dropped0), 0);
        (void) run_child(SC_FLOOD, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(res.map_count_after, F.limit);
        assert_int_equal(bpf_hits_stats(F.hits, &caught1, &dropped1), 0);
        print_message("# %d failed calls: %" PRIu64 " queued, %" PRIu64 " dropped\n", FLOOD_CALLS,
                      caught1 - caught0, dropped1 - dropped0);
        assert_true(dropped1 > dropped0);
        assert_int_equal((caught1 - caught0) + (dropped1 - dropped0), FLOOD_CALLS);
        /* What was queued is all there, and nothing more. */
        assert_true(bpf_hits_drain(F.hits, count_record, &n, 0, NULL) >= 0);
        assert_int_equal(n, caught1 - caught0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mmap),
                cmocka_unit_test(test_mprotect_split),
                cmocka_unit_test(test_pkey_mprotect_split),
                cmocka_unit_test(test_munmap_hole),
                cmocka_unit_test(test_mremap_move),
                cmocka_unit_test(test_madvise_split),
                cmocka_unit_test(test_mlock_split),
                cmocka_unit_test(test_mseal_split),
                cmocka_unit_test(test_brk),
                cmocka_unit_test(test_shortage_not_caught),
                cmocka_unit_test(test_unwatched_not_caught),
                cmocka_unit_test(test_detached_not_caught),
                cmocka_unit_test(test_partial_drain_in_order),
                cmocka_unit_test(test_limit_zero_and_stats),
                cmocka_unit_test(test_tracepoint_fallbacks),
                /* Last: it leaves the program's counters off from what the tests before saw. */
                cmocka_unit_test(test_flood_counted),
        };

        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
