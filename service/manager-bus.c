/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>

#include "cgroup-unit.h"
#include "config.h"
#include "escape.h"
#include "explain-advice.h"
#include "explain-read.h"
#include "log.h"
#include "manager-bus-caller.h"
#include "manager-bus-unit.h"
#include "manager-bus.h"
#include "manager-hits.h"
#include "manager-scan.h"
#include "manager-systemd.h"
#include "manager-units.h"
#include "manager-watch.h"
#include "max-map-count.h"
#include "procfs.h"
#include "recommend.h"
#include "utf8.h"
#include "util.h"

static int method_get_headroom(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const BusViewer anyone = { .root = true };
        Manager *m = userdata;
        WatchedUnit *u = manager_worst_unit(m);
        BusViewer v = bus_viewer(message);
        const ProcState *worst = u ? bus_worst_proc(&anyone, u) : NULL, *shown;

        if (!worst)
                /* Nothing watched has processes yet: the whole limit is headroom, and nothing is known. */
                return sd_bus_reply_method_return(message, "susuuus", "", 0, "", 0, m->limits.live,
                                                  m->limits.live, level_to_string(LEVEL_UNKNOWN));

        /* Its count, headroom and level for everyone (the unit's figures); which process it is, only to
         * who may learn of it. */
        shown = bus_viewer_sees(&v, worst) ? worst : NULL;
        return sd_bus_reply_method_return(message, "susuuus", u->name, shown ? (uint32_t) shown->pid : 0,
                                          shown ? shown->comm : "", worst->map_count, m->limits.live,
                                          max_map_count_headroom(worst->map_count, m->limits.live),
                                          level_to_string(worst->level));
}

static int method_list_units(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        BusViewer v = bus_viewer(message);
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sosuuuu)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_units; i++) {
                WatchedUnit *u = m->units[i];
                const ProcState *worst = bus_worst_proc(&v, u);

                r = sd_bus_message_append(reply, "(sosuuuu)", u->name, u->object_path,
                                          level_to_string(u->level), (uint32_t) u->n_procs,
                                          worst ? (uint32_t) worst->pid : 0, u->map_count, u->headroom);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The watched unit that MESSAGE's name argument names (any of its names: manager_find_unit_named()), or a
 * D-Bus error that says why none. Returns 0, or a negative sd_bus error return. */
static int bus_read_unit(Manager *m, sd_bus_message *message, WatchedUnit **ret, sd_bus_error *error) {
        const char *name;
        char shown[256];
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        if (name[0] == '\0')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The unit name is empty.");
        r = manager_find_unit_named(m, name, ret);
        /* The caller's name, said back: escaped, whatever it holds. */
        escape_printable_buf(shown, sizeof(shown), name, 0);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "%s names more than one watched unit (the units of several users, or "
                        "several containers): ask for one by its full name (see ListUnits).",
                        shown);
        if (r < 0)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "Unit %s is not watched by mapguardd (not running, or not matched by "
                        "[Watch] Units=).",
                        shown);
        return 0;
}

static int method_list_processes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        WatchedUnit *u;
        int r;

        r = bus_read_unit(m, message, &u, error);
        if (r < 0)
                return r;
        return manager_bus_reply_processes(message, m, u);
}

