/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* limit-hit.c: which failed mapping calls are limit hits (the limit's errno while map_count is within
 * LIMIT_HIT_MARGIN of vm.max_map_count or above), each syscall's off-by-one from the kernel
 * facts, the names the journal uses, the /proc backend's observed hit, and the bursts. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limit-hit.h"
#include "util.h"

#define L 65530U

/* Every syscall the program can report, with the op by which it meets the limit at its earliest. */
static const struct {
        LimitHitSyscall syscall;
        const char *name;
        int error;
        LimitHitOp op;
} calls[] = {
        { LIMIT_HIT_SYSCALL_MMAP, "mmap", ENOMEM, LIMIT_HIT_OP_NEW_MAPPING },
        { LIMIT_HIT_SYSCALL_BRK, "brk", ENOMEM, LIMIT_HIT_OP_NEW_MAPPING },
        { LIMIT_HIT_SYSCALL_SHMAT, "shmat", ENOMEM, LIMIT_HIT_OP_NEW_MAPPING },
        { LIMIT_HIT_SYSCALL_MUNMAP, "munmap", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MPROTECT, "mprotect", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_PKEY_MPROTECT, "pkey_mprotect", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MLOCK, "mlock", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MLOCK2, "mlock2", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MUNLOCK, "munlock", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MSEAL, "mseal", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MBIND, "mbind", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_REMAP_FILE_PAGES, "remap_file_pages", ENOMEM, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MADVISE, "madvise", EAGAIN, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_PROCESS_MADVISE, "process_madvise", EAGAIN, LIMIT_HIT_OP_SPLIT_TWICE },
        { LIMIT_HIT_SYSCALL_MREMAP, "mremap", ENOMEM, LIMIT_HIT_OP_MREMAP_FIXED },
};

/* A failure as the syscall reports it: -errno, or for brk the old break (not the one asked for). */
static int64_t failed_ret(LimitHitSyscall s) {
        return s == LIMIT_HIT_SYSCALL_BRK ? 0x1000000 : -(int64_t) limit_hit_syscall_errno(s);
}

#define BRK_ASKED UINT64_C(0x2000000)

static void test_names(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                assert_string_equal(limit_hit_syscall_to_string(calls[i].syscall), calls[i].name);
                assert_int_equal(limit_hit_syscall_from_string(calls[i].name), calls[i].syscall);
                assert_int_equal(limit_hit_syscall_errno(calls[i].syscall), calls[i].error);
        }
        /* Every wire value has a name: nothing the program reports is printed as NULL. */
        for (int s = 1; s < _LIMIT_HIT_SYSCALL_MAX; s++)
                assert_non_null(limit_hit_syscall_to_string((LimitHitSyscall) s));
        assert_null(limit_hit_syscall_to_string((LimitHitSyscall) MAPGUARD_HIT_SYSCALL_NONE));
        assert_null(limit_hit_syscall_to_string(_LIMIT_HIT_SYSCALL_MAX));
        assert_null(limit_hit_syscall_to_string(LIMIT_HIT_SYSCALL_INVALID));
        assert_int_equal(limit_hit_syscall_from_string("read"), LIMIT_HIT_SYSCALL_INVALID);
        assert_int_equal(limit_hit_syscall_from_string(NULL), LIMIT_HIT_SYSCALL_INVALID);
        assert_int_equal(limit_hit_syscall_errno(LIMIT_HIT_SYSCALL_INVALID), 0);

        assert_string_equal(limit_hit_errno_to_string(ENOMEM), "ENOMEM");
        assert_string_equal(limit_hit_errno_to_string(EAGAIN), "EAGAIN");
        assert_null(limit_hit_errno_to_string(EINVAL));
        assert_null(limit_hit_errno_to_string(0));

        assert_string_equal(limit_hit_evidence_to_string(LIMIT_HIT_CAUGHT), "caught");
        assert_string_equal(limit_hit_evidence_to_string(LIMIT_HIT_OBSERVED), "observed");
        assert_null(limit_hit_evidence_to_string(_LIMIT_HIT_EVIDENCE_MAX));
}

