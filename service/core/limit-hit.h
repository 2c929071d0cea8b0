/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limit hits: which failed mapping calls count as having hit
 * vm.max_map_count, their names for the journal (MAPGUARD_SYSCALL, MAPGUARD_ERRNO, MAPGUARD_EVIDENCE),
 * the hit the /proc backend observes, and the bursts that make one journal entry of many failed calls.
 * Pure: no I/O, no clock; the caller passes the time. The BPF side that catches the calls is
 * bpf-hits.h. */

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hits.h" /* the wire values of the syscalls */

/* A call counts when map_count + LIMIT_HIT_MARGIN >= max_map_count: the earliest a call can fail at
 * the limit is a MREMAP_FIXED move at L-5 (limit_hit_fails_at()). */
#define LIMIT_HIT_MARGIN 5U

/* Failed calls of one process closer together than this are one burst (one journal entry). */
#define LIMIT_HIT_BURST_USEC UINT64_C(1000000)

typedef enum LimitHitSyscall {
        LIMIT_HIT_SYSCALL_MMAP = MAPGUARD_HIT_SYSCALL_MMAP,
        LIMIT_HIT_SYSCALL_MUNMAP = MAPGUARD_HIT_SYSCALL_MUNMAP,
        LIMIT_HIT_SYSCALL_MPROTECT = MAPGUARD_HIT_SYSCALL_MPROTECT,
        LIMIT_HIT_SYSCALL_PKEY_MPROTECT = MAPGUARD_HIT_SYSCALL_PKEY_MPROTECT,
        LIMIT_HIT_SYSCALL_MREMAP = MAPGUARD_HIT_SYSCALL_MREMAP,
        LIMIT_HIT_SYSCALL_BRK = MAPGUARD_HIT_SYSCALL_BRK,
        LIMIT_HIT_SYSCALL_MADVISE = MAPGUARD_HIT_SYSCALL_MADVISE,
        LIMIT_HIT_SYSCALL_PROCESS_MADVISE = MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE,
        LIMIT_HIT_SYSCALL_MLOCK = MAPGUARD_HIT_SYSCALL_MLOCK,
        LIMIT_HIT_SYSCALL_MLOCK2 = MAPGUARD_HIT_SYSCALL_MLOCK2,
        LIMIT_HIT_SYSCALL_MUNLOCK = MAPGUARD_HIT_SYSCALL_MUNLOCK,
        LIMIT_HIT_SYSCALL_MSEAL = MAPGUARD_HIT_SYSCALL_MSEAL,
        LIMIT_HIT_SYSCALL_MBIND = MAPGUARD_HIT_SYSCALL_MBIND,
        LIMIT_HIT_SYSCALL_SHMAT = MAPGUARD_HIT_SYSCALL_SHMAT,
        LIMIT_HIT_SYSCALL_REMAP_FILE_PAGES = MAPGUARD_HIT_SYSCALL_REMAP_FILE_PAGES,
        _LIMIT_HIT_SYSCALL_MAX = MAPGUARD_HIT_SYSCALL_MAX,
        LIMIT_HIT_SYSCALL_INVALID = -1,
} LimitHitSyscall;

/* How a hit was seen: `caught` (the failed call, by the BPF program) or `observed` (a read of a process
 * with no headroom, by the /proc backend or a scan). */
typedef enum LimitHitEvidence {
        LIMIT_HIT_CAUGHT,
        LIMIT_HIT_OBSERVED,
        _LIMIT_HIT_EVIDENCE_MAX,
} LimitHitEvidence;

/* What a failed call is, by limit_hit_classify(). */
typedef enum LimitHitVerdict {
        LIMIT_HIT_NOT_FAILED, /* it succeeded, or failed with an error that is not the limit's */
        LIMIT_HIT_SHORTAGE,   /* the limit's errno, but with headroom: a real memory shortage */
        LIMIT_HIT_AT_LIMIT,   /* a limit hit */
} LimitHitVerdict;

