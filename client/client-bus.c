/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-bus.h"
#include "format.h"
#include "strv.h"
#include "util.h"

void client_manager_info_done(ManagerInfo *info) {
        free(info->version);
        free(info->backend);
        free(info->hit_detection);
        free(info->hit_catching);
        free(info->hit_catching_reason);
        strv_free(info->watched_units);
}

/* Errors of the bus that mean nobody owns org.mapguard1 and activating it failed. */
static bool bus_error_is_not_running(const sd_bus_error *e) {
        if (!sd_bus_error_is_set(e))
                return false;
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_DISCONNECTED) ||
                strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0 ||
                strncmp(e->name, "org.freedesktop.systemd1.", 25) == 0;
}

/* An error that is not "access denied" must not read as one: main() maps -EACCES to EXIT_NOPERMISSION, and
 * sd-bus maps Error.Failed (the daemon's "the configuration was not reloaded") to -EACCES. */
static int not_denied(int r) {
        return r >= 0 || r == -EACCES || r == -EPERM ? -EIO : r;
}

int client_bus_error_explain(const char *action, const sd_bus_error *e, int r, char *buf, size_t size) {
        _cleanup_free_ char *detail = NULL;

        if (sd_bus_error_is_set(e) && e->message) {
                detail = format_sanitize(e->message);
                /* The sentence goes inside ours: "(Unit x not found.)." reads badly. */
                if (detail && *detail && detail[strlen(detail) - 1] == '.' && bus_error_is_not_running(e))
                        detail[strlen(detail) - 1] = '\0';
        }

        if (bus_error_is_not_running(e)) {
                snprintf(buf, size,
                         "mapguardd is not running%s%s%s. Start it with: systemctl start mapguardd",
                         detail ? " (" : "", detail ?: "", detail ? ")" : "");
                return not_denied(r);
        }
        /* The error's name decides, not r: sd-bus turns names into errnos, and Error.Failed (the daemon's
         * "the configuration was not reloaded") becomes -EACCES. r only counts when there is no name. */
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
            (!sd_bus_error_is_set(e) && (r == -EACCES || r == -EPERM))) {
                snprintf(buf, size, "Failed to %s: access denied; run as root.", action);
                return -EACCES;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_INVALID_ARGS, SD_BUS_ERROR_FAILED) && detail) {
                /* The daemon's sentence says it all: the unit or pid it does not know, or why the
                 * configuration was not reloaded (file, line, reason). */
                snprintf(buf, size, "%s", detail);
                return not_denied(r);
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_OBJECT,
                                   SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY)) {
                snprintf(buf, size, "Failed to %s: mapguardd does not offer it (a different version?): %s",
                         action, detail ?: e->name);
                return not_denied(r);
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT,
                                   "org.freedesktop.DBus.Error.TimedOut") ||
            r == -ETIMEDOUT) {
                snprintf(buf, size, "Failed to %s: mapguardd did not answer in time.", action);
                return not_denied(r);
        }
        if (detail)
                snprintf(buf, size, "Failed to %s: %s", action, detail);
        else
                snprintf(buf, size, "Failed to %s: %s", action, strerror(r < 0 ? -r : r));
        return not_denied(r);
}

/* Prints why a call failed and returns the value a verb returns for it. */
int client_bus_error_log(const char *action, const sd_bus_error *e, int r) {
        char buf[1024];

        r = client_bus_error_explain(action, e, r, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
        return r;
}

int client_bus_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address = getenv("MAPGUARD_BUS_ADDRESS");
        int r;

        if (!address)
                r = sd_bus_open_system(&bus);
        else {
                /* A private bus for tests: the same client protocol, another socket. */
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r >= 0)
                /* The default (25 s) is long to look at a silent terminal; mapguardd answers from memory. */
                r = sd_bus_set_method_call_timeout(bus, BUS_CALL_TIMEOUT_USEC);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* Calls a method of systemd (or of the bus) without ever activating anything. */
static int call_no_activation(sd_bus *bus, const char *destination, const char *path, const char *interface,
                              const char *member, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, destination, path, interface, member);
        if (r < 0)
                return r;
        r = sd_bus_message_set_auto_start(m, false);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 0, NULL, ret_reply);
}