/* The kernel facts: where each way of meeting the limit fails, and that the margin covers them all. */
static void test_fails_at(void **state) {
        /* mmap and brk fail at N > L: a process can reach L + 1. */
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_NEW_MAPPING, L), L + 1);
        /* A split already fails at N >= L, one that splits twice at L - 1. */
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_SPLIT, L), L);
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_SPLIT_TWICE, L), L - 1);
        /* A moving mremap at N >= L - 3, with MREMAP_FIXED at L - 5. */
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_MREMAP_MOVE, L), L - 3);
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_MREMAP_FIXED, L), L - 5);
        assert_int_equal(limit_hit_fails_at(_LIMIT_HIT_OP_MAX, L), UINT32_MAX);
        /* Tiny and huge limits: no wrap-around. */
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_MREMAP_FIXED, 3), 0);
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_NEW_MAPPING, UINT32_MAX), UINT32_MAX);

        /* The margin is the earliest failure: nothing fails at the limit outside it. */
        for (int op = 0; op < _LIMIT_HIT_OP_MAX; op++)
                assert_true(limit_hit_fails_at((LimitHitOp) op, L) + LIMIT_HIT_MARGIN >= L);
        assert_int_equal(limit_hit_fails_at(LIMIT_HIT_OP_MREMAP_FIXED, L) + LIMIT_HIT_MARGIN, L);
}

/* Each syscall failing at the earliest count its op fails at, at that count's neighbours, and at the
 * limit itself and above: a hit. */
static void test_each_syscall_hit_where_it_fails(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                LimitHitSyscall s = calls[i].syscall;
                uint32_t fails_at = limit_hit_fails_at(calls[i].op, L);
                uint32_t counts[] = { fails_at, fails_at + 1, L - LIMIT_HIT_MARGIN, L - 1, L, L + 1 };

                for (size_t j = 0; j < ELEMENTSOF(counts); j++)
                        if (limit_hit_classify(s, failed_ret(s), BRK_ASKED, counts[j], L) !=
                            LIMIT_HIT_AT_LIMIT)
                                fail_msg("%s failing at map_count %u (limit %u) is no hit", calls[i].name,
                                         counts[j], L);
        }
        /* A moving mremap at L - 3 and a split at L - 1 (twice) are inside the margin. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MREMAP, -ENOMEM, 0, L - 3, L),
                         LIMIT_HIT_AT_LIMIT);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MPROTECT, -ENOMEM, 0, L - 1, L),
                         LIMIT_HIT_AT_LIMIT);
        /* mmap fails only above the limit: L + 1 is what a process reaches. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, L + 1, L),
                         LIMIT_HIT_AT_LIMIT);
}

/* ENOMEM with headroom is a real memory shortage (RLIMIT_AS, overcommit, no address space): no hit. */
static void test_shortage_is_no_hit(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                LimitHitSyscall s = calls[i].syscall;

                assert_int_equal(
                        limit_hit_classify(s, failed_ret(s), BRK_ASKED, L - LIMIT_HIT_MARGIN - 1, L),
                        LIMIT_HIT_SHORTAGE);
                assert_int_equal(limit_hit_classify(s, failed_ret(s), BRK_ASKED, 100, L),
                                 LIMIT_HIT_SHORTAGE);
                assert_int_equal(limit_hit_classify(s, failed_ret(s), BRK_ASKED, 0, L), LIMIT_HIT_SHORTAGE);
        }
}

/* What is not a failure at all, or not the limit's errno. */
static void test_not_failed(void **state) {
        /* Successes. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, 0x7f0000000000, 0, L + 1, L),
                         LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MPROTECT, 0, 0, L, L), LIMIT_HIT_NOT_FAILED);
        /* brk reached what it asked for, and brk(0), which only asks. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_BRK, (int64_t) BRK_ASKED, BRK_ASKED, L + 1, L),
                         LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_BRK, 0x1000000, 0, L + 1, L),
                         LIMIT_HIT_NOT_FAILED);
        /* Other errors at the limit. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -EINVAL, 0, L, L), LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MPROTECT, -EACCES, 0, L, L),
                         LIMIT_HIT_NOT_FAILED);
        /* madvise fails at the limit with EAGAIN, never ENOMEM (which it returns for unmapped ranges). */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MADVISE, -ENOMEM, 0, L, L),
                         LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MADVISE, -EAGAIN, 0, L, L),
                         LIMIT_HIT_AT_LIMIT);
        /* ... and the others never with EAGAIN. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MPROTECT, -EAGAIN, 0, L, L),
                         LIMIT_HIT_NOT_FAILED);
        /* Unknown syscall, or no limit known yet. */
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_INVALID, -ENOMEM, 0, L, L),
                         LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(_LIMIT_HIT_SYSCALL_MAX, -ENOMEM, 0, L, L), LIMIT_HIT_NOT_FAILED);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, L, 0), LIMIT_HIT_NOT_FAILED);
}

