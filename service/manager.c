/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager: its event loop, timer and signals, the set of watched units, reload. One pass of it
 * is in manager-scan.c. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "bpf-counter.h"
#include "manager-bus.h"
#include "cgroup.h"
#include "log.h"
#include "manager-export.h"
#include "manager-hits.h"
#include "manager-levels.h"
#include "manager-scan.h"
#include "manager.h"
#include "util.h"
#include "manager-wall.h"
#include "manager-watch.h"

Thresholds manager_thresholds(const Manager *m) {
        return (Thresholds){
                .warning_percent = m->config->warning_percent,
                .critical_percent = m->config->critical_percent,
                .hysteresis_percent = m->config->hysteresis_percent,
        };
}

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

WatchedUnit *manager_find_unit(Manager *m, const char *name) {
        WatchedUnit key = { .name = (char *) name }, *keyp = &key, **found;

        if (!name || m->n_units == 0)
                return NULL;
        found = bsearch(&keyp, m->units, m->n_units, sizeof(WatchedUnit *), unit_compare);
        return found ? *found : NULL;
}

WatchedUnit *manager_find_unit_by_path(Manager *m, const char *object_path) {
        for (size_t i = 0; i < m->n_units; i++)
                if (streq(m->units[i]->object_path, object_path))
                        return m->units[i];
        return NULL;
}

