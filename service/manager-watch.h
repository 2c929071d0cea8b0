/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Following systemd's units on the bus: which loaded units match the configured names/globs, and their
 * ControlGroup as they start, stop and restart. */

/* Subscribes to org.freedesktop.systemd1 (Subscribe(), UnitRemoved, JobRemoved and unit
 * PropertiesChanged) and lists the matching active units once, synchronously. Returns 0 or -errno. */
int manager_watch_start(Manager *m);
/* Drops units that no longer match and lists the matching ones again, asynchronously (after a
 * reload changed Units=). Returns 0 or -errno. */
int manager_watch_relist(Manager *m);
/* Asks systemd for the ActiveState of UNIT, asynchronously; the answer goes to manager_unit_state().
 * Returns 0 or -errno. */
int manager_watch_query_state(Manager *m, const char *unit);
/* Drops the signal matches. */
void manager_watch_stop(Manager *m);

/* Returns the systemd interface that carries ControlGroup for a unit name by its suffix
 * ("org.freedesktop.systemd1.Service" for foo.service), or NULL for types without a cgroup. */
const char *manager_watch_cgroup_interface(const char *unit);
