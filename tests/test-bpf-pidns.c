/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The BPF backend loaded inside a pid namespace, as the daemon is in a container: it must report
 * the pids of that namespace (what the daemon reads from cgroup.procs), not the initial
 * namespace's. A child becomes pid 1 of a new namespace, loads the counter there, starts workers
 * with known mapping counts in a throwaway cgroup2 cgroup (one of them in a namespace nested
 * below) and sends its scan back; the test, in the parent namespace, checks it against
 * cgroup.procs, /proc/PID/status (NSpid) and /proc/PID/maps. A process of the parent namespace in
 * the same cgroup must not be reported: it has no pid in there. Needs root, kernel BTF, a writable
 * cgroup2, a build with BPF and the right to create pid namespaces; without them it skips, and
 * says why. */

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "testproc.h"
#include "util.h"

#ifndef HAVE_BPF
#define HAVE_BPF 0
#endif

typedef struct WorkerSpec {
        const char *comm;
        unsigned extra_vmas;
        bool nested; /* in a pid namespace below the loader's */
} WorkerSpec;

static const WorkerSpec worker_specs[] = {
        { "mg-ns-a", 1001, false },
        { "mg-ns-b", 2001, false },
        { "mg-ns-nested", 501, true },
};
#define N_WORKERS ELEMENTSOF(worker_specs)
#define VMAS_OUTSIDE 701
#define MAX_REPORTED 16

/* What a worker's spawner learns once its mappings are in place. */
typedef struct WorkerReady {
        int error;        /* errno of what failed, 0 when ready */
        pid_t loader_pid; /* its pid in the loader's namespace */
        pid_t own_pid;    /* getpid() in its own namespace */
} WorkerReady;

/* What the loader, pid 1 of the new namespace, sends back: all of it in one write below PIPE_BUF. */
typedef struct LoaderResult {
        int error;      /* -errno of what failed in the loader, 0 when the scan ran */
        char what[128]; /* what failed */
        WorkerReady workers[N_WORKERS];
        pid_t loader_pid; /* the loader's getpid() */
        size_t n_tasks;   /* processes the scan reported; only MAX_REPORTED are sent */
        BpfTaskCount tasks[MAX_REPORTED];
} LoaderResult;

static struct {
        const char *missing; /* why the test cannot run here, NULL when it can */
        char *cgroup_dir;
        uint64_t cgroup_id;
        int release_fd; /* write end: closing it makes every child exit */
        pid_t outsider;
        pid_t loader_parent;
} F = { .release_fd = -EBADF };

static bool read_all(int fd, void *buf, size_t size) {
        ssize_t k;

        do
                k = read(fd, buf, size);
        while (k < 0 && errno == EINTR);
        return k == (ssize_t) size;
}

static bool write_all(int fd, const void *buf, size_t size) {
        return write(fd, buf, size) == (ssize_t) size;
}

static _Noreturn void wait_released(int release_fd) {
        char c;

        while (read(release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

/* In the cgroup with its mappings made, reports ready and lives until the release pipe closes. */
static _Noreturn void worker_main(const WorkerSpec *spec, int ready_fd, int release_fd) {
        WorkerReady ready = { .own_pid = getpid(), .loader_pid = getpid() };
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, spec->comm);
        r = testproc_join_cgroup(F.cgroup_dir);
        if (r == 0)
                r = make_vmas(spec->extra_vmas);
        ready.error = -r;
        if (!write_all(ready_fd, &ready, sizeof(ready)) || r < 0)
                _exit(EXIT_FAILURE);
        close(ready_fd);
        wait_released(release_fd);
}

/* Starts a worker: directly, or (nested) as pid 1 of a namespace of its own below ours, whose pid
 * here is what fork() returns to the middle process. Returns 0 and what the worker sent in *ret. */
static int spawn_worker(const WorkerSpec *spec, int result_fd, int release_fd, WorkerReady *ret) {
        int ready[2];
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                WorkerReady inner = {};
                int inner_ready[2];
                pid_t inner_pid;

                close(ready[0]);
                /* Only the loader reports: should it die, the test must see the pipe close. */
                close(result_fd);
                if (!spec->nested)
                        worker_main(spec, ready[1], release_fd);

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWPID) < 0 || pipe2(inner_ready, O_CLOEXEC) < 0)
                        inner.error = errno;
                else {
                        inner_pid = fork();
                        if (inner_pid == 0) {
                                close(inner_ready[0]);
                                worker_main(spec, inner_ready[1], release_fd);
                        }
                        close(inner_ready[1]);
                        if (inner_pid < 0)
                                inner.error = errno;
                        else if (!read_all(inner_ready[0], &inner, sizeof(inner)))
                                inner.error = ECHILD;
                        inner.loader_pid = inner_pid;
                }
                if (!write_all(ready[1], &inner, sizeof(inner)) || inner.error != 0)
                        _exit(EXIT_FAILURE);
                wait_released(release_fd);
        }
        close(ready[1]);
        if (!read_all(ready[0], ret, sizeof(*ret)))
                ret->error = ECHILD;
        close(ready[0]);
        return ret->error != 0 ? -ret->error : 0;
}

