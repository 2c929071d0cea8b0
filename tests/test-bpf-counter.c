/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The BPF backend against the real kernel: a throwaway cgroup2 cgroup with children of known
 * mapping counts in it, beside one outside it. Needs root, kernel BTF, a writable cgroup2 and a
 * build with BPF; without them the tests that need them skip, and print why. The expected counts
 * come from /proc/PID/maps, read independently. What loading says without BPF support, capabilities
 * or BTF is in test-bpf-caps.c. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "cgroup.h"
#include "testproc.h"
#include "util.h"

/* Extra VMAs a child makes on top of what exec, libc and its thread stacks give it: well below
 * the default vm.max_map_count (65530), which the test never changes. */
#define VMAS_A 1001
#define VMAS_B 3001
#define VMAS_NESTED 501
#define VMAS_THREADED 201
#define VMAS_LEADER_EXITED 301
#define VMAS_OUTSIDE 701

typedef enum Where {
        IN_CGROUP,
        IN_NESTED,
        OUTSIDE,
} Where;

typedef struct ChildSpec {
        const char *comm;
        const char *reported_comm; /* NULL: comm */
        Where where;
        unsigned extra_vmas;
        unsigned n_threads;
        bool leader_exits; /* the main thread calls pthread_exit(), the other threads live on */
} ChildSpec;

static const ChildSpec child_specs[] = {
        { "mg-bpf-a", NULL, IN_CGROUP, VMAS_A, 0, false },
        /* A name that is not UTF-8 (a character cut in half) is reported made valid. */
        { "mg-bpf-b\xc3\xa9\xc3", "mg-bpf-b\xc3\xa9?", IN_CGROUP, VMAS_B, 0, false },
        { "mg-bpf-nested", NULL, IN_NESTED, VMAS_NESTED, 0, false },
        { "mg-bpf-threads", NULL, IN_CGROUP, VMAS_THREADED, 4, false },
        { "mg-bpf-zombie", NULL, IN_CGROUP, VMAS_LEADER_EXITED, 2, true },
        { "mg-bpf-outside", NULL, OUTSIDE, VMAS_OUTSIDE, 0, false },
};
#define N_CHILDREN ELEMENTSOF(child_specs)

/* What a child sends once its mappings and threads are in place. */
typedef struct ChildReady {
        int error;     /* errno of what failed in the child, 0 when ready */
        pid_t tids[8]; /* its threads other than the main one */
} ChildReady;

typedef struct Child {
        pid_t pid;
        ChildReady ready;
        uint32_t expected_map_count;
} Child;

static struct {
        const char *missing; /* why the kernel tests cannot run here, NULL when they can */
        BpfCounter *counter;
        char *cgroup_dir;
        char *nested_dir;
        uint64_t cgroup_id;
        uint64_t nested_id;
        uint64_t root_id;
        int release_fd; /* write end: closing it makes every child exit */
        Child children[N_CHILDREN];
} F = { .release_fd = -EBADF };

/* Counts the lines of a maps file, less the [vsyscall] gate area, which is no VMA of the process:
 * what mm->map_count must be. Returns the count, or -errno. */
static int64_t maps_file_vma_count(const char *path) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[4096];
        int64_t n = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                size_t len = strlen(line);

                /* Lines are short (a path at most); a longer one would be counted twice. */
                assert_true(len > 0 && line[len - 1] == '\n');
                if (!strstr(line, "[vsyscall]"))
                        n++;
        }
        if (ferror(f))
                return -EIO;
        return n;
}

/* Returns the start time of a process in clock ticks since boot (field 22 of /proc/PID/stat). */
static uint64_t proc_start_ticks(pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], buf[1024], *p;
        unsigned long long ticks;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, sizeof(buf), f));
        /* comm may hold spaces and parentheses: the fields start after the last ')'. */
        p = strrchr(buf, ')');
        assert_non_null(p);
        /* After ")": state is field 3; skip 19 fields to reach field 22. */
        assert_int_equal(sscanf(p + 2,
                                "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                                "%*d %*d %llu",
                                &ticks),
                         1);
        return ticks;
}

