/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What bpf_counter_new() says when it cannot load: built without BPF support, run without CAP_BPF and
 * CAP_PERFMON (or CAP_SYS_ADMIN), or on a kernel without BTF. Each load runs in a child whose
 * capabilities are set exactly, and which for the BTF case sees an empty /sys/kernel/btf in a mount
 * namespace of its own. Also what the limit-hit program falls back to, and says, in a sandbox without
 * tracefs or without perf_event_open() (a mount namespace, a seccomp filter). Needs what
 * test-bpf-counter.c needs (root, kernel BTF, a writable cgroup2, a build with BPF); without them the
 * tests skip, and print why. */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "bpf-fixture.h"
#include "bpf-hits.h"
#include "cgroup.h"
#include "loader.h"
#include "util.h"

static struct {
        const char *missing; /* why the kernel tests cannot run here, NULL when they can */
        uint64_t root_id;    /* the cgroup2 root's id: the children's scans watch every process */
} F;

static int setup_all(void **state) {
        F.missing = kernel_tests_missing();
        if (F.missing)
                return 0;
        return cgroup_id_from_path(cgroup2_mount(), &F.root_id);
}

/* Skips the calling test when the host cannot run the kernel tests, saying why. */
static void require_kernel(void) {
        skip_when_missing(F.missing);
}

typedef struct LoadResult {
        int r; /* of bpf_counter_new(), then of bpf_counter_scan() */
        int n; /* processes the scan reported */
        char reason[256];
} LoadResult;

#define CAP(c) (UINT64_C(1) << (c))

/* Returns our permitted capabilities as a mask of CAP(CAP_*). */
static uint64_t permitted_caps(void) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};

        if (syscall(SYS_capget, &header, data) < 0)
                return 0;
        return (uint64_t) data[1].permitted << 32 | data[0].permitted;
}

/* Limits the bounding set to CAPS (CAP_SETPCAP, which dropping needs, goes last). bpf_counter_new()
 * executes the loader, and a root process gets its bounding set as capabilities across execve(): the
 * bounding set is what limits the loader, as the unit's CapabilityBoundingSet= does for mapguardd.
 * Returns 0 or -errno. */
