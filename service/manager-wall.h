/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wall: limit hits of watched processes, the exits they cause, crash loops, and keeping a unit at
 * the wall in view while systemd restarts it or while it sits failed. The rule of what the journal
 * tells is crash-loop.h's. */

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"

/* A process is within this many maps of the limit, or above it, when a call that fails counts as a hit
 * (DESIGN.md: the kernel's checks are off by one to five, depending on the call). */
#define WALL_NEAR_MAPS 5U

/* An exit within this time after a hit is attributed to it. */
#define WALL_EXIT_WINDOW_USEC (UINT64_C(60) * UINT64_C(1000000))

/* Counts a hit of P in U: CALLS failed calls of SYSCALL with ERRNO_NAME, caught in the kernel; or, with
 * SYSCALL NULL, a read that found P with no headroom (counted once per process). Tells the journal
 * (unless the crash loop is quiet), emits LimitHit and the unit's changed properties. */
void manager_wall_hit(Manager *m, WatchedUnit *u, ProcState *p, const char *syscall, const char *errno_name,
                      uint64_t calls);

/* After a read of P in U: the observed path (no BPF catching): a process with no headroom counts as one
 * hit, once. */
void manager_wall_observe(Manager *m, WatchedUnit *u, ProcState *p);

/* P of U is gone: when it hit the limit less than WALL_EXIT_WINDOW_USEC ago, or was still at the limit,
 * its exit is attributed to it, with systemd's view of the exit when P was the unit's main process
 * (asked for asynchronously: the entry follows). */
void manager_wall_gone(Manager *m, WatchedUnit *u, const ProcState *p);

/* Returns true when U, whose control group is gone, stays in view: it hit the limit recently (and
 * systemd says it is restarting or failed: the caller asks). */
bool manager_wall_at_wall(const WatchedUnit *u);

/* Keeps U in view without processes (HOLD true) or lets it go back to normal (false). */
void manager_wall_hold(Manager *m, WatchedUnit *u, bool hold);

/* U was stopped or reset-failed: its crash loop ends, its counters stay. */
void manager_wall_end(Manager *m, WatchedUnit *u);

/* The level a unit shows: critical while it is held or hit the limit less than CRASH_LOOP_CLEAN_USEC
 * ago, else LEVEL. */
Level manager_wall_unit_level(const WatchedUnit *u, Level level);

/* The last exit systemd reported for U's main process (manager-watch.c feeds it from PropertiesChanged
 * of org.freedesktop.systemd1.Service). CODE is CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 = still running. */
void manager_wall_main_exit(WatchedUnit *u, uint32_t pid, int32_t code, int32_t status, const char *result);

/* Drops the exits still waiting for systemd's answer (at shutdown). */
void manager_wall_done(Manager *m);