WatchedUnit *manager_find_pid(Manager *m, pid_t pid, ProcState **ret_proc) {
        for (size_t i = 0; i < m->n_units; i++) {
                WatchedUnit *u = m->units[i];

                for (size_t j = 0; j < u->n_procs; j++)
                        if (u->procs[j].pid == pid) {
                                if (ret_proc)
                                        *ret_proc = &u->procs[j];
                                return u;
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

/* Fires the scan timer at once, e.g. when a unit appears, so its processes are known quickly. */
void manager_schedule_now(Manager *m) {
        if (!m->scan.timer)
                return;
        (void) sd_event_source_set_time(m->scan.timer, now_usec(CLOCK_MONOTONIC));
        (void) sd_event_source_set_enabled(m->scan.timer, SD_EVENT_ONESHOT);
}

/* Adds the unit NAME with CGROUP ("" for none known) to the watched set, sorted. */
static int manager_add_unit(Manager *m, const char *name, const char *cgroup, WatchedUnit **ret) {
        WatchedUnit *u, **units;
        int r;

        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->manager = m;
        u->level = LEVEL_UNKNOWN;
        u->seconds_to_limit = UINT64_MAX;
        u->name = strdup(name);
        u->cgroup = strdup(cgroup);
        if (!u->name || !u->cgroup) {
                watched_unit_free(u);
                return -ENOMEM;
        }
        r = sd_bus_path_encode("/org/mapguard1/unit", name, &u->object_path);
        if (r < 0) {
                watched_unit_free(u);
                return r;
        }

        units = realloc(m->units, (m->n_units + 1) * sizeof(WatchedUnit *));
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

int manager_hold_unit(Manager *m, const char *name) {
        WatchedUnit *u;
        int r;

        if (manager_find_unit(m, name))
                return 0;
        r = manager_add_unit(m, name, "", &u);
        if (r < 0)
                return r;
        manager_levels_restore_wall(m, u);
        manager_wall_hold(m, u, true);
        u->level = manager_wall_unit_level(u, LEVEL_UNKNOWN);
        manager_bus_unit_added(m, u);
        return m->watching_systemd ? manager_watch_query_state(m, name) : 0;
}

int manager_update_unit(Manager *m, const char *name, const char *cgroup) {
        WatchedUnit *u;
        int r;

        u = manager_find_unit(m, name);
        if (!cgroup || cgroup[0] == '\0') {
                /* Its last calls may have failed within the second that groups them into one burst,
                 * not told yet: whether it is at the wall depends on them. */
                if (u)
                        manager_hits_flush(m);
                if (u && manager_wall_at_wall(u)) {
                        /* It hit the limit and its processes are gone: systemd restarts it, it sits
                         * failed, or it was stopped. Kept in view until systemd says which; the next
                         * pass tells which processes went. */
                        manager_wall_hold(m, u, true);
                        r = m->watching_systemd ? manager_watch_query_state(m, name) : 0;
                        if (r < 0)
                                log_warning_errno(r, "Failed to ask systemd for the state of %s: %m", name);
                        manager_schedule_now(m);
                        return 0;
                }
                manager_remove_unit(m, name);
                return 0;
        }

        if (u) {
                manager_wall_hold(m, u, false);
                if (!streq(u->cgroup, cgroup)) {
                        char *c = strdup(cgroup);
                        if (!c)
                                return -ENOMEM;
                        free(u->cgroup);
                        u->cgroup = c;
                }
                /* A restart recreates the cgroup under the same path, with a new id. */
                u->cgroup_id = 0;
                m->scan.bpf_cgroups_dirty = true;
                (void) manager_sync_bpf_cgroups(m);
                /* systemd tells us of every start and restart: the new instance is the one to read at
                 * once (one that grows fast and crashes would otherwise live unseen). */
                manager_schedule_now(m);
                return 0;
        }

        r = manager_add_unit(m, name, cgroup, &u);
        if (r < 0)
                return r;
        manager_levels_restore_wall(m, u);
        (void) manager_sync_bpf_cgroups(m);
        log_debug("Watching %s (control group %s).", name, cgroup);
        manager_bus_unit_added(m, u);
        manager_schedule_now(m);
        return 0;
}

void manager_remove_unit(Manager *m, const char *name) {
        WatchedUnit *u = manager_find_unit(m, name);
        size_t i;

        if (!u)
                return;
        /* Its processes went with it (stopped, crashed): those at warning or critical leave that level,
         * and one that hit the limit gets its exit attributed. */
        for (size_t j = 0; j < u->n_procs; j++) {
                manager_notify_gone(m, u->name, &u->procs[j],
                                    "is no longer watched: its unit stopped or left Units=");
                manager_wall_gone(m, u, &u->procs[j]);
        }

        /* Announced while the object can still be found: InterfacesRemoved lists its interfaces. */
        log_debug("No longer watching %s.", name);
        manager_bus_unit_removed(m, u);

        for (i = 0; i < m->n_units; i++)
                if (m->units[i] == u)
                        break;
        memmove(m->units + i, m->units + i + 1, (m->n_units - i - 1) * sizeof(WatchedUnit *));
        m->n_units--;
        m->scan.bpf_cgroups_dirty = true;
        watched_unit_free(u);
}

void manager_unit_state(Manager *m, const char *name, const char *active_state) {
        WatchedUnit *u = manager_find_unit(m, name);

        if (!u || !u->held)
                return;
        if (!active_state || streq(active_state, "inactive")) {
                /* Stopped, or reset-failed: out of view, its crash loop over. */
                manager_wall_end(m, u);
                manager_remove_unit(m, name);
        }
        /* failed, or activating (auto-restart): kept in view, at level critical. */
}

void manager_prune_units(Manager *m) {
        for (size_t i = m->n_units; i > 0; i--)
                if (!config_matches_unit(m->config, m->units[i - 1]->name))
                        manager_remove_unit(m, m->units[i - 1]->name);
}

static int on_scan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_scan(m, false);
        return 0;
}

static void notify_reloading(void) {
        char buf[64];

        snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
                 (unsigned long long) now_usec(CLOCK_MONOTONIC));
        (void) sd_notify(false, buf);
}

int manager_reload(Manager *m, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        unsigned changes;
        int r;

        notify_reloading();

        r = config_load(m->root, m->config_dir, &c, &error);
        if (r < 0) {
                log_error("Failed to reload the configuration, keeping the old one: %s",
                          error ? error : strerror(-r));
                (void) sd_notify(false,
                                 "READY=1\nSTATUS=Reload failed, running with the previous configuration.");
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }

        changes = config_diff(m->config, c);
        config_free(m->config);
        m->config = c;

        if (changes & CONFIG_CHANGE_UNITS) {
                /* Relisting drops the units that no longer match, then asks systemd for the new ones. */
                if (m->watching_systemd) {
                        r = manager_watch_relist(m);
                        if (r < 0)
                                log_warning_errno(r, "Failed to list units after reload: %m");
                } else
                        manager_prune_units(m);
        }
        if (changes & CONFIG_CHANGE_BACKEND) {
                manager_select_backend(m);
                manager_bus_manager_changed(m, "Backend");
        }
        if (changes & CONFIG_CHANGE_THRESHOLDS) {
                manager_bus_manager_changed(m, "WarningPercent");
                manager_bus_manager_changed(m, "CriticalPercent");
        }
        if (changes & CONFIG_CHANGE_INTERVAL)
                manager_bus_manager_changed(m, "ScanIntervalUSec");

        log_info("Reloaded the configuration.");
        (void) manager_scan(m, true);
        (void) sd_notify(false, "READY=1\nSTATUS=Watching.");
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata, NULL);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

/* The event loop's sources: SIGTERM/SIGINT exit, SIGHUP reloads, the scan timer (armed by the first
 * pass), the watchdog. Returns 0 or -errno. */
static int manager_setup_event(Manager *m) {
        sigset_t mask;
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_sighup, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->sigterm_source, "signal-SIGTERM");
        (void) sd_event_source_set_description(m->sigint_source, "signal-SIGINT");
        (void) sd_event_source_set_description(m->sighup_source, "signal-SIGHUP");

        r = sd_event_add_time(m->event, &m->scan.timer, CLOCK_MONOTONIC, now_usec(CLOCK_MONOTONIC),
                              10 * USEC_PER_MSEC, on_scan_timer, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->scan.timer, "scan-timer");
        (void) sd_event_source_set_enabled(m->scan.timer, SD_EVENT_OFF);

        return sd_event_set_watchdog(m->event, true);
}

int manager_new(const char *root, const char *config_dir, Config *config, Manager **ret) {
        Manager *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->scan.backend = BACKEND_PROCFS;
        m->root = strdup(root ? root : "");
        if (config_dir)
                m->config_dir = strdup(config_dir);
        if (!m->root || (config_dir && !m->config_dir)) {
                r = -ENOMEM;
                goto fail;
        }

        r = manager_setup_event(m);
        if (r < 0)
                goto fail;

        r = cgroup_find_hierarchy(m->root, &m->hierarchy, &m->cgroup_layout);
        if (r < 0)
                log_warning_errno(r,
                                  "Failed to find the cgroup hierarchy under %s/sys/fs/cgroup, no unit's "
                                  "processes can be found: %m",
                                  m->root);

        manager_select_backend(m);
        manager_levels_load(m);

        *ret = m;
        return 0;

fail:
        m->config = NULL; /* the caller still owns it on failure */
        manager_free(m);
        return r;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        manager_watch_stop(m);
        manager_wall_done(m);
        manager_hits_stop(m);
        manager_export_done(m);
        manager_bus_detach(m);
        for (size_t i = 0; i < m->n_units; i++)
                watched_unit_free(m->units[i]);
        free(m->units);
        m->scan.bpf = bpf_counter_free(m->scan.bpf);

        sd_event_source_disable_unref(m->scan.timer);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_bus_slot_unref(m->slots.disconnected);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);

        config_free(m->config);
        free(m->levels.path);
        level_state_done(&m->levels.saved);
        free(m->root);
        free(m->config_dir);
        free(m->hierarchy);
        free(m);
        return NULL;
}

