/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Talking to systemd on the system bus: subscribing, listing the units that match Units=, following its
 * signals (JobRemoved, UnitRemoved, PropertiesChanged of units and services) and asking it about one
 * unit (its ControlGroup, its ActiveState). What the answers mean is manager-watch.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager-exits.h"
#include "manager-systemd.h"
#include "manager-units.h"
#include "manager-watch.h"
#include "strv.h"
#include "util.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

const char *manager_systemd_cgroup_interface(const char *unit) {
        static const struct {
                const char *suffix;
                const char *interface;
        } table[] = {
                { ".service", "org.freedesktop.systemd1.Service" },
                { ".scope", "org.freedesktop.systemd1.Scope" },
                { ".slice", "org.freedesktop.systemd1.Slice" },
                { ".socket", "org.freedesktop.systemd1.Socket" },
                { ".mount", "org.freedesktop.systemd1.Mount" },
                { ".swap", "org.freedesktop.systemd1.Swap" },
        };
        const char *dot = unit ? strrchr(unit, '.') : NULL;

        if (!dot)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(dot, table[i].suffix))
                        return table[i].interface;
        return NULL;
}

/* Only an answer that says so means a unit is gone. Any other error (no reply while PID 1 re-executes
 * itself, a timeout) says nothing about the unit. */
static bool unit_gone_error(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, "org.freedesktop.systemd1.NoSuchUnit", SD_BUS_ERROR_UNKNOWN_OBJECT,
                                      SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY);
}

/* How often a question about a unit is asked again when systemd answers with an error that does not
 * say the unit is gone: each try waits for its answer (or sd-bus's timeout), so this bounds the time
 * spent on a unit that systemd cannot tell us about, without spinning. */
#define REFRESH_TRIES_MAX 5U

/* A question to systemd about one unit (a property Get), with what its answer needs. */
typedef struct UnitRequest {
        Manager *manager;
        char *unit;
        char *unit_path;
        unsigned tries; /* questions asked before this one (ControlGroup only) */
} UnitRequest;

static void unit_request_free(void *userdata) {
        UnitRequest *req = userdata;

        free(req->unit);
        free(req->unit_path);
        free(req);
}

/* Asks systemd for INTERFACE.PROPERTY of UNIT (at UNIT_PATH, or the path encoded from its name), without
 * blocking: CALLBACK gets the answer with the UnitRequest as userdata. */
static int unit_request_send(Manager *m, const char *unit, const char *unit_path, const char *interface,
                             const char *property, sd_bus_message_handler_t callback, unsigned tries) {
        _cleanup_free_ char *path = NULL;
        UnitRequest *req;
        sd_bus_slot *slot = NULL;
        int r;

        if (!unit_path) {
                r = sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, unit, &path);
                if (r < 0)
                        return r;
                unit_path = path;
        }

        req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        req->manager = m;
        req->tries = tries;
        req->unit = strdup(unit);
        req->unit_path = strdup(unit_path);
        if (!req->unit || !req->unit_path) {
                unit_request_free(req);
                return -ENOMEM;
        }

        r = sd_bus_call_method_async(m->bus, &slot, SYSTEMD_DEST, unit_path,
                                     "org.freedesktop.DBus.Properties", "Get", callback, req, "ss",
                                     interface, property);
        if (r < 0) {
                unit_request_free(req);
                return r;
        }
        /* The bus owns the pending call; REQ goes with it, answered or not (e.g. at shutdown). A
         * floating slot is referenced by the bus: drop ours, or neither is ever freed. */
        (void) sd_bus_slot_set_destroy_callback(slot, unit_request_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 0;
}

static int manager_systemd_refresh_unit_try(Manager *m, const char *unit, const char *unit_path,
                                            unsigned tries);

/* Tells manager-watch.c that UNIT's control group is CGROUP; a unit that is now held at the limit gets its
 * state asked. Returns 0 or -errno. */