static uint64_t now_nsec(clockid_t clock) {
        struct timespec ts;

        assert_int_equal(clock_gettime(clock, &ts), 0);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

typedef struct ChildThread {
        pthread_barrier_t *barrier;
        int release_fd;
        pid_t tid;
} ChildThread;

static void *child_thread(void *userdata) {
        ChildThread *t = userdata;
        char c;

        t->tid = (pid_t) syscall(SYS_gettid);
        (void) pthread_barrier_wait(t->barrier);
        /* Blocks until the test closes its end, then ends the whole process, also when the main
         * thread has gone already. */
        while (read(t->release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static _Noreturn void child_main(const ChildSpec *spec, int ready_fd, int release_fd) {
        ChildThread threads[ELEMENTSOF(((ChildReady *) NULL)->tids)] = {};
        pthread_barrier_t barrier;
        ChildReady ready = {};
        pthread_t thread;
        int r = 0;
        char c;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, spec->comm);

        if (spec->where == IN_CGROUP)
                r = testproc_join_cgroup(F.cgroup_dir);
        else if (spec->where == IN_NESTED)
                r = testproc_join_cgroup(F.nested_dir);
        if (r == 0)
                r = make_vmas(spec->extra_vmas);

        if (r == 0 && spec->n_threads > 0) {
                r = spec->n_threads <= ELEMENTSOF(threads)
                        ? -pthread_barrier_init(&barrier, NULL, spec->n_threads + 1)
                        : -E2BIG;
                for (unsigned i = 0; r == 0 && i < spec->n_threads; i++) {
                        threads[i] = (ChildThread){ .barrier = &barrier, .release_fd = release_fd };
                        r = -pthread_create(&thread, NULL, child_thread, &threads[i]);
                }
                if (r == 0) {
                        (void) pthread_barrier_wait(&barrier);
                        for (unsigned i = 0; i < spec->n_threads; i++)
                                ready.tids[i] = threads[i].tid;
                }
        }

        ready.error = -r;
        if (write(ready_fd, &ready, sizeof(ready)) != sizeof(ready) || r < 0)
                _exit(EXIT_FAILURE);
        close(ready_fd);

        if (spec->leader_exits)
                pthread_exit(NULL);

        while (read(release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static int make_cgroup_dirs(void) {
        const char *mount = cgroup2_mount();
        char name[64];

        assert_non_null(mount);
        snprintf(name, sizeof(name), "mapguard-test-bpf-%d", (int) getpid());
        if (asprintf(&F.cgroup_dir, "%s/%s", mount, name) < 0 ||
            asprintf(&F.nested_dir, "%s/%s/nested", mount, name) < 0)
                return -ENOMEM;
        if (mkdir(F.cgroup_dir, 0755) < 0) {
                int r = -errno;

                fprintf(stderr, "Failed to create cgroup %s: %s\n", F.cgroup_dir, strerror(-r));
                free(F.cgroup_dir);
                F.cgroup_dir = NULL;
                return r;
        }
        if (mkdir(F.nested_dir, 0755) < 0)
                return -errno;

        assert_int_equal(cgroup_id_from_path(mount, &F.root_id), 0);
        assert_int_equal(cgroup_id_from_path(F.cgroup_dir, &F.cgroup_id), 0);
        assert_int_equal(cgroup_id_from_path(F.nested_dir, &F.nested_id), 0);
        return 0;
}

static int spawn_children(void) {
        int release[2];

        if (pipe2(release, O_CLOEXEC) < 0)
                return -errno;
        F.release_fd = release[1];

        for (size_t i = 0; i < N_CHILDREN; i++) {
                int ready[2];
                ssize_t k;
                pid_t pid;

                if (pipe2(ready, O_CLOEXEC) < 0)
                        return -errno;
                pid = fork();
                if (pid < 0)
                        return -errno;
                if (pid == 0) {
                        close(ready[0]);
                        close(release[1]);
                        child_main(&child_specs[i], ready[1], release[0]);
                }
                F.children[i].pid = pid;
                close(ready[1]);
                do
                        k = read(ready[0], &F.children[i].ready, sizeof(ChildReady));
                while (k < 0 && errno == EINTR);
                close(ready[0]);
                if (k != sizeof(ChildReady)) {
                        fprintf(stderr, "child %s died before it was ready\n", child_specs[i].comm);
                        return -ECHILD;
                }
                if (F.children[i].ready.error != 0) {
                        fprintf(stderr, "child %s failed: %s\n", child_specs[i].comm,
                                strerror(F.children[i].ready.error));
                        return -F.children[i].ready.error;
                }
        }
        close(release[0]);
        return 0;
}

/* The leader of a process whose main thread exited stays a zombie until its threads are gone:
 * wait (with a deadline) until the kernel shows it so, then its maps are read through a thread. */
static int wait_leader_zombie(pid_t pid) {
        uint64_t deadline = now_nsec(CLOCK_MONOTONIC) + UINT64_C(10) * 1000000000;
        const struct timespec pause = { .tv_nsec = 1000000 };

        while (testproc_state(pid) != 'Z') {
                if (now_nsec(CLOCK_MONOTONIC) > deadline)
                        return -ETIMEDOUT;
                (void) nanosleep(&pause, NULL);
        }
        return 0;
}

static int compute_expected_counts(void) {
        for (size_t i = 0; i < N_CHILDREN; i++) {
                Child *child = &F.children[i];
                char path[128];
                int64_t n;
                int r;

                if (child_specs[i].leader_exits) {
                        r = wait_leader_zombie(child->pid);
                        if (r < 0)
                                return r;
                        /* The leader's own maps file is empty now: it has no mm. */
                        snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int) child->pid,
                                 (int) child->ready.tids[0]);
                } else
                        snprintf(path, sizeof(path), "/proc/%d/maps", (int) child->pid);

                n = maps_file_vma_count(path);
                if (n < 0)
                        return (int) n;
                /* The mappings made must show; the rest comes from exec, libc and thread stacks. */
                assert_true(n > (int64_t) child_specs[i].extra_vmas);
                child->expected_map_count = (uint32_t) n;
        }
        return 0;
}

static int teardown_all(void **state) {
        F.counter = bpf_counter_free(F.counter);

        /* Closing the release pipe lets every child exit; kill them too, in case one is stuck. */
        if (F.release_fd >= 0) {
                close(F.release_fd);
                F.release_fd = -EBADF;
        }
        for (size_t i = 0; i < N_CHILDREN; i++)
                if (F.children[i].pid > 0) {
                        (void) kill(F.children[i].pid, SIGKILL);
                        (void) waitpid(F.children[i].pid, NULL, 0);
                        F.children[i].pid = 0;
                }

        /* The children are reaped, so the cgroups are empty and can go. */
        if (F.nested_dir && rmdir(F.nested_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", F.nested_dir);
        if (F.cgroup_dir && rmdir(F.cgroup_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", F.cgroup_dir);
        free(F.nested_dir);
        free(F.cgroup_dir);
        F.nested_dir = F.cgroup_dir = NULL;
        return 0;
}

static int setup_all(void **state) {
        _cleanup_free_ char *reason = NULL;
        int r;

        F.missing = kernel_tests_missing();
        if (F.missing)
                return 0;

        r = bpf_counter_new(&F.counter, &reason);
        if (r < 0) {
                fprintf(stderr, "bpf_counter_new() failed: %s: %s\n", strerror(-r), reason);
                return r;
        }
        r = make_cgroup_dirs();
        if (r < 0)
                goto fail;
        r = spawn_children();
        if (r < 0)
                goto fail;
        r = compute_expected_counts();
        if (r < 0)
                goto fail;
        return 0;

fail:
        (void) teardown_all(state);
        return r;
}

/* Skips the calling test when the host cannot run the kernel tests, saying why. */
static void require_kernel(void) {
        skip_when_missing(F.missing);
}

static const BpfTaskCount *find_pid(const BpfTaskCount *tasks, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (tasks[i].pid == (uint32_t) pid)
                        return &tasks[i];
        return NULL;
}

/* Scans and checks that exactly the children in `wanted` are reported, each with its own map
 * count, comm and start time and with the cgroup id `expected_id` returns for it. */
static void check_scan(bool (*wanted)(size_t i), uint64_t (*expected_id)(size_t i)) {
        _cleanup_free_ BpfTaskCount *tasks = NULL;
        size_t n = SIZE_MAX, n_wanted = 0;
        long ticks_per_sec = sysconf(_SC_CLK_TCK);

        int r;

        r = bpf_counter_scan(F.counter, &tasks, &n);
        assert_true(r >= 0);
        assert_int_equal((size_t) r, n);

        for (size_t i = 0; i < N_CHILDREN; i++) {
                const Child *child = &F.children[i];
                const BpfTaskCount *t = find_pid(tasks, n, child->pid);

                if (!wanted(i)) {
                        if (t)
                                fail_msg("%s (pid %d) reported but not watched", child_specs[i].comm,
                                         (int) child->pid);
                        continue;
                }
                n_wanted++;
                if (!t)
                        fail_msg("%s (pid %d) not reported", child_specs[i].comm, (int) child->pid);

                assert_int_equal(t->map_count, child->expected_map_count);
                assert_int_equal(t->cgroup_id, expected_id(i));
                assert_string_equal(t->comm, child_specs[i].reported_comm ?: child_specs[i].comm);
                /* The start time in ns against /proc's in clock ticks, both since boot. */
                assert_true(t->start_time_ns / (UINT64_C(1000000000) / ticks_per_sec) <=
                            proc_start_ticks(child->pid) + 1);
                assert_true(t->start_time_ns / (UINT64_C(1000000000) / ticks_per_sec) + 1 >=
                            proc_start_ticks(child->pid));

                /* Threads share the mm: none of them is reported on its own. */
                for (size_t j = 0; j < ELEMENTSOF(child->ready.tids) && child->ready.tids[j] > 0; j++)
                        assert_null(find_pid(tasks, n, child->ready.tids[j]));
        }
        /* Nothing else: not the test itself, not any other process on the host. */
        assert_int_equal(n, n_wanted);
        for (size_t i = 1; i < n; i++)
                assert_true(tasks[i - 1].pid < tasks[i].pid);
}

static bool wanted_in_cgroup(size_t i) {
        return child_specs[i].where != OUTSIDE;
}

static bool wanted_nested_only(size_t i) {
        return child_specs[i].where == IN_NESTED;
}

static uint64_t id_cgroup(size_t i) {
        return F.cgroup_id;
}

static uint64_t id_nearest(size_t i) {
        return child_specs[i].where == IN_NESTED ? F.nested_id : F.cgroup_id;
}

static void test_scan_reports_watched_processes(void **state) {
        require_kernel();

        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.cgroup_id, 1), 0);
        /* The nested cgroup is not watched itself: its child matches the watched parent. */
        check_scan(wanted_in_cgroup, id_cgroup);
}

static void test_scan_reports_nearest_watched_cgroup(void **state) {
        uint64_t both[] = { F.nested_id, F.cgroup_id, F.nested_id };

        require_kernel();

        assert_int_equal(bpf_counter_set_cgroups(F.counter, both, ELEMENTSOF(both)), 0);
        check_scan(wanted_in_cgroup, id_nearest);

        /* Replacing the set drops the parent. */
        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.nested_id, 1), 0);
        check_scan(wanted_nested_only, id_nearest);
}

static void test_empty_set_reports_nothing(void **state) {
        _cleanup_free_ BpfTaskCount *tasks = NULL;
        _cleanup_free_ char *reason = NULL;
        BpfCounter *fresh = NULL;
        size_t n = SIZE_MAX;

        require_kernel();

        /* A new counter watches nothing. */
        assert_int_equal(bpf_counter_new(&fresh, &reason), 0);
        assert_null(reason);
        assert_int_equal(bpf_counter_scan(fresh, &tasks, &n), 0);
        assert_null(tasks);
        assert_int_equal(n, 0);
        fresh = bpf_counter_free(fresh);
        assert_null(fresh);

        /* Emptying a set that had ids. */
        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.root_id, 1), 0);
        assert_int_equal(bpf_counter_set_cgroups(F.counter, NULL, 0), 0);
        n = SIZE_MAX;
        assert_int_equal(bpf_counter_scan(F.counter, &tasks, &n), 0);
        assert_null(tasks);
        assert_int_equal(n, 0);
}

static void test_set_cgroups_rejects_bad_ids(void **state) {
        uint64_t with_zero[] = { F.cgroup_id, 0 };

        require_kernel();

        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.cgroup_id, 1), 0);
        assert_int_equal(bpf_counter_set_cgroups(F.counter, with_zero, ELEMENTSOF(with_zero)), -EINVAL);
        assert_int_equal(bpf_counter_set_cgroups(F.counter, NULL, 1), -EINVAL);
        assert_int_equal(bpf_counter_set_cgroups(NULL, &F.cgroup_id, 1), -EINVAL);
        /* A refused set leaves the previous one in force. */
        check_scan(wanted_in_cgroup, id_cgroup);
}