/* A small limit: the margin does not wrap below zero. */
static void test_small_limit(void **state) {
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, 0, 3), LIMIT_HIT_AT_LIMIT);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, 2, 7), LIMIT_HIT_AT_LIMIT);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, 1, 7 + 1),
                         LIMIT_HIT_SHORTAGE);
        assert_int_equal(limit_hit_classify(LIMIT_HIT_SYSCALL_MMAP, -ENOMEM, 0, UINT32_MAX, UINT32_MAX),
                         LIMIT_HIT_AT_LIMIT);
}

/* The /proc backend: no headroom (N >= L) is one observed hit; one below is not. */
static void test_observed(void **state) {
        assert_true(limit_hit_observed(L, L));
        assert_true(limit_hit_observed(L + 1, L));
        assert_false(limit_hit_observed(L - 1, L));
        assert_false(limit_hit_observed(0, L));
        assert_false(limit_hit_observed(10, 0));
}

static void test_make_observed(void **state) {
        LimitHit h;

        assert_true(limit_hit_make_observed(&h, 42, "a-very-long-process-name", L, L, 7, 99, 1234));
        assert_int_equal(h.pid, 42);
        assert_int_equal(h.tid, 42);
        assert_int_equal(h.syscall, LIMIT_HIT_SYSCALL_INVALID);
        assert_int_equal(h.error, 0);
        assert_int_equal(h.evidence, LIMIT_HIT_OBSERVED);
        assert_string_equal(limit_hit_evidence_to_string(h.evidence), "observed");
        assert_string_equal(h.comm, "a-very-long-pro");
        assert_int_equal(h.cgroup_id, 7);
        assert_int_equal(h.start_time_ns, 99);
        assert_int_equal(h.time_usec, 1234);

        assert_false(limit_hit_make_observed(&h, 42, NULL, L - 1, L, 7, 99, 1234));
        assert_string_equal(h.comm, "");
        assert_int_equal(h.map_count, L - 1);
}

static LimitHit hit_at(uint32_t pid, uint64_t start, uint64_t usec, LimitHitSyscall s) {
        return (LimitHit){ .pid = pid,
                           .tid = pid,
                           .syscall = s,
                           .error = ENOMEM,
                           .map_count = L + 1,
                           .max_map_count = L,
                           .start_time_ns = start,
                           .time_usec = usec };
}

typedef struct Flushed {
        LimitHitBurst bursts[8];
        size_t n;
} Flushed;

static void on_burst(const LimitHitBurst *burst, void *userdata) {
        Flushed *f = userdata;

        assert_true(f->n < ELEMENTSOF(f->bursts));
        f->bursts[f->n++] = *burst;
}