static int manager_systemd_follow_unit(Manager *m, const char *unit, const char *cgroup) {
        int r;

        r = manager_watch_update_unit(m, unit, cgroup);
        if (r <= 0)
                return r;
        r = manager_systemd_query_state(m, unit);
        if (r < 0)
                log_warning_errno(r, "Failed to ask systemd for the state of %s: %m", unit);
        return 0;
}

static int on_control_group(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitRequest *req = userdata;
        Manager *m = req->manager;
        const sd_bus_error *e;
        const char *cgroup = NULL;
        int r;

        e = sd_bus_message_get_error(reply);
        if (e) {
                /* Only an answer that says so means the unit is gone. Any other error (no reply while
                 * PID 1 re-executes itself, a timeout) says nothing about the unit: keep following it
                 * as it was, or daemon-reexec would make every warning go and come again. */
                if (unit_gone_error(e)) {
                        log_debug("Unit %s vanished before its control group could be read: %s", req->unit,
                                  e->message);
                        manager_watch_remove_unit(m, req->unit);
                } else if (manager_watch_follows(m, req->unit))
                        /* Keep following it as it was, or daemon-reexec would make every warning go
                         * and come again. */
                        log_debug("Could not ask systemd about unit %s, keeping it as it was: %s", req->unit,
                                  e->message);
                else if (req->tries < REFRESH_TRIES_MAX) {
                        /* Not watched yet: a running unit must not wait for its next job to be seen. */
                        log_debug("Could not ask systemd about unit %s, asking again: %s", req->unit,
                                  e->message);
                        r = manager_systemd_refresh_unit_try(m, req->unit, req->unit_path, req->tries + 1);
                        if (r < 0)
                                log_warning_errno(r, "Failed to query unit %s: %m", req->unit);
                } else
                        log_warning("Failed to read the control group of %s, not watching it until systemd "
                                    "reports it again: %s",
                                    req->unit, e->message);
                return 0;
        }

        r = sd_bus_message_enter_container(reply, 'v', "s");
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &cgroup);
        if (r < 0) {
                log_warning_errno(r, "Failed to parse the ControlGroup of %s: %m", req->unit);
                return 0;
        }

        /* A reload may have changed Units= while the question was on its way. */
        if (!manager_watch_wants(m, req->unit)) {
                manager_watch_remove_unit(m, req->unit);
                return 0;
        }
        r = manager_systemd_follow_unit(m, req->unit, cgroup);
        if (r < 0)
                log_warning_errno(r, "Failed to follow unit %s: %m", req->unit);
        return 0;
}

/* Asks systemd for the unit's ControlGroup (asynchronously: the answer updates the watched set); TRIES
 * counts the questions asked before this one. */
static int manager_systemd_refresh_unit_try(Manager *m, const char *unit, const char *unit_path,
                                            unsigned tries) {
        const char *interface = manager_systemd_cgroup_interface(unit);

        if (!interface || !manager_watch_wants(m, unit))
                return 0;
        return unit_request_send(m, unit, unit_path, interface, "ControlGroup", on_control_group, tries);
}

static int manager_systemd_refresh_unit(Manager *m, const char *unit, const char *unit_path) {
        return manager_systemd_refresh_unit_try(m, unit, unit_path, 0);
}

/* The synchronous twin of manager_systemd_refresh_unit(), for the initial listing: the first pass, and so
 * READY=1, must already see every unit that was running when we started. */