/* Watching the root cgroup reports every process on the host: ours among them, each once. Also
 * measures a pass over all tasks (printed as a TAP diagnostic, not asserted: it depends on the
 * host). */
static void test_scan_root_reports_every_process(void **state) {
        _cleanup_free_ BpfTaskCount *tasks = NULL;
        size_t n = 0;
        uint64_t start, elapsed_root, elapsed_filtered;
        unsigned n_tasks = 0;
        const int iterations = 200;
        int r;

        require_kernel();

        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.root_id, 1), 0);
        r = bpf_counter_scan(F.counter, &tasks, &n);
        assert_true(r > 0);
        assert_int_equal((size_t) r, n);
        assert_non_null(find_pid(tasks, n, getpid()));
        for (size_t i = 0; i < N_CHILDREN; i++) {
                const BpfTaskCount *t = find_pid(tasks, n, F.children[i].pid);

                assert_non_null(t);
                assert_int_equal(t->map_count, F.children[i].expected_map_count);
                assert_int_equal(t->cgroup_id, F.root_id);
        }
        for (size_t i = 1; i < n; i++)
                assert_true(tasks[i - 1].pid < tasks[i].pid);

        /* Count the tasks (threads) the iterator visits, to put the cost per task. */
        {
                _cleanup_fclose_ FILE *f = fopen("/proc/loadavg", "re");
                unsigned running;

                assert_non_null(f);
                assert_int_equal(fscanf(f, "%*s %*s %*s %u/%u", &running, &n_tasks), 2);
        }

        start = now_nsec(CLOCK_MONOTONIC);
        for (int i = 0; i < iterations; i++) {
                free(tasks);
                tasks = NULL;
                assert_true(bpf_counter_scan(F.counter, &tasks, &n) > 0);
        }
        elapsed_root = (now_nsec(CLOCK_MONOTONIC) - start) / iterations;

        assert_int_equal(bpf_counter_set_cgroups(F.counter, &F.cgroup_id, 1), 0);
        start = now_nsec(CLOCK_MONOTONIC);
        for (int i = 0; i < iterations; i++) {
                free(tasks);
                tasks = NULL;
                assert_true(bpf_counter_scan(F.counter, &tasks, &n) > 0);
        }
        elapsed_filtered = (now_nsec(CLOCK_MONOTONIC) - start) / iterations;

        printf("# one pass over %u tasks: %" PRIu64 " us reporting all %zu processes (%" PRIu64 " ns/task), "
               "%" PRIu64 " us reporting the %zu watched ones (%" PRIu64 " ns/task)\n",
               n_tasks, elapsed_root / 1000, (size_t) r, elapsed_root / (n_tasks ?: 1),
               elapsed_filtered / 1000, n, elapsed_filtered / (n_tasks ?: 1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_set_reports_nothing),
                cmocka_unit_test(test_scan_reports_watched_processes),
                cmocka_unit_test(test_scan_reports_nearest_watched_cgroup),
                cmocka_unit_test(test_set_cgroups_rejects_bad_ids),
                cmocka_unit_test(test_scan_root_reports_every_process),
        };

        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