/* The ways a mapping call meets the limit, with L = vm.max_map_count and N = the process's map_count
 * (mm/mmap.c, mm/vma.c; measured on Linux 6.18): mmap() and brk() fail when N > L, so a process can
 * reach L+1; a call that splits a mapping (mprotect, pkey_mprotect, munmap of a hole, MAP_FIXED into a
 * mapping, mlock, mseal, madvise) fails at N >= L, at N >= L-1 when it splits at both ends; a moving
 * mremap() at N >= L-3, with MREMAP_FIXED at N >= L-5. They fail with ENOMEM, except madvise and
 * process_madvise (EAGAIN) and brk (which returns the old break); page faults never check L. */
typedef enum LimitHitOp {
        LIMIT_HIT_OP_NEW_MAPPING,  /* mmap, brk: fail at N > L (a process can reach L+1) */
        LIMIT_HIT_OP_SPLIT,        /* mprotect, munmap of a hole, mlock, madvise, mseal...: N >= L */
        LIMIT_HIT_OP_SPLIT_TWICE,  /* a range inside one VMA, split at both ends: N >= L-1 */
        LIMIT_HIT_OP_MREMAP_MOVE,  /* a moving mremap: N >= L-3 */
        LIMIT_HIT_OP_MREMAP_FIXED, /* mremap with MREMAP_FIXED: N >= L-5 */
        _LIMIT_HIT_OP_MAX,
} LimitHitOp;

/* One limit hit of one process. */
typedef struct LimitHit {
        uint32_t pid;            /* thread-group id, as the daemon sees pids */
        uint32_t tid;            /* the thread that made the call (caught), else pid */
        LimitHitSyscall syscall; /* LIMIT_HIT_SYSCALL_INVALID when observed */
        int error;               /* positive errno the caller got (ENOMEM, EAGAIN); 0 when observed */
        uint32_t map_count;      /* mm->map_count at the time */
        uint32_t max_map_count;  /* the limit it was compared with */
        uint64_t cgroup_id;      /* the watched cgroup2 cgroup it is in (0 when not known) */
        uint64_t leaf_cgroup_id; /* caught: the cgroup2 cgroup of the caller itself, a descendant-or-self
                                  * of cgroup_id (0 when not known) */
        uint64_t start_time_ns;  /* process start, CLOCK_BOOTTIME ns: tells a reused pid apart */
        uint64_t time_usec;      /* when, CLOCK_MONOTONIC µs */
        LimitHitEvidence evidence;
        char comm[16]; /* NUL-terminated, valid UTF-8 */
} LimitHit;

/* Returns "mmap", "munmap", ... (what MAPGUARD_SYSCALL says), NULL for an unknown value. */
const char *limit_hit_syscall_to_string(LimitHitSyscall s);
/* Returns the syscall named S, or LIMIT_HIT_SYSCALL_INVALID. */
LimitHitSyscall limit_hit_syscall_from_string(const char *s);

/* Returns "ENOMEM" or "EAGAIN" (MAPGUARD_ERRNO), NULL for any other errno. */
const char *limit_hit_errno_to_string(int error);

/* Returns "caught" or "observed" (MAPGUARD_EVIDENCE and the HitDetection property), NULL otherwise. */
const char *limit_hit_evidence_to_string(LimitHitEvidence e);

/* Returns the errno with which SYSCALL fails at the limit: EAGAIN for madvise and process_madvise,
 * ENOMEM for the others (brk included, as glibc's brk() reports it); 0 for an unknown syscall. */
int limit_hit_syscall_errno(LimitHitSyscall syscall);

/* Returns the smallest map_count N at which OP fails under the limit L (L+1 for a new mapping, L for a
 * split, ... down to L-5; clamped at 0), or UINT32_MAX for an unknown op. Documents the kernel facts
 * the margin comes from; limit_hit_classify() does not need the op. */
uint32_t limit_hit_fails_at(LimitHitOp op, uint32_t max_map_count);

