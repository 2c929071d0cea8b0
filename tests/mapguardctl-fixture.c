/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the mapguardctl tests (see mapguardctl-fixture.h): the scripted org.mapguard1 and the
 * helpers that run the built binary. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <cmocka.h>

#include "mapguardctl-fixture.h"
#include "mapguardctl-path.h"
#include "util.h"

#define LAST_SCAN_USEC (UINT64_C(1795000000) * USEC_PER_SEC)

static Scenario scenario;
char *tmpdir, *bus_address, *mapguardctl;
static pid_t bus_pid = -1, server_pid = -1;

/* ---- the scripted daemon (runs in a child process) ---------------------------------------------- */

static const struct {
        const char *unit;
        const char *level;
        uint32_t processes, worst_pid, map_count, headroom;
} units[] = {
        { "ingester.service", "warning", 3, 1234, 53000, 12530 },
        { "a-very-long-unit-name-for-a-prometheus-ingester-replica-17.service", "ok", 1, 40, 100, 65430 },
        { "idle.scope", "unknown", 0, 0, 0, 0 },
        { "u01.service", "ok", 1, 101, 1001, 64529 },
        { "u02.service", "ok", 1, 102, 1002, 64528 },
        { "u03.service", "ok", 1, 103, 1003, 64527 },
        { "u04.service", "ok", 1, 104, 1004, 64526 },
        { "u05.service", "ok", 1, 105, 1005, 64525 },
        { "u06.service", "ok", 1, 106, 1006, 64524 },
        { "u07.service", "ok", 1, 107, 1007, 64523 },
        { "u08.service", "ok", 1, 108, 1008, 64522 },
        { "hot.service", "critical", 2, 77, 63000, 2530 },
};

static int method_get_headroom(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        switch (scenario) {
        case SCENARIO_WARNING:
                return sd_bus_reply_method_return(m, "susuuus", "ingester.service", 1234, "prometheus",
                                                  53000, 65530, 12530, "warning");
        case SCENARIO_NOT_YOURS:
                return sd_bus_reply_method_return(m, "susuuus", "ingester.service", 0, "", 53000, 65530,
                                                  12530, "warning");
        case SCENARIO_CRITICAL:
                /* Named with prctl(PR_SET_NAME) by its owner, who may write the plugin format's '|'. */
                return sd_bus_reply_method_return(m, "susuuus", "hot.service", 77, "java|x=1;2;3", 63000,
                                                  65530, 2530, "critical");
        case SCENARIO_OK:
        case SCENARIO_HIT:
        case SCENARIO_STALE:
                return sd_bus_reply_method_return(m, "susuuus", "u01.service", 101, "nginx", 1001, 65530,
                                                  64529, "ok");
        default:
                /* Before the first scan, and always when nothing is watched (SCENARIO_NO_UNITS). */
                return sd_bus_reply_method_return(m, "susuuus", "", 0, "", 0, 65530, 65530, "unknown");
        }
}

/* A unit name of 240 characters (230 and ".scope" plus the prefix), as a transient scope may have. */
const char *long_name(void) {
        static char name[256];

        if (!name[0]) {
                strcpy(name, "run-");
                memset(name + 4, 'x', 230);
                strcpy(name + 234, ".scope");
        }
        return name;
}

/* SCENARIO_IDENTITY's user unit. */
#define GROW_NAME "user@1001.service/grow.service"
#define GROW_PATH "/org/mapguard1/unit/user_401001_2eservice_2fgrow_2eservice"

