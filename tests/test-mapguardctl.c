/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mapguardctl binary against a scripted org.mapguard1 on a private dbus-daemon: every verb's human
 * and JSON output, check's exit codes for each level, the error sentences (not running, unknown unit,
 * no such pid, access denied), and monitor printing a LevelChanged signal and exiting 0 on SIGINT.
 * The scripted daemon answers from fixed tables, so the expected output is exact. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf() */
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <cmocka.h>

#include "mapguardctl-path.h"
#include "util.h"

#define LAST_SCAN_USEC (UINT64_C(1795000000) * USEC_PER_SEC)
#define WAIT_MSEC 10000
#define RELOAD_FAILED                                                                                   \
        "The configuration was not reloaded, the previous one stays in force: "                         \
        "/etc/mapguard/mapguardd.conf:3: IntervalSec=banana: not a time span"
#define NO_ACTIVATION_FILE                                                                              \
        "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). "   \
        "Start it with: systemctl start mapguardd\n"
#define FAILED_SEE "See: systemctl status mapguardd; journalctl -u mapguardd"

typedef enum Scenario {
        SCENARIO_WARNING,
        SCENARIO_CRITICAL,
        SCENARIO_OK,
        SCENARIO_UNKNOWN,
        SCENARIO_RELOAD_FAILS,  /* Reload() refuses a bad configuration. */
        SCENARIO_LONG_NAME,     /* ListUnits() has a unit named with 240 characters more. */
} Scenario;

static Scenario scenario;
static char *tmpdir, *bus_address, *mapguardctl;
static pid_t bus_pid = -1, server_pid = -1, systemd_pid = -1;

/* What the scripted systemd says about mapguardd.service and its bus activation alias. */
typedef struct SystemdState {
        const char *active_state, *sub_state, *result;
        bool enabled; /* Whether dbus-org.mapguard1.service exists (is loaded). */
} SystemdState;
static SystemdState systemd_state;

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
                return sd_bus_reply_method_return(m, "susuuus", "ingester.service", 1234, "prometheus", 53000,
                                                  65530, 12530, "warning");
        case SCENARIO_CRITICAL:
                return sd_bus_reply_method_return(m, "susuuus", "hot.service", 77, "java", 63000, 65530, 2530,
                                                  "critical");
        case SCENARIO_OK:
                return sd_bus_reply_method_return(m, "susuuus", "u01.service", 101, "nginx", 1001, 65530, 64529,
                                                  "ok");
        default:
                return sd_bus_reply_method_return(m, "susuuus", "", 0, "", 0, 65530, 65530, "unknown");
        }
}

/* A unit name of 240 characters (230 and ".scope" plus the prefix), as a transient scope may have. */
static const char *long_name(void) {
        static char name[256];

        if (!name[0]) {
                strcpy(name, "run-");
                memset(name + 4, 'x', 230);
                strcpy(name + 234, ".scope");
        }
        return name;
}

static int method_list_units(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sosuuuu)");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(units); i++) {
                _cleanup_free_ char *path = NULL;

                r = sd_bus_path_encode("/org/mapguard1/unit", units[i].unit, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(sosuuuu)", units[i].unit, path, units[i].level,
                                                  units[i].processes, units[i].worst_pid, units[i].map_count,
                                                  units[i].headroom);
        }
        if (r >= 0 && scenario == SCENARIO_LONG_NAME)
                r = sd_bus_message_append(reply, "(sosuuuu)", long_name(), "/org/mapguard1/unit/long",
                                          "critical", 1, 42, 63530, 2000);
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
        if (!streq(unit, "ingester.service"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unit %s is not watched.", unit);
        return sd_bus_reply_method_return(m, "a(usuusdt)", 3,
                                          1240, "evil\033[2J\n", 10, 65520, "ok", 0.0, UINT64_MAX,
                                          1234, "prometheus", 53000, 12530, "warning", 120.0, (uint64_t) 6264,
                                          1235, "sidecar", 900, 64630, "ok", -3.2, UINT64_MAX);
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

static int method_recommend(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "us", 262144,
                                          "Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.");
}

/* Rescan stands in for a scan that changes a level: it emits LevelChanged. */
static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/mapguard1", "org.mapguard1.Manager",
                               "LevelChanged", "susssuu", "ingester.service", 1234, "prom\"etheus", "ok",
                               "warning", 53000, 65530);
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
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(units); i++)
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
                return sd_bus_message_append(reply, "s", "procfs");
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
        SD_BUS_METHOD("GetHeadroom", "", "susuuus", method_get_headroom, 0),
        SD_BUS_METHOD("ListUnits", "", "a(sosuuuu)", method_list_units, 0),
        SD_BUS_METHOD("ListProcesses", "s", "a(usuusdt)", method_list_processes, 0),
        SD_BUS_METHOD("GetProcess", "u", "ssuuus", method_get_process, 0),
        SD_BUS_METHOD("Recommend", "", "us", method_recommend, 0),
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
            sd_bus_request_name(bus, "org.mapguard1", 0) < 0)
                _exit(EXIT_FAILURE);
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

