/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A unit at the limit: its limit hits and the exits they caused, counted exactly, and how much of a
 * crash loop the journal tells. Pure logic: the caller logs.
 *
 * The rule (mapguardd(8), "CRASH LOOPS"): a loop is the exits attributed to the limit of one unit with
 * less than CRASH_LOOP_CLEAN_USEC between a hit and the next. Its first CRASH_LOOP_TOLD_IN_FULL cycles
 * are told in full (each burst of hits, each exit, the level entries); the next exit gets one summary
 * entry, and nothing else of that cycle is told; after that the loop is quiet (counted, not told) until
 * the unit runs CRASH_LOOP_CLEAN_USEC without a hit, or is stopped, or reset-failed: then the next hit
 * starts a new loop. */

#include <stdbool.h>
#include <stdint.h>

#define CRASH_LOOP_TOLD_IN_FULL 3U
#define CRASH_LOOP_CLEAN_USEC (UINT64_C(600) * UINT64_C(1000000))

typedef enum CrashLoopTell {
        CRASH_LOOP_TELL_FULL,    /* an entry of its own */
        CRASH_LOOP_TELL_SUMMARY, /* the one summary of the loop */
        CRASH_LOOP_TELL_QUIET,   /* counted only */
} CrashLoopTell;

typedef struct CrashLoop {
        uint64_t hits;          /* failed calls caught, or processes observed at the limit (LimitHits) */
        uint64_t exits;         /* exits attributed to the limit (LimitExits) */
        uint64_t last_hit_usec; /* CLOCK_REALTIME of the last hit, 0 = none (LastLimitHitUSec) */
        char last_exit[32];     /* "exited 1", "killed SIGKILL", "dumped SIGABRT", "" = none seen */

        /* The current loop. */
        uint64_t loop_start_usec; /* CLOCK_REALTIME of its first hit, 0 = no loop */
        unsigned loop_exits;      /* exits in it */
} CrashLoop;

/* Counts N failed calls (or one observed process) at NOW (CLOCK_REALTIME µs). A hit more than
 * CRASH_LOOP_CLEAN_USEC after the previous one starts a new loop. Returns how to tell it: in full while
 * the loop has had fewer than CRASH_LOOP_TOLD_IN_FULL exits, else quiet (never a summary). */
CrashLoopTell crash_loop_hit(CrashLoop *l, uint64_t n, uint64_t now);

/* Counts an exit attributed to the limit, described by EXIT ("exited 1", ...; NULL keeps the last one),
 * at NOW. Returns how to tell it: in full for the first CRASH_LOOP_TOLD_IN_FULL exits of the loop, the
 * summary for the next, quiet after. */
CrashLoopTell crash_loop_exit(CrashLoop *l, const char *exit, uint64_t now);

/* Returns true once the loop has had its cycles in full: the unit's level entries are quiet from then
 * on, as its hits are (the next exit still gets the summary). */
bool crash_loop_quiet(const CrashLoop *l, uint64_t now);

/* Returns true while the unit counts as at the limit: a hit less than CRASH_LOOP_CLEAN_USEC ago. */
bool crash_loop_active(const CrashLoop *l, uint64_t now);

/* Ends the current loop (the unit was stopped or reset-failed), keeping the counters. */
void crash_loop_end(CrashLoop *l);
