/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When the limit-hit program is armed (manager-hits.c), over a real bus connection on fixture trees
 * (bus-fixture.h): the triggers a pass finds and the one it names, the delay before disarming, what
 * HitCatching says when hits are observed, and a read that observes a hit while the program is disarmed.
 * The fixture has no BPF (Backend=procfs, its pids are not real tasks): the pass decides all the same
 * whether catching is wanted, and why (m->hits.wanted, m->hits.trigger), which is what these tests read;
 * attaching and detaching in the kernel is test-bpf-hits's and e2e-hits-bpf's. The users' units and the
 * containers, which need more of a fixture, are in test-manager-watch.c. */
#include "bus-fixture.h"
#include "limit-hit.h"
#include "manager-exits.h"
#include "manager-hits.h"

#define MANAGER_PATH "/org/mapguard1"
#define MANAGER_IF "org.mapguard1.Manager"
#define UNIT_A_PATH "/org/mapguard1/unit/a_2eservice"
#define UNIT_IF "org.mapguard1.Unit"

/* Asserts that the last pass wants the program armed because TRIGGER holds now (NULL: that no trigger
 * holds and nothing is wanted). */
static void assert_trigger(Fixture *f, const char *trigger) {
        if (!trigger) {
                assert_false(f->m->hits.trigger_holds);
                assert_false(f->m->hits.wanted);
                return;
        }
        assert_true(f->m->hits.trigger_holds);
        assert_true(f->m->hits.wanted);
        assert_non_null(f->m->hits.trigger);
        assert_string_equal(f->m->hits.trigger, trigger);
}

static uint64_t get_property_t(Fixture *f, const char *path, const char *interface, const char *property) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get_property(f, path, interface, property);
        uint64_t v;

        assert_true(sd_bus_message_read(reply, "v", "t", &v) > 0);
        return v;
}

/* Hits are observed in this fixture: whatever the pass wants, HitCatching says "off". Also the test's first
 * call, which completes the client's connection (teardown flushes it). */
static void assert_off(Fixture *f) {
        assert_property_s(f, MANAGER_PATH, MANAGER_IF, "HitCatching", "off");
}

/* Sets the maps of process 1002 of a.service (started at 600) to MAPS, and runs a pass over everything. */
static void ingester_at(Fixture *f, unsigned maps) {
        fake_process(f->root, 1002, "ingester", 1000, maps, 600);
        assert_int_equal(manager_scan(f->m, true), 0);
}

/* Hits observed (no BPF backend): HitCatching says so and why; the fixture's processes are far from the
 * limit (700 and 10 of 1000), so no trigger holds. */
static void test_off_and_nothing_near(void **state) {
        Fixture *f = *state;

        assert_property_s(f, MANAGER_PATH, MANAGER_IF, "HitDetection", "observed");
        assert_property_s(f, MANAGER_PATH, MANAGER_IF, "HitCatching", "off");
        assert_property_s(f, MANAGER_PATH, MANAGER_IF, "HitCatchingReason", "the BPF backend is not in use");
        assert_trigger(f, NULL);
        assert_null(f->m->hits.trigger);
}

/* A process at warning (800 of 1000) arms, at critical too, each named; back to ok, catching stays
 * wanted for the delay after the last trigger held, and is no longer wanted once the delay has passed
 * (the tests shorten it rather than wait: never a timed assertion). */
static void test_warning_arms_until_the_delay(void **state) {
        Fixture *f = *state;

        assert_off(f);
        ingester_at(f, 850);
        assert_trigger(f, UNIT_A " at warning");
        ingester_at(f, 960);
        assert_trigger(f, UNIT_A " at critical");

        f->m->hits.disarm_delay_usec = 3600 * USEC_PER_SEC;
        ingester_at(f, 700);
        assert_int_equal(f->m->units[0]->level, LEVEL_OK);
        assert_false(f->m->hits.trigger_holds);
        assert_true(f->m->hits.wanted);
        assert_string_equal(f->m->hits.trigger, UNIT_A " at critical"); /* the last one that held */

        f->m->hits.disarm_delay_usec = 0;
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);

        /* It comes back: armed again at once. */
        ingester_at(f, 850);
        assert_trigger(f, UNIT_A " at warning");
}

/* A process below warning that grows fast enough to reach the limit within IntervalSec at its growth is
 * a trigger; one that needs longer than IntervalSec is not. */
static void test_predicted_arms(void **state) {
        Fixture *f = *state;
        const WatchedUnit *u = f->m->units[0];

        assert_off(f);
        /* Reads back to back: maps per µs, seconds to the limit at most a few even on a slow machine; the
         * trend speaks once its window has only settled readings (trend.h). */
        f->m->config->interval_usec = 3600 * USEC_PER_SEC;
        for (unsigned i = 0; i <= TREND_SETTLED_READINGS; i++) {
                fake_process(f->root, 1001, "worker", 1000, 300 + 30 * i, 500);
                assert_int_equal(manager_scan(f->m, true), 0);
        }
        assert_int_equal(u->level, LEVEL_OK);
        assert_true(u->seconds_to_limit < 3600);
        assert_trigger(f, UNIT_A " predicted to reach the limit within the scan interval");

        /* The same growth, a scan interval shorter than the time it needs: no trigger. */
        f->m->hits.disarm_delay_usec = 0;
        f->m->config->interval_usec = u->seconds_to_limit > 0 ? (u->seconds_to_limit - 1) * USEC_PER_SEC : 0;
        assert_int_equal(manager_scan(f->m, false), 0);
        assert_int_equal(u->level, LEVEL_OK);
        assert_trigger(f, NULL);
}

