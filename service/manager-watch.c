/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What systemd's reports about units (manager-systemd.c) mean for the set of watched units: a unit
 * watched anew, restarted, stopped, held in view at the limit, or no longer matching Units=. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager-announce.h"
#include "manager-exits.h"
#include "manager-export.h"
#include "manager-hits.h"
#include "manager-levels.h"
#include "manager-scan.h"
#include "manager-units.h"
#include "manager-watch.h"
#include "util.h"

/* Keeps U in view without processes (HOLD true), or lets it go back to normal (false). */
static void manager_watch_hold(WatchedUnit *u, bool hold) {
        if (u->held == hold)
                return;
        u->held = hold;
        if (hold)
                log_debug("%s hit the memory map limit and has no processes now: keeping it in view.",
                          u->name);
}

void manager_watch_remove_unit(Manager *m, const char *name) {
        WatchedUnit *u = manager_find_unit(m, name);
        bool flushed = false;

        if (!u)
                return;
        /* Its processes went with it (stopped, crashed): those at warning or critical leave that level,
         * and one that hit the limit gets its exit attributed (its open burst counted first). */
        for (size_t j = 0; j < u->n_procs; j++) {
                if (!flushed)
                        manager_hits_flush(m);
                flushed = true;
                manager_announce_gone(m, u->name, &u->procs[j],
                                      "is no longer watched: its unit stopped or left Units=");
                manager_exits_judge(m, u, &u->procs[j]);
        }

        /* Announced while the object can still be found: InterfacesRemoved lists its interfaces. */
        log_debug("No longer watching %s.", name);
        manager_announce_unit_removed(m, u);
        manager_exits_unit_dropped(m, u);
        manager_export_unit_departed(m, u);
        manager_units_drop(m, u);
}

/* Adds NAME, known to have hit the limit but without a control group now, held at the limit (the caller
 * asks systemd for its state). Returns 0 or -errno. */
static int manager_watch_hold_unit(Manager *m, const char *name) {
        WatchedUnit *u;
        int r;

        if (manager_find_unit(m, name))
                return 0;
        r = manager_units_add(m, name, "", &u);
        if (r < 0)
                return r;
        manager_levels_restore_hits(m, u);
        manager_export_unit_back(m, name);
        manager_watch_hold(u, true);
        u->level = manager_hits_unit_level(u, LEVEL_UNKNOWN);
        manager_announce_unit_added(m, u);
        return 0;
}

void manager_watch_hold_saved(Manager *m) {
        uint64_t now = now_usec(CLOCK_REALTIME);

        for (size_t i = 0; i < m->levels.saved.n_hits; i++) {
                const SavedHits *h = &m->levels.saved.hits[i];
                CrashLoop l = { .last_hit_usec = h->last_hit_usec };
                int r;

                if (manager_find_unit(m, h->unit) || !crash_loop_active(&l, now) ||
                    !config_matches_unit(m->config, h->unit))
                        continue;
                r = manager_watch_hold_unit(m, h->unit);
                if (r < 0)
                        log_warning_errno(r, "Failed to keep %s in view: %m", h->unit);
        }
}

/* NAME has no control group now: held when it hit the limit (systemd restarts it, it sits failed, or it
 * was stopped: kept in view until systemd says which), else no longer watched. Returns true when held. */
static bool manager_watch_unit_stopped(Manager *m, const char *name) {
        WatchedUnit *u = manager_find_unit(m, name);

        if (!u)
                return false;
        /* Its last calls may have failed within the second that groups them into one burst, not counted
         * yet: whether it is at the limit depends on them. */
        manager_hits_flush(m);
        if (!manager_hits_recent(u)) {
                manager_watch_remove_unit(m, name);
                return false;
        }
        manager_watch_hold(u, true);
        /* The next pass tells which processes went. */
        manager_schedule_now(m);
        return true;
}

int manager_watch_update_unit(Manager *m, const char *name, const char *cgroup) {
        WatchedUnit *u;
        int r;

        if (!cgroup || cgroup[0] == '\0')
                return manager_watch_unit_stopped(m, name) ? 1 : 0;

        u = manager_find_unit(m, name);
        if (u) {
                manager_watch_hold(u, false);
                r = manager_units_set_cgroup(u, cgroup);
                if (r < 0)
                        return r;
                /* A restart recreates the cgroup under the same path, with a new id. */
                u->cgroup_id = 0;
                m->scan.bpf_cgroups_dirty = true;
                (void) manager_sync_bpf_cgroups(m);
                /* systemd tells us of every start and restart: the new instance is the one to read at
                 * once (one that grows fast and crashes would otherwise live unseen). */
                manager_schedule_now(m);
                return 0;
        }

        r = manager_units_add(m, name, cgroup, &u);
        if (r < 0)
                return r;
        manager_levels_restore_hits(m, u);
        manager_export_unit_back(m, name);
        (void) manager_sync_bpf_cgroups(m);
        log_debug("Watching %s (control group %s).", name, cgroup);
        manager_announce_unit_added(m, u);
        manager_schedule_now(m);
        return 0;
}

void manager_watch_unit_state(Manager *m, const char *name, const char *active_state) {
        WatchedUnit *u = manager_find_unit(m, name);

        if (!u || !u->held)
                return;
        if (!active_state || streq(active_state, "inactive")) {
                /* Stopped, or reset-failed: out of view, its crash loop over (its counters stay). */
                crash_loop_end(&u->crash_loop);
                u->held = false;
                manager_watch_remove_unit(m, name);
        }
        /* failed, or activating (auto-restart): kept in view, at level critical. */
}

void manager_watch_prune(Manager *m) {
        for (size_t i = m->n_units; i > 0; i--)
                if (!config_matches_unit(m->config, m->units[i - 1]->name))
                        manager_watch_remove_unit(m, m->units[i - 1]->name);
}