/* Pid 1 of the new namespace: loads the counter here, so its target namespace is this one. */
static _Noreturn void loader_main(int result_fd, int release_fd) {
        LoaderResult result = { .loader_pid = getpid() };
        _cleanup_free_ BpfTaskCount *tasks = NULL;
        _cleanup_free_ char *reason = NULL;
        BpfCounter *c = NULL;
        size_t n = 0;
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        r = bpf_counter_new(&c, &reason);
        if (r < 0) {
                snprintf(result.what, sizeof(result.what), "bpf_counter_new(): %s", reason ?: "");
                goto finish;
        }
        r = bpf_counter_set_cgroups(c, &F.cgroup_id, 1);
        if (r < 0) {
                snprintf(result.what, sizeof(result.what), "bpf_counter_set_cgroups()");
                goto finish;
        }
        for (size_t i = 0; i < N_WORKERS; i++) {
                r = spawn_worker(&worker_specs[i], result_fd, release_fd, &result.workers[i]);
                if (r < 0) {
                        snprintf(result.what, sizeof(result.what), "starting worker %s",
                                 worker_specs[i].comm);
                        goto finish;
                }
        }
        r = bpf_counter_scan(c, &tasks, &n);
        if (r < 0) {
                snprintf(result.what, sizeof(result.what), "bpf_counter_scan()");
                goto finish;
        }
        result.n_tasks = n;
        memcpy(result.tasks, tasks, (n < MAX_REPORTED ? n : MAX_REPORTED) * sizeof(BpfTaskCount));
        r = 0;

finish:
        result.error = r;
        bpf_counter_free(c);
        if (!write_all(result_fd, &result, sizeof(result)))
                _exit(EXIT_FAILURE);
        close(result_fd);
        /* The workers must live until the test has read their maps; as pid 1 our exit kills them. */
        wait_released(release_fd);
}

/* Returns the pids of a process from the "NSpid:" line of /proc/PID/status, ours first, then one
 * per nested namespace. Returns how many (>= 1), or -errno. */
static int proc_ns_pids(pid_t pid, pid_t *ret, int max) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];
        int n = -ENOENT;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "NSpid:", 6) == 0) {
                        char *p = line + 6, *end;

                        for (n = 0; n < max; n++) {
                                long v = strtol(p, &end, 10);

                                if (end == p)
                                        break;
                                ret[n] = (pid_t) v;
                                p = end;
                        }
                        break;
                }
        return n;
}

/* Counts the lines of /proc/PID/maps, less the [vsyscall] gate area: what mm->map_count must be. */
static uint32_t proc_vma_count(pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[4096];
        uint32_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                assert_true(line[strlen(line) - 1] == '\n');
                if (!strstr(line, "[vsyscall]"))
                        n++;
        }
        assert_false(ferror(f));
        return n;
}

static pid_t fork_outsider(int ready_fd, int release_fd) {
        pid_t pid = fork();
        uint8_t ok;

        assert_true(pid >= 0);
        if (pid > 0)
                return pid;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "mg-ns-outside");
        close(F.release_fd);
        ok = testproc_join_cgroup(F.cgroup_dir) == 0 && make_vmas(VMAS_OUTSIDE) == 0;
        if (!write_all(ready_fd, &ok, 1) || !ok)
                _exit(EXIT_FAILURE);
        close(ready_fd);
        wait_released(release_fd);
}

