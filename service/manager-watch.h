/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Following systemd's units on the bus: which loaded units match the configured names/globs, and their
 * ControlGroup as they start, stop and restart; what that means for the set of watched units (a unit
 * that hit the limit is held in view while systemd restarts it or while it sits failed). */

/* Subscribes to org.freedesktop.systemd1 (Subscribe(), UnitRemoved, JobRemoved and unit
 * PropertiesChanged) and lists the matching active units once, synchronously. Returns 0 or -errno. */
int manager_watch_start(Manager *m);
/* Drops units that no longer match and lists the matching ones again, asynchronously (after a
 * reload changed Units=). Returns 0 or -errno. */
int manager_watch_relist(Manager *m);
/* Asks systemd for the ActiveState of UNIT, asynchronously; the answer goes to
 * manager_watch_unit_state(). Returns 0 or -errno. */
int manager_watch_query_state(Manager *m, const char *unit);
/* Drops the signal matches. */
void manager_watch_stop(Manager *m);

/* Returns the systemd interface that carries ControlGroup for a unit name by its suffix
 * ("org.freedesktop.systemd1.Service" for foo.service), or NULL for types without a cgroup. */
const char *manager_watch_cgroup_interface(const char *unit);

/* systemd says NAME's control group is CGROUP: watched anew, or read at once after a restart; an
 * empty/NULL CGROUP means it has none now (manager_watch_remove_unit(), unless it is held at the limit).
 * Returns 0 or -errno. */
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
 * and is not running now (it sits failed, or systemd is about to restart it) is kept in view, held:
 * systemd is asked which. */
void manager_watch_hold_saved(Manager *m);
