/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The levels and limit hits a restarted mapguardd must know of the instance before it, kept in
 * $RUNTIME_DIRECTORY/state (level-state.h has the format). */

#include "manager.h"

/* Reads what the previous instance left in $RUNTIME_DIRECTORY/state into m->levels (said in the
 * journal when it cannot be read; a bad line is skipped and named). Nothing without the variable. */
void manager_levels_load(Manager *m);

/* Writes the processes at warning or critical, and the last "below tuned" pair, to m->levels.path.
 * On failure m->levels.dirty stays set, so the next pass tries again; the error is logged once. */
void manager_levels_save(Manager *m);

/* Gives U, watched anew, the limit hits and exits the previous instance counted for it, so that
 * LimitHits and LimitExits go on across restarts. */
void manager_levels_restore_hits(Manager *m, WatchedUnit *u);

/* After the first full pass of a restarted daemon: a process the previous instance had at warning or
 * critical that was not found again left that level while nobody watched; said as for any process
 * that goes (manager_announce_gone()). */
void manager_levels_report_unmatched(Manager *m);