/* The new namespace's parent side: forks, in a child, pid 1 of a new namespace. Returns the
 * child's pid, which outlives its own child and reports its exit status as its own. */
static pid_t fork_loader(int result_fd, int release_fd) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                LoaderResult result = {};
                pid_t loader;
                int status;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* Only the test may hold the release pipe open: its descendants wait for EOF. */
                close(F.release_fd);
                if (unshare(CLONE_NEWPID) < 0 || (loader = fork()) < 0) {
                        result.error = -errno;
                        snprintf(result.what, sizeof(result.what), "creating a pid namespace");
                        _exit(write_all(result_fd, &result, sizeof(result)) ? EXIT_SUCCESS : EXIT_FAILURE);
                }
                if (loader == 0)
                        loader_main(result_fd, release_fd);
                close(result_fd);
                close(release_fd);
                if (waitpid(loader, &status, 0) != loader)
                        _exit(EXIT_FAILURE);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE);
        }
        return pid;
}

/* Lets every child exit and reaps them. Killing is not needed: all of them wait on the release pipe
 * only, and it would not do, as the loader's namespace ends only once its pid 1 is gone, which
 * its waiting parent then reports. Returns 0 and the loader's parent's wait status, or -errno. */
static int release_children(int *ret_status) {
        int status = 0, r = 0;

        if (F.release_fd >= 0) {
                close(F.release_fd);
                F.release_fd = -EBADF;
        }
        if (F.loader_parent > 0) {
                if (waitpid(F.loader_parent, &status, 0) < 0)
                        r = -errno;
                F.loader_parent = 0;
        }
        if (F.outsider > 0) {
                (void) waitpid(F.outsider, NULL, 0);
                F.outsider = 0;
        }
        if (r == 0 && ret_status)
                *ret_status = status;
        return r;
}

static const BpfTaskCount *find_pid(const LoaderResult *result, pid_t pid) {
        for (size_t i = 0; i < result->n_tasks && i < MAX_REPORTED; i++)
                if (result->tasks[i].pid == (uint32_t) pid)
                        return &result->tasks[i];
        return NULL;
}

