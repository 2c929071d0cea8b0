/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an unprivileged caller learns of processes: of its own, everything; of another user's or root's,
 * nothing (no pid, no comm, no count of one) through any method or property; the units' own figures,
 * everything. Root learns everything. */
#include "bus-fixture.h"

/* The fixture's processes: a.service has 1001 and 1002 (uid 1000's; 1002 the worst, 700 maps); b-x.scope
 * has 2001 (root's, 10 maps) and, added here, 2002 (nobody's, 50 maps: the worst) and 2003 (nobody's
 * uids, but not dumpable: /proc/2003 is root's). */
static void privacy_fixture(Fixture *f) {
        _cleanup_free_ char *nodump = testfs_path(f->root, "proc/2003");

        fake_process(f->root, 2002, "nobodys", 65534, 50, 800);
        fake_process(f->root, 2003, "nodump", 65534, 5, 900);
        assert_int_equal(chown(nodump, 0, 0), 0);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_B "/cgroup.procs",
                         "2001\n2002\n2003\n");
}

/* The text of REPLY as busctl would show it, for looking for what must not be in it. */
static char *dump(sd_bus_message *reply) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        if (sd_bus_message_rewind(reply, true) < 0 || sd_bus_message_dump(reply, f, 0) < 0) {
                fclose(f);
                free(text);
                return NULL;
        }
        fclose(f);
        return text;
}

/* Whether TEXT names any process that is not nobody's own 2002: a pid or a comm of the others. */
static bool names_others(const char *text) {
        static const char *const others[] = { "1001",     "1002",  "2001",   "2003", "worker",
                                              "ingester", "other", "nodump", NULL };

        for (size_t i = 0; others[i]; i++)
                if (strstr(text, others[i]))
                        return true;
        return false;
}

static sd_bus_message *nobody_call(sd_bus *bus, const char *path, const char *interface, const char *member,
                                   const char *types, ...) {
        sd_bus_message *call = NULL, *reply = NULL;
        va_list ap;

        if (sd_bus_message_new_method_call(bus, &call, "org.mapguard1", path, interface, member) < 0)
                return NULL;
        if (types) {
                va_start(ap, types);
                if (sd_bus_message_appendv(call, types, ap) < 0)
                        call = sd_bus_message_unref(call);
                va_end(ap);
        }
        if (call && sd_bus_call(bus, call, 0, NULL, &reply) < 0)
                reply = NULL;
        sd_bus_message_unref(call);
        return reply;
}

#define UNIT_A_PATH "/org/mapguard1/unit/a_2eservice"
#define UNIT_B_PATH "/org/mapguard1/unit/b_2dx_2escope"

