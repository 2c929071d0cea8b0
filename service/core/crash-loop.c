/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "crash-loop.h"

bool crash_loop_active(const CrashLoop *l, uint64_t now) {
        return l->last_hit_usec > 0 && now < l->last_hit_usec + CRASH_LOOP_CLEAN_USEC;
}

void crash_loop_end(CrashLoop *l) {
        l->loop_start_usec = 0;
        l->loop_exits = 0;
}

/* A loop whose last hit is too long ago has ended: the unit ran clean. */
static void crash_loop_expire(CrashLoop *l, uint64_t now) {
        if (l->loop_start_usec > 0 && !crash_loop_active(l, now))
                crash_loop_end(l);
}

bool crash_loop_quiet(const CrashLoop *l, uint64_t now) {
        return l->loop_start_usec > 0 && crash_loop_active(l, now) &&
                l->loop_exits >= CRASH_LOOP_TOLD_IN_FULL;
}

CrashLoopTell crash_loop_hit(CrashLoop *l, uint64_t n, uint64_t now) {
        crash_loop_expire(l, now);
        l->hits += n;
        l->last_hit_usec = now;
        if (l->loop_start_usec == 0)
                l->loop_start_usec = now;
        return crash_loop_quiet(l, now) ? CRASH_LOOP_TELL_QUIET : CRASH_LOOP_TELL_FULL;
}

CrashLoopTell crash_loop_exit(CrashLoop *l, const char *exit, uint64_t now) {
        crash_loop_expire(l, now);
        l->exits++;
        if (exit)
                snprintf(l->last_exit, sizeof(l->last_exit), "%s", exit);
        if (l->loop_start_usec == 0)
                l->loop_start_usec = now;
        l->loop_exits++;
        if (l->loop_exits <= CRASH_LOOP_TOLD_IN_FULL)
                return CRASH_LOOP_TELL_FULL;
        return l->loop_exits == CRASH_LOOP_TOLD_IN_FULL + 1 ? CRASH_LOOP_TELL_SUMMARY
                                                            : CRASH_LOOP_TELL_QUIET;
}
