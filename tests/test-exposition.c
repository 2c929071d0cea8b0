/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exposition writer: every family with HELP and TYPE, escaped label values, absent families, the
 * limit-hit counters only when hits are known, a unit's Kubernetes labels when it has them. When
 * promtool is installed, the output is also checked by `promtool check metrics`. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "exposition.h"
#include "util.h"

#define CONTAINER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID "4b0a8c3e-1f2d-4c5b-9a7e-0d1c2b3a4f5e"

static const ExpositionUnit units[] = {
        { .name = "ingester@a\\x2db.service",
          .level = LEVEL_WARNING,
          .processes = 3,
          .map_count = 60000,
          .peak_map_count = 61000,
          .seconds_to_limit = 1234,
          .limit_hits = 7,
          .limit_exits = 2 },
        { .name = "caf\xc3\xa9 \"q\"\n.scope",
          .level = LEVEL_OK,
          .processes = 1,
          .map_count = 10,
          .peak_map_count = 12,
          .seconds_to_limit = UINT64_MAX },
        { .name = "cri-containerd-" CONTAINER ".scope",
          .pod_uid = POD_UID,
          .container_id = CONTAINER,
          .level = LEVEL_CRITICAL,
          .processes = 2,
          .map_count = 65000,
          .peak_map_count = 65000,
          .seconds_to_limit = UINT64_MAX },
};

static Exposition full(void) {
        return (Exposition){ .version = "0.1.0",
                             .backend = "bpf",
                             .max_map_count = 65530,
                             .tuned_max_map_count = 1048576,
                             .last_scan_usec = UINT64_C(1733359841123456),
                             .scan_duration_usec = 2500,
                             .units = units,
                             .n_units = ELEMENTSOF(units) };
}

static char *format(const Exposition *e) {
        char *text = NULL;

        assert_int_equal(exposition_format(e, &text), 0);
        assert_non_null(text);
        return text;
}

static void assert_contains(const char *text, const char *needle) {
        if (!strstr(text, needle))
                fail_msg("missing: %s\nin:\n%s", needle, text);
}

static void assert_lacks(const char *text, const char *needle) {
        if (strstr(text, needle))
                fail_msg("unexpected: %s\nin:\n%s", needle, text);
}

static void test_families(void **state) {
        Exposition e = full();
        _cleanup_free_ char *text = format(&e);
        static const char *const families[] = {
                "mapguard_memory_map_areas_limit",
                "mapguard_memory_map_areas_limit_tuned",
                "mapguard_unit_memory_map_areas",
                "mapguard_unit_memory_map_areas_peak",
                "mapguard_unit_processes",
                "mapguard_unit_level",
                "mapguard_unit_seconds_to_limit",
                "mapguard_scan_duration_seconds",
                "mapguard_last_scan_timestamp_seconds",
                "mapguard_build_info",
        };

        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                char help[128], type[128];

                snprintf(help, sizeof(help), "# HELP %s ", families[i]);
                snprintf(type, sizeof(type), "# TYPE %s gauge\n", families[i]);
                assert_contains(text, help);
                assert_contains(text, type);
        }
        assert_contains(text, "\nmapguard_memory_map_areas_limit 65530\n");
        assert_contains(text, "\nmapguard_memory_map_areas_limit_tuned 1048576\n");
        assert_contains(text, "\nmapguard_scan_duration_seconds 0.002500\n");
        assert_contains(text, "\nmapguard_last_scan_timestamp_seconds 1733359841.123456\n");
        assert_contains(
                text, "\nmapguard_build_info{version=\"0.1.0\",backend=\"bpf\",hit_detection=\"none\"} 1\n");
        assert_contains(text,
                        "\nmapguard_unit_memory_map_areas{unit=\"ingester@a\\\\x2db.service\"} 60000\n");
        assert_contains(
                text, "\nmapguard_unit_memory_map_areas_peak{unit=\"ingester@a\\\\x2db.service\"} 61000\n");
        assert_contains(text, "\nmapguard_unit_processes{unit=\"ingester@a\\\\x2db.service\"} 3\n");
        assert_contains(text,
                        "\nmapguard_unit_seconds_to_limit{unit=\"ingester@a\\\\x2db.service\"} 1234\n");
        /* Not growing: no sample, not a huge number. */
        assert_lacks(text, "mapguard_unit_seconds_to_limit{unit=\"caf");
        /* One 1 and three 0s per unit. */
        assert_contains(text,
                        "mapguard_unit_level{unit=\"ingester@a\\\\x2db.service\",level=\"warning\"} 1\n");
        assert_contains(text, "mapguard_unit_level{unit=\"ingester@a\\\\x2db.service\",level=\"ok\"} 0\n");
        assert_contains(text,
                        "mapguard_unit_level{unit=\"ingester@a\\\\x2db.service\",level=\"critical\"} 0\n");
        assert_contains(text,
                        "mapguard_unit_level{unit=\"ingester@a\\\\x2db.service\",level=\"unknown\"} 0\n");
        /* No pid anywhere: pids churn. */
        assert_lacks(text, "pid=");
        /* Hits unknown: both counters absent. */
        assert_lacks(text, "limit_hits_total");
        assert_lacks(text, "limit_exits_total");
        /* Every line ends; the text does too. */
        assert_true(text[strlen(text) - 1] == '\n');
}