/* Classifies a returned mapping call. RET is the raw return value (-errno, or for brk the break it
 * got), BRK_REQUESTED the break asked for (brk only: it fails by returning something else; brk(0) is a
 * query and never fails), MAP_COUNT the process's count after the call, MAX_MAP_COUNT the limit.
 * Returns LIMIT_HIT_AT_LIMIT when it failed with the syscall's limit errno (limit_hit_syscall_errno())
 * and map_count + LIMIT_HIT_MARGIN >= max_map_count; LIMIT_HIT_SHORTAGE when it failed so with more
 * headroom; LIMIT_HIT_NOT_FAILED otherwise (also for an unknown syscall or a limit of 0). */
LimitHitVerdict limit_hit_classify(LimitHitSyscall syscall, int64_t ret, uint64_t brk_requested,
                                   uint32_t map_count, uint32_t max_map_count);

/* The /proc backend's evidence: a read that finds a process with no headroom (N >= L) is one hit.
 * Returns whether it is. */
bool limit_hit_observed(uint32_t map_count, uint32_t max_map_count);

/* Fills *ret with the observed hit of a process read at TIME_USEC (CLOCK_MONOTONIC µs) with MAP_COUNT
 * under MAX_MAP_COUNT: syscall LIMIT_HIT_SYSCALL_INVALID, error 0, tid = pid, evidence observed; COMM
 * is copied (cut to 15 bytes; NULL: empty). Returns whether it is a hit (limit_hit_observed()); *ret is
 * filled either way. */
bool limit_hit_make_observed(LimitHit *ret, uint32_t pid, const char *comm, uint32_t map_count,
                             uint32_t max_map_count, uint64_t cgroup_id, uint64_t start_time_ns,
                             uint64_t time_usec);

/* Bursts: failed calls of one process (pid + start time) each less than LIMIT_HIT_BURST_USEC after
 * the previous one are one burst, told once (one journal entry with MAPGUARD_HITS=n_hits). A burst
 * opens with its first hit, which the caller may announce at once (the LimitHit signal), and closes
 * LIMIT_HIT_BURST_USEC after its last hit: then limit_hit_bursts_flush() hands it over. */
typedef struct LimitHitBurst {
        LimitHit first;  /* the hit that opened it */
        LimitHit last;   /* the latest (== first while n_hits is 1) */
        uint64_t n_hits; /* failed calls (or observations) in it, >= 1 */
} LimitHitBurst;

typedef struct LimitHitBursts LimitHitBursts;

/* Returns a new, empty set of open bursts, or NULL when out of memory. */
LimitHitBursts *limit_hit_bursts_new(void);
/* Accepts NULL; returns NULL. Open bursts are dropped: flush them first. */
LimitHitBursts *limit_hit_bursts_free(LimitHitBursts *b);

/* Adds HIT (at hit->time_usec) to its process's open burst, or opens one. Returns 1 when it opened a
 * new burst, 0 when it joined an open one, -ENOMEM. A hit of a pid with another start time than the
 * open burst's (a reused pid) closes nothing by itself: both are kept apart. */
int limit_hit_bursts_add(LimitHitBursts *b, const LimitHit *hit);

/* Calls CB for each burst whose last hit is at least LIMIT_HIT_BURST_USEC before NOW_USEC (all of them
 * when FORCE: at exit, or when the process is gone), oldest first, and forgets it. Returns the number
 * handed over. CB must not call back into B. */
typedef void (*LimitHitBurstFunc)(const LimitHitBurst *burst, void *userdata);
size_t limit_hit_bursts_flush(LimitHitBursts *b, uint64_t now_usec, bool force, LimitHitBurstFunc cb,
                              void *userdata);

/* Returns the CLOCK_MONOTONIC µs at which the next open burst closes (for a timer), or UINT64_MAX
 * when none is open. */
uint64_t limit_hit_bursts_next_close(const LimitHitBursts *b);

/* Returns the open burst of the process PID (started at START_TIME_NS), or NULL: what the exit
 * attribution asks when the process exits. */
const LimitHitBurst *limit_hit_bursts_find(const LimitHitBursts *b, uint32_t pid, uint64_t start_time_ns);
