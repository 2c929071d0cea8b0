/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The D-Bus API over a real connection (bus-fixture.h): every method and property, signals, and how
 * the answers follow the processes as they change. */
#include "bus-fixture.h"
#include "limit-hit.h"

static void test_properties(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *units = NULL, *backend = NULL, *version = NULL;
        const char *s, *a, *b;

        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 1000);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "TunedMaxMapCount"),
                         1048576);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 80);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "CriticalPercent"),
                         95);

        backend = get_property(f, "/org/mapguard1", "org.mapguard1.Manager", "Backend");
        assert_true(sd_bus_message_read(backend, "v", "s", &s) > 0);
        assert_string_equal(s, "procfs");

        version = get_property(f, "/org/mapguard1", "org.mapguard1.Manager", "Version");
        assert_true(sd_bus_message_read(version, "v", "s", &s) > 0);
        assert_true(strlen(s) > 0);

        units = get_property(f, "/org/mapguard1", "org.mapguard1.Manager", "WatchedUnits");
        assert_true(sd_bus_message_read(units, "v", "as", 2, &a, &b) > 0);
        assert_string_equal(a, UNIT_A);
        assert_string_equal(b, UNIT_B);
}

static void test_headroom_and_units(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *h = NULL, *l = NULL;
        const char *unit, *comm, *level, *path;
        uint32_t pid, count, max, room, n, worst;

        h = client_call_manager(f, "GetHeadroom", NULL);
        assert_null(sd_bus_message_get_error(h));
        assert_true(sd_bus_message_read(h, "susuuus", &unit, &pid, &comm, &count, &max, &room, &level) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_int_equal(pid, 1002);
        assert_string_equal(comm, "ingester");
        assert_int_equal(count, 700); /* 701 lines, the [vsyscall] gate is not a VMA */
        assert_int_equal(max, 1000);
        assert_int_equal(room, 300);
        assert_string_equal(level, "ok");

        l = client_call_manager(f, "ListUnits", NULL);
        assert_null(sd_bus_message_get_error(l));
        assert_true(sd_bus_message_enter_container(l, 'a', "(sosuuuu)") > 0);
        assert_true(sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room) >
                    0);
        assert_string_equal(unit, UNIT_A);
        assert_string_equal(path, "/org/mapguard1/unit/a_2eservice");
        assert_string_equal(level, "ok");
        assert_int_equal(n, 2);
        assert_int_equal(worst, 1002);
        assert_int_equal(count, 700);
        assert_int_equal(room, 300);
        assert_true(sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room) >
                    0);
        assert_string_equal(unit, UNIT_B);
        assert_int_equal(count, 10);
        assert_int_equal(
                sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room), 0);
}

static void check_processes(sd_bus_message *reply) {
        const char *comm, *level;
        uint32_t pid, count, room;
        double growth;
        uint64_t seconds;

        assert_null(sd_bus_message_get_error(reply));
        assert_true(sd_bus_message_enter_container(reply, 'a', "(usuusdt)") > 0);
        assert_true(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth,
                                        &seconds) > 0);
        assert_int_equal(pid, 1001);
        assert_string_equal(comm, "worker");
        assert_int_equal(count, 300);
        assert_int_equal(room, 700);
        assert_string_equal(level, "ok");
        assert_true(growth == 0.0);
        assert_true(seconds == UINT64_MAX);
        assert_true(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth,
                                        &seconds) > 0);
        assert_int_equal(pid, 1002);
        assert_int_equal(count, 700);
        assert_int_equal(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth,
                                             &seconds),
                         0);
}

static void test_list_processes(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *a = NULL, *b = NULL, *bad = NULL, *empty = NULL,
                                                        *wrong = NULL;

        a = client_call_manager(f, "ListProcesses", "s", UNIT_A);
        check_processes(a);
        b = call(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "ListProcesses", NULL);
        check_processes(b);

        bad = client_call_manager(f, "ListProcesses", "s", "nope.service");
        assert_error(bad, SD_BUS_ERROR_INVALID_ARGS, "nope.service");
        empty = client_call_manager(f, "ListProcesses", "s", "");
        assert_error(empty, SD_BUS_ERROR_INVALID_ARGS, "empty");
        /* A malformed call (wrong signature) is refused, and the daemon goes on answering. */
        wrong = client_call_manager(f, "ListProcesses", "u", 5);
        assert_error(wrong, SD_BUS_ERROR_INVALID_ARGS, NULL);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 1000);
}