/* Nobody's view. Returns 0 or the step that failed. */
static int nobody_client(sd_bus *bus, void *userdata) {
        static const struct {
                const char *path, *interface, *member, *types, *arg;
        } calls[] = {
                { "/org/mapguard1", "org.mapguard1.Manager", "ListUnits", NULL, NULL },
                { "/org/mapguard1", "org.mapguard1.Manager", "GetHeadroom", NULL, NULL },
                { "/org/mapguard1", "org.mapguard1.Manager", "ListProcesses", "s", UNIT_A },
                { "/org/mapguard1", "org.mapguard1.Manager", "ListProcesses", "s", UNIT_B },
                { UNIT_A_PATH, "org.mapguard1.Unit", "ListProcesses", NULL, NULL },
                { UNIT_B_PATH, "org.mapguard1.Unit", "ListProcesses", NULL, NULL },
                { "/org/mapguard1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, NULL },
                { UNIT_A_PATH, "org.freedesktop.DBus.Properties", "GetAll", "s", "org.mapguard1.Unit" },
                { "/org/mapguard1", "org.mapguard1.Manager", "Recommend", NULL, NULL },
        };
        int step = 20;

        /* Every answer leaves the other users' and root's processes out. */
        for (size_t i = 0; i < ELEMENTSOF(calls); i++, step++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = calls[i].types
                        ? nobody_call(bus, calls[i].path, calls[i].interface, calls[i].member,
                                      calls[i].types, calls[i].arg)
                        : nobody_call(bus, calls[i].path, calls[i].interface, calls[i].member, NULL);
                _cleanup_free_ char *text = NULL;

                if (!reply)
                        return step;
                text = dump(reply);
                if (!text || names_others(text)) {
                        fprintf(stderr, "%s tells nobody of others' processes:\n%s\n", calls[i].member,
                                text ?: "(no text)");
                        return step;
                }
        }

        /* What it does learn: its own process, and every unit's figures. */
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *procs =
                nobody_call(bus, "/org/mapguard1", "org.mapguard1.Manager", "ListProcesses", "s", UNIT_B);
        uint32_t pid, count, room, worst = 0, n_procs = 0;
        const char *comm, *level;
        double growth;
        uint64_t eta;

        if (!procs || sd_bus_message_enter_container(procs, 'a', "(usuusdt)") < 0 ||
            sd_bus_message_read(procs, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &eta) <=
                    0 ||
            pid != 2002 || count != 50 || !streq(comm, "nobodys") ||
            sd_bus_message_read(procs, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &eta) != 0)
                return 40;
        if (sd_bus_get_property_trivial(bus, "org.mapguard1", UNIT_B_PATH, "org.mapguard1.Unit", "WorstPID",
                                        NULL, 'u', &worst) < 0 ||
            worst != 2002)
                return 41;
        if (sd_bus_get_property_trivial(bus, "org.mapguard1", UNIT_A_PATH, "org.mapguard1.Unit", "WorstPID",
                                        NULL, 'u', &worst) < 0 ||
            worst != 0)
                return 42;
        /* The unit's figures are public: all three processes, the worst one's count. */
        if (sd_bus_get_property_trivial(bus, "org.mapguard1", UNIT_B_PATH, "org.mapguard1.Unit", "Processes",
                                        NULL, 'u', &n_procs) < 0 ||
            n_procs != 3)
                return 43;
        if (sd_bus_get_property_trivial(bus, "org.mapguard1", UNIT_A_PATH, "org.mapguard1.Unit", "MapCount",
                                        NULL, 'u', &count) < 0 ||
            count != 700)
                return 44;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *headroom =
                nobody_call(bus, "/org/mapguard1", "org.mapguard1.Manager", "GetHeadroom", NULL);
        const char *unit;
        uint32_t max;

        if (!headroom ||
            sd_bus_message_read(headroom, "susuuus", &unit, &pid, &comm, &count, &max, &room, &level) <= 0 ||
            !streq(unit, UNIT_A) || pid != 0 || !streq(comm, "") || count != 700 || room != 300)
                return 45;
        return 0;
}

static void test_nobody_sees_only_its_own(void **state) {
        Fixture *f = *state;

        privacy_fixture(f);
        fixture_run_unprivileged(f, nobody_client, NULL);
}

/* Root sees every process, and which one is the worst. */
static void test_root_sees_all(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *b = NULL, *headroom = NULL;
        uint32_t pid, count, room, max, n = 0;
        const char *comm, *level, *unit;
        double growth;
        uint64_t eta;

        privacy_fixture(f);
        assert_int_equal(manager_scan(f->m, true), 0);
        b = client_call_manager(f, "ListProcesses", "s", UNIT_B);
        assert_true(sd_bus_message_enter_container(b, 'a', "(usuusdt)") > 0);
        while (sd_bus_message_read(b, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &eta) > 0)
                n++;
        assert_int_equal(n, 3);
        assert_int_equal(get_property_u(f, UNIT_A_PATH, "org.mapguard1.Unit", "WorstPID"), 1002);
        headroom = client_call_manager(f, "GetHeadroom", NULL);
        assert_true(sd_bus_message_read(headroom, "susuuus", &unit, &pid, &comm, &count, &max, &room,
                                        &level) > 0);
        assert_int_equal(pid, 1002);
        assert_string_equal(comm, "ingester");
}

/* WorstPID changes are not carried in PropertiesChanged, which goes to everyone: only invalidated (a
 * value there would be the one for no caller: 0). Counts the signals that invalidate it, and those that
 * carry a value for it. */
typedef struct WorstPidSignals {
        unsigned invalidated, valued;
} WorstPidSignals;

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        WorstPidSignals *seen = userdata;
        const char *interface, *name;

        assert_true(sd_bus_message_read(m, "s", &interface) > 0);
        assert_true(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                assert_true(sd_bus_message_read(m, "s", &name) > 0);
                if (streq(name, "WorstPID"))
                        seen->valued++;
                assert_true(sd_bus_message_skip(m, "v") >= 0);
                assert_true(sd_bus_message_exit_container(m) >= 0);
        }
        assert_true(sd_bus_message_exit_container(m) >= 0);
        assert_true(sd_bus_message_enter_container(m, 'a', "s") > 0);
        while (sd_bus_message_read(m, "s", &name) > 0)
                if (streq(name, "WorstPID"))
                        seen->invalidated++;
        return 0;
}

