/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_count_maps(), proc_sample(), proc_sample_identity() on fixture trees generated in a mkdtemp()
 * directory, plus a few checks against the real /proc of this test's own children. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <poll.h>
#include <sys/mman.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "path-util.h"
#include "procfs.h"
#include "testfs.h"
#include "util.h"

#define PF_KTHREAD 0x00200000UL
#define GATE_LINE "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
#define MAP_LINE \
        "7f0000000000-7f0000001000 r--p 00000000 fd:01 1234                       /usr/lib/libc.so.6\n"

static char root[] = "/tmp/mapguard-test-procfs-XXXXXX";

static int group_setup(void **state) {
        signal(SIGPIPE, SIG_IGN);
        return mkdtemp(root) ? 0 : -1;
}

static int group_teardown(void **state) {
        testfs_rm_rf(root);
        return 0;
}

static char *pid_path(pid_t pid, const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/proc/%d%s%s", root, (int) pid, name ? "/" : "", name ? name : "") >= 0);
        return p;
}

static void write_str(const char *path, const char *s) {
        testfs_write(NULL, path, s, strlen(s));
}

static void write_stat(pid_t pid, const char *comm, char state, unsigned long flags, uint64_t start) {
        _cleanup_free_ char *path = pid_path(pid, "stat"), *s = NULL;
        int n = asprintf(&s,
                         "%d (%s) %c 1 1 1 0 -1 %lu 10 0 0 0 5 3 0 0 20 0 1 0 %" PRIu64
                         " 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
                         (int) pid, comm, state, flags, start);
        assert_true(n > 0);
        testfs_write(NULL, path, s, (size_t) n);
}

/* A fixture process: ROOT/proc/PID/{stat,status,maps}. MAPS NULL leaves maps out. */
static void make_proc(pid_t pid, const char *comm, char state, unsigned long flags, uint64_t start,
                      uid_t uid, const char *maps) {
        _cleanup_free_ char *proc = NULL, *dir = pid_path(pid, NULL), *status = pid_path(pid, "status"),
                            *mapsp = pid_path(pid, "maps"), *s = NULL;
        int n;

        assert_true(asprintf(&proc, "%s/proc", root) >= 0);
        (void) mkdir(proc, 0755);
        assert_true(mkdir(dir, 0755) >= 0 || errno == EEXIST);
        write_stat(pid, comm, state, flags, start);
        n = asprintf(&s, "Name:\t%s\nUmask:\t0022\nState:\t%c\nTgid:\t%d\nPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n",
                     comm, state, (int) pid, (int) pid, uid, uid, uid, uid);
        assert_true(n > 0);
        testfs_write(NULL, status, s, (size_t) n);
        /* /proc/PID belongs to the owner of a dumpable process. */
        assert_int_equal(chown(dir, uid, uid), 0);
        if (maps)
                testfs_write(NULL, mapsp, maps, strlen(maps));
}

static void write_maps(pid_t pid, const char *maps, size_t len) {
        _cleanup_free_ char *p = pid_path(pid, "maps");
        testfs_write(NULL, p, maps, len);
}

static char *repeat(const char *line, unsigned n, const char *tail) {
        size_t l = strlen(line), t = tail ? strlen(tail) : 0;
        char *s = malloc(l * n + t + 1);
        assert_non_null(s);
        for (unsigned i = 0; i < n; i++)
                memcpy(s + i * l, line, l);
        memcpy(s + l * n, tail ? tail : "", t);
        s[l * n + t] = '\0';
        return s;
}

static void test_root_path(void **state) {
        char *p;

        p = path_prefix_root(NULL, "/proc/1/maps");
        assert_string_equal(p, "/proc/1/maps");
        free(p);
        p = path_prefix_root("", "/proc");
        assert_string_equal(p, "/proc");
        free(p);
        p = path_prefix_root("/", "/proc");
        assert_string_equal(p, "/proc");
        free(p);
        p = path_prefix_root("/tmp/x//", "/proc");
        assert_string_equal(p, "/tmp/x/proc");
        free(p);
        p = path_prefix_root("/tmp/x", "/etc/sysctl.conf");
        assert_string_equal(p, "/tmp/x/etc/sysctl.conf");
        free(p);
}