static int method_list_units(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sosuuuu)");
        for (size_t i = 0; r >= 0 && scenario != SCENARIO_NO_UNITS && i < ELEMENTSOF(units); i++) {
                _cleanup_free_ char *path = NULL;

                r = sd_bus_path_encode("/org/mapguard1/unit", units[i].unit, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(sosuuuu)", units[i].unit, path, units[i].level,
                                                  units[i].processes,
                                                  scenario == SCENARIO_NOT_YOURS ? 0 : units[i].worst_pid,
                                                  units[i].map_count, units[i].headroom);
        }
        if (r >= 0 && scenario == SCENARIO_HELD)
                r = sd_bus_message_append(reply, "(sosuuuu)", "held.service",
                                          "/org/mapguard1/unit/held_2eservice", "critical", 0, 0, 0, 0);
        if (r >= 0 && scenario == SCENARIO_STALE)
                r = sd_bus_message_append(reply, "(sosuuuu)", "stale.service",
                                          "/org/mapguard1/unit/stale_2eservice", "unknown", 2, 300, 1000,
                                          64530);
        if (r >= 0 && scenario == SCENARIO_LONG_NAME)
                r = sd_bus_message_append(reply, "(sosuuuu)", long_name(), "/org/mapguard1/unit/long",
                                          "critical", 1, 42, 63530, 2000);
        if (r >= 0 && scenario == SCENARIO_WIDE_NAME)
                r = sd_bus_message_append(reply, "(sosuuuu)", WIDE_NAME, "/org/mapguard1/unit/wide",
                                          "critical", 1, 43, 63530, 2000);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_processes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit;
        int r;

        r = sd_bus_message_read(m, "s", &unit);
        if (r < 0)
                return r;
        if (streq(unit, "idle.scope"))
                return sd_bus_reply_method_return(m, "a(usuusdt)", 0);
        if (scenario == SCENARIO_IDENTITY && streq(unit, GROW_NAME))
                return sd_bus_reply_method_return(m, "a(usuusdt)", 1, 3001, "grow", 900, 64630, "ok", 0.0,
                                                  UINT64_MAX);
        /* Held at warning by hysteresis, 77 is worse than 79, which has more maps at ok. */
        if (streq(unit, "hot.service"))
                return sd_bus_reply_method_return(m, "a(usuusdt)", 2, 79, "java", 52300, 13230, "ok", 0.0,
                                                  UINT64_MAX, 77, "java", 52000, 13530, "warning", 0.0,
                                                  UINT64_MAX);
        if (!streq(unit, "ingester.service"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unit %s is not watched.", unit);
        if (scenario == SCENARIO_NOT_YOURS)
                return sd_bus_reply_method_return(m, "a(usuusdt)", 1, 1240, "mine", 10, 65520, "ok", 0.0,
                                                  UINT64_MAX);
        return sd_bus_reply_method_return(m, "a(usuusdt)", 3, 1240, "evil\033[2J\n", 10, 65520, "ok", 0.0,
                                          UINT64_MAX, 1234, "prometheus", 53000, 12530, "warning", 120.0,
                                          (uint64_t) 6264, 1235, "sidecar", 900, 64630, "ok", -3.2,
                                          UINT64_MAX);
}

static int method_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        const char *name;
        int r;

        /* Only this scenario's daemon knows GetUnit(): the others are older ones. */
        if (scenario != SCENARIO_IDENTITY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method GetUnit.");
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (streq(name, "grow.service") || streq(name, GROW_NAME))
                return sd_bus_reply_method_return(m, "o", GROW_PATH);
        r = sd_bus_path_encode("/org/mapguard1/unit", name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_get_process(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint32_t pid;
        int r;

        r = sd_bus_message_read(m, "u", &pid);
        if (r < 0)
                return r;
        if (pid != 1234)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No process with PID %u.", pid);
        return sd_bus_reply_method_return(m, "ssuuus", "ingester.service", "prometheus", 53000, 65530, 12530,
                                          "warning");
}

/* ExplainProcess: 1234 (ingester.service's worst) maps a store's files, in more groups than the table
 * shows, one of them named with an escape sequence; 77 (hot.service's worst) leaks threads; 1235 is not
 * the caller's. */
static int method_explain_process(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint32_t pid;
        int r;

        r = sd_bus_message_read(m, "u", &pid);
        if (r < 0)
                return r;
        if (pid == 1234)
                return sd_bus_reply_method_return(
                        m, "ua(sstt)ss", 53000, 12, "file", "/var/lib/prometheus/data", (uint64_t) 52000,
                        UINT64_C(3407872000), "library", "/usr/lib/x86_64-linux-gnu", (uint64_t) 700,
                        UINT64_C(94371840), "anonymous", "", (uint64_t) 150, UINT64_C(268435456),
                        "thread-stack", "40 threads", (uint64_t) 80, UINT64_C(335708160), "file",
                        "/tmp/evil\033[2J\n", (uint64_t) 30, UINT64_C(122880), "named-anonymous", "Go: heap",
                        (uint64_t) 20, UINT64_C(81920), "unknown", "", (uint64_t) 10, (uint64_t) 0, "heap",
                        "[heap]", (uint64_t) 1, UINT64_C(135168), "stack", "[stack]", (uint64_t) 1,
                        UINT64_C(135168), "kernel", "[vdso]", (uint64_t) 1, UINT64_C(8192), "kernel",
                        "[vvar]", (uint64_t) 1, UINT64_C(16384), "other", "3 more groups", (uint64_t) 6,
                        UINT64_C(24576), "mapped-files",
                        "Raise vm.max_map_count from 65,530 to 1,048,576 (room for twice the 53,000 maps): "
                        "the process maps its 52,000 data files, which a higher limit serves and a fix "
                        "would not shrink.");
        if (pid == 77)
                return sd_bus_reply_method_return(
                        m, "ua(sstt)ss", 52000, 3, "thread-stack", "25000 threads", (uint64_t) 50000,
                        UINT64_C(26316800000), "library", "/usr/lib/jvm/java-17-openjdk-amd64/lib",
                        (uint64_t) 1500, UINT64_C(157286400), "anonymous", "", (uint64_t) 500,
                        UINT64_C(1073741824), "threads",
                        "Look for a thread leak: 25,000 threads hold 50,000 maps (2 per thread: a stack and "
                        "its guard); a pool that grows without bound or threads never joined keep adding "
                        "them, and a higher vm.max_map_count only postpones the failure.");
        if (pid == 1235)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root and the owner of process %u may query it.", pid);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No process with PID %u.", pid);
}

static int method_recommend(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(
                m, "us", 262144, "Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.");
}

/* Rescan stands in for a scan that changes a level: it emits LevelChanged, and the unit's
 * PropertiesChanged (what a user other than root receives): ingester.service goes from warning (as
 * ListUnits says) to critical and hits the limit, twice. */
static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/mapguard1", "org.mapguard1.Manager",
                               "LevelChanged", "susssuu", "ingester.service", 1234, "prom\"etheus", "ok",
                               "warning", 53000, 65530);
        if (r >= 0)
                r = sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/mapguard1/unit/ingester_2eservice",
                                       "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
                                       "org.mapguard1.Unit", 4, "Level", "s", "critical", "MapCount", "u",
                                       65531, "LimitHits", "t", (uint64_t) 2, "Headroom", "u", 0, 1,
                                       "WorstPID");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (scenario == SCENARIO_RELOAD_FAILS)
                /* What mapguardd says; sd-bus maps Error.Failed to EACCES, which is no "access denied". */
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, RELOAD_FAILED);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Reload is for root only.");
}