static void test_worst_pid_invalidated(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        WorstPidSignals seen = {};

        assert_true(sd_bus_match_signal(f->client, &slot, NULL, UNIT_B_PATH,
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_properties_changed, &seen) >= 0);
        drain(f);
        /* 2001 -> 2002: the worst process changes. */
        privacy_fixture(f);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.valued, 0);
        assert_true(seen.invalidated >= 1);
        assert_int_equal(get_property_u(f, UNIT_B_PATH, "org.mapguard1.Unit", "WorstPID"), 2002);
}

/* The owner of a process that was read before it dropped to its user (systemd forks a service's process
 * as root, then sets User=; a daemon's workers drop after their fork) is read again; so is one whose comm
 * changed (an exec, maybe of a setuid program). */
static ProcState *proc_of(Fixture *f, const char *unit, pid_t pid) {
        WatchedUnit *u = manager_find_unit(f->m, unit);

        assert_non_null(u);
        for (size_t i = 0; i < u->n_procs; i++)
                if (u->procs[i].pid == pid)
                        return &u->procs[i];
        fail_msg("pid %d is not in %s", (int) pid, unit);
        return NULL;
}

static void test_owner_follows_privilege_drop(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *dir = testfs_path(f->root, "proc/2002");

        privacy_fixture(f);
        /* Read while still root's, as systemd's child before it sets User=. */
        fake_process(f->root, 2002, "nobodys", 0, 50, 800);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(proc_of(f, UNIT_B, 2002)->owner, 0);

        fake_process(f->root, 2002, "nobodys", 65534, 50, 800);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(proc_of(f, UNIT_B, 2002)->owner, 65534);

        /* Known as nobody's and unchanged: not read again (its status may say anything now). */
        testfs_write_str(f->root, "proc/2002/status",
                         "Name:\tnobodys\nTgid:\t2002\nPid:\t2002\nUid:\t0\t0\t0\t0\n");
        assert_int_equal(chown(dir, 0, 0), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(proc_of(f, UNIT_B, 2002)->owner, 65534);

        /* An exec of a setuid program (its comm changes): root's again. */
        fake_process(f->root, 2002, "su", 0, 50, 800);
        testfs_write_str(f->root, "proc/2002/status",
                         "Name:\tsu\nTgid:\t2002\nPid:\t2002\nUid:\t65534\t0\t0\t0\n");
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(proc_of(f, UNIT_B, 2002)->owner, 0);
        /* Root sees it all the same. */
        assert_int_equal(get_property_u(f, UNIT_B_PATH, "org.mapguard1.Unit", "WorstPID"), 2002);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_nobody_sees_only_its_own, setup_bare, teardown),
                cmocka_unit_test_setup_teardown(test_root_sees_all, setup, teardown),
                cmocka_unit_test_setup_teardown(test_worst_pid_invalidated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_owner_follows_privilege_drop, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
