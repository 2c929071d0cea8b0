/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mapguardctl binary against a scripted org.mapguard1 on a private dbus-daemon (mapguardctl-fixture.h):
 * every verb's human and JSON output, check's exit codes for each level, the error sentences (unknown unit,
 * no such pid, access denied), and monitor printing a LevelChanged signal and exiting 0 on SIGINT.
 * The scripted daemon answers from fixed tables, so the expected output is exact. Not running, a scripted
 * systemd and argument errors are in test-mapguardctl-errors.c. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <cmocka.h>

#include "mapguardctl-fixture.h"
#include "util.h"

static void test_status(void **state) {
        _cleanup_free_ char *out = NULL, *err = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_int_equal(ctl("", &out, &err), 0);
        assert_string_equal(err, "");
        /* The "3s ago" part depends on the clock; the rest is fixed. */
        assert_contains(out, "    Last scan: Wed 2026-11-18 11:06:40 UTC; ");
        assert_contains(out,
                        "      Version: 0.1.0-test\n"
                        "      Backend: procfs\n"
                        "        Limit: 65530 (vm.max_map_count)\n"
                        "  Tuned limit: 1048576 (sysctl.d), not applied: run 'sysctl --system'\n"
                        "   Thresholds: warning at 80% (52424 maps), critical at 95% (62253 maps)\n");
        /* Only the units shown size the columns: the long name further down does not widen them. */
        assert_contains(out,
                        "Scan interval: 10s\n"
                        "Watched units: 12\n"
                        "\n"
                        "UNIT              LEVEL     PROCS   PID   MAPS     HEADROOM\n"
                        "hot.service       critical      2    77  63000    2530 (3%)\n"
                        "ingester.service  warning       3  1234  53000  12530 (19%)\n"
                        "u08.service       ok            1   108   1008  64522 (98%)\n");
        /* Ten of twelve, nearest the limit first: the idle unit (no processes) and the farthest are left
         * out. */
        assert_null(strstr(out, "idle.scope"));
        assert_null(strstr(out, "a-very-long"));
        assert_contains(out, "u01.service");
        assert_contains(out,
                        "\n10 of 12 units listed, nearest the limit first; 'mapguardctl list' "
                        "shows all.\n");
}

static void test_status_json(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl(
                "--json", 0,
                "{\"version\":\"0.1.0-test\",\"max_map_count\":65530,\"tuned_max_map_count\":1048576,"
                "\"warning_percent\":80,\"critical_percent\":95,\"scan_interval_usec\":10000000,"
                "\"last_scan_usec\":1795000000000000,\"watched_units\":[\"ingester.service\","
                "\"a-very-long-unit-name-for-a-prometheus-ingester-replica-17.service\","
                "\"idle.scope\",\"u01.service\",\"u02.service\",\"u03.service\",\"u04.service\","
                "\"u05.service\",\"u06.service\",\"u07.service\",\"u08.service\","
                "\"hot.service\"],"
                "\"backend\":\"procfs\",\"units\":["
                "{\"unit\":\"hot.service\",\"object_path\":\"/org/mapguard1/unit/hot_2eservice\","
                "\"level\":\"critical\",\"processes\":2,\"worst_pid\":77,\"map_count\":63000,\"headroom\":"
                "2530},"
                "{\"unit\":\"ingester.service\",\"object_path\":\"/org/mapguard1/unit/ingester_2eservice\","
                "\"level\":\"warning\",\"processes\":3,\"worst_pid\":1234,\"map_count\":53000,"
                "\"headroom\":12530},"
                "{\"unit\":\"u08.service\",\"object_path\":\"/org/mapguard1/unit/u08_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":108,\"map_count\":1008,\"headroom\":64522},"
                "{\"unit\":\"u07.service\",\"object_path\":\"/org/mapguard1/unit/u07_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":107,\"map_count\":1007,\"headroom\":64523},"
                "{\"unit\":\"u06.service\",\"object_path\":\"/org/mapguard1/unit/u06_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":106,\"map_count\":1006,\"headroom\":64524},"
                "{\"unit\":\"u05.service\",\"object_path\":\"/org/mapguard1/unit/u05_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":105,\"map_count\":1005,\"headroom\":64525},"
                "{\"unit\":\"u04.service\",\"object_path\":\"/org/mapguard1/unit/u04_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":104,\"map_count\":1004,\"headroom\":64526},"
                "{\"unit\":\"u03.service\",\"object_path\":\"/org/mapguard1/unit/u03_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":103,\"map_count\":1003,\"headroom\":64527},"
                "{\"unit\":\"u02.service\",\"object_path\":\"/org/mapguard1/unit/u02_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":102,\"map_count\":1002,\"headroom\":64528},"
                "{\"unit\":\"u01.service\",\"object_path\":\"/org/mapguard1/unit/u01_2eservice\","
                "\"level\":\"ok\",\"processes\":1,\"worst_pid\":101,\"map_count\":1001,\"headroom\":64529}]}"
                "\n",
                NULL);
        assert_json_valid("--json status");
}

/* A daemon that catches limit hits: status says whether catching is armed now, and why, after how hits
 * are known; --json as hit_catching and hit_catching_reason. */