static void test_get_process(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *ok = NULL, *gone = NULL, *zero = NULL,
                                                        *thread = NULL;
        const char *unit, *comm, *level;
        uint32_t count, max, room;

        ok = client_call_manager(f, "GetProcess", "u", 1002);
        assert_null(sd_bus_message_get_error(ok));
        assert_true(sd_bus_message_read(ok, "ssuuus", &unit, &comm, &count, &max, &room, &level) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_string_equal(comm, "ingester");
        assert_int_equal(count, 700);
        assert_int_equal(max, 1000);
        assert_int_equal(room, 300);
        assert_string_equal(level, "ok");

        /* A thread's id is not a process: /proc/1003 is a thread of 1002. */
        fake_process(f->root, 1003, "worker-thread", 1000, 850, 600);
        testfs_write_str(f->root, "proc/1003/status",
                         "Name:\tworker-thread\nTgid:\t1002\nPid:\t1003\nUid:\t1000\t1000\t1000\t1000\n");
        thread = client_call_manager(f, "GetProcess", "u", 1003);
        assert_error(thread, SD_BUS_ERROR_INVALID_ARGS, "thread of process 1002");

        gone = client_call_manager(f, "GetProcess", "u", 424242);
        assert_error(gone, SD_BUS_ERROR_INVALID_ARGS, "424242");
        zero = client_call_manager(f, "GetProcess", "u", 0);
        assert_error(zero, SD_BUS_ERROR_INVALID_ARGS, "0 is not a valid");
}

static void test_unit_properties(void **state) {
        Fixture *f = *state;
        const char *path = "/org/mapguard1/unit/a_2eservice";
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *name = NULL, *missing = NULL;
        const char *s;

        name = get_property(f, path, "org.mapguard1.Unit", "Name");
        assert_true(sd_bus_message_read(name, "v", "s", &s) > 0);
        assert_string_equal(s, UNIT_A);
        assert_int_equal(get_property_u(f, path, "org.mapguard1.Unit", "Processes"), 2);
        assert_int_equal(get_property_u(f, path, "org.mapguard1.Unit", "WorstPID"), 1002);
        assert_int_equal(get_property_u(f, path, "org.mapguard1.Unit", "MapCount"), 700);
        assert_int_equal(get_property_u(f, path, "org.mapguard1.Unit", "PeakMapCount"), 700);
        assert_int_equal(get_property_u(f, path, "org.mapguard1.Unit", "Headroom"), 300);

        missing = call(f, "/org/mapguard1/unit/nope_2eservice", "org.freedesktop.DBus.Properties", "Get",
                       "ss", "org.mapguard1.Unit", "Name");
        assert_non_null(sd_bus_message_get_error(missing));
}

typedef struct Seen {
        int level_changed;
        char old_level[16], new_level[16];
        uint32_t pid, count;
        int unit_props;
        bool map_count_changed;
} Seen;

static int on_level_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Seen *s = userdata;
        const char *unit, *comm, *old, *new;
        uint32_t pid, count, max;

        assert_true(sd_bus_message_read(m, "susssuu", &unit, &pid, &comm, &old, &new, &count, &max) > 0);
        s->level_changed++;
        s->pid = pid;
        s->count = count;
        snprintf(s->old_level, sizeof(s->old_level), "%s", old);
        snprintf(s->new_level, sizeof(s->new_level), "%s", new);
        return 0;
}

