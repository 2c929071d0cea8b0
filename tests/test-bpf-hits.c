/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The limit-hit program against the real kernel, in each mode the loader offers (bpf-hits.h: fexit, the
 * syscalls' exit tracepoints, the raw sys_exit tracepoint typed and untyped), forced one after the other
 * with $MAPGUARD_BPF_HITS_WAY; a mode the kernel or the host refuses skips, saying why. Forked children
 * in a throwaway cgroup2 cgroup fill their own map count to the live vm.max_map_count (never changed: it
 * is global) and then make one mapping call that fails at the wall; each must be caught, with the right
 * syscall name, errno, map count, limit, cgroup, pid and comm. An ENOMEM with headroom (under a small
 * RLIMIT_AS), a call at the wall from an unwatched cgroup, a 32-bit call (whose number is another
 * table's), and one made while disarmed must not be; arming again catches again, what was queued before
 * disarming is still read, and arming and disarming 100 times leaves no fd or process behind. Needs
 * root, kernel BTF, a writable cgroup2 and a build with BPF; without them it skips, and says why. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "bpf-hits.h"
#include "cgroup.h"
#include "hit-child.h"
#include "limit-hit.h"
#include "loader.h"
#include "testproc.h"
#include "util.h"

/* Filling a process to a limit this high takes too long (and ~300 bytes of kernel memory per VMA). */
#define LIMIT_FILL_MAX 1100000U
/* How long a caught call may take to show in the ring buffer. */
#define HIT_TIMEOUT_USEC (5 * USEC_PER_SEC)

/* One mode to run the tests in. */
typedef struct ModeRun {
        const char *name;  /* in the test names */
        const char *way;   /* $MAPGUARD_BPF_HITS_WAY; NULL: the loader's own choice, the best mode */
        BpfHitsMode mode;  /* what the way must give (ignored when way is NULL) */
        char missing[700]; /* why the mode cannot run here; "" when it can */
        char failed[700];  /* why loading it failed (mapguard's fault: the tests fail); "" when it did not */
        bool loaded;
        bool told; /* missing was printed */
} ModeRun;

static ModeRun runs[] = {
        { .name = "fexit", .way = "fexit", .mode = BPF_HITS_FEXIT },
        { .name = "tracepoint", .way = "tracepoint", .mode = BPF_HITS_TRACEPOINT },
        { .name = "sys_exit", .way = "tp_btf", .mode = BPF_HITS_SYS_EXIT },
        { .name = "sys_exit untyped", .way = "raw_tp", .mode = BPF_HITS_SYS_EXIT },
};
static ModeRun best_run = { .name = "best" };

static struct {
        const char *missing;
        ModeRun *run; /* whose counter and hits these are */
        BpfCounter *counter;
        BpfHits *hits;
        char *top_dir, *watched_dir, *unwatched_dir;
        uint64_t watched_id;
        uint32_t limit;
        LimitHit seen[256];
        size_t n_seen;
} F;

static pid_t run_child_held(Scenario sc, const char *dir, ChildResult *ret, void (*before_call)(void)) {
        return hit_child_run(sc, dir, F.limit, ret, before_call);
}

static pid_t run_child(Scenario sc, const char *dir, ChildResult *ret) {
        return hit_child_run(sc, dir, F.limit, ret, NULL);
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

/* Frees the counter and hits of the mode loaded last. */
static void mode_unload(void) {
        F.hits = bpf_hits_free(F.hits);
        F.counter = bpf_counter_free(F.counter);
        F.run = NULL;
        F.n_seen = 0;
}

/* Loads M's mode into F.counter and F.hits, watching the watched cgroup at the live limit, armed. A mode
 * the host refuses (the loader fell back to a lesser one, or has none) sets M->missing; any other
 * failure sets M->failed. */
static void mode_load(ModeRun *m) {
        _cleanup_free_ char *reason = NULL, *note = NULL;
        int r;

        m->loaded = true;
        if (m->way)
                assert_int_equal(setenv(BPF_LOADER_HITS_WAY_ENV, m->way, 1), 0);
        r = bpf_counter_new(&F.counter, &reason);
        assert_int_equal(unsetenv(BPF_LOADER_HITS_WAY_ENV), 0);
        if (r < 0) {
                snprintf(m->failed, sizeof(m->failed), "bpf_counter_new(): %s", reason ?: strerror(-r));
                return;
        }
        r = bpf_counter_take_hits(F.counter, &F.hits, &note);
        if (r == -EPERM || r == -EOPNOTSUPP) {
                snprintf(m->missing, sizeof(m->missing), "the limit-hit program is unavailable: %s",
                         note ?: strerror(-r));
                return;
        }
        if (r < 0) {
                snprintf(m->failed, sizeof(m->failed), "bpf_counter_take_hits(): %s", note ?: strerror(-r));
                return;
        }
        if (m->way && bpf_hits_mode(F.hits) != m->mode) {
                snprintf(m->missing, sizeof(m->missing), "refused here, the loader fell back to %s: %s",
                         bpf_hits_mode_to_string(bpf_hits_mode(F.hits)), bpf_hits_mode_reason(F.hits));
                return;
        }
        print_message("# %s: mode %s: %s\n", m->name, bpf_hits_mode_to_string(bpf_hits_mode(F.hits)),
                      bpf_hits_mode_reason(F.hits));
        r = bpf_counter_set_cgroups(F.counter, &F.watched_id, 1);
        if (r >= 0)
                r = bpf_hits_set_limit(F.hits, F.limit);
        if (r >= 0)
                r = bpf_hits_arm(F.hits, true);
        if (r < 0)
                snprintf(m->failed, sizeof(m->failed), "cannot set the program up: %s", strerror(-r));
}

/* Each test's setup: the test's mode is loaded (once: the tests of a mode run one after the other) and
 * armed, whatever the test before left. */
static int mode_enter(void **state) {
        ModeRun *m = *state;

        if (F.missing)
                return 0;
        if (F.run != m) {
                mode_unload();
                F.run = m;
                if (!m->loaded)
                        mode_load(m);
        }
        if (F.hits && !m->missing[0] && !m->failed[0]) {
                int r = bpf_hits_arm(F.hits, true);

                if (r < 0)
                        snprintf(m->failed, sizeof(m->failed), "cannot arm: %s", strerror(-r));
        }
        return 0;
}

/* Skips the calling test when its mode cannot run here, and fails it when the mode failed to load. */
static void require_mode(void **state) {
        ModeRun *m = *state;

        skip_when_missing(F.missing);
        if (m->missing[0]) {
                print_message("# %s: %s, skipping\n", m->name,
                              m->told ? "not here (see above)" : m->missing);
                m->told = true;
                skip();
        }
        if (m->failed[0])
                fail_msg("%s: %s", m->name, m->failed);
        assert_non_null(F.hits);
}

static int teardown_all(void **state) {
        mode_unload();
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

        r = make_cgroups();
        if (r < 0) {
                fprintf(stderr, "setup failed: %s\n", strerror(-r));
                (void) teardown_all(state);
        }
        return r;
}

static void test_mmap(void **state) {
        ChildResult res;
        const LimitHit *hit;

        require_mode(state);
        hit = expect_caught(SC_MMAP, &res, NULL);
        /* mmap fails above the limit only: the process got to L+1 first. */
        assert_int_equal(hit->map_count, F.limit + 1);
}

static void test_mprotect_split(void **state) {
        ChildResult res;

        require_mode(state);
        assert_int_equal(expect_caught(SC_MPROTECT, &res, NULL)->map_count, F.limit);
}

static void test_pkey_mprotect_split(void **state) {
        ChildResult res;

        require_mode(state);
        assert_int_equal(expect_caught(SC_PKEY_MPROTECT, &res, NULL)->map_count, F.limit);
}

static void test_munmap_hole(void **state) {
        ChildResult res;

        require_mode(state);
        assert_int_equal(expect_caught(SC_MUNMAP, &res, NULL)->map_count, F.limit);
}

static void test_mremap_move(void **state) {
        ChildResult res;

        require_mode(state);
        /* A move needs room for three more VMAs: it fails at L-3 already. */
        assert_int_equal(expect_caught(SC_MREMAP, &res, NULL)->map_count, F.limit - 3);
}

static void test_madvise_split(void **state) {
        ChildResult res;

        require_mode(state);
        assert_int_equal(expect_caught(SC_MADVISE, &res, NULL)->map_count, F.limit);
}

static void test_mlock_split(void **state) {
        ChildResult res;

        require_mode(state);
        assert_int_equal(expect_caught(SC_MLOCK, &res, NULL)->map_count, F.limit);
}

static void test_mseal_split(void **state) {
        ChildResult res;

        require_mode(state);
        (void) run_child(SC_MSEAL, F.watched_dir, &res);
        if (res.call_errno == ENOSYS) {
                print_message("# the kernel has no mseal() (Linux 6.10+), skipping\n");
                skip();
        }
        assert_int_equal(expect_caught(SC_MSEAL, &res, NULL)->map_count, F.limit);
}

static void test_brk(void **state) {
        ChildResult res;

        require_mode(state);
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
                fail_msg("%s (pid %d) was caught, as %s", what, (int) negative,
                         limit_hit_syscall_to_string(seen_pid(negative)->syscall));
}

static void test_shortage_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_mode(state);
        pid = run_child(SC_SHORTAGE, F.watched_dir, &res);
        /* A real ENOMEM, one VMA more than the margin away from the limit. */
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(res.map_count_before, F.limit - LIMIT_HIT_MARGIN - 1);
        assert_not_caught(pid, "an ENOMEM with headroom");
}

static void test_unwatched_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_mode(state);
        pid = run_child(SC_MPROTECT, F.unwatched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_not_caught(pid, "a process in an unwatched cgroup");
}

/* A 32-bit call's number is one of the 32-bit table: 150 is mlock there and munlock in the 64-bit one.
 * No mode may name it after the wrong table; none catches it (the syscall events leave 32-bit calls
 * out, fexit hooks the 64-bit entry points, the sys_exit program skips them). */
static void test_ia32_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_mode(state);
        pid = run_child(SC_IA32_MLOCK, F.watched_dir, &res);
        if (res.call_errno == ENOSYS) {
                print_message("# no 32-bit system calls here (x86-64 with IA32 emulation only), skipping\n");
                skip();
        }
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(res.map_count_after, F.limit);
        assert_not_caught(pid, "a 32-bit mlock");
}

static void disarm(void) {
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
}

/* Disarmed, a call at the wall is not caught, from the moment bpf_hits_arm() returns: the call is made
 * right after it, while in the tracepoint mode the kernel is still releasing the events (and still runs
 * the program). Armed again, calls are caught again. An always-armed mode (fexit) stays armed and
 * catches throughout. */
static void test_disarmed_not_caught(void **state) {
        ChildResult res;
        pid_t pid;

        require_mode(state);
        if (bpf_hits_always_armed(F.hits)) {
                disarm();
                assert_true(bpf_hits_armed(F.hits));
                (void) expect_caught(SC_MPROTECT, &res, NULL);
                return;
        }
        pid = run_child_held(SC_MPROTECT, F.watched_dir, &res, disarm);
        assert_false(bpf_hits_armed(F.hits));
        assert_int_equal(res.call_errno, ENOMEM);
        /* Arming again is a few bpf(2) (and perf_event_open()) calls: nothing is reloaded. */
        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
        assert_true(bpf_hits_armed(F.hits));
        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
        assert_not_caught(pid, "a call while disarmed");
}

/* What the program queued while armed is read after disarming: disarming detaches the programs, not the
 * ring buffer. */
static void test_disarm_keeps_queued(void **state) {
        ChildResult res;
        pid_t pid;

        require_mode(state);
        assert_true(bpf_hits_drain(F.hits, on_hit, NULL, 0, NULL) >= 0);
        pid = run_child(SC_MPROTECT, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
        assert_int_equal(bpf_hits_wait_released(F.hits), 0);
        if (!wait_hit(pid))
                fail_msg("the hit queued before disarming was lost");
        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
}

/* The fds of this process, counted in /proc/self/fd. */
static int count_fds(void) {
        _cleanup_(closedirp) DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

/* Arming and disarming 100 times leaves no fd open and no child behind (tracepoint mode forks one to
 * release each disarmed attachment), and the program still catches. */
static void test_arm_disarm_no_leak(void **state) {
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        ChildResult res;
        int before;

        require_mode(state);
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
        assert_int_equal(bpf_hits_wait_released(F.hits), 0);
        before = count_fds();
        for (int i = 0; i < 100; i++) {
                assert_int_equal(bpf_hits_arm(F.hits, true), 0);
                assert_true(bpf_hits_armed(F.hits));
                assert_int_equal(bpf_hits_arm(F.hits, false), 0);
                assert_int_equal(bpf_hits_armed(F.hits), bpf_hits_always_armed(F.hits));
        }
        assert_int_equal(bpf_hits_wait_released(F.hits), 0);
        print_message("# 100 arm/disarm cycles in %" PRIu64 " ms\n",
                      (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_MSEC);
        assert_int_equal(count_fds(), before);
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);

        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
        assert_int_equal(expect_caught(SC_MPROTECT, &res, NULL)->map_count, F.limit);
}

/* Our only child's pid (a releaser: the tests reap their children), or 0 when there is none. */
static pid_t only_child(void) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64];
        int pid = 0;

        snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int) getpid());
        f = fopen(path, "re");
        assert_non_null(f);
        return fscanf(f, "%d", &pid) == 1 ? pid : 0;
}

