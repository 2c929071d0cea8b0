/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Children that fail one mapping call at the wall, for the limit-hit tests: a forked child joins a
 * cgroup, names itself, fills its own map count to the live vm.max_map_count (or near it) with one
 * region split page by page, and makes the call of its scenario. Uses cmocka's assertions in the
 * parent. */

#include <stdint.h>
#include <sys/types.h>

#include "limit-hit.h"

/* More failed calls than the ring buffer holds (MAPGUARD_HIT_RINGBUF_SIZE / 88-byte records: 2,978). */
#define FLOOD_CALLS 5000

typedef enum Scenario {
        SC_MMAP,          /* at L: a new mapping makes L+1, the next one fails */
        SC_MPROTECT,      /* at L: mprotect inside a VMA (splits) */
        SC_PKEY_MPROTECT, /* at L: the same with pkey_mprotect(pkey -1) */
        SC_MUNMAP,        /* at L: a hole inside a VMA */
        SC_MREMAP,        /* at L-3: a moving mremap */
        SC_MADVISE,       /* at L: MADV_DONTFORK on a page inside a VMA (EAGAIN) */
        SC_MLOCK,         /* at L: mlock of a page inside a VMA */
        SC_MSEAL,         /* at L: mseal of a page inside a VMA (6.10+) */
        SC_BRK,           /* at L+1: growing the heap */
        SC_SHORTAGE,      /* at L-6, a real ENOMEM: mmap beyond a small RLIMIT_AS */
        SC_MPROTECT_3,    /* at L: three failing mprotect calls, then one failing munmap */
        SC_FLOOD,         /* at L: FLOOD_CALLS failing mprotect calls in a tight loop */
        SC_IA32_MLOCK, /* at L: mlock through the 32-bit entry (int 0x80: number 150, munlock's in 64 bits)
                        */
        _SC_MAX,
} Scenario;

typedef struct ScenarioInfo {
        const char *comm;        /* the child's name */
        LimitHitSyscall syscall; /* the call that fails (the last one, for several) */
        int error;               /* its errno */
} ScenarioInfo;

extern const ScenarioInfo scenarios[_SC_MAX];

/* What a child reports after its call. */
typedef struct ChildResult {
        int setup_error;   /* errno of what failed before the call, 0 when the call was made */
        const char *step;  /* what failed (a string of the test binary, valid in the parent too) */
        int64_t ret;       /* the raw return value (brk: the break it got) */
        int call_errno;    /* errno after the call (0 for brk) */
        int64_t brk_asked; /* brk: the break asked for */
        uint32_t map_count_before, map_count_after;
} ChildResult;

/* Forks a child that joins the cgroup DIR, names itself and runs the scenario SC under the limit LIMIT;
 * with BEFORE_CALL, the child waits at the wall, right before its call, until BEFORE_CALL has run here.
 * Fails the test when the child could not get to its call. Returns the child's pid (reaped) and its
 * result in *RET. */
pid_t hit_child_run(Scenario sc, const char *dir, uint32_t limit, ChildResult *ret,
                    void (*before_call)(void));
