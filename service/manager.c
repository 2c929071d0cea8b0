/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager's lifecycle: its event loop, timer and signals, reload, start and stop. Its parts are
 * manager-*.c (manager.h says how they call each other). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "bpf-counter.h"
#include "cgroup.h"
#include "conf-load.h"
#include "log.h"
#include "manager-announce.h"
#include "manager-exits.h"
#include "manager-export.h"
#include "manager-hits.h"
#include "manager-levels.h"
#include "manager-scan.h"
#include "manager-systemd.h"
#include "manager-units.h"
#include "manager-user-log.h"
#include "manager-watch.h"
#include "manager.h"
#include "util.h"

static int on_scan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_watch_pass(m, false);
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
                        r = manager_systemd_relist(m);
                        if (r < 0)
                                log_warning_errno(r, "Failed to list units after reload: %m");
                } else
                        manager_watch_prune(m);
        }
        if (changes & CONFIG_CHANGE_BACKEND) {
                manager_select_backend(m);
                manager_announce_property(m, "Backend");
        }
        if (changes & CONFIG_CHANGE_THRESHOLDS) {
                manager_announce_property(m, "WarningPercent");
                manager_announce_property(m, "CriticalPercent");
        }
        if (changes & CONFIG_CHANGE_INTERVAL)
                manager_announce_property(m, "ScanIntervalUSec");

        log_info("Reloaded the configuration.");
        (void) manager_watch_pass(m, true);
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
        m->hits.disarm_delay_usec = HITS_DISARM_DELAY_USEC;
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

        manager_systemd_stop(m);
        manager_user_log_stop(m);
        manager_exits_done(m);
        manager_hits_done(m);
        manager_export_done(m);
        /* Our objects on the bus (manager-bus.c registered them), before the bus goes away. */
        sd_bus_slot_unref(m->slots.manager_object);
        sd_bus_slot_unref(m->slots.unit_objects);
        sd_bus_slot_unref(m->slots.unit_enumerator);
        sd_bus_slot_unref(m->slots.object_manager);
        manager_units_done(m);
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

int manager_run(Manager *m) {
        int r;

        (void) sd_notify(false, "READY=1\nSTATUS=Watching.");
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to run the event loop: %m");
        return r; /* the exit code: 0 on SIGTERM/SIGINT, EXIT_FAILURE when the bus went away */
}
