/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The D-Bus contract: the live introspection is dbus/org.mapguard1.xml, and the privileged methods
 * refuse a caller of another uid with our own message. */
#include "bus-fixture.h"

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
                        const char *cands[] = { strstr(q, "<method"), strstr(q, "<property"),
                                                strstr(q, "<signal") };
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
                                if (in_tag && !(*c == ' ' && (c[1] == ' ' || c[1] == '/' || c[1] == '>')) &&
                                    *c != '\n')
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
        ui = call(f, "/org/mapguard1/unit/a_2eservice", "org.freedesktop.DBus.Introspectable", "Introspect",
                  NULL);
        assert_true(sd_bus_message_read(mi, "s", &xm) > 0);
        assert_true(sd_bus_message_read(ui, "s", &xu) > 0);
        assert_non_null(strstr(xm, "<node name=\"unit\"/>"));
        assert_true(asprintf(&both, "%s%s", xm, xu) > 0);
        got = canonical_introspection(both);

        if (!streq(want, got))
                fail_msg("live introspection differs from dbus/org.mapguard1.xml:\n--- xml\n%s--- live\n%s",
                         want, got);
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

        /* 2002 is nobody's, through and through; 2003 is a setuid-root program that nobody started:
         * the kernel refuses its maps to nobody, and so does GetProcess. */
        fake_process(f->root, 2002, "mine", 65534, 10, 800);
        fake_process(f->root, 2003, "setuid", 65534, 10, 900);
        testfs_write_str(f->root, "proc/2003/status",
                         "Name:\tsetuid\nTgid:\t2003\nPid:\t2003\nUid:\t65534\t0\t0\t0\n");

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
                rescan = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Rescan",
                                            &e, NULL, "");
                /* Our own check answers, not only sd-bus's: it names the rule. */
                if (rescan >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "Only root may call Rescan"))
                        _exit(12);
                sd_bus_error_free(&e);
                reload = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Reload",
                                            &e, NULL, "");
                if (reload >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "Only root may call Reload"))
                        _exit(13);
                sd_bus_error_free(&e);
                /* Process 2001 belongs to root: its owner only. 1002 belongs to uid 1000: not us either. */
                get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess",
                                         &e, NULL, "u", 2001);
                if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "owner of process 2001"))
                        _exit(14);
                sd_bus_error_free(&e);
                if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess",
                                       &e, NULL, "u", 2002) < 0)
                        _exit(16);
                get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess",
                                         &e, NULL, "u", 2003);
                if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
                    !strstr(e.message, "owner of process 2003"))
                        _exit(17);
                sd_bus_error_free(&e);
                /* Reading is for everyone. */
                if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ListUnits", &e,
                                       NULL, "") < 0)
                        _exit(15);
                sd_bus_unref(bus);
                _exit(0);
        }

        conn_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(conn_fd >= 0);
        close(listen_fd);
        fixture_serve(f, conn_fd);

        /* The client's connection is the server's whole bus here: once the client is done and gone,
         * the Manager ends its loop as it does when it loses the system bus. Then only wait. */
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_introspection_matches_xml, setup, teardown),
                cmocka_unit_test_setup_teardown(test_access_denied, setup_bare, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