static int method_get_unit(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        WatchedUnit *u;
        int r;

        r = bus_read_unit(m, message, &u, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", u->object_path);
}

static int method_get_process(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *unit_name = NULL;
        Manager *m = userdata;
        Thresholds t = manager_thresholds(m);
        ProcState *known = NULL;
        WatchedUnit *u;
        ProcSample owner, s;
        uint32_t pid;
        Level level;
        int r;

        r = sd_bus_message_read(message, "u", &pid);
        if (r < 0)
                return r;
        /* Who owns it first: a caller who may not ask must not make us read a huge maps file, nor learn
         * which process a thread id belongs to. Then counted on demand, whatever the backend: the answer
         * is about now, for any process. */
        r = manager_bus_check_process(m, message, "GetProcess", pid, &owner, error);
        if (r < 0)
                return r;
        r = proc_sample_count(m->root, (pid_t) pid, &s);
        if (r >= 0 && s.start_time != owner.start_time)
                r = -ESRCH; /* another process by now */
        if (r == -ESRCH || r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No process with PID %u.", pid);
        if (r == -ENODATA)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Process %u has no memory maps (a kernel thread or a zombie).",
                                         pid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to read the memory maps of PID %u: %m",
                                               pid);

        u = manager_find_pid(m, (pid_t) pid, &known);
        if (u)
                unit_name = strdup(u->name);
        else
                (void) cgroup_unit_of_pid(m->root, (pid_t) pid, &unit_name);

        /* A watched process keeps its hysteresis; any other is judged afresh. */
        level = level_next(known && known->start_time == s.start_time ? known->level : LEVEL_UNKNOWN,
                           s.map_count, m->limits.live, &t);

        return sd_bus_reply_method_return(
                message, "ssuuus", unit_name ? unit_name : "", s.comm, s.map_count, m->limits.live,
                max_map_count_headroom(s.map_count, m->limits.live), level_to_string(level));
}

/* ExplainProcess() answers at most this many groups: past it the last one, of kind "other", holds the rest,
 * so that the groups still add up to map_count and a process that maps files of thousands of directories
 * does not make a reply of megabytes. */
#define EXPLAIN_REPLY_GROUPS_MAX 64U

/* Appends one (kind, source, mappings, bytes) of ExplainProcess(). SOURCE is bytes from a file name:
 * made valid UTF-8, as sd-bus refuses a message that is not. */
static int append_explain_group(sd_bus_message *reply, const char *kind, const char *source,
                                uint64_t mappings, uint64_t bytes) {
        char valid[EXPLAIN_SOURCE_MAX];

        snprintf(valid, sizeof(valid), "%s", source);
        utf8_make_valid(valid);
        return sd_bus_message_append(reply, "(sstt)", kind, valid, mappings, bytes);
}

static int append_explain_groups(sd_bus_message *reply, const Explain *e) {
        size_t n = e->n_groups <= EXPLAIN_REPLY_GROUPS_MAX ? e->n_groups : EXPLAIN_REPLY_GROUPS_MAX - 1;
        uint64_t mappings = 0, bytes = 0;
        char source[64];
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const ExplainGroup *g = &e->groups[i];

                r = append_explain_group(reply, explain_kind_to_string(g->kind), g->source, g->mappings,
                                         g->bytes);
                if (r < 0)
                        return r;
        }
        if (n < e->n_groups) {
                for (size_t i = n; i < e->n_groups; i++) {
                        mappings += e->groups[i].mappings;
                        bytes = e->groups[i].bytes > UINT64_MAX - bytes ? UINT64_MAX
                                                                        : bytes + e->groups[i].bytes;
                }
                snprintf(source, sizeof(source), "%zu more groups", e->n_groups - n);
                r = append_explain_group(reply, "other", source, mappings, bytes);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_explain_process(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(explain_freep) Explain *e = NULL;
        _cleanup_free_ char *advice = NULL;
        Manager *m = userdata;
        ProcSample before = {}, after = {};
        uint32_t pid;
        int r;

        r = sd_bus_message_read(message, "u", &pid);
        if (r < 0)
                return r;
        r = manager_bus_check_process(m, message, "ExplainProcess", pid, &before, error);
        if (r < 0)
                return r;

        r = explain_process(m->root, (pid_t) pid, &e);
        /* The pid read is the one checked only if the same process still holds it. */
        if (r >= 0)
                r = proc_sample_identity(m->root, (pid_t) pid, &after);
        if (r >= 0 && after.start_time != before.start_time)
                r = -ESRCH;
        if (r == -ESRCH || r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No process with PID %u.", pid);
        if (r == -ENODATA)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Process %u has no memory maps (a kernel thread or a zombie).",
                                         pid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to read the memory maps of PID %u: %m",
                                               pid);
        r = explain_advice(e, m->limits.live, &advice);
        if (r < 0)
                return r;
        utf8_make_valid(advice);

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "u", e->map_count);
        if (r < 0)
                return r;
        r = append_explain_groups(reply, e);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "ss", explain_verdict_to_string(e->verdict), advice);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_recommend(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *reason = NULL;
        Manager *m = userdata;
        RecommendCause cause = {};
        unsigned value;
        int r;

        const WatchedUnit *hit = NULL, *needs = NULL;

        /* The unit that hit the limit last: its processes needed more than the live limit. */
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->crash_loop.hits > 0 &&
                    (!hit || m->units[i]->crash_loop.last_hit_usec > hit->crash_loop.last_hit_usec))
                        hit = m->units[i];
        /* The unit that needs the most: that one, else the one with the highest peak. What its maps were
         * when last explained says whether a higher limit is the fix. */
        for (size_t i = 0; !hit && i < m->n_units; i++)
                if (m->units[i]->peak_map_count > 0 &&
                    (!needs || m->units[i]->peak_map_count > needs->peak_map_count))
                        needs = m->units[i];
        if (hit)
                needs = hit;
        if (needs && needs->cause.known)
                cause = (RecommendCause){ .unit = needs->name, .verdict = needs->cause.verdict };
        r = recommend_max_map_count(m->root, m->scan.peak_map_count, m->limits.live, hit ? hit->name : NULL,
                                    &cause, &value, &reason);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to compute a recommendation: %m");
        return sd_bus_reply_method_return(message, "us", value, reason);
}