static void test_maps_with_gate(void **state) {
        _cleanup_free_ char *maps = repeat(MAP_LINE, 3, GATE_LINE);
        unsigned n = 0;

        make_proc(100, "cat", 'S', 0, 1000, 0, maps);
        assert_int_equal(proc_count_maps(root, 100, &n), 0);
        assert_int_equal(n, 3);
}

static void test_maps_without_gate(void **state) {
        _cleanup_free_ char *maps = repeat(MAP_LINE, 3, NULL);
        unsigned n = 0;

        make_proc(101, "cat", 'S', 0, 1000, 0, maps);
        assert_int_equal(proc_count_maps(root, 101, &n), 0);
        assert_int_equal(n, 3);
}

static void test_maps_gate_only_last_line(void **state) {
        /* "[vsyscall]" on a line that is not the last, and a file named like it as the last line:
         * both are real mappings. */
        _cleanup_free_ char *maps = NULL;
        unsigned n = 0;

        assert_true(asprintf(&maps, "%s%s%s", GATE_LINE, MAP_LINE,
                             "7f0000002000-7f0000003000 r--p 00000000 fd:01 99   /tmp/[vsyscall]\n") > 0);
        make_proc(102, "x", 'S', 0, 1, 0, maps);
        assert_int_equal(proc_count_maps(root, 102, &n), 0);
        assert_int_equal(n, 3);
}

static void test_maps_empty(void **state) {
        unsigned n = 4242;

        make_proc(103, "x", 'S', 0, 1, 0, "");
        assert_int_equal(proc_count_maps(root, 103, &n), -ENODATA);
        assert_int_equal(n, 4242); /* untouched on failure */
}

static void test_maps_truncated(void **state) {
        /* The last line lacks its newline (cut mid-line): it still counts. */
        _cleanup_free_ char *maps = repeat(MAP_LINE, 4, "7f0000005000-7f0000006000 rw-p 0000");
        unsigned n = 0;

        make_proc(104, "x", 'S', 0, 1, 0, maps);
        assert_int_equal(proc_count_maps(root, 104, &n), 0);
        assert_int_equal(n, 5);

        /* A gate line without its newline is still the gate. */
        free(maps);
        maps = repeat(MAP_LINE, 4, GATE_LINE);
        maps[strlen(maps) - 1] = '\0';
        write_maps(104, maps, strlen(maps));
        assert_int_equal(proc_count_maps(root, 104, &n), 0);
        assert_int_equal(n, 4);

        /* A single line without newline. */
        write_maps(104, "7f", 2);
        assert_int_equal(proc_count_maps(root, 104, &n), 0);
        assert_int_equal(n, 1);
}

static void test_maps_huge(void **state) {
        _cleanup_free_ char *maps = repeat(MAP_LINE, 200000, GATE_LINE);
        unsigned n = 0;

        make_proc(105, "big", 'S', 0, 1, 0, maps);
        assert_int_equal(proc_count_maps(root, 105, &n), 0);
        assert_int_equal(n, 200000);

        maps[strlen(maps) - strlen(GATE_LINE)] = '\0';
        write_maps(105, maps, strlen(maps));
        assert_int_equal(proc_count_maps(root, 105, &n), 0);
        assert_int_equal(n, 200000);
}

