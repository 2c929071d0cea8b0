/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What systemd's reports about units (manager-systemd.c) mean for the set of watched units: a unit
 * watched anew, restarted, stopped, held in view at the limit, or no longer matching Units=; a user's
 * manager, whose units are found in its control group; a Kubernetes container, watched across the scopes
 * kubelet restarts it in. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "manager-announce.h"
#include "manager-exits.h"
#include "manager-export.h"
#include "manager-hits.h"
#include "manager-levels.h"
#include "manager-scan.h"
#include "manager-units.h"
#include "manager-user-log.h"
#include "manager-watch.h"
#include "user-units.h"
#include "util.h"

/* What systemd may run for a container: a runtime names its scopes so (unit-identity.h). Asked about
 * whatever Units= says, since a container may be watched by its Kubernetes names. */
static const char *const container_scope_patterns[] = {
        "cri-containerd-*.scope", "crio-*.scope", "docker-*.scope", "libpod-*.scope", NULL,
};

char *const *manager_watch_extra_patterns(void) {
        static const char *const patterns[] = {
                "user@*.service", "cri-containerd-*.scope", "crio-*.scope",
                "docker-*.scope", "libpod-*.scope",         NULL,
        };
        return (char *const *) patterns;
}

bool manager_watch_wants(Manager *m, const char *unit) {
        if (!unit)
                return false;
        if (config_matches_unit(m->config, unit) || unit_name_is_user_manager(unit, NULL))
                return true;
        for (size_t i = 0; container_scope_patterns[i]; i++)
                if (fnmatch(container_scope_patterns[i], unit, 0) == 0)
                        return true;
        return false;
}

bool manager_watch_follows(Manager *m, const char *unit) {
        if (manager_find_unit_by_systemd_unit(m, unit))
                return true;
        for (size_t i = 0; i < m->n_user_managers; i++)
                if (streq(m->user_managers[i].name, unit))
                        return true;
        return false;
}

/* Returns true when ID is watched: the configured names or globs match its watched name, its systemd
 * unit (a container's scope), or its own name (a user's unit). */
static bool config_matches_identity(const Config *c, const UnitIdentity *id) {
        return config_matches_unit(c, id->name) || (id->unit[0] && config_matches_unit(c, id->unit)) ||
                (id->user_unit[0] && config_matches_unit(c, id->user_unit));
}

/* Keeps U in view without processes (HOLD true), or lets it go back to normal (false). */
static void manager_watch_hold(WatchedUnit *u, bool hold) {
        if (u->held == hold)
                return;
        u->held = hold;
        if (hold)
                log_debug("%s hit the memory map limit and has no processes now: keeping it in view.",
                          u->name);
}

/* U is no longer watched: its processes at warning or critical leave that level, the exit of one that hit
 * the limit is judged (its open burst counted first), and the object goes. */
static void manager_watch_drop(Manager *m, WatchedUnit *u) {
        bool flushed = false;

        for (size_t j = 0; j < u->n_procs; j++) {
                if (!flushed)
                        manager_hits_flush(m);
                flushed = true;
                manager_announce_gone(m, u->name, &u->procs[j],
                                      "is no longer watched: its unit stopped or left Units=");
                manager_exits_judge(m, u, &u->procs[j]);
        }
        /* Announced while the object can still be found: InterfacesRemoved lists its interfaces. */
        log_debug("No longer watching %s.", u->name);
        manager_announce_unit_removed(m, u);
        manager_exits_unit_dropped(m, u);
        manager_export_unit_departed(m, u);
        manager_hits_unit_left(m, u);
        manager_units_drop(m, u);
}

void manager_watch_remove_unit(Manager *m, const char *name) {
        WatchedUnit *u = manager_find_unit(m, name) ?: manager_find_unit_by_systemd_unit(m, name);

        if (u)
                manager_watch_drop(m, u);
}

/* U's processes are gone (its control group is): held when it hit the limit (systemd restarts it, or it
 * sits failed, or kubelet starts the container again), else no longer watched. Returns true when it is
 * held and systemd can say what became of it (a system unit: its ActiveState). */