static const uint32_t max_map_count = 65530, tuned = 1048576, warning = 80, critical = 95;
static const uint64_t interval = 10 * USEC_PER_SEC, last_scan = LAST_SCAN_USEC;

static int property_get_watched(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && scenario != SCENARIO_NO_UNITS && i < ELEMENTSOF(units); i++)
                r = sd_bus_message_append(reply, "s", units[i].unit);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", "0.1.0-test");
        if (streq(property, "Backend"))
                return sd_bus_message_append(
                        reply, "s",
                        scenario == SCENARIO_ARMED || scenario == SCENARIO_IDLE ? "bpf" : "procfs");
        if (streq(property, "MaxMapCount"))
                return sd_bus_message_append(reply, "u", max_map_count);
        if (streq(property, "TunedMaxMapCount"))
                return sd_bus_message_append(reply, "u", tuned);
        if (streq(property, "WarningPercent"))
                return sd_bus_message_append(reply, "u", warning);
        if (streq(property, "CriticalPercent"))
                return sd_bus_message_append(reply, "u", critical);
        if (streq(property, "ScanIntervalUSec"))
                return sd_bus_message_append(reply, "t", interval);
        if (streq(property, "LastScanUSec"))
                return sd_bus_message_append(reply, "t", last_scan);
        return -EINVAL;
}