static int systemd_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                              char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *s;
        char *copy;
        int r;

        r = call_no_activation(bus, "org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties",
                               "Get", &reply, "ss", interface, property);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "v", "s", &s);
        if (r < 0)
                return r;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static int systemd_get_u32(sd_bus *bus, const char *path, const char *interface, const char *property,
                           uint32_t *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = call_no_activation(bus, "org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties",
                               "Get", &reply, "ss", interface, property);
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "v", "u", ret);
}

/* Loads a unit by name and returns its LoadState in *ret_load_state and its object path in *ret_path
 * (either may be NULL). */
static int systemd_load_unit(sd_bus *bus, const char *name, char **ret_path, char **ret_load_state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *load_state = NULL;
        const char *p;
        int r;

        r = call_no_activation(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return r;
        path = strdup(p);
        if (!path)
                return -ENOMEM;
        r = systemd_get_string(bus, path, "org.freedesktop.systemd1.Unit", "LoadState", &load_state);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        if (ret_load_state)
                *ret_load_state = TAKE_PTR(load_state);
        return 0;
}

/* Whether mapguardd.service (at path, in these states) has failed or keeps failing: a call would wait out
 * its timeout for a name that never comes. Returns -EHOSTDOWN with the sentence in buf, or 0. */
static int mapguardd_failing_explain(sd_bus *bus, const char *path, const char *active_state,
                                     const char *sub_state, const char *result, char *buf, size_t size) {
        _cleanup_free_ char *why = format_sanitize(result);
        const char *reason = why && *why && !streq(why, "success") ? why : NULL;
        uint32_t restarts = 0;

        /* "auto-restart" with a failed Result: systemd waits to start it again, likely to fail the same
         * way. With Result "success" the failure is no longer on record (`systemctl reset-failed` after a
         * fix, or Restart=always after a clean exit): the start to come is waited for like any other. */
        if (streq(active_state, "failed") ||
            (streq(sub_state, "auto-restart") && !streq(result, "success"))) {
                snprintf(buf, size,
                         "mapguardd has failed (%s). "
                         "See: systemctl status mapguardd; journalctl -u mapguardd",
                         reason ?: active_state);
                return -EHOSTDOWN;
        }
        /* Starting again after failures (a crash loop): the call would wait out its timeout. A first start
         * is quick: wait for it. */
        if (streq(active_state, "activating") &&
            systemd_get_u32(bus, path, "org.freedesktop.systemd1.Service", "NRestarts", &restarts) >= 0 &&
            restarts > 0) {
                snprintf(buf, size,
                         "mapguardd keeps failing (%s, restarted %u times). "
                         "See: systemctl status mapguardd; journalctl -u mapguardd",
                         reason ?: "restarting", restarts);
                return -EHOSTDOWN;
        }
        return 0;
}

int client_bus_check(sd_bus *bus, char *buf, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *load_state = NULL, *active_state = NULL, *sub_state = NULL,
                            *result = NULL, *alias_load_state = NULL;
        int has_owner = 0, r;

        r = call_no_activation(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &reply, "s", BUS_NAME);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &has_owner);
        if (r < 0 || has_owner)
                return 0; /* Running, or we cannot tell: the call itself will say. */

        /* Nobody owns the name: a call would make the bus ask systemd to start mapguardd. When the unit
         * has failed, the start job fails without systemd telling the bus, and the call waits for its
         * timeout. Ask systemd first. Any failure here (no systemd on this bus, a unit not installed)
         * means we cannot tell, and the call goes ahead as it would without this check. */
        r = systemd_load_unit(bus, DAEMON_UNIT, &path, &load_state);
        if (r < 0 || !streq(load_state, "loaded"))
                return 0;
        r = systemd_get_string(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", &active_state);
        if (r >= 0)
                r = systemd_get_string(bus, path, "org.freedesktop.systemd1.Unit", "SubState", &sub_state);
        if (r >= 0)
                r = systemd_get_string(bus, path, "org.freedesktop.systemd1.Service", "Result", &result);
        if (r < 0)
                return 0;

        r = mapguardd_failing_explain(bus, path, active_state, sub_state, result, buf, size);
        if (r < 0)
                return r;
        if (!streq(active_state, "inactive"))
                return 0; /* Starting or stopping: the call waits for it. */

        /* Bus activation starts the unit through its alias, which exists only while it is enabled. */
        r = systemd_load_unit(bus, BUS_ACTIVATION_UNIT, NULL, &alias_load_state);
        if (r < 0 || streq(alias_load_state, "loaded"))
                return 0;
        snprintf(buf, size,
                 "mapguardd is not running (it is not enabled, so no call starts it). "
                 "Start it with: systemctl start mapguardd");
        return -EHOSTDOWN;
}

int client_call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **ret_reply,
                        const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, BUS_MANAGER, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, 0, error, ret_reply);
}

