/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* explain_process() on live children of this test: threads and mapped files of one directory, a thread
 * leak, threads coming and going while they are read, a leader that exited before its threads, and
 * processes that are gone or zombies. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "explain-read.h"
#include "explain.h"
#include "procfs.h"
#include "testfs.h"
#include "testproc.h"
#include "util.h"

#define READY_TIMEOUT_MSEC 30000
#define STATE_TIMEOUT_USEC (30 * USEC_PER_SEC)

typedef struct Child {
        pid_t pid;
        int ready_fd; /* the child writes one byte when set up */
} Child;

static int block_fd = -1; /* the read end of a pipe nobody writes: threads block reading it */

static void *blocked_thread(void *arg) {
        pthread_barrier_t *started = arg;
        char c;

        pthread_barrier_wait(started);
        for (;;)
                (void) read(block_fd, &c, 1);
        return NULL;
}

/* In the child: N_THREADS threads blocked in read(), and N_FILES files of DIR mapped. Returns 0 or -1. */
static int child_setup(unsigned n_threads, const char *dir, unsigned n_files) {
        pthread_barrier_t started;
        int block[2];

        for (unsigned i = 0; i < n_files; i++) {
                char path[4096];
                int fd;

                snprintf(path, sizeof(path), "%s/segment-%05u", dir, i);
                fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || ftruncate(fd, 4096) < 0 ||
                    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
                        return -1;
                close(fd);
        }
        if (pipe2(block, O_CLOEXEC) < 0)
                return -1;
        block_fd = block[0];
        pthread_barrier_init(&started, NULL, n_threads + 1);
        for (unsigned i = 0; i < n_threads; i++) {
                pthread_t t;

                if (pthread_create(&t, NULL, blocked_thread, &started) != 0)
                        return -1;
        }
        pthread_barrier_wait(&started);
        return 0;
}

