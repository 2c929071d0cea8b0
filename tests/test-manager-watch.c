/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the watched set is made of (manager-watch.c), over a real bus connection on fixture trees: a user's
 * manager whose units are watched each on its own, and a Kubernetes container watched across the scopes
 * kubelet restarts it in, its pod's pause container not at all. */
#include "bus-fixture.h"
#include "manager-user-log.h"

#define USER_MANAGER "user@1001.service"
#define USER_CGROUP "/user.slice/user-1001.slice/" USER_MANAGER
#define GROW "user@1001.service/grow.service"
#define CALM "user@1001.service/calm.service"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define SANDBOX_ID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define POD_UID "6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f"
#define POD_CGROUP \
        "/kubepods.slice/kubepods-burstable.slice/" \
        "kubepods-burstable-pod6f1e4d2a_9b3c_4c1d_8e7f_0a1b2c3d4e5f.slice"
#define CONTAINER "mimir/ingester-0/ingester"
#define CONTAINER_PATH "/org/mapguard1/unit/mimir_2fingester_2d0_2fingester"

/* A populated cgroup at REL below the fixture's hierarchy, holding PIDS ("" for none of its own). */
static void cgroup(Fixture *f, const char *rel, const char *pids) {
        char path[512];

        snprintf(path, sizeof(path), "sys/fs/cgroup%s/cgroup.events", rel);
        testfs_write_str(f->root, path, "populated 1\nfrozen 0\n");
        snprintf(path, sizeof(path), "sys/fs/cgroup%s/cgroup.procs", rel);
        testfs_write_str(f->root, path, pids);
}