/* A property read by bus_get_all(): its name, its D-Bus type ('s', 'u', 't', or 'a' for "as") and where
 * it goes in the struct being filled (char *, uint32_t, uint64_t, char **). */
typedef struct BusProperty {
        const char *name;
        char type;
        size_t offset;
} BusProperty;

/* Reads one "{sv}" entry's value into the matching field of TARGET, or skips a property the table does
 * not name (a newer daemon may have more). */
static int bus_property_read(sd_bus_message *m, const BusProperty *table, size_t n_table, void *target) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_table; i++) {
                void *p = (uint8_t *) target + table[i].offset;
                const char *s;
                char sig[3] = { table[i].type, table[i].type == 'a' ? 's' : 0, 0 };

                if (!streq(name, table[i].name))
                        continue;

                r = sd_bus_message_enter_container(m, 'v', sig);
                if (r < 0)
                        return r;
                switch (table[i].type) {
                case 's':
                        r = sd_bus_message_read(m, "s", &s);
                        if (r < 0)
                                return r;
                        free(*(char **) p);
                        *(char **) p = strdup(s);
                        if (!*(char **) p)
                                return -ENOMEM;
                        break;
                case 'u':
                        r = sd_bus_message_read(m, "u", (uint32_t *) p);
                        break;
                case 't':
                        r = sd_bus_message_read(m, "t", (uint64_t *) p);
                        break;
                case 'a':
                        *(char ***) p = strv_free(*(char ***) p);
                        r = sd_bus_message_read_strv(m, (char ***) p);
                        break;
                }
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        return sd_bus_message_skip(m, "v");
}

/* Properties.GetAll of INTERFACE at PATH, in one round trip, into TARGET by TABLE. Says what failed,
 * naming WHAT ("mapguardd", "held.service"). On failure TARGET may hold part of the values: the caller
 * frees them. */
static int bus_get_all(sd_bus *bus, const char *path, const char *interface, const BusProperty *table,
                       size_t n_table, void *target, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char action[256];
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error,
                               &reply, "s", interface);
        if (r < 0) {
                snprintf(action, sizeof(action), "read the properties of %s", what);
                return client_bus_error_log(action, &error, r);
        }

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0) {
                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = bus_property_read(reply, table, n_table, target);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the properties of %s: %s\n", what, strerror(-r));
                return r;
        }
        return 0;
}