static void test_status_catching(void **state) {
        _cleanup_free_ char *armed = NULL, *idle = NULL, *json = NULL;

        skip_without_bus();
        server_start(SCENARIO_ARMED);
        assert_int_equal(ctl("status", &armed, NULL), 0);
        assert_contains(armed,
                        "\n      Backend: bpf, limit hits caught in the kernel (armed: ingester.service at "
                        "warning)\n        Limit: 65530");
        assert_int_equal(ctl("--json status", &json, NULL), 0);
        assert_contains(json,
                        "\"backend\":\"bpf\",\"hit_detection\":\"caught\",\"hit_catching\":\"armed\","
                        "\"hit_catching_reason\":\"ingester.service at warning\",\"units\":[");
        assert_json_valid("--json status");

        server_start(SCENARIO_IDLE);
        assert_int_equal(ctl("status", &idle, NULL), 0);
        assert_contains(idle,
                        "\n      Backend: bpf, limit hits caught in the kernel (idle: nothing near the "
                        "limit, no recent hit or failure)\n");
}

static void test_list(void **state) {
        _cleanup_free_ char *out = NULL, *narrow = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_int_equal(ctl("list", &out, NULL), 0);
        /* All twelve; the idle unit last, with dashes where there is nothing to measure. */
        assert_contains(
                out,
                "\nu01.service                                                         ok            1   101"
                "   1001  64529 (98%)\n"
                "a-very-long-unit-name-for-a-prometheus-ingester-replica-17.service  ok            1    40"
                "    100  65430 (99%)\n"
                "idle.scope                                                          unknown       0     -"
                "      -            -\n"
                "\n12 units listed.\n");

        /* On 60 columns the long name is cut in the middle and every line fits. */
        setenv("COLUMNS", "60", 1);
        assert_int_equal(ctl("--no-legend list", &narrow, NULL), 0);
        unsetenv("COLUMNS");
        assert_contains(narrow, "\na-very-lo...7.service  ok        1    40    100  65430 (99%)\n");
        assert_null(strstr(narrow, "UNIT"));
        assert_null(strstr(narrow, "listed"));
        for (char *p = narrow; *p;) {
                char *nl = strchr(p, '\n');
                assert_non_null(nl);
                assert_true(nl - p <= 60);
                p = nl + 1;
        }

        assert_json_valid("--json list");
}

static void test_show(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* The process name's escape sequence and newline reach the terminal escaped. */
        assert_ctl("show ingester.service", 0,
                   " PID  COMM           LEVEL     MAPS     HEADROOM    GROWTH          LIMIT\n"
                   "1234  prometheus     warning  53000  12530 (19%)  +120/min  in 1 h 44 min\n"
                   "1235  sidecar        ok         900  64630 (98%)    -3/min          never\n"
                   "1240  evil\\x1b[2J\\n  ok          10  65520 (99%)      flat          never\n"
                   "\n3 processes listed.\n",
                   NULL);
        assert_ctl(
                "--json show ingester.service", 0,
                "{\"unit\":\"ingester.service\",\"kind\":\"system\",\"systemd_unit\":\"\",\"limit_hits\":0,"
                "\"limit_exits\":0,\"last_limit_hit_usec\":"
                "0,"
                "\"last_exit\":\"\",\"processes\":["
                "{\"pid\":1234,\"comm\":\"prometheus\",\"map_count\":53000,\"headroom\":12530,"
                "\"level\":\"warning\",\"growth_per_minute\":120,\"seconds_to_limit\":6264},"
                "{\"pid\":1235,\"comm\":\"sidecar\",\"map_count\":900,\"headroom\":64630,\"level\":\"ok\","
                "\"growth_per_minute\":-3.2,\"seconds_to_limit\":null},"
                "{\"pid\":1240,\"comm\":\"evil\\u001b[2J\\n\",\"map_count\":10,\"headroom\":65520,"
                "\"level\":\"ok\",\"growth_per_minute\":0,\"seconds_to_limit\":null}],"
                "\"processes_not_shown\":0}\n",
                NULL);
        assert_json_valid("--json show ingester.service");
        assert_ctl("show idle.scope", 0, "No processes in idle.scope.\n", NULL);
        assert_ctl("show nope.service", 1, "", "Unit nope.service is not watched.\n");
        /* A name without a suffix is a service, as for systemctl. */
        assert_ctl("show nope", 1, "", "Unit nope.service is not watched.\n");
        assert_int_equal(ctl("--no-legend show ingester", NULL, NULL), 0);
        assert_ctl("show", 1, "", "'show' needs UNIT.\n");
        assert_ctl("show a b", 1, "", "'show' takes only UNIT; extra argument 'b'.\n");
        assert_ctl("pid 1 2 3", 1, "", "'pid' takes only PID; extra argument '2'.\n");
}

/* What a user who owns none of a unit's processes but one is shown: the unit's figures, their own
 * process, how many others there are, and no other pid or name. */
static void test_not_yours(void **state) {
        skip_without_bus();
        server_start(SCENARIO_NOT_YOURS);

        assert_ctl("show ingester.service", 0,
                   " PID  COMM  LEVEL  MAPS     HEADROOM  GROWTH  LIMIT\n"
                   "1240  mine  ok       10  65520 (99%)    flat  never\n"
                   "\n1 process listed.\n"
                   "\n2 processes of other users not shown: mapguardd lists a process to root and its owner "
                   "only.\n",
                   NULL);
        assert_ctl(
                "--json show ingester.service", 0,
                "{\"unit\":\"ingester.service\",\"kind\":\"system\",\"systemd_unit\":\"\",\"limit_hits\":0,"
                "\"limit_exits\":0,\"last_limit_hit_usec\":0,\"last_exit\":\"\",\"processes\":["
                "{\"pid\":1240,\"comm\":\"mine\",\"map_count\":10,\"headroom\":65520,\"level\":\"ok\","
                "\"growth_per_minute\":0,\"seconds_to_limit\":null}],\"processes_not_shown\":2}\n",
                NULL);
        /* The worst process's pid is not known: "-", and null in JSON; the unit's count is. */
        _cleanup_free_ char *list = NULL, *json = NULL;
        assert_int_equal(ctl("list", &list, NULL), 0);
        assert_contains(list,
                        "ingester.service                                                    warning   "
                        "    3    -  53000  12530 (19%)");
        assert_int_equal(ctl("--json list", &json, NULL), 0);
        assert_contains(json,
                        "{\"unit\":\"ingester.service\",\"object_path\":\"/org/mapguard1/unit/"
                        "ingester_2eservice\",\"level\":\"warning\",\"processes\":3,\"worst_pid\":null,");
        assert_ctl("check", 1,
                   "MAPGUARD WARNING - ingester.service 53000/65530 maps, 12530 headroom (19%) | "
                   "map_count=53000;52424;62253;0;65530 headroom=12530 max_map_count=65530\n",
                   NULL);
}

