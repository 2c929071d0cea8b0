/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager's set of watched units, sorted by name: adding and dropping a unit, finding units and
 * processes. It tells nobody: what a unit's arrival or departure means (announcements, held units,
 * exits) is manager-watch.c's. Also the stops someone asked for (a unit's asked_stop window), and
 * the two small things every part asks of the Manager: the
 * thresholds, and a pass at once. */

#include "manager.h"

/* Adds the unit that ID says, named ID->name, with CGROUP ("" for none known), at level unknown.
 * Returns 0 with the new unit in *RET, or -errno (-ENOMEM, or sd_bus_path_encode()'s error). */
int manager_units_add(Manager *m, const UnitIdentity *id, const char *cgroup, WatchedUnit **ret);

/* Sets U's control group. Returns 0 or -ENOMEM (U untouched). */
int manager_units_set_cgroup(WatchedUnit *u, const char *cgroup);

/* Drops U from the set and frees it. */
void manager_units_drop(Manager *m, WatchedUnit *u);

/* Drops and frees every unit (at shutdown). */
void manager_units_done(Manager *m);

/* systemd (or a user's manager, in the journal) showed NAME in ACTIVE_STATE with job JOB_ID (0: none):
 * "deactivating" with a job is a stop or restart someone asked for (a crash deactivates without a job, and
 * an automatic restart's job comes in "activating"). Opens NAME's asked_stop window. */
void manager_units_job_seen(Manager *m, const char *name, const char *active_state, uint32_t job_id);
/* systemd removed job JOB_ID of NAME: closes the asked_stop window it opened. */
void manager_units_job_removed(Manager *m, const char *name, uint32_t job_id);

/* Returns the watched unit NAME, or NULL. */
WatchedUnit *manager_find_unit(Manager *m, const char *name);
/* Returns the watched unit whose systemd unit is now UNIT (a system unit, a container's scope; not a user
 * unit, whose system unit is its manager's), or NULL. */
WatchedUnit *manager_find_unit_by_systemd_unit(Manager *m, const char *unit);
/* Finds a watched unit by any of its names: the watched name, else its systemd unit now (a container's
 * scope) or its user unit ("grow.service" of user@1001.service/grow.service). Returns 0 and the unit in
 * *RET; -ENOENT when none; -ENOTUNIQ when the other names fit several (two users' grow.service). */
int manager_find_unit_named(Manager *m, const char *name, WatchedUnit **ret);
/* Returns the watched unit whose object is at OBJECT_PATH, or NULL. */
WatchedUnit *manager_find_unit_by_path(Manager *m, const char *object_path);
/* Returns the watched unit whose cgroup2 id is CGROUP_ID (not 0), or NULL. */
WatchedUnit *manager_find_unit_by_cgroup_id(Manager *m, uint64_t cgroup_id);
/* Returns the watched unit that holds PID, with its process state in *RET_PROC (if not NULL), or NULL. */
WatchedUnit *manager_find_pid(Manager *m, pid_t pid, ProcState **ret_proc);
/* Returns the process PID of U, or NULL. */
ProcState *watched_unit_find_proc(WatchedUnit *u, pid_t pid);
/* Returns the unit with the worst process (highest level, then most maps), or NULL when none has
 * processes. */
WatchedUnit *manager_worst_unit(Manager *m);

static inline Thresholds manager_thresholds(const Manager *m) {
        return (Thresholds){
                .warning_percent = m->config->warning_percent,
                .critical_percent = m->config->critical_percent,
                .hysteresis_percent = m->config->hysteresis_percent,
        };
}

/* Fires the scan timer at once (a unit appeared or restarted, a process at the limit is not read yet),
 * so that its processes are read quickly. */
static inline void manager_schedule_now(Manager *m) {
        if (!m->scan.timer)
                return;
        (void) sd_event_source_set_time(m->scan.timer, now_usec(CLOCK_MONOTONIC));
        (void) sd_event_source_set_enabled(m->scan.timer, SD_EVENT_ONESHOT);
}
