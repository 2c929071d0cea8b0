/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `mapguardctl explain PID|UNIT` against a scripted org.mapguard1 on a private dbus-daemon
 * (mapguardctl-fixture.h): the table of the top groups with the verdict and the advice, a unit standing for
 * its worst process, the JSON document, names that reach the terminal escaped, and the errors (no such
 * process, access denied, a unit that is not watched or has no processes, a bad argument). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <cmocka.h>

#include "mapguardctl-fixture.h"
#include "util.h"

#define STORE_ROWS \
        "KIND             SOURCE                      MAPS     SIZE      %\n" \
        "file             /var/lib/prometheus/data   52000  3.2 GiB  98.1%\n" \
        "library          /usr/lib/x86_64-linux-gnu    700   90 MiB   1.3%\n" \
        "anonymous        -                            150  256 MiB   0.3%\n" \
        "thread-stack     40 threads                    80  320 MiB   0.2%\n" \
        "file             /tmp/evil\\x1b[2J\\n            30  120 KiB   0.1%\n" \
        "named-anonymous  Go: heap                      20   80 KiB   0.0%\n" \
        "unknown          -                             10      0 B   0.0%\n" \
        "heap             [heap]                         1  132 KiB   0.0%\n" \
        "stack            [stack]                        1  132 KiB   0.0%\n" \
        "kernel           [vdso]                         1  8.0 KiB   0.0%\n"
#define STORE_ADVICE \
        "Raise vm.max_map_count from 65,530 to 1,048,576 (room for twice the 53,000 maps): the process " \
        "maps its 52,000 data files, which a higher limit serves and a fix would not shrink."
#define STORE_END \
        "\n" \
        "Verdict: mapped-files\n" \
        " Advice: " STORE_ADVICE "\n"

static void test_explain_pid(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* Ten groups of twelve, the most maps first; the file name's escape sequence and newline reach the
         * terminal escaped, the group without a source says "-". */
        assert_ctl("explain 1234", 0,
                   "Process 1234: 53000 maps.\n"
                   "\n" STORE_ROWS "\n"
                   "2 more groups: 7 maps; --json lists all.\n" STORE_END,
                   NULL);
        assert_ctl("--no-legend explain 1234", 0,
                   "file             /var/lib/prometheus/data   52000  3.2 GiB  98.1%\n"
                   "library          /usr/lib/x86_64-linux-gnu    700   90 MiB   1.3%\n"
                   "anonymous        -                            150  256 MiB   0.3%\n"
                   "thread-stack     40 threads                    80  320 MiB   0.2%\n"
                   "file             /tmp/evil\\x1b[2J\\n            30  120 KiB   0.1%\n"
                   "named-anonymous  Go: heap                      20   80 KiB   0.0%\n"
                   "unknown          -                             10      0 B   0.0%\n"
                   "heap             [heap]                         1  132 KiB   0.0%\n"
                   "stack            [stack]                        1  132 KiB   0.0%\n"
                   "kernel           [vdso]                         1  8.0 KiB   0.0%\n" STORE_END,
                   NULL);

        /* On a terminal of 60 columns the source is shortened in the middle and the advice wrapped. */
        setenv("COLUMNS", "60", 1);
        assert_ctl("explain 1234", 0,
                   "Process 1234: 53000 maps.\n"
                   "\n"
                   "KIND             SOURCE                 MAPS     SIZE      %\n"
                   "file             /var/lib/...eus/data  52000  3.2 GiB  98.1%\n"
                   "library          /usr/lib/...inux-gnu    700   90 MiB   1.3%\n"
                   "anonymous        -                       150  256 MiB   0.3%\n"
                   "thread-stack     40 threads               80  320 MiB   0.2%\n"
                   "file             /tmp/evil\\x1b[2J\\n       30  120 KiB   0.1%\n"
                   "named-anonymous  Go: heap                 20   80 KiB   0.0%\n"
                   "unknown          -                        10      0 B   0.0%\n"
                   "heap             [heap]                    1  132 KiB   0.0%\n"
                   "stack            [stack]                   1  132 KiB   0.0%\n"
                   "kernel           [vdso]                    1  8.0 KiB   0.0%\n"
                   "\n"
                   "2 more groups: 7 maps; --json lists all.\n"
                   "\n"
                   "Verdict: mapped-files\n"
                   " Advice: Raise vm.max_map_count from 65,530 to 1,048,576\n"
                   "         (room for twice the 53,000 maps): the process maps\n"
                   "         its 52,000 data files, which a higher limit serves\n"
                   "         and a fix would not shrink.\n",
                   NULL);
        unsetenv("COLUMNS");
}

