/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What one mapguardd.conf says (conf-parse.c), on fixture trees: the keys and their values, Units= within
 * a file, syntax errors with file:line, the shipped default file. */

#include "conf-fixture.h"

static void test_defaults_no_files(void **state) {
        const char *root = *state;
        Config *c = load_ok(root), *d = config_new_default();

        assert_non_null(d);
        assert_int_equal(c->warning_percent, 80);
        assert_int_equal(c->critical_percent, 95);
        assert_int_equal(c->hysteresis_percent, 5);
        assert_true(c->interval_usec == 10 * USEC_PER_SEC);
        assert_int_equal(c->backend, BACKEND_AUTO);
        assert_units(c, "*.service", "*.scope", NULL);
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);
}

static void test_main_file_only(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN,
                         "# comment\n"
                         "; another comment\n"
                         "\n"
                         "[Watch]\n"
                         "Units=ingester@*.service  elasticsearch.service\n"
                         "[Thresholds]\n"
                         "WarningPercent=70%\n"
                         "CriticalPercent=90 ; inih strips ';' comments after whitespace\n"
                         "HysteresisPercent=0\n"
                         "[Scan]\r\n"
                         "IntervalSec=1min 30s\n"
                         "Backend=procfs");
        Config *c = load_ok(root);
        /* Added to the default, which no empty Units= reset. */
        assert_units(c, "*.service", "*.scope", "ingester@*.service", "elasticsearch.service", NULL);
        assert_int_equal(c->warning_percent, 70);
        assert_int_equal(c->critical_percent, 90);
        assert_int_equal(c->hysteresis_percent, 0);
        assert_true(c->interval_usec == 90 * USEC_PER_SEC);
        assert_int_equal(c->backend, BACKEND_PROCFS);
        config_free(c);
}

static void test_duplicate_key_last_wins(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN,
                         "[Thresholds]\nWarningPercent=70\nWarningPercent=75\n[Scan]\nBackend=bpf\n"
                         "[Thresholds]\nCriticalPercent=97\n");
        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 75);
        assert_int_equal(c->critical_percent, 97);
        assert_int_equal(c->backend, BACKEND_BPF);
        config_free(c);
}

/* Editors on other systems write a UTF-8 byte order mark; inih skips it, and so must our line checks. */
static void test_bom(void **state) {
        const char *root = *state;
        testfs_write_str(root, MAIN, "\xef\xbb\xbf[Scan]\nBackend=bpf\n");
        Config *c = load_ok(root);
        assert_int_equal(c->backend, BACKEND_BPF);
        config_free(c);
}

static void test_interval_spans(void **state) {
        static const struct {
                const char *value;
                uint64_t usec;
        } good[] = {
                { "10", 10 * USEC_PER_SEC },         { "500ms", 500 * USEC_PER_MSEC },
                { "100ms", 100 * USEC_PER_MSEC },    { "0.1", 100 * USEC_PER_MSEC },
                { "1.5", 1500 * USEC_PER_MSEC },     { "2s", 2 * USEC_PER_SEC },
                { "2 sec", 2 * USEC_PER_SEC },       { "1min", 60 * USEC_PER_SEC },
                { "1m", 60 * USEC_PER_SEC },         { "1min 30s", 90 * USEC_PER_SEC },
                { "1min30s", 90 * USEC_PER_SEC },    { "1h", 3600 * USEC_PER_SEC },
                { "3600", 3600 * USEC_PER_SEC },     { "59min 60s", 3600 * USEC_PER_SEC },
                { "250000us", 250 * USEC_PER_MSEC }, { "0.5minutes", 30 * USEC_PER_SEC },
        };
        const char *root = *state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *content = NULL;
                assert_true(asprintf(&content, "[Scan]\nIntervalSec=%s\n", good[i].value) >= 0);
                testfs_write_str(root, MAIN, content);
                Config *c = load_ok(root);
                if (c->interval_usec != good[i].usec)
                        print_error("IntervalSec=%s gave %ju\n", good[i].value,
                                    (uintmax_t) c->interval_usec);
                assert_true(c->interval_usec == good[i].usec);
                config_free(c);
        }

        static const struct {
                const char *value;
                const char *reason;
        } bad[] = {
                { "99ms", "out of range" },
                { "0", "out of range" },
                { "1h 1s", "out of range" },
                { "2d", "out of range" },
                { "99999999999999999999", "out of range" },
                { "18446744073709551615w", "out of range" },
                { "10 parsecs", "not a time span" },
                { "-5", "not a time span" },
                { "1.min", "not a time span" },
                { "min", "not a time span" },
                { "5s,", "not a time span" },
                { "10 # seconds", "comments must be on a line of their own" },
                { "", "needs a value" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *content = NULL, *needle = NULL;
                assert_true(asprintf(&content, "[Scan]\nIntervalSec=%s\n", bad[i].value) >= 0);
                assert_true(asprintf(&needle, "IntervalSec=%s", bad[i].value) >= 0);
                testfs_write_str(root, MAIN, content);
                load_fail(root, -EINVAL, MAIN, 2, needle, bad[i].reason, NULL);
        }
}