static int on_unit_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Seen *s = userdata;
        const char *interface, *name;

        assert_true(sd_bus_message_read(m, "s", &interface) > 0);
        s->unit_props++;
        assert_true(sd_bus_message_enter_container(m, 'a', "{sv}") >= 0);
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                assert_true(sd_bus_message_read(m, "s", &name) > 0);
                if (streq(name, "MapCount"))
                        s->map_count_changed = true;
                assert_true(sd_bus_message_skip(m, "v") >= 0);
                assert_true(sd_bus_message_exit_container(m) >= 0);
        }
        return 0;
}

static void test_level_changed(void **state) {
        Fixture *f = *state;
        Seen seen = {};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *s1 = NULL, *s2 = NULL;

        assert_true(sd_bus_match_signal(f->client, &s1, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LevelChanged", on_level_changed, &seen) >= 0);
        assert_true(sd_bus_match_signal(f->client, &s2, NULL, "/org/mapguard1/unit/a_2eservice",
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_unit_props, &seen) >= 0);

        /* 850 of 1000 is past the 80 % warning threshold. */
        fake_process(f->root, 1002, "ingester", 1000, 850, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(seen.pid, 1002);
        assert_int_equal(seen.count, 850);
        assert_string_equal(seen.old_level, "ok");
        assert_string_equal(seen.new_level, "warning");
        assert_true(seen.map_count_changed);

        /* Growing within the level says nothing more; 780 is within the hysteresis band (80 - 5 %). */
        fake_process(f->root, 1002, "ingester", 1000, 870, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        fake_process(f->root, 1002, "ingester", 1000, 780, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);

        /* Below 75 % it has recovered. */
        fake_process(f->root, 1002, "ingester", 1000, 700, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 2);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "ok");
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "PeakMapCount"),
                870);
}

/* Counts LevelChanged in SEEN from now on (the match in *SLOT), and brings 1002 to warning. */
static void warn_1002(Fixture *f, sd_bus_slot **slot, Seen *seen) {
        assert_true(sd_bus_match_signal(f->client, slot, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LevelChanged", on_level_changed, seen) >= 0);
        fake_process(f->root, 1002, "ingester", 1000, 850, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen->level_changed, 1);
        assert_string_equal(seen->new_level, "warning");
}

/* The bus connection goes away (the bus daemon restarted): the loop ends with a failure, so that
 * Restart=on-failure brings the daemon back on the new bus, instead of running on without a name. */
static void test_bus_disconnect_exits(void **state) {
        Fixture *f = *state;
        int code = -1;

        /* Closed without flushing: the server, in the same loop, cannot read before we return. */
        sd_bus_close(f->client);
        f->client = sd_bus_unref(f->client);
        for (int i = 0; i < 500 && sd_event_get_state(f->m->event) != SD_EVENT_FINISHED; i++)
                assert_true(sd_event_run(f->m->event, 10000) >= 0);
        assert_int_equal(sd_event_get_state(f->m->event), SD_EVENT_FINISHED);
        assert_int_equal(sd_event_get_exit_code(f->m->event, &code), 0);
        assert_int_equal(code, EXIT_FAILURE);
}

/* The runtime directory of the state file (level-state.h), for the restart test. */
static char runtime_dir[] = "/tmp/mapguard-test-run-XXXXXX";

static int setup_runtime_dir(void **state) {
        assert_non_null(mkdtemp(runtime_dir));
        assert_int_equal(setenv("RUNTIME_DIRECTORY", runtime_dir, true), 0);
        return setup(state);
}

static int teardown_runtime_dir(void **state) {

        assert_int_equal(unsetenv("RUNTIME_DIRECTORY"), 0);
        testfs_rm_rf(runtime_dir);
        strcpy(runtime_dir, "/tmp/mapguard-test-run-XXXXXX");
        return teardown(state);
}

/* Replaces F's Manager by a new one on the same fixture, as a restart of the daemon does, and counts
 * its LevelChanged signals in SEEN from before its first pass. */
static void restart(Fixture *f, Seen *seen, sd_bus_slot **slot) {
        Config *c = config_new_default();

        *slot = sd_bus_slot_unref(*slot);
        sd_bus_flush_close_unref(f->client);
        f->server = sd_bus_unref(f->server);
        f->m = manager_free(f->m);

        assert_non_null(c);
        c->backend = BACKEND_PROCFS;
        assert_int_equal(manager_new(f->root, NULL, c, &f->m), 0);
        fixture_connect(f);
        *seen = (Seen){};
        assert_true(sd_bus_match_signal(f->client, slot, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LevelChanged", on_level_changed, seen) >= 0);
        fixture_watch(f);
        drain(f);
}

/* A restart neither repeats a warning already given nor misses a recovery in between. */
static void test_restart_keeps_levels(void **state) {
        Fixture *f = *state;
        sd_bus_slot *slot = NULL;
        Seen seen = {};
        char path[256], buf[512] = "";
        FILE *fp;

        warn_1002(f, &slot, &seen);

        /* The file names it (pid, start time, level, count, unit, comm), and the limit entry logged. */
        snprintf(path, sizeof(path), "%s/state", runtime_dir);
        fp = fopen(path, "re");
        assert_non_null(fp);
        assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
        fclose(fp);
        assert_non_null(strstr(buf, "\nprocess 1002 600 warning 850 " UNIT_A " ingester\n"));
        assert_non_null(strstr(buf, "\nbelow-tuned 1000 1048576\n"));

        /* Restarted with 1002 still at warning: nothing to say. */
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 0);
        assert_int_equal(f->m->units[0]->procs[1].level, LEVEL_WARNING);
        assert_int_equal(f->m->limits.below_tuned_logged_tuned, 1048576);

        /* It recovered while the daemon was down: the new instance says so. */
        fake_process(f->root, 1002, "ingester", 1000, 700, 600);
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 1);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "ok");

        /* Another process under the same pid (another start time): its own warning is given, and the
         * one that was at warning is said to be gone. */
        fake_process(f->root, 1002, "ingester", 1000, 850, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        fake_process(f->root, 1002, "newcomer", 1000, 960, 650);
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 2);
        assert_int_equal(f->m->units[0]->procs[1].level, LEVEL_CRITICAL);
        assert_int_equal(seen.pid, 1002);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");

        /* It exits while the daemon is down: gone, from critical. */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        fake_exit(f->root, 1002);
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(seen.pid, 1002);
        assert_string_equal(seen.old_level, "critical");
        assert_string_equal(seen.new_level, "unknown");
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n1002\n");
        fake_process(f->root, 1002, "newcomer", 1000, 960, 650);
        assert_int_equal(manager_scan(f->m, true), 0);

        /* A bad line is skipped, the others kept: 1002 goes on at critical, nothing to say. */
        fp = fopen(path, "we");
        assert_non_null(fp);
        fputs("mapguardd state 1\nprocess 1003 garbage\nprocess 1002 650 critical 960 " UNIT_A " newcomer\n",
              fp);
        fclose(fp);
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 0);

        /* Not our file: announced afresh. */
        fp = fopen(path, "we");
        assert_non_null(fp);
        fputs("something else\nprocess 1002 650 critical 960 " UNIT_A " newcomer\n", fp);
        fclose(fp);
        restart(f, &seen, &slot);
        assert_int_equal(seen.level_changed, 1);
        assert_string_equal(seen.old_level, "unknown");
        assert_string_equal(seen.new_level, "critical");
        sd_bus_slot_unref(slot);
}

/* A process at warning that exits, or whose pid is taken by another process, leaves that level:
 * LevelChanged says so (to "unknown"); the newcomer starts afresh. */
static void test_gone_at_warning(void **state) {
        Fixture *f = *state;
        Seen seen = {};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;

        warn_1002(f, &slot, &seen);

        /* pid 1002 is now another process (another start time) with few maps */
        fake_process(f->root, 1002, "newcomer", 1000, 100, 900);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 2);
        assert_int_equal(seen.pid, 1002);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");
        assert_int_equal(f->m->units[0]->level, LEVEL_OK);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "MapCount"), 300);

        /* the newcomer grows into warning and then exits: one more of each */
        fake_process(f->root, 1002, "newcomer", 1000, 900, 900);
        assert_int_equal(manager_scan(f->m, true), 0);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        fake_exit(f->root, 1002);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 4);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");

        /* A unit that stops takes its processes along: one at warning leaves that level too. */
        fake_process(f->root, 1001, "worker", 1000, 900, 500);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 5);
        assert_string_equal(seen.new_level, "warning");
        manager_watch_remove_unit(f->m, UNIT_A);
        drain(f);
        assert_int_equal(seen.level_changed, 6);
        assert_int_equal(seen.pid, 1001);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");
}