static void user_login(Fixture *f) {
        cgroup(f, USER_CGROUP, "");
        cgroup(f, USER_CGROUP "/init.scope", "3000\n");
        cgroup(f, USER_CGROUP "/app.slice", "");
        cgroup(f, USER_CGROUP "/app.slice/grow.service", "3001\n");
        cgroup(f, USER_CGROUP "/app.slice/calm.service", "3002\n");
        fake_process(f->root, 3000, "systemd", 1001, 40, 300);
        fake_process(f->root, 3001, "grow", 1001, 900, 301);
        fake_process(f->root, 3002, "calm", 1001, 10, 302);
        assert_int_equal(manager_watch_update_unit(f->m, USER_MANAGER, USER_CGROUP), 0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
}

/* A login is not one unit: each of the user's units is watched on its own, under a name that says both,
 * found by its own name too, and with a crash loop of its own. */
static void test_user_units(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *ambiguous = NULL;
        WatchedUnit *grow, *calm;

        user_login(f);
        assert_null(manager_find_unit(f->m, USER_MANAGER));
        grow = manager_find_unit(f->m, GROW);
        calm = manager_find_unit(f->m, CALM);
        assert_non_null(grow);
        assert_non_null(calm);
        assert_non_null(manager_find_unit(f->m, "user@1001.service/init.scope"));
        assert_int_equal(grow->identity.kind, UNIT_KIND_USER);
        assert_string_equal(grow->identity.user_unit, "grow.service");
        assert_int_equal(grow->identity.owner_uid, 1001);
        assert_int_equal(grow->n_procs, 1);
        assert_int_equal(grow->level, LEVEL_WARNING);
        assert_int_equal(calm->level, LEVEL_OK);

        /* mapguardctl show grow.service: by its own name. */
        reply = client_call_manager(f, "ListProcesses", "s", "grow.service");
        assert_null(sd_bus_message_get_error(reply));

        /* Another user's grow.service: the short name fits two, and says so. */
        cgroup(f, "/user.slice/user-1002.slice/user@1002.service", "");
        cgroup(f, "/user.slice/user-1002.slice/user@1002.service/app.slice/grow.service", "3101\n");
        fake_process(f->root, 3101, "grow", 1002, 10, 303);
        assert_int_equal(manager_watch_update_unit(f->m, "user@1002.service",
                                                   "/user.slice/user-1002.slice/user@1002.service"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        ambiguous = client_call_manager(f, "ListProcesses", "s", "grow.service");
        assert_error(ambiguous, SD_BUS_ERROR_INVALID_ARGS, "more than one");

        /* One unit's crash loop quiets that unit, not the login. */
        grow = manager_find_unit(f->m, GROW);
        calm = manager_find_unit(f->m, CALM);
        grow->crash_loop = (CrashLoop){ .hits = 9,
                                        .exits = 4,
                                        .last_hit_usec = now_usec(CLOCK_REALTIME),
                                        .loop_start_usec = now_usec(CLOCK_REALTIME),
                                        .loop_exits = 4 };
        assert_true(crash_loop_quiet(&grow->crash_loop, now_usec(CLOCK_REALTIME)));
        assert_false(crash_loop_quiet(&calm->crash_loop, now_usec(CLOCK_REALTIME)));

        /* calm.service stops: gone from the set; the logout takes the rest. */
        testfs_write_str(f->root, "sys/fs/cgroup" USER_CGROUP "/app.slice/calm.service/cgroup.events",
                         "populated 0\nfrozen 0\n");
        fake_exit(f->root, 3002);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_null(manager_find_unit(f->m, CALM));
        assert_int_equal(manager_watch_update_unit(f->m, USER_MANAGER, ""), 0);
        assert_null(manager_find_unit(f->m, "user@1001.service/init.scope"));
        /* Held: it hit the limit a moment ago (its crash loop above). */
        assert_non_null(manager_find_unit(f->m, GROW));
        assert_true(manager_find_unit(f->m, GROW)->held);
}

static void run_for(Fixture *f, uint64_t usec) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + usec;

        while (now_usec(CLOCK_MONOTONIC) < end)
                assert_true(sd_event_run(f->m->event, 50 * USEC_PER_MSEC) >= 0);
}

/* An entry of the user's manager, as journald stores it. */
static bool user_log(Fixture *f, const char *message_id, const char *job, const char *code,
                     const char *status) {
        return manager_user_log_apply(f->m,
                                      &(UserLogEntry){
                                              .message_id = message_id,
                                              .uid = "1001",
                                              .systemd_unit = USER_MANAGER,
                                              .systemd_user_unit = "init.scope",
                                              .user_unit = "grow.service",
                                              .job_id = job,
                                              .exit_code = code,
                                              .exit_status = status,
                                      });
}

/* systemctl --user stop right after a hit: the manager says "Stopping", the process ends, not counted as
 * an exit at the limit; a crash it reports with its status is counted, with that status. Entries that are
 * not the manager's own are not believed. */
static void test_user_unit_exits(void **state) {
        Fixture *f = *state;

        user_login(f);
        fake_process(f->root, 3001, "grow", 1001, 1000, 301);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_int_equal(manager_find_unit(f->m, GROW)->crash_loop.hits, 1);

        /* Not from the manager's own init.scope, or another user's: ignored. */
        assert_false(manager_user_log_apply(f->m,
                                            &(UserLogEntry){ .message_id = SYSTEMD_MESSAGE_UNIT_STOPPING,
                                                             .uid = "1001",
                                                             .systemd_unit = USER_MANAGER,
                                                             .systemd_user_unit = "grow.service",
                                                             .user_unit = "grow.service",
                                                             .job_id = "7" }));
        assert_false(manager_user_log_apply(f->m,
                                            &(UserLogEntry){ .message_id = SYSTEMD_MESSAGE_UNIT_STOPPING,
                                                             .uid = "1002",
                                                             .systemd_unit = USER_MANAGER,
                                                             .systemd_user_unit = "init.scope",
                                                             .user_unit = "grow.service",
                                                             .job_id = "7" }));
        assert_int_equal(manager_find_unit(f->m, GROW)->asked_stop.start_usec, 0);

        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_STOPPING, "35", NULL, NULL));
        testfs_write_str(f->root, "sys/fs/cgroup" USER_CGROUP "/app.slice/grow.service/cgroup.procs", "");
        fake_exit(f->root, 3001);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_STOPPED, "35", NULL, NULL));
        run_for(f, 2 * USEC_PER_SEC);
        assert_int_equal(manager_find_unit(f->m, GROW)->crash_loop.exits, 0);

        /* Started again, hits the limit, and dies of SIGABRT, as its manager says. */
        testfs_write_str(f->root, "sys/fs/cgroup" USER_CGROUP "/app.slice/grow.service/cgroup.procs",
                         "3005\n");
        fake_process(f->root, 3005, "grow", 1001, 1000, 400);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        testfs_write_str(f->root, "sys/fs/cgroup" USER_CGROUP "/app.slice/grow.service/cgroup.procs", "");
        testfs_write_str(f->root, "sys/fs/cgroup" USER_CGROUP "/app.slice/grow.service/cgroup.events",
                         "populated 0\nfrozen 0\n");
        fake_exit(f->root, 3005);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT, NULL, "dumped", "6"));
        run_for(f, 2 * USEC_PER_SEC);
        assert_int_equal(manager_find_unit(f->m, GROW)->crash_loop.exits, 1);
        assert_string_equal(manager_find_unit(f->m, GROW)->crash_loop.last_exit, "dumped SIGABRT");
        assert_true(manager_find_unit(f->m, GROW)->held);

        /* Stopped while it waits to restart (no "Stopping" then, only "Stopped" of a stop job): let go. */
        assert_true(manager_user_log_apply(f->m,
                                           &(UserLogEntry){ .message_id = SYSTEMD_MESSAGE_UNIT_STOPPED,
                                                            .uid = "1001",
                                                            .systemd_unit = USER_MANAGER,
                                                            .systemd_user_unit = "init.scope",
                                                            .user_unit = "grow.service",
                                                            .job_id = "41",
                                                            .job_type = "stop" }));
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_null(manager_find_unit(f->m, GROW));
}