/* One bad main file per case: the error must start with "file:line: " and name key and value. */
static void test_bad_input(void **state) {
        static const struct {
                const char *content;
                unsigned line;
                const char *needle1, *needle2;
        } cases[] = {
                { "[Watch]\n[Foo]\nBar=1\n", 2, "[Foo]", "unknown section" },
                { "[watch]\n", 1, "[watch]", "unknown section" },
                { "[Scan]\nFoo=1\n", 2, "Foo=1", "unknown key in [Scan]" },
                { "[Watch]\nBackend=bpf\n", 2, "Backend=bpf", "belongs in [Scan]" },
                { "Units=a.service\n", 1, "Units=a.service", "outside of a section" },
                { "[Watch\nUnits=a.service\n", 1, "[Watch", "lacks ']'" },
                { "[Watch] Units=a.service\n", 1, "[Watch] Units=a.service", "after the section header" },
                { "[Watch]\nUnits\n", 2, "'Units'", "expected Key=value" },
                { "[Watch]\n  Units=a.service\n", 2, "Units=a.service", "starts with whitespace" },
                { "[Watch]\nUnits=a.service\n\tb.service\n", 3, "b.service", "starts with whitespace" },
                { "[Thresholds]\nWarningPercent=abc\n", 2, "WarningPercent=abc", "not an integer" },
                { "[Thresholds]\nWarningPercent=80x\n", 2, "WarningPercent=80x", "not an integer" },
                { "[Thresholds]\nWarningPercent=80 %\n", 2, "WarningPercent=80 %", "not an integer" },
                { "[Thresholds]\nWarningPercent=80%%\n", 2, "WarningPercent=80%%", "not an integer" },
                { "[Thresholds]\nWarningPercent=-1\n", 2, "WarningPercent=-1", "not an integer" },
                { "[Thresholds]\nWarningPercent=+1\n", 2, "WarningPercent=+1", "not an integer" },
                { "[Thresholds]\nWarningPercent=0x10\n", 2, "WarningPercent=0x10", "not an integer" },
                { "[Thresholds]\nWarningPercent=80 # warn\n", 2, "WarningPercent=80 # warn", "own" },
                { "[Thresholds]\nWarningPercent=\n", 2, "WarningPercent=", "needs a value" },
                { "[Thresholds]\nWarningPercent=0\n", 2, "WarningPercent=0", "1..99" },
                { "[Thresholds]\nWarningPercent=100\n", 2, "WarningPercent=100", "1..99" },
                { "[Thresholds]\nCriticalPercent=0\n", 2, "CriticalPercent=0", "1..100" },
                { "[Thresholds]\nCriticalPercent=101%\n", 2, "CriticalPercent=101%", "1..100" },
                { "[Thresholds]\nCriticalPercent=99999999999999999999\n", 2, "CriticalPercent=9999",
                  "1..100" },
                { "[Thresholds]\nHysteresisPercent=51\n", 2, "HysteresisPercent=51", "0..50" },
                { "[Scan]\nBackend=ebpf\n", 2, "Backend=ebpf", "auto, bpf or procfs" },
                { "[Scan]\nBackend=BPF\n", 2, "Backend=BPF", "auto, bpf or procfs" },
                { "[Scan]\nBackend=\n", 2, "Backend=", "auto, bpf or procfs" },
                { "[Watch]\nUnits=a.service,b.service\n", 2, "'a.service,b.service'", "with spaces" },
                { "[Watch]\nUnits=a/b.service\n", 2, "Units=a/b.service", "not a unit name or glob" },
                { "[Watch]\nUnits=ingester\n", 2, "'ingester'", "unit type suffix" },
                { "[Watch]\nUnits=ingester.servcie\n", 2, "'ingester.servcie'", "unit type suffix" },
                { "[Watch]\nUnits=ingester@.service\n", 2, "'ingester@.service' is a template",
                  "use ingester@*.service" },
                { "[Watch]\nunits=a.service\n", 2, "units=a.service", "case-sensitive: Units" },
                { "[Watch]\nUnits: a.service\n", 2, "'Units: a.service'", "expected Key=value" },
                /* No newline at the end of the file. */
                { "[Watch]\nUnits=a.service\n[Scan] x", 3, "[Scan] x", "after the section header" },
                { "[Watch]\nUnits=a.service\n[Sca", 3, "'[Sca'", "lacks ']'" },
                /* Cross-key checks point at whichever of the pair was assigned last. */
                { "[Thresholds]\nWarningPercent=95\n", 2,
                  "WarningPercent=95 must be below CriticalPercent=95", "(the default)" },
                { "[Thresholds]\nWarningPercent=85\nCriticalPercent=85\n", 3,
                  "CriticalPercent=85 must be above WarningPercent=85", "mapguardd.conf:2)" },
                { "[Thresholds]\nCriticalPercent=70\nWarningPercent=75\n", 3,
                  "WarningPercent=75 must be below CriticalPercent=70", "mapguardd.conf:2)" },
                { "[Thresholds]\nHysteresisPercent=30\nWarningPercent=30\n", 3,
                  "WarningPercent=30 must be above HysteresisPercent=30", NULL },
                { "[Thresholds]\nWarningPercent=20\nHysteresisPercent=25\n", 3,
                  "HysteresisPercent=25 must be below WarningPercent=20", NULL },
                { "[Export]\nTextfileDirectory=var/lib/x\n", 2, "TextfileDirectory=var/lib/x",
                  "absolute, normalized" },
                { "[Export]\nTextfileDirectory=/var/lib/../x\n", 2, "/var/lib/../x", "normalized" },
                { "[Export]\nTextfileDirectory=/var/./x\n", 2, "/var/./x", "normalized" },
                { "[Export]\nTextfileDirectory=/var//x\n", 2, "/var//x", "normalized" },
                { "[Export]\nTextfileDirectory=/var/x/\n", 2, "/var/x/", "normalized" },
                { "[Export]\nTextfileDirectory=/var/x # here\n", 2, "/var/x # here", "own" },
                { "[Scan]\nTextfileDirectory=/var/x\n", 2, "TextfileDirectory=/var/x",
                  "belongs in [Export]" },
                /* What the file says is quoted escaped: no terminal control reaches the journal. */
                { "[Scan]\nBackend=\x1b[2J\rbpf\n", 2, "Backend=\\x1b[2J\\rbpf", "auto, bpf or procfs" },
                /* The first error wins, also over inih's own syntax errors. */
                { "[Watch]\nnonsense\n[Scan]\nFoo=1\n", 2, "'nonsense'", NULL },
                { "[Scan]\nFoo=1\nnonsense\n", 2, "Foo=1", NULL },
        };
        const char *root = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                testfs_write_str(root, MAIN, cases[i].content);
                load_fail(root, -EINVAL, MAIN, cases[i].line, cases[i].needle1, cases[i].needle2, NULL);
        }
}

