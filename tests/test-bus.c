/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The D-Bus API over a real connection: the Manager serves on one end of a socket, a client calls it
 * from the other, both driven by the same sd-event loop. /proc, /sys and /etc are a fixture tree. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "manager.h"
#include "util.h"

#define UNIT_A "a.service"
#define UNIT_B "b-x.scope"

typedef struct Fixture {
        char root[64];
        Manager *m;
        sd_bus *server, *client;
} Fixture;

static void write_file(const char *root, const char *rel, const char *content) {
        char path[512], dir[512];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
                snprintf(dir, sizeof(dir), "%.*s", (int) (p - path), path);
                (void) mkdir(dir, 0755);
        }
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

/* A fake process PID of UID with MAPS memory maps (plus the gate line, which is not counted). */
static void fake_process(const char *root, int pid, const char *comm, unsigned uid, unsigned maps,
                         unsigned long long start_time) {
        char rel[128], buf[512];
        char *content;
        size_t size = (size_t) maps * 80 + 128, off = 0;

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(buf, sizeof(buf),
                 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 %llu 1000000 100 "
                 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                 pid, comm, pid, pid, start_time);
        write_file(root, rel, buf);

        snprintf(rel, sizeof(rel), "proc/%d/status", pid);
        snprintf(buf, sizeof(buf), "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n", comm,
                 pid, pid, uid, uid, uid, uid);
        write_file(root, rel, buf);

        snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
        write_file(root, rel, "0::/system.slice/" UNIT_A "\n");

        content = malloc(size);
        assert_non_null(content);
        for (unsigned i = 0; i < maps; i++)
                off += (size_t) snprintf(content + off, size - off,
                                         "7f%010x000-7f%010x000 r--p 00000000 00:00 0 \n", i * 2, i * 2 + 1);
        off += (size_t) snprintf(content + off, size - off,
                                 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0      [vsyscall]\n");
        snprintf(rel, sizeof(rel), "proc/%d/maps", pid);
        write_file(root, rel, content);
        free(content);
}

/* The fixture and a Manager watching it, without a bus yet. */
static Fixture *fixture_new(void) {
        Fixture *f = calloc(1, sizeof(Fixture));
        Config *c;

        assert_non_null(f);
        strcpy(f->root, "/tmp/mapguard-test-bus-XXXXXX");
        assert_non_null(mkdtemp(f->root));

        write_file(f->root, "proc/sys/vm/max_map_count", "1000\n");
        write_file(f->root, "sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
        write_file(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n1002\n");
        write_file(f->root, "sys/fs/cgroup/system.slice/" UNIT_B "/cgroup.procs", "2001\n");
        write_file(f->root, "usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        fake_process(f->root, 1001, "worker", 1000, 300, 500);
        fake_process(f->root, 1002, "ingester", 1000, 700, 600);
        fake_process(f->root, 2001, "other", 0, 10, 700);

        c = config_new_default();
        assert_non_null(c);
        c->backend = BACKEND_PROCFS; /* the fixture's pids are not real tasks for BPF to find */
        assert_int_equal(manager_new(f->root, NULL, c, &f->m), 0);
        return f;
}

/* Serves the Manager on FD (one end of a connection) and runs the first pass. */
static void fixture_serve(Fixture *f, int fd) {
        sd_id128_t id;

        assert_int_equal(sd_id128_randomize(&id), 0);
        assert_int_equal(sd_bus_new(&f->server), 0);
        assert_int_equal(sd_bus_set_fd(f->server, fd, fd), 0);
        assert_int_equal(sd_bus_set_server(f->server, 1, id), 0);
        assert_int_equal(sd_bus_set_anonymous(f->server, 1), 0);
        assert_int_equal(sd_bus_negotiate_creds(f->server, 1, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID), 0);
        assert_int_equal(manager_attach_bus(f->m, f->server), 0);
        assert_int_equal(sd_bus_start(f->server), 0);

        assert_int_equal(manager_update_unit(f->m, UNIT_A, "/system.slice/" UNIT_A), 0);
        assert_int_equal(manager_update_unit(f->m, UNIT_B, "/system.slice/" UNIT_B), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
}

static int setup(void **state) {
        Fixture *f = fixture_new();
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
        fixture_serve(f, fds[0]);

        assert_int_equal(sd_bus_new(&f->client), 0);
        assert_int_equal(sd_bus_set_fd(f->client, fds[1], fds[1]), 0);
        assert_int_equal(sd_bus_start(f->client), 0);
        assert_int_equal(sd_bus_attach_event(f->client, f->m->event, 0), 0);

        *state = f;
        return 0;
}

static int setup_bare(void **state) {
        *state = fixture_new();
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        sd_bus_flush_close_unref(f->client);
        sd_bus_unref(f->server);
        manager_free(f->m);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

typedef struct Reply {
        bool done;
        sd_bus_message *message;
} Reply;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Reply *r = userdata;

        r->message = sd_bus_message_ref(m);
        r->done = true;
        return 0;
}

/* Runs the loop until the reply to CALL is there (with a deadline): the server answers in the same loop. */
static sd_bus_message *call_message(Fixture *f, sd_bus_message *call) {
        Reply reply = {};
        int r;

        r = sd_bus_call_async(f->client, NULL, call, on_reply, &reply, 5 * 1000000);
        assert_true(r >= 0);
        for (int i = 0; !reply.done && i < 1000; i++)
                assert_true(sd_event_run(f->m->event, 100000) >= 0);
        assert_true(reply.done);
        return reply.message;
}

static sd_bus_message *call(Fixture *f, const char *path, const char *interface, const char *member,
                            const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;

        assert_int_equal(sd_bus_message_new_method_call(f->client, &m, "org.mapguard1", path, interface, member), 0);
        if (types) {
                va_start(ap, types);
                assert_true(sd_bus_message_appendv(m, types, ap) >= 0);
                va_end(ap);
        }
        return call_message(f, m);
}

static sd_bus_message *manager_call(Fixture *f, const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;

        assert_int_equal(sd_bus_message_new_method_call(f->client, &m, "org.mapguard1", "/org/mapguard1",
                                                        "org.mapguard1.Manager", member),
                         0);
        if (types) {
                va_start(ap, types);
                assert_true(sd_bus_message_appendv(m, types, ap) >= 0);
                va_end(ap);
        }
        return call_message(f, m);
}

static void assert_error(sd_bus_message *reply, const char *name, const char *in_message) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        assert_non_null(e);
        assert_string_equal(e->name, name);
        if (in_message) {
                if (!strstr(e->message, in_message))
                        fail_msg("error message \"%s\" does not mention \"%s\"", e->message, in_message);
        }
}

static sd_bus_message *get_property(Fixture *f, const char *path, const char *interface, const char *property) {
        sd_bus_message *reply = call(f, path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, property);

        assert_null(sd_bus_message_get_error(reply));
        return reply;
}

static uint32_t get_property_u(Fixture *f, const char *path, const char *interface, const char *property) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get_property(f, path, interface, property);
        uint32_t v;

        assert_true(sd_bus_message_read(reply, "v", "u", &v) > 0);
        return v;
}

static void test_properties(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *units = NULL, *backend = NULL, *version = NULL;
        const char *s, *a, *b;

        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 1000);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "TunedMaxMapCount"), 1048576);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 80);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "CriticalPercent"), 95);

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

        h = manager_call(f, "GetHeadroom", NULL);
        assert_null(sd_bus_message_get_error(h));
        assert_true(sd_bus_message_read(h, "susuuus", &unit, &pid, &comm, &count, &max, &room, &level) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_int_equal(pid, 1002);
        assert_string_equal(comm, "ingester");
        assert_int_equal(count, 700); /* 701 lines, the [vsyscall] gate is not a VMA */
        assert_int_equal(max, 1000);
        assert_int_equal(room, 300);
        assert_string_equal(level, "ok");

        l = manager_call(f, "ListUnits", NULL);
        assert_null(sd_bus_message_get_error(l));
        assert_true(sd_bus_message_enter_container(l, 'a', "(sosuuuu)") > 0);
        assert_true(sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_string_equal(path, "/org/mapguard1/unit/a_2eservice");
        assert_string_equal(level, "ok");
        assert_int_equal(n, 2);
        assert_int_equal(worst, 1002);
        assert_int_equal(count, 700);
        assert_int_equal(room, 300);
        assert_true(sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room) > 0);
        assert_string_equal(unit, UNIT_B);
        assert_int_equal(count, 10);
        assert_int_equal(sd_bus_message_read(l, "(sosuuuu)", &unit, &path, &level, &n, &worst, &count, &room), 0);
}

