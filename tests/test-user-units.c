/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-units.c: the units of a user's manager, found in its delegated control-group tree as systemd
 * names them, and a walk that its user can neither mislead nor make endless. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "testfs.h"
#include "user-units.h"
#include "util.h"

#define MANAGER "/user.slice/user-1001.slice/user@1001.service"

static char *base, *hier;

static int setup(void **state) {
        base = testfs_mkdtemp("test-user-units");
        hier = testfs_path(base, "cg");
        return 0;
}

static int teardown(void **state) {
        testfs_rm_rf(base);
        base = mfree(base);
        hier = mfree(hier);
        return 0;
}

/* A cgroup2 directory MANAGER/REL with its cgroup.events. */
static void cgroup_at(const char *rel, bool populated) {
        _cleanup_free_ char *p = NULL;

        assert_true(asprintf(&p, MANAGER "/%s/cgroup.events", rel) > 0);
        testfs_write_str(hier, p, populated ? "populated 1\nfrozen 0\n" : "populated 0\nfrozen 0\n");
}

/* DIR/NAME in a buffer that the next call reuses: for fixtures of thousands of entries. */
static const char *testfs_path_tmp(const char *dir, const char *name) {
        static char buf[4096];

        assert_true((size_t) snprintf(buf, sizeof(buf), "%s/%s", dir, name) < sizeof(buf));
        return buf;
}

/* The units found, "name=cgroup-below-the-manager name=...", and the bounds hit. */
static char *list(unsigned *ret_bounds) {
        UserUnits u = {};
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(user_units_list(hier, MANAGER, &u), 0);
        f = open_memstream(&text, &size);
        assert_non_null(f);
        for (size_t i = 0; i < u.n; i++) {
                assert_int_equal(strncmp(u.units[i].cgroup, MANAGER "/", strlen(MANAGER "/")), 0);
                fprintf(f, "%s%s=%s", i > 0 ? " " : "", u.units[i].name,
                        u.units[i].cgroup + strlen(MANAGER "/"));
        }
        assert_int_equal(fclose(f), 0);
        if (ret_bounds)
                *ret_bounds = u.bounds_hit;
        else
                assert_int_equal(u.bounds_hit, 0);
        assert_int_equal(u.n_skipped, 0);
        user_units_done(&u);
        return text;
}

/* A real login's layout (systemd 252): the manager's own init.scope, services and scopes in app.slice,
 * a nested slice; a session scope is beside the manager, not below it. */
static void test_login(void **state) {
        _cleanup_free_ char *text = NULL;

        testfs_write_str(hier, MANAGER "/cgroup.events", "populated 1\nfrozen 0\n");
        cgroup_at("init.scope", true);
        cgroup_at("app.slice", true);
        cgroup_at("app.slice/grow.service", true);
        cgroup_at("app.slice/grow.service/sub", true); /* its own sub-cgroup: part of it */
        cgroup_at("app.slice/app-game-1234.scope", true);
        cgroup_at("app.slice/app-foo.slice", true);
        cgroup_at("app.slice/app-foo.slice/x.service", true);
        cgroup_at("app.slice/_cpu.x.service", true);
        cgroup_at("app.slice/idle.service", false);
        cgroup_at("session.slice/dbus.service", true);
        testfs_write_str(hier, "/user.slice/user-1001.slice/session-3.scope/cgroup.events", "populated 1\n");
        /* Not units: a directory that is neither slice nor unit hides what is below it, as in systemd; a
         * file, a symlink, a template's name. */
        cgroup_at("junk/hidden.service", true);
        testfs_write_str(hier, MANAGER "/app.slice/file.service", "populated 1\n");
        testfs_symlink(hier, MANAGER "/link.slice", "app.slice");
        testfs_symlink(hier, MANAGER "/link.service", "app.slice/grow.service");
        cgroup_at("tmpl@.service", true);

        text = list(NULL);
        assert_string_equal(text,
                            "app-game-1234.scope=app.slice/app-game-1234.scope "
                            "cpu.x.service=app.slice/_cpu.x.service dbus.service=session.slice/dbus.service "
                            "grow.service=app.slice/grow.service init.scope=init.scope "
                            "x.service=app.slice/app-foo.slice/x.service");
}