static void test_maps_gate_across_reads(void **state) {
        /* The reader takes 64 KiB at a time: put the gate line across that boundary, and a long
         * last line (longer than any gate line) across it too. */
        const size_t chunk = 64 * 1024, l = strlen(MAP_LINE);
        size_t lines = (chunk - 40) / l, pad = chunk - 40 - lines * l;
        _cleanup_free_ char *maps = malloc(chunk * 2);
        size_t len;
        unsigned n = 0;

        assert_non_null(maps);
        for (size_t i = 0; i < lines - 1; i++)
                memcpy(maps + i * l, MAP_LINE, l);
        len = (lines - 1) * l;
        /* One longer line (pad + l bytes) so that the next one starts 40 bytes before the boundary. */
        memcpy(maps + len, "7f0000009000-7f000000a000 r--p 00000000 fd:01 1 /", 50);
        len += 50;
        memset(maps + len, 'a', pad + l - 51);
        len += pad + l - 51;
        maps[len++] = '\n';
        assert_int_equal(len, chunk - 40);
        memcpy(maps + len, GATE_LINE, strlen(GATE_LINE));
        len += strlen(GATE_LINE);
        make_proc(106, "x", 'S', 0, 1, 0, NULL);
        write_maps(106, maps, len);
        assert_int_equal(proc_count_maps(root, 106, &n), 0);
        assert_int_equal(n, lines);

        /* Replace the gate by a 1000-byte line ending in "[vsyscall]": long lines are never the gate. */
        len = chunk - 40;
        memcpy(maps + len, "7f000000b000-7f000000c000 r--p 00000000 fd:01 1 /", 50);
        memset(maps + len + 50, 'b', 1000);
        memcpy(maps + len + 1050, " [vsyscall]\n", 12);
        len += 1062;
        write_maps(106, maps, len);
        assert_int_equal(proc_count_maps(root, 106, &n), 0);
        assert_int_equal(n, lines + 1);
}

static void test_maps_gone(void **state) {
        unsigned n = 7;

        assert_int_equal(proc_count_maps(root, 99999, &n), -ESRCH);
        assert_int_equal(n, 7);
        assert_int_equal(proc_count_maps(root, 0, &n), -EINVAL);
        assert_int_equal(proc_count_maps(root, -5, &n), -EINVAL);
}

static void test_maps_no_access(void **state) {
        /* Without ptrace access the kernel refuses to open maps: drop to nobody in a child and try
         * the maps of this (root-owned) test process. */
        pid_t parent = getpid(), child;
        int status;

        if (geteuid() != 0) {
                unsigned n;
                /* Not root: pid 1 is not ours to trace. */
                int r = proc_count_maps(NULL, 1, &n);
                assert_true(r == -EACCES || r == -EPERM);
                return;
        }

        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                unsigned n;
                int r;

                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(2);
                r = proc_count_maps(NULL, parent, &n);
                _exit(r == -EACCES || r == -EPERM ? 0 : 1);
        }
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_sample_fixture(void **state) {
        _cleanup_free_ char *maps = repeat(MAP_LINE, 10, GATE_LINE);
        ProcSample s = {};

        make_proc(200, "my (weird) name", 'S', 0x400040, 123456789012ULL, 1000, maps);
        assert_int_equal(proc_sample(root, 200, &s), 0);
        assert_int_equal(s.pid, 200);
        assert_int_equal(s.uid, 1000); /* the real uid, the first of the four */
        assert_string_equal(s.comm, "my (weird) name");
        assert_int_equal(s.start_time, 123456789012ULL);
        assert_int_equal(s.map_count, 10);

        s = (ProcSample){};
        assert_int_equal(proc_sample_identity(root, 200, &s), 0);
        assert_int_equal(s.pid, 200);
        assert_int_equal(s.uid, 1000);
        assert_string_equal(s.comm, "my (weird) name");
        assert_int_equal(s.start_time, 123456789012ULL);
        assert_int_equal(s.map_count, 0);
}

static void test_sample_long_comm(void **state) {
        /* Kernel worker names in stat can exceed TASK_COMM_LEN; they are cut to fit. */
        ProcSample s;

        make_proc(201, "abcdefghijklmnopqrstuvwxyz", 'R', 0, 5, 0, MAP_LINE);
        assert_int_equal(proc_sample(root, 201, &s), 0);
        assert_string_equal(s.comm, "abcdefghijklmno");
        assert_int_equal(s.map_count, 1);
}

static void test_sample_zombie(void **state) {
        ProcSample s = { .pid = 77 };

        make_proc(210, "zomb", 'Z', 0, 5, 0, "");
        assert_int_equal(proc_sample(root, 210, &s), -ENODATA);
        assert_int_equal(proc_sample_identity(root, 210, &s), -ENODATA);
        make_proc(211, "dead", 'X', 0, 5, 0, "");
        assert_int_equal(proc_sample(root, 211, &s), -ENODATA);
        assert_int_equal(s.pid, 77);
}