static void test_long_lines(void **state) {
        const char *root = *state;
        char line[512];

        /* 198 bytes and a newline fit libinih 55's 200-byte buffer (with the NUL). */
        memset(line, 0, sizeof(line));
        strcpy(line, "Units=a.service");
        size_t n = strlen(line);
        while (n < 198 - strlen(" z.service"))
                n += (size_t) sprintf(line + n, " %c.service", (char) ('a' + (n % 26)));
        while (n < 198)
                line[n++] = ' ';
        assert_int_equal(strlen(line), 198);
        _cleanup_free_ char *ok = NULL;
        assert_true(asprintf(&ok, "[Watch]\n%s\n", line) >= 0);
        testfs_write_str(root, MAIN, ok);
        Config *c = load_ok(root);
        config_free(c);

        /* One more byte: inih would split it and parse the tail as a line of its own. Refuse, with the
         * line number. Comments too: the tail of a long comment would be parsed as a setting. */
        line[198] = 'x';
        line[199] = '\0';
        _cleanup_free_ char *bad = NULL;
        assert_true(asprintf(&bad, "[Watch]\n\n%s\n", line) >= 0);
        testfs_write_str(root, MAIN, bad);
        load_fail(root, -EINVAL, MAIN, 3, "line too long (199 bytes, at most 198", NULL);

        memset(line, 0, sizeof(line));
        line[0] = '#';
        memset(line + 1, ' ', 300);
        strcpy(line + 301, "WarningPercent=99");
        free(bad);
        assert_true(asprintf(&bad, "[Thresholds]\n%s\n", line) >= 0);
        testfs_write_str(root, MAIN, bad);
        load_fail(root, -EINVAL, MAIN, 2, "line too long (318 bytes", NULL);
}

static void test_nul_byte(void **state) {
        const char *root = *state;
        static const char content[] = "[Scan]\nBackend=bpf\0procfs\n";
        testfs_write(root, MAIN, content, sizeof(content) - 1);
        load_fail(root, -EINVAL, MAIN, 2, "NUL byte", NULL);
}