/* cgroup v1's name=systemd has no cgroup.events: some cgroup.procs at or below the unit tells. */
static void test_without_events(void **state) {
        _cleanup_free_ char *text = NULL;

        testfs_write_str(hier, MANAGER "/app.slice/a.service/cgroup.procs", "123\n");
        testfs_write_str(hier, MANAGER "/app.slice/b.service/cgroup.procs", "");
        testfs_write_str(hier, MANAGER "/app.slice/b.service/sub/cgroup.procs", "7\n");
        testfs_write_str(hier, MANAGER "/app.slice/c.service/cgroup.procs", "");
        testfs_write_str(hier, MANAGER "/app.slice/c.service/sub/cgroup.procs", "");
        testfs_write_str(hier, MANAGER "/app.slice/d.service/cgroup.events", "frozen 0\n");
        testfs_write_str(hier, MANAGER "/app.slice/d.service/cgroup.procs", "9\n");
        text = list(NULL);
        assert_string_equal(text,
                            "a.service=app.slice/a.service b.service=app.slice/b.service "
                            "d.service=app.slice/d.service");
}

/* Only a user's mkdir makes a name twice: it is listed once, with the path that sorts first. */
static void test_duplicate(void **state) {
        _cleanup_free_ char *text = NULL;

        cgroup_at("zz.slice/dup.service", true);
        cgroup_at("app.slice/dup.service", true);
        cgroup_at("b.slice/_dup.service", true);
        text = list(NULL);
        assert_string_equal(text, "dup.service=app.slice/dup.service");
}

static void test_invalid(void **state) {
        UserUnits u = { .n = 42 };

        testfs_write_str(hier, "/system.slice/foo.service/cgroup.events", "populated 1\n");
        assert_int_equal(user_units_list(hier, "/system.slice/foo.service", &u), -EINVAL);
        assert_int_equal(user_units_list(hier, "user.slice/user@1001.service", &u), -EINVAL);
        assert_int_equal(user_units_list(hier, MANAGER "/app.slice", &u), -EINVAL);
        assert_int_equal(user_units_list(hier, MANAGER "/..", &u), -EINVAL);
        assert_int_equal(
                user_units_list(hier, "/user.slice/user@1001.service/../../system.slice/foo.service", &u),
                -EINVAL);
        assert_int_equal(user_units_list(NULL, MANAGER, &u), -EINVAL);
        assert_int_equal(user_units_list(hier, MANAGER, &u), -ENOENT);
        assert_int_equal(u.n, 42);

        /* Trailing slashes are fine. */
        cgroup_at("init.scope", true);
        assert_int_equal(user_units_list(hier, MANAGER "/", &u), 0);
        assert_int_equal(u.n, 1);
        assert_string_equal(u.units[0].cgroup, MANAGER "/init.scope");
        user_units_done(&u);
        user_units_done(NULL);
}

/* 5000 slices: the walk stops at USER_UNITS_DIRS_MAX directories and says so. */
static void test_many_slices(void **state) {
        _cleanup_free_ char *text = NULL;
        unsigned bounds = 0;

        cgroup_at("a.slice/first.service", true);
        for (unsigned i = 0; i < 50; i++) {
                _cleanup_free_ char *parent = NULL, *rel = NULL;

                assert_true(asprintf(&rel, MANAGER "/s%u.slice", i) > 0);
                parent = testfs_mkdir_p(hier, rel);
                for (unsigned j = 0; j < 100; j++) {
                        char name[32];

                        snprintf(name, sizeof(name), "s%u-%u.slice", i, j);
                        assert_int_equal(mkdirat(AT_FDCWD, testfs_path_tmp(parent, name), 0755), 0);
                }
        }
        text = list(&bounds);
        assert_int_equal(bounds, USER_UNITS_BOUND_DIRS);
}

/* One directory of 5000 entries is read up to USER_UNITS_ENTRIES_MAX. */
static void test_wide_directory(void **state) {
        _cleanup_free_ char *text = NULL, *app = NULL;
        unsigned bounds = 0;

        cgroup_at("init.scope", true);
        app = testfs_mkdir_p(hier, MANAGER "/app.slice");
        for (unsigned i = 0; i < 5000; i++) {
                char name[32];
                int fd;

                snprintf(name, sizeof(name), "f%u", i);
                fd = open(testfs_path_tmp(app, name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
        text = list(&bounds);
        assert_int_equal(bounds, USER_UNITS_BOUND_ENTRIES);
        assert_string_equal(text, "init.scope=init.scope");
}

/* Slices USER_UNITS_DEPTH_MAX deep are entered, deeper ones are not. */
static void test_deep(void **state) {
        _cleanup_free_ char *text = NULL, *deep = NULL;
        char rel[4096] = "";
        unsigned bounds = 0;

        for (unsigned i = 1; i <= USER_UNITS_DEPTH_MAX + 4; i++) {
                char unit[sizeof(rel) + 64];

                snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "%sd%u.slice", i > 1 ? "/" : "", i);
                snprintf(unit, sizeof(unit), "%s/u%u.service", rel, i);
                cgroup_at(unit, true);
        }
        text = list(&bounds);
        assert_int_equal(bounds, USER_UNITS_BOUND_DEPTH);
        assert_non_null(strstr(text, "u16.service="));
        assert_null(strstr(text, "u17.service="));
        assert_true(asprintf(&deep, "u%u.service=", USER_UNITS_DEPTH_MAX) > 0);
        assert_non_null(strstr(text, deep));
}

static void test_many_units(void **state) {
        UserUnits u = {};

        for (unsigned i = 0; i < USER_UNITS_MAX + 88; i++) {
                char rel[64];

                snprintf(rel, sizeof(rel), "app.slice/u%u.service", i);
                cgroup_at(rel, true);
        }
        assert_int_equal(user_units_list(hier, MANAGER, &u), 0);
        assert_int_equal(u.n, USER_UNITS_MAX);
        assert_int_equal(u.bounds_hit, USER_UNITS_BOUND_UNITS);
        for (size_t i = 1; i < u.n; i++)
                assert_true(strcmp(u.units[i - 1].name, u.units[i].name) < 0);
        user_units_done(&u);
}

#define CHILD_CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "# %s:%d: %s failed\n", __FILE__, __LINE__, #expr); \
                        _exit(1); \
                } \
        } while (0)