static void test_sample_kernel_thread(void **state) {
        ProcSample s = { .pid = 77 };

        make_proc(220, "kworker/0:1", 'I', PF_KTHREAD | 0x8040, 5, 0, "");
        assert_int_equal(proc_sample(root, 220, &s), -ENODATA);
        assert_int_equal(proc_sample_identity(root, 220, &s), -ENODATA);
        /* No PF_KTHREAD, but no mm either (empty maps): also no data. */
        make_proc(221, "odd", 'S', 0, 5, 0, "");
        assert_int_equal(proc_sample(root, 221, &s), -ENODATA);
        assert_int_equal(s.pid, 77);
}

static void test_sample_comm_not_utf8(void **state) {
        /* The kernel cut a two-byte character in half at 15 bytes: the name is made valid UTF-8, as
         * D-Bus and the journal need, by both readers. */
        ProcSample s;

        make_proc(231, "ingester-donne\xc3", 'S', 0, 5, 0, MAP_LINE);
        assert_int_equal(proc_sample(root, 231, &s), 0);
        assert_string_equal(s.comm, "ingester-donne?");
        assert_int_equal(proc_sample_identity(root, 231, &s), 0);
        assert_string_equal(s.comm, "ingester-donne?");
        make_proc(232, "caf\xc3\xa9", 'S', 0, 5, 0, MAP_LINE);
        assert_int_equal(proc_sample_count(root, 232, &s), 0);
        assert_string_equal(s.comm, "caf\xc3\xa9");
}

static void test_sample_bad_stat(void **state) {
        _cleanup_free_ char *stat = pid_path(230, "stat"), *status = pid_path(230, "status"),
                            *dir = pid_path(230, NULL);
        ProcSample s;
        static const char *const bad[] = {
                "",
                "230 noparen S 1 1",
                "230 (x S 1 1 1",
                "230 (x) S 1 1 1 0 -1 4194560 0 0", /* cut before start time */
                "230 (x) S 1 1 1 0 -1 notanumber 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
                "230 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0\n",
                "230 (x)S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
                "230 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n", /* cut before vsize */
        };

        make_proc(230, "x", 'S', 0, 5, 0, MAP_LINE);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                testfs_write(NULL, stat, bad[i], strlen(bad[i]));
                int r = proc_sample(root, 230, &s);
                /* An empty stat is a task being reaped: gone. Everything else is garbage. */
                assert_int_equal(r, i == 0 ? -ESRCH : -EBADMSG);
                assert_int_equal(proc_sample_identity(root, 230, &s), r);
        }

        write_stat(230, "x", 'S', 0, 5);
        assert_int_equal(chown(dir, 42, 42), 0); /* dumpable, of user 42 */
        write_str(status, "Name:\tx\nGid:\t0\t0\t0\t0\n");
        assert_int_equal(proc_sample(root, 230, &s), -EBADMSG);
        write_str(status, "Uid:\tnobody\n");
        assert_int_equal(proc_sample_identity(root, 230, &s), -EBADMSG);
        write_str(status, "Uid:\t42\t42\t42\t42\n"); /* first line works too */
        assert_int_equal(proc_sample_identity(root, 230, &s), 0);
        assert_int_equal(s.uid, 42);
        /* The scan's variant does not read status, so the owner is unknown and a bad status is no error. */
        write_str(status, "Uid:\tnobody\n");
        assert_int_equal(proc_sample_count(root, 230, &s), 0);
        assert_int_equal(s.uid, (uid_t) -1);
        assert_int_equal(s.map_count, 1);
        /* A process that changed identity (a setuid-root program run by 42, or one that dropped to 42
         * keeping root as its saved uid) is root's: the kernel refuses its maps to user 42 too. */
        write_str(status, "Uid:\t42\t0\t0\t0\n");
        assert_int_equal(proc_sample_identity(root, 230, &s), 0);
        assert_int_equal(s.uid, 0);
        write_str(status, "Uid:\t42\t42\t0\t42\n");
        assert_int_equal(proc_sample(root, 230, &s), 0);
        assert_int_equal(s.uid, 0);
        /* Only the filesystem uid differs: still 42's. Fewer than three uids: garbage. */
        write_str(status, "Uid:\t42\t42\t42\t0\n");
        assert_int_equal(proc_sample(root, 230, &s), 0);
        assert_int_equal(s.uid, 42);
        write_str(status, "Uid:\t42\t42\n");
        assert_int_equal(proc_sample(root, 230, &s), -EBADMSG);
        write_str(status, "Uid:\t42\t42\t42\t42\n");
        /* Not dumpable (PR_SET_DUMPABLE 0, or changed identity): /proc/PID is root's, and so is the
         * process, whatever its uids: the kernel refuses its owner its maps, hidepid= hides it. */
        assert_int_equal(chown(dir, 0, 0), 0);
        assert_int_equal(proc_sample_identity(root, 230, &s), 0);
        assert_int_equal(s.uid, 0);
        assert_int_equal(chown(dir, 42, 42), 0);
        assert_int_equal(unlink(status), 0);
        assert_int_equal(proc_sample(root, 230, &s), -ESRCH);
}