static void test_globs(void **state) {
        const char *root = *state;
        Config *c = load_ok(root);
        assert_true(config_matches_unit(c, "foo.service"));
        assert_true(config_matches_unit(c, "docker-0123abcd.scope"));
        assert_false(config_matches_unit(c, "user.slice"));
        assert_false(config_matches_unit(c, NULL));
        assert_false(config_matches_unit(NULL, "foo.service"));
        config_free(c);

        /* Added to the default, a glob matches what the default matched and more. */
        testfs_write_str(root, MAIN, "[Watch]\nUnits=ingester@*.service user-*.slice\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "foo.scope"));
        assert_true(config_matches_unit(c, "user-1000.slice"));
        assert_false(config_matches_unit(c, "system.slice"));
        config_free(c);

        testfs_write_str(root, MAIN, "[Watch]\nUnits=\nUnits=*.service ingester@*.service\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "foo.service"));
        assert_false(config_matches_unit(c, "foo.scope"));
        config_free(c);

        testfs_write_str(root, MAIN, "[Watch]\nUnits=\nUnits=ingester@*.service db-[0-9].service\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "ingester@1.service"));
        assert_true(config_matches_unit(c, "ingester@zone-a.service"));
        assert_false(config_matches_unit(c, "ingester.service"));
        assert_false(config_matches_unit(c, "ingester@1.scope"));
        assert_true(config_matches_unit(c, "db-7.service"));
        assert_false(config_matches_unit(c, "db-x.service"));
        config_free(c);

        /* systemd's escapes are part of the name, with or without a glob: a backslash escapes nothing. */
        testfs_write_str(root, MAIN,
                         "[Watch]\nUnits=\nUnits=esc\\x2dname.service ingester@a\\x2d*.service\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "esc\\x2dname.service"));
        assert_false(config_matches_unit(c, "escx2dname.service"));
        assert_true(config_matches_unit(c, "ingester@a\\x2db.service"));
        assert_false(config_matches_unit(c, "ingester@ax2db.service"));
        config_free(c);
}

/* The shipped units/mapguardd.conf must load as is, and with every setting uncommented it must still
 * give exactly the built-in defaults: its comments claim so. */
static void test_shipped_default_config(void **state) {
        const char *root = *state;
        const char *src = getenv("MAPGUARD_SOURCE_ROOT");
        if (!src) {
                print_message("# MAPGUARD_SOURCE_ROOT unset (not run by meson test), skipping\n");
                skip();
        }
        _cleanup_free_ char *path = testfs_path(src, "/units/mapguardd.conf");
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        assert_non_null(f);

        _cleanup_free_ char *as_is = NULL, *uncommented = NULL;
        size_t as_is_len = 0, uncommented_len = 0;
        FILE *a = open_memstream(&as_is, &as_is_len), *u = open_memstream(&uncommented, &uncommented_len);
        assert_non_null(a);
        assert_non_null(u);
        unsigned settings = 0;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                fputs(line, a);
                /* "#Key=value" is a commented-out setting; "# text" is prose. */
                bool setting = line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && strchr(line, '=');
                fputs(setting ? line + 1 : line, u);
                settings += setting;
        }
        assert_int_equal(fclose(a), 0);
        assert_int_equal(fclose(u), 0);
        assert_int_equal(settings, 7);

        Config *d = config_new_default();
        assert_non_null(d);

        testfs_write_str(root, MAIN, as_is);
        Config *c = load_ok(root);
        assert_true(config_equal(c, d));
        config_free(c);

        testfs_write_str(root, MAIN, uncommented);
        c = load_ok(root);
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);
}

static void test_textfile_directory(void **state) {
        const char *root = *state;
        Config *c = load_ok(root);

        assert_string_equal(c->textfile_directory, "/var/lib/prometheus/node-exporter");
        config_free(c);

        testfs_write_str(root, MAIN, "[Export]\nTextfileDirectory=/run/node-exporter/textfile.d\n");
        c = load_ok(root);
        assert_string_equal(c->textfile_directory, "/run/node-exporter/textfile.d");
        config_free(c);

        /* Empty: off; a later assignment turns it on again, "/" is a normalized path. */
        testfs_write_str(root, MAIN, "[Export]\nTextfileDirectory=\n");
        c = load_ok(root);
        assert_null(c->textfile_directory);
        Config *d = config_new_default();
        assert_non_null(d);
        assert_false(config_equal(c, d));
        config_free(c);
        testfs_write_str(root, ETC_D "/50-export.conf", "[Export]\nTextfileDirectory=/\n");
        c = load_ok(root);
        assert_string_equal(c->textfile_directory, "/");
        assert_false(config_equal(c, d));
        config_free(c);
        config_free(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_defaults_no_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_main_file_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_key_last_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interval_spans, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
                cmocka_unit_test_setup_teardown(test_globs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shipped_default_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_textfile_directory, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
