/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Exits after a limit hit: a process of a watched unit that goes within EXIT_AFTER_HIT_USEC of its last
 * hit, or still at the limit, has its exit attributed to the limit, with systemd's view of how it exited
 * when it was a service's main process. Counted in the unit's crash loop (crash-loop.h) and announced
 * (manager-announce.h). */

#include <stdint.h>

#include "manager.h"

/* An exit within this time after a hit is attributed to it. */
#define EXIT_AFTER_HIT_USEC (UINT64_C(60) * UINT64_C(1000000))

/* P of U is gone: when it hit the limit less than EXIT_AFTER_HIT_USEC ago, or was still at the limit,
 * its exit is attributed to it, with systemd's view of the exit when P was the unit's main process
 * (asked for asynchronously: the entry follows). Call manager_hits_flush() first: a burst of hits still
 * open belongs to P's last moments. */
void manager_exits_judge(Manager *m, WatchedUnit *u, const ProcState *p);

/* The last exit systemd reported for U's main process (manager-systemd.c feeds it from PropertiesChanged
 * of org.freedesktop.systemd1.Service, manager-user-log.c from a user manager's journal). CODE is
 * CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 = still running. Anything but "exited 0", outside a stop someone
 * asked for, is a failure of U (U->failure, for which the next instances are caught: manager-hits.h). */
void manager_exits_main_exit(WatchedUnit *u, uint32_t pid, int32_t code, int32_t status, const char *result);

/* U is about to be dropped from the watched set: its exits still waiting for systemd's answer keep what
 * they need of it (a stop that was asked for). */
void manager_exits_unit_dropped(Manager *m, const WatchedUnit *u);

/* Drops the exits still waiting for systemd's answer (at shutdown). */
void manager_exits_done(Manager *m);