static int manager_systemd_read_unit(Manager *m, const char *unit, const char *unit_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *cgroup = NULL;
        const char *interface = manager_systemd_cgroup_interface(unit);
        int r;

        if (!interface || !manager_watch_wants(m, unit))
                return 0;

        r = sd_bus_get_property_string(m->bus, SYSTEMD_DEST, unit_path, interface, "ControlGroup", &error,
                                       &cgroup);
        if (r < 0 && sd_bus_error_is_set(&error) && unit_gone_error(&error)) {
                log_debug("Unit %s vanished before its control group could be read: %s", unit,
                          error.message);
                manager_watch_remove_unit(m, unit);
                return 0;
        }
        if (r < 0) {
                /* It was running a moment ago (it is in the list): ask again, without blocking. */
                log_notice("Failed to read the control group of %s, asking again: %s", unit,
                           error.message ? error.message : strerror(-r));
                return manager_systemd_refresh_unit_try(m, unit, unit_path, 1);
        }
        return manager_systemd_follow_unit(m, unit, cgroup);
}

static int on_active_state(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitRequest *req = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *state = NULL;
        int r;

        if (e) {
                if (unit_gone_error(e))
                        manager_watch_unit_state(req->manager, req->unit, NULL);
                else
                        log_debug("Could not ask systemd for the state of %s, keeping it in view: %s",
                                  req->unit, e->message);
                return 0;
        }
        r = sd_bus_message_read(reply, "v", "s", &state);
        if (r < 0) {
                log_debug_errno(r, "Failed to parse the ActiveState of %s: %m", req->unit);
                return 0;
        }
        manager_watch_unit_state(req->manager, req->unit, state);
        return 0;
}

int manager_systemd_query_state(Manager *m, const char *unit) {
        if (!m->bus || !m->watching_systemd)
                return 0;
        return unit_request_send(m, unit, NULL, "org.freedesktop.systemd1.Unit", "ActiveState",
                                 on_active_state, 0);
}

void manager_systemd_query_held(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++) {
                int r;

                if (!m->units[i]->held)
                        continue;
                r = manager_systemd_query_state(m, m->units[i]->name);
                if (r < 0)
                        log_warning_errno(r, "Failed to ask systemd for the state of %s: %m",
                                          m->units[i]->name);
        }
}

/* A service's main process exited (ExecMainCode and ExecMainStatus come with ExecMainPID in the same
 * PropertiesChanged): kept for the exit of a process that hit the limit (manager-exits.c). */
static int on_service_properties_changed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        _cleanup_free_ char *unit = NULL;
        const char *path = sd_bus_message_get_path(message), *interface, *result = NULL;
        uint32_t pid = 0;
        int32_t code = 0, status = 0;
        bool have_pid = false, have_code = false;
        WatchedUnit *u;
        int r;

        if (!path || sd_bus_path_decode(path, SYSTEMD_UNIT_PREFIX, &unit) <= 0)
                return 0;
        u = manager_find_unit_by_systemd_unit(m, unit);
        if (!u)
                return 0;
        r = sd_bus_message_read(message, "s", &interface);
        if (r >= 0)
                r = sd_bus_message_enter_container(message, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(message, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "ExecMainPID")) {
                        r = sd_bus_message_read(message, "v", "u", &pid);
                        have_pid = r >= 0;
                } else if (streq(name, "ExecMainCode")) {
                        r = sd_bus_message_read(message, "v", "i", &code);
                        have_code = r >= 0;
                } else if (streq(name, "ExecMainStatus"))
                        r = sd_bus_message_read(message, "v", "i", &status);
                else if (streq(name, "Result"))
                        r = sd_bus_message_read(message, "v", "s", &result);
                else
                        r = sd_bus_message_skip(message, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(message);
        }
        if (r < 0) {
                log_debug_errno(r, "Failed to parse PropertiesChanged of %s: %m", unit);
                return 0;
        }
        if (have_pid && have_code)
                manager_exits_main_exit(u, pid, code, status, result);
        return 0;
}

/* systemd also says UnitRemoved for every unit on daemon-reload, and loads them again at once: ask
 * rather than drop, or every reload would forget peaks, trends and levels, and alert again. A unit
 * that is really gone answers with an error or an empty ControlGroup, and is dropped then. */