static void test_pid(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("pid 1234", 0,
                   "     PID: 1234 (prometheus)\n"
                   "    Unit: ingester.service\n"
                   "    Maps: 53000 of 65530\n"
                   "Headroom: 12530 (19%)\n"
                   "   Level: warning\n",
                   NULL);
        assert_ctl("--json pid 1234", 0,
                   "{\"pid\":1234,\"unit\":\"ingester.service\",\"comm\":\"prometheus\",\"map_count\":53000,"
                   "\"max_map_count\":65530,\"headroom\":12530,\"level\":\"warning\"}\n",
                   NULL);
        assert_ctl("pid 99999", 1, "", "No process with PID 99999.\n");
        assert_ctl("pid abc", 1, "", "Invalid process ID 'abc': expected a positive number.\n");
        assert_ctl("pid 0", 1, "", "Invalid process ID '0': expected a positive number.\n");
        assert_ctl("pid -- -1", 1, "", "Invalid process ID '-1': expected a positive number.\n");
        assert_ctl("pid 12ab", 1, "", "Invalid process ID '12ab': expected a positive number.\n");
        /* Above 2^22 no process can be: said without asking the daemon. */
        assert_ctl("pid 4294967296", 1, "",
                   "Invalid process ID '4294967296': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("pid 4194305", 1, "",
                   "Invalid process ID '4194305': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("pid 99999999999999999999999", 1, "",
                   "Invalid process ID '99999999999999999999999': out of range, Linux process IDs go up to "
                   "4194304.\n");
        assert_ctl("pid 4194304", 1, "", "No process with PID 4194304.\n");
}

static void test_check(void **state) {
        skip_without_bus();

        server_start(SCENARIO_OK);
        assert_ctl("check", 0,
                   "MAPGUARD OK - u01.service pid 101 (nginx) 1001/65530 maps, 64529 headroom (98%) | "
                   "map_count=1001;52424;62253;0;65530 headroom=64529 max_map_count=65530\n",
                   NULL);
        server_start(SCENARIO_WARNING);
        assert_ctl(
                "check", 1,
                "MAPGUARD WARNING - ingester.service pid 1234 (prometheus) 53000/65530 maps, 12530 headroom "
                "(19%) | map_count=53000;52424;62253;0;65530 headroom=12530 max_map_count=65530\n",
                NULL);
        assert_ctl(
                "--json check", 1,
                "{\"status\":\"WARNING\",\"unit\":\"ingester.service\",\"pid\":1234,\"comm\":\"prometheus\","
                "\"map_count\":53000,\"max_map_count\":65530,\"headroom\":12530,\"level\":\"warning\","
                "\"warning_percent\":80,\"critical_percent\":95}\n",
                NULL);
        /* The process named itself "java|x=1;2;3": the first '|' of the line still begins the perfdata. */
        server_start(SCENARIO_CRITICAL);
        assert_ctl("check", 2,
                   "MAPGUARD CRITICAL - hot.service pid 77 (java!x=1;2;3) 63000/65530 maps, 2530 headroom "
                   "(3%) | "
                   "map_count=63000;52424;62253;0;65530 headroom=2530 max_map_count=65530\n",
                   NULL);
        /* JSON has no such syntax: the name is given as it is. */
        assert_ctl("--json check", 2,
                   "{\"status\":\"CRITICAL\",\"unit\":\"hot.service\",\"pid\":77,\"comm\":\"java|x=1;2;3\","
                   "\"map_count\":63000,\"max_map_count\":65530,\"headroom\":2530,\"level\":\"critical\","
                   "\"warning_percent\":80,\"critical_percent\":95}\n",
                   NULL);
        server_start(SCENARIO_UNKNOWN);
        assert_ctl("check", 3, "MAPGUARD UNKNOWN - no watched process has been scanned yet\n", NULL);

        /* A unit that hit the limit within the hit window is CRITICAL, whatever the processes say now. */
        server_start(SCENARIO_HIT);
        assert_ctl(
                "check", 2,
                "MAPGUARD CRITICAL - u02.service hit the memory map limit 3min ago (7 hits, 5 exits at the "
                "limit) | limit_hits=7c limit_exits=5c\n",
                NULL);
        assert_ctl("--hit-window=1h check", 2, NULL, NULL);
        /* Outside the window it no longer counts. */
        assert_ctl("--hit-window=2min check", 0, NULL, NULL);
        assert_ctl("--hit-window=soon check", 1, "",
                   "--hit-window= needs a time span such as 30s, 15min or 2h, got 'soon'.\n");
        /* A unit held at the limit (restarting, or failed) is CRITICAL also when nothing else runs. */
        server_start(SCENARIO_HELD);
        assert_ctl(
                "check", 2,
                "MAPGUARD CRITICAL - held.service is down at the memory map limit (7 hits, 5 exits at the "
                "limit) | limit_hits=7c limit_exits=5c\n",
                NULL);
        {
                _cleanup_free_ char *out = NULL, *err = NULL;

                assert_int_equal(ctl("--json check", &out, &err), 2);
                assert_non_null(strstr(out,
                                       "{\"status\":\"CRITICAL\",\"unit\":\"held.service\",\"level\":"
                                       "\"critical\",\"limit_hits\":7,\"limit_exits\":5,"));
                assert_non_null(strstr(out, "\"last_exit\":\"dumped SIGABRT\"}"));
        }
        /* A unit whose processes could not be read: UNKNOWN, saying so, rather than OK. */
        server_start(SCENARIO_STALE);
        assert_ctl(
                "check", 3,
                "MAPGUARD UNKNOWN - the processes of stale.service could not be read, its level is unknown "
                "(journalctl -u mapguardd says why)\n",
                NULL);

        /* Nothing watched: said as it is, not as "yet" (an empty Units= is a choice). */
        server_start(SCENARIO_NO_UNITS);
        assert_ctl("list", 0, "No units watched: no loaded unit matches Units= (see mapguardd.conf(5)).\n",
                   NULL);
        assert_ctl("--no-legend list", 0, "", NULL);
        assert_ctl("check", 3, "MAPGUARD UNKNOWN - no unit is watched (no loaded unit matches Units=)\n",
                   NULL);
}