/* How limit hits are caught (SCENARIO_ARMED, SCENARIO_IDLE), on a vtable of its own. */
static int property_get_catching(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        bool armed = scenario == SCENARIO_ARMED;

        if (streq(property, "HitDetection"))
                return sd_bus_message_append(reply, "s", "caught");
        if (streq(property, "HitCatching"))
                return sd_bus_message_append(reply, "s", armed ? "armed" : "idle");
        if (streq(property, "HitCatchingReason"))
                return sd_bus_message_append(reply, "s",
                                             armed ? "ingester.service at warning"
                                                   : "nothing near the limit, no recent hit or failure");
        return -EINVAL;
}

static const sd_bus_vtable manager_catching_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("HitDetection", "s", property_get_catching, 0, 0),
        SD_BUS_PROPERTY("HitCatching", "s", property_get_catching, 0, 0),
        SD_BUS_PROPERTY("HitCatchingReason", "s", property_get_catching, 0, 0),
        SD_BUS_VTABLE_END,
};

/* The unit objects: the limit hits of u02.service (SCENARIO_HIT) and held.service (SCENARIO_HELD). */
static int property_get_unit_hits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        bool hit = (scenario == SCENARIO_HIT && streq(path, "/org/mapguard1/unit/u02_2eservice")) ||
                (scenario == SCENARIO_HELD && streq(path, "/org/mapguard1/unit/held_2eservice"));
        /* 3 min and 0.9 s before this answer: the client read its clock before asking, a moment
         * earlier, and shows whole seconds, so it says "3min ago" (with time(NULL), a second that
         * began between its clock and this answer made it "2min 59s"). */
        uint64_t when = now_usec(CLOCK_REALTIME) - 180 * USEC_PER_SEC - 900 * USEC_PER_MSEC;

        if (streq(property, "LimitHits"))
                return sd_bus_message_append(reply, "t", (uint64_t) (hit ? HELD_HITS : 0));
        if (streq(property, "LimitExits"))
                return sd_bus_message_append(reply, "t", (uint64_t) (hit ? HELD_EXITS : 0));
        if (streq(property, "LastLimitHitUSec"))
                /* The held unit hit the limit long ago: it is CRITICAL for being down, not for the hit. */
                return sd_bus_message_append(reply, "t",
                                             !hit ? 0
                                                     : scenario == SCENARIO_HELD
                                                     ? when - 86400 * USEC_PER_SEC
                                                     : when);
        if (streq(property, "LastExit"))
                return sd_bus_message_append(reply, "s", hit ? "dumped SIGABRT" : "");
        return -EINVAL;
}

/* What a unit object says it is: grow.service is a user's unit in SCENARIO_IDENTITY, the rest are system
 * units named by their path. */