/* sd-bus says "Disconnected" when the connection is gone (the bus daemon restarted or died). Without
 * it the name is gone and every client waits out its timeout, while the watchdog is still fed:
 * exit with failure, so that Restart=on-failure brings mapguardd back on the new bus. */
static int on_bus_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;

        log_error("Lost the connection to the bus; exiting so that systemd restarts mapguardd.");
        return sd_event_exit(m->event, EXIT_FAILURE);
}

int manager_attach_bus(Manager *m, sd_bus *bus) {
        int r;

        m->bus = sd_bus_ref(bus);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(m->bus, &m->slots.disconnected, NULL, "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, m);
        if (r < 0)
                return r;
        return manager_bus_register(m);
}

int manager_connect_system(Manager *m) {
        /* Only our reference: the Manager keeps its own, so this must not close the connection. */
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system_with_description(&bus, "mapguardd");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = manager_attach_bus(m, bus);
        if (r < 0)
                return log_error_errno(r, "Failed to register mapguardd's objects on the bus: %m");

        /* The name first: a second instance stops here before it writes any journal entry, and the
         * first pass's LevelChanged signals come from org.mapguard1, where clients listen. Calls that
         * arrive meanwhile wait in the queue until the first pass is done. */
        r = sd_bus_request_name(m->bus, "org.mapguard1", 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name org.mapguard1: %m");

        r = manager_watch_start(m);
        if (r < 0)
                return r;
        manager_levels_hold_saved(m);

        /* The first pass before READY=1, which promises answers with data. */
        return manager_scan(m, true);
}

int manager_run(Manager *m) {
        int r;

        (void) sd_notify(false, "READY=1\nSTATUS=Watching.");
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to run the event loop: %m");
        return r; /* the exit code: 0 on SIGTERM/SIGINT, EXIT_FAILURE when the bus went away */
}