/* The "process changes while we read its maps" cases: maps is a FIFO, and the writer thread changes
 * the fixture only after proc_sample() has opened maps (open of a FIFO blocks until both ends are
 * there), before it hands over the lines. So the change is ordered between the two stat reads with no
 * sleeps. */
typedef struct Changer {
        const char *fifo;
        const char *from, *to; /* rename(from, to) */
} Changer;

static void *changer_thread(void *userdata) {
        Changer *c = userdata;
        int fd = open(c->fifo, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return (void *) (intptr_t) -errno;
        if (rename(c->from, c->to) < 0) {
                close(fd);
                return (void *) (intptr_t) -errno;
        }
        (void) write(fd, MAP_LINE MAP_LINE, 2 * strlen(MAP_LINE));
        close(fd);
        return NULL;
}

static void run_with_changer(pid_t pid, Changer *c, int expected) {
        _cleanup_free_ char *maps = pid_path(pid, "maps");
        ProcSample s = { .pid = 77 };
        pthread_t t;
        void *ret;
        int fd;

        c->fifo = maps;
        assert_int_equal(mkfifo(maps, 0600), 0);
        assert_int_equal(pthread_create(&t, NULL, changer_thread, c), 0);
        assert_int_equal(proc_sample(root, pid, &s), expected);
        /* Should proc_sample() have failed before opening maps, this releases the writer. */
        fd = open(maps, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        assert_int_equal(pthread_join(t, &ret), 0);
        if (fd >= 0)
                close(fd);
        assert_null(ret);
        assert_int_equal(s.pid, 77);
}

static void test_sample_pid_reused(void **state) {
        _cleanup_free_ char *stat = pid_path(240, "stat"), *next = NULL;
        Changer c;

        make_proc(240, "old", 'S', 0, 1000, 0, NULL);
        /* The same pid, a new process: another start time. */
        assert_true(asprintf(&next, "%s/stat-next", root) > 0);
        write_str(next, "240 (new) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2000 0\n");
        c = (Changer){ .from = next, .to = stat };
        run_with_changer(240, &c, -ESRCH);
}

static void test_sample_pid_vanished(void **state) {
        /* The files of a process that is gone can no longer be opened, through the directory fd
         * proc_sample() holds too: its stat goes away while the maps are read. */
        _cleanup_free_ char *stat = pid_path(241, "stat"), *away = NULL;
        Changer c;

        make_proc(241, "short", 'S', 0, 1000, 0, NULL);
        assert_true(asprintf(&away, "%s/gone-241", root) > 0);
        c = (Changer){ .from = stat, .to = away };
        run_with_changer(241, &c, -ESRCH);
}

static void test_sample_exited_mid_read(void **state) {
        /* The process drops its mm while the maps are read (exit_mm()), but is not a zombie yet:
         * its state still reads R, its start time is the same, and only vsize (0: no mm) tells. The
         * lines read so far may be a part: no count. */
        _cleanup_free_ char *stat = pid_path(243, "stat"), *next = NULL;
        Changer c;

        make_proc(243, "exiting", 'S', 0, 1000, 0, NULL);
        assert_true(asprintf(&next, "%s/stat-exiting", root) > 0);
        write_str(next, "243 (exiting) R 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1000 0 0\n");
        c = (Changer){ .from = next, .to = stat };
        run_with_changer(243, &c, -ENODATA);
}

static void test_sample_same_process(void **state) {
        /* The control for the two above: a change that keeps the start time is the same process. */
        _cleanup_free_ char *stat = pid_path(242, "stat"), *next = NULL;
        Changer c;

        make_proc(242, "same", 'S', 0, 1000, 0, NULL);
        assert_true(asprintf(&next, "%s/stat-same", root) > 0);
        write_str(next, "242 (same) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1000 1000000\n");
        c = (Changer){ .from = next, .to = stat };

        _cleanup_free_ char *maps = pid_path(242, "maps");
        ProcSample s = {};
        pthread_t t;
        void *ret;

        c.fifo = maps;
        assert_int_equal(mkfifo(maps, 0600), 0);
        assert_int_equal(pthread_create(&t, NULL, changer_thread, &c), 0);
        assert_int_equal(proc_sample(root, 242, &s), 0);
        assert_int_equal(pthread_join(t, &ret), 0);
        assert_null(ret);
        assert_int_equal(s.map_count, 2);
        assert_int_equal(s.start_time, 1000);
}

/* Independent count of the lines of a maps file, with stdio, minus a last "[vsyscall]" line. */
static unsigned wc_l_minus_gate(pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL, *path = NULL;
        size_t allocated = 0;
        unsigned n = 0;
        bool gate = false;

        assert_true(asprintf(&path, "/proc/%d/maps", (int) pid) > 0);
        f = fopen(path, "re");
        assert_non_null(f);
        while (getline(&line, &allocated, f) >= 0) {
                n++;
                gate = strstr(line, " [vsyscall]\n") != NULL;
        }
        return n - gate;
}

static void test_real_self(void **state) {
        _cleanup_free_ char *comm = NULL;
        ProcSample s;
        FILE *f;

        assert_int_equal(proc_sample(NULL, getpid(), &s), 0);
        assert_int_equal(s.pid, getpid());
        assert_int_equal(s.uid, getuid());
        f = fopen("/proc/self/comm", "re");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%ms", &comm), 1);
        fclose(f);
        assert_string_equal(s.comm, comm);
        assert_true(s.start_time > 0);
        /* Nothing in this single-threaded test maps or unmaps between the two counts. */
        assert_int_equal(s.map_count, wc_l_minus_gate(getpid()));
}

static void test_real_zombie(void **state) {
        ProcSample s;
        siginfo_t si;
        pid_t child;
        unsigned n;

        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        /* WNOWAIT: wait until it has exited but leave it a zombie. */
        assert_int_equal(waitid(P_PID, (id_t) child, &si, WEXITED | WNOWAIT), 0);
        assert_int_equal(proc_sample(NULL, child, &s), -ENODATA);
        assert_int_equal(proc_count_maps(NULL, child, &n), -ENODATA);
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_int_equal(proc_sample(NULL, child, &s), -ESRCH);
}

/* A process whose main thread called pthread_exit() while another thread lives on: the leader is a
 * zombie with empty maps, yet the process and its mappings are alive and must be counted. */
static void *exited_leader_thread(void *userdata) {
        struct pollfd p = { .fd = (int) (intptr_t) userdata, .events = POLLIN };

        /* Until the test writes or exits (the child holds only the read end, so the pipe hangs up when
         * the test process is gone), and at most 30 s: a failed assertion leaves no process behind. */
        (void) poll(&p, 1, 30000);
        /* Not return: the process's exit would run the parent's atexit handlers (LeakSanitizer's
         * report of what cmocka allocated before the fork, in the ASan build). */
        _exit(EXIT_SUCCESS);
}

/* Lines of /proc/PID/task/TID/maps, without the gate, of the first thread that is not the leader. */
static unsigned count_other_task_maps(pid_t pid) {
        char path[64], line[512];
        unsigned n = 0;
        FILE *f;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
        d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || atoi(de->d_name) == pid)
                        continue;
                snprintf(line, sizeof(line), "/proc/%d/task/%s/maps", (int) pid, de->d_name);
                f = fopen(line, "re");
                assert_non_null(f);
                while (fgets(line, sizeof(line), f))
                        if (!strstr(line, "[vsyscall]"))
                                n++;
                fclose(f);
                break;
        }
        closedir(d);
        return n;
}

