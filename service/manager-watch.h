/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* What systemd's reports about units mean for the set of watched units (manager-systemd.c talks to
 * systemd): a unit watched anew, restarted, stopped, no longer matching Units=; a unit that hit the limit
 * is held in view while systemd restarts it or while it sits failed. */

/* systemd says NAME's control group is CGROUP: watched anew, or read at once after a restart; an
 * empty/NULL CGROUP means it has none now (manager_watch_remove_unit(), unless it is held at the limit).
 * Returns 0, 1 when NAME is now held (the caller asks systemd for its state: manager_watch_unit_state()
 * takes the answer), or -errno. */
int manager_watch_update_unit(Manager *m, const char *name, const char *cgroup);
/* NAME is no longer watched: its processes at warning or critical are announced gone, and the exit of
 * one that hit the limit is judged. */
void manager_watch_remove_unit(Manager *m, const char *name);
/* systemd's ActiveState of NAME (NULL: the unit is gone), for a unit held at the limit: "inactive" (it
 * was stopped or reset-failed) removes it, anything else (failed, auto-restart) keeps it in view. */
void manager_watch_unit_state(Manager *m, const char *name, const char *active_state);
/* Drops the watched units that no longer match the config. */
void manager_watch_prune(Manager *m);
/* A restarted mapguardd: a unit that hit the limit less than CRASH_LOOP_CLEAN_USEC before the restart
 * and is not running now (it sits failed, or systemd is about to restart it) is kept in view, held (the
 * caller asks systemd which: manager_systemd_query_held()). */
void manager_watch_hold_saved(Manager *m);