/* ---- the scripted systemd (another child), for what mapguardctl asks before it calls ---------- */

#define UNIT_PATH "/org/freedesktop/systemd1/unit/mapguardd_2eservice"
#define ALIAS_PATH "/org/freedesktop/systemd1/unit/dbus_2dorg_2emapguard1_2eservice"

static int systemd_load_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (streq(name, "mapguardd.service"))
                return sd_bus_reply_method_return(m, "o", UNIT_PATH);
        if (streq(name, "dbus-org.mapguard1.service"))
                return sd_bus_reply_method_return(m, "o", ALIAS_PATH);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unexpected unit %s.", name);
}

static int systemd_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const char *value;

        if (streq(property, "LoadState"))
                value = streq(path, UNIT_PATH) || systemd_state.enabled ? "loaded" : "not-found";
        else if (streq(property, "ActiveState"))
                value = systemd_state.active_state;
        else if (streq(property, "SubState"))
                value = systemd_state.sub_state;
        else if (streq(property, "Result"))
                value = systemd_state.result;
        else
                return -EINVAL;
        return sd_bus_message_append(reply, "s", value);
}

static const sd_bus_vtable systemd_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("LoadUnit", "s", "o", systemd_load_unit, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable systemd_unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("LoadState", "s", systemd_property_get, 0, 0),
        SD_BUS_PROPERTY("ActiveState", "s", systemd_property_get, 0, 0),
        SD_BUS_PROPERTY("SubState", "s", systemd_property_get, 0, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable systemd_service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Result", "s", systemd_property_get, 0, 0),
        SD_BUS_VTABLE_END,
};

__attribute__((noreturn)) static void systemd_run(int ready_fd) {
        sd_bus *bus = NULL;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, bus_address) < 0 ||
            sd_bus_set_bus_client(bus, true) < 0 || sd_bus_start(bus) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", systemd_manager_vtable, NULL) < 0)
                _exit(EXIT_FAILURE);
        for (size_t i = 0; i < 2; i++) {
                const char *path = i == 0 ? UNIT_PATH : ALIAS_PATH;

                if (sd_bus_add_object_vtable(bus, NULL, path, "org.freedesktop.systemd1.Unit",
                                             systemd_unit_vtable, NULL) < 0 ||
                    sd_bus_add_object_vtable(bus, NULL, path, "org.freedesktop.systemd1.Service",
                                             systemd_service_vtable, NULL) < 0)
                        _exit(EXIT_FAILURE);
        }
        if (sd_bus_request_name(bus, "org.freedesktop.systemd1", 0) < 0)
                _exit(EXIT_FAILURE);
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

/* ---- the test side ------------------------------------------------------------------------------ */

/* Waits up to WAIT_MSEC for fd to become readable. */
static bool wait_readable(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, WAIT_MSEC) == 1;
}

static void server_stop(void) {
        if (server_pid > 0) {
                kill(server_pid, SIGTERM);
                waitpid(server_pid, NULL, 0);
        }
        server_pid = -1;
}

/* Forks a child running run(); returns its pid once it has written that it is ready. */
static pid_t child_start(void (*run)(int ready_fd)) {
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

static void server_start(Scenario s) {
        server_stop();
        scenario = s;
        server_pid = child_start(server_run);
}

static void systemd_stop(void) {
        if (systemd_pid > 0) {
                kill(systemd_pid, SIGTERM);
                waitpid(systemd_pid, NULL, 0);
        }
        systemd_pid = -1;
}

static void systemd_start(SystemdState state) {
        systemd_stop();
        systemd_state = state;
        systemd_pid = child_start(systemd_run);
}

static char *read_all(const char *path) {
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
static void assert_contains(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle)) {
                /* fail_msg() cuts long messages; the whole output helps most. */
                fprintf(stderr, "# expected to find\n%s\n# in\n%s\n", needle, haystack);
                fail();
        }
}

/* Runs mapguardctl with args (shell words); returns its exit status and its output in *ret_out and
 * *ret_err (either may be NULL). */
