/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardctl when mapguardd cannot answer, on a private dbus-daemon (mapguardctl-fixture.h): no owner of
 * org.mapguard1, no bus at all, and a scripted systemd saying mapguardd failed, is restarting, is stopped
 * (enabled or not) or is starting; and the argument errors said before any bus is asked. */

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

#include "mapguardctl-fixture.h"
#include "util.h"

#define NO_ACTIVATION_FILE \
        "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). " \
        "Start it with: systemctl start mapguardd\n"
#define FAILED_SEE "See: systemctl status mapguardd; journalctl -u mapguardd"

/* What the scripted systemd says about mapguardd.service and its bus activation alias. */
typedef struct SystemdState {
        const char *active_state, *sub_state, *result;
        bool enabled; /* Whether dbus-org.mapguard1.service exists (is loaded). */
        uint32_t n_restarts;
} SystemdState;
static SystemdState systemd_state;
static pid_t systemd_pid = -1;

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

static int systemd_property_get_restarts(sd_bus *bus, const char *path, const char *interface,
                                         const char *property, sd_bus_message *reply, void *userdata,
                                         sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", systemd_state.n_restarts);
}

static const sd_bus_vtable systemd_service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Result", "s", systemd_property_get, 0, 0),
        SD_BUS_PROPERTY("NRestarts", "u", systemd_property_get_restarts, 0, 0),
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
        child_serve(bus, ready_fd);
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

static int teardown(void **state) {
        systemd_stop();
        return mapguardctl_fixture_teardown(state);
}

static void test_not_running(void **state) {
        skip_without_bus();
        server_stop();

        /* The private bus has no activation files: the name has no owner and cannot get one. */
        assert_ctl(
                "status", 1, "",
                "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). "
                "Start it with: systemctl start mapguardd\n");
        assert_ctl("check", 3,
                   "MAPGUARD UNKNOWN - mapguardd is not running (The name org.mapguard1 was not provided by "
                   "any "
                   ".service files). Start it with: systemctl start mapguardd\n",
                   NULL);
        assert_ctl("--json check", 3,
                   "{\"status\":\"UNKNOWN\",\"reason\":\"mapguardd is not running (The name org.mapguard1 "
                   "was not "
                   "provided by any .service files). Start it with: systemctl start mapguardd\"}\n",
                   NULL);
        assert_ctl(
                "monitor", 1, "",
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
                   "Failed to connect to the bus at unix:path=/nonexistent/bus ($MAPGUARD_BUS_ADDRESS): No "
                   "such file "
                   "or directory\n");
        /* A bad argument is said before the bus is tried. */
        assert_ctl("pid 4294967296", 1, "",
                   "Invalid process ID '4294967296': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("show a b", 1, "", "'show' takes only UNIT; extra argument 'b'.\n");
        /* Not "Unit .service is not watched": the empty name is said empty, and before any bus. */
        assert_ctl("show ''", 1, "", "The unit name is empty.\n");
        setenv("MAPGUARD_BUS_ADDRESS", bus_address, 1);
}

static void test_not_running_systemd(void **state) {
        skip_without_bus();
        server_stop();

        /* Failed: said at once, from systemd's state, instead of a call that starts an activation whose
         * failure the bus never hears of. check reports it as UNKNOWN on stdout. */
        systemd_start((SystemdState){ "failed", "failed", "start-limit-hit", true, 0 });
        assert_ctl("status", 1, "", "mapguardd has failed (start-limit-hit). " FAILED_SEE "\n");
        assert_ctl("check", 3, "MAPGUARD UNKNOWN - mapguardd has failed (start-limit-hit). " FAILED_SEE "\n",
                   NULL);
        assert_ctl("--json check", 3,
                   "{\"status\":\"UNKNOWN\",\"reason\":\"mapguardd has failed (start-limit-hit). " FAILED_SEE
                   "\"}\n",
                   NULL);
        assert_ctl("monitor", 1, "", "mapguardd has failed (start-limit-hit). " FAILED_SEE "\n");

        /* Between two attempts of Restart=on-failure: failed as well, with the reason of the last one. */
        systemd_start((SystemdState){ "activating", "auto-restart", "exit-code", true, 0 });
        assert_ctl("list", 1, "", "mapguardd has failed (exit-code). " FAILED_SEE "\n");
        /* The same after `systemctl reset-failed` (the fixed daemon about to be started again): nothing
         * failed on record, so the call is made and waits for the start. This bus has no activation
         * files, so it fails as on a bus without systemd. */
        systemd_start((SystemdState){ "activating", "auto-restart", "success", true, 0 });
        assert_ctl("status", 1, "", NO_ACTIVATION_FILE);

        /* Stopped and not enabled: bus activation has no unit to start. */
        systemd_start((SystemdState){ "inactive", "dead", "success", false, 0 });
        assert_ctl("status", 1, "",
                   "mapguardd is not running (it is not enabled, so no call starts it). "
                   "Start it with: systemctl start mapguardd\n");

        /* Stopped but enabled: activation may start it, so the call is made. This bus has no activation
         * files, so it fails as on a bus without systemd. */
        systemd_start((SystemdState){ "inactive", "dead", "success", true, 0 });
        assert_ctl("status", 1, "", NO_ACTIVATION_FILE);
        /* Starting: the call waits for it. */
        systemd_start((SystemdState){ "activating", "start", "success", true, 0 });
        assert_ctl("status", 1, "", NO_ACTIVATION_FILE);
        /* Starting again after failures, a crash loop: said at once, the name would never come. */
        systemd_start((SystemdState){ "activating", "start", "exit-code", true, 3 });
        assert_ctl("status", 1, "",
                   "mapguardd keeps failing (exit-code, restarted 3 times). " FAILED_SEE "\n");
        systemd_start((SystemdState){ "activating", "start", "exit-code", false, 1 });
        assert_ctl("check", 3,
                   "MAPGUARD UNKNOWN - mapguardd keeps failing (exit-code, restarted 1 times). " FAILED_SEE
                   "\n",
                   NULL);

        /* Running (the name has an owner): systemd's word does not count. */
        systemd_start((SystemdState){ "failed", "failed", "start-limit-hit", true, 0 });
        server_start(SCENARIO_WARNING);
        assert_ctl("--no-legend list", 0, NULL, NULL);
        systemd_stop();
}

static void test_usage(void **state) {
        _cleanup_free_ char *out = NULL;

        skip_without_bus();
        assert_ctl("frobnicate", 1, "", "Unknown verb 'frobnicate'. See 'mapguardctl --help'.\n");
        assert_ctl("list extra", 1, "", "'list' takes no arguments.\n");
        assert_ctl("status extra", 1, "", "'status' takes no arguments.\n");
        assert_ctl("show", 1, "", "'show' needs UNIT.\n");
        assert_ctl("show ''", 1, "", "The unit name is empty.\n");
        assert_ctl("--apply status", 1, "", "--apply only goes with 'tune'.\n");
        assert_ctl("--apply", 1, "", "--apply only goes with 'tune'.\n");
        assert_ctl("--version", 0, NULL, NULL);
        assert_int_equal(ctl("--no-pager -h", &out, NULL), 0);
        assert_contains(out, "mapguardctl [OPTIONS...] [VERB]\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_running),
                cmocka_unit_test(test_not_running_systemd),
                cmocka_unit_test(test_usage),
        };
        return cmocka_run_group_tests(tests, mapguardctl_fixture_setup, teardown);
}