static int on_unit_removed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *unit, *path;
        int r;

        r = sd_bus_message_read(message, "so", &unit, &path);
        if (r < 0) {
                log_debug_errno(r, "Failed to parse UnitRemoved signal: %m");
                return 0;
        }
        if (!manager_watch_follows(m, unit))
                return 0;
        r = manager_systemd_refresh_unit(m, unit, path);
        if (r < 0)
                log_warning_errno(r, "Failed to query unit %s: %m", unit);
        return 0;
}

static int on_job_removed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *job_path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(message, "uoss", &id, &job_path, &unit, &result);
        if (r < 0) {
                log_debug_errno(r, "Failed to parse JobRemoved signal: %m");
                return 0;
        }
        manager_units_job_removed(m, unit, id);
        r = manager_systemd_refresh_unit(m, unit, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to query unit %s: %m", unit);
        return 0;
}

/* Reads ActiveState and the Job's id from the changed properties of a Unit PropertiesChanged (systemd
 * sends them all in one, a consistent snapshot). Returns 0 or -errno. */
static int read_unit_job(sd_bus_message *message, const char **ret_state, uint32_t *ret_job) {
        const char *interface;
        int r;

        r = sd_bus_message_read(message, "s", &interface);
        if (r >= 0)
                r = sd_bus_message_enter_container(message, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *name, *job_path;

                r = sd_bus_message_read(message, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "ActiveState"))
                        r = sd_bus_message_read(message, "v", "s", ret_state);
                else if (streq(name, "Job"))
                        r = sd_bus_message_read(message, "v", "(uo)", ret_job, &job_path);
                else
                        r = sd_bus_message_skip(message, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(message);
        }
        return r < 0 ? r : 0;
}

/* A unit's ActiveState changes without a job when its main process exits or a scope empties. */
static int on_unit_properties_changed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        _cleanup_free_ char *unit = NULL;
        const char *path = sd_bus_message_get_path(message), *state = NULL;
        uint32_t job = 0;
        int r;

        if (!path)
                return 0;
        r = sd_bus_path_decode(path, SYSTEMD_UNIT_PREFIX, &unit);
        if (r <= 0)
                return 0;
        if (!manager_watch_wants(m, unit) && !manager_watch_follows(m, unit))
                return 0;

        r = read_unit_job(message, &state, &job);
        if (r < 0)
                log_debug_errno(r, "Failed to parse PropertiesChanged of %s: %m", unit);
        else
                manager_units_job_seen(m, unit, state, job);
        r = manager_systemd_refresh_unit(m, unit, path);
        if (r < 0)
                log_warning_errno(r, "Failed to query unit %s: %m", unit);
        return 0;
}

/* The ListUnitsByPatterns call for the configured names/globs: units that run or are about to
 * (inactive ones have no processes to watch). */
static int new_list_call(Manager *m, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "ListUnitsByPatterns");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(call,
                                       (char *[]){ (char *) "active", (char *) "reloading",
                                                   (char *) "activating", (char *) "deactivating", NULL });
        /* Units= and what may run under the names it matches (users' managers, containers' scopes). */
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "s");
        for (char *const *p = m->config->units; r >= 0 && p && *p; p++)
                r = sd_bus_message_append(call, "s", *p);
        for (char *const *p = manager_watch_extra_patterns(); r >= 0 && *p; p++)
                r = sd_bus_message_append(call, "s", *p);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(call);
        return 0;
}

/* Walks a ListUnitsByPatterns reply, reading each unit's control group now (SYNC) or asking for it. */
static int apply_unit_list(Manager *m, sd_bus_message *reply, bool sync) {
        const char *name, *path;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                return r;
        for (;;) {
                r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL, &path,
                                        NULL, NULL, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sync ? manager_systemd_read_unit(m, name, path)
                         : manager_systemd_refresh_unit(m, name, path);
                if (r < 0)
                        log_warning_errno(r, "Failed to query unit %s: %m", name);
        }
        return sd_bus_message_exit_container(reply);
}

