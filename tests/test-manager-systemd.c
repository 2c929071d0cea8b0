/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Talking to systemd (manager-systemd.c) against a fake systemd: a child process that serves
 * org.freedesktop.systemd1's few calls mapguardd makes, on the other end of a socket pair. */
#include "bus-fixture.h"
#include "manager-systemd.h"
#include "manager-watch.h"

#define FAKE_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

/* The fake systemd's answers: a.service's ControlGroup fails once as PID 1 does while it re-executes
 * (no reply), then comes; gone.service is gone (NoSuchUnit) whenever asked. */
typedef struct FakeSystemd {
        unsigned gets_a, gets_gone;
} FakeSystemd;

static int fake_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        return sd_bus_reply_method_return(m, NULL);
}

static int fake_list_units(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        static const char *const units[] = { "a.service", "gone.service" };
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(units); i++) {
                _cleanup_free_ char *path = NULL;

                r = sd_bus_path_encode(FAKE_UNIT_PREFIX, units[i], &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssssssouso)", units[i], "", "loaded", "active",
                                                  "running", "", path, (uint32_t) 0, "", "/");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int fake_calls(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        FakeSystemd *s = userdata;

        return sd_bus_reply_method_return(m, "uu", s->gets_a, s->gets_gone);
}

static int fake_control_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        FakeSystemd *s = userdata;
        _cleanup_free_ char *unit = NULL;
        char cgroup[256];

        if (sd_bus_path_decode(path, FAKE_UNIT_PREFIX, &unit) <= 0)
                return -EINVAL;
        if (streq(unit, "gone.service")) {
                s->gets_gone++;
                return sd_bus_error_setf(ret_error, "org.freedesktop.systemd1.NoSuchUnit",
                                         "Unit %s not loaded.", unit);
        }
        if (s->gets_a++ == 0)
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_NO_REPLY, "PID 1 is re-executing.");
        snprintf(cgroup, sizeof(cgroup), "/system.slice/%s", unit);
        return sd_bus_message_append(reply, "s", cgroup);
}

static const sd_bus_vtable fake_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Subscribe", "", "", fake_subscribe, 0),
        SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", fake_list_units, 0),
        SD_BUS_METHOD("Calls", "", "uu", fake_calls, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable fake_service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ControlGroup", "s", fake_control_group, 0, 0),
        SD_BUS_VTABLE_END,
};

/* The child: serves FD until the other end goes away. */
static _Noreturn void fake_systemd_run(int fd) {
        FakeSystemd s = {};
        sd_bus *bus = NULL;
        sd_id128_t id;

        if (sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 ||
            sd_bus_set_server(bus, 1, id) < 0 || sd_bus_set_anonymous(bus, 1) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", fake_manager_vtable, &s) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, FAKE_UNIT_PREFIX, "org.freedesktop.systemd1.Service",
                                       fake_service_vtable, NULL, &s) < 0 ||
            sd_bus_start(bus) < 0)
                _exit(1);
        for (;;) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if (sd_bus_wait(bus, UINT64_MAX) < 0)
                        break;
        }
        _exit(0);
}

typedef struct WatchFixture {
        Fixture *f;
        sd_bus *bus; /* the Manager's end: the fake systemd is its peer */
        pid_t child;
} WatchFixture;

static int setup_watch(void **state) {
        WatchFixture *w = calloc(1, sizeof(WatchFixture));
        int fds[2];

        assert_non_null(w);
        w->f = fixture_new();
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        fflush(NULL);
        w->child = fork();
        assert_true(w->child >= 0);
        if (w->child == 0) {
                close(fds[0]);
                fake_systemd_run(fds[1]);
        }
        close(fds[1]);
        assert_int_equal(sd_bus_new(&w->bus), 0);
        assert_int_equal(sd_bus_set_fd(w->bus, fds[0], fds[0]), 0);
        assert_int_equal(sd_bus_start(w->bus), 0);
        assert_int_equal(manager_attach_bus(w->f->m, w->bus), 0);
        *state = w;
        return 0;
}

static int teardown_watch(void **state) {
        WatchFixture *w = *state;
        int status;

        w->f->m = manager_free(w->f->m); /* closes the connection: the child ends */
        sd_bus_unref(w->bus);
        assert_int_equal(waitpid(w->child, &status, 0), w->child);
        testfs_rm_rf(w->f->root);
        free(w->f);
        free(w);
        return 0;
}

/* The first listing meets an error that does not say the unit is gone (PID 1 busy re-executing): the
 * running unit is asked about again and watched, not dropped until its next job; a unit that systemd
 * says is gone is not watched, and not asked about again. */
static void test_initial_listing_retries(void **state) {
        WatchFixture *w = *state;
        Manager *m = w->f->m;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t gets_a = 0, gets_gone = 0;

        assert_true(manager_systemd_start(m) >= 0);
        assert_null(manager_find_unit(m, "a.service"));
        for (int i = 0; !manager_find_unit(m, "a.service") && i < 500; i++)
                assert_true(sd_event_run(m->event, 10 * USEC_PER_MSEC) >= 0);
        assert_non_null(manager_find_unit(m, "a.service"));
        assert_string_equal(manager_find_unit(m, "a.service")->cgroup, "/system.slice/a.service");
        assert_null(manager_find_unit(m, "gone.service"));

        assert_true(sd_bus_call_method(w->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Calls", NULL, &reply, "") >= 0);
        assert_true(sd_bus_message_read(reply, "uu", &gets_a, &gets_gone) > 0);
        assert_int_equal(gets_a, 2);
        assert_int_equal(gets_gone, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_initial_listing_retries, setup_watch, teardown_watch),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
