/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limit-hit.h"
#include "utf8.h"
#include "util.h"

static const char *const syscall_names[_LIMIT_HIT_SYSCALL_MAX] = {
        [LIMIT_HIT_SYSCALL_MMAP] = "mmap",
        [LIMIT_HIT_SYSCALL_MUNMAP] = "munmap",
        [LIMIT_HIT_SYSCALL_MPROTECT] = "mprotect",
        [LIMIT_HIT_SYSCALL_PKEY_MPROTECT] = "pkey_mprotect",
        [LIMIT_HIT_SYSCALL_MREMAP] = "mremap",
        [LIMIT_HIT_SYSCALL_BRK] = "brk",
        [LIMIT_HIT_SYSCALL_MADVISE] = "madvise",
        [LIMIT_HIT_SYSCALL_PROCESS_MADVISE] = "process_madvise",
        [LIMIT_HIT_SYSCALL_MLOCK] = "mlock",
        [LIMIT_HIT_SYSCALL_MLOCK2] = "mlock2",
        [LIMIT_HIT_SYSCALL_MUNLOCK] = "munlock",
        [LIMIT_HIT_SYSCALL_MSEAL] = "mseal",
        [LIMIT_HIT_SYSCALL_MBIND] = "mbind",
        [LIMIT_HIT_SYSCALL_SHMAT] = "shmat",
        [LIMIT_HIT_SYSCALL_REMAP_FILE_PAGES] = "remap_file_pages",
};

const char *limit_hit_syscall_to_string(LimitHitSyscall s) {
        if (s < 0 || s >= _LIMIT_HIT_SYSCALL_MAX)
                return NULL;
        return syscall_names[s];
}

LimitHitSyscall limit_hit_syscall_from_string(const char *s) {
        if (!s)
                return LIMIT_HIT_SYSCALL_INVALID;
        for (int i = 0; i < _LIMIT_HIT_SYSCALL_MAX; i++)
                if (syscall_names[i] && streq(syscall_names[i], s))
                        return (LimitHitSyscall) i;
        return LIMIT_HIT_SYSCALL_INVALID;
}

const char *limit_hit_errno_to_string(int error) {
        switch (error) {
        case ENOMEM:
                return "ENOMEM";
        case EAGAIN:
                return "EAGAIN";
        default:
                return NULL;
        }
}

const char *limit_hit_evidence_to_string(LimitHitEvidence e) {
        switch (e) {
        case LIMIT_HIT_CAUGHT:
                return "caught";
        case LIMIT_HIT_OBSERVED:
                return "observed";
        default:
                return NULL;
        }
}

int limit_hit_syscall_errno(LimitHitSyscall syscall) {
        if (!limit_hit_syscall_to_string(syscall))
                return 0;
        /* mm/madvise.c turns the split's ENOMEM into EAGAIN ("a kernel resource was temporarily
         * unavailable"); everything else passes it through. */
        if (syscall == LIMIT_HIT_SYSCALL_MADVISE || syscall == LIMIT_HIT_SYSCALL_PROCESS_MADVISE)
                return EAGAIN;
        return ENOMEM;
}

uint32_t limit_hit_fails_at(LimitHitOp op, uint32_t max_map_count) {
        uint32_t below;

        switch (op) {
        case LIMIT_HIT_OP_NEW_MAPPING:
                /* mmap_region()/do_brk_flags(): map_count > sysctl_max_map_count. */
                return max_map_count == UINT32_MAX ? UINT32_MAX : max_map_count + 1;
        case LIMIT_HIT_OP_SPLIT:
                /* split_vma(): map_count >= sysctl_max_map_count. */
                below = 0;
                break;
        case LIMIT_HIT_OP_SPLIT_TWICE:
                below = 1;
                break;
        case LIMIT_HIT_OP_MREMAP_MOVE:
                /* mremap: "we'd need at least 3 more VMAs" (map_count >= L - 3). */
                below = 3;
                break;
        case LIMIT_HIT_OP_MREMAP_FIXED:
                /* mremap_to(): unmapping the target may split twice on top: L - 5. */
                below = 5;
                break;
        default:
                return UINT32_MAX;
        }
        return max_map_count > below ? max_map_count - below : 0;
}

