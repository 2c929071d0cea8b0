/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unit-name.c: systemd's unit-name rules, and the unit and user unit a control-group path names. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "unit-name.h"
#include "util.h"

#define USER_PATH "/user.slice/user-1001.slice/user@1001.service"

static bool valid(const char *name) {
        return unit_name_is_valid(name, strlen(name));
}

static void test_is_valid(void **state) {
        char long_name[UNIT_NAME_MAX + 8];

        assert_true(valid("grow.service"));
        assert_true(valid("app-game-1234.scope"));
        assert_true(valid("getty@tty1.service"));
        assert_true(valid("user@1001.service"));
        assert_true(valid("a:b_c\\x2d.d.mount"));
        assert_true(valid("app.slice"));
        /* A template never runs; "@" needs a prefix; the type must be known. */
        assert_false(valid("getty@.service"));
        assert_false(valid("@tty1.service"));
        assert_false(valid("x.unknown"));
        assert_false(valid(".service"));
        assert_false(valid("service"));
        assert_false(valid("a b.service"));
        assert_false(valid("a/b.service"));
        assert_false(valid("a\nb.service"));
        assert_false(valid(""));
        /* The length limit: 255 bytes. */
        memset(long_name, 'a', sizeof(long_name));
        memcpy(long_name + 255 - strlen(".service"), ".service", strlen(".service") + 1);
        assert_true(valid(long_name));
        memset(long_name, 'a', sizeof(long_name));
        memcpy(long_name + 256 - strlen(".service"), ".service", strlen(".service") + 1);
        assert_false(valid(long_name));
        /* LEN, not the NUL, ends the name. */
        assert_true(unit_name_is_valid("x.servicefoo", strlen("x.service")));
}

static void test_components(void **state) {
        char buf[UNIT_NAME_MAX];

        assert_true(unit_name_component_is_slice("app.slice", 9));
        assert_true(unit_name_component_is_slice("_app.slice", 10));
        assert_false(unit_name_component_is_slice("a@b.slice", 9));
        assert_false(unit_name_component_is_slice("x.service", 9));
        assert_false(unit_name_component_is_slice(".slice", 6));

        /* systemd escapes a name that clashes with the kernel's files with a leading '_'. */
        assert_true(unit_name_from_component("_cpu.x.service", 14, buf));
        assert_string_equal(buf, "cpu.x.service");
        assert_true(unit_name_from_component("init.scope/more", 10, buf));
        assert_string_equal(buf, "init.scope");
        strcpy(buf, "untouched");
        assert_false(unit_name_from_component("app.slice", 9, buf));
        assert_false(unit_name_from_component("container", 9, buf));
        assert_false(unit_name_from_component("cgroup.procs", 12, buf));
        assert_string_equal(buf, "untouched");
}

static void test_user_manager(void **state) {
        uid_t uid = 42;

        assert_true(unit_name_is_user_manager("user@1001.service", &uid));
        assert_int_equal(uid, 1001);
        assert_true(unit_name_is_user_manager("user@0.service", &uid));
        assert_int_equal(uid, 0);
        assert_true(unit_name_is_user_manager("user@4294967294.service", &uid));
        assert_int_equal(uid, 4294967294U);
        assert_true(unit_name_is_user_manager("user@1.service", NULL));
        uid = 42;
        assert_false(unit_name_is_user_manager("user@4294967295.service", &uid));
        assert_false(unit_name_is_user_manager("user@65535.service", &uid));
        assert_false(unit_name_is_user_manager("user@99999999999.service", &uid));
        assert_false(unit_name_is_user_manager("user@01001.service", &uid));
        assert_false(unit_name_is_user_manager("user@-1.service", &uid));
        assert_false(unit_name_is_user_manager("user@+1.service", &uid));
        assert_false(unit_name_is_user_manager("user@.service", &uid));
        assert_false(unit_name_is_user_manager("user@me.service", &uid));
        assert_false(unit_name_is_user_manager("user@1001.scope", &uid));
        assert_false(unit_name_is_user_manager("user-runtime-dir@1001.service", &uid));
        assert_false(unit_name_is_user_manager("user@1001.service/x", &uid));
        assert_false(unit_name_is_user_manager(NULL, &uid));
        assert_int_equal(uid, 42);
}