/* Makes tmpdir/name a root for `mapguardctl --root=`, run through sh: `shell` (may be "") runs in it after
 * the sysctl.d directories are made. Returns its path. */
static char *make_root(const char *name, const char *shell) {
        _cleanup_free_ char *cmd = NULL;
        char *root;

        assert_true(asprintf(&root, "%s/%s", tmpdir, name) >= 0);
        assert_true(asprintf(&cmd, "mkdir -p '%s/etc/sysctl.d' '%s/usr/lib/sysctl.d' && cd '%s' && true %s",
                             root, root, root, shell) >= 0);
        assert_int_equal(system(cmd), 0);
        return root;
}

/* What the package installs: usr/lib/sysctl.d/10-mapguard.conf, the daemon fixture's TunedMaxMapCount. */
#define DEFAULT_SYSCTL " && echo 'vm.max_map_count = 1048576' > usr/lib/sysctl.d/10-mapguard.conf"

static void test_recommend_tune(void **state) {
        _cleanup_free_ char *out = NULL, *root = NULL, *args = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);
        root = make_root("root-show", DEFAULT_SYSCTL);

        assert_ctl("recommend", 0,
                   "vm.max_map_count = 262144\n"
                   "Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\n",
                   NULL);
        /* On a terminal of 40 columns the reason is wrapped to fit. */
        setenv("COLUMNS", "40", 1);
        assert_ctl("recommend", 0,
                   "vm.max_map_count = 262144\n"
                   "Peak 53000 maps; 262144 maps pin at most\n"
                   "80 MiB of kernel memory.\n",
                   NULL);
        unsetenv("COLUMNS");
        assert_ctl(
                "--json recommend", 0,
                "{\"value\":262144,\"reason\":\"Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel "
                "memory.\"}\n",
                NULL);
        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_ctl(args, 0,
                   "    Live limit: 65530 (vm.max_map_count)\n"
                   "   Tuned limit: 1048576 (sysctl.d)\n"
                   "Recommendation: 262144\n"
                   "                Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\n"
                   "      To apply: mapguardctl tune --apply (as root) sets 1048576 now and in "
                   "/etc/sysctl.d/90-mapguard-tuned.conf\n",
                   NULL);
        free(args);
        assert_true(asprintf(&args, "--json --root='%s' tune", root) >= 0);
        assert_ctl(args, 0,
                   "{\"max_map_count\":65530,\"tuned_max_map_count\":1048576,\"value\":262144,"
                   "\"reason\":\"Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\","
                   "\"target\":1048576,\"applied\":false,\"file\":null,\"live_updated\":false,"
                   "\"overridden_by\":null}\n",
                   NULL);
        assert_ctl("--apply status", 1, "", "--apply only goes with 'tune'.\n");
}

