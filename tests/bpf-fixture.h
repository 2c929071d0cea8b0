/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the BPF backend's tests share: where cgroup2 is mounted, whether the host can run the kernel
 * tests at all, and skipping (saying why) when it cannot. */
#pragma once

#include <errno.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-counter.h"
#include "util.h"

#ifndef HAVE_BPF
#define HAVE_BPF 0
#endif

/* Returns the cgroup2 mount: /sys/fs/cgroup on a pure cgroup2 host, /sys/fs/cgroup/unified on a
 * hybrid one, NULL when there is none. */
static inline const char *cgroup2_mount(void) {
        static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        struct statfs sfs;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (statfs(candidates[i], &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                        return candidates[i];
        return NULL;
}

/* Returns NULL when the kernel tests can run here, else why not. */
static inline const char *kernel_tests_missing(void) {
        static char reason[512];
        _cleanup_free_ char *load_reason = NULL;
        BpfCounter *c = NULL;
        const char *mount;
        int r;

        if (!HAVE_BPF)
                return "mapguard was built without BPF support";
        if (geteuid() != 0)
                return "not root: loading BPF and creating cgroups need it";
        if (access("/sys/kernel/btf/vmlinux", F_OK) < 0)
                return "the kernel has no BTF at /sys/kernel/btf/vmlinux";
        mount = cgroup2_mount();
        if (!mount)
                return "no cgroup2 file system at /sys/fs/cgroup or /sys/fs/cgroup/unified";
        if (access(mount, W_OK) < 0) {
                snprintf(reason, sizeof(reason), "cannot create cgroups in %s: %m", mount);
                return reason;
        }
        r = bpf_counter_new(&c, &load_reason);
        bpf_counter_free(c);
        /* What the host lacks (privileges, kernel support) skips; anything else (the loader cannot be
         * executed, dies, or fails to load the program) is mapguard's fault: the tests run, and fail. */
        if (r == -EPERM || r == -EOPNOTSUPP) {
                snprintf(reason, sizeof(reason), "BPF backend unavailable: %s", load_reason ?: strerror(-r));
                return reason;
        }
        return NULL;
}

/* Skips the calling test when missing (a reason from kernel_tests_missing()) is set, saying why. */
static inline void skip_when_missing(const char *missing) {
        if (missing) {
                print_message("# %s, skipping\n", missing);
                skip();
        }
}

/* Splits one PROT_NONE mapping into n VMAs by making every other page readable. n is odd. */
static inline int make_vmas(unsigned n) {
        long page = sysconf(_SC_PAGESIZE);
        uint8_t *p;

        p = mmap(NULL, (size_t) n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -errno;
        for (unsigned i = 1; i < n; i += 2)
                if (mprotect(p + (size_t) i * page, page, PROT_READ) < 0)
                        return -errno;
        return 0;
}