/* A container's config.json as containerd writes it, for ID in the pod. */
static void containerd_state(Fixture *f, const char *id, const char *type, const char *container) {
        char rel[256], json[2048];

        snprintf(rel, sizeof(rel), "run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json", id);
        snprintf(json, sizeof(json),
                 "{\"ociVersion\":\"1.2.1\",\"process\":{\"args\":[\"/bin/mimir\"],\"cwd\":\"/\"},"
                 "\"annotations\":{%s%s%s\"io.kubernetes.cri.container-type\":\"%s\","
                 "\"io.kubernetes.cri.sandbox-id\":\"" SANDBOX_ID "\","
                 "\"io.kubernetes.cri.sandbox-name\":\"ingester-0\","
                 "\"io.kubernetes.cri.sandbox-namespace\":\"mimir\","
                 "\"io.kubernetes.cri.sandbox-uid\":\"" POD_UID "\"},"
                 "\"linux\":{\"cgroupsPath\":\"x:cri-containerd:%s\"}}",
                 container ? "\"io.kubernetes.cri.container-name\":\"" : "", container ?: "",
                 container ? "\"," : "", type, id);
        testfs_write_str(f->root, rel, json);
}

/* kubelet restarts a crashed container as a new scope with a new id in the same pod slice: it is the same
 * container, its crash loop and counters go on; the pause container is not watched; the container leaves
 * with its pod. */
static void test_container_restarts(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *state_dir = testfs_path(
                                    f->root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID1),
                            *pods = testfs_path(f->root, "sys/fs/cgroup/kubepods.slice");
        WatchedUnit *u;

        cgroup(f, POD_CGROUP, "");
        cgroup(f, POD_CGROUP "/cri-containerd-" SANDBOX_ID ".scope", "4000\n");
        cgroup(f, POD_CGROUP "/cri-containerd-" ID1 ".scope", "4001\n");
        containerd_state(f, SANDBOX_ID, "sandbox", NULL);
        containerd_state(f, ID1, "container", "ingester");
        fake_process(f->root, 4000, "pause", 65535, 5, 500);
        fake_process(f->root, 4001, "mimir", 10001, 1000, 501);

        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" SANDBOX_ID ".scope",
                                                   POD_CGROUP "/cri-containerd-" SANDBOX_ID ".scope"),
                         0);
        assert_null(manager_find_unit_by_systemd_unit(f->m, "cri-containerd-" SANDBOX_ID ".scope"));
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID1 ".scope",
                                                   POD_CGROUP "/cri-containerd-" ID1 ".scope"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        u = manager_find_unit(f->m, CONTAINER);
        assert_non_null(u);
        assert_int_equal(u->identity.kind, UNIT_KIND_CONTAINER);
        assert_string_equal(u->identity.k8s_namespace, "mimir");
        assert_string_equal(u->identity.k8s_pod, "ingester-0");
        assert_string_equal(u->identity.k8s_container, "ingester");
        assert_string_equal(u->identity.pod_uid, POD_UID);
        assert_int_equal(u->crash_loop.hits, 1);
        assert_property_s(f, CONTAINER_PATH, "org.mapguard1.Unit", "SystemdUnit",
                          "cri-containerd-" ID1 ".scope");
        assert_property_s(f, CONTAINER_PATH, "org.mapguard1.Unit", "KubernetesPod", "ingester-0");

        /* It dies at the limit; containerd removes its state at once. */
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID1 ".scope", ""), 0);
        fake_exit(f->root, 4001);
        testfs_write_str(f->root, "sys/fs/cgroup" POD_CGROUP "/cri-containerd-" ID1 ".scope/cgroup.procs",
                         "");
        testfs_rm_rf(state_dir);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        u = manager_find_unit(f->m, CONTAINER);
        assert_non_null(u);
        assert_true(u->held);
        assert_int_equal(u->crash_loop.exits, 1);

        /* kubelet starts it again: a new scope, the same container. */
        cgroup(f, POD_CGROUP "/cri-containerd-" ID2 ".scope", "4002\n");
        containerd_state(f, ID2, "container", "ingester");
        fake_process(f->root, 4002, "mimir", 10001, 1000, 600);
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID2 ".scope",
                                                   POD_CGROUP "/cri-containerd-" ID2 ".scope"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        u = manager_find_unit(f->m, CONTAINER);
        assert_ptr_equal(manager_find_unit_by_systemd_unit(f->m, "cri-containerd-" ID2 ".scope"), u);
        assert_false(u->held);
        assert_true(u->failure.usec > 0); /* restarted: the limit-hit program is armed for it */
        assert_int_equal(u->crash_loop.hits, 2);
        assert_int_equal(u->crash_loop.exits, 1);
        assert_int_equal(f->m->n_units,
                         3); /* UNIT_A, UNIT_B and the container: one unit, not one per scope */

        /* The pod is deleted: its slice goes, and with it the container held at the limit. */
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID2 ".scope", ""), 0);
        fake_exit(f->root, 4002);
        testfs_rm_rf(pods);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_null(manager_find_unit(f->m, CONTAINER));
}