int client_manager_info_get(sd_bus *bus, ManagerInfo *ret) {
        static const BusProperty table[] = {
                { "Version", 's', offsetof(ManagerInfo, version) },
                { "Backend", 's', offsetof(ManagerInfo, backend) },
                { "HitDetection", 's', offsetof(ManagerInfo, hit_detection) },
                { "HitCatching", 's', offsetof(ManagerInfo, hit_catching) },
                { "HitCatchingReason", 's', offsetof(ManagerInfo, hit_catching_reason) },
                { "MaxMapCount", 'u', offsetof(ManagerInfo, max_map_count) },
                { "TunedMaxMapCount", 'u', offsetof(ManagerInfo, tuned_max_map_count) },
                { "WarningPercent", 'u', offsetof(ManagerInfo, warning_percent) },
                { "CriticalPercent", 'u', offsetof(ManagerInfo, critical_percent) },
                { "ScanIntervalUSec", 't', offsetof(ManagerInfo, scan_interval_usec) },
                { "LastScanUSec", 't', offsetof(ManagerInfo, last_scan_usec) },
                { "WatchedUnits", 'a', offsetof(ManagerInfo, watched_units) },
        };
        ManagerInfo info = {};
        int r;

        r = bus_get_all(bus, BUS_PATH, BUS_MANAGER, table, ELEMENTSOF(table), &info, "mapguardd");
        if (r < 0) {
                client_manager_info_done(&info);
                return r;
        }
        *ret = info;
        return 0;
}

/* Units nearest the limit first; units without processes (nothing to measure) last. */
static int unit_info_compare(const void *a, const void *b) {
        const UnitInfo *x = a, *y = b;

        if ((x->processes == 0) != (y->processes == 0))
                return x->processes == 0 ? 1 : -1;
        if (x->headroom != y->headroom)
                return x->headroom < y->headroom ? -1 : 1;
        if (format_level_rank(x->level) != format_level_rank(y->level))
                return format_level_rank(y->level) - format_level_rank(x->level);
        return strcmp(x->unit, y->unit);
}

int client_unit_list_get(sd_bus *bus, sd_bus_message **ret_reply, UnitInfo **ret_units, size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = client_call_manager(bus, "ListUnits", &error, &reply, NULL);
        if (r < 0)
                return client_bus_error_log("list the watched units", &error, r);

        r = sd_bus_message_enter_container(reply, 'a', "(sosuuuu)");
        for (;;) {
                UnitInfo u;

                if (r < 0)
                        break;
                r = sd_bus_message_read(reply, "(sosuuuu)", &u.unit, &u.object_path, &u.level, &u.processes,
                                        &u.worst_pid, &u.map_count, &u.headroom);
                if (r <= 0)
                        break;
                r = ARRAY_RESERVE(units, allocated, n, 16);
                if (r < 0)
                        break;
                units[n++] = u;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the unit list of mapguardd: %s\n", strerror(-r));
                return r;
        }

        if (n > 0)
                qsort(units, n, sizeof(UnitInfo), unit_info_compare);
        *ret_reply = TAKE_PTR(reply);
        *ret_units = TAKE_PTR(units);
        *ret_n = n;
        return 0;
}

