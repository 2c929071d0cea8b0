/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real processes that are odd in the ways a local user can make them, each counted exactly by the
 * /proc backend (proc_sample(), the daemon's read) and, where the host can run it, by the BPF backend
 * (bpf_counter_scan() over a throwaway cgroup2 cgroup the children join), against the kernel's count:
 *   - a comm with spaces, parentheses and a newline: "(a) b)\n c";
 *   - mappings of files whose names hold newlines (one mimics the gate line "[vsyscall]"), and of
 *     files deleted after mapping;
 *   - a process whose mappings change while they are read;
 *   - a zombie leader whose threads live on (it called pthread_exit());
 *   - a pid near pid_max (as root, through /proc/sys/kernel/ns_last_pid; skipped where that is not
 *     writable).
 * The kernel's count is the number of lines of /proc/PID/maps without the gate area, read
 * independently (the kernel escapes a newline in a file name as \012, so lines are VMAs). */

#include <errno.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "cgroup.h"
#include "procfs.h"
#include "testproc.h"
#include "util.h"

#define ODD_COMM "(a) b)\n c"
#define FILE_VMAS 41 /* odd: PROT_NONE mapping split by every other page */
#define CHURN_BASE_VMAS 201

typedef struct Odd {
        pid_t pid;
        int release_fd; /* closing it ends the child */
} Odd;

static struct {
        const char *bpf_missing; /* why the BPF comparison is skipped, NULL when it runs */
        BpfCounter *counter;
        char *cgroup_dir;
        uint64_t cgroup_id;
        char tmpdir[64];
} F;

static uint64_t now_nsec(void) {
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* The kernel's count, read independently of procfs.c: lines of maps, without the gate area. */
static int64_t kernel_count(pid_t pid) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char path[64];
        size_t allocated = 0;
        int64_t n = 0;
        ssize_t l;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while ((l = getline(&buf, &allocated, f)) > 0)
                if (!(l >= 11 && strcmp(buf + l - 11, "[vsyscall]\n") == 0 && buf[0] == 'f'))
                        n++;
        return n;
}

static int join_cgroup(void) {
        return F.cgroup_dir ? testproc_join_cgroup(F.cgroup_dir) : 0;
}

static int map_split(int fd, unsigned n) {
        long page = sysconf(_SC_PAGESIZE);
        uint8_t *p;

        p = mmap(NULL, (size_t) n * page, PROT_NONE, fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, fd,
                 0);
        if (p == MAP_FAILED)
                return -errno;
        for (unsigned i = 1; i < n; i += 2)
                if (mprotect(p + (size_t) i * page, page, PROT_READ) < 0)
                        return -errno;
        return 0;
}

/* Maps N pages of a new file named NAME in the test's directory, split into N VMAs, then unlinks
 * it when DELETE. */
static int map_odd_file(const char *name, unsigned n, bool delete) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&path, "%s/%s", F.tmpdir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) n * sysconf(_SC_PAGESIZE)) < 0)
                return -errno;
        if (map_split(fd, n) < 0)
                return -errno;
        if (delete &&unlink(path) < 0)
                return -errno;
        return 0;
}

typedef enum Kind {
        KIND_COMM,
        KIND_FILES,
        KIND_CHURN,
        KIND_ZOMBIE_LEADER,
        KIND_PLAIN,
} Kind;

typedef struct ThreadArgs {
        int ready_fd;
        int release_fd;
        Kind kind;
} ThreadArgs;

static void *churn_thread(void *userdata) {
        long page = sysconf(_SC_PAGESIZE);

        /* One VMA comes and goes, as fast as it can, until the process ends. */
        for (;;) {
                void *p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p != MAP_FAILED)
                        munmap(p, page);
        }
        return NULL;
}