LimitHitVerdict limit_hit_classify(LimitHitSyscall syscall, int64_t ret, uint64_t brk_requested,
                                   uint32_t map_count, uint32_t max_map_count) {
        int error = limit_hit_syscall_errno(syscall);

        if (error == 0 || max_map_count == 0)
                return LIMIT_HIT_NOT_FAILED;

        if (syscall == LIMIT_HIT_SYSCALL_BRK) {
                /* brk returns the break it got: the old one when it failed. brk(0) only asks. */
                if (brk_requested == 0 || (uint64_t) ret == brk_requested)
                        return LIMIT_HIT_NOT_FAILED;
        } else if (ret != -(int64_t) error)
                return LIMIT_HIT_NOT_FAILED;

        if ((uint64_t) map_count + LIMIT_HIT_MARGIN < max_map_count)
                return LIMIT_HIT_SHORTAGE;
        return LIMIT_HIT_AT_LIMIT;
}

bool limit_hit_observed(uint32_t map_count, uint32_t max_map_count) {
        return max_map_count > 0 && map_count >= max_map_count;
}

bool limit_hit_make_observed(LimitHit *ret, uint32_t pid, const char *comm, uint32_t map_count,
                             uint32_t max_map_count, uint64_t cgroup_id, uint64_t start_time_ns,
                             uint64_t time_usec) {
        *ret = (LimitHit){
                .pid = pid,
                .tid = pid,
                .syscall = LIMIT_HIT_SYSCALL_INVALID,
                .map_count = map_count,
                .max_map_count = max_map_count,
                .cgroup_id = cgroup_id,
                .start_time_ns = start_time_ns,
                .time_usec = time_usec,
                .evidence = LIMIT_HIT_OBSERVED,
        };
        /* As a caught hit's (bpf-hits.c): the name as the process chose it, valid UTF-8; what shows it
         * as text escapes it there. */
        if (comm) {
                snprintf(ret->comm, sizeof(ret->comm), "%s", comm);
                utf8_make_valid(ret->comm);
        }
        return limit_hit_observed(map_count, max_map_count);
}

struct LimitHitBursts {
        /* Open bursts in the order they opened; few at a time (processes at the limit), so a plain
         * array. */
        LimitHitBurst *bursts;
        size_t n, allocated;
};

LimitHitBursts *limit_hit_bursts_new(void) {
        return calloc(1, sizeof(LimitHitBursts));
}

LimitHitBursts *limit_hit_bursts_free(LimitHitBursts *b) {
        if (!b)
                return NULL;
        free(b->bursts);
        free(b);
        return NULL;
}

static LimitHitBurst *bursts_lookup(const LimitHitBursts *b, uint32_t pid, uint64_t start_time_ns) {
        for (size_t i = 0; i < b->n; i++)
                if (b->bursts[i].first.pid == pid && b->bursts[i].first.start_time_ns == start_time_ns)
                        return &b->bursts[i];
        return NULL;
}

int limit_hit_bursts_add(LimitHitBursts *b, const LimitHit *hit) {
        LimitHitBurst *burst;

        if (!b || !hit)
                return -EINVAL;

        burst = bursts_lookup(b, hit->pid, hit->start_time_ns);
        /* A hit that comes after its burst should have closed (the caller flushed late) opens a new
         * one only once flushed; until then it is the same burst, so nothing is lost. */
        if (burst) {
                burst->n_hits++;
                if (hit->time_usec >= burst->last.time_usec)
                        burst->last = *hit;
                return 0;
        }

        if (ARRAY_RESERVE(b->bursts, b->allocated, b->n, 8) < 0)
                return -ENOMEM;
        b->bursts[b->n++] = (LimitHitBurst){ .first = *hit, .last = *hit, .n_hits = 1 };
        return 1;
}

size_t limit_hit_bursts_flush(LimitHitBursts *b, uint64_t now_usec, bool force, LimitHitBurstFunc cb,
                              void *userdata) {
        size_t n_done = 0, kept = 0;

        if (!b)
                return 0;
        for (size_t i = 0; i < b->n; i++) {
                const LimitHitBurst *burst = &b->bursts[i];

                if (force || now_usec >= burst->last.time_usec + LIMIT_HIT_BURST_USEC) {
                        if (cb)
                                cb(burst, userdata);
                        n_done++;
                } else
                        b->bursts[kept++] = *burst;
        }
        b->n = kept;
        return n_done;
}

uint64_t limit_hit_bursts_next_close(const LimitHitBursts *b) {
        uint64_t next = UINT64_MAX;

        if (!b)
                return UINT64_MAX;
        for (size_t i = 0; i < b->n; i++)
                if (b->bursts[i].last.time_usec + LIMIT_HIT_BURST_USEC < next)
                        next = b->bursts[i].last.time_usec + LIMIT_HIT_BURST_USEC;
        return next;
}

const LimitHitBurst *limit_hit_bursts_find(const LimitHitBursts *b, uint32_t pid, uint64_t start_time_ns) {
        return b ? bursts_lookup(b, pid, start_time_ns) : NULL;
}
