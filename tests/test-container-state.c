/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container-state.c: a Kubernetes container's names from containerd's, CRI-O's and kubelet's state, in
 * that order, on fixture trees holding the files as the runtimes write them. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "container-state.h"
#include "json-annotations.h"
#include "runtime-fixture.h"
#include "testfs.h"
#include "util.h"

#define ID "4098a7d1cb3ce20a3d41bc254c473049b84a63323ccbda031eb73d5c9fff1290"
#define SANDBOX_ID "55bd08155534015012d7992ea0b5d72b273d16e0fb1d75cbfb37875f2e99e9f2"
#define OTHER_ID "7fe3b79dcecda2d3db29af60fc414e003438a381e6e042e674a4eb1a35827f63"

#define CONTAINERD_TASK "run/containerd/io.containerd.runtime.v2.task"
#define CRIO_RUN "run/containers/storage/overlay-containers"
#define CRIO_LIB "var/lib/containers/storage/overlay-containers"
#define LOG_LINK "var/log/containers/ingester-0_mimir_ingester-" ID ".log"

static char *root;

static int setup(void **state) {
        root = testfs_mkdtemp("test-container-state");
        return 0;
}

static int teardown(void **state) {
        testfs_rm_rf(root);
        root = mfree(root);
        return 0;
}

/* The names of ID now, or "-ERRNO". */
static const char *names_of(const char *id) {
        static char buf[512];
        ContainerState s;
        int r = container_state_read(root, id, &s);

        if (r < 0)
                snprintf(buf, sizeof(buf), "%d", r);
        else
                snprintf(buf, sizeof(buf), "%s %s/%s/%s%s", container_state_source_to_string(s.source),
                         s.k8s_namespace, s.k8s_pod, s.k8s_container, s.sandbox ? " sandbox" : "");
        return buf;
}