/* Makes /proc/PID/maps of the fixture unreadable: a directory (root reads a mode-000 file anyway). */
static void make_maps_unreadable(Fixture *f, int pid) {
        char path[256];

        snprintf(path, sizeof(path), "%s/proc/%d/maps", f->root, pid);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
}

static void make_maps_readable(Fixture *f, int pid) {
        char path[256];

        snprintf(path, sizeof(path), "%s/proc/%d/maps", f->root, pid);
        assert_int_equal(rmdir(path), 0);
}

/* A process that cannot be read is kept, so the unit does not look empty: one we never read at level
 * unknown, one we knew with its last reading. */
static void test_unreadable_process(void **state) {
        Fixture *f = *state;

        fake_process(f->root, 1003, "sidecar", 1000, 50, 650);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs",
                         "1001\n1002\n1003\n");
        make_maps_unreadable(f, 1003);
        make_maps_unreadable(f, 1001);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Processes"), 3);
        assert_int_equal(f->m->units[0]->procs[0].pid, 1001);
        assert_int_equal(f->m->units[0]->procs[0].level, LEVEL_OK);
        assert_int_equal(f->m->units[0]->procs[0].map_count, 300);
        assert_int_equal(f->m->units[0]->procs[2].pid, 1003);
        assert_int_equal(f->m->units[0]->procs[2].level, LEVEL_UNKNOWN);
        assert_string_equal(f->m->units[0]->procs[2].comm, "sidecar");
        assert_int_equal(f->m->units[0]->worst_pid, 1002);
}