/* Nearest the limit first. */
static int process_info_compare(const void *a, const void *b) {
        const ProcessInfo *x = a, *y = b;

        if (x->headroom != y->headroom)
                return x->headroom < y->headroom ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int client_process_list_get(sd_bus *bus, const char *unit, sd_bus_message **ret_reply,
                            ProcessInfo **ret_procs, size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProcessInfo *procs = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = client_call_manager(bus, "ListProcesses", &error, &reply, "s", unit);
        if (r < 0)
                return client_bus_error_log("list the processes of the unit", &error, r);

        r = sd_bus_message_enter_container(reply, 'a', "(usuusdt)");
        for (;;) {
                ProcessInfo p;

                if (r < 0)
                        break;
                r = sd_bus_message_read(reply, "(usuusdt)", &p.pid, &p.comm, &p.map_count, &p.headroom,
                                        &p.level, &p.growth_per_minute, &p.seconds_to_limit);
                if (r <= 0)
                        break;
                r = ARRAY_RESERVE(procs, allocated, n, 16);
                if (r < 0)
                        break;
                procs[n++] = p;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the process list of %s: %s\n", unit, strerror(-r));
                return r;
        }
        if (n > 0)
                qsort(procs, n, sizeof(ProcessInfo), process_info_compare);
        *ret_reply = TAKE_PTR(reply);
        *ret_procs = TAKE_PTR(procs);
        *ret_n = n;
        return 0;
}

int client_unit_hits_get(sd_bus *bus, const char *object_path, UnitHits *ret) {
        static const BusProperty table[] = {
                { "LimitHits", 't', offsetof(UnitHits, limit_hits) },
                { "LimitExits", 't', offsetof(UnitHits, limit_exits) },
                { "LastLimitHitUSec", 't', offsetof(UnitHits, last_limit_hit_usec) },
                { "LastExit", 's', offsetof(UnitHits, last_exit) },
        };
        UnitHits w = {};
        int r;

        r = bus_get_all(bus, object_path, BUS_UNIT, table, ELEMENTSOF(table), &w, object_path);
        if (r >= 0 && !w.last_exit) { /* a daemon without the property: none seen */
                w.last_exit = strdup("");
                if (!w.last_exit) {
                        fprintf(stderr, "Failed to read the properties of %s: %s\n", object_path,
                                strerror(ENOMEM));
                        r = -ENOMEM;
                }
        }
        if (r < 0) {
                client_unit_hits_done(&w);
                return r;
        }
        *ret = w;
        return 0;
}

void client_unit_hits_done(UnitHits *w) {
        w->last_exit = mfree(w->last_exit);
}

int client_unit_path_get(sd_bus *bus, const char *name, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        char *p;
        int r;

        r = client_call_manager(bus, "GetUnit", &error, &reply, "s", name);
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD))
                /* An older mapguardd: units are found by their watched name only. */
                return sd_bus_path_encode(BUS_PATH "/unit", name, ret_path);
        if (r < 0)
                return client_bus_error_log("find the unit", &error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the answer to GetUnit: %s\n", strerror(-r));
                return r;
        }
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

int client_unit_identity_get(sd_bus *bus, const char *object_path, UnitIdentityInfo *ret) {
        static const BusProperty table[] = {
                { "Name", 's', offsetof(UnitIdentityInfo, name) },
                { "Kind", 's', offsetof(UnitIdentityInfo, kind) },
                { "SystemdUnit", 's', offsetof(UnitIdentityInfo, systemd_unit) },
                { "UserUnit", 's', offsetof(UnitIdentityInfo, user_unit) },
                { "OwnerUID", 'u', offsetof(UnitIdentityInfo, owner_uid) },
                { "KubernetesNamespace", 's', offsetof(UnitIdentityInfo, k8s_namespace) },
                { "KubernetesPod", 's', offsetof(UnitIdentityInfo, k8s_pod) },
                { "KubernetesContainer", 's', offsetof(UnitIdentityInfo, k8s_container) },
        };
        UnitIdentityInfo i = { .owner_uid = UINT32_MAX };
        char **strings[] = { &i.name,          &i.kind,    &i.systemd_unit, &i.user_unit,
                             &i.k8s_namespace, &i.k8s_pod, &i.k8s_container };
        int r;

        r = bus_get_all(bus, object_path, BUS_UNIT, table, ELEMENTSOF(table), &i, object_path);
        /* A daemon without some of them: "". */
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(strings); k++)
                if (!*strings[k] && !(*strings[k] = strdup("")))
                        r = -ENOMEM;
        if (r < 0) {
                client_unit_identity_done(&i);
                return r;
        }
        *ret = i;
        return 0;
}

void client_unit_identity_done(UnitIdentityInfo *i) {
        i->name = mfree(i->name);
        i->kind = mfree(i->kind);
        i->systemd_unit = mfree(i->systemd_unit);
        i->user_unit = mfree(i->user_unit);
        i->k8s_namespace = mfree(i->k8s_namespace);
        i->k8s_pod = mfree(i->k8s_pod);
        i->k8s_container = mfree(i->k8s_container);
}