static void test_containerd(void **state) {
        testfs_write_str(root, CONTAINERD_TASK "/k8s.io/" ID "/config.json",
                         FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        testfs_write_str(root, CONTAINERD_TASK "/k8s.io/" SANDBOX_ID "/config.json",
                         FIXTURE_CONTAINERD_SANDBOX(ID, SANDBOX_ID));
        assert_string_equal(names_of(ID), "containerd mimir/ingester-0/ingester");
        assert_string_equal(names_of(SANDBOX_ID), "containerd mimir/ingester-0/ sandbox");
        assert_string_equal(names_of(OTHER_ID), "-2");
}

/* The id is unique across containerd's namespaces: k8s.io first, then the others (docker's "moby" holds
 * no CRI annotations, so it names nothing). */
static void test_containerd_namespaces(void **state) {
        testfs_write_str(root, CONTAINERD_TASK "/moby/" ID "/config.json", FIXTURE_DOCKER_CONFIG_V2(ID, ""));
        assert_string_equal(names_of(ID), "-2");
        testfs_write_str(root, CONTAINERD_TASK "/custom/" ID "/config.json",
                         FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        assert_string_equal(names_of(ID), "containerd mimir/ingester-0/ingester");
}

static void test_crio(void **state) {
        _cleanup_free_ char *run = NULL;

        testfs_write_str(root, CRIO_RUN "/" ID "/userdata/config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        testfs_write_str(root, CRIO_LIB "/" ID "/userdata/config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        testfs_write_str(root, CRIO_RUN "/" SANDBOX_ID "/userdata/config.json",
                         FIXTURE_CRIO_INFRA(ID, SANDBOX_ID));
        assert_string_equal(names_of(ID), "cri-o (/run) mimir/ingester-0/ingester");
        assert_string_equal(names_of(SANDBOX_ID), "cri-o (/run) mimir/ingester-0/ sandbox");

        /* /run is lost at a reboot; the copy in /var/lib stays until the container is removed. */
        run = testfs_path(root, "run");
        testfs_rm_rf(run);
        assert_string_equal(names_of(ID), "cri-o (/var/lib) mimir/ingester-0/ingester");

        /* CRI-O's infra container is also known by its container name alone. */
        testfs_write_str(
                root, CRIO_LIB "/" SANDBOX_ID "/userdata/config.json",
                "{\"annotations\":{\"io.kubernetes.container.name\":\"POD\",\"io.kubernetes.pod.name\":"
                "\"ingester-0\",\"io.kubernetes.pod.namespace\":\"mimir\"}}");
        assert_string_equal(names_of(SANDBOX_ID), "cri-o (/var/lib) mimir/ingester-0/ sandbox");

        /* Another storage driver: DRIVER-containers. */
        testfs_write_str(root, "var/lib/containers/storage/vfs-containers/" OTHER_ID "/userdata/config.json",
                         FIXTURE_CRIO_APP(OTHER_ID, SANDBOX_ID));
        assert_string_equal(names_of(OTHER_ID), "cri-o (/var/lib) mimir/ingester-0/ingester");
}

static void test_kubelet_log(void **state) {
        testfs_symlink(root, LOG_LINK, "/var/log/pods/mimir_ingester-0_" FIXTURE_POD_UID "/ingester/5.log");
        testfs_symlink(root, "var/log/containers/a.b-0_kube-system_my-side-car-" OTHER_ID ".log", "x");
        assert_string_equal(names_of(ID), "kubelet log link mimir/ingester-0/ingester");
        assert_string_equal(names_of(OTHER_ID), "kubelet log link kube-system/a.b-0/my-side-car");
        assert_string_equal(names_of(SANDBOX_ID), "-2");
}

static void test_kubelet_log_refused(void **state) {
        static const char *const names[] = {
                /* Not a symlink, as kubelet makes them. */
                "ingester-0_mimir_ingester-" ID ".log",
                /* Names that are no Kubernetes names. */
                "Ingester_mimir_ingester-" ID ".log",
                "ingester_mimir_in_gester-" ID ".log",
                "ingester_mimir-" ID ".log",
                "ingester_mimir_-" ID ".log",
                "ingester_mi.mir_x-" ID ".log",
                "ingester_mimir_1234567890123456789012345678901234567890123456789012345678901234-" ID ".log",
                /* Cut short by kubelet's 255-byte limit, or another id. */
                "ingester_mimir_x-" ID ".lo",
                "ingester_mimir_x-" ID "0.log",
                "ingester_mimir_x" ID ".log",
        };

        testfs_write_str(root, "var/log/containers/ingester-0_mimir_ingester-" ID ".log", "a log file\n");
        for (size_t i = 1; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *rel = NULL;

                assert_true(asprintf(&rel, "var/log/containers/%s", names[i]) > 0);
                testfs_symlink(root, rel, "/var/log/pods/x/0.log");
        }
        assert_string_equal(names_of(ID), "-2");
}

/* The first usable source wins; a source that is missing, unusable or whose names are refused passes to
 * the next. */
static void test_order(void **state) {
        const char *containerd = CONTAINERD_TASK "/k8s.io/" ID "/config.json";

        testfs_symlink(root, LOG_LINK, "/var/log/pods/x/0.log");
        assert_string_equal(names_of(ID), "kubelet log link mimir/ingester-0/ingester");
        testfs_write_str(
                root, CRIO_LIB "/" ID "/userdata/config.json",
                "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"lib\",\"io.kubernetes.pod.name\":"
                "\"p\",\"io.kubernetes.container.name\":\"c\"}}");
        assert_string_equal(names_of(ID), "cri-o (/var/lib) lib/p/c");
        testfs_write_str(
                root, CRIO_RUN "/" ID "/userdata/config.json",
                "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"run\",\"io.kubernetes.pod.name\":"
                "\"p\",\"io.kubernetes.container.name\":\"c\"}}");
        assert_string_equal(names_of(ID), "cri-o (/run) run/p/c");
        testfs_write_str(root, containerd, FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        assert_string_equal(names_of(ID), "containerd mimir/ingester-0/ingester");

        /* containerd's file cut short (while written): CRI-O's is next. */
        testfs_write(root, containerd, FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID), 500);
        assert_string_equal(names_of(ID), "cri-o (/run) run/p/c");
        /* CRI-O's keys in containerd's file are not containerd's. */
        testfs_write_str(root, containerd, FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        assert_string_equal(names_of(ID), "cri-o (/run) run/p/c");
}

/* A file is never followed through a symlink, on the way or at its end, nor read when it is no regular
 * file, too big or malformed. */
static void test_refused_files(void **state) {
        _cleanup_free_ char *elsewhere = testfs_path(root, "elsewhere"), *target = NULL, *link = NULL;
        _cleanup_free_ char *fifo = NULL, *big = NULL;

        /* Files that would be read if followed. */
        testfs_write_str(elsewhere, "userdata/config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        testfs_write_str(elsewhere, "containerd.json", FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID));
        target = testfs_path(elsewhere, "containerd.json");
        testfs_symlink(root, CRIO_RUN "/" ID, elsewhere);
        testfs_symlink(root, CONTAINERD_TASK "/k8s.io/" ID "/config.json", target);
        assert_string_equal(names_of(ID), "-2");

        link = testfs_path(root, CRIO_RUN "/" ID);
        assert_int_equal(unlink(link), 0);
        fifo = testfs_path(root, CRIO_RUN "/" ID "/userdata/config.json");
        testfs_mkdir_parents(fifo);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_string_equal(names_of(ID), "-2"); /* and did not block */

        big = malloc(JSON_ANNOTATIONS_FILE_MAX + 2);
        assert_non_null(big);
        memset(big, '\n', JSON_ANNOTATIONS_FILE_MAX + 2);
        memcpy(big, FIXTURE_CRIO_APP(ID, SANDBOX_ID), strlen(FIXTURE_CRIO_APP(ID, SANDBOX_ID)));
        testfs_write(root, CRIO_LIB "/" ID "/userdata/config.json", big, JSON_ANNOTATIONS_FILE_MAX + 1);
        assert_string_equal(names_of(ID), "-2");
        testfs_write(root, CRIO_LIB "/" ID "/userdata/config.json", big, JSON_ANNOTATIONS_FILE_MAX);
        assert_string_equal(names_of(ID), "cri-o (/var/lib) mimir/ingester-0/ingester");
}

static void write_crio_names(const char *namespace, const char *pod, const char *container) {
        _cleanup_free_ char *text = NULL;

        assert_true(asprintf(&text,
                             "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"%s\",\"io.kubernetes.pod."
                             "name\":"
                             "\"%s\",\"io.kubernetes.container.name\":\"%s\"}}",
                             namespace, pod, container) > 0);
        testfs_write_str(root, CRIO_RUN "/" ID "/userdata/config.json", text);
}

/* Every name must be a Kubernetes name: no byte of a file that is not one reaches a unit's name. */
static void test_names_refused(void **state) {
        static const char *const bad[][3] = {
                { "Mimir", "p", "c" },
                { "mimir", "p", "C" },
                { "mi.mir", "p", "c" },
                { "mimir", "p", "c.d" },
                { "mimir", "p..q", "c" },
                { "mimir", "-p", "c" },
                { "mimir", "p-", "c" },
                { "mimir", "p.", "c" },
                { "", "p", "c" },
                { "mimir", "", "c" },
                { "mimir", "p", "" },
                { "mimir", "p", "a\\nb" },
                { "mimir", "p q", "c" },
                { "mimir", "\\u003cscript\\u003e", "c" },
                { "mimir", "p/../q", "c" },
                { "mimir", "p\\u0000q", "c" },
                { "1234567890123456789012345678901234567890123456789012345678901234", "p", "c" },
                { "mimir", "p", "1234567890123456789012345678901234567890123456789012345678901234" },
        };

        write_crio_names("mimir", "p", "c");
        assert_string_equal(names_of(ID), "cri-o (/run) mimir/p/c");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_crio_names(bad[i][0], bad[i][1], bad[i][2]);
                if (!streq(names_of(ID), "-2"))
                        fail_msg("accepted %s/%s/%s", bad[i][0], bad[i][1], bad[i][2]);
        }
        /* The longest names Kubernetes allows. */
        char pod[254];
        memset(pod, 'p', 253);
        pod[253] = '\0';
        for (size_t i = 63; i < 253; i += 64)
                pod[i] = '.';
        write_crio_names("123456789012345678901234567890123456789012345678901234567890123", pod, "c-1");
        assert_int_equal(strlen(names_of(ID)), strlen("cri-o (/run) ") + 63 + 1 + 253 + 1 + 3);
        pod[63] = 'p';
        write_crio_names("mimir", pod, "c");
        assert_string_equal(names_of(ID), "-2");
}

static void test_k8s_names(void **state) {
        assert_true(k8s_name_is_label("a"));
        assert_true(k8s_name_is_label("0-a"));
        assert_false(k8s_name_is_label("a.b"));
        assert_false(k8s_name_is_label(NULL));
        assert_true(k8s_name_is_subdomain("a.b-c.d"));
        assert_false(k8s_name_is_subdomain("a.-b"));
        assert_false(k8s_name_is_subdomain(".a"));
        assert_false(k8s_name_is_subdomain(NULL));
        assert_true(container_id_is_valid(ID));
        assert_false(
                container_id_is_valid("4098A7d1cb3ce20a3d41bc254c473049b84a63323ccbda031eb73d5c9fff1290"));
        assert_false(
                container_id_is_valid("4098a7d1cb3ce20a3d41bc254c473049b84a63323ccbda031eb73d5c9fff129"));
        assert_false(container_id_is_valid(NULL));
}

static void test_invalid(void **state) {
        ContainerState s = { .k8s_pod = "untouched" };

        assert_int_equal(container_state_read(root, "../../../etc", &s), -EINVAL);
        assert_int_equal(container_state_read(root, NULL, &s), -EINVAL);
        assert_int_equal(container_state_read(root, ID, NULL), -EINVAL);
        assert_int_equal(container_state_read(root, ID, &s), -ENOENT);
        assert_string_equal(s.k8s_pod, "untouched");
        assert_null(container_state_source_to_string(_CONTAINER_STATE_SOURCE_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_containerd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_containerd_namespaces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crio, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kubelet_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kubelet_log_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_refused, setup, teardown),
                cmocka_unit_test(test_k8s_names),
                cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