/* A process at warning that cannot be read for a while neither leaves warning unsaid nor comes back as
 * a fresh warning: nothing is announced for a read that failed, and it stays in the level store. */
static void test_unreadable_at_warning(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        Seen seen = {};

        warn_1002(f, &slot, &seen);
        f->m->levels.dirty = false;
        make_maps_unreadable(f, 1002);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(f->m->units[0]->procs[1].pid, 1002);
        assert_int_equal(f->m->units[0]->procs[1].level, LEVEL_WARNING);
        assert_int_equal(f->m->units[0]->level, LEVEL_WARNING);
        assert_false(f->m->levels.dirty);

        make_maps_readable(f, 1002);
        fake_process(f->root, 1002, "ingester", 1000, 860, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(f->m->units[0]->procs[1].map_count, 860);
        assert_false(f->m->levels.dirty);
}

/* A process that moves between sub-cgroups of its unit while a pass walks them can be in neither listing
 * the walk reads: it is still there, and /proc says so. It is neither said gone nor warned about afresh. */
static void test_moved_within_unit(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        Seen seen = {};

        warn_1002(f, &slot, &seen);
        /* Mid-move: listed nowhere, while /proc puts it in a sub-cgroup of the unit. */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/worker/cgroup.procs", "");
        testfs_write_str(f->root, "proc/1002/cgroup", "0::/system.slice/" UNIT_A "/worker\n");
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(f->m->units[0]->n_procs, 2);
        assert_int_equal(f->m->units[0]->procs[1].level, LEVEL_WARNING);

        /* Arrived: read again, still at warning, nothing to say. */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/worker/cgroup.procs", "1002\n");
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_int_equal(f->m->units[0]->n_procs, 2);

        /* Moved out of the unit while missed: gone from it. */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/worker/cgroup.procs", "");
        testfs_write_str(f->root, "proc/1002/cgroup", "0::/system.slice/elsewhere.service\n");
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 2);
        assert_int_equal(f->m->units[0]->n_procs, 1);
}