static void test_escaping(void **state) {
        Exposition e = full();
        _cleanup_free_ char *text = format(&e);

        /* UTF-8 as is, \ " and newline escaped. */
        assert_contains(text, "mapguard_unit_processes{unit=\"caf\xc3\xa9 \\\"q\\\"\\n.scope\"} 1\n");

        /* Bytes that are not UTF-8 become '?', a backslash at the very end stays escaped. */
        ExpositionUnit bad = { .name = "a\xff\xfe\\", .seconds_to_limit = UINT64_MAX };
        Exposition b = { .version = "v\"1",
                         .backend = "procfs",
                         .units = &bad,
                         .n_units = 1,
                         .scan_duration_usec = UINT64_MAX };
        _cleanup_free_ char *t2 = format(&b);
        assert_contains(t2, "mapguard_unit_processes{unit=\"a??\\\\\"} 0\n");
        assert_contains(t2, "mapguard_build_info{version=\"v\\\"1\",backend=\"procfs\"");
}

static void test_absent(void **state) {
        /* Before the first pass, without a tuned value or duration: only build_info. */
        Exposition e = { .version = "0.1.0", .backend = "procfs", .scan_duration_usec = UINT64_MAX };
        _cleanup_free_ char *text = format(&e);

        assert_lacks(text, "mapguard_memory_map_areas_limit");
        assert_lacks(text, "mapguard_scan_duration_seconds");
        assert_lacks(text, "mapguard_last_scan_timestamp_seconds");
        assert_lacks(text, "mapguard_unit_");
        assert_contains(text, "# TYPE mapguard_build_info gauge\nmapguard_build_info{");

        /* No unit growing: the family has no HELP/TYPE either. */
        ExpositionUnit flat = { .name = "a.service", .seconds_to_limit = UINT64_MAX };
        Exposition f = full();
        f.units = &flat;
        f.n_units = 1;
        _cleanup_free_ char *t2 = format(&f);
        assert_lacks(t2, "seconds_to_limit");
}

static void test_hits(void **state) {
        Exposition e = full();
        e.hit_detection = "caught";
        _cleanup_free_ char *text = format(&e);

        assert_contains(text, "# TYPE mapguard_unit_limit_hits_total counter\n");
        assert_contains(text, "# TYPE mapguard_unit_limit_exits_total counter\n");
        assert_contains(text, "\nmapguard_unit_limit_hits_total{unit=\"ingester@a\\\\x2db.service\"} 7\n");
        assert_contains(text, "\nmapguard_unit_limit_exits_total{unit=\"ingester@a\\\\x2db.service\"} 2\n");
        /* Known and zero is a sample of 0, not an absence: rate() needs the series from the start. */
        assert_contains(text, "\nmapguard_unit_limit_hits_total{unit=\"caf");
        assert_contains(text, "hit_detection=\"caught\"} 1\n");
}

static void test_kubernetes(void **state) {
        Exposition e = full();
        _cleanup_free_ char *text = format(&e);

        assert_contains(text,
                        "mapguard_unit_memory_map_areas{unit=\"cri-containerd-" CONTAINER
                        ".scope\",pod_uid=\"" POD_UID "\",container_id=\"" CONTAINER "\"} 65000\n");
        assert_contains(text, ",container_id=\"" CONTAINER "\",level=\"critical\"} 1\n");

        /* A unit without them gets neither label. */
        ExpositionUnit plain = { .name = "docker-" CONTAINER ".scope", .seconds_to_limit = UINT64_MAX };
        Exposition p = full();
        p.units = &plain;
        p.n_units = 1;
        _cleanup_free_ char *t2 = format(&p);
        assert_lacks(t2, "pod_uid");
        assert_lacks(t2, "container_id");
}

/* promtool's own linter on a full exposition, when it is installed. */
static void test_promtool(void **state) {
        Exposition e = full();
        e.hit_detection = "observed";
        _cleanup_free_ char *text = format(&e);
        char path[] = "/tmp/test-exposition.XXXXXX";
        _cleanup_free_ char *cmd = NULL;
        int fd, status;

        if (system("command -v promtool >/dev/null 2>&1") != 0)
                skip(); /* promtool comes with Debian's prometheus package */
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        assert_true(asprintf(&cmd, "promtool check metrics < %s", path) > 0);
        status = system(cmd);
        unlink(path);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_families),   cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_absent),     cmocka_unit_test(test_hits),
                cmocka_unit_test(test_kubernetes), cmocka_unit_test(test_promtool),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