static void test_explain_json(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* Every group the daemon answered, the names as they are (JSON escapes them its own way). */
        assert_ctl(
                "--json explain 1234", 0,
                "{\"pid\":1234,\"map_count\":53000,\"groups\":["
                "{\"kind\":\"file\",\"source\":\"/var/lib/prometheus/data\",\"mappings\":52000,"
                "\"bytes\":3407872000},"
                "{\"kind\":\"library\",\"source\":\"/usr/lib/x86_64-linux-gnu\",\"mappings\":700,"
                "\"bytes\":94371840},"
                "{\"kind\":\"anonymous\",\"source\":\"\",\"mappings\":150,\"bytes\":268435456},"
                "{\"kind\":\"thread-stack\",\"source\":\"40 threads\",\"mappings\":80,\"bytes\":335708160},"
                "{\"kind\":\"file\",\"source\":\"/tmp/evil\\u001b[2J\\n\",\"mappings\":30,\"bytes\":122880},"
                "{\"kind\":\"named-anonymous\",\"source\":\"Go: heap\",\"mappings\":20,\"bytes\":81920},"
                "{\"kind\":\"unknown\",\"source\":\"\",\"mappings\":10,\"bytes\":0},"
                "{\"kind\":\"heap\",\"source\":\"[heap]\",\"mappings\":1,\"bytes\":135168},"
                "{\"kind\":\"stack\",\"source\":\"[stack]\",\"mappings\":1,\"bytes\":135168},"
                "{\"kind\":\"kernel\",\"source\":\"[vdso]\",\"mappings\":1,\"bytes\":8192},"
                "{\"kind\":\"kernel\",\"source\":\"[vvar]\",\"mappings\":1,\"bytes\":16384},"
                "{\"kind\":\"other\",\"source\":\"3 more groups\",\"mappings\":6,\"bytes\":24576}],"
                "\"verdict\":\"mapped-files\",\"advice\":\"" STORE_ADVICE "\"}\n",
                NULL);
        assert_json_valid("--json explain 1234");
}

/* A unit stands for its worst process: the highest level, then the most maps. */
static void test_explain_unit(void **state) {
        static const char *const threads_json =
                "{\"pid\":77,\"map_count\":52000,\"groups\":["
                "{\"kind\":\"thread-stack\",\"source\":\"25000 threads\",\"mappings\":50000,\"bytes\":"
                "26316800000},"
                "{\"kind\":\"library\",\"source\":\"/usr/lib/jvm/java-17-openjdk-amd64/lib\",\"mappings\":"
                "1500,\"bytes\":157286400},"
                "{\"kind\":\"anonymous\",\"source\":\"\",\"mappings\":500,\"bytes\":1073741824}],"
                "\"verdict\":\"threads\",\"advice\":\"Look for a thread leak: 25,000 threads hold 50,000 "
                "maps "
                "(2 per thread: a stack and its guard); a pool that grows without bound or threads never "
                "joined keep adding them, and a higher vm.max_map_count only postpones the failure.\"}\n";

        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* ingester.service's worst is 1234 (warning), not 1240 or 1235 (ok). */
        assert_ctl("explain ingester.service", 0,
                   "Process 1234, the worst of ingester.service: 53000 maps.\n"
                   "\n" STORE_ROWS "\n"
                   "2 more groups: 7 maps; --json lists all.\n" STORE_END,
                   NULL);
        /* hot.service's 77 is held at warning with fewer maps than 79 at ok: the level decides. A name
         * without a suffix is a service. */
        assert_ctl("explain hot", 0,
                   "Process 77, the worst of hot.service: 52000 maps.\n"
                   "\n"
                   "KIND          SOURCE                                   MAPS     SIZE      %\n"
                   "thread-stack  25000 threads                           50000   25 GiB  96.2%\n"
                   "library       /usr/lib/jvm/java-17-openjdk-amd64/lib   1500  150 MiB   2.9%\n"
                   "anonymous     -                                         500  1.0 GiB   1.0%\n"
                   "\n"
                   "Verdict: threads\n"
                   " Advice: Look for a thread leak: 25,000 threads hold 50,000 maps (2 per thread: a stack "
                   "and its guard); a pool that grows without bound or threads never joined keep adding "
                   "them, and a higher vm.max_map_count only postpones the failure.\n",
                   NULL);
        assert_ctl("--json explain hot.service", 0, threads_json, NULL);
        assert_ctl("--json explain 77", 0, threads_json, NULL);
}

static void test_explain_errors(void **state) {
        skip_without_bus();
        server_start(SCENARIO_WARNING);

        /* Another user's process: the daemon refuses, LSB's "insufficient privilege". */
        assert_ctl("explain 1235", 4, "", "Failed to explain process 1235: access denied; run as root.\n");
        assert_ctl("--json explain 1235", 4, "",
                   "Failed to explain process 1235: access denied; run as root.\n");
        assert_ctl("explain 99999", 1, "", "No process with PID 99999.\n");
        assert_ctl("explain nope", 1, "", "Unit nope.service is not watched.\n");
        assert_ctl("explain idle.scope", 1, "", "No processes in idle.scope to explain.\n");
        /* Said without asking the daemon. */
        assert_ctl("explain 0", 1, "", "Invalid process ID '0': expected a positive number.\n");
        assert_ctl("explain 12ab", 1, "", "Invalid process ID '12ab': expected a positive number.\n");
        assert_ctl("explain 4194305", 1, "",
                   "Invalid process ID '4194305': out of range, Linux process IDs go up to 4194304.\n");
        assert_ctl("explain ''", 1, "", "The unit name is empty.\n");
        assert_ctl("explain", 1, "", "'explain' needs PID or UNIT.\n");
        assert_ctl("explain 1 2", 1, "", "'explain' takes only PID or UNIT; extra argument '2'.\n");

        /* Not running: how to start it. */
        server_stop();
        assert_ctl(
                "explain 1234", 1, "",
                "mapguardd is not running (The name org.mapguard1 was not provided by any .service files). "
                "Start it with: systemctl start mapguardd\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_explain_pid),
                cmocka_unit_test(test_explain_json),
                cmocka_unit_test(test_explain_unit),
                cmocka_unit_test(test_explain_errors),
        };
        return cmocka_run_group_tests(tests, mapguardctl_fixture_setup, mapguardctl_fixture_teardown);
}
