/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Reads what the previous instance left in $RUNTIME_DIRECTORY/state into m->levels (said in the
 * journal when it cannot be read; a bad line is skipped and named). Nothing without the variable. */
void manager_levels_load(Manager *m);

/* Writes the processes at warning or critical, and the last "below tuned" pair, to m->levels.path.
 * On failure m->levels.dirty stays set, so the next pass tries again; the error is logged once. */
void manager_levels_save(Manager *m);

/* Gives U, watched anew, the limit hits and exits the previous instance counted for it, so that
 * LimitHits and LimitExits go on across restarts. */
void manager_levels_restore_wall(Manager *m, WatchedUnit *u);

/* A unit that hit the limit less than CRASH_LOOP_CLEAN_USEC before the restart and is not running now
 * (it sits failed, or systemd is about to restart it) is kept in view, held: systemd is asked which. */
void manager_levels_hold_saved(Manager *m);

/* After the first full pass of a restarted daemon: a process the previous instance had at warning or
 * critical that was not found again left that level while nobody watched; said as for any process
 * that goes (manager_notify_gone()). */
void manager_levels_report_unmatched(Manager *m);