static int on_unit_list(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        if (e) {
                log_warning("Failed to list units from systemd after a reload: %s", e->message);
                return 0;
        }
        r = apply_unit_list(m, reply, false);
        if (r < 0)
                log_warning_errno(r, "Failed to parse systemd's unit list: %m");
        return 0;
}

int manager_systemd_relist(Manager *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        manager_watch_prune(m);
        /* An empty pattern list would mean "all units" to systemd; for us it means none. */
        if (strv_length(m->config->units) == 0)
                return 0;

        r = new_list_call(m, &call);
        if (r < 0)
                return r;
        /* Asynchronously: a reload must not block the loop on hundreds of round trips to PID 1. */
        return sd_bus_call_async(m->bus, NULL, call, on_unit_list, m, 0);
}

/* The first listing, synchronous: the first pass, and so READY=1, must already see every unit that was
 * running when we started. */
static int manager_systemd_list_initial(Manager *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (strv_length(m->config->units) == 0) {
                log_info("No units to watch: [Watch] Units= is empty.");
                return 0;
        }

        r = new_list_call(m, &call);
        if (r < 0)
                return r;
        r = sd_bus_call(m->bus, call, 0, &error, &reply);
        if (r < 0) {
                if (error.message)
                        log_error("Failed to list units from systemd: %s", error.message);
                else
                        log_error_errno(r, "Failed to list units from systemd: %m");
                return r;
        }
        return apply_unit_list(m, reply, true);
}

int manager_systemd_start(Manager *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        /* Not UnitNew: a unit is loaded long before it runs (and our own question about an unloaded
         * unit loads it again, which would answer with another UnitNew). Starting takes a job, and
         * JobRemoved says when it is done. */
        r = sd_bus_match_signal(m->bus, &m->slots.unit_removed, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                "UnitRemoved", on_unit_removed, m);
        if (r >= 0)
                r = sd_bus_match_signal(m->bus, &m->slots.job_removed, SYSTEMD_DEST, SYSTEMD_PATH,
                                        SYSTEMD_MANAGER, "JobRemoved", on_job_removed, m);
        if (r >= 0)
                r = sd_bus_add_match(
                        m->bus, &m->slots.unit_properties_changed,
                        "type='signal',sender='" SYSTEMD_DEST "',"
                        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                        "arg0='org.freedesktop.systemd1.Unit',"
                        "path_namespace='" SYSTEMD_UNIT_PREFIX "'",
                        on_unit_properties_changed, m);
        if (r >= 0)
                r = sd_bus_add_match(
                        m->bus, &m->slots.service_properties_changed,
                        "type='signal',sender='" SYSTEMD_DEST "',"
                        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                        "arg0='org.freedesktop.systemd1.Service',"
                        "path_namespace='" SYSTEMD_UNIT_PREFIX "'",
                        on_service_properties_changed, m);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to systemd's unit signals: %m");

        /* systemd sends unit signals only while someone is subscribed. */
        r = sd_bus_call_method(m->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &error,
                               NULL, "");
        if (r < 0) {
                if (error.message)
                        log_error("Failed to subscribe to systemd: %s", error.message);
                else
                        log_error_errno(r, "Failed to subscribe to systemd: %m");
                return r;
        }
        m->watching_systemd = true;

        return manager_systemd_list_initial(m);
}

void manager_systemd_stop(Manager *m) {
        m->slots.unit_removed = sd_bus_slot_unref(m->slots.unit_removed);
        m->slots.job_removed = sd_bus_slot_unref(m->slots.job_removed);
        m->slots.unit_properties_changed = sd_bus_slot_unref(m->slots.unit_properties_changed);
        m->slots.service_properties_changed = sd_bus_slot_unref(m->slots.service_properties_changed);
        m->watching_systemd = false;
}