static void test_real_exited_leader(void **state) {
        int ready[2], release[2];
        ProcSample s;
        pid_t child;
        char c, path[64], line[512];
        FILE *f;

        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(release), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pthread_t t;
                long page = sysconf(_SC_PAGESIZE);
                char *p = mmap(NULL, (size_t) page * 2000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                close(release[1]);
                close(ready[0]);
                if (p == MAP_FAILED)
                        _exit(1);
                for (int i = 0; i < 2000; i += 2)
                        if (mprotect(p + (size_t) i * (size_t) page, (size_t) page, PROT_READ) < 0)
                                _exit(1);
                if (pthread_create(&t, NULL, exited_leader_thread, (void *) (intptr_t) release[0]) != 0)
                        _exit(1);
                (void) write(ready[1], "x", 1);
                pthread_exit(NULL);
        }
        assert_int_equal(read(ready[0], &c, 1), 1);

        /* Wait, with a deadline, until the leader is a zombie. */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) child);
        for (int i = 0; i < 2000; i++) {
                f = fopen(path, "re");
                assert_non_null(f);
                assert_non_null(fgets(line, sizeof(line), f));
                fclose(f);
                if (strstr(strrchr(line, ')'), ") Z "))
                        break;
                usleep(1000);
        }
        assert_non_null(strstr(strrchr(line, ')'), ") Z "));

        /* The independent count: lines of the live thread's maps, without the gate, taken before
         * and after the sample. The thread may still be settling (a sanitizer's runtime maps and
         * unmaps as a thread starts), so the comparison counts only when both agree. */
        for (int i = 0;; i++) {
                unsigned before = count_other_task_maps(child), after;

                assert_true(before > 1000);
                assert_int_equal(proc_sample(NULL, child, &s), 0);
                after = count_other_task_maps(child);
                if (before == after) {
                        assert_int_equal(s.map_count, before);
                        break;
                }
                assert_true(i < 100);
                usleep(10000);
        }
        assert_int_equal(proc_sample_identity(NULL, child, &s), 0);
        assert_int_equal(s.pid, child);

        assert_int_equal(write(release[1], "x", 1), 1);
        assert_int_equal(waitpid(child, NULL, 0), child);
        close(ready[0]);
        close(ready[1]);
        close(release[0]);
        close(release[1]);
}