static int method_rescan(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = manager_bus_check_root(message, "Rescan", error);
        if (r < 0)
                return r;
        r = manager_watch_pass(m, true);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to scan: %m");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *reason = NULL;
        Manager *m = userdata;
        int r;

        r = manager_bus_check_root(message, "Reload", error);
        if (r < 0)
                return r;
        r = manager_reload(m, &reason);
        if (r < 0)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_FAILED,
                        "The configuration was not reloaded, the previous one stays in force: %s",
                        reason ? reason : strerror(-r));
        return sd_bus_reply_method_return(message, NULL);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_config_u(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u",
                                     streq(property, "WarningPercent") ? m->config->warning_percent
                                                                       : m->config->critical_percent);
}

static int property_get_scan_interval(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "t", m->config->interval_usec);
}

static int property_get_watched_units(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_units; i++) {
                r = sd_bus_message_append(reply, "s", m->units[i]->name);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", backend_to_string(m->scan.backend));
}

static int property_get_hit_detection(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s",
                                     m->scan.hit_detection == HIT_DETECTION_CAUGHT ? "caught" : "observed");
}

static int property_get_hit_catching(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s",
                                     streq(property, "HitCatching") ? manager_hits_catching(m)
                                                                    : manager_hits_catching_reason(m));
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxMapCount", "u", NULL, offsetof(Manager, limits.live),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TunedMaxMapCount", "u", NULL, offsetof(Manager, limits.tuned),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("WarningPercent", "u", property_get_config_u, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CriticalPercent", "u", property_get_config_u, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ScanIntervalUSec", "t", property_get_scan_interval, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastScanUSec", "t", NULL, offsetof(Manager, scan.last_usec), 0),
        SD_BUS_PROPERTY("WatchedUnits", "as", property_get_watched_units, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HitDetection", "s", property_get_hit_detection, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HitCatching", "s", property_get_hit_catching, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HitCatchingReason", "s", property_get_hit_catching, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("GetHeadroom", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", unit, "u", pid, "s", comm, "u", map_count, "u",
                                              max_map_count, "u", headroom, "s", level),
                                method_get_headroom, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListUnits", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sosuuuu)", units),
                                method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_ARGS("s", unit),
                                SD_BUS_RESULT("a(usuusdt)", processes), method_list_processes,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", unit), method_get_unit,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetProcess", SD_BUS_ARGS("u", pid),
                                SD_BUS_RESULT("s", unit, "s", comm, "u", map_count, "u", max_map_count, "u",
                                              headroom, "s", level),
                                method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExplainProcess", SD_BUS_ARGS("u", pid),
                                SD_BUS_RESULT("u", map_count, "a(sstt)", groups, "s", verdict, "s", advice),
                                method_explain_process, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Recommend", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", value, "s", reason),
                                method_recommend, SD_BUS_VTABLE_UNPRIVILEGED),
        /* Root only, checked in the handlers by uid (and by the bus policy). Marked UNPRIVILEGED so that
         * sd-bus's own CAP_SYS_ADMIN test does not decide in their place. */
        SD_BUS_METHOD("Rescan", NULL, NULL, method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("LevelChanged",
                                SD_BUS_ARGS("s", unit, "u", pid, "s", comm, "s", old_level, "s", new_level,
                                            "u", map_count, "u", max_map_count),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("LimitHit",
                                SD_BUS_ARGS("s", unit, "u", pid, "s", comm, "s", syscall, "u", map_count,
                                            "u", max_map_count),
                                0),
        SD_BUS_VTABLE_END,
};

/* Registers the Manager object, the unit objects (fallback + enumerator) and the object manager on
 * m->bus. Returns 0 or -errno. */
static int manager_bus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, &m->slots.manager_object, BUS_MANAGER_PATH,
                                     BUS_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return r;
        r = manager_bus_unit_register(m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(m->bus, &m->slots.object_manager, BUS_MANAGER_PATH);
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

        r = manager_systemd_start(m);
        if (r < 0)
                return r;
        manager_watch_hold_saved(m);
        manager_systemd_query_held(m);

        /* The first pass before READY=1, which promises answers with data. */
        return manager_watch_pass(m, true);
}