/* The limit-hit program is armed for a container that kubelet restarts in a new scope, so that the next
 * instance of one that died too fast to be read is caught (manager-hits.c): also when it had no hit and
 * was dropped while it had no scope. A container stopped on request (its pod deleted) is not restarting.
 */
static void test_container_restart_arms(void **state) {
        Fixture *f = *state;

        /* The first call completes the client's connection (teardown flushes it). */
        assert_property_s(f, "/org/mapguard1", "org.mapguard1.Manager", "HitCatching", "off");
        f->m->hits.disarm_delay_usec = 0;
        cgroup(f, POD_CGROUP, "");
        cgroup(f, POD_CGROUP "/cri-containerd-" ID1 ".scope", "4001\n");
        containerd_state(f, ID1, "container", "ingester");
        fake_process(f->root, 4001, "mimir", 10001, 10, 501);
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID1 ".scope",
                                                   POD_CGROUP "/cri-containerd-" ID1 ".scope"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_non_null(manager_find_unit(f->m, CONTAINER));
        assert_false(f->m->hits.wanted);

        /* Stopped on request, then a container of that name again: not a restart. */
        manager_units_job_seen(f->m, "cri-containerd-" ID1 ".scope", "deactivating", 9);
        manager_units_job_removed(f->m, "cri-containerd-" ID1 ".scope", 9);
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID1 ".scope", ""), 0);
        assert_null(manager_find_unit(f->m, CONTAINER));
        fake_exit(f->root, 4001);
        cgroup(f, POD_CGROUP "/cri-containerd-" ID2 ".scope", "4002\n");
        containerd_state(f, ID2, "container", "ingester");
        fake_process(f->root, 4002, "mimir", 10001, 10, 600);
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID2 ".scope",
                                                   POD_CGROUP "/cri-containerd-" ID2 ".scope"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_false(f->m->hits.wanted);

        /* It dies, below the limit as far as any read saw: dropped, no hit. */
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID2 ".scope", ""), 0);
        assert_null(manager_find_unit(f->m, CONTAINER));
        fake_exit(f->root, 4002);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_false(f->m->hits.wanted);

        /* kubelet starts it again in a new scope: armed for it. */
        cgroup(f, POD_CGROUP "/cri-containerd-" ID1 ".scope", "4003\n");
        containerd_state(f, ID1, "container", "ingester");
        fake_process(f->root, 4003, "mimir", 10001, 10, 700);
        assert_int_equal(manager_watch_update_unit(f->m, "cri-containerd-" ID1 ".scope",
                                                   POD_CGROUP "/cri-containerd-" ID1 ".scope"),
                         0);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_true(f->m->hits.wanted);
        assert_string_equal(f->m->hits.trigger, CONTAINER " restarted in a new scope");
}

/* A user's unit whose main process fails, as its manager says in the journal, is a trigger: the limit-hit
 * program is armed for its next instance (manager-hits.c). A stop asked for is none. */
static void test_user_unit_failure_arms(void **state) {
        Fixture *f = *state;

        /* The first call completes the client's connection (teardown flushes it). */
        assert_property_s(f, "/org/mapguard1", "org.mapguard1.Manager", "HitCatching", "off");
        f->m->hits.disarm_delay_usec = 0;
        user_login(f);
        fake_process(f->root, 3001, "grow", 1001, 10, 301);
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_false(f->m->hits.wanted);

        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_STOPPING, "35", NULL, NULL));
        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT, NULL, "killed", "15"));
        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_STOPPED, "35", NULL, NULL));
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_false(f->m->hits.wanted);

        assert_true(user_log(f, SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT, NULL, "exited", "1"));
        assert_int_equal(manager_watch_pass(f->m, true), 0);
        assert_true(f->m->hits.wanted);
        assert_string_equal(f->m->hits.trigger, GROW " restarted after a failure (exited 1)");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_user_units, setup, teardown),
                cmocka_unit_test_setup_teardown(test_user_unit_exits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_container_restarts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_container_restart_arms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_user_unit_failure_arms, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