static int ctl(const char *args, char **ret_out, char **ret_err) {
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
static void assert_ctl(const char *args, int code, const char *expected_out, const char *expected_err) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = ctl(args, &out, &err);

        if (r != code)
                fail_msg("mapguardctl %s: exit %d, expected %d; stdout: '%s' stderr: '%s'", args, r, code, out,
                         err);
        if (expected_out)
                assert_string_equal(out, expected_out);
        assert_string_equal(err, expected_err ?: "");
}

/* Asserts that `mapguardctl args` prints valid JSON (python3's json module decides), if python3 is here. */
static void assert_json_valid(const char *args) {
        _cleanup_free_ char *cmd = NULL;

        if (system("command -v python3 >/dev/null 2>&1") != 0)
                return;
        assert_true(asprintf(&cmd, "'%s' %s | python3 -c 'import json, sys; json.load(sys.stdin)'", mapguardctl,
                             args) >= 0);
        if (system(cmd) != 0)
                fail_msg("mapguardctl %s: not valid JSON", args);
}

static int setup(void **state) {
        _cleanup_free_ char *conf = NULL, *cmd = NULL;
        FILE *f;
        int pid;

        if (system("command -v dbus-daemon >/dev/null 2>&1") != 0)
                return 0; /* The tests skip, saying why. */

        tmpdir = strdup("/tmp/test-mapguardctl.XXXXXX");
        if (!tmpdir || !mkdtemp(tmpdir))
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
                "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
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

static int teardown(void **state) {
        _cleanup_free_ char *cmd = NULL;

        server_stop();
        systemd_stop();
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

static void skip_without_bus(void) {
        if (!tmpdir) {
                print_message("# needs dbus-daemon (Debian: apt-get install dbus), not found in $PATH\n");
                skip();
        }
}

static void test_not_running(void **state) {
        skip_without_bus();
        server_stop();

        /* The private bus has no activation files: the name has no owner and cannot get one. */
        assert_ctl("status", 1, "",
                   "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). "
                   "Start it with: systemctl start mapguardd\n");
        assert_ctl("check", 3,
                   "MAPGUARD UNKNOWN - mapguardd is not running (The name org.mapguard1 was not provided by any "
                   ".service files). Start it with: systemctl start mapguardd\n",
                   NULL);
        assert_ctl("--json check", 3,
                   "{\"status\":\"UNKNOWN\",\"reason\":\"mapguardd is not running (The name org.mapguard1 was not "
                   "provided by any .service files). Start it with: systemctl start mapguardd\"}\n",
                   NULL);
        assert_ctl("monitor", 1, "",
                   "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). "
                   "Start it with: systemctl start mapguardd\n");

        /* No bus at all: check still answers in the plugin's terms. */
        setenv("MAPGUARD_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
        assert_ctl("check", 3,
                   "MAPGUARD UNKNOWN - Failed to connect to the bus at unix:path=/nonexistent/bus "
                   "($MAPGUARD_BUS_ADDRESS): No such file or directory\n",
                   NULL);
        assert_ctl("--json check", 3,
                   "{\"status\":\"UNKNOWN\",\"reason\":\"Failed to connect to the bus at "
                   "unix:path=/nonexistent/bus ($MAPGUARD_BUS_ADDRESS): No such file or directory\"}\n",
                   NULL);
        assert_ctl("list", 1, "",
                   "Failed to connect to the bus at unix:path=/nonexistent/bus ($MAPGUARD_BUS_ADDRESS): No such file "
                   "or directory\n");
        /* A bad argument is said before the bus is tried. */
        assert_ctl("pid 4294967296", 1, "",
                   "Invalid process ID '4294967296': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("show a b", 1, "", "'show' takes only UNIT; extra argument 'b'.\n");
        setenv("MAPGUARD_BUS_ADDRESS", bus_address, 1);
}

static void test_not_running_systemd(void **state) {
        skip_without_bus();
        server_stop();

        /* Failed: said at once, from systemd's state, instead of a call that starts an activation whose
         * failure the bus never hears of. check reports it as UNKNOWN on stdout. */
        systemd_start((SystemdState) { "failed", "failed", "start-limit-hit", true });
        assert_ctl("status", 1, "", "mapguardd has failed (start-limit-hit). " FAILED_SEE "\n");
        assert_ctl("check", 3, "MAPGUARD UNKNOWN - mapguardd has failed (start-limit-hit). " FAILED_SEE "\n",
                   NULL);
        assert_ctl("--json check", 3,
                   "{\"status\":\"UNKNOWN\",\"reason\":\"mapguardd has failed (start-limit-hit). " FAILED_SEE
                   "\"}\n",
                   NULL);
        assert_ctl("monitor", 1, "", "mapguardd has failed (start-limit-hit). " FAILED_SEE "\n");

        /* Between two attempts of Restart=on-failure: failed as well, with the reason of the last one. */
        systemd_start((SystemdState) { "activating", "auto-restart", "exit-code", true });
        assert_ctl("list", 1, "", "mapguardd has failed (exit-code). " FAILED_SEE "\n");

        /* Stopped and not enabled: bus activation has no unit to start. */
        systemd_start((SystemdState) { "inactive", "dead", "success", false });
        assert_ctl("status", 1, "", "mapguardd is not running (it is not enabled, so no call starts it). "
                                    "Start it with: systemctl start mapguardd\n");

        /* Stopped but enabled: activation may start it, so the call is made. This bus has no activation
         * files, so it fails as on a bus without systemd. */
        systemd_start((SystemdState) { "inactive", "dead", "success", true });
        assert_ctl("status", 1, "", NO_ACTIVATION_FILE);
        /* Starting: the call waits for it. */
        systemd_start((SystemdState) { "activating", "start", "success", true });
        assert_ctl("status", 1, "", NO_ACTIVATION_FILE);

        /* Running (the name has an owner): systemd's word does not count. */
        systemd_start((SystemdState) { "failed", "failed", "start-limit-hit", true });
        server_start(SCENARIO_WARNING);
        assert_ctl("--no-legend list", 0, NULL, NULL);
        systemd_stop();
}

static void test_status(void **state) {
        _cleanup_free_ char *out = NULL, *err = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_int_equal(ctl("", &out, &err), 0);
        assert_string_equal(err, "");
        /* The "3s ago" part depends on the clock; the rest is fixed. */
        assert_contains(out, "    Last scan: Wed 2026-11-18 11:06:40 UTC; ");
        assert_contains(out, "      Version: 0.1.0-test\n"
                "      Backend: procfs\n"
                "        Limit: 65530 (vm.max_map_count)\n"
                "  Tuned limit: 1048576 (sysctl.d), not applied: run 'sysctl --system'\n"
                "   Thresholds: warning at 80% (52424 maps), critical at 95% (62253 maps)\n");
        /* Only the units shown size the columns: the long name further down does not widen them. */
        assert_contains(out, "Scan interval: 10s\n"
                             "Watched units: 12\n"
                             "\n"
                             "UNIT              LEVEL     PROCS   PID   MAPS     HEADROOM\n"
                             "hot.service       critical      2    77  63000    2530 (3%)\n"
                             "ingester.service  warning       3  1234  53000  12530 (19%)\n"
                             "u08.service       ok            1   108   1008  64522 (98%)\n");
        /* Ten of twelve, nearest the limit first: the idle unit (no processes) and the farthest are left
         * out. */
        assert_null(strstr(out, "idle.scope"));
        assert_null(strstr(out, "a-very-long"));
        assert_contains(out, "u01.service");
        assert_contains(out, "\n10 of 12 units listed, nearest the limit first; 'mapguardctl list' "
                                    "shows all.\n");
}

static void test_status_json(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("--json", 0,
                   "{\"version\":\"0.1.0-test\",\"max_map_count\":65530,\"tuned_max_map_count\":1048576,"
                   "\"warning_percent\":80,\"critical_percent\":95,\"scan_interval_usec\":10000000,"
                   "\"last_scan_usec\":1795000000000000,\"watched_units\":[\"ingester.service\","
                   "\"a-very-long-unit-name-for-a-prometheus-ingester-replica-17.service\","
                   "\"idle.scope\",\"u01.service\",\"u02.service\",\"u03.service\",\"u04.service\","
                   "\"u05.service\",\"u06.service\",\"u07.service\",\"u08.service\","
                   "\"hot.service\"],"
                   "\"backend\":\"procfs\",\"units\":["
                   "{\"unit\":\"hot.service\",\"object_path\":\"/org/mapguard1/unit/hot_2eservice\","
                   "\"level\":\"critical\",\"processes\":2,\"worst_pid\":77,\"map_count\":63000,\"headroom\":2530},"
                   "{\"unit\":\"ingester.service\",\"object_path\":\"/org/mapguard1/unit/ingester_2eservice\","
                   "\"level\":\"warning\",\"processes\":3,\"worst_pid\":1234,\"map_count\":53000,"
                   "\"headroom\":12530},"
                   "{\"unit\":\"u08.service\",\"object_path\":\"/org/mapguard1/unit/u08_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":108,\"map_count\":1008,\"headroom\":64522},"
                   "{\"unit\":\"u07.service\",\"object_path\":\"/org/mapguard1/unit/u07_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":107,\"map_count\":1007,\"headroom\":64523},"
                   "{\"unit\":\"u06.service\",\"object_path\":\"/org/mapguard1/unit/u06_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":106,\"map_count\":1006,\"headroom\":64524},"
                   "{\"unit\":\"u05.service\",\"object_path\":\"/org/mapguard1/unit/u05_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":105,\"map_count\":1005,\"headroom\":64525},"
                   "{\"unit\":\"u04.service\",\"object_path\":\"/org/mapguard1/unit/u04_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":104,\"map_count\":1004,\"headroom\":64526},"
                   "{\"unit\":\"u03.service\",\"object_path\":\"/org/mapguard1/unit/u03_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":103,\"map_count\":1003,\"headroom\":64527},"
                   "{\"unit\":\"u02.service\",\"object_path\":\"/org/mapguard1/unit/u02_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":102,\"map_count\":1002,\"headroom\":64528},"
                   "{\"unit\":\"u01.service\",\"object_path\":\"/org/mapguard1/unit/u01_2eservice\","
                   "\"level\":\"ok\",\"processes\":1,\"worst_pid\":101,\"map_count\":1001,\"headroom\":64529}]}\n",
                   NULL);
        assert_json_valid("--json status");
}

static void test_list(void **state) {
        _cleanup_free_ char *out = NULL, *narrow = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_int_equal(ctl("list", &out, NULL), 0);
        /* All twelve; the idle unit last, with dashes where there is nothing to measure. */
        assert_contains(out, "\nu01.service                                                         ok            1   101"
                             "   1001  64529 (98%)\n"
                             "a-very-long-unit-name-for-a-prometheus-ingester-replica-17.service  ok            1    40"
                             "    100  65430 (99%)\n"
                             "idle.scope                                                          unknown       0     -"
                             "      -            -\n"
                             "\n12 units listed.\n");

        /* On 60 columns the long name is cut in the middle and every line fits. */
        setenv("COLUMNS", "60", 1);
        assert_int_equal(ctl("--no-legend list", &narrow, NULL), 0);
        unsetenv("COLUMNS");
        assert_contains(narrow, "\na-very-lo...7.service  ok        1    40    100  65430 (99%)\n");
        assert_null(strstr(narrow, "UNIT"));
        assert_null(strstr(narrow, "listed"));
        for (char *p = narrow; *p;) {
                char *nl = strchr(p, '\n');
                assert_non_null(nl);
                assert_true(nl - p <= 60);
                p = nl + 1;
        }

        assert_json_valid("--json list");
}

static void test_show(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* The process name's escape sequence and newline reach the terminal as '?'. */
        assert_ctl("show ingester.service", 0,
                   " PID  COMM        LEVEL     MAPS     HEADROOM    GROWTH          LIMIT\n"
                   "1234  prometheus  warning  53000  12530 (19%)  +120/min  in 1 h 44 min\n"
                   "1235  sidecar     ok         900  64630 (98%)    -3/min          never\n"
                   "1240  evil?[2J?   ok          10  65520 (99%)      flat          never\n"
                   "\n3 processes listed.\n",
                   NULL);
        assert_ctl("--json show ingester.service", 0,
                   "{\"unit\":\"ingester.service\",\"processes\":["
                   "{\"pid\":1234,\"comm\":\"prometheus\",\"map_count\":53000,\"headroom\":12530,"
                   "\"level\":\"warning\",\"growth_per_minute\":120,\"seconds_to_limit\":6264},"
                   "{\"pid\":1235,\"comm\":\"sidecar\",\"map_count\":900,\"headroom\":64630,\"level\":\"ok\","
                   "\"growth_per_minute\":-3.2,\"seconds_to_limit\":null},"
                   "{\"pid\":1240,\"comm\":\"evil\\u001b[2J\\n\",\"map_count\":10,\"headroom\":65520,"
                   "\"level\":\"ok\",\"growth_per_minute\":0,\"seconds_to_limit\":null}]}\n",
                   NULL);
        assert_json_valid("--json show ingester.service");
        assert_ctl("show idle.scope", 0, "No processes in idle.scope.\n", NULL);
        assert_ctl("show nope.service", 1, "", "Unit nope.service is not watched.\n");
        /* A name without a suffix is a service, as for systemctl. */
        assert_ctl("show nope", 1, "", "Unit nope.service is not watched.\n");
        assert_int_equal(ctl("--no-legend show ingester", NULL, NULL), 0);
        assert_ctl("show", 1, "", "'show' needs UNIT.\n");
        assert_ctl("show a b", 1, "", "'show' takes only UNIT; extra argument 'b'.\n");
        assert_ctl("pid 1 2 3", 1, "", "'pid' takes only PID; extra argument '2'.\n");
}

static void test_pid(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("pid 1234", 0,
                   "     PID: 1234 (prometheus)\n"
                   "    Unit: ingester.service\n"
                   "    Maps: 53000 of 65530\n"
                   "Headroom: 12530 (19%)\n"
                   "   Level: warning\n",
                   NULL);
        assert_ctl("--json pid 1234", 0,
                   "{\"pid\":1234,\"unit\":\"ingester.service\",\"comm\":\"prometheus\",\"map_count\":53000,"
                   "\"max_map_count\":65530,\"headroom\":12530,\"level\":\"warning\"}\n",
                   NULL);
        assert_ctl("pid 99999", 1, "", "No process with PID 99999.\n");
        assert_ctl("pid abc", 1, "", "Invalid process ID 'abc': expected a positive number.\n");
        assert_ctl("pid 0", 1, "", "Invalid process ID '0': expected a positive number.\n");
        assert_ctl("pid -- -1", 1, "", "Invalid process ID '-1': expected a positive number.\n");
        assert_ctl("pid 12ab", 1, "", "Invalid process ID '12ab': expected a positive number.\n");
        /* Above 2^22 no process can be: said without asking the daemon. */
        assert_ctl("pid 4294967296", 1, "",
                   "Invalid process ID '4294967296': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("pid 4194305", 1, "",
                   "Invalid process ID '4194305': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("pid 99999999999999999999999", 1, "",
                   "Invalid process ID '99999999999999999999999': out of range, Linux process IDs go up to "
                   "4194304.\n");
        assert_ctl("pid 4194304", 1, "", "No process with PID 4194304.\n");
}

static void test_check(void **state) {
        skip_without_bus();

        server_start(SCENARIO_OK);
        assert_ctl("check", 0,
                   "MAPGUARD OK - u01.service pid 101 (nginx) 1001/65530 maps, 64529 headroom (98%) | "
                   "map_count=1001;52424;62253;0;65530 headroom=64529 max_map_count=65530\n",
                   NULL);
        server_start(SCENARIO_WARNING);
        assert_ctl("check", 1,
                   "MAPGUARD WARNING - ingester.service pid 1234 (prometheus) 53000/65530 maps, 12530 headroom "
                   "(19%) | map_count=53000;52424;62253;0;65530 headroom=12530 max_map_count=65530\n",
                   NULL);
        assert_ctl("--json check", 1,
                   "{\"status\":\"WARNING\",\"unit\":\"ingester.service\",\"pid\":1234,\"comm\":\"prometheus\","
                   "\"map_count\":53000,\"max_map_count\":65530,\"headroom\":12530,\"level\":\"warning\","
                   "\"warning_percent\":80,\"critical_percent\":95}\n",
                   NULL);
        server_start(SCENARIO_CRITICAL);
        assert_ctl("check", 2,
                   "MAPGUARD CRITICAL - hot.service pid 77 (java) 63000/65530 maps, 2530 headroom (3%) | "
                   "map_count=63000;52424;62253;0;65530 headroom=2530 max_map_count=65530\n",
                   NULL);
        server_start(SCENARIO_UNKNOWN);
        assert_ctl("check", 3, "MAPGUARD UNKNOWN - no watched process has been scanned yet\n", NULL);
}

static void test_recommend_tune(void **state) {
        _cleanup_free_ char *out = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("recommend", 0,
                   "vm.max_map_count = 262144\n"
                   "Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\n",
                   NULL);
        /* On a terminal of 40 columns the reason is wrapped to fit. */
        setenv("COLUMNS", "40", 1);
        assert_ctl("recommend", 0,
                   "vm.max_map_count = 262144\n"
                   "Peak 53000 maps; 262144 maps pin at most\n"
                   "80 MiB of kernel memory.\n",
                   NULL);
        unsetenv("COLUMNS");
        assert_ctl("--json recommend", 0,
                   "{\"value\":262144,\"reason\":\"Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel "
                   "memory.\"}\n",
                   NULL);
        assert_ctl("tune", 0,
                   "    Live limit: 65530 (vm.max_map_count)\n"
                   "   Tuned limit: 1048576 (sysctl.d)\n"
                   "Recommendation: 262144\n"
                   "                Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\n"
                   "      To apply: mapguardctl tune --apply (as root) sets 1048576 now and in "
                   "/etc/sysctl.d/90-mapguard-tuned.conf\n",
                   NULL);
        assert_ctl("--json tune", 0,
                   "{\"max_map_count\":65530,\"tuned_max_map_count\":1048576,\"value\":262144,"
                   "\"reason\":\"Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\","
                   "\"target\":1048576,\"applied\":false,\"file\":null,\"live_updated\":false}\n",
                   NULL);
        assert_ctl("--apply status", 1, "", "--apply only goes with 'tune'.\n");
}

static void test_tune_apply(void **state) {
        _cleanup_free_ char *root = NULL, *cmd = NULL, *out = NULL, *conf = NULL, *live = NULL, *args = NULL,
                            *path = NULL;

        skip_without_bus();
        if (geteuid() != 0) {
                print_message("# tune --apply is root only, and this test runs as uid %u\n", geteuid());
                skip();
        }
        server_start(SCENARIO_WARNING);

        assert_true(asprintf(&root, "%s/root", tmpdir) >= 0);
        assert_true(asprintf(&cmd,
                             "mkdir -p '%s/etc' '%s/proc/sys/vm' && echo 65530 > '%s/proc/sys/vm/max_map_count'",
                             root, root, root) >= 0);
        assert_int_equal(system(cmd), 0);
        assert_true(asprintf(&args, "--root='%s' tune --apply", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "/etc/sysctl.d/90-mapguard-tuned.conf: vm.max_map_count = 1048576\n"
                                    "Raised vm.max_map_count from 65530 to 1048576.\n");

        assert_true(asprintf(&path, "%s/etc/sysctl.d/90-mapguard-tuned.conf", root) >= 0);
        conf = read_all(path);
        assert_contains(conf, "# mapguardd recommended 262144: Peak 53000 maps; 262144 maps pin at most "
                                     "80 MiB of kernel memory.\n");
        assert_contains(conf, "\nvm.max_map_count = 1048576\n");
        free(path);
        assert_true(asprintf(&path, "%s/proc/sys/vm/max_map_count", root) >= 0);
        live = read_all(path);
        assert_string_equal(live, "1048576\n");

        /* Non-root is refused before anything is read or written. */
        if (system("command -v setpriv >/dev/null 2>&1") == 0) {
                free(cmd);
                assert_true(asprintf(&cmd, "setpriv --reuid=65534 --regid=65534 --clear-groups '%s' tune --apply "
                                           "2>'%s/err'; test $? -eq 4", mapguardctl, tmpdir) >= 0);
                assert_int_equal(system(cmd), 0);
        }
}

static void test_rescan_reload(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("rescan", 0, "", NULL);
        assert_ctl("--json rescan", 0, "{}\n", NULL);
        assert_ctl("reload", 4, "", "Failed to reload the configuration: access denied; run as root.\n");

        /* A bad configuration: the daemon's sentence (file, line, reason), not "access denied". */
        server_start(SCENARIO_RELOAD_FAILS);
        assert_ctl("reload", 1, "", RELOAD_FAILED "\n");
        assert_ctl("--json reload", 1, "", RELOAD_FAILED "\n");
}

/* Asserts that no line of text is wider than width bytes (the output is ASCII); "\r\n" ends a line. */
static void assert_lines_within(const char *text, size_t width) {
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\r\n");

                if (n > width) {
                        fprintf(stderr, "# a line of %zu > %zu columns in\n%s\n", n, width, text);
                        fail();
                }
                p += n;
                p += strspn(p, "\r\n");
        }
}

/* Runs `mapguardctl args` with stdout and stderr on a pseudo-terminal of `columns` columns (0: one that
 * does not know its size) and returns what it wrote, or NULL when there is no pty to be had. */
static char *ctl_on_pty(const char *arg, unsigned short columns) {
        struct winsize ws = { .ws_row = 24, .ws_col = columns };
        char buf[65536];
        size_t n = 0;
        int master, slave, status;
        pid_t pid;

        if (openpty(&master, &slave, NULL, NULL, &ws) < 0)
                return NULL;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(slave, STDOUT_FILENO);
                dup2(slave, STDERR_FILENO);
                /* Colour takes no room on the screen, but would in the bytes counted here. */
                setenv("NO_COLOR", "1", 1);
                execl(mapguardctl, "mapguardctl", arg, NULL);
                _exit(127);
        }
        close(slave);
        /* Read until the child is gone and the pty says so (EIO), not for a fixed time. */
        for (;;) {
                ssize_t k;

                if (!wait_readable(master))
                        break;
                k = read(master, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        close(master);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        return strdup(buf);
}

static void test_long_name(void **state) {
        _cleanup_free_ char *piped = NULL, *narrow = NULL, *status = NULL, *tty = NULL, *tty_unsized = NULL,
                            *full = NULL;

        skip_without_bus();
        server_start(SCENARIO_LONG_NAME);
        assert_true(asprintf(&full, "\n%s  critical", strchr(long_name(), 'r')) >= 0);

        /* Piped, without $COLUMNS: nothing is cut, as systemctl does for a pipe. */
        assert_int_equal(ctl("list", &piped, NULL), 0);
        assert_contains(piped, full);

        /* $COLUMNS: the unit column gives way, every line fits, list and status alike. */
        setenv("COLUMNS", "80", 1);
        assert_int_equal(ctl("list", &narrow, NULL), 0);
        assert_int_equal(ctl("status", &status, NULL), 0);
        unsetenv("COLUMNS");
        assert_lines_within(narrow, 80);
        assert_contains(narrow,
                        "UNIT                                   LEVEL     PROCS   PID   MAPS     HEADROOM\n"
                        "run-xxxxxxxxxxxxx...xxxxxxxxxxx.scope  critical      1    42  63530    2000 (3%)\n"
                        "hot.service                            critical      2    77  63000    2530 (3%)\n");
        assert_lines_within(status, 80);
        assert_contains(status,
                        "\nrun-xxxxxxxxxxxxx...xxxxxxxxxxx.scope  critical      1    42  63530    2000 (3%)\n");

        /* A terminal: its width; one that does not know its width is taken as 80 columns. */
        tty = ctl_on_pty("list", 100);
        if (!tty) {
                print_message("# no pseudo-terminal to test with: openpty() failed: %s\n", strerror(errno));
                skip();
        }
        assert_lines_within(tty, 100);
        assert_contains(tty, "...xxx");
        tty_unsized = ctl_on_pty("list", 0);
        assert_non_null(tty_unsized);
        assert_lines_within(tty_unsized, 80);
        assert_contains(tty_unsized, "...xxx");
}

static void test_usage(void **state) {
        _cleanup_free_ char *out = NULL;

        skip_without_bus();
        assert_ctl("frobnicate", 1, "", "Unknown verb 'frobnicate'. See 'mapguardctl --help'.\n");
        assert_ctl("list extra", 1, "", "'list' takes no arguments.\n");
        assert_ctl("--version", 0, NULL, NULL);
        assert_int_equal(ctl("--no-pager -h", &out, NULL), 0);
        assert_contains(out, "mapguardctl [OPTIONS...] [VERB]\n");
}

/* Starts `mapguardctl args` with stdout and stderr on pipes. */
static pid_t spawn_ctl(const char *extra, int *ret_out, int *ret_err) {
        int out[2], err[2];
        pid_t pid;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                if (extra)
                        execl(mapguardctl, "mapguardctl", extra, "monitor", NULL);
                else
                        execl(mapguardctl, "mapguardctl", "monitor", NULL);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        *ret_out = out[0];
        *ret_err = err[0];
        return pid;
}

/* Reads from fd until text contains a newline (or WAIT_MSEC pass); returns what was read. */
static char *read_line(int fd) {
        char buf[4096];
        size_t n = 0;

        while (n < sizeof(buf) - 1 && !memchr(buf, '\n', n)) {
                ssize_t k;

                if (!wait_readable(fd))
                        break;
                k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        return strdup(buf);
}

static void run_monitor(const char *extra, const char *expected_line) {
        _cleanup_free_ char *ready = NULL, *line = NULL;
        int out, err, status;
        pid_t pid;

        pid = spawn_ctl(extra, &out, &err);
        /* The ready line comes after the subscription: a signal emitted from now on is seen. */
        ready = read_line(err);
        assert_string_equal(ready, "Monitoring level changes of mapguardd 0.1.0-test. Press Ctrl+C to stop.\n");
        assert_ctl("rescan", 0, "", NULL);
        line = read_line(out);
        if (expected_line[0] == '{')
                assert_string_equal(line, expected_line);
        else
                assert_contains(line, expected_line);

        assert_int_equal(kill(pid, SIGINT), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(out);
        close(err);
}

static void test_monitor(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        run_monitor(NULL, " UTC ingester.service pid 1234 (prom\"etheus): ok -> warning, 53000/65530 maps\n");
        run_monitor("--json",
                    "{\"unit\":\"ingester.service\",\"pid\":1234,\"comm\":\"prom\\\"etheus\",\"old_level\":\"ok\","
                    "\"new_level\":\"warning\",\"map_count\":53000,\"max_map_count\":65530}\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_running),
                cmocka_unit_test(test_not_running_systemd),
                cmocka_unit_test(test_status),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_show),
                cmocka_unit_test(test_pid),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_recommend_tune),
                cmocka_unit_test(test_tune_apply),
                cmocka_unit_test(test_rescan_reload),
                cmocka_unit_test(test_long_name),
                cmocka_unit_test(test_usage),
                cmocka_unit_test(test_monitor),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