static void test_tune_apply(void **state) {
        _cleanup_free_ char *root = NULL, *cmd = NULL, *out = NULL, *conf = NULL, *live = NULL, *args = NULL,
                            *path = NULL;

        skip_without_bus();
        if (geteuid() != 0) {
                print_message("# tune --apply is root only, and this test runs as uid %u\n", geteuid());
                skip();
        }
        server_start(SCENARIO_WARNING);

        root = make_root(
                "root", DEFAULT_SYSCTL " && mkdir -p proc/sys/vm && echo 65530 > proc/sys/vm/max_map_count");
        assert_true(asprintf(&args, "--root='%s' tune --apply", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out,
                        "/etc/sysctl.d/90-mapguard-tuned.conf: vm.max_map_count = 1048576\n"
                        "Raised vm.max_map_count from 65530 to 1048576.\n");

        assert_true(asprintf(&path, "%s/etc/sysctl.d/90-mapguard-tuned.conf", root) >= 0);
        conf = read_all(path);
        assert_contains(conf,
                        "# mapguardd recommended 262144: Peak 53000 maps; 262144 maps pin at most "
                        "80 MiB of kernel memory.\n");
        assert_contains(conf, "\nvm.max_map_count = 1048576\n");
        free(path);
        assert_true(asprintf(&path, "%s/proc/sys/vm/max_map_count", root) >= 0);
        live = read_all(path);
        assert_string_equal(live, "1048576\n");

        /* Non-root is refused before anything is read or written. */
        if (system("command -v setpriv >/dev/null 2>&1") == 0) {
                free(cmd);
                assert_true(asprintf(&cmd,
                                     "setpriv --reuid=65534 --regid=65534 --clear-groups '%s' tune --apply "
                                     "2>'%s/err'; test $? -eq 4",
                                     mapguardctl, tmpdir) >= 0);
                assert_int_equal(system(cmd), 0);
        }
}

static void test_tune_apply_overridden(void **state) {
        _cleanup_free_ char *root = NULL, *real_root = NULL, *cmd = NULL, *args = NULL, *out = NULL,
                            *err = NULL, *expected = NULL, *json = NULL;

        skip_without_bus();
        if (geteuid() != 0) {
                print_message("# tune --apply is root only, and this test runs as uid %u\n", geteuid());
                skip();
        }
        server_start(SCENARIO_WARNING);

        /* Debian's /etc/sysctl.d/99-sysctl.conf links to /etc/sysctl.conf, where an older guide put a lower
         * value: it sorts after 90-mapguard-tuned.conf and wins at boot, below the recommendation. */
        root = make_root("root-overridden",
                         DEFAULT_SYSCTL " && mkdir -p proc/sys/vm"
                                        " && echo 65530 > proc/sys/vm/max_map_count"
                                        " && echo vm.max_map_count=200000 > etc/sysctl.conf"
                                        " && ln -s ../sysctl.conf etc/sysctl.d/99-sysctl.conf");
        real_root = realpath(root, NULL);
        assert_non_null(real_root);

        assert_true(asprintf(&args, "--root='%s' tune --apply", root) >= 0);
        assert_int_equal(ctl(args, &out, &err), 1);
        assert_true(asprintf(&expected,
                             "Wrote %s/etc/sysctl.d/90-mapguard-tuned.conf: vm.max_map_count = 262144\n"
                             "Raised vm.max_map_count from 65530 to 262144.\n",
                             root) >= 0);
        assert_string_equal(out, expected);
        free(expected);
        assert_true(
                asprintf(
                        &expected,
                        "%s/etc/sysctl.d/99-sysctl.conf (a link to %s/etc/sysctl.conf) sets "
                        "vm.max_map_count = 200000 and is read after %s/etc/sysctl.d/90-mapguard-tuned.conf "
                        "at boot, so it overrides it: the limit will be 200000, not 262144. Remove that "
                        "line from %s/etc/sysctl.conf, or set 262144 there.\n",
                        root, real_root, root, real_root) >= 0);
        assert_string_equal(err, expected);

        /* The JSON document names the file and its value. */
        free(args);
        free(out);
        free(err);
        assert_true(asprintf(&args, "--json --root='%s' tune --apply", root) >= 0);
        assert_int_equal(ctl(args, &out, &err), 1);
        assert_true(asprintf(&json,
                             "\"file\":\"%s/etc/sysctl.d/90-mapguard-tuned.conf\",\"live_updated\":true,"
                             "\"overridden_by\":{\"file\":\"%s/etc/sysctl.d/99-sysctl.conf\","
                             "\"link_to\":\"%s/etc/sysctl.conf\",\"value\":200000}}\n",
                             root, root, real_root) >= 0);
        assert_contains(out, json);
        assert_contains(err, "overrides it");

        /* Fixed as told: the exit code says all is well. */
        assert_true(asprintf(&cmd, "echo vm.max_map_count=262144 > '%s/etc/sysctl.conf'", root) >= 0);
        assert_int_equal(system(cmd), 0);
        free(args);
        assert_true(asprintf(&args, "--root='%s' tune --apply", root) >= 0);
        assert_ctl(args, 0, NULL, NULL);
}

/* tune without --apply, where a file read after 90-mapguard-tuned.conf sets another value: the preview says
 * so, as --apply would after writing, before anything is written, and still exits 0. */
static void test_tune_preview_overridden(void **state) {
        _cleanup_free_ char *root = NULL, *real_root = NULL, *cmd = NULL, *args = NULL, *out = NULL,
                            *expected = NULL, *path = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);
        root = make_root("root-preview-overridden",
                         DEFAULT_SYSCTL " && mkdir -p proc/sys/vm"
                                        " && echo 65530 > proc/sys/vm/max_map_count"
                                        " && echo vm.max_map_count=200000 > etc/sysctl.conf"
                                        " && ln -s ../sysctl.conf etc/sysctl.d/99-sysctl.conf");
        real_root = realpath(root, NULL);
        assert_non_null(real_root);

        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_true(asprintf(&expected,
                             "    Live limit: 65530 (vm.max_map_count)\n"
                             "   Tuned limit: 200000 (sysctl.d)\n"
                             "Recommendation: 262144\n"
                             "                Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel "
                             "memory.\n"
                             "      To apply: mapguardctl tune --apply (as root) sets 262144 now and in "
                             "/etc/sysctl.d/90-mapguard-tuned.conf\n"
                             "       At boot: %s/etc/sysctl.d/99-sysctl.conf (a link to %s/etc/sysctl.conf) "
                             "sets vm.max_map_count = 200000 and is read after "
                             "%s/etc/sysctl.d/90-mapguard-tuned.conf at boot, so it would override it: "
                             "--apply alone would not last past a reboot, the limit would then be 200000, "
                             "not 262144. Remove that line from %s/etc/sysctl.conf, or set 262144 there.\n",
                             root, real_root, root, real_root) >= 0);
        assert_ctl(args, 0, expected, NULL);

        /* The JSON document names the file as --apply's does, and the file is still not written. */
        free(args);
        free(expected);
        assert_true(asprintf(&args, "--json --root='%s' tune", root) >= 0);
        assert_true(asprintf(&expected,
                             "\"target\":262144,\"applied\":false,\"file\":null,\"live_updated\":false,"
                             "\"overridden_by\":{\"file\":\"%s/etc/sysctl.d/99-sysctl.conf\","
                             "\"link_to\":\"%s/etc/sysctl.conf\",\"value\":200000}}\n",
                             root, real_root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, expected);
        assert_true(asprintf(&path, "%s/etc/sysctl.d/90-mapguard-tuned.conf", root) >= 0);
        assert_int_equal(access(path, F_OK), -1);

        /* Fixed as told: the preview has nothing more to say. */
        assert_true(asprintf(&cmd, "echo vm.max_map_count=262144 > '%s/etc/sysctl.conf'", root) >= 0);
        assert_int_equal(system(cmd), 0);
        free(args);
        free(out);
        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_true(strstr(out, "At boot:") == NULL);
        free(args);
        free(out);
        assert_true(asprintf(&args, "--json --root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "\"overridden_by\":null}\n");
}

/* The daemon reads the sysctl.d files once per pass, so its TunedMaxMapCount may be older than a file the
 * admin just wrote (here it says 1048576 where 95-es.conf asks for 2097152): tune reads the files itself. */
static void test_tune_stale_property(void **state) {
        _cleanup_free_ char *root = NULL, *args = NULL, *out = NULL, *path = NULL, *conf = NULL,
                            *live = NULL, *expected = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);
        root = make_root("root-stale",
                         DEFAULT_SYSCTL " && mkdir -p proc/sys/vm"
                                        " && echo 65530 > proc/sys/vm/max_map_count"
                                        " && echo 'vm.max_map_count = 2097152' > etc/sysctl.d/95-es.conf");

        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "   Tuned limit: 2097152 (sysctl.d)\n");
        assert_contains(out, "      To apply: mapguardctl tune --apply (as root) sets 2097152 now");
        free(args);
        free(out);
        assert_true(asprintf(&args, "--json --root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "\"tuned_max_map_count\":2097152,");
        assert_contains(out, "\"target\":2097152,");

        if (geteuid() != 0) {
                print_message("# tune --apply is root only, and this test runs as uid %u\n", geteuid());
                return;
        }
        /* The largest of live, tuned and recommended, and nobody told to lower their file. */
        free(args);
        assert_true(asprintf(&args, "--root='%s' tune --apply", root) >= 0);
        assert_true(asprintf(&expected,
                             "Wrote %s/etc/sysctl.d/90-mapguard-tuned.conf: vm.max_map_count = 2097152\n"
                             "Raised vm.max_map_count from 65530 to 2097152.\n",
                             root) >= 0);
        assert_ctl(args, 0, expected, NULL);
        assert_true(asprintf(&path, "%s/etc/sysctl.d/90-mapguard-tuned.conf", root) >= 0);
        conf = read_all(path);
        assert_contains(conf, "sysctl.d files asked for 2097152;");
        assert_contains(conf, "\nvm.max_map_count = 2097152\n");
        free(path);
        assert_true(asprintf(&path, "%s/proc/sys/vm/max_map_count", root) >= 0);
        live = read_all(path);
        assert_string_equal(live, "2097152\n");
}

/* No file sets it (the daemon has not seen them go), or the files cannot be read (the property stands). */
static void test_tune_tuned_files(void **state) {
        _cleanup_free_ char *root = NULL, *args = NULL, *out = NULL;

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        root = make_root("root-unset", "");
        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "   Tuned limit: not set in sysctl.d\n");
        assert_contains(out, "      To apply: mapguardctl tune --apply (as root) sets 262144 now");

        /* run/sysctl.d is a file: the files cannot be merged, TunedMaxMapCount is the best there is. */
        free(root);
        free(args);
        free(out);
        root = make_root("root-unreadable",
                         " && mkdir -p run && : > run/sysctl.d"
                         " && echo 'vm.max_map_count = 2097152' > etc/sysctl.d/95-es.conf");
        assert_true(asprintf(&args, "--root='%s' tune", root) >= 0);
        assert_int_equal(ctl(args, &out, NULL), 0);
        assert_contains(out, "   Tuned limit: 1048576 (sysctl.d)\n");
}