static int on_limit_hit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        int *n = userdata;
        const char *unit, *comm, *syscall;
        uint32_t pid, count, max;

        assert_true(sd_bus_message_read(m, "sussuu", &unit, &pid, &comm, &syscall, &count, &max) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_int_equal(pid, 1002);
        assert_string_equal(syscall, ""); /* observed: no call was caught */
        assert_int_equal(count, 1000);
        (*n)++;
        return 0;
}

static uint64_t get_property_t(Fixture *f, const char *path, const char *interface, const char *property) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get_property(f, path, interface, property);
        uint64_t v;

        assert_true(sd_bus_message_read(reply, "v", "t", &v) > 0);
        return v;
}

#define UNIT_A_PATH "/org/mapguard1/unit/a_2eservice"
#define UNIT_IF "org.mapguard1.Unit"

/* Without BPF a read that finds a process with no headroom is one hit (once per process); its exit is
 * attributed; the unit stays in view, critical, while it has no processes, until systemd says it was
 * stopped. */
static void test_hit_observed(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint64_t before = now_usec(CLOCK_REALTIME);
        int hits = 0;

        assert_property_s(f, "/org/mapguard1", "org.mapguard1.Manager", "HitDetection", "observed");
        assert_true(sd_bus_match_signal(f->client, &slot, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LimitHit", on_limit_hit, &hits) >= 0);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 0);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LastLimitHitUSec"), 0);

        /* 1000 of 1000: no headroom. One hit, however often it is read there. */
        fake_process(f->root, 1002, "ingester", 1000, 1000, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(hits, 1);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);
        assert_true(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LastLimitHitUSec") >= before);
        assert_property_s(f, UNIT_A_PATH, UNIT_IF, "Level", "critical");

        /* It dies: its exit is attributed (the fake bus has no systemd to say how it exited). */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        fake_exit(f->root, 1002);
        assert_int_equal(manager_scan(f->m, true), 0);
        for (int i = 0; i < 100 && get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitExits") == 0; i++)
                drain(f);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitExits"), 1);
        assert_property_s(f, UNIT_A_PATH, UNIT_IF, "LastExit", "");
        /* Still critical with only an ok process left: it hit the limit a moment ago. */
        assert_property_s(f, UNIT_A_PATH, UNIT_IF, "Level", "critical");

        /* The unit's control group goes (systemd restarts it, or it failed): kept in view. */
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, ""),
                         1); /* held: systemd is asked its state */
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "");
        fake_exit(f->root, 1001);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_non_null(manager_find_unit(f->m, UNIT_A));
        assert_true(manager_find_unit(f->m, UNIT_A)->held);
        assert_int_equal(get_property_u(f, UNIT_A_PATH, UNIT_IF, "Processes"), 0);
        assert_property_s(f, UNIT_A_PATH, UNIT_IF, "Level", "critical");
        manager_watch_unit_state(f->m, UNIT_A, "failed");
        assert_non_null(manager_find_unit(f->m, UNIT_A));
        /* Restarted: watched as usual again, the counters kept. */
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, "/system.slice/" UNIT_A), 0);
        assert_false(manager_find_unit(f->m, UNIT_A)->held);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);
        /* Stopped: out of view. */
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, ""), 1);
        manager_watch_unit_state(f->m, UNIT_A, "inactive");
        assert_null(manager_find_unit(f->m, UNIT_A));
}

/* An exit while systemd stops the unit on request (it showed the unit deactivating with a job) is the
 * stop's doing, not the limit's, even right after a hit; once that job is gone, an exit is judged again. */