/* Forks a child that runs SETUP (returns 0 when it is set up), says so, then RUN_AFTER (NULL: blocks). */
static void child_start(Child *c, int (*setup)(void *), void *userdata, void (*run_after)(void)) {
        int ready[2];

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        c->pid = fork();
        assert_true(c->pid >= 0);
        if (c->pid == 0) {
                char ok = 1;

                /* Dies with the test, and holds none of its output open: a failed test must not leave
                 * a child that keeps the test's output pipe from closing. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(open("/dev/null", O_WRONLY | O_CLOEXEC), STDOUT_FILENO);
                (void) dup2(STDOUT_FILENO, STDERR_FILENO);
                close(ready[0]);
                if (setup(userdata) < 0)
                        _exit(EXIT_FAILURE);
                if (write(ready[1], &ok, 1) != 1)
                        _exit(EXIT_FAILURE);
                if (run_after)
                        run_after();
                for (;;)
                        pause();
        }
        close(ready[1]);
        c->ready_fd = ready[0];
}

static void child_wait_ready(Child *c) {
        struct pollfd p = { .fd = c->ready_fd, .events = POLLIN };
        char ok = 0;

        assert_int_equal(poll(&p, 1, READY_TIMEOUT_MSEC), 1);
        assert_int_equal(read(c->ready_fd, &ok, 1), 1);
        assert_int_equal(ok, 1);
}

static void child_stop(Child *c) {
        int status;

        close(c->ready_fd);
        (void) kill(c->pid, SIGKILL);
        assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
}

/* Polls the state of PID until it is STATE, with a deadline. */
static void wait_state(pid_t pid, char state) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + STATE_TIMEOUT_USEC;
        struct timespec pause_ts = { .tv_nsec = 10 * 1000 * 1000 };

        while (testproc_state(pid) != state) {
                assert_true(now_usec(CLOCK_MONOTONIC) < deadline);
                nanosleep(&pause_ts, NULL);
        }
}

static const ExplainGroup *find_kind(const Explain *e, ExplainKind kind) {
        for (size_t i = 0; i < e->n_groups; i++)
                if (e->groups[i].kind == kind)
                        return &e->groups[i];
        fail_msg("no %s group", explain_kind_to_string(kind));
        return NULL;
}

static void check_invariants(const Explain *e) {
        uint64_t sum = 0;

        for (size_t i = 0; i < e->n_groups; i++) {
                assert_true(e->groups[i].mappings > 0);
                sum += e->groups[i].mappings;
        }
        assert_int_equal(sum, e->map_count);
}

/* ---- threads and files ---- */

typedef struct Workload {
        unsigned threads, files;
        const char *dir;
} Workload;

static int workload_setup(void *userdata) {
        const Workload *w = userdata;
        return child_setup(w->threads, w->dir, w->files);
}

/* Explains C's process with the count proc_count_maps() gives just before and just after: the child is
 * at rest, so the three agree. */
static Explain *explain_at_rest(pid_t pid) {
        unsigned before, after;
        Explain *e = NULL;

        assert_int_equal(proc_count_maps(NULL, pid, &before), 0);
        assert_int_equal(explain_process(NULL, pid, &e), 0);
        assert_int_equal(proc_count_maps(NULL, pid, &after), 0);
        assert_int_equal(before, after);
        assert_int_equal(e->map_count, before);
        check_invariants(e);
        return e;
}

static void test_threads_and_files(void **state) {
        _cleanup_free_ char *dir = testfs_mkdtemp("mapguard-test-explain-live");
        /* Files enough to hold the deciding share beside a sanitizer's own few hundred mappings. */
        Workload w = { .threads = 64, .files = 2000, .dir = dir };
        const ExplainGroup *top;
        Explain *e;
        Child c;

        child_start(&c, workload_setup, &w, NULL);
        child_wait_ready(&c);
        e = explain_at_rest(c.pid);
        print_message("# %u maps, %u threads, %u stacks, %u guards\n", e->map_count, e->threads,
                      e->thread_stacks, e->thread_guards);
        assert_int_equal(e->threads, w.threads + 1);
        assert_int_equal(e->thread_stacks, w.threads);
        assert_int_equal(e->thread_guards, w.threads);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        top = explain_top_group(e);
        assert_string_equal(top->source, dir);
        assert_int_equal(top->files, w.files);
        assert_int_equal(top->mappings, w.files);
        explain_free(e);
        child_stop(&c);
        testfs_rm_rf(dir);
}

static void test_thread_leak(void **state) {
        Workload w = { .threads = 600 };
        Explain *e;
        Child c;

        child_start(&c, workload_setup, &w, NULL);
        child_wait_ready(&c);
        e = explain_at_rest(c.pid);
        for (size_t i = 0; i < e->n_groups && i < 3; i++)
                print_message("# %s: %" PRIu64 " maps\n", explain_kind_to_string(e->groups[i].kind),
                              e->groups[i].mappings);
        assert_int_equal(e->thread_stacks, w.threads);
        assert_int_equal(find_kind(e, EXPLAIN_KIND_THREAD_STACK)->mappings, 2 * w.threads);
#ifdef __SANITIZE_ADDRESS__
        /* AddressSanitizer maps three anonymous regions of its own for each thread: beside those, the
         * stacks are no 60 %, and the process is rightly mixed. */
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
#else
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
#endif
        explain_free(e);
        child_stop(&c);
}

/* ---- threads coming and going ---- */

static void *exit_at_once(void *arg) {
        return arg;
}

/* Creates and joins threads for ever, four at a time. */
static void churn(void) {
        for (;;) {
                pthread_t t[4];

                for (size_t i = 0; i < ELEMENTSOF(t); i++)
                        if (pthread_create(&t[i], NULL, exit_at_once, NULL) != 0)
                                _exit(EXIT_FAILURE);
                for (size_t i = 0; i < ELEMENTSOF(t); i++)
                        pthread_join(t[i], NULL);
        }
}

static void test_threads_exiting_mid_read(void **state) {
        Workload w = { .threads = 8 };
        unsigned ok = 0;
        Child c;

        child_start(&c, workload_setup, &w, churn);
        child_wait_ready(&c);
        for (unsigned i = 0; i < 300; i++) {
                Explain *e = NULL;

                /* Threads vanish between the listing of task/ and the read of their syscall file: skipped.
                 */
                assert_int_equal(explain_process(NULL, c.pid, &e), 0);
                check_invariants(e);
                assert_true(e->threads >= w.threads + 1);
                assert_true(e->threads <= w.threads + 1 + 4);
                assert_true(e->thread_stacks >= w.threads);
                ok++;
                explain_free(e);
        }
        print_message("# %u reads while threads came and went\n", ok);
        child_stop(&c);
}

/* ---- odd processes ---- */

static int leader_setup(void *userdata) {
        return child_setup(1, NULL, 0);
}

static void leader_exit(void) {
        pthread_exit(NULL);
}

static void test_exited_leader(void **state) {
        ProcSample s;
        Explain *e = NULL;
        Child c;

        /* The main thread exits while its thread lives on: the leader is a zombie without maps. */
        child_start(&c, leader_setup, NULL, leader_exit);
        child_wait_ready(&c);
        wait_state(c.pid, 'Z');
        assert_int_equal(explain_process(NULL, c.pid, &e), 0);
        assert_int_equal(proc_sample_count(NULL, c.pid, &s), 0);
        assert_int_equal(e->map_count, s.map_count);
        assert_int_equal(e->threads, 1);
        assert_int_equal(e->thread_stacks, 1);
        check_invariants(e);
        explain_free(e);
        child_stop(&c);
}

static void test_gone_and_zombie(void **state) {
        Explain *e = (Explain *) 0x1;
        int status;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(EXIT_SUCCESS);
        wait_state(pid, 'Z');
        assert_int_equal(explain_process(NULL, pid, &e), -ENODATA);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(explain_process(NULL, pid, &e), -ESRCH);
        assert_ptr_equal(e, (Explain *) 0x1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threads_and_files),        cmocka_unit_test(test_thread_leak),
                cmocka_unit_test(test_threads_exiting_mid_read), cmocka_unit_test(test_exited_leader),
                cmocka_unit_test(test_gone_and_zombie),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