static int property_get_unit_identity(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        bool grow = scenario == SCENARIO_IDENTITY && streq(path, GROW_PATH);

        if (streq(property, "OwnerUID"))
                return sd_bus_message_append(reply, "u", grow ? 1001 : UINT32_MAX);
        if (streq(property, "Name")) {
                if (sd_bus_path_decode(path, "/org/mapguard1/unit", &name) <= 0)
                        return -EINVAL;
                return sd_bus_message_append(reply, "s", name);
        }
        if (streq(property, "Kind"))
                return sd_bus_message_append(reply, "s", grow ? "user" : "system");
        if (streq(property, "SystemdUnit"))
                return sd_bus_message_append(reply, "s", grow ? "user@1001.service" : "");
        if (streq(property, "UserUnit"))
                return sd_bus_message_append(reply, "s", grow ? "grow.service" : "");
        if (streq(property, "Processes")) {
                if (sd_bus_path_decode(path, "/org/mapguard1/unit", &name) <= 0)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (streq(units[i].unit, name))
                                return sd_bus_message_append(reply, "u", units[i].processes);
                return sd_bus_message_append(reply, "u", 0);
        }
        return -EINVAL;
}

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("Kind", "s", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("SystemdUnit", "s", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("UserUnit", "s", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("OwnerUID", "u", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("Processes", "u", property_get_unit_identity, 0, 0),
        SD_BUS_PROPERTY("LimitHits", "t", property_get_unit_hits, 0, 0),
        SD_BUS_PROPERTY("LimitExits", "t", property_get_unit_hits, 0, 0),
        SD_BUS_PROPERTY("LastLimitHitUSec", "t", property_get_unit_hits, 0, 0),
        SD_BUS_PROPERTY("LastExit", "s", property_get_unit_hits, 0, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxMapCount", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("TunedMaxMapCount", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("WarningPercent", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("CriticalPercent", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("ScanIntervalUSec", "t", property_get, 0, 0),
        SD_BUS_PROPERTY("LastScanUSec", "t", property_get, 0, 0),
        SD_BUS_PROPERTY("WatchedUnits", "as", property_get_watched, 0, 0),
        SD_BUS_PROPERTY("Backend", "s", property_get, 0, 0),
        SD_BUS_METHOD("GetHeadroom", "", "susuuus", method_get_headroom, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListUnits", "", "a(sosuuuu)", method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListProcesses", "s", "a(usuusdt)", method_list_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetUnit", "s", "o", method_get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetProcess", "u", "ssuuus", method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ExplainProcess", "u", "ua(sstt)ss", method_explain_process,
                      SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Recommend", "", "us", method_recommend, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Rescan", "", "", method_rescan, 0),
        SD_BUS_METHOD("Reload", "", "", method_reload, 0),
        SD_BUS_SIGNAL("LevelChanged", "susssuu", 0),
        SD_BUS_VTABLE_END,
};

/* The child: serve until killed. Writes one byte to ready_fd once the name is owned. */
__attribute__((noreturn)) static void server_run(int ready_fd) {
        sd_bus *bus = NULL;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, bus_address) < 0 ||
            sd_bus_set_bus_client(bus, true) < 0 || sd_bus_start(bus) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", manager_vtable,
                                     NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, "/org/mapguard1/unit", "org.mapguard1.Unit", unit_vtable,
                                       NULL, NULL) < 0 ||
            ((scenario == SCENARIO_ARMED || scenario == SCENARIO_IDLE) &&
             sd_bus_add_object_vtable(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                      manager_catching_vtable, NULL) < 0) ||
            sd_bus_request_name(bus, "org.mapguard1", 0) < 0)
                _exit(EXIT_FAILURE);
        child_serve(bus, ready_fd);
}

/* ---- the test side ------------------------------------------------------------------------------ */

/* Waits up to WAIT_MSEC for fd to become readable. */
bool wait_readable(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, WAIT_MSEC) == 1;
}

void server_stop(void) {
        if (server_pid > 0) {
                kill(server_pid, SIGTERM);
                waitpid(server_pid, NULL, 0);
        }
        server_pid = -1;
}

void child_serve(sd_bus *bus, int ready_fd) {
        if (write(ready_fd, "R", 1) != 1)
                _exit(EXIT_FAILURE);
        close(ready_fd);
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        _exit(EXIT_FAILURE);
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        _exit(EXIT_FAILURE);
        }
}

/* Forks a child running run(); returns its pid once it has written that it is ready. */
pid_t child_start(void (*run)(int ready_fd)) {
        int fds[2];
        pid_t pid;
        char c;

        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                run(fds[1]);
        close(fds[1]);
        assert_true(wait_readable(fds[0]));
        assert_int_equal(read(fds[0], &c, 1), 1);
        close(fds[0]);
        return pid;
}

void server_start(Scenario s) {
        server_stop();
        scenario = s;
        server_pid = child_start(server_run);
}

char *read_all(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t n = 0;

        assert_non_null(f);
        if (getdelim(&text, &n, '\0', f) < 0) {
                free(text);
                text = strdup("");
        }
        assert_non_null(text);
        return text;
}

/* Asserts needle occurs in haystack, showing both when not. */
void assert_contains(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle)) {
                /* fail_msg() cuts long messages; the whole output helps most. */
                fprintf(stderr, "# expected to find\n%s\n# in\n%s\n", needle, haystack);
                fail();
        }
}

/* Runs mapguardctl with args (shell words); returns its exit status and its output in *ret_out and
 * *ret_err (either may be NULL). */