static void test_exit_during_asked_stop(void **state) {
        Fixture *f = *state;

        fake_process(f->root, 1002, "ingester", 1000, 1000, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);

        manager_units_job_seen(f->m, UNIT_A, "deactivating", 7);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        fake_exit(f->root, 1002);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitExits"), 0);

        /* The stop is over (a restart job): the next instance hits the limit and dies of it. */
        manager_units_job_removed(f->m, UNIT_A, 7);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n1003\n");
        fake_process(f->root, 1003, "ingester", 1000, 1000, 900);
        assert_int_equal(manager_scan(f->m, true), 0);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        fake_exit(f->root, 1003);
        assert_int_equal(manager_scan(f->m, true), 0);
        for (int i = 0; i < 100 && get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitExits") == 0; i++)
                drain(f);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitExits"), 1);
}

/* With hits caught, the failing calls of a process are told as one burst, up to a second after the
 * first: a process that dies at once (and systemd reporting its unit's emptied control group) comes
 * before the burst is told. The unit is at the limit all the same: kept in view, its crash loop counted
 * on, not dropped and forgotten with every cycle (a loop told in full for ever). */
static void test_hit_caught_burst_open(void **state) {
        Fixture *f = *state;
        LimitHit hit = {
                .pid = 1002,
                .tid = 1002,
                .syscall = LIMIT_HIT_SYSCALL_MMAP,
                .error = ENOMEM,
                .map_count = 1001,
                .max_map_count = 1000,
                .time_usec = now_usec(CLOCK_MONOTONIC),
                .evidence = LIMIT_HIT_CAUGHT,
        };

        /* Catching as the BPF program would feed it, with the burst still open. */
        f->m->hits.bursts = limit_hit_bursts_new();
        assert_non_null(f->m->hits.bursts);
        assert_true(limit_hit_bursts_add(f->m->hits.bursts, &hit) >= 0);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 0);

        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, ""), 1);
        assert_non_null(manager_find_unit(f->m, UNIT_A));
        assert_true(manager_find_unit(f->m, UNIT_A)->held);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);
        assert_property_s(f, UNIT_A_PATH, UNIT_IF, "Level", "critical");
}

/* systemd reports the restart of a watched unit (same cgroup path): the pass runs at once, not after
 * IntervalSec, so the new instance is read while it is young. */
static void test_restart_reads_at_once(void **state) {
        Fixture *f = *state;
        uint64_t when = 0;
        int enabled = SD_EVENT_OFF;

        /* A first call completes the client's connection, which teardown flushes. */
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Processes"), 2);
        assert_true(sd_event_source_get_time(f->m->scan.timer, &when) >= 0);
        assert_true(when > now_usec(CLOCK_MONOTONIC)); /* the first pass armed it for later */

        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, "/system.slice/" UNIT_A), 0);
        assert_true(sd_event_source_get_time(f->m->scan.timer, &when) >= 0);
        assert_true(sd_event_source_get_enabled(f->m->scan.timer, &enabled) >= 0);
        assert_true(when <= now_usec(CLOCK_MONOTONIC));
        assert_int_equal(enabled, SD_EVENT_ONESHOT);
}

static void test_vanished_and_reused(void **state) {
        Fixture *f = *state;
        char path[256];

        /* 1001 exits: it is no longer listed, nothing crashes. */
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", f->root);
        FILE *fp = fopen(path, "we");
        assert_non_null(fp);
        fputs("1001\n1002\n", fp);
        fclose(fp);
        snprintf(path, sizeof(path), "%s/proc/1001", f->root);
        testfs_rm_rf(path);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Processes"), 1);

        /* The whole cgroup vanishes (unit stopped before systemd told us): no processes, no error. */
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/system.slice/" UNIT_B, f->root);
        testfs_rm_rf(path);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "Processes"),
                0);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "Headroom"),
                1000);
        assert_int_equal(
                get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "MapCount"), 0);
}

typedef struct Removed {
        bool seen, had_unit_interface;
} Removed;

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Removed *r = userdata;
        const char *path, *interface;

        assert_true(sd_bus_message_read(m, "o", &path) > 0);
        assert_string_equal(path, "/org/mapguard1/unit/b_2dx_2escope");
        assert_true(sd_bus_message_enter_container(m, 'a', "s") > 0);
        while (sd_bus_message_read(m, "s", &interface) > 0)
                if (streq(interface, "org.mapguard1.Unit"))
                        r->had_unit_interface = true;
        r->seen = true;
        return 0;
}