static void check_processes(sd_bus_message *reply) {
        const char *comm, *level;
        uint32_t pid, count, room;
        double growth;
        uint64_t seconds;

        assert_null(sd_bus_message_get_error(reply));
        assert_true(sd_bus_message_enter_container(reply, 'a', "(usuusdt)") > 0);
        assert_true(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &seconds) > 0);
        assert_int_equal(pid, 1001);
        assert_string_equal(comm, "worker");
        assert_int_equal(count, 300);
        assert_int_equal(room, 700);
        assert_string_equal(level, "ok");
        assert_true(growth == 0.0);
        assert_true(seconds == UINT64_MAX);
        assert_true(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &seconds) > 0);
        assert_int_equal(pid, 1002);
        assert_int_equal(count, 700);
        assert_int_equal(sd_bus_message_read(reply, "(usuusdt)", &pid, &comm, &count, &room, &level, &growth, &seconds),
                         0);
}

static void test_list_processes(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *a = NULL, *b = NULL, *bad = NULL, *empty = NULL, *wrong = NULL;

        a = manager_call(f, "ListProcesses", "s", UNIT_A);
        check_processes(a);
        b = call(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "ListProcesses", NULL);
        check_processes(b);

        bad = manager_call(f, "ListProcesses", "s", "nope.service");
        assert_error(bad, SD_BUS_ERROR_INVALID_ARGS, "nope.service");
        empty = manager_call(f, "ListProcesses", "s", "");
        assert_error(empty, SD_BUS_ERROR_INVALID_ARGS, "empty");
        /* A malformed call (wrong signature) is refused, and the daemon goes on answering. */
        wrong = manager_call(f, "ListProcesses", "u", 5);
        assert_error(wrong, SD_BUS_ERROR_INVALID_ARGS, NULL);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 1000);
}