/* The child that releases a disarmed tracepoint attachment is reaped by the next bpf_hits_arm(), either
 * way: it is not left a zombie until the mode is armed again. The other modes fork none. */
static void test_releaser_reaped(void **state) {
        siginfo_t info = {};
        pid_t pid;

        require_mode(state);
        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
        assert_int_equal(bpf_hits_wait_released(F.hits), 0);
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
        pid = only_child();
        if (bpf_hits_mode(F.hits) != BPF_HITS_TRACEPOINT) {
                assert_int_equal(pid, 0);
                assert_int_equal(bpf_hits_arm(F.hits, true), 0);
                return;
        }
        assert_true(pid > 0);
        /* Until it is done, leaving it to be reaped. */
        assert_int_equal(waitid(P_PID, (id_t) pid, &info, WEXITED | WNOWAIT), 0);
        assert_int_equal(testproc_state(pid), 'Z');
        assert_int_equal(bpf_hits_arm(F.hits, false), 0);
        assert_int_equal(only_child(), 0);
        assert_int_equal(bpf_hits_arm(F.hits, true), 0);
}

/* A limit of 0 (none known yet) catches nothing; the program's counters agree with what was read. */
static void test_limit_zero_and_stats(void **state) {
        uint64_t caught0 = 0, caught = 0, dropped = UINT64_MAX;
        size_t seen0;
        ChildResult res;
        pid_t pid;

        require_mode(state);
        assert_true(bpf_hits_drain(F.hits, on_hit, NULL, 0, NULL) >= 0);
        assert_int_equal(bpf_hits_stats(F.hits, &caught0, NULL), 0);
        seen0 = F.n_seen;
        assert_int_equal(bpf_hits_set_limit(F.hits, 0), 0);
        pid = run_child(SC_MPROTECT, F.watched_dir, &res);
        assert_int_equal(res.call_errno, ENOMEM);
        assert_int_equal(bpf_hits_set_limit(F.hits, F.limit), 0);
        assert_not_caught(pid, "a call while the limit was 0");

        assert_int_equal(bpf_hits_stats(F.hits, &caught, &dropped), 0);
        assert_int_equal(dropped, 0);
        assert_int_equal(caught - caught0, F.n_seen - seen0);
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

        require_mode(state);
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

        require_mode(state);
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

#define MODE_TEST(f) \
        { #f, f }

/* The tests run in every mode. */
static const struct {
        const char *name;
        CMUnitTestFunction f;
} mode_tests[] = {
        MODE_TEST(test_mmap),
        MODE_TEST(test_mprotect_split),
        MODE_TEST(test_pkey_mprotect_split),
        MODE_TEST(test_munmap_hole),
        MODE_TEST(test_mremap_move),
        MODE_TEST(test_madvise_split),
        MODE_TEST(test_mlock_split),
        MODE_TEST(test_mseal_split),
        MODE_TEST(test_brk),
        MODE_TEST(test_shortage_not_caught),
        MODE_TEST(test_unwatched_not_caught),
        MODE_TEST(test_ia32_not_caught),
        MODE_TEST(test_disarmed_not_caught),
        MODE_TEST(test_disarm_keeps_queued),
        MODE_TEST(test_arm_disarm_no_leak),
        MODE_TEST(test_releaser_reaped),
        MODE_TEST(test_partial_drain_in_order),
        MODE_TEST(test_limit_zero_and_stats),
};

int main(void) {
        static struct CMUnitTest tests[ELEMENTSOF(runs) * ELEMENTSOF(mode_tests) + 1];
        static char names[ELEMENTSOF(tests)][64];
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(runs); i++)
                for (size_t j = 0; j < ELEMENTSOF(mode_tests); j++) {
                        snprintf(names[n], sizeof(names[n]), "%s: %s", runs[i].name, mode_tests[j].name);
                        tests[n] = (struct CMUnitTest){
                                .name = names[n],
                                .test_func = mode_tests[j].f,
                                .setup_func = mode_enter,
                                .initial_state = &runs[i],
                        };
                        n++;
                }
        /* Last, in the mode the loader picks: it leaves the program's counters off from what the tests
         * before saw. */
        tests[n++] = (struct CMUnitTest){
                .name = "test_flood_counted",
                .test_func = test_flood_counted,
                .setup_func = mode_enter,
                .initial_state = &best_run,
        };

        return _cmocka_run_group_tests("tests", tests, n, setup_all, teardown_all);
}
