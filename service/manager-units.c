/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager-units.h"
#include "util.h"

static WatchedUnit *watched_unit_free(WatchedUnit *u) {
        if (!u)
                return NULL;
        free(u->name);
        free(u->object_path);
        free(u->cgroup);
        free(u->procs);
        free(u);
        return NULL;
}

static int unit_compare(const void *a, const void *b) {
        const WatchedUnit *const *x = a, *const *y = b;
        return strcmp((*x)->name, (*y)->name);
}

int manager_units_set_cgroup(WatchedUnit *u, const char *cgroup) {
        char *c;

        if (u->cgroup && streq(u->cgroup, cgroup))
                return 0;
        c = strdup(cgroup);
        if (!c)
                return -ENOMEM;
        free(u->cgroup);
        u->cgroup = c;
        return 0;
}

int manager_units_add(Manager *m, const UnitIdentity *id, const char *cgroup, WatchedUnit **ret) {
        WatchedUnit *u, **units;
        int r;

        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->manager = m;
        u->level = LEVEL_UNKNOWN;
        u->seconds_to_limit = UINT64_MAX;
        u->identity = *id;
        u->name = strdup(id->name);
        if (!u->name || manager_units_set_cgroup(u, cgroup) < 0) {
                watched_unit_free(u);
                return -ENOMEM;
        }
        r = sd_bus_path_encode(BUS_UNIT_PREFIX, u->name, &u->object_path);
        if (r < 0) {
                watched_unit_free(u);
                return r;
        }

        units = reallocarray(m->units, m->n_units + 1, sizeof(WatchedUnit *));
        if (!units) {
                watched_unit_free(u);
                return -ENOMEM;
        }
        m->units = units;
        m->units[m->n_units++] = u;
        qsort(m->units, m->n_units, sizeof(WatchedUnit *), unit_compare);
        m->scan.bpf_cgroups_dirty = true;

        *ret = u;
        return 0;
}

void manager_units_drop(Manager *m, WatchedUnit *u) {
        size_t i;

        for (i = 0; i < m->n_units; i++)
                if (m->units[i] == u)
                        break;
        if (i == m->n_units)
                return;
        memmove(m->units + i, m->units + i + 1, (m->n_units - i - 1) * sizeof(WatchedUnit *));
        m->n_units--;
        m->scan.bpf_cgroups_dirty = true;
        watched_unit_free(u);
}

void manager_units_done(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++)
                watched_unit_free(m->units[i]);
        m->units = mfree(m->units);
        m->n_units = 0;
        for (size_t i = 0; i < m->n_user_managers; i++) {
                free(m->user_managers[i].name);
                free(m->user_managers[i].cgroup);
        }
        m->user_managers = mfree(m->user_managers);
        m->n_user_managers = 0;
}

WatchedUnit *manager_find_unit(Manager *m, const char *name) {
        WatchedUnit key = { .name = (char *) name }, *keyp = &key, **found;

        if (!name || m->n_units == 0)
                return NULL;
        found = bsearch(&keyp, m->units, m->n_units, sizeof(WatchedUnit *), unit_compare);
        return found ? *found : NULL;
}

WatchedUnit *manager_find_unit_by_systemd_unit(Manager *m, const char *unit) {
        for (size_t i = 0; unit && i < m->n_units; i++) {
                const UnitIdentity *id = &m->units[i]->identity;

                /* A user's unit is its manager's on the system bus: that is not it. */
                if (id->kind != UNIT_KIND_USER && streq(id->unit, unit))
                        return m->units[i];
        }
        return NULL;
}

int manager_find_unit_named(Manager *m, const char *name, WatchedUnit **ret) {
        WatchedUnit *found = manager_find_unit(m, name);

        if (found) {
                *ret = found;
                return 0;
        }
        for (size_t i = 0; name && i < m->n_units; i++) {
                const UnitIdentity *id = &m->units[i]->identity;

                if (!streq(id->unit, name) && !streq(id->user_unit, name))
                        continue;
                if (found)
                        return -ENOTUNIQ;
                found = m->units[i];
        }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

WatchedUnit *manager_find_unit_by_path(Manager *m, const char *object_path) {
        for (size_t i = 0; i < m->n_units; i++)
                if (streq(m->units[i]->object_path, object_path))
                        return m->units[i];
        return NULL;
}

WatchedUnit *manager_find_unit_by_cgroup_id(Manager *m, uint64_t cgroup_id) {
        for (size_t i = 0; cgroup_id != 0 && i < m->n_units; i++)
                if (m->units[i]->cgroup_id == cgroup_id)
                        return m->units[i];
        return NULL;
}

ProcState *watched_unit_find_proc(WatchedUnit *u, pid_t pid) {
        for (size_t j = 0; j < u->n_procs; j++)
                if (u->procs[j].pid == pid)
                        return &u->procs[j];
        return NULL;
}

WatchedUnit *manager_find_pid(Manager *m, pid_t pid, ProcState **ret_proc) {
        for (size_t i = 0; i < m->n_units; i++) {
                ProcState *p = watched_unit_find_proc(m->units[i], pid);

                if (p) {
                        if (ret_proc)
                                *ret_proc = p;
                        return m->units[i];
                }
        }
        return NULL;
}

WatchedUnit *manager_worst_unit(Manager *m) {
        WatchedUnit *worst = NULL;

        for (size_t i = 0; i < m->n_units; i++) {
                WatchedUnit *u = m->units[i];

                if (u->n_procs == 0)
                        continue;
                if (!worst || u->level > worst->level ||
                    (u->level == worst->level && u->map_count > worst->map_count))
                        worst = u;
        }
        return worst;
}

void manager_units_job_seen(Manager *m, const char *name, const char *active_state, uint32_t job_id) {
        WatchedUnit *u = manager_find_unit(m, name) ?: manager_find_unit_by_systemd_unit(m, name);

        if (!u || !active_state || !streq(active_state, "deactivating") || job_id == 0)
                return;
        /* The same job seen again (every PropertiesChanged of the unit carries it): still the one window. */
        if (u->asked_stop.job_id == job_id && u->asked_stop.end_usec == 0)
                return;
        u->asked_stop.job_id = job_id;
        u->asked_stop.start_usec = now_usec(CLOCK_MONOTONIC);
        u->asked_stop.end_usec = 0;
        log_debug("%s is being stopped on request (job %u): its exits now are not the limit's.", u->name,
                  job_id);
}

void manager_units_job_removed(Manager *m, const char *name, uint32_t job_id) {
        WatchedUnit *u = manager_find_unit(m, name) ?: manager_find_unit_by_systemd_unit(m, name);

        if (u && u->asked_stop.job_id == job_id && u->asked_stop.start_usec != 0 &&
            u->asked_stop.end_usec == 0)
                u->asked_stop.end_usec = now_usec(CLOCK_MONOTONIC);
}