static int bound_caps(uint64_t caps) {
        for (int c = 0; c <= CAP_LAST_CAP; c++)
                if (c != CAP_SETPCAP && !(caps & CAP(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
                    errno != EINVAL)
                        return -errno;
        if (!(caps & CAP(CAP_SETPCAP)) && prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

/* Runs bpf_counter_new() and a scan of the root cgroup in a child whose bounding, permitted and
 * effective capabilities are exactly `caps`, and which with hide_btf sees an empty
 * /sys/kernel/btf (a tmpfs mounted over it in a mount namespace of its own). Returns 0, or -EPERM
 * when the capabilities are not in our permitted set. */
static int load_in_child(uint64_t caps, bool hide_btf, LoadResult *ret) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};
        LoadResult result = {};
        int p[2], status;
        ssize_t k;
        pid_t pid;

        assert_int_equal(syscall(SYS_capget, &header, data), 0);
        if ((caps & ~permitted_caps()) != 0)
                return -EPERM;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BpfCounter *c = NULL;
                char *reason = NULL;

                close(p[0]);
                data[0].effective = data[0].permitted = (uint32_t) caps;
                data[1].effective = data[1].permitted = (uint32_t) (caps >> 32);
                data[0].inheritable = data[1].inheritable = 0;
                if (hide_btf &&
                    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                     mount("tmpfs", "/sys/kernel/btf", "tmpfs", 0, NULL) < 0)) {
                        result.r = -errno;
                        snprintf(result.reason, sizeof(result.reason), "hiding the BTF failed");
                } else if ((result.r = bound_caps(caps)) < 0) {
                        snprintf(result.reason, sizeof(result.reason), "PR_CAPBSET_DROP failed");
                } else if (syscall(SYS_capset, &header, data) < 0) {
                        result.r = -errno;
                        snprintf(result.reason, sizeof(result.reason), "capset() failed");
                } else {
                        result.r = bpf_counter_new(&c, &reason);
                        if (reason)
                                snprintf(result.reason, sizeof(result.reason), "%s", reason);
                        if (result.r == 0) {
                                BpfTaskCount *tasks = NULL;
                                size_t n = 0;

                                result.r = bpf_counter_set_cgroups(c, &F.root_id, 1);
                                if (result.r == 0)
                                        result.r = bpf_counter_scan(c, &tasks, &n);
                                result.n = (int) n;
                                free(tasks);
                        }
                        bpf_counter_free(c);
                        free(reason);
                }
                _exit(write(p[1], &result, sizeof(result)) == sizeof(result) ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        close(p[1]);
        do
                k = read(p[0], ret, sizeof(*ret));
        while (k < 0 && errno == EINTR);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCESS);
        assert_int_equal(k, sizeof(*ret));
        return 0;
}

/* Skips the calling test unless the kernel tests run and we may pass on each of these
 * capabilities, saying why. */
static void require_caps(void) {
        const uint64_t needed = CAP(CAP_BPF) | CAP(CAP_PERFMON) | CAP(CAP_SYS_ADMIN);

        require_kernel();
        if ((permitted_caps() & needed) != needed) {
                print_message("# CAP_BPF, CAP_PERFMON or CAP_SYS_ADMIN is not in our permitted set, "
                              "skipping\n");
                skip();
        }
}

static void test_load_needs_bpf_and_perfmon(void **state) {
        LoadResult result;

        require_caps();

        assert_int_equal(load_in_child(0, false, &result), 0);
        assert_int_equal(result.r, -EPERM);
        assert_non_null(strstr(result.reason, "not permitted"));
        assert_non_null(strstr(result.reason, "CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN"));

        /* Either one alone is not enough. */
        assert_int_equal(load_in_child(CAP(CAP_BPF), false, &result), 0);
        assert_int_equal(result.r, -EPERM);
        assert_int_equal(load_in_child(CAP(CAP_PERFMON), false, &result), 0);
        assert_int_equal(result.r, -EPERM);

        assert_int_equal(load_in_child(CAP(CAP_BPF) | CAP(CAP_PERFMON), false, &result), 0);
        assert_string_equal(result.reason, "");
        assert_true(result.r > 0);
        assert_int_equal(result.r, result.n);
        assert_int_equal(load_in_child(CAP(CAP_SYS_ADMIN), false, &result), 0);
        assert_string_equal(result.reason, "");
        assert_true(result.r > 0);
        assert_int_equal(result.r, result.n);
}

static void test_load_without_btf_says_so(void **state) {
        LoadResult result;

        require_caps();

        assert_int_equal(load_in_child(permitted_caps(), true, &result), 0);
        assert_int_equal(result.r, -EOPNOTSUPP);
        assert_string_equal(result.reason,
                            "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing: it needs "
                            "CONFIG_DEBUG_INFO_BTF=y)");
}

/* Runs bpf_counter_new() with $MAPGUARD_BPF_LOADER set to LOADER; returns its result and reason. */
static int new_with_loader(const char *loader, char **ret_reason) {
        _cleanup_free_ char *saved = NULL;
        BpfCounter *c = NULL;
        const char *old = getenv("MAPGUARD_BPF_LOADER");
        int r;

        if (old)
                assert_non_null(saved = strdup(old));
        assert_int_equal(setenv("MAPGUARD_BPF_LOADER", loader, true), 0);
        r = bpf_counter_new(&c, ret_reason);
        if (saved)
                assert_int_equal(setenv("MAPGUARD_BPF_LOADER", saved, true), 0);
        else
                assert_int_equal(unsetenv("MAPGUARD_BPF_LOADER"), 0);
        assert_null(c);
        return r;
}

static void test_loader_failures_say_so(void **state) {
        _cleanup_free_ char *reason = NULL, *script = NULL;
        char dir[] = "/tmp/mapguard-test-loader-XXXXXX";
        FILE *f;

        require_kernel();

        assert_int_equal(new_with_loader("/nonexistent/mapguard-bpf-loader", &reason), -ENOENT);
        assert_string_equal(reason,
                            "cannot execute the BPF loader /nonexistent/mapguard-bpf-loader: "
                            "No such file or directory");
        free(TAKE_PTR(reason));

        /* A loader that exits without answering, and one that is killed. */
        assert_int_equal(new_with_loader("/bin/true", &reason), -EIO);
        assert_string_equal(reason, "the BPF loader /bin/true exited without an answer");
        free(TAKE_PTR(reason));

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&script, "%s/killed", dir) > 0);
        assert_non_null(f = fopen(script, "we"));
        fputs("#!/bin/sh\nkill -KILL $$\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(script, 0700), 0);
        assert_int_equal(new_with_loader(script, &reason), -EIO);
        assert_non_null(strstr(reason, "was killed by signal 9"));
        free(TAKE_PTR(reason));

        /* One that hangs, with a child of its own: given up after a few seconds, both killed. */
        assert_non_null(f = fopen(script, "we"));
        fputs("#!/bin/sh\nsleep 987654 &\nwait\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(new_with_loader(script, &reason), -ETIMEDOUT);
        assert_non_null(strstr(reason, "did not answer within"));
        /* SIGKILL takes effect asynchronously: wait, with a deadline, for the loader's child to go. */
        int gone = -1;
        for (int i = 0; i < 300 && gone != 0; i++) {
                gone = system("! pgrep -f '^sleep 987654$' >/dev/null");
                if (gone != 0)
                        usleep(10000);
        }
        assert_int_equal(gone, 0);
        assert_int_equal(unlink(script), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* What the loader made of the limit-hit program in a sandbox. */
typedef struct HitsResult {
        int r;
        BpfHitsMode mode;
        char note[600];
} HitsResult;

typedef enum Sandbox {
        SANDBOX_NONE,
        SANDBOX_NO_TRACEFS,         /* an empty tmpfs over /sys/kernel/tracing and /sys/kernel/debug */
        SANDBOX_NO_PERF_EVENT_OPEN, /* a seccomp filter: perf_event_open() fails with EPERM */
} Sandbox;

/* Makes perf_event_open() fail with EPERM in this process and what it executes, as systemd's
 * SystemCallFilter= without it does. Returns 0 or -errno. */
static int deny_perf_event_open(void) {
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(filter), .filter = filter };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return -errno;
        return 0;
}

/* Hides tracefs from this process in a mount namespace of its own. Returns 0 or -errno. */
static int hide_tracefs(void) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/sys/kernel/tracing", "tmpfs", 0, NULL) < 0 ||
            mount("tmpfs", "/sys/kernel/debug", "tmpfs", 0, NULL) < 0)
                return -errno;
        return 0;
}