static void test_bursts(void **state) {
        LimitHitBursts *b = limit_hit_bursts_new();
        Flushed f = {};
        LimitHit h;

        assert_non_null(b);
        assert_int_equal(limit_hit_bursts_next_close(b), UINT64_MAX);

        /* Three calls of one process 0.4 s apart: one burst that opens once. */
        h = hit_at(100, 7, 1000000, LIMIT_HIT_SYSCALL_MMAP);
        assert_int_equal(limit_hit_bursts_add(b, &h), 1);
        h = hit_at(100, 7, 1400000, LIMIT_HIT_SYSCALL_MPROTECT);
        assert_int_equal(limit_hit_bursts_add(b, &h), 0);
        h = hit_at(100, 7, 1800000, LIMIT_HIT_SYSCALL_MUNMAP);
        assert_int_equal(limit_hit_bursts_add(b, &h), 0);
        /* Another process, and the same pid reused by a new process: bursts of their own. */
        h = hit_at(200, 9, 1500000, LIMIT_HIT_SYSCALL_BRK);
        assert_int_equal(limit_hit_bursts_add(b, &h), 1);
        h = hit_at(100, 8, 1600000, LIMIT_HIT_SYSCALL_MMAP);
        assert_int_equal(limit_hit_bursts_add(b, &h), 1);

        assert_non_null(limit_hit_bursts_find(b, 100, 7));
        assert_int_equal(limit_hit_bursts_find(b, 100, 7)->n_hits, 3);
        assert_null(limit_hit_bursts_find(b, 100, 6));
        assert_null(limit_hit_bursts_find(b, 300, 7));

        /* The earliest to close is pid 200's (last hit at 1.5 s), then the reused pid's (1.6 s). */
        assert_int_equal(limit_hit_bursts_next_close(b), 1500000 + LIMIT_HIT_BURST_USEC);

        /* Less than LIMIT_HIT_BURST_USEC after each last hit: nothing closes. */
        assert_int_equal(limit_hit_bursts_flush(b, 2400000, false, on_burst, &f), 0);
        assert_int_equal(f.n, 0);
        /* At 2.6 s pid 200's and the reused pid's bursts close, pid 100's (last at 1.8 s) is open. */
        assert_int_equal(limit_hit_bursts_flush(b, 2600000, false, on_burst, &f), 2);
        assert_int_equal(f.n, 2);
        assert_int_equal(f.bursts[0].first.pid, 200);
        assert_int_equal(f.bursts[0].n_hits, 1);
        assert_int_equal(f.bursts[1].first.pid, 100);
        assert_int_equal(f.bursts[1].first.start_time_ns, 8);

        /* A fourth call 0.9 s after the third joins the open burst and keeps it open. */
        h = hit_at(100, 7, 2700000, LIMIT_HIT_SYSCALL_MREMAP);
        assert_int_equal(limit_hit_bursts_add(b, &h), 0);
        assert_int_equal(limit_hit_bursts_flush(b, 3000000, false, on_burst, &f), 0);
        assert_int_equal(limit_hit_bursts_next_close(b), 2700000 + LIMIT_HIT_BURST_USEC);
        assert_int_equal(limit_hit_bursts_flush(b, 3700000, false, on_burst, &f), 1);
        assert_int_equal(f.n, 3);
        assert_int_equal(f.bursts[2].n_hits, 4);
        assert_int_equal(f.bursts[2].first.syscall, LIMIT_HIT_SYSCALL_MMAP);
        assert_int_equal(f.bursts[2].first.time_usec, 1000000);
        assert_int_equal(f.bursts[2].last.syscall, LIMIT_HIT_SYSCALL_MREMAP);
        assert_int_equal(f.bursts[2].last.time_usec, 2700000);
        assert_int_equal(limit_hit_bursts_next_close(b), UINT64_MAX);

        /* After it closed, the same process opens a new burst; force closes it at once. */
        h = hit_at(100, 7, 5000000, LIMIT_HIT_SYSCALL_MMAP);
        assert_int_equal(limit_hit_bursts_add(b, &h), 1);
        assert_int_equal(limit_hit_bursts_flush(b, 5000000, true, on_burst, &f), 1);
        assert_int_equal(f.n, 4);
        assert_int_equal(f.bursts[3].n_hits, 1);

        assert_int_equal(limit_hit_bursts_add(NULL, &h), -EINVAL);
        assert_int_equal(limit_hit_bursts_add(b, NULL), -EINVAL);
        assert_null(limit_hit_bursts_free(b));
        assert_null(limit_hit_bursts_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_fails_at),
                cmocka_unit_test(test_each_syscall_hit_where_it_fails),
                cmocka_unit_test(test_shortage_is_no_hit),
                cmocka_unit_test(test_not_failed),
                cmocka_unit_test(test_small_limit),
                cmocka_unit_test(test_observed),
                cmocka_unit_test(test_make_observed),
                cmocka_unit_test(test_bursts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