static void test_scan_reports_pids_of_the_loaders_namespace(void **state) {
        LoaderResult result = {};
        int result_pipe[2], release[2], outsider_ready[2], status, n_procs = 0, n_outside = 0;
        _cleanup_free_ char *procs_path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        pid_t procs[64];
        uint8_t ok = 0;
        int pid;

        if (F.missing) {
                print_message("# %s, skipping\n", F.missing);
                skip();
        }

        assert_int_equal(pipe2(release, O_CLOEXEC), 0);
        F.release_fd = release[1];
        assert_int_equal(pipe2(result_pipe, O_CLOEXEC), 0);
        assert_int_equal(pipe2(outsider_ready, O_CLOEXEC), 0);

        F.outsider = fork_outsider(outsider_ready[1], release[0]);
        close(outsider_ready[1]);
        if (!read_all(outsider_ready[0], &ok, 1) || !ok)
                fail_msg("the process outside the namespace failed to get ready");
        close(outsider_ready[0]);

        F.loader_parent = fork_loader(result_pipe[1], release[0]);
        close(result_pipe[1]);
        close(release[0]);
        if (!read_all(result_pipe[0], &result, sizeof(result)))
                fail_msg("the loader died before it reported");
        close(result_pipe[0]);
        if (result.error != 0)
                fail_msg("in the new pid namespace, %s failed: %s", result.what, strerror(-result.error));

        /* Everything stays in place until the release pipe closes: read what the kernel says. */
        assert_int_not_equal(asprintf(&procs_path, "%s/cgroup.procs", F.cgroup_dir), -1);
        f = fopen(procs_path, "re");
        assert_non_null(f);
        while (n_procs < (int) ELEMENTSOF(procs) && fscanf(f, "%d", &pid) == 1)
                procs[n_procs++] = pid;
        assert_int_equal(n_procs, N_WORKERS + 1);

        /* The loader is pid 1 of its namespace, the workers it forked have the next pids there. */
        assert_int_equal(result.loader_pid, 1);
        for (size_t i = 0; i < N_WORKERS; i++) {
                const WorkerReady *w = &result.workers[i];

                if (worker_specs[i].nested) {
                        /* pid 1 of its own namespace, another pid in the loader's. */
                        assert_int_equal(w->own_pid, 1);
                        assert_true(w->loader_pid > 1);
                } else
                        assert_int_equal(w->own_pid, w->loader_pid);
                assert_true(w->loader_pid < 64);
        }

        /* Each process of the cgroup, by its pid here: the workers must be reported under their
         * pid in the loader's namespace (NSpid's second), with their own map count; the outsider
         * has no pid there. */
        for (int i = 0; i < n_procs; i++) {
                const BpfTaskCount *t;
                const WorkerSpec *spec = NULL;
                pid_t ns_pids[4];
                int n_ns;

                n_ns = proc_ns_pids(procs[i], ns_pids, (int) ELEMENTSOF(ns_pids));
                assert_true(n_ns >= 1);
                assert_int_equal(ns_pids[0], procs[i]);
                if (procs[i] == F.outsider) {
                        assert_int_equal(n_ns, 1);
                        n_outside++;
                        continue;
                }
                assert_true(n_ns >= 2);
                /* Else the test could not tell the namespaces' pids apart. */
                assert_int_not_equal(ns_pids[1], procs[i]);
                for (size_t j = 0; j < N_WORKERS; j++)
                        if (result.workers[j].loader_pid == ns_pids[1])
                                spec = &worker_specs[j];
                assert_non_null(spec);
                assert_int_equal(n_ns, spec->nested ? 3 : 2);

                t = find_pid(&result, ns_pids[1]);
                if (!t)
                        fail_msg("%s (pid %d, %d in the loader's namespace) not reported", spec->comm,
                                 (int) procs[i], (int) ns_pids[1]);
                assert_int_equal(t->map_count, proc_vma_count(procs[i]));
                assert_true(t->map_count > spec->extra_vmas);
                assert_int_equal(t->cgroup_id, F.cgroup_id);
                assert_string_equal(t->comm, spec->comm);
        }
        assert_int_equal(n_outside, 1);
        /* The workers and nothing else: not the outsider under its pid here. */
        assert_int_equal(result.n_tasks, N_WORKERS);
        assert_null(find_pid(&result, F.outsider));

        assert_int_equal(release_children(&status), 0);
        /* The loader and its workers exited on their own, each as it was told. */
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCESS);
}

/* Returns NULL when the test can run here, else why not: what every kernel test needs
 * (bpf-fixture.h), and pid namespaces. */
static const char *test_missing(void) {
        static char reason[512];
        const char *missing;
        int status;
        pid_t pid;

        missing = kernel_tests_missing();
        if (missing)
                return missing;

        pid = fork();
        if (pid < 0)
                return "fork() failed";
        if (pid == 0)
                _exit(unshare(CLONE_NEWPID) < 0 ? errno : 0);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return "checking for pid namespaces failed";
        if (WEXITSTATUS(status) != 0) {
                snprintf(reason, sizeof(reason), "cannot create a pid namespace: %s",
                         strerror(WEXITSTATUS(status)));
                return reason;
        }
        return NULL;
}

static int setup(void **state) {
        F.missing = test_missing();
        if (F.missing)
                return 0;

        if (asprintf(&F.cgroup_dir, "%s/mapguard-test-bpf-pidns-%d", cgroup2_mount(), (int) getpid()) < 0)
                return -ENOMEM;
        if (mkdir(F.cgroup_dir, 0755) < 0) {
                fprintf(stderr, "Failed to create cgroup %s: %m\n", F.cgroup_dir);
                free(F.cgroup_dir);
                F.cgroup_dir = NULL;
                return -1;
        }
        return cgroup_id_from_path(F.cgroup_dir, &F.cgroup_id);
}

static int teardown(void **state) {
        /* After a failed assertion the children are still there: the cgroup is empty once they
         * are reaped. */
        (void) release_children(NULL);
        if (F.cgroup_dir && rmdir(F.cgroup_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", F.cgroup_dir);
        free(F.cgroup_dir);
        F.cgroup_dir = NULL;
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scan_reports_pids_of_the_loaders_namespace),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