static bool manager_watch_unit_stopped(Manager *m, WatchedUnit *u) {
        /* Its last calls may have failed within the second that groups them into one burst, not counted
         * yet: whether it is at the limit depends on them. */
        manager_hits_flush(m);
        if (!manager_hits_recent(u)) {
                manager_watch_drop(m, u);
                return false;
        }
        manager_watch_hold(u, true);
        /* The next pass tells which processes went. */
        manager_schedule_now(m);
        return u->identity.kind == UNIT_KIND_SYSTEM || u->identity.kind == UNIT_KIND_MONITOR;
}

/* ID runs in CGROUP: watched anew, or, known already, read at once (a restart: the same cgroup path with a
 * new id, or for a container a new scope). Returns 0 or -errno. */
static int manager_watch_follow(Manager *m, const UnitIdentity *id, const char *cgroup) {
        WatchedUnit *u = manager_find_unit(m, id->name);
        int r;

        if (u) {
                bool new_scope = !streq(u->identity.unit, id->unit);

                manager_watch_hold(u, false);
                r = manager_units_set_cgroup(u, cgroup);
                if (r < 0)
                        return r;
                u->identity = *id;
                if (new_scope) {
                        log_debug("%s runs as %s now.", u->name, id->unit);
                        manager_hits_unit_new_scope(m, u);
                        manager_announce_unit_changed(m, u, &(UnitChangedMask){ .systemd_unit = true });
                }
                /* A restart recreates the cgroup, with a new id. */
                u->cgroup_id = 0;
                m->scan.bpf_cgroups_dirty = true;
                (void) manager_sync_bpf_cgroups(m);
                /* systemd tells us of every start and restart: the new instance is the one to read at
                 * once (one that grows fast and crashes would otherwise live unseen). */
                manager_schedule_now(m);
                return 0;
        }

        r = manager_units_add(m, id, cgroup, &u);
        if (r < 0)
                return r;
        manager_levels_restore_hits(m, u);
        manager_export_unit_back(m, u->name);
        manager_hits_unit_back(m, u);
        (void) manager_sync_bpf_cgroups(m);
        log_debug("Watching %s (%s, control group %s).", u->name, unit_kind_to_string(id->kind), cgroup);
        manager_announce_unit_added(m, u);
        manager_schedule_now(m);
        return 0;
}

/* The watched name as a restarted mapguardd saved it, back to what it is: a system unit, a user's unit
 * (user@UID.service/NAME), or a Kubernetes container (NAMESPACE/POD/CONTAINER, or pod/UID). Returns 0 or
 * -EINVAL for a name that is none of these. */
static int identity_of_saved(const char *name, UnitIdentity *ret) {
        char manager[UNIT_NAME_MAX] = "";
        const char *slash = strchr(name, '/');
        UnitIdentity id = { .owner_uid = UID_INVALID };

        if (!slash) {
                if (!unit_name_is_valid(name, strlen(name)) || strlen(name) >= sizeof(id.name))
                        return -EINVAL;
                id.kind = UNIT_KIND_SYSTEM;
                strcpy(id.name, name);
                strcpy(id.unit, name);
                *ret = id;
                return 0;
        }
        if ((size_t) (slash - name) < sizeof(manager)) {
                snprintf(manager, sizeof(manager), "%.*s", (int) (slash - name), name);
                if (unit_name_is_user_manager(manager, NULL))
                        return unit_identity_user(manager, slash + 1, NULL, ret);
        }
        if (strlen(name) >= sizeof(id.name))
                return -EINVAL;
        /* A container's names: they come back with its next scope; until then only the name is known. */
        id.kind = strncmp(name, "pod/", 4) == 0 ? UNIT_KIND_POD : UNIT_KIND_CONTAINER;
        strcpy(id.name, name);
        *ret = id;
        return 0;
}

/* Adds NAME, known to have hit the limit but without a control group now, held at the limit (the caller
 * asks systemd for its state). Returns 0 or -errno. */