static void *waiting_thread(void *userdata) {
        ThreadArgs *a = userdata;
        char c = 1;

        /* Ready once this thread runs: its start (under ASan, its allocator's and fake stack's mappings)
         * is over, and its maps are what they stay until it is released. */
        if (write(a->ready_fd, &c, 1) != 1)
                _exit(15);
        while (read(a->release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static _Noreturn void child_main(Kind kind, int ready_fd, int release_fd) {
        static ThreadArgs args;
        pthread_t t;
        char c = 1;

        if (join_cgroup() < 0)
                _exit(10);
        switch (kind) {
        case KIND_COMM:
                if (prctl(PR_SET_NAME, ODD_COMM) < 0 || map_split(-1, 101) < 0)
                        _exit(11);
                break;
        case KIND_FILES:
                /* The kernel escapes the newline; the names try to look like other lines, or the gate. */
                if (map_odd_file("two\nlines", FILE_VMAS, false) < 0 ||
                    map_odd_file("x\nffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]",
                                 FILE_VMAS, false) < 0 ||
                    map_odd_file("deleted (deleted)\n", FILE_VMAS, true) < 0 ||
                    map_odd_file("plain-deleted", FILE_VMAS, true) < 0)
                        _exit(12);
                break;
        case KIND_CHURN:
                if (map_split(-1, CHURN_BASE_VMAS) < 0 || pthread_create(&t, NULL, churn_thread, NULL) != 0)
                        _exit(13);
                break;
        case KIND_ZOMBIE_LEADER:
        case KIND_PLAIN:
                if (map_split(-1, 301) < 0)
                        _exit(14);
                break;
        }
        if (kind != KIND_ZOMBIE_LEADER && write(ready_fd, &c, 1) != 1)
                _exit(15);
        if (kind == KIND_ZOMBIE_LEADER) {
                args.ready_fd = ready_fd;
                args.release_fd = release_fd;
                if (pthread_create(&t, NULL, waiting_thread, &args) != 0)
                        _exit(16);
                pthread_exit(NULL);
        }
        while (read(release_fd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

static Odd spawn(Kind kind) {
        int ready[2], release[2];
        Odd o = { .release_fd = -EBADF };
        char c;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(release, O_CLOEXEC), 0);
        fflush(NULL);
        o.pid = fork();
        assert_true(o.pid >= 0);
        if (o.pid == 0) {
                close(ready[0]);
                close(release[1]);
                child_main(kind, ready[1], release[0]);
        }
        close(ready[1]);
        close(release[0]);
        o.release_fd = release[1];
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        if (kind == KIND_ZOMBIE_LEADER) {
                uint64_t deadline = now_nsec() + UINT64_C(10000000000);
                const struct timespec pause = { .tv_nsec = 1000000 };

                while (testproc_state(o.pid) != 'Z') {
                        assert_true(now_nsec() < deadline);
                        nanosleep(&pause, NULL);
                }
        }
        return o;
}

static void reap(Odd *o) {
        int status;

        close(o->release_fd);
        assert_int_equal(waitpid(o->pid, &status, 0), o->pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* The BPF backend's record of PID in *RET: true; false where the host cannot run the BPF backend
 * (said once, at setup). The test fails when the scan does not report PID. */
static bool bpf_count(pid_t pid, BpfTaskCount *ret) {
        _cleanup_free_ BpfTaskCount *tasks = NULL;
        size_t n = 0;

        if (F.bpf_missing)
                return false;
        assert_true(bpf_counter_scan(F.counter, &tasks, &n) >= 0);
        for (size_t i = 0; i < n; i++)
                if (tasks[i].pid == (uint32_t) pid) {
                        *ret = tasks[i];
                        return true;
                }
        fail_msg("the BPF scan does not report pid %d", (int) pid);
        return false;
}

/* The process is counted exactly by both backends, and its cgroup lists it. */
static void check_exact(pid_t pid, const char *comm) {
        ProcSample s;
        BpfTaskCount b;
        int64_t k;

        assert_int_equal(proc_sample("", pid, &s), 0);
        k = kernel_count(pid);
        assert_true(k > 0);
        assert_int_equal(s.map_count, k);
        assert_int_equal(s.pid, pid);
        assert_string_equal(s.comm, comm);
        if (bpf_count(pid, &b)) {
                assert_int_equal(b.map_count, k);
                assert_string_equal(b.comm, comm);
        }
        if (F.cgroup_dir) {
                _cleanup_free_ pid_t *pids = NULL;
                const char *rel = F.cgroup_dir + strlen(cgroup2_mount());
                size_t n = 0;
                bool found = false;

                assert_int_equal(cgroup_read_pids(cgroup2_mount(), rel, &pids, &n), 0);
                for (size_t i = 0; i < n; i++)
                        found = found || pids[i] == pid;
                assert_true(found);
        }
}

static void test_comm_parens_newline(void **state) {
        Odd o = spawn(KIND_COMM);

        check_exact(o.pid, ODD_COMM);
        reap(&o);
}

static void test_files_newlines_deleted(void **state) {
        Odd o = spawn(KIND_FILES);
        _cleanup_free_ char *maps = NULL;
        char path[64];
        FILE *f;
        size_t size = 0;

        check_exact(o.pid, "test-odd-proces");
        /* The names are really there, escaped, and the deleted ones are marked. */
        snprintf(path, sizeof(path), "/proc/%d/maps", (int) o.pid);
        f = fopen(path, "re");
        assert_non_null(f);
        maps = malloc(1 << 20);
        assert_non_null(maps);
        size = fread(maps, 1, (1 << 20) - 1, f);
        maps[size] = '\0';
        fclose(f);
        assert_non_null(strstr(maps, "two\\012lines"));
        assert_non_null(strstr(maps, "deleted (deleted)\\012 (deleted)"));
        assert_non_null(strstr(maps, "plain-deleted (deleted)"));
        reap(&o);
}

static void test_maps_changing_while_read(void **state) {
        Odd o = spawn(KIND_CHURN);
        int64_t low = INT64_MAX, high = 0;

        /* Between reads the count is BASE or BASE+1 (one VMA comes and goes); every read, whatever
         * it overlaps, must land in what the process had during it. */
        for (int i = 0; i < 200; i++) {
                ProcSample s;
                BpfTaskCount b;
                int64_t before = kernel_count(o.pid), after;

                assert_int_equal(proc_sample("", o.pid, &s), 0);
                after = kernel_count(o.pid);
                if (before < low)
                        low = before;
                if (after > high)
                        high = after;
                /* VMA counts of the baseline, plus the one in flight, at most. */
                assert_true(s.map_count + 1 >= (unsigned) (before < after ? before : after));
                assert_true(s.map_count <= (unsigned) (before > after ? before : after) + 1);
                if (i % 20 == 0 && bpf_count(o.pid, &b))
                        assert_true(b.map_count + 1 >= (unsigned) low && b.map_count <= (unsigned) high + 1);
        }
        /* No bound on high - low: under AddressSanitizer the child's own allocator maps and unmaps
         * beside the churning VMA, so the envelope is wider than one; each read is checked against the
         * counts around it above. */
        assert_true(low > 0 && high >= low);
        reap(&o);
}

static void test_zombie_leader(void **state) {
        Odd o = spawn(KIND_ZOMBIE_LEADER);
        ProcSample s;
        BpfTaskCount b;
        char path[64];
        _cleanup_free_ char *task_maps = NULL;
        int64_t k;

        /* The leader's own maps are empty: the kernel's count is that of a live thread. */
        assert_int_equal(testproc_state(o.pid), 'Z');
        assert_int_equal(proc_sample("", o.pid, &s), 0);
        snprintf(path, sizeof(path), "/proc/%d/task", (int) o.pid);
        {
                _cleanup_(closedirp) DIR *d = opendir(path);
                pid_t tid = 0;

                assert_non_null(d);
                for (struct dirent *de; (de = readdir(d));)
                        if (atoi(de->d_name) > 0 && atoi(de->d_name) != o.pid)
                                tid = atoi(de->d_name);
                assert_true(tid > 0);
                k = kernel_count(tid);
        }
        assert_int_equal(s.map_count, k);
        if (bpf_count(o.pid, &b))
                assert_int_equal(b.map_count, k);
        reap(&o);
}

static void test_pid_near_pid_max(void **state) {
        _cleanup_fclose_ FILE *f = NULL;
        int pid_max = 0;
        Odd o = {};

        f = fopen("/proc/sys/kernel/pid_max", "re");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%d", &pid_max), 1);

        /* ns_last_pid needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in our pid namespace; a pid made
         * in a new namespace would not be near pid_max in ours, which is the one mapguardd reads. */
        for (int attempt = 0; attempt < 5; attempt++) {
                _cleanup_close_ int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
                char last[32];
                int len = snprintf(last, sizeof(last), "%d", pid_max - 10 + attempt);

                if (fd < 0 || write(fd, last, len) != len) {
                        print_message(
                                "# cannot write /proc/sys/kernel/ns_last_pid (%m): no pid near pid_max "
                                "%d, skipping\n",
                                pid_max);
                        skip();
                }
                o = spawn(KIND_PLAIN);
                if (o.pid >= pid_max - 10)
                        break;
                reap(&o); /* someone else took the pid first: again */
                o.pid = 0;
        }
        assert_true(o.pid >= pid_max - 10);
        print_message("# pid %d (pid_max %d)\n", (int) o.pid, pid_max);
        check_exact(o.pid, "test-odd-proces");
        reap(&o);
}

static int setup_all(void **state) {
        _cleanup_free_ char *reason = NULL;
        int r;

        snprintf(F.tmpdir, sizeof(F.tmpdir), "/tmp/mapguard-odd-XXXXXX");
        if (!mkdtemp(F.tmpdir))
                return -errno;

        F.bpf_missing = kernel_tests_missing();
        if (F.bpf_missing) {
                printf("# BPF backend not compared: %s\n", F.bpf_missing);
                return 0;
        }
        r = bpf_counter_new(&F.counter, &reason);
        if (r < 0) {
                fprintf(stderr, "bpf_counter_new() failed: %s: %s\n", strerror(-r), reason);
                return r;
        }
        if (asprintf(&F.cgroup_dir, "%s/mapguard-test-odd-%d", cgroup2_mount(), (int) getpid()) < 0)
                return -ENOMEM;
        if (mkdir(F.cgroup_dir, 0755) < 0)
                return -errno;
        r = cgroup_id_from_path(F.cgroup_dir, &F.cgroup_id);
        if (r < 0)
                return r;
        return bpf_counter_set_cgroups(F.counter, &F.cgroup_id, 1);
}

static int teardown_all(void **state) {
        _cleanup_free_ char *cmd = NULL;

        if (F.cgroup_dir && rmdir(F.cgroup_dir) < 0 && errno != ENOENT)
                fprintf(stderr, "Failed to remove %s: %m\n", F.cgroup_dir);
        free(F.cgroup_dir);
        F.counter = bpf_counter_free(F.counter);
        if (F.tmpdir[0] && asprintf(&cmd, "rm -rf '%s'", F.tmpdir) > 0)
                (void) system(cmd);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comm_parens_newline),
                cmocka_unit_test(test_files_newlines_deleted),
                cmocka_unit_test(test_maps_changing_while_read),
                cmocka_unit_test(test_zombie_leader),
                cmocka_unit_test(test_pid_near_pid_max),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
