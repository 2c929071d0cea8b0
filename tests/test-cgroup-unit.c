/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup-unit.c: the unit a control-group path names, the path in a /proc/PID/cgroup file, and what
 * kubelet's and the container runtimes' names say (pod uid, container id). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cgroup-unit.h"
#include "util.h"

#define CONTAINER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_SLICE "kubepods-burstable-pod4b0a8c3e_1f2d_4c5b_9a7e_0d1c2b3a4f5e.slice"
#define POD_CGROUP \
        "/kubepods.slice/kubepods-burstable.slice/" POD_SLICE "/cri-containerd-" CONTAINER ".scope"

static void test_unit_from_path(void **state) {
        static const struct {
                const char *path, *unit;
        } cases[] = {
                { "/system.slice/foo.service", "foo.service" },
                { "/system.slice/foo.service/sub/deeper", "foo.service" },
                { "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service", "user@1000.service" },
                { "/machine.slice/x.scope", "x.scope" },
                { POD_CGROUP, "cri-containerd-" CONTAINER ".scope" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *unit = NULL;

                assert_int_equal(cgroup_unit_from_path(cases[i].path, &unit), 0);
                assert_string_equal(unit, cases[i].unit);
        }
        /* Slices only, or the root: in no unit. */
        char *unit = NULL;
        assert_int_equal(cgroup_unit_from_path("/system.slice", &unit), -ENXIO);
        assert_int_equal(cgroup_unit_from_path("/", &unit), -ENXIO);
        assert_null(unit);
}

/* /proc/PID/cgroup is split at newlines only: a path longer than any line buffer (deep nesting) does
 * not let its tail pass for a line of its own and put the process in another unit. */
static void test_proc_file_path(void **state) {
        _cleanup_free_ char *text = NULL, *path = NULL, *unit = NULL;
        FILE *f;
        size_t size = 0;

        assert_int_equal(cgroup_proc_file_path("0::/a.service\n", 14, true, &path), 0);
        assert_string_equal(path, "/a.service");
        free(path);
        path = NULL;
        assert_int_equal(cgroup_proc_file_path("1:name=systemd:/b:c.service\n0::/\n", 32, false, &path), 0);
        assert_string_equal(path, "/b:c.service");
        free(path);
        path = NULL;
        assert_int_equal(cgroup_proc_file_path("10::/x\n2:cpu:/y\n", 17, true, &path), -ENXIO);
        assert_int_equal(cgroup_proc_file_path("1:xname=systemd:/y\n", 19, false, &path), -ENXIO);
        assert_int_equal(cgroup_proc_file_path("0::/a\0b\n", 8, true, &path), -ENXIO);
        assert_int_equal(cgroup_proc_file_path("", 0, true, &path), -ENXIO);
        assert_null(path);

        f = open_memstream(&text, &size);
        assert_non_null(f);
        fputs("0::/user.slice/user-1000.slice/user@1000.service/", f);
        while (ftell(f) < 4095 - 3)
                fputc('a', f);
        fputs("/", f);
        while (ftell(f) < 4095)
                fputc('b', f);
        fputs("0::/system.slice/victim.service\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(cgroup_proc_file_path(text, size, true, &path), 0);
        assert_int_equal(strncmp(path, "/user.slice/", 12), 0);
        assert_int_equal(cgroup_unit_from_path(path, &unit), 0);
        assert_string_equal(unit, "user@1000.service");
}

static void test_pod_uid(void **state) {
        char uid[CGROUP_UNIT_POD_UID_MAX];

        assert_true(cgroup_unit_pod_uid(POD_CGROUP, uid, sizeof(uid)));
        assert_string_equal(uid, "4b0a8c3e-1f2d-4c5b-9a7e-0d1c2b3a4f5e");
        /* Guaranteed pods sit right below kubepods.slice. */
        assert_true(cgroup_unit_pod_uid("/kubepods.slice/kubepods-podabc_1.slice/crio-x.scope", uid,
                                        sizeof(uid)));
        assert_string_equal(uid, "abc-1");
        /* The unit itself is not its own ancestor; a slice that is not kubepods* is not a pod. */
        assert_false(cgroup_unit_pod_uid("/kubepods.slice/kubepods-podabc.slice", uid, sizeof(uid)));
        assert_false(cgroup_unit_pod_uid("/system.slice/x-podabc.slice/y.scope", uid, sizeof(uid)));
        assert_false(cgroup_unit_pod_uid("/kubepods.slice/kubepods-pod.slice/y.scope", uid, sizeof(uid)));
        assert_false(cgroup_unit_pod_uid("/kubepods.slice/kubepods-pod\"x.slice/y.scope", uid, sizeof(uid)));
        assert_false(cgroup_unit_pod_uid(NULL, uid, sizeof(uid)));
        /* Too long for the buffer: refused, not cut. */
        assert_false(cgroup_unit_pod_uid("/kubepods-podabcdef.slice/y.scope", uid, 6));
}

static void test_container_id(void **state) {
        char id[CGROUP_UNIT_CONTAINER_ID_MAX];

        assert_true(cgroup_unit_container_id("crio-" CONTAINER ".scope", id));
        assert_string_equal(id, CONTAINER);
        assert_true(cgroup_unit_container_id("docker-" CONTAINER ".scope", id));
        assert_false(cgroup_unit_container_id("-" CONTAINER ".scope", id));
        assert_false(cgroup_unit_container_id(CONTAINER ".scope", id));
        assert_false(cgroup_unit_container_id("crio-" CONTAINER ".service", id));
        assert_false(cgroup_unit_container_id("crio-" CONTAINER "0.scope", id));
        assert_false(cgroup_unit_container_id(
                "crio-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
                ".scope",
                id));
        assert_false(cgroup_unit_container_id(NULL, id));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unit_from_path),
                cmocka_unit_test(test_proc_file_path),
                cmocka_unit_test(test_pod_uid),
                cmocka_unit_test(test_container_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