static void test_get_process(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *ok = NULL, *gone = NULL, *zero = NULL;
        const char *unit, *comm, *level;
        uint32_t count, max, room;

        ok = manager_call(f, "GetProcess", "u", 1002);
        assert_null(sd_bus_message_get_error(ok));
        assert_true(sd_bus_message_read(ok, "ssuuus", &unit, &comm, &count, &max, &room, &level) > 0);
        assert_string_equal(unit, UNIT_A);
        assert_string_equal(comm, "ingester");
        assert_int_equal(count, 700);
        assert_int_equal(max, 1000);
        assert_int_equal(room, 300);
        assert_string_equal(level, "ok");

        gone = manager_call(f, "GetProcess", "u", 424242);
        assert_error(gone, SD_BUS_ERROR_INVALID_ARGS, "424242");
        zero = manager_call(f, "GetProcess", "u", 0);
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

        missing = call(f, "/org/mapguard1/unit/nope_2eservice", "org.freedesktop.DBus.Properties", "Get", "ss",
                       "org.mapguard1.Unit", "Name");
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

static void drain(Fixture *f) {
        /* Deliver what the server sent: run until the loop has nothing left to do right now. */
        for (int i = 0; i < 100; i++)
                if (sd_event_run(f->m->event, 0) <= 0)
                        break;
}

static void test_level_changed(void **state) {
        Fixture *f = *state;
        Seen seen = {};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *s1 = NULL, *s2 = NULL;

        assert_true(sd_bus_match_signal(f->client, &s1, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LevelChanged", on_level_changed, &seen) >= 0);
        assert_true(sd_bus_match_signal(f->client, &s2, NULL, "/org/mapguard1/unit/a_2eservice",
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged", on_unit_props,
                                        &seen) >= 0);

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
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "PeakMapCount"),
                         870);
}

/* A process at warning that exits, or whose pid is taken by another process, leaves that level:
 * LevelChanged says so (to "unknown"); the newcomer starts afresh. */
static void test_gone_at_warning(void **state) {
        Fixture *f = *state;
        Seen seen = {};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;

        assert_true(sd_bus_match_signal(f->client, &slot, NULL, "/org/mapguard1", "org.mapguard1.Manager",
                                        "LevelChanged", on_level_changed, &seen) >= 0);
        fake_process(f->root, 1002, "ingester", 1000, 850, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 1);
        assert_string_equal(seen.new_level, "warning");

        /* pid 1002 is now another process (another start time) with few maps */
        fake_process(f->root, 1002, "newcomer", 1000, 100, 900);
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 2);
        assert_int_equal(seen.pid, 1002);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");
        assert_int_equal(f->m->units[0]->level, LEVEL_OK);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "MapCount"), 300);

        /* the newcomer grows into warning and then exits: one more of each */
        fake_process(f->root, 1002, "newcomer", 1000, 900, 900);
        assert_int_equal(manager_scan(f->m, true), 0);
        write_file(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n");
        assert_int_equal(manager_scan(f->m, true), 0);
        drain(f);
        assert_int_equal(seen.level_changed, 4);
        assert_string_equal(seen.old_level, "warning");
        assert_string_equal(seen.new_level, "unknown");
}