static void test_tune_apply_json_live_fails(void **state) {
        _cleanup_free_ char *root = NULL, *cmd = NULL, *args = NULL, *out = NULL, *err = NULL,
                            *expected = NULL;

        skip_without_bus();
        if (geteuid() != 0) {
                print_message("# tune --apply is root only, and this test runs as uid %u\n", geteuid());
                skip();
        }
        server_start(SCENARIO_WARNING);

        /* No proc/sys/vm/max_map_count to write (as a read-only /proc/sys in a container): the file is
         * written all the same, and the JSON document says so, with live_updated false and exit code 1. */
        root = make_root("root-no-proc", DEFAULT_SYSCTL);
        assert_true(asprintf(&args, "--json --root='%s' tune --apply", root) >= 0);
        assert_int_equal(ctl(args, &out, &err), 1);
        assert_true(
                asprintf(&expected,
                         "{\"max_map_count\":65530,\"tuned_max_map_count\":1048576,\"value\":262144,"
                         "\"reason\":\"Peak 53000 maps; 262144 maps pin at most 80 MiB of kernel memory.\","
                         "\"target\":1048576,\"applied\":true,"
                         "\"file\":\"%s/etc/sysctl.d/90-mapguard-tuned.conf\",\"live_updated\":false,"
                         "\"overridden_by\":null}\n",
                         root) >= 0);
        assert_string_equal(out, expected);
        free(expected);
        assert_true(asprintf(&expected,
                             "Failed to write %s/proc/sys/vm/max_map_count: No such file or directory\n",
                             root) >= 0);
        assert_string_equal(err, expected);
}