int ctl(const char *args, char **ret_out, char **ret_err) {
        _cleanup_free_ char *cmd = NULL, *out = NULL, *err = NULL;
        int status;

        assert_true(asprintf(&out, "%s/out", tmpdir) >= 0);
        assert_true(asprintf(&err, "%s/err", tmpdir) >= 0);
        assert_true(asprintf(&cmd, "'%s' %s >'%s' 2>'%s'", mapguardctl, args, out, err) >= 0);
        status = system(cmd);
        assert_true(WIFEXITED(status));
        if (ret_out)
                *ret_out = read_all(out);
        if (ret_err)
                *ret_err = read_all(err);
        return WEXITSTATUS(status);
}

/* Asserts that `mapguardctl args` exits with code and prints expected_out (NULL: don't compare) and
 * expected_err (NULL: nothing on stderr). */
void assert_ctl(const char *args, int code, const char *expected_out, const char *expected_err) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = ctl(args, &out, &err);

        if (r != code)
                fail_msg("mapguardctl %s: exit %d, expected %d; stdout: '%s' stderr: '%s'", args, r, code,
                         out, err);
        if (expected_out)
                assert_string_equal(out, expected_out);
        assert_string_equal(err, expected_err ?: "");
}

/* Asserts that `mapguardctl args` prints valid JSON (python3's json module decides), if python3 is here. */
void assert_json_valid(const char *args) {
        _cleanup_free_ char *cmd = NULL;

        if (system("command -v python3 >/dev/null 2>&1") != 0)
                return;
        assert_true(asprintf(&cmd, "'%s' %s | python3 -c 'import json, sys; json.load(sys.stdin)'",
                             mapguardctl, args) >= 0);
        if (system(cmd) != 0)
                fail_msg("mapguardctl %s: not valid JSON", args);
}

int mapguardctl_fixture_setup(void **state) {
        _cleanup_free_ char *conf = NULL, *cmd = NULL;
        FILE *f;
        int pid;

        if (system("command -v dbus-daemon >/dev/null 2>&1") != 0)
                return 0; /* The tests skip, saying why. */

        tmpdir = strdup("/tmp/test-mapguardctl.XXXXXX");
        if (!tmpdir || !mkdtemp(tmpdir))
                return -1;
        /* Open to another user's client too (a test runs one as nobody): the bus allows any user. */
        if (chmod(tmpdir, 0755) < 0)
                return -1;
        mapguardctl = strdup(MAPGUARDCTL_PATH);
        if (!mapguardctl || asprintf(&bus_address, "unix:path=%s/bus", tmpdir) < 0)
                return -1; /* The process ends: what asprintf() left behind does not matter. */
        if (asprintf(&conf, "%s/bus.conf", tmpdir) < 0) {
                conf = NULL;
                return -1;
        }

        f = fopen(conf, "we");
        if (!f)
                return -1;
        fprintf(f,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig><type>session</type><listen>%s</listen><auth>EXTERNAL</auth>\n"
                "<policy context=\"default\"><allow user=\"*\"/>\n"
                "<allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                bus_address);
        if (fclose(f) != 0)
                return -1;

        /* --fork returns once the socket listens; --print-pid says whom to stop at the end. */
        if (asprintf(&cmd, "dbus-daemon --config-file='%s' --fork --print-pid", conf) < 0) {
                cmd = NULL;
                return -1;
        }
        f = popen(cmd, "re");
        if (!f)
                return -1;
        if (fscanf(f, "%d", &pid) != 1) {
                pclose(f);
                return -1;
        }
        pclose(f);
        bus_pid = pid;

        /* What the client sees must not depend on the terminal running the tests. */
        setenv("MAPGUARD_BUS_ADDRESS", bus_address, 1);
        setenv("TZ", "UTC", 1);
        unsetenv("COLUMNS");
        unsetenv("NO_COLOR");
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

int mapguardctl_fixture_teardown(void **state) {
        _cleanup_free_ char *cmd = NULL;

        server_stop();
        if (bus_pid > 0)
                kill(bus_pid, SIGTERM);
        /* tmpdir is this test's own mkdtemp() directory. */
        if (tmpdir && asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0)
                (void) system(cmd);
        else
                cmd = NULL;
        free(tmpdir);
        free(bus_address);
        free(mapguardctl);
        return 0;
}

void skip_without_bus(void) {
        if (!tmpdir) {
                print_message("# needs dbus-daemon (Debian: apt-get install dbus), not found in $PATH\n");
                skip();
        }
}