static void test_real_kernel_thread(void **state) {
        char buf[64] = "";
        ProcSample s;
        FILE *f;

        /* kthreadd is pid 2 when the kernel's pid namespace is ours. */
        f = fopen("/proc/2/comm", "re");
        if (f) {
                if (!fgets(buf, sizeof(buf), f))
                        buf[0] = '\0';
                fclose(f);
        }
        if (!streq(buf, "kthreadd\n")) {
                print_message("# pid 2 is not kthreadd here (a pid namespace?), skipping\n");
                skip();
        }
        assert_int_equal(proc_sample(NULL, 2, &s), -ENODATA);
        assert_int_equal(proc_sample_identity(NULL, 2, &s), -ENODATA);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_path),
                cmocka_unit_test(test_maps_with_gate),
                cmocka_unit_test(test_maps_without_gate),
                cmocka_unit_test(test_maps_gate_only_last_line),
                cmocka_unit_test(test_maps_empty),
                cmocka_unit_test(test_maps_truncated),
                cmocka_unit_test(test_maps_huge),
                cmocka_unit_test(test_maps_gate_across_reads),
                cmocka_unit_test(test_maps_gone),
                cmocka_unit_test(test_maps_no_access),
                cmocka_unit_test(test_sample_fixture),
                cmocka_unit_test(test_sample_long_comm),
                cmocka_unit_test(test_sample_zombie),
                cmocka_unit_test(test_sample_kernel_thread),
                cmocka_unit_test(test_sample_comm_not_utf8),
                cmocka_unit_test(test_sample_bad_stat),
                cmocka_unit_test(test_sample_pid_reused),
                cmocka_unit_test(test_sample_pid_vanished),
                cmocka_unit_test(test_sample_exited_mid_read),
                cmocka_unit_test(test_sample_same_process),
                cmocka_unit_test(test_real_self),
                cmocka_unit_test(test_real_zombie),
                cmocka_unit_test(test_real_exited_leader),
                cmocka_unit_test(test_real_kernel_thread),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
