/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the bus tests: the Manager serves on one end of a socket, a client calls it from the
 * other, both driven by the same sd-event loop; /proc, /sys and /etc are a fixture tree. */
#pragma once

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

#include "manager-bus.h"
#include "manager-scan.h"
#include "manager-units.h"
#include "manager-watch.h"
#include "manager.h"
#include "testfs.h"
#include "util.h"

#define UNIT_A "a.service"
#define UNIT_B "b-x.scope"

typedef struct Fixture {
        char root[64];
        Manager *m;
        sd_bus *server, *client;
} Fixture;

/* A fake process PID of UID with MAPS memory maps (plus the gate line, which is not counted). */
static inline void fake_process(const char *root, int pid, const char *comm, unsigned uid, unsigned maps,
                                unsigned long long start_time) {
        char rel[128], buf[512];
        char *content;
        size_t size = (size_t) maps * 80 + 128, off = 0;

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(buf, sizeof(buf),
                 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 %llu 1000000 100 "
                 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                 pid, comm, pid, pid, start_time);
        testfs_write_str(root, rel, buf);

        snprintf(rel, sizeof(rel), "proc/%d/status", pid);
        snprintf(buf, sizeof(buf),
                 "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n", comm, pid,
                 pid, uid, uid, uid, uid);
        testfs_write_str(root, rel, buf);
        /* /proc/PID belongs to the owner of a dumpable process (procfs.c). */
        snprintf(rel, sizeof(rel), "%s/proc/%d", root, pid);
        assert_int_equal(chown(rel, uid, uid), 0);

        snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
        testfs_write_str(root, rel, "0::/system.slice/" UNIT_A "\n");

        content = malloc(size);
        assert_non_null(content);
        for (unsigned i = 0; i < maps; i++)
                off += (size_t) snprintf(content + off, size - off,
                                         "7f%010x000-7f%010x000 r--p 00000000 00:00 0 \n", i * 2, i * 2 + 1);
        off += (size_t) snprintf(
                content + off, size - off,
                "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0      [vsyscall]\n");
        snprintf(rel, sizeof(rel), "proc/%d/maps", pid);
        testfs_write_str(root, rel, content);
        free(content);
}

/* Fake process PID exits: it leaves its cgroup and /proc. */
static inline void fake_exit(const char *root, int pid) {
        char rel[64];
        _cleanup_free_ char *dir = NULL;

        snprintf(rel, sizeof(rel), "proc/%d", pid);
        dir = testfs_path(root, rel);
        testfs_rm_rf(dir);
}

/* The fixture and a Manager watching it, without a bus yet. */
static inline Fixture *fixture_new(void) {
        Fixture *f = calloc(1, sizeof(Fixture));
        Config *c;

        assert_non_null(f);
        strcpy(f->root, "/tmp/mapguard-test-bus-XXXXXX");
        assert_non_null(mkdtemp(f->root));

        testfs_write_str(f->root, "proc/sys/vm/max_map_count", "1000\n");
        testfs_write_str(f->root, "sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "1001\n1002\n");
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_B "/cgroup.procs", "2001\n");
        testfs_write_str(f->root, "usr/lib/sysctl.d/10-mapguard.conf", "vm.max_map_count = 1048576\n");
        fake_process(f->root, 1001, "worker", 1000, 300, 500);
        fake_process(f->root, 1002, "ingester", 1000, 700, 600);
        fake_process(f->root, 2001, "other", 0, 10, 700);

        c = config_new_default();
        assert_non_null(c);
        c->backend = BACKEND_PROCFS; /* the fixture's pids are not real tasks for BPF to find */
        assert_int_equal(manager_new(f->root, NULL, c, &f->m), 0);
        return f;
}

/* Serves the Manager on FD (one end of a connection). */
static inline void fixture_attach(Fixture *f, int fd) {
        sd_id128_t id;

        assert_int_equal(sd_id128_randomize(&id), 0);
        assert_int_equal(sd_bus_new(&f->server), 0);
        assert_int_equal(sd_bus_set_fd(f->server, fd, fd), 0);
        assert_int_equal(sd_bus_set_server(f->server, 1, id), 0);
        assert_int_equal(sd_bus_set_anonymous(f->server, 1), 0);
        assert_int_equal(sd_bus_negotiate_creds(f->server, 1, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID), 0);
        assert_int_equal(manager_attach_bus(f->m, f->server), 0);
        assert_int_equal(sd_bus_start(f->server), 0);
}

/* The fixture's units, and the first pass. */
static inline void fixture_watch(Fixture *f) {
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, "/system.slice/" UNIT_A), 0);
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_B, "/system.slice/" UNIT_B), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
}

/* Serves the Manager on FD (one end of a connection) and runs the first pass. */
static inline void fixture_serve(Fixture *f, int fd) {
        fixture_attach(f, fd);
        fixture_watch(f);
}

