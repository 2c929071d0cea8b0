/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* What systemd's reports about units mean for the set of watched units (manager-systemd.c talks to
 * systemd): a unit watched anew, restarted, stopped, no longer matching Units=; a unit that hit the limit
 * is held in view while systemd restarts it or while it sits failed. */

/* systemd says the control group of its unit NAME is CGROUP: a user's manager is followed (its units are
 * found at each full pass); another unit is watched under the name that survives its restarts
 * (unit-identity.h: itself, or a Kubernetes container's names), anew, or read at once after a restart;
 * an empty/NULL CGROUP means it has none now (no longer watched, unless it is held at the limit).
 * Returns 0, 1 when NAME is now held (the caller asks systemd for its state: manager_watch_unit_state()
 * takes the answer), or -errno. */
int manager_watch_update_unit(Manager *m, const char *name, const char *cgroup);
/* The unit watched as NAME, or whose systemd unit is NAME, is no longer watched: its processes at warning
 * or critical are announced gone, and the exit of one that hit the limit is judged. */
void manager_watch_remove_unit(Manager *m, const char *name);
/* systemd's ActiveState of its unit NAME (NULL: the unit is gone), for a unit held at the limit: "inactive"
 * (it was stopped or reset-failed) removes it, anything else (failed, auto-restart) keeps it in view. */
void manager_watch_unit_state(Manager *m, const char *name, const char *active_state);
/* Returns true when systemd is to be asked about UNIT: Units= matches it, or it may be a user's manager or
 * a container's scope (watched by the names their units and containers have). */
bool manager_watch_wants(Manager *m, const char *unit);
/* Returns true when UNIT is the systemd unit of a watched unit, or a user's manager followed. */
bool manager_watch_follows(Manager *m, const char *unit);
/* The patterns ListUnitsByPatterns needs besides Units=: users' managers and containers' scopes. */
char *const *manager_watch_extra_patterns(void);

/* Before a full pass: the units of each user's manager (found in its control group) watched or stopped,
 * and units held at the limit without a systemd unit to ask about (a user's unit, a container) let go
 * once they ran clean, were stopped on request, or their pod went. */
void manager_watch_refresh(Manager *m);

/* A pass (manager_scan()), after manager_watch_refresh() when it reads every process (FORCE_ALL, or
 * IntervalSec has passed). Returns what manager_scan() returns. */
int manager_watch_pass(Manager *m, bool force_all);

/* Drops the watched units that no longer match the config. */
void manager_watch_prune(Manager *m);
/* A restarted mapguardd: a unit that hit the limit less than CRASH_LOOP_CLEAN_USEC before the restart
 * and is not running now (it sits failed, or systemd is about to restart it) is kept in view, held (the
 * caller asks systemd which: manager_systemd_query_held()). */
void manager_watch_hold_saved(Manager *m);