static void test_rescan_reload(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        assert_ctl("rescan", 0, "", NULL);
        assert_ctl("--json rescan", 0, "{}\n", NULL);
        assert_ctl("reload", 4, "", "Failed to reload the configuration: access denied; run as root.\n");

        /* A bad configuration: the daemon's sentence (file, line, reason), not "access denied". */
        server_start(SCENARIO_RELOAD_FAILS);
        assert_ctl("reload", 1, "", RELOAD_FAILED "\n");
        assert_ctl("--json reload", 1, "", RELOAD_FAILED "\n");
}

/* Asserts that no line of text is wider than width bytes (the output is ASCII); "\r\n" ends a line. */
static void assert_lines_within(const char *text, size_t width) {
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\r\n");

                if (n > width) {
                        fprintf(stderr, "# a line of %zu > %zu columns in\n%s\n", n, width, text);
                        fail();
                }
                p += n;
                p += strspn(p, "\r\n");
        }
}

/* Runs `mapguardctl args` with stdout and stderr on a pseudo-terminal of `columns` columns (0: one that
 * does not know its size) and returns what it wrote, or NULL when there is no pty to be had. */
static char *ctl_on_pty(const char *arg, unsigned short columns) {
        struct winsize ws = { .ws_row = 24, .ws_col = columns };
        char buf[65536];
        size_t n = 0;
        int master, slave, status;
        pid_t pid;

        if (openpty(&master, &slave, NULL, NULL, &ws) < 0)
                return NULL;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(slave, STDOUT_FILENO);
                dup2(slave, STDERR_FILENO);
                /* Colour takes no room on the screen, but would in the bytes counted here. */
                setenv("NO_COLOR", "1", 1);
                execl(mapguardctl, "mapguardctl", arg, NULL);
                _exit(127);
        }
        close(slave);
        /* Read until the child is gone and the pty says so (EIO), not for a fixed time. */
        for (;;) {
                ssize_t k;

                if (!wait_readable(master))
                        break;
                k = read(master, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        close(master);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        return strdup(buf);
}

static void test_wide_name(void **state) {
        _cleanup_free_ char *utf8 = NULL, *c = NULL, *expected = NULL;

        skip_without_bus();
        server_start(SCENARIO_WIDE_NAME);

        /* mapguardctl takes LC_CTYPE from the environment: in a UTF-8 locale each CJK character takes
         * two cells, as on the terminal, and the columns after the name line up with the other rows. */
        setenv("LC_ALL", "C.UTF-8", 1);
        assert_int_equal(ctl("list", &utf8, NULL), 0);
        /* In "C" the locale cannot tell: one cell per character. */
        setenv("LC_ALL", "C", 1);
        assert_int_equal(ctl("list", &c, NULL), 0);
        unsetenv("LC_ALL");

        /* The widest name, a-very-long-...-17.service, has 66 cells; the wide one takes 14 of them. */
        assert_true(asprintf(&expected,
                             "\n%s%*s  critical      1    43  63530    2000 (3%%)\n"
                             "hot.service%*s  critical      2    77  63000    2530 (3%%)\n",
                             WIDE_NAME, 66 - 14, "", 66 - 11, "") >= 0);
        assert_contains(utf8, expected);
        free(expected);
        assert_true(asprintf(&expected, "\n%s%*s  critical", WIDE_NAME, 66 - 11, "") >= 0);
        assert_contains(c, expected);
}

static void test_long_name(void **state) {
        _cleanup_free_ char *piped = NULL, *narrow = NULL, *status = NULL, *tty = NULL, *tty_unsized = NULL,
                            *full = NULL;

        skip_without_bus();
        server_start(SCENARIO_LONG_NAME);
        assert_true(asprintf(&full, "\n%s  critical", strchr(long_name(), 'r')) >= 0);

        /* Piped, without $COLUMNS: nothing is cut, as systemctl does for a pipe. */
        assert_int_equal(ctl("list", &piped, NULL), 0);
        assert_contains(piped, full);

        /* $COLUMNS: the unit column gives way, every line fits, list and status alike. */
        setenv("COLUMNS", "80", 1);
        assert_int_equal(ctl("list", &narrow, NULL), 0);
        assert_int_equal(ctl("status", &status, NULL), 0);
        unsetenv("COLUMNS");
        assert_lines_within(narrow, 80);
        assert_contains(
                narrow,
                "UNIT                                   LEVEL     PROCS   PID   MAPS     HEADROOM\n"
                "run-xxxxxxxxxxxxx...xxxxxxxxxxx.scope  critical      1    42  63530    2000 (3%)\n"
                "hot.service                            critical      2    77  63000    2530 (3%)\n");
        assert_lines_within(status, 80);
        assert_contains(
                status,
                "\nrun-xxxxxxxxxxxxx...xxxxxxxxxxx.scope  critical      1    42  63530    2000 (3%)\n");

        /* A terminal: its width; one that does not know its width is taken as 80 columns. */
        tty = ctl_on_pty("list", 100);
        if (!tty) {
                print_message("# no pseudo-terminal to test with: openpty() failed: %s\n", strerror(errno));
                skip();
        }
        assert_lines_within(tty, 100);
        assert_contains(tty, "...xxx");
        tty_unsized = ctl_on_pty("list", 0);
        assert_non_null(tty_unsized);
        assert_lines_within(tty_unsized, 80);
        assert_contains(tty_unsized, "...xxx");
}

/* Starts `mapguardctl [EXTRA] monitor` with stdout and stderr on pipes, as root or (AS_NOBODY) as uid and
 * gid 65534. */
static pid_t spawn_ctl(const char *extra, bool as_nobody, int *ret_out, int *ret_err) {
        int out[2], err[2];
        pid_t pid;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                if (as_nobody && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(126);
                if (extra)
                        execl(mapguardctl, "mapguardctl", extra, "monitor", NULL);
                else
                        execl(mapguardctl, "mapguardctl", "monitor", NULL);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        *ret_out = out[0];
        *ret_err = err[0];
        return pid;
}

/* Reads from fd until text contains a newline (or WAIT_MSEC pass); returns what was read. */
static char *read_line(int fd) {
        char buf[4096];
        size_t n = 0;

        while (n < sizeof(buf) - 1 && !memchr(buf, '\n', n)) {
                ssize_t k;

                if (!wait_readable(fd))
                        break;
                k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        return strdup(buf);
}

/* Runs monitor (as root, or AS_NOBODY), has the scripted daemon change a level, and checks the first line
 * printed (EXPECTED_LINE: all of a JSON line, the end of a text one) and, when not NULL, the second. */
static void run_monitor_as(const char *extra, bool as_nobody, const char *expected_line,
                           const char *expected_second) {
        _cleanup_free_ char *ready = NULL, *line = NULL, *second = NULL;
        int out, err, status;
        pid_t pid;

        pid = spawn_ctl(extra, as_nobody, &out, &err);
        /* The ready line comes after the subscription: a signal emitted from now on is seen. */
        ready = read_line(err);
        assert_string_equal(ready,
                            as_nobody ? "Monitoring level changes of mapguardd 0.1.0-test (units only: "
                                        "which process is told to root alone). Press Ctrl+C to stop.\n"
                                      : "Monitoring level changes of mapguardd 0.1.0-test. Press "
                                        "Ctrl+C to stop.\n");
        assert_ctl("rescan", 0, "", NULL);
        line = read_line(out);
        /* Both lines may come in one read. */
        char *nl = strchr(line, '\n');
        if (expected_second && nl && nl[1]) {
                second = strdup(nl + 1);
                nl[1] = '\0';
        } else if (expected_second)
                second = read_line(out);
        if (expected_line[0] == '{')
                assert_string_equal(line, expected_line);
        else
                assert_contains(line, expected_line);
        if (expected_second) {
                assert_non_null(second);
                if (expected_second[0] == '{')
                        assert_string_equal(second, expected_second);
                else
                        assert_contains(second, expected_second);
        }

        assert_int_equal(kill(pid, SIGINT), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(out);
        close(err);
}

static void run_monitor(const char *extra, const char *expected_line) {
        run_monitor_as(extra, false, expected_line, NULL);
}

static void test_monitor(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        run_monitor(NULL,
                    " UTC ingester.service pid 1234 (prom\"etheus): ok -> warning, 53000/65530 maps\n");
        run_monitor("--json",
                    "{\"unit\":\"ingester.service\",\"pid\":1234,\"comm\":\"prom\\\"etheus\",\"old_level\":"
                    "\"ok\","
                    "\"new_level\":\"warning\",\"map_count\":53000,\"max_map_count\":65530}\n");
}

/* A user's unit found by its own name (GetUnit()), and said what it is. */
static void test_show_user_unit(void **state) {
        skip_without_bus();
        server_start(SCENARIO_IDENTITY);

        assert_ctl(
                "show grow.service", 0,
                "user@1001.service/grow.service: grow.service of user 1001's manager (user@1001.service).\n"
                "\n"
                " PID  COMM  LEVEL  MAPS     HEADROOM  GROWTH  LIMIT\n"
                "3001  grow  ok      900  64630 (98%)    flat  never\n"
                "\n1 process listed.\n",
                NULL);
        assert_json_valid("--json show grow.service");
        server_stop();
}

/* A user other than root does not receive LevelChanged or LimitHit (the bus policy: they name a process):
 * monitor follows the units' PropertiesChanged instead, and names no process. */
static void test_monitor_unprivileged(void **state) {
        skip_without_bus();
        if (geteuid() != 0) {
                print_message("# skipped: running mapguardctl as another user needs root\n");
                skip();
        }
        server_start(SCENARIO_WARNING);

        run_monitor_as(NULL, true, " UTC ingester.service: warning -> critical, 65531/65530 maps\n",
                       " UTC ingester.service: LIMIT HIT (2 in all), 65531/65530 maps\n");
        run_monitor_as("--json", true,
                       "{\"unit\":\"ingester.service\",\"old_level\":\"warning\",\"new_level\":\"critical\","
                       "\"map_count\":65531,\"max_map_count\":65530}\n",
                       "{\"event\":\"limit_hit\",\"unit\":\"ingester.service\",\"limit_hits\":2,"
                       "\"map_count\":65531,\"max_map_count\":65530}\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_show_user_unit),
                cmocka_unit_test(test_status),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_status_catching),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_show),
                cmocka_unit_test(test_pid),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_recommend_tune),
                cmocka_unit_test(test_tune_apply),
                cmocka_unit_test(test_tune_apply_overridden),
                cmocka_unit_test(test_tune_preview_overridden),
                cmocka_unit_test(test_tune_apply_json_live_fails),
                cmocka_unit_test(test_tune_stale_property),
                cmocka_unit_test(test_tune_tuned_files),
                cmocka_unit_test(test_rescan_reload),
                cmocka_unit_test(test_long_name),
                cmocka_unit_test(test_wide_name),
                cmocka_unit_test(test_monitor),
                cmocka_unit_test(test_monitor_unprivileged),
                cmocka_unit_test(test_not_yours),
        };
        return cmocka_run_group_tests(tests, mapguardctl_fixture_setup, mapguardctl_fixture_teardown);
}