/* A process that cannot be read is kept, at level unknown, so the unit does not look empty. */
static void test_unreadable_process(void **state) {
        Fixture *f = *state;
        char path[256];

        if (geteuid() == 0) {
                /* root reads a mode-000 fixture file anyway: make maps a directory instead */
                snprintf(path, sizeof(path), "%s/proc/1001/maps", f->root);
                assert_int_equal(unlink(path), 0);
                assert_int_equal(mkdir(path, 0755), 0);
        } else {
                snprintf(path, sizeof(path), "%s/proc/1001/maps", f->root);
                assert_int_equal(chmod(path, 0), 0);
        }
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Processes"), 2);
        assert_int_equal(f->m->units[0]->procs[0].pid, 1001);
        assert_int_equal(f->m->units[0]->procs[0].level, LEVEL_UNKNOWN);
        assert_string_equal(f->m->units[0]->procs[0].comm, "worker");
        assert_int_equal(f->m->units[0]->worst_pid, 1002);
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
        snprintf(path, sizeof(path), "rm -rf '%s/proc/1001'", f->root);
        assert_int_equal(system(path), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/a_2eservice", "org.mapguard1.Unit", "Processes"), 1);

        /* The whole cgroup vanishes (unit stopped before systemd told us): no processes, no error. */
        snprintf(path, sizeof(path), "rm -rf '%s/sys/fs/cgroup/system.slice/" UNIT_B "'", f->root);
        assert_int_equal(system(path), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "Processes"), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "Headroom"), 1000);
        assert_int_equal(get_property_u(f, "/org/mapguard1/unit/b_2dx_2escope", "org.mapguard1.Unit", "MapCount"), 0);
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

        assert_true(sd_bus_match_signal(f->client, &slot, NULL, "/org/mapguard1", "org.freedesktop.DBus.ObjectManager",
                                        "InterfacesRemoved", on_interfaces_removed, &removed) >= 0);
        manager_remove_unit(f->m, UNIT_B);
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

        write_file(f->root, "proc/sys/vm/max_map_count", "800\n");
        assert_int_equal(manager_scan(f->m, false), 0);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "MaxMapCount"), 800);
        /* 700 of 800 is 87 %: a new limit re-evaluates every process at once. */
        assert_int_equal(f->m->units[0]->level, LEVEL_WARNING);
}

