/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hit-child.h"
#include "testproc.h"
#include "util.h"

#ifndef MADV_DONTFORK
#define MADV_DONTFORK 10
#endif
#define SYS_MSEAL 462

const ScenarioInfo scenarios[_SC_MAX] = {
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
        [SC_IA32_MLOCK] = { "mg-hit-ia32", LIMIT_HIT_SYSCALL_MLOCK, ENOMEM },
};

/* The limit the child fills to, set before it is forked. */
static uint32_t child_limit;

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
 * exactly one new VMA; FLAGS are added to the mmap() that finds the place (MAP_32BIT: below 2 GiB).
 * Returns the address or NULL (errno set). */
static uint8_t *lonely_map_flags(size_t npages, int prot, int flags) {
        size_t ps = page_size(), size = (npages + 2) * ps;
        uint8_t *reserve, *p;

        reserve = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | flags, -1, 0);
        if (reserve == MAP_FAILED)
                return NULL;
        if (munmap(reserve, size) < 0)
                return NULL;
        p = mmap(reserve + ps, npages * ps, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

/* The same, without flags. */
static uint8_t *lonely_map(size_t npages, int prot) {
        return lonely_map_flags(npages, prot, 0);
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

/* arch/x86/entry/syscalls/syscall_32.tbl: mlock. */
#define IA32_NR_MLOCK 150

/* Makes the 32-bit system call NR with two arguments through int 0x80, which a 64-bit process may use:
 * the kernel runs it as a 32-bit call (its number from the 32-bit table, in_ia32_syscall() true).
 * Returns what the kernel returned (-errno on failure); -ENOSYS without 32-bit emulation or off x86. */
static long ia32_syscall2(long nr, uint32_t a, uint32_t b) {
#if defined(__x86_64__)
        long r;

        __asm__ volatile("int $0x80"
                         : "=a"(r)
                         : "a"(nr), "b"(a), "c"(b)
                         : "r8", "r9", "r10", "r11", "memory");
        return r;
#else
        return -ENOSYS;
#endif
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

/* hit_child_run()'s pipes: the child says it is ready to call on ready_fd, and calls once it reads
 * go_fd; -1 when the child calls at once. */
static struct { int ready_fd, go_fd; } hold = { -1, -1 };

/* The scenario in the child, up to and including its call. */
static void child_run(Scenario sc, ChildResult *res) {
        size_t ps = page_size();
        uint32_t L = child_limit, target = L;
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
        case SC_IA32_MLOCK:
                /* The 32-bit entry takes 32-bit addresses. */
                s = lonely_map_flags(3, PROT_NONE, MAP_32BIT);
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
        if (hold.ready_fd >= 0) {
                char c = 'r';

                /* At the wall: the parent acts, then lets the call go. */
                STEP(res, "say it is ready", write(hold.ready_fd, &c, 1) == 1 ? 0 : -EIO);
                STEP(res, "wait to go", read(hold.go_fd, &c, 1) == 1 ? 0 : -EIO);
        }

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
        case SC_IA32_MLOCK:
                r = ia32_syscall2(IA32_NR_MLOCK, (uint32_t) (uintptr_t) (s + ps), (uint32_t) ps);
                if (r < 0) {
                        errno = (int) -r;
                        r = -1;
                }
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

pid_t hit_child_run(Scenario sc, const char *dir, uint32_t limit, ChildResult *ret,
                    void (*before_call)(void)) {
        ChildResult res = {};
        int p[2], ready[2] = { -1, -1 }, go[2] = { -1, -1 };
        pid_t pid;
        ssize_t k;
        char c;

        child_limit = limit;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        if (before_call) {
                assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
                assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        }
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                hold.ready_fd = ready[1];
                hold.go_fd = go[0];
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
        if (before_call) {
                close(ready[1]);
                close(go[0]);
                /* End of file instead: the child failed before it got there, and says why below. */
                if (read(ready[0], &c, 1) == 1) {
                        before_call();
                        assert_int_equal(write(go[1], &c, 1), 1);
                }
                close(ready[0]);
                close(go[1]);
        }
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
