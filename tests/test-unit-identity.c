/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unit-identity.c: what a watched unit is and the name that survives its restarts, on kubelet's layout
 * (pod slices, a new scope per restart, the runtimes' state files) and a user's login. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "runtime-fixture.h"
#include "testfs.h"
#include "unit-identity.h"
#include "util.h"

#define ID "4098a7d1cb3ce20a3d41bc254c473049b84a63323ccbda031eb73d5c9fff1290"
#define SANDBOX_ID "55bd08155534015012d7992ea0b5d72b273d16e0fb1d75cbfb37875f2e99e9f2"
#define RESTART_ID "7fe3b79dcecda2d3db29af60fc414e003438a381e6e042e674a4eb1a35827f63"
#define LOST_ID "eb056133e38ced3c43b2d22c26c82692362a2c3a342d16d981888ac815cd6108"

#define CONTAINERD_TASK "run/containerd/io.containerd.runtime.v2.task/k8s.io/"
#define CRIO_RUN "run/containers/storage/overlay-containers/"
#define POD FIXTURE_POD_SLICE_DIR

static char *root;

static int setup(void **state) {
        root = testfs_mkdtemp("test-unit-identity");
        return 0;
}

static int teardown(void **state) {
        testfs_rm_rf(root);
        root = mfree(root);
        return 0;
}

static UnitIdentity resolve(const char *unit, const char *cgroup) {
        UnitIdentity id;

        assert_int_equal(unit_identity_resolve(root, unit, cgroup, &id), 0);
        assert_string_equal(id.unit, unit);
        assert_null(memchr(id.name, '\n', sizeof(id.name)));
        return id;
}

static void assert_no_container(const UnitIdentity *id) {
        assert_string_equal(id->k8s_namespace, "");
        assert_string_equal(id->k8s_pod, "");
        assert_string_equal(id->k8s_container, "");
}

static void test_system_unit(void **state) {
        UnitIdentity id = resolve("foo.service", "/system.slice/foo.service");

        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_string_equal(id.name, "foo.service");
        assert_string_equal(id.user_unit, "");
        assert_int_equal(id.owner_uid, UID_INVALID);
        assert_string_equal(id.pod_uid, "");
        assert_string_equal(id.container_id, "");
        assert_string_equal(id.runtime, "");
        assert_no_container(&id);
        /* Without a control group, and escaped in it. */
        id = resolve("foo.service", NULL);
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        id = resolve("cpu.x.service", "/system.slice/_cpu.x.service");
        assert_string_equal(id.name, "cpu.x.service");
        /* A login session is a system unit, and so is the user manager itself. */
        id = resolve("session-3.scope", "/user.slice/user-1001.slice/session-3.scope");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        id = resolve("user@1001.service", "/user.slice/user-1001.slice/user@1001.service");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_int_equal(id.owner_uid, UID_INVALID);
}

/* kubelet restarts a crashed container as a new scope with a new id in the same pod slice: both scopes
 * are the same container. */
static void test_containerd_restart(void **state) {
        UnitIdentity first, second;

        testfs_write_str(root, CONTAINERD_TASK ID "/config.json", FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        testfs_write_str(root, CONTAINERD_TASK RESTART_ID "/config.json",
                         FIXTURE_CONTAINERD_APP(RESTART_ID, SANDBOX_ID));
        first = resolve("cri-containerd-" ID ".scope", POD "/cri-containerd-" ID ".scope");
        second = resolve("cri-containerd-" RESTART_ID ".scope", POD "/cri-containerd-" RESTART_ID ".scope");

        assert_int_equal(first.kind, UNIT_KIND_CONTAINER);
        assert_string_equal(first.name, "mimir/ingester-0/ingester");
        assert_string_equal(first.k8s_namespace, "mimir");
        assert_string_equal(first.k8s_pod, "ingester-0");
        assert_string_equal(first.k8s_container, "ingester");
        assert_string_equal(first.pod_uid, FIXTURE_POD_UID);
        assert_string_equal(first.container_id, ID);
        assert_string_equal(first.runtime, "containerd");
        assert_int_equal(first.owner_uid, UID_INVALID);

        assert_string_equal(second.name, first.name);
        assert_string_equal(second.container_id, RESTART_ID);
        assert_string_equal(second.unit, "cri-containerd-" RESTART_ID ".scope");

        /* crun's sub-cgroup below the scope belongs to it. */
        second = resolve("cri-containerd-" ID ".scope", POD "/cri-containerd-" ID ".scope/container");
        assert_string_equal(second.name, first.name);
}

static void test_sandbox(void **state) {
        UnitIdentity id;

        testfs_write_str(root, CONTAINERD_TASK SANDBOX_ID "/config.json",
                         FIXTURE_CONTAINERD_SANDBOX(ID, SANDBOX_ID));
        id = resolve("cri-containerd-" SANDBOX_ID ".scope", POD "/cri-containerd-" SANDBOX_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_SANDBOX);
        assert_string_equal(id.name, "cri-containerd-" SANDBOX_ID ".scope");
        assert_string_equal(id.k8s_namespace, "mimir");
        assert_string_equal(id.k8s_pod, "ingester-0");
        assert_string_equal(id.k8s_container, "");
        assert_string_equal(id.container_id, SANDBOX_ID);

        testfs_write_str(root, CRIO_RUN SANDBOX_ID "/userdata/config.json",
                         FIXTURE_CRIO_INFRA(ID, SANDBOX_ID));
        id = resolve("crio-" SANDBOX_ID ".scope", POD "/crio-" SANDBOX_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_SANDBOX);
        assert_string_equal(id.runtime, "cri-o");
}

static void test_crio(void **state) {
        UnitIdentity id;

        testfs_write_str(root, CRIO_RUN ID "/userdata/config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        id = resolve("crio-" ID ".scope", POD "/crio-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_CONTAINER);
        assert_string_equal(id.name, "mimir/ingester-0/ingester");
        assert_string_equal(id.runtime, "cri-o");
        assert_string_equal(id.container_id, ID);
}

/* conmon, CRI-O's (and podman's) monitor, has a scope named after its container's id: it is neither that
 * container nor any, wherever it sits. */
static void test_monitor(void **state) {
        UnitIdentity id;

        testfs_write_str(root, CRIO_RUN ID "/userdata/config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        id = resolve("crio-conmon-" ID ".scope", "/system.slice/crio-conmon-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_MONITOR);
        assert_string_equal(id.name, "crio-conmon-" ID ".scope");
        assert_string_equal(id.container_id, "");
        assert_string_equal(id.runtime, "");
        assert_string_equal(id.pod_uid, "");
        assert_no_container(&id);

        id = resolve("crio-conmon-" ID ".scope", POD "/crio-conmon-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_MONITOR);
        assert_string_equal(id.container_id, "");
        assert_string_equal(id.pod_uid, FIXTURE_POD_UID);
        assert_no_container(&id);

        id = resolve("libpod-conmon-" ID ".scope", "/machine.slice/libpod-conmon-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_MONITOR);
        assert_string_equal(id.container_id, "");
}

/* No runtime knows the id (containerd deleted its bundle at the exit): the pod, by the slice's uid. */
static void test_pod_fallback(void **state) {
        _cleanup_free_ char *elsewhere = NULL;
        UnitIdentity id;

        id = resolve("cri-containerd-" LOST_ID ".scope", POD "/cri-containerd-" LOST_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_POD);
        assert_string_equal(id.name, "pod/" FIXTURE_POD_UID);
        assert_string_equal(id.pod_uid, FIXTURE_POD_UID);
        assert_string_equal(id.container_id, LOST_ID);
        assert_no_container(&id);

        /* A Guaranteed pod's slice sits right below kubepods.slice. */
        id = resolve("crio-" LOST_ID ".scope",
                     "/kubepods.slice/kubepods-podabc_1.slice/crio-" LOST_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_POD);
        assert_string_equal(id.name, "pod/abc-1");

        /* A file that is not usable is no source: a symlink, a malformed file, a name that is no DNS label.
         */
        testfs_write_str(root, "elsewhere.json", FIXTURE_CONTAINERD_APP(LOST_ID, SANDBOX_ID));
        elsewhere = testfs_path(root, "elsewhere.json");
        testfs_symlink(root, CONTAINERD_TASK LOST_ID "/config.json", elsewhere);
        testfs_write_str(root, CRIO_RUN LOST_ID "/userdata/config.json", "{\"annotations\":{");
        testfs_write_str(
                root, "var/lib/containers/storage/overlay-containers/" LOST_ID "/userdata/config.json",
                "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"Mimir\",\"io.kubernetes.pod.name\":"
                "\"p\",\"io.kubernetes.container.name\":\"c\"}}");
        id = resolve("cri-containerd-" LOST_ID ".scope", POD "/cri-containerd-" LOST_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_POD);

        /* kubelet's log link outlives the exit. */
        testfs_symlink(root, "var/log/containers/ingester-0_mimir_ingester-" LOST_ID ".log",
                       "/var/log/pods/mimir_ingester-0_" FIXTURE_POD_UID "/ingester/5.log");
        id = resolve("cri-containerd-" LOST_ID ".scope", POD "/cri-containerd-" LOST_ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_CONTAINER);
        assert_string_equal(id.name, "mimir/ingester-0/ingester");
}

/* docker's (and podman's) own containers keep their id across their restarts: system units with it; their
 * state is not read, even where a runtime would name them. */
static void test_outside_pods(void **state) {
        UnitIdentity id;

        testfs_write_str(root, "var/lib/docker/containers/" ID "/config.v2.json",
                         FIXTURE_DOCKER_CONFIG_V2(ID, ""));
        testfs_write_str(root, CONTAINERD_TASK ID "/config.json", FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        id = resolve("docker-" ID ".scope", "/system.slice/docker-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_string_equal(id.name, "docker-" ID ".scope");
        assert_string_equal(id.container_id, ID);
        assert_string_equal(id.runtime, "docker");
        assert_string_equal(id.pod_uid, "");
        assert_no_container(&id);

        id = resolve("libpod-" ID ".scope", "/machine.slice/libpod-" ID ".scope");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_string_equal(id.runtime, "podman");

        /* A pod slice below the unit is its user's making, not kubelet's. */
        id = resolve("cri-containerd-" ID ".scope",
                     "/system.slice/cri-containerd-" ID ".scope/kubepods-podevil.slice/x.scope");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_string_equal(id.pod_uid, "");

        /* Not a container's scope: the id is not 64 lowercase hex, or the type not a scope. */
        id = resolve("docker-" ID "0.scope", "/system.slice/docker-" ID "0.scope");
        assert_string_equal(id.container_id, "");
        id = resolve("crio-" ID ".service", POD "/crio-" ID ".service");
        assert_int_equal(id.kind, UNIT_KIND_SYSTEM);
        assert_string_equal(id.container_id, "");
}

static void test_user_unit(void **state) {
        UnitIdentity id;

        assert_int_equal(
                unit_identity_user("user@1001.service", "grow.service",
                                   "/user.slice/user-1001.slice/user@1001.service/app.slice/grow.service",
                                   &id),
                0);
        assert_int_equal(id.kind, UNIT_KIND_USER);
        assert_string_equal(id.name, "user@1001.service/grow.service");
        assert_string_equal(id.unit, "user@1001.service");
        assert_string_equal(id.user_unit, "grow.service");
        assert_int_equal(id.owner_uid, 1001);
        assert_string_equal(id.pod_uid, "");
        assert_string_equal(id.container_id, "");
        assert_no_container(&id);

        assert_int_equal(unit_identity_user("user@0.service", "init.scope", NULL, &id), 0);
        assert_string_equal(id.name, "user@0.service/init.scope");
        assert_int_equal(id.owner_uid, 0);
        /* A user's own unit named like a container is the user's, and no state is read for it. */
        testfs_write_str(root, CONTAINERD_TASK ID "/config.json", FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        assert_int_equal(unit_identity_user("user@1001.service", "cri-containerd-" ID ".scope", NULL, &id),
                         0);
        assert_int_equal(id.kind, UNIT_KIND_USER);
        assert_string_equal(id.container_id, "");
}

static void test_invalid(void **state) {
        UnitIdentity id = { .name = "untouched" };

        assert_int_equal(unit_identity_resolve(root, NULL, NULL, &id), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", NULL, NULL), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo", NULL, &id), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "system.slice", "/system.slice", &id), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", "system.slice/foo.service", &id),
                         -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", "/system.slice/bar.service", &id),
                         -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", "/../foo.service", &id), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", "/foo.service/..", &id), -EINVAL);
        assert_int_equal(unit_identity_resolve(root, "foo.service", "/", &id), -EINVAL);

        assert_int_equal(
                unit_identity_user("user@1001.service", "grow.service",
                                   "/user.slice/user-1001.slice/user@1002.service/app.slice/grow.service",
                                   &id),
                -EINVAL);
        assert_int_equal(
                unit_identity_user("user@1001.service", "grow.service",
                                   "/user.slice/user-1001.slice/user@1001.service/app.slice/x.service", &id),
                -EINVAL);
        assert_int_equal(unit_identity_user("user@1001.service", "grow.service",
                                            "/user.slice/user-1001.slice/session-3.scope/grow.service", &id),
                         -EINVAL);
        assert_int_equal(
                unit_identity_user(
                        "user@1001.service", "grow.service",
                        "/user.slice/user-1001.slice/user@1001.service/app.slice/grow.service/../..", &id),
                -EINVAL);
        assert_int_equal(unit_identity_user("session-3.scope", "grow.service", NULL, &id), -EINVAL);
        assert_int_equal(unit_identity_user("user@1001.service", "app.slice", NULL, &id), -EINVAL);
        assert_int_equal(unit_identity_user("user@1001.service", "a/b.service", NULL, &id), -EINVAL);
        assert_int_equal(unit_identity_user("user@1001.service", NULL, NULL, &id), -EINVAL);
        assert_string_equal(id.name, "untouched");
}

static void test_kind_names(void **state) {
        static const char *const names[] = { "system", "user", "container", "pod", "sandbox", "monitor" };

        for (UnitKind k = 0; k < _UNIT_KIND_MAX; k++)
                assert_string_equal(unit_kind_to_string(k), names[k]);
        assert_null(unit_kind_to_string(_UNIT_KIND_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_system_unit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_containerd_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crio, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pod_fallback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_outside_pods, setup, teardown),
                cmocka_unit_test_setup_teardown(test_user_unit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
                cmocka_unit_test(test_kind_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