static void test_reload(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *good = NULL, *bad = NULL, *rescan = NULL;

        write_file(f->root, "etc/mapguard/mapguardd.conf", "[Thresholds]\nWarningPercent=70\n");
        good = manager_call(f, "Reload", NULL);
        assert_null(sd_bus_message_get_error(good));
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 70);

        write_file(f->root, "etc/mapguard/mapguardd.conf.d/50-bad.conf", "[Thresholds]\nCriticalPercent=60\n");
        bad = manager_call(f, "Reload", NULL);
        assert_error(bad, SD_BUS_ERROR_FAILED, "50-bad.conf");
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "WarningPercent"), 70);
        assert_int_equal(get_property_u(f, "/org/mapguard1", "org.mapguard1.Manager", "CriticalPercent"), 95);

        rescan = manager_call(f, "Rescan", NULL);
        assert_null(sd_bus_message_get_error(rescan));
}

static void test_recommend(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *r = NULL;
        const char *reason;
        uint32_t value;

        r = manager_call(f, "Recommend", NULL);
        assert_null(sd_bus_message_get_error(r));
        assert_true(sd_bus_message_read(r, "us", &value, &reason) > 0);
        assert_true(value >= 65530);
        assert_non_null(strstr(reason, "MiB"));
}

/* Canonical lines for the org.mapguard1 interfaces of an introspection document: one per member, with
 * its args, type, access and annotations, sorted, so that the XML's order and whitespace don't matter. */
static char *canonical_introspection(const char *xml) {
        char *lines[256];
        size_t n = 0, total = 1;
        const char *p = xml;
        char *out;

        for (;;) {
                const char *iface = strstr(p, "<interface name=\"org.mapguard1.");
                const char *end;

                if (!iface)
                        break;
                end = strstr(iface, "</interface>");
                assert_non_null(end);
                const char *name_end = strchr(iface + 17, '"');
                char ifname[128];
                snprintf(ifname, sizeof(ifname), "%.*s", (int) (name_end - (iface + 17)), iface + 17);

                /* Each member starts at "<method", "<property" or "<signal" and runs to the next one. */
                const char *q = name_end;
                for (;;) {
                        const char *cands[] = { strstr(q, "<method"), strstr(q, "<property"), strstr(q, "<signal") };
                        const char *start = NULL, *next = NULL;
                        for (size_t i = 0; i < 3; i++)
                                if (cands[i] && cands[i] < end && (!start || cands[i] < start))
                                        start = cands[i];
                        if (!start)
                                break;
                        const char *after[] = { strstr(start + 1, "<method"), strstr(start + 1, "<property"),
                                                strstr(start + 1, "<signal") };
                        next = end;
                        for (size_t i = 0; i < 3; i++)
                                if (after[i] && after[i] < next)
                                        next = after[i];

                        /* Keep only tags and attributes, drop whitespace between them. */
                        char buf[4096];
                        size_t b = (size_t) snprintf(buf, sizeof(buf), "%s ", ifname);
                        bool in_tag = false;
                        for (const char *c = start; c < next && b < sizeof(buf) - 2; c++) {
                                if (*c == '<')
                                        in_tag = true;
                                if (in_tag && !(*c == ' ' && (c[1] == ' ' || c[1] == '/' || c[1] == '>')) && *c != '\n')
                                        buf[b++] = *c;
                                if (*c == '>')
                                        in_tag = false;
                        }
                        buf[b] = '\0';
                        /* Closing tags of the member carry no information. */
                        for (char *t; (t = strstr(buf, "</method>")) || (t = strstr(buf, "</property>")) ||
                                      (t = strstr(buf, "</signal>"));)
                                memmove(t, strchr(t, '>') + 1, strlen(strchr(t, '>') + 1) + 1);
                        /* <x .../> and <x ...></x> mean the same. */
                        for (char *t; (t = strstr(buf, "/>"));)
                                memmove(t, t + 1, strlen(t + 1) + 1);
                        assert_true(n < ELEMENTSOF(lines));
                        lines[n] = strdup(buf);
                        total += strlen(buf) + 1;
                        n++;
                        q = next;
                }
                p = end;
        }

        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (strcmp(lines[i], lines[j]) > 0) {
                                char *t = lines[i];
                                lines[i] = lines[j];
                                lines[j] = t;
                        }
        out = calloc(1, total);
        assert_non_null(out);
        for (size_t i = 0; i < n; i++) {
                strcat(out, lines[i]);
                strcat(out, "\n");
                free(lines[i]);
        }
        return out;
}