/* Loads the limit-hit program from the tracepoint mode on (the loader skips fexit), in a child in
 * SANDBOX, and says what it got. */
static void hits_in_sandbox(Sandbox sandbox, HitsResult *ret) {
        HitsResult result = {};
        int p[2], status;
        ssize_t k;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *reason = NULL, *note = NULL;
                BpfCounter *c = NULL;
                BpfHits *h = NULL;

                close(p[0]);
                result.r = sandbox == SANDBOX_NO_TRACEFS        ? hide_tracefs()
                        : sandbox == SANDBOX_NO_PERF_EVENT_OPEN ? deny_perf_event_open()
                                                                : 0;
                if (result.r < 0)
                        snprintf(result.note, sizeof(result.note), "cannot set the sandbox up");
                else {
                        (void) setenv(BPF_LOADER_HITS_WAY_ENV, "tracepoint", 1);
                        result.r = bpf_counter_new(&c, &reason);
                        if (result.r >= 0)
                                result.r = bpf_counter_take_hits(c, &h, &note);
                        if (h)
                                result.mode = bpf_hits_mode(h);
                        snprintf(result.note, sizeof(result.note), "%s", note ?: reason ?: "");
                        bpf_hits_free(h);
                        bpf_counter_free(c);
                }
                _exit(write(p[1], &result, sizeof(result)) == sizeof(result) ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        close(p[1]);
        do
                k = read(p[0], ret, sizeof(*ret));
        while (k < 0 && errno == EINTR);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCESS);
        assert_int_equal(k, sizeof(*ret));
        ret->note[sizeof(ret->note) - 1] = '\0';
}

/* Without tracefs (the ids of the syscalls' exit events are there) or without perf_event_open() (a
 * unit whose SystemCallFilter= lacks it), the program falls back to the raw sys_exit tracepoint, and
 * the note says why. */
static void test_hits_tracepoint_falls_back(void **state) {
        HitsResult result;

        require_caps();
        hits_in_sandbox(SANDBOX_NONE, &result);
        if (result.r < 0 || result.mode != BPF_HITS_TRACEPOINT) {
                print_message("# the tracepoint mode is not available here (%s), skipping\n", result.note);
                skip();
        }

        hits_in_sandbox(SANDBOX_NO_TRACEFS, &result);
        assert_int_equal(result.r, 0);
        assert_int_equal(result.mode, BPF_HITS_SYS_EXIT);
        assert_non_null(strstr(result.note, "tracepoint: cannot find the syscalls' exit events"));
        assert_non_null(strstr(result.note, "no tracefs with syscall events at /sys/kernel/tracing"));

        hits_in_sandbox(SANDBOX_NO_PERF_EVENT_OPEN, &result);
        assert_int_equal(result.r, 0);
        assert_int_equal(result.mode, BPF_HITS_SYS_EXIT);
        assert_non_null(strstr(result.note, "tracepoint: cannot attach them: Operation not permitted"));
        assert_non_null(strstr(result.note, "perf_event_open() failed"));
}

static void test_built_without_bpf(void **state) {
        BpfCounter *c = (BpfCounter *) state; /* any non-NULL value: must stay untouched */
        char *reason = NULL;

        if (HAVE_BPF) {
                print_message("# mapguard was built with BPF support, skipping\n");
                skip();
        }
        assert_int_equal(bpf_counter_new(&c, &reason), -EOPNOTSUPP);
        assert_ptr_equal(c, (BpfCounter *) state);
        assert_string_equal(reason, "mapguard was built without BPF support");
        free(reason);
        assert_null(bpf_counter_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_built_without_bpf),
                cmocka_unit_test(test_load_without_btf_says_so),
                cmocka_unit_test(test_loader_failures_say_so),
                cmocka_unit_test(test_load_needs_bpf_and_perfmon),
                cmocka_unit_test(test_hits_tracepoint_falls_back),
        };

        return cmocka_run_group_tests(tests, setup_all, NULL);
}