static int manager_watch_hold_unit(Manager *m, const char *name) {
        UnitIdentity id;
        WatchedUnit *u;
        int r;

        if (manager_find_unit(m, name))
                return 0;
        r = identity_of_saved(name, &id);
        if (r < 0)
                return r;
        r = manager_units_add(m, &id, "", &u);
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

/* The user manager NAME, with its control group CGROUP ("" when it has none now). Returns 0 or -errno. */
static int manager_watch_user_manager(Manager *m, const char *name, uid_t uid, const char *cgroup) {
        UserManager *um = NULL, *grown;
        size_t i;

        for (i = 0; i < m->n_user_managers; i++)
                if (streq(m->user_managers[i].name, name))
                        um = &m->user_managers[i];
        if (!cgroup || !cgroup[0]) {
                if (!um)
                        return 0;
                /* The user logged out: their units went with the manager. */
                for (size_t j = m->n_units; j > 0; j--) {
                        WatchedUnit *u = m->units[j - 1];

                        if (u->identity.kind == UNIT_KIND_USER && streq(u->identity.unit, name) && !u->held)
                                (void) manager_watch_unit_stopped(m, u);
                }
                free(um->name);
                free(um->cgroup);
                *um = m->user_managers[--m->n_user_managers];
                m->scan.bpf_cgroups_dirty = true;
                if (m->n_user_managers == 0)
                        manager_user_log_stop(m);
                return 0;
        }
        if (!um) {
                grown = reallocarray(m->user_managers, m->n_user_managers + 1, sizeof(UserManager));
                if (!grown)
                        return -ENOMEM;
                m->user_managers = grown;
                um = &m->user_managers[m->n_user_managers];
                *um = (UserManager){ .name = strdup(name), .uid = uid };
                if (!um->name)
                        return -ENOMEM;
                m->n_user_managers++;
                log_debug("Following the units of %s.", name);
        }
        if (!um->cgroup || !streq(um->cgroup, cgroup)) {
                char *c = strdup(cgroup);

                if (!c)
                        return -ENOMEM;
                free(um->cgroup);
                um->cgroup = c;
                um->cgroup_id = 0;
                m->scan.bpf_cgroups_dirty = true;
        }
        /* What the user's manager says of stops and exits, while there are users' units to watch. */
        (void) manager_user_log_start(m);
        manager_schedule_now(m);
        return 0;
}

int manager_watch_update_unit(Manager *m, const char *name, const char *cgroup) {
        UnitIdentity id;
        WatchedUnit *u;
        uid_t uid;
        int r;

        if (unit_name_is_user_manager(name, &uid))
                return manager_watch_user_manager(m, name, uid, cgroup);
        if (!cgroup || cgroup[0] == '\0') {
                u = manager_find_unit(m, name) ?: manager_find_unit_by_systemd_unit(m, name);
                return u && manager_watch_unit_stopped(m, u) ? 1 : 0;
        }

        r = unit_identity_resolve(m->root, name, cgroup, &id);
        if (r < 0)
                return r;
        if (id.kind == UNIT_KIND_SANDBOX || !config_matches_identity(m->config, &id)) {
                /* A pod's pause container is not a workload; a unit that left Units= is not watched. */
                manager_watch_remove_unit(m, name);
                return 0;
        }
        return manager_watch_follow(m, &id, cgroup);
}

/* The units of the user manager UM now: each one watched (or read at once when it restarted), and those
 * it had that are gone stopped. */
static void manager_watch_user_units(Manager *m, UserManager *um) {
        _cleanup_(user_units_done) UserUnits list = {};
        int r;

        if (!m->hierarchy || !um->cgroup)
                return;
        r = user_units_list(m->hierarchy, um->cgroup, &list);
        if (r < 0) {
                if (r != um->error && r != -ENOENT)
                        log_warning_errno(r, "Failed to list the units of %s: %m", um->name);
                um->error = r;
                return;
        }
        um->error = 0;
        if (list.bounds_hit != um->bounds && list.bounds_hit != 0)
                log_warning(
                        "%s has more units or deeper slices than mapguardd follows (%u units listed): the "
                        "rest of them are not watched.",
                        um->name, (unsigned) list.n);
        um->bounds = list.bounds_hit;

        for (size_t i = 0; i < list.n; i++) {
                UnitIdentity id;

                if (unit_identity_user(um->name, list.units[i].name, list.units[i].cgroup, &id) < 0 ||
                    !config_matches_identity(m->config, &id))
                        continue;
                WatchedUnit *u = manager_find_unit(m, id.name);
                /* Known and running in the same place: nothing to tell. */
                if (u && !u->held && streq(u->cgroup, list.units[i].cgroup))
                        continue;
                r = manager_watch_follow(m, &id, list.units[i].cgroup);
                if (r < 0)
                        log_warning_errno(r, "Failed to follow %s: %m", id.name);
        }
        for (size_t j = m->n_units; j > 0; j--) {
                WatchedUnit *u = m->units[j - 1];
                bool listed = false;

                if (u->identity.kind != UNIT_KIND_USER || !streq(u->identity.unit, um->name) || u->held)
                        continue;
                for (size_t i = 0; i < list.n && !listed; i++)
                        listed = streq(list.units[i].name, u->identity.user_unit);
                if (!listed)
                        (void) manager_watch_unit_stopped(m, u);
        }
}

/* Returns true when U, held with no systemd unit to ask about (a user's unit, a container), is over: it
 * ran clean for CRASH_LOOP_CLEAN_USEC, someone stopped it (its stop asked for came and went), or, for a
 * container, its pod is gone (kubelet removes the pod's slice). */
static bool manager_watch_held_over(Manager *m, const WatchedUnit *u) {
        _cleanup_free_ char *slice = NULL;
        const char *last;
        struct stat st;

        /* A stop asked for that ended after its processes were last seen is what ended them. */
        if (!manager_hits_recent(u) ||
            (u->asked_stop.start_usec != 0 && u->asked_stop.end_usec >= u->seen_usec))
                return true;
        if (u->identity.kind != UNIT_KIND_CONTAINER && u->identity.kind != UNIT_KIND_POD)
                return false;
        last = u->cgroup ? strrchr(u->cgroup, '/') : NULL;
        if (!last || last == u->cgroup || !m->hierarchy)
                return false;
        if (asprintf(&slice, "%s%.*s", m->hierarchy, (int) (last - u->cgroup), u->cgroup) < 0)
                return false;
        return stat(slice, &st) < 0 && errno == ENOENT;
}

void manager_watch_refresh(Manager *m) {
        m->watch_user_units_now = false;
        for (size_t i = 0; i < m->n_user_managers; i++)
                manager_watch_user_units(m, &m->user_managers[i]);

        for (size_t j = m->n_units; j > 0; j--) {
                WatchedUnit *u = m->units[j - 1];

                if (!u->held || u->identity.kind == UNIT_KIND_SYSTEM ||
                    u->identity.kind == UNIT_KIND_MONITOR)
                        continue;
                if (!manager_watch_held_over(m, u))
                        continue;
                crash_loop_end(&u->crash_loop);
                u->held = false;
                manager_watch_drop(m, u);
        }
}

int manager_watch_pass(Manager *m, bool force_all) {
        if (force_all || manager_scan_full_due(m) || m->watch_user_units_now)
                manager_watch_refresh(m);
        return manager_scan(m, force_all);
}

void manager_watch_unit_state(Manager *m, const char *name, const char *active_state) {
        WatchedUnit *u = manager_find_unit_by_systemd_unit(m, name);

        if (!u || !u->held)
                return;
        if (!active_state || streq(active_state, "inactive")) {
                /* Stopped, or reset-failed: out of view, its crash loop over (its counters stay). */
                crash_loop_end(&u->crash_loop);
                u->held = false;
                manager_watch_drop(m, u);
        }
        /* failed, or activating (auto-restart): kept in view, at level critical. */
}

void manager_watch_prune(Manager *m) {
        for (size_t i = m->n_units; i > 0; i--)
                if (!config_matches_identity(m->config, &m->units[i - 1]->identity))
                        manager_watch_drop(m, m->units[i - 1]);
}