/* The Manager served to f->client over a socket pair; no units and no pass yet. */
static inline void fixture_connect(Fixture *f) {
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
        fixture_attach(f, fds[0]);
        assert_int_equal(sd_bus_new(&f->client), 0);
        assert_int_equal(sd_bus_set_fd(f->client, fds[1], fds[1]), 0);
        assert_int_equal(sd_bus_start(f->client), 0);
        assert_int_equal(sd_bus_attach_event(f->client, f->m->event, 0), 0);
}

static inline int setup(void **state) {
        Fixture *f = fixture_new();

        fixture_connect(f);
        fixture_watch(f);
        *state = f;
        return 0;
}

static inline int setup_bare(void **state) {
        *state = fixture_new();
        return 0;
}

static inline int teardown(void **state) {
        Fixture *f = *state;

        sd_bus_flush_close_unref(f->client);
        sd_bus_unref(f->server);
        manager_free(f->m);
        testfs_rm_rf(f->root);
        free(f);
        return 0;
}

typedef struct Reply {
        bool done;
        sd_bus_message *message;
} Reply;

static inline int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Reply *r = userdata;

        r->message = sd_bus_message_ref(m);
        r->done = true;
        return 0;
}

/* Runs the loop until the reply to CALL is there (with a deadline): the server answers in the same loop. */
static inline sd_bus_message *call_message(Fixture *f, sd_bus_message *call) {
        Reply reply = {};
        int r;

        r = sd_bus_call_async(f->client, NULL, call, on_reply, &reply, 5 * 1000000);
        assert_true(r >= 0);
        for (int i = 0; !reply.done && i < 1000; i++)
                assert_true(sd_event_run(f->m->event, 100000) >= 0);
        assert_true(reply.done);
        return reply.message;
}

static inline sd_bus_message *call(Fixture *f, const char *path, const char *interface, const char *member,
                                   const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;

        assert_int_equal(
                sd_bus_message_new_method_call(f->client, &m, "org.mapguard1", path, interface, member), 0);
        if (types) {
                va_start(ap, types);
                assert_true(sd_bus_message_appendv(m, types, ap) >= 0);
                va_end(ap);
        }
        return call_message(f, m);
}

static inline sd_bus_message *client_call_manager(Fixture *f, const char *member, const char *types, ...) {
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

static inline void assert_error(sd_bus_message *reply, const char *name, const char *in_message) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        assert_non_null(e);
        assert_string_equal(e->name, name);
        if (in_message) {
                if (!strstr(e->message, in_message))
                        fail_msg("error message \"%s\" does not mention \"%s\"", e->message, in_message);
        }
}

static inline sd_bus_message *get_property(Fixture *f, const char *path, const char *interface,
                                           const char *property) {
        sd_bus_message *reply =
                call(f, path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, property);

        assert_null(sd_bus_message_get_error(reply));
        return reply;
}

static inline uint32_t get_property_u(Fixture *f, const char *path, const char *interface,
                                      const char *property) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get_property(f, path, interface, property);
        uint32_t v;

        assert_true(sd_bus_message_read(reply, "v", "u", &v) > 0);
        return v;
}

static inline void drain(Fixture *f) {
        /* Deliver what the server sent: run until the loop has nothing left to do right now. */
        for (int i = 0; i < 100; i++)
                if (sd_event_run(f->m->event, 0) <= 0)
                        break;
}

static inline void assert_property_s(Fixture *f, const char *path, const char *interface,
                                     const char *property, const char *expected) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get_property(f, path, interface, property);
        const char *v;

        assert_true(sd_bus_message_read(reply, "v", "s", &v) > 0);
        assert_string_equal(v, expected);
}

/* CLIENT (the bus, USERDATA) runs in a child that dropped to uid and gid 65534 (nobody) and connected over
 * a socket, so that the server sees its real credentials, while the Manager serves it (fixture_serve():
 * the fixture's units, a first pass). CLIENT returns 0, or the number of the step that failed, which
 * fails the test. Skipped when not root. */
typedef int (*UnprivilegedClient)(sd_bus *bus, void *userdata);

static inline void fixture_run_unprivileged(Fixture *f, UnprivilegedClient client, void *userdata) {
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
                char address[300];
                int step;

                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(100);
                snprintf(address, sizeof(address), "unix:path=%s", sa.sun_path);
                if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, address) < 0 || sd_bus_start(bus) < 0)
                        _exit(101);
                step = client(bus, userdata);
                sd_bus_unref(bus);
                _exit(step);
        }

        conn_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(conn_fd >= 0);
        close(listen_fd);
        fixture_serve(f, conn_fd);
        /* The child's connection is the server's whole bus here: once the child is done and gone, the
         * Manager ends its loop as it does when it loses the system bus. Then only wait. */
        for (int i = 0; i < 500; i++) {
                if (waitpid(child, &status, WNOHANG) == child)
                        break;
                if (sd_event_get_state(f->m->event) == SD_EVENT_FINISHED) {
                        assert_int_equal(waitpid(child, &status, 0), child);
                        break;
                }
                assert_true(sd_event_run(f->m->event, 10000) >= 0);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("unprivileged client failed at step %d",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