static void test_of_cgroup_path(void **state) {
        static const struct {
                const char *path, *unit, *rest;
        } cases[] = {
                { "/system.slice/foo.service", "foo.service", "" },
                { "/system.slice/foo.service/sub/deeper", "foo.service", "/sub/deeper" },
                { "//system.slice//foo.service", "foo.service", "" },
                { "/init.scope", "init.scope", "" },
                { USER_PATH "/app.slice/grow.service", "user@1001.service", "/app.slice/grow.service" },
                { "/system.slice/_cpu.x.service", "cpu.x.service", "" },
        };
        char buf[UNIT_NAME_MAX];
        const char *rest;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(unit_name_of_cgroup_path(cases[i].path, buf, &rest), 0);
                assert_string_equal(buf, cases[i].unit);
                assert_string_equal(rest, cases[i].rest);
        }
        /* After the slices comes the unit or nothing: systemd does not look further. */
        strcpy(buf, "untouched");
        assert_int_equal(unit_name_of_cgroup_path("/", buf, NULL), -ENXIO);
        assert_int_equal(unit_name_of_cgroup_path("/system.slice", buf, NULL), -ENXIO);
        assert_int_equal(unit_name_of_cgroup_path("/system.slice/x/foo.service", buf, NULL), -ENXIO);
        assert_int_equal(unit_name_of_cgroup_path("/a@b.slice/foo.service", buf, NULL), -ENXIO);
        assert_int_equal(unit_name_of_cgroup_path(NULL, buf, NULL), -EINVAL);
        assert_string_equal(buf, "untouched");
}

/* The layouts of a real login (systemd 252): the user manager's units, and what is not one. */
static void test_user_unit_of_cgroup_path(void **state) {
        static const struct {
                const char *path, *unit;
        } cases[] = {
                { USER_PATH "/app.slice/grow.service", "grow.service" },
                { USER_PATH "/app.slice/grow.service/sub", "grow.service" },
                { USER_PATH "/app.slice/app-game-1234.scope", "app-game-1234.scope" },
                { USER_PATH "/init.scope", "init.scope" },
                { USER_PATH "/app.slice/app-foo.slice/x.service", "x.service" },
                { USER_PATH "/session.slice/dbus.service", "dbus.service" },
                { "/user@0.service/y.service", "y.service" },
        };
        char manager[UNIT_NAME_MAX], unit[UNIT_NAME_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(unit_name_user_unit_of_cgroup_path(cases[i].path, manager, unit), 0);
                assert_string_equal(unit, cases[i].unit);
        }
        assert_string_equal(manager, "user@0.service");

        strcpy(manager, "untouched");
        strcpy(unit, "untouched");
        /* A login session is a system unit; so is the manager itself with nothing below it. */
        assert_int_equal(unit_name_user_unit_of_cgroup_path("/user.slice/user-1001.slice/session-3.scope",
                                                            manager, unit),
                         -ENXIO);
        assert_int_equal(unit_name_user_unit_of_cgroup_path(USER_PATH, manager, unit), -ENXIO);
        assert_int_equal(unit_name_user_unit_of_cgroup_path(USER_PATH "/app.slice", manager, unit), -ENXIO);
        assert_int_equal(unit_name_user_unit_of_cgroup_path(USER_PATH "/junk/x.service", manager, unit),
                         -ENXIO);
        assert_int_equal(
                unit_name_user_unit_of_cgroup_path("/system.slice/foo.service/x.service", manager, unit),
                -ENXIO);
        assert_int_equal(
                unit_name_user_unit_of_cgroup_path("/user.slice/user@01.service/x.service", manager, unit),
                -ENXIO);
        assert_string_equal(manager, "untouched");
        assert_string_equal(unit, "untouched");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_is_valid),
                cmocka_unit_test(test_components),
                cmocka_unit_test(test_user_manager),
                cmocka_unit_test(test_of_cgroup_path),
                cmocka_unit_test(test_user_unit_of_cgroup_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