static void test_units_come_and_go(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *objects = NULL, *gone = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        Removed removed = {};

        assert_true(sd_bus_match_signal(f->client, &slot, NULL, "/org/mapguard1",
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                        on_interfaces_removed, &removed) >= 0);
        manager_watch_remove_unit(f->m, UNIT_B);
        drain(f);
        assert_true(removed.seen);
        assert_true(removed.had_unit_interface);
        gone = call(f, "/org/mapguard1/unit/b_2dx_2escope", "org.freedesktop.DBus.Properties", "Get", "ss",
                    "org.mapguard1.Unit", "Name");
        assert_non_null(sd_bus_message_get_error(gone));

        objects = call(f, "/org/mapguard1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL);
        assert_null(sd_bus_message_get_error(objects));
        assert_true(sd_bus_message_enter_container(objects, 'a', "{oa{sa{sv}}}") > 0);
        int n = 0;
        while (sd_bus_message_enter_container(objects, 'e', "oa{sa{sv}}") > 0) {
                const char *p;
                assert_true(sd_bus_message_read(objects, "o", &p) > 0);
                assert_string_equal(p, "/org/mapguard1/unit/a_2eservice");
                assert_true(sd_bus_message_skip(objects, "a{sa{sv}}") >= 0);
                assert_true(sd_bus_message_exit_container(objects) >= 0);
                n++;
        }
        assert_int_equal(n, 1);
}

static void test_limit_change(void **state) {
        Fixture *f = *state;

        testfs_write_str(f->root, "proc/sys/vm/max_map_count", "800\n");
        assert_int_equal(manager_scan(f->m, false), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 800);
        /* 700 of 800 is 87 %: a new limit re-evaluates every process at once. */
        assert_int_equal(f->m->units[0]->level, LEVEL_WARNING);
}

static void test_reload(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *good = NULL, *bad = NULL, *rescan = NULL;

        testfs_write_str(f->root, "etc/mapguard/mapguardd.conf", "[Thresholds]\nWarningPercent=70\n");
        good = client_call_manager(f, "Reload", NULL);
        assert_null(sd_bus_message_get_error(good));
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 70);

        testfs_write_str(f->root, "etc/mapguard/mapguardd.conf.d/50-bad.conf",
                         "[Thresholds]\nCriticalPercent=60\n");
        bad = client_call_manager(f, "Reload", NULL);
        assert_error(bad, SD_BUS_ERROR_FAILED, "50-bad.conf");
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 70);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "CriticalPercent"),
                         95);

        /* Bytes that are not UTF-8 in the file: refused at once, the error escaped (valid for D-Bus, and
         * saying which byte). */
        testfs_write_str(f->root, "etc/mapguard/mapguardd.conf.d/50-bad.conf",
                         "[Watch]\nUnits=caf\xe9.service\n");
        sd_bus_message_unref(bad);
        bad = client_call_manager(f, "Reload", NULL);
        assert_error(bad, SD_BUS_ERROR_FAILED, "50-bad.conf:2");
        assert_non_null(strstr(sd_bus_message_get_error(bad)->message, "caf\\xe9.service"));

        rescan = client_call_manager(f, "Rescan", NULL);
        assert_null(sd_bus_message_get_error(rescan));
}

static void test_recommend(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *r = NULL;
        const char *reason;
        uint32_t value;

        r = client_call_manager(f, "Recommend", NULL);
        assert_null(sd_bus_message_get_error(r));
        assert_true(sd_bus_message_read(r, "us", &value, &reason) > 0);
        assert_true(value >= 65530);
        assert_non_null(strstr(reason, "MiB"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
                cmocka_unit_test_setup_teardown(test_headroom_and_units, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_processes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unit_properties, setup, teardown),
                cmocka_unit_test_setup_teardown(test_level_changed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gone_at_warning, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restart_keeps_levels, setup_runtime_dir,
                                                teardown_runtime_dir),
                cmocka_unit_test_setup_teardown(test_bus_disconnect_exits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_at_warning, setup, teardown),
                cmocka_unit_test_setup_teardown(test_moved_within_unit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restart_reads_at_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hit_observed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exit_during_asked_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hit_caught_burst_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vanished_and_reused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_come_and_go, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recommend, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
