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

/* Nobody's client: the privileged methods refuse it with our own message, GetProcess answers it for its
 * own process only. Returns 0 or the step that failed. */
static int access_client(sd_bus *bus, void *userdata) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int rescan, reload, get;

        rescan = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Rescan", &e, NULL,
                                    "");
        /* Our own check answers, not only sd-bus's: it names the rule. */
        if (rescan >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
            !strstr(e.message, "Only root may call Rescan"))
                return 12;
        sd_bus_error_free(&e);
        reload = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "Reload", &e, NULL,
                                    "");
        if (reload >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
            !strstr(e.message, "Only root may call Reload"))
                return 13;
        sd_bus_error_free(&e);
        /* Process 2001 belongs to root: its owner only. 1002 belongs to uid 1000: not us either. */
        get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess", &e,
                                 NULL, "u", 2001);
        if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
            !strstr(e.message, "owner of process 2001"))
                return 14;
        sd_bus_error_free(&e);
        if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess", &e, NULL,
                               "u", 2002) < 0)
                return 16;
        get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess", &e,
                                 NULL, "u", 2003);
        if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ||
            !strstr(e.message, "owner of process 2003"))
                return 17;
        sd_bus_error_free(&e);
        /* Another user's thread: refused, without naming the process it belongs to. */
        get = sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "GetProcess", &e,
                                 NULL, "u", 1003);
        if (get >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) || strstr(e.message, "1002"))
                return 18;
        sd_bus_error_free(&e);
        /* Reading is for everyone. */
        if (sd_bus_call_method(bus, NULL, "/org/mapguard1", "org.mapguard1.Manager", "ListUnits", &e, NULL,
                               "") < 0)
                return 15;
        return 0;
}

static void test_access_denied(void **state) {
        Fixture *f = *state;

        /* 2002 is nobody's, through and through; 2003 is a setuid-root program that nobody started:
         * the kernel refuses its maps to nobody, and so does GetProcess. */
        fake_process(f->root, 2002, "mine", 65534, 10, 800);
        fake_process(f->root, 2003, "setuid", 65534, 10, 900);
        testfs_write_str(f->root, "proc/2003/status",
                         "Name:\tsetuid\nTgid:\t2003\nPid:\t2003\nUid:\t65534\t0\t0\t0\n");
        fake_process(f->root, 1003, "worker-thread", 1000, 850, 600);
        testfs_write_str(f->root, "proc/1003/status",
                         "Name:\tworker-thread\nTgid:\t1002\nPid:\t1003\nUid:\t1000\t1000\t1000\t1000\n");
        fixture_run_unprivileged(f, access_client, NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_introspection_matches_xml, setup, teardown),
                cmocka_unit_test_setup_teardown(test_access_denied, setup_bare, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