static char *read_all(const char *path) {
        FILE *fp = fopen(path, "re");
        char *buf;
        long size;

        assert_non_null(fp);
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        size = ftell(fp);
        rewind(fp);
        buf = calloc(1, (size_t) size + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) size, fp), (size_t) size);
        fclose(fp);
        return buf;
}

static void test_introspection_matches_xml(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *mi = NULL, *ui = NULL;
        _cleanup_free_ char *file = NULL, *want = NULL, *got = NULL, *both = NULL;
        const char *src = getenv("MAPGUARD_SOURCE_ROOT"), *xm, *xu;
        char path[512];

        assert_non_null(src);
        snprintf(path, sizeof(path), "%s/dbus/org.mapguard1.xml", src);
        file = read_all(path);
        want = canonical_introspection(file);

        mi = call(f, "/org/mapguard1", "org.freedesktop.DBus.Introspectable", "Introspect", NULL);
        ui = call(f, "/org/mapguard1/unit/a_2eservice", "org.freedesktop.DBus.Introspectable", "Introspect", NULL);
        assert_true(sd_bus_message_read(mi, "s", &xm) > 0);
        assert_true(sd_bus_message_read(ui, "s", &xu) > 0);
        assert_non_null(strstr(xm, "<node name=\"unit\"/>"));
        assert_true(asprintf(&both, "%s%s", xm, xu) > 0);
        got = canonical_introspection(both);

        if (!streq(want, got))
                fail_msg("live introspection differs from dbus/org.mapguard1.xml:\n--- xml\n%s--- live\n%s", want, got);
        assert_non_null(strstr(want, "LevelChanged"));
        assert_non_null(strstr(want, "org.mapguard1.Unit"));
}

/* An unprivileged caller: a child drops to uid 65534 and connects to the daemon over a socket, so that
 * the server sees its real credentials. */
static void test_access_denied(void **state) {
        Fixture *f = *state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int listen_fd, conn_fd, status = -1;
        pid_t child;

        if (geteuid() != 0) {
                print_message("skipped: dropping to another uid needs root\n");
                skip();
        }

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", f->root);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(listen_fd >= 0);
        assert_int_equal(bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(chmod(sa.sun_path, 0777), 0);
        assert_int_equal(chmod(f->root, 0755), 0);
        assert_int_equal(listen(listen_fd, 1), 0);

        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                sd_bus *bus = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char address[300];
                int rescan, reload, get;

                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(10);
                snprintf(address, sizeof(address), "unix:path=%s", sa.sun_path);
                if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, address) < 0 || sd_bus_start(bus) < 0)
                        _exit(11);
                rescan = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Rescan", &e, NULL,
                                            "");
                /* Our own check answers, not only sd-bus's: it names the rule. */
                if (rescan >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "Only root may call Rescan"))
                        _exit(12);
                sd_bus_error_free(&e);
                reload = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Reload", &e, NULL,
                                            "");
                if (reload >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "Only root may call Reload"))
                        _exit(13);
                sd_bus_error_free(&e);
                /* Process 2001 belongs to root: its owner only. 1002 belongs to uid 1000: not us either. */
                get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess", &e, NULL,
                                         "u", 2001);
                if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "owner of process 2001"))
                        _exit(14);
                sd_bus_error_free(&e);
                /* Reading is for everyone. */
                if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ListUnits", &e, NULL,
                                       "") < 0)
                        _exit(15);
                sd_bus_unref(bus);
                _exit(0);
        }

        conn_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(conn_fd >= 0);
        close(listen_fd);
        fixture_serve(f, conn_fd);

        for (int i = 0; i < 500; i++) {
                if (waitpid(child, &status, WNOHANG) == child)
                        break;
                assert_true(sd_event_run(f->m->event, 10000) >= 0);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("unprivileged client failed at step %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
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
                cmocka_unit_test_setup_teardown(test_unreadable_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vanished_and_reused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_come_and_go, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recommend, setup, teardown),
                cmocka_unit_test_setup_teardown(test_introspection_matches_xml, setup, teardown),
                cmocka_unit_test_setup_teardown(test_access_denied, setup_bare, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
