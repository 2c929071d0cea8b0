/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: proc_count_maps() against real processes with a known number of mappings.
 *
 * A forked child creates exactly N extra VMAs -- a MAP_SHARED anonymous region of N pages, every
 * other page mprotect()ed, so that it splits into N VMAs that cannot merge with each other (other
 * protection) nor with a neighbour (each shared anonymous mapping is its own shmem file) -- then
 * reports its own baseline over a pipe and waits. The expectation is the baseline the child measured
 * the same way just before, plus N, and independently the stdio line count of the maps file minus
 * the gate line. A multi-threaded child shows that the count is per process: every thread sees the
 * same mm, and the threads add only their stacks. Where the kernel has PROCMAP_QUERY (6.11+), the
 * VMAs are also counted one by one through it, a count that does not parse text at all.
 * vm.max_map_count is read, never changed. */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "max-map-count.h"
#include "procfs.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define THREADS 50

/* PROCMAP_QUERY from <linux/fs.h> of Linux 6.11; Debian 12's headers predate it. */
struct procmap_query {
        uint64_t size;
        uint64_t query_flags;
        uint64_t query_addr;
        uint64_t vma_start;
        uint64_t vma_end;
        uint64_t vma_flags;
        uint64_t vma_page_size;
        uint64_t vma_offset;
        uint64_t inode;
        uint32_t dev_major;
        uint32_t dev_minor;
        uint32_t vma_name_size;
        uint32_t build_id_size;
        uint64_t vma_name_addr;
        uint64_t build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10

typedef struct Report {
        int error;         /* 0, or -errno of what failed in the child */
        unsigned baseline; /* proc_count_maps() of itself before creating anything */
        unsigned self;     /* ... and after */
} Report;

typedef struct Child {
        pid_t pid;
        int release_fd; /* closing it lets the child exit */
        Report report;
} Child;

static void child_report_and_wait(int ready_fd, int release_fd, const Report *r) {
        char c;

        if (write(ready_fd, r, sizeof(*r)) != (ssize_t) sizeof(*r))
                _exit(3);
        close(ready_fd);
        /* Block until the parent closes its end: EOF. */
        while (read(release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
}

/* Creates exactly N extra VMAs in the calling process; returns 0 or -errno. */
static int make_vmas(unsigned n) {
        long page = sysconf(_SC_PAGESIZE);
        char *p;

        if (n == 0)
                return 0;
        p = mmap(NULL, (size_t) n * (size_t) page, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -errno;
        for (unsigned i = 1; i < n; i += 2)
                if (mprotect(p + (size_t) i * (size_t) page, (size_t) page, PROT_READ) < 0)
                        return -errno;
        return 0;
}

typedef struct ThreadArgs {
        pthread_barrier_t *started;
        int release_fd;
} ThreadArgs;

static void *thread_wait(void *userdata) {
        ThreadArgs *a = userdata;
        char c;

        /* Past this point the thread runs no startup code of the C library or a sanitizer that could
         * still map memory; the count the child reports is then the count the parent will see. */
        (void) pthread_barrier_wait(a->started);
        while (read(a->release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        return NULL;
}

/* Forks a child that creates N VMAs (and THREADS threads if WITH_THREADS) and waits for release. */
static void child_start(unsigned n, bool with_threads, Child *ret) {
        int ready[2], release[2];
        ssize_t l;
        pid_t pid;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(release, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                Report r = {};
                unsigned warmup;

                close(ready[0]);
                close(release[1]);
                /* Warm-up: the first call may set up the heap the reader's buffer comes from. */
                r.error = proc_count_maps(NULL, getpid(), &warmup);
                if (r.error >= 0)
                        r.error = proc_count_maps(NULL, getpid(), &r.baseline);
                if (r.error >= 0)
                        r.error = make_vmas(n);
                if (r.error >= 0 && with_threads) {
                        static pthread_barrier_t started;
                        static ThreadArgs args;

                        r.error = -pthread_barrier_init(&started, NULL, THREADS + 1);
                        args = (ThreadArgs){ .started = &started, .release_fd = release[0] };
                        for (unsigned i = 0; r.error >= 0 && i < THREADS; i++) {
                                pthread_t t;
                                int k = pthread_create(&t, NULL, thread_wait, &args);
                                if (k != 0)
                                        r.error = -k;
                        }
                        if (r.error >= 0)
                                (void) pthread_barrier_wait(&started);
                }
                if (r.error >= 0)
                        r.error = proc_count_maps(NULL, getpid(), &r.self);
                child_report_and_wait(ready[1], release[0], &r);
        }
        close(ready[1]);
        close(release[0]);
        do
                l = read(ready[0], &ret->report, sizeof(ret->report));
        while (l < 0 && errno == EINTR);
        close(ready[0]);
        assert_int_equal(l, sizeof(ret->report));
        assert_int_equal(ret->report.error, 0);
        ret->pid = pid;
        ret->release_fd = release[1];
}

static void child_stop(Child *c) {
        int status;

        close(c->release_fd);
        assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* The independent count: stdio, line by line, minus a last line naming [vsyscall]. */
static unsigned count_lines_minus_gate(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        unsigned n = 0;
        bool gate = false;

        assert_non_null(f);
        while (getline(&line, &allocated, f) > 0) {
                n++;
                gate = strstr(line, " [vsyscall]") != NULL;
        }
        return n - gate;
}

/* Walks the VMAs of PID with PROCMAP_QUERY (the gate area is not a VMA of the mm, so it is not
 * found). Returns the count, or -errno: -ENOTTY/-EINVAL where the kernel lacks the ioctl. */
static int64_t count_procmap_query(pid_t pid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t addr = 0;
        int64_t n = 0;

        assert_true(asprintf(&path, "/proc/%d/maps", (int) pid) > 0);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (;;) {
                struct procmap_query q = {
                        .size = sizeof(q),
                        .query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
                        .query_addr = addr,
                };
                if (ioctl(fd, PROCMAP_QUERY, &q) < 0) {
                        if (errno == ENOENT)
                                return n;
                        return -errno;
                }
                n++;
                addr = q.vma_end;
        }
}

static void check_procmap_query(pid_t pid, unsigned expected) {
        int64_t n = count_procmap_query(pid);

        if (n == -ENOTTY || n == -EINVAL) {
                print_message("# no PROCMAP_QUERY in this kernel: that cross-check left out\n");
                return;
        }
        assert_true(n >= 0);
        assert_int_equal(n, expected);
}

static unsigned maps_wc(pid_t pid) {
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "/proc/%d/maps", (int) pid) > 0);
        return count_lines_minus_gate(path);
}

static void check_n(unsigned n) {
        unsigned max = 0, count = 0;
        Child c;

        assert_int_equal(max_map_count_read_live(NULL, &max), 0);
        /* Stay well below the limit: the child's own baseline and the test's slack come on top. */
        if ((uint64_t) n + 2000 >= max) {
                print_message("# vm.max_map_count is %u here, too low for %u extra VMAs, skipping\n", max,
                              n);
                skip();
        }

        child_start(n, false, &c);
        assert_int_equal(proc_count_maps(NULL, c.pid, &count), 0);
        print_message("# N=%u: baseline %u, counted %u, the child itself %u\n", n, c.report.baseline, count,
                      c.report.self);
        assert_int_equal(count, c.report.baseline + n);
        assert_int_equal(count, c.report.self);
        assert_int_equal(count, maps_wc(c.pid));
        check_procmap_query(c.pid, count);
        child_stop(&c);
}

static void test_vmas_0(void **state) {
        check_n(0);
}

static void test_vmas_1(void **state) {
        check_n(1);
}

static void test_vmas_1000(void **state) {
        check_n(1000);
}

static void test_vmas_30000(void **state) {
        check_n(30000);
}

static void test_vmas_60000(void **state) {
        check_n(60000);
}

static void test_threads_share_one_mm(void **state) {
        _cleanup_free_ char *task_dir = NULL;
        unsigned leader = 0, tasks = 0;
        DIR *d;
        Child c;

        child_start(100, true, &c);
        assert_int_equal(proc_count_maps(NULL, c.pid, &leader), 0);
        assert_int_equal(leader, c.report.self);
        assert_int_equal(leader, maps_wc(c.pid));
        check_procmap_query(c.pid, leader);

        /* Every thread sees the same mm: /proc/TID/maps and /proc/PID/task/TID/maps equal the leader's. */
        assert_true(asprintf(&task_dir, "/proc/%d/task", (int) c.pid) > 0);
        d = opendir(task_dir);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *path = NULL;
                unsigned n = 0;
                pid_t tid;

                if (de->d_name[0] == '.')
                        continue;
                tid = (pid_t) atoi(de->d_name);
                assert_true(tid > 0);
                assert_int_equal(proc_count_maps(NULL, tid, &n), 0);
                assert_int_equal(n, leader);
                assert_true(asprintf(&path, "%s/%s/maps", task_dir, de->d_name) > 0);
                assert_int_equal(count_lines_minus_gate(path), leader);
                tasks++;
        }
        closedir(d);
        assert_int_equal(tasks, THREADS + 1);

        /* Threads add their stacks, nothing per thread beyond: glibc maps each stack with a guard
         * page below it, two VMAs. Under ASan its per-thread bookkeeping maps a few more. */
        unsigned added = leader - c.report.baseline - 100;
        print_message("# %u threads: baseline %u, +100 VMAs, leader %u: %u added by the threads\n", THREADS,
                      c.report.baseline, leader, added);
#ifdef UNDER_ASAN
        assert_true(added >= THREADS && added <= 8 * THREADS);
#else
        assert_int_equal(added, 2 * THREADS);
#endif
        child_stop(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vmas_0),     cmocka_unit_test(test_vmas_1),
                cmocka_unit_test(test_vmas_1000),  cmocka_unit_test(test_vmas_30000),
                cmocka_unit_test(test_vmas_60000), cmocka_unit_test(test_threads_share_one_mm),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
