/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Talking to systemd on the system bus: which loaded units match the configured names/globs, and their
 * ControlGroup as they start, stop and restart (what that means is manager-watch.h's). */

#include "manager.h"

/* Subscribes to org.freedesktop.systemd1 (Subscribe(), UnitRemoved, JobRemoved and unit
 * PropertiesChanged) and lists the matching active units once, synchronously. Returns 0 or -errno. */
int manager_systemd_start(Manager *m);
/* Drops units that no longer match and lists the matching ones again, asynchronously (after a
 * reload changed Units=). Returns 0 or -errno. */
int manager_systemd_relist(Manager *m);
/* Asks systemd for the ActiveState of UNIT, asynchronously; the answer goes to
 * manager_watch_unit_state(). Returns 0 or -errno. */
int manager_systemd_query_state(Manager *m, const char *unit);
/* Drops the signal matches. */
void manager_systemd_stop(Manager *m);

/* Returns the systemd interface that carries ControlGroup for a unit name by its suffix
 * ("org.freedesktop.systemd1.Service" for foo.service), or NULL for types without a cgroup. */
const char *manager_systemd_cgroup_interface(const char *unit);

/* Asks systemd for the ActiveState of every unit held at the limit (after manager_watch_hold_saved()). */
void manager_systemd_query_held(Manager *m);
