/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the mapguardctl tests: a private dbus-daemon, a scripted org.mapguard1 on it (a child
 * process answering from fixed tables, so the expected output is exact), and helpers that run the built
 * mapguardctl binary and compare what it prints. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#define WAIT_MSEC 10000
#define RELOAD_FAILED \
        "The configuration was not reloaded, the previous one stays in force: " \
        "/etc/mapguard/mapguardd.conf:3: IntervalSec=banana: not a time span"

typedef enum Scenario {
        SCENARIO_WARNING,
        SCENARIO_CRITICAL,
        SCENARIO_OK,
        SCENARIO_UNKNOWN,
        SCENARIO_RELOAD_FAILS, /* Reload() refuses a bad configuration. */
        SCENARIO_LONG_NAME,    /* ListUnits() has a unit named with 240 characters more. */
        SCENARIO_WIDE_NAME,    /* ListUnits() has a unit WIDE_NAME more, of CJK characters. */
        SCENARIO_NO_UNITS,     /* ListUnits() and WatchedUnits are empty: Units= matches nothing. */
        SCENARIO_HIT,          /* As SCENARIO_OK, and u02.service hit the limit 3 minutes ago. */
        SCENARIO_HELD,         /* As SCENARIO_UNKNOWN, and held.service sits failed at the limit (held). */
        SCENARIO_STALE,        /* As SCENARIO_OK, and u03.service's processes could not be read. */
        SCENARIO_IDENTITY,     /* As SCENARIO_OK, and GetUnit() finds user@1001.service/grow.service by
                                * "grow.service" (older daemons have no GetUnit()). */
        SCENARIO_NOT_YOURS,    /* As SCENARIO_WARNING, answered to a user who owns none of ingester.service's
                                * processes but 1240: the daemon names the others to root only. */
        SCENARIO_ARMED, /* Backend bpf, limit hits caught, catching armed for ingester.service at warning
                           (the others play a mapguardd that has no HitDetection, HitCatching). */
        SCENARIO_IDLE,  /* Backend bpf, limit hits caught, catching idle: nothing near the limit. */
} Scenario;

/* SCENARIO_HIT's and SCENARIO_HELD's limit hits and exits. */
#define HELD_HITS 7
#define HELD_EXITS 5

/* Three CJK characters, two terminal cells each: 14 cells, 11 characters, 20 bytes. */
#define WIDE_NAME "日本語.service"

extern char *tmpdir, *bus_address, *mapguardctl;

/* A unit name of 240 characters (230 and ".scope" plus the prefix), as a transient scope may have; the
 * scripted daemon lists it in SCENARIO_LONG_NAME. */
const char *long_name(void);

/* Waits up to WAIT_MSEC for fd to become readable. */
bool wait_readable(int fd);

/* Forks a child running run(); returns its pid once it has written that it is ready. */
pid_t child_start(void (*run)(int ready_fd));
/* In a child: says ready on READY_FD, then serves BUS until killed. Never returns. */
__attribute__((noreturn)) void child_serve(sd_bus *bus, int ready_fd);

/* (Re)starts the scripted daemon answering as in s; server_stop() ends it. */
void server_start(Scenario s);
void server_stop(void);

/* Returns the whole content of path (asserts it can be read). */
char *read_all(const char *path);

/* Asserts needle occurs in haystack, showing both when not. */
void assert_contains(const char *haystack, const char *needle);

/* Runs mapguardctl with args (shell words); returns its exit status and its output in *ret_out and
 * *ret_err (either may be NULL). */
int ctl(const char *args, char **ret_out, char **ret_err);

/* Asserts that `mapguardctl args` exits with code and prints expected_out (NULL: don't compare) and
 * expected_err (NULL: nothing on stderr). */
void assert_ctl(const char *args, int code, const char *expected_out, const char *expected_err);

/* Asserts that `mapguardctl args` prints valid JSON (python3's json module decides), if python3 is here. */
void assert_json_valid(const char *args);

/* cmocka group setup and teardown: start and stop the private bus (and the scripted daemon). Without a
 * dbus-daemon the setup succeeds and the tests skip through skip_without_bus(). */
int mapguardctl_fixture_setup(void **state);
int mapguardctl_fixture_teardown(void **state);
void skip_without_bus(void);