/* A unit that hit the limit is the trigger named before a process at critical, also while it is held
 * without processes; a unit stopped on request is none. */
static void test_hit_arms(void **state) {
        Fixture *f = *state;

        assert_off(f);
        ingester_at(f, 1000); /* observed: no headroom */
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);
        assert_trigger(f, UNIT_A " hit the limit");

        /* Its control group goes (systemd restarts it): held, still the trigger. */
        f->m->hits.disarm_delay_usec = 0;
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, ""), 1);
        testfs_write_str(f->root, "sys/fs/cgroup/system.slice/" UNIT_A "/cgroup.procs", "");
        fake_exit(f->root, 1001);
        fake_exit(f->root, 1002);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_true(manager_find_unit(f->m, UNIT_A)->held);
        assert_trigger(f, UNIT_A " hit the limit");

        /* Stopped: out of view, its crash loop over. */
        manager_watch_unit_state(f->m, UNIT_A, "inactive");
        assert_null(manager_find_unit(f->m, UNIT_A));
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);
}

/* The main process failing (as systemd says in PropertiesChanged) makes the unit a trigger for the
 * crash-loop window, with a pass at once, so that its next instance is caught from its start; also when
 * the unit was dropped in between and watched anew. A clean exit, or a stop someone asked for, is none. */
static void test_failure_arms(void **state) {
        Fixture *f = *state;
        WatchedUnit *u = manager_find_unit(f->m, UNIT_A);
        uint64_t when = 0;

        f->m->hits.disarm_delay_usec = 0;
        manager_exits_main_exit(u, 1002, CLD_EXITED, 0, "success");
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);

        manager_units_job_seen(f->m, UNIT_A, "deactivating", 7);
        manager_exits_main_exit(u, 1002, CLD_KILLED, SIGTERM, "success");
        manager_units_job_removed(f->m, UNIT_A, 7);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);

        /* A first call completes the client's connection, which teardown flushes. */
        assert_int_equal(get_property_u(f, UNIT_A_PATH, UNIT_IF, "Processes"), 2);
        assert_true(sd_event_source_get_time(f->m->scan.timer, &when) >= 0);
        assert_true(when > now_usec(CLOCK_MONOTONIC));
        manager_exits_main_exit(u, 1002, CLD_EXITED, 1, "exit-code");
        assert_true(sd_event_source_get_time(f->m->scan.timer, &when) >= 0);
        assert_true(when <= now_usec(CLOCK_MONOTONIC)); /* the pass that arms runs now */
        assert_int_equal(manager_scan(f->m, false), 0);
        assert_trigger(f, UNIT_A " restarted after a failure (exited 1)");

        /* It stopped (no hit: not held, dropped) and starts again: a unit watched anew, still the
         * trigger. */
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, ""), 0);
        assert_null(manager_find_unit(f->m, UNIT_A));
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);
        assert_int_equal(manager_watch_update_unit(f->m, UNIT_A, "/system.slice/" UNIT_A), 0);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, UNIT_A " restarted after a failure (exited 1)");

        /* A crash by a signal is one too, named so. */
        u = manager_find_unit(f->m, UNIT_A);
        manager_exits_main_exit(u, 1002, CLD_DUMPED, SIGSEGV, "core-dump");
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, UNIT_A " restarted after a failure (dumped SIGSEGV)");

        /* The crash-loop window after the failure is over: no trigger. */
        u->failure.usec -= CRASH_LOOP_CLEAN_USEC;
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_trigger(f, NULL);
}

/* With the program loaded but disarmed (HitDetection caught), a read with no headroom is observed as
 * one hit, as without the program; a process whose calls were caught is not counted again by a read. */
static void test_observed_while_disarmed(void **state) {
        Fixture *f = *state;
        LimitHit hit = {
                .pid = 1001,
                .tid = 1001,
                .syscall = LIMIT_HIT_SYSCALL_MPROTECT,
                .error = ENOMEM,
                .map_count = 1000,
                .max_map_count = 1000,
                .time_usec = now_usec(CLOCK_MONOTONIC),
                .evidence = LIMIT_HIT_CAUGHT,
        };

        assert_off(f);
        f->m->scan.hit_detection = HIT_DETECTION_CAUGHT;
        ingester_at(f, 1000);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 1);

        /* 1001's failed calls, caught before it is read at the limit: those count, the read does not. */
        f->m->hits.bursts = limit_hit_bursts_new();
        assert_non_null(f->m->hits.bursts);
        assert_true(limit_hit_bursts_add(f->m->hits.bursts, &hit) >= 0);
        assert_true(limit_hit_bursts_add(f->m->hits.bursts, &hit) >= 0);
        manager_hits_flush(f->m);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 3);
        fake_process(f->root, 1001, "worker", 1000, 1000, 500);
        assert_int_equal(manager_scan(f->m, true), 0);
        assert_int_equal(get_property_t(f, UNIT_A_PATH, UNIT_IF, "LimitHits"), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_off_and_nothing_near, setup, teardown),
                cmocka_unit_test_setup_teardown(test_warning_arms_until_the_delay, setup, teardown),
                cmocka_unit_test_setup_teardown(test_predicted_arms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hit_arms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_arms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_observed_while_disarmed, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