/* Runs FN in a child as uid 65534, for whom mode 000 means something (root reads anything). Returns false
 * when that cannot be arranged. */
static bool run_as_nobody(void (*fn)(void)) {
        pid_t pid;
        int status;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(77);
                fn();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                return false;
        assert_int_equal(WEXITSTATUS(status), 0);
        return true;
}

static void unreadable_as_nobody(void) {
        UserUnits u = {};

        CHILD_CHECK(user_units_list(hier, MANAGER, &u) == 0);
        CHILD_CHECK(u.n == 2);
        CHILD_CHECK(streq(u.units[0].name, "grow.service") && streq(u.units[1].name, "init.scope"));
        CHILD_CHECK(u.n_skipped == 2 && u.skipped_error == -EACCES);
        CHILD_CHECK(streq(u.skipped_path, MANAGER "/app.slice/secret.slice") ||
                    streq(u.skipped_path, MANAGER "/app.slice/locked.service"));
        CHILD_CHECK(u.bounds_hit == 0);
        user_units_done(&u);
}

/* The tree is its user's: a slice or unit made mode 000 is skipped and said, the rest is listed. */
static void test_unreadable(void **state) {
        _cleanup_free_ char *secret = NULL, *locked = NULL;

        if (geteuid() != 0) {
                print_message(
                        "# not root: cannot switch to uid 65534 to make mode 000 effective, skipping\n");
                skip();
        }
        cgroup_at("init.scope", true);
        cgroup_at("app.slice/grow.service", true);
        cgroup_at("app.slice/secret.slice/hidden.service", true);
        cgroup_at("app.slice/locked.service", true);
        secret = testfs_path(hier, MANAGER "/app.slice/secret.slice");
        locked = testfs_path(hier, MANAGER "/app.slice/locked.service");
        assert_int_equal(chmod(secret, 0000), 0);
        assert_int_equal(chmod(locked, 0000), 0);
        if (!run_as_nobody(unreadable_as_nobody)) {
                print_message("# cannot switch to uid 65534, skipping\n");
                skip();
        }
        assert_int_equal(chmod(secret, 0755), 0);
        assert_int_equal(chmod(locked, 0755), 0);
}

/* A bind mount of the manager's tree inside itself (a loop) is not entered. */
static void test_bind_loop(void **state) {
        _cleanup_free_ char *manager = NULL, *loop = NULL;
        pid_t pid;
        int status;

        cgroup_at("init.scope", true);
        cgroup_at("app.slice/grow.service", true);
        manager = testfs_path(hier, MANAGER);
        loop = testfs_mkdir_p(hier, MANAGER "/app.slice/loop.slice");

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                UserUnits u = {};

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(manager, loop, NULL, MS_BIND, NULL) < 0)
                        _exit(77);
                CHILD_CHECK(user_units_list(hier, MANAGER, &u) == 0);
                CHILD_CHECK(u.n == 2 && u.bounds_hit == 0);
                CHILD_CHECK(streq(u.units[0].cgroup, MANAGER "/app.slice/grow.service"));
                CHILD_CHECK(streq(u.units[1].cgroup, MANAGER "/init.scope"));
                user_units_done(&u);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                print_message("# cannot bind-mount in a new mount namespace (not root?), skipping\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_login, setup, teardown),
                cmocka_unit_test_setup_teardown(test_without_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_slices, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wide_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deep, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_units, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_loop, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
