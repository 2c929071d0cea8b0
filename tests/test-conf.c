/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* config_load() on fixture trees built in a fresh temporary root per test. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf() */
#endif

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "conf.h"
#include "util.h"

#define MAIN "/etc/mapguard/mapguardd.conf"
#define USR_D "/usr/lib/mapguard/mapguardd.conf.d"
#define RUN_D "/run/mapguard/mapguardd.conf.d"
#define ETC_D "/etc/mapguard/mapguardd.conf.d"

static char *path_join(const char *root, const char *rel) {
        char *s;
        assert_true(asprintf(&s, "%s%s", root, rel) >= 0);
        return s;
}

static void mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        assert_non_null(p);
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0)
                        assert_int_equal(errno, EEXIST);
                *s = '/';
        }
}

/* Writes CONTENT (LEN bytes; SIZE_MAX: strlen) to ROOT/REL, creating the directories. */
static void write_file_len(const char *root, const char *rel, const char *content, size_t len) {
        _cleanup_free_ char *p = path_join(root, rel);
        mkdir_parents(p);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        if (len == SIZE_MAX)
                len = strlen(content);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
}

static void write_file(const char *root, const char *rel, const char *content) {
        write_file_len(root, rel, content, SIZE_MAX);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        char *d = strdup("/tmp/test-conf-XXXXXX");
        if (!d || !mkdtemp(d))
                return -1;
        /* World-traversable, for the test that drops privileges. */
        if (chmod(d, 0755) < 0)
                return -1;
        /* The environment of the test runner must not leak into the lookup. */
        unsetenv("CONFIGURATION_DIRECTORY");
        *state = d;
        return 0;
}

static int teardown(void **state) {
        char *d = *state;
        int r = nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(d);
        return r;
}

/* Loads from ROOT and expects success. */
static Config *load_ok(const char *root) {
        Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r = config_load(root, NULL, &c, &error);
        if (r < 0)
                print_error("unexpected error %d: %s\n", r, error ? error : "(none)");
        assert_int_equal(r, 0);
        assert_null(error);
        assert_non_null(c);
        return c;
}

/* Loads from ROOT and expects failure R with a message that starts with ROOT+REL:LINE: and contains
 * every string in the NULL-terminated varargs. *ret must stay untouched. */
static void load_fail(const char *root, int expected_r, const char *rel, unsigned line, ...) {
        Config *sentinel = (Config *)(uintptr_t)0x1, *c = sentinel;
        _cleanup_free_ char *error = NULL, *prefix = NULL;
        int r = config_load(root, NULL, &c, &error);

        assert_true(asprintf(&prefix, "%s%s:%u: ", root, rel, line) >= 0);
        if (r != expected_r || !error || strncmp(error, prefix, strlen(prefix)) != 0)
                print_error("expected %d with prefix '%s', got %d: %s\n", expected_r, prefix, r,
                            error ? error : "(none)");
        assert_int_equal(r, expected_r);
        assert_ptr_equal(c, sentinel);
        assert_non_null(error);
        assert_true(strncmp(error, prefix, strlen(prefix)) == 0);

        va_list ap;
        va_start(ap, line);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
                if (!strstr(error, s))
                        print_error("'%s' lacks '%s'\n", error, s);
                assert_non_null(strstr(error, s));
        }
        va_end(ap);
}

static void assert_units(const Config *c, ...) {
        va_list ap;
        size_t i = 0;
        va_start(ap, c);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *), i++) {
                assert_non_null(c->units[i]);
                assert_string_equal(c->units[i], s);
        }
        va_end(ap);
        assert_null(c->units[i]);
}

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
        write_file(root, MAIN,
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
        write_file(root, MAIN,
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
        write_file(root, MAIN, "\xef\xbb\xbf[Scan]\nBackend=bpf\n");
        Config *c = load_ok(root);
        assert_int_equal(c->backend, BACKEND_BPF);
        config_free(c);
}

static void test_dropin_order(void **state) {
        const char *root = *state;
        /* Applied by file name across the three directories: 10 (usr), 15 (etc), 20 (run), 30 (usr). */
        write_file(root, MAIN, "[Thresholds]\nWarningPercent=60\nCriticalPercent=99\n");
        write_file(root, USR_D "/10-a.conf", "[Thresholds]\nWarningPercent=70\n[Scan]\nIntervalSec=5\n");
        write_file(root, ETC_D "/15-c.conf", "[Thresholds]\nWarningPercent=72\n");
        write_file(root, RUN_D "/20-b.conf", "[Thresholds]\nWarningPercent=75\n");
        write_file(root, USR_D "/30-d.conf", "[Scan]\nIntervalSec=2s\n");
        /* Not *.conf, or hidden: never read, even though they are invalid. */
        write_file(root, ETC_D "/40-e.conf.bak", "garbage\n");
        write_file(root, ETC_D "/.41-f.conf", "garbage\n");
        write_file(root, ETC_D "/.conf", "garbage\n");

        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 75);
        assert_int_equal(c->critical_percent, 99);
        assert_true(c->interval_usec == 2 * USEC_PER_SEC);
        config_free(c);
}

static void test_dropin_masking(void **state) {
        const char *root = *state;
        /* Invalid files that a same-named file in a higher directory masks are never parsed. */
        write_file(root, USR_D "/50-x.conf", "this is not ini\n");
        write_file(root, RUN_D "/50-x.conf", "[Thresholds]\nCriticalPercent=98\n");
        write_file(root, USR_D "/60-y.conf", "[Nope]\n");
        write_file(root, RUN_D "/60-y.conf", "[Nope]\n");
        write_file(root, ETC_D "/60-y.conf", "[Thresholds]\nCriticalPercent=97\n");

        Config *c = load_ok(root);
        assert_int_equal(c->critical_percent, 97);
        config_free(c);

        /* Without the /etc file, 60-y.conf from /run is read and refused. */
        _cleanup_free_ char *p = path_join(root, ETC_D "/60-y.conf");
        assert_int_equal(unlink(p), 0);
        load_fail(root, -EINVAL, RUN_D "/60-y.conf", 1, "[Nope]", "unknown section", NULL);
}

static void test_dropin_mask_devnull_and_empty(void **state) {
        const char *root = *state;
        write_file(root, USR_D "/50-x.conf", "[Thresholds]\nCriticalPercent=98\n");
        write_file(root, USR_D "/60-y.conf", "[Thresholds]\nWarningPercent=50\n");
        write_file(root, ETC_D "/60-y.conf", "");
        _cleanup_free_ char *link = path_join(root, ETC_D "/50-x.conf");
        assert_int_equal(symlink("/dev/null", link), 0);

        Config *c = load_ok(root), *d = config_new_default();
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);

        /* The main file masked by /dev/null is just as fine. */
        _cleanup_free_ char *main_path = path_join(root, MAIN);
        assert_int_equal(symlink("/dev/null", main_path), 0);
        c = load_ok(root);
        config_free(c);
}

static void test_units_accumulate(void **state) {
        const char *root = *state;
        /* The default is the list's first value; lines and files add to it in the merge order (main file,
         * then drop-ins by name whatever their directory), duplicates counting once at their first
         * position, the default's own entries included. */
        write_file(root, MAIN, "[Watch]\nUnits=a.service b@*.service\nUnits=c.scope *.service\n");
        write_file(root, USR_D "/20-vendor.conf", "[Watch]\nUnits=e.service *.scope\n");
        write_file(root, RUN_D "/10-more.conf", "[Watch]\nUnits=d.service a.service\n");
        Config *c = load_ok(root);
        assert_units(c, "*.service", "*.scope", "a.service", "b@*.service", "c.scope", "d.service",
                     "e.service", NULL);
        config_free(c);

        /* Restating the default changes nothing. */
        write_file(root, MAIN, "[Watch]\nUnits=" CONFIG_UNITS_DEFAULT "\n");
        _cleanup_free_ char *usr = path_join(root, USR_D "/20-vendor.conf");
        _cleanup_free_ char *run = path_join(root, RUN_D "/10-more.conf");
        assert_int_equal(unlink(usr), 0);
        assert_int_equal(unlink(run), 0);
        c = load_ok(root);
        Config *d = config_new_default();
        assert_non_null(d);
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);
}

static void test_units_reset(void **state) {
        const char *root = *state;
        Config *c;

        /* Reset then add, in one drop-in: that file's names alone, neither the default nor the main
         * file's. */
        write_file(root, MAIN, "[Watch]\nUnits=a.service b.service\n");
        write_file(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=\nUnits=ingester@*.service\n");
        c = load_ok(root);
        assert_units(c, "ingester@*.service", NULL);
        assert_true(config_matches_unit(c, "ingester@1.service"));
        assert_false(config_matches_unit(c, "a.service"));
        assert_false(config_matches_unit(c, "sshd.service"));
        config_free(c);

        /* Reset then add within the main file, later drop-ins adding on top. */
        write_file(root, MAIN,
                   "[Watch]\nUnits=a.service\nUnits=\nUnits=b.service\nUnits=c.service b.service\n");
        write_file(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=d.service\n");
        c = load_ok(root);
        assert_units(c, "b.service", "c.service", "d.service", NULL);
        config_free(c);

        /* The reset acts where it falls in the merge order: a drop-in named earlier adds before it and
         * loses its names, one named later adds after it and keeps them, whatever the directories. */
        write_file(root, MAIN, "[Watch]\nUnits=a.service\n");
        write_file(root, ETC_D "/05-early.conf", "[Watch]\nUnits=early.service\n");
        write_file(root, USR_D "/10-replace.conf", "[Watch]\nUnits=\n");
        write_file(root, RUN_D "/10-replace.conf", "[Watch]\nUnits=\nUnits=x.service\n");
        write_file(root, USR_D "/30-late.conf", "[Watch]\nUnits=late.service\n");
        c = load_ok(root);
        assert_units(c, "x.service", "late.service", NULL);
        config_free(c);

        /* A same-named empty file in /etc masks the /run reset: back to the default plus everything. */
        write_file(root, ETC_D "/10-replace.conf", "");
        c = load_ok(root);
        assert_units(c, "*.service", "*.scope", "a.service", "early.service", "late.service", NULL);
        config_free(c);
}

/* A reset with nothing after it leaves an empty list, not the default: nothing is watched. */
static void test_units_reset_alone(void **state) {
        const char *root = *state;
        write_file(root, MAIN, "[Watch]\nUnits=a.service\n");
        write_file(root, ETC_D "/90-none.conf", "[Watch]\nUnits=   \n");
        Config *c = load_ok(root), *d = config_new_default();
        assert_non_null(d);
        assert_non_null(c->units);
        assert_units(c, NULL);
        assert_false(config_matches_unit(c, "a.service"));
        assert_false(config_matches_unit(c, "sshd.service"));
        assert_false(config_matches_unit(c, "session-1.scope"));
        assert_false(config_equal(c, d));
        config_free(c);

        /* Equal to another empty list, and the reset repeated changes nothing. */
        write_file(root, MAIN, "[Watch]\nUnits=\n");
        Config *e = load_ok(root);
        assert_units(e, NULL);
        c = load_ok(root);
        assert_true(config_equal(c, e));
        config_free(c);
        config_free(e);
        config_free(d);
}

static void test_configuration_directory(void **state) {
        const char *root = *state;
        _cleanup_free_ char *env = NULL, *first = path_join(root, "/state/conf");
        assert_true(asprintf(&env, "%s:%s/other", first, root) >= 0);

        write_file(root, "/state/conf/mapguardd.conf", "[Thresholds]\nWarningPercent=50\n");
        write_file(root, "/state/conf/mapguardd.conf.d/10-a.conf", "[Thresholds]\nCriticalPercent=60\n");
        write_file(root, "/other/mapguardd.conf", "[Thresholds]\nWarningPercent=51\n");
        write_file(root, MAIN, "[Thresholds]\nWarningPercent=52\n");
        assert_int_equal(setenv("CONFIGURATION_DIRECTORY", env, 1), 0);

        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 50);
        assert_int_equal(c->critical_percent, 60);
        config_free(c);

        /* An explicit directory wins over the environment. */
        _cleanup_free_ char *other = path_join(root, "/other/");
        _cleanup_free_ char *error = NULL;
        c = NULL;
        assert_int_equal(config_load(root, other, &c, &error), 0);
        assert_int_equal(c->warning_percent, 51);
        config_free(c);

        /* Errors name the file found through the environment. */
        write_file(root, "/state/conf/mapguardd.conf", "[Thresholds]\nWarningPercent=x\n");
        load_fail(root, -EINVAL, "/state/conf/mapguardd.conf", 2, "WarningPercent=x", NULL);

        /* Empty: ROOT/etc/mapguard again. */
        assert_int_equal(setenv("CONFIGURATION_DIRECTORY", "", 1), 0);
        c = load_ok(root);
        assert_int_equal(c->warning_percent, 52);
        config_free(c);
        unsetenv("CONFIGURATION_DIRECTORY");
}

static void test_interval_spans(void **state) {
        static const struct {
                const char *value;
                uint64_t usec;
        } good[] = {
                {"10", 10 * USEC_PER_SEC},         {"500ms", 500 * USEC_PER_MSEC},
                {"100ms", 100 * USEC_PER_MSEC},    {"0.1", 100 * USEC_PER_MSEC},
                {"1.5", 1500 * USEC_PER_MSEC},     {"2s", 2 * USEC_PER_SEC},
                {"2 sec", 2 * USEC_PER_SEC},       {"1min", 60 * USEC_PER_SEC},
                {"1m", 60 * USEC_PER_SEC},         {"1min 30s", 90 * USEC_PER_SEC},
                {"1min30s", 90 * USEC_PER_SEC},    {"1h", 3600 * USEC_PER_SEC},
                {"3600", 3600 * USEC_PER_SEC},     {"59min 60s", 3600 * USEC_PER_SEC},
                {"250000us", 250 * USEC_PER_MSEC}, {"0.5minutes", 30 * USEC_PER_SEC},
        };
        const char *root = *state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *content = NULL;
                assert_true(asprintf(&content, "[Scan]\nIntervalSec=%s\n", good[i].value) >= 0);
                write_file(root, MAIN, content);
                Config *c = load_ok(root);
                if (c->interval_usec != good[i].usec)
                        print_error("IntervalSec=%s gave %ju\n", good[i].value, (uintmax_t)c->interval_usec);
                assert_true(c->interval_usec == good[i].usec);
                config_free(c);
        }

        static const struct {
                const char *value;
                const char *reason;
        } bad[] = {
                {"99ms", "out of range"},
                {"0", "out of range"},
                {"1h 1s", "out of range"},
                {"2d", "out of range"},
                {"99999999999999999999", "out of range"},
                {"18446744073709551615w", "out of range"},
                {"10 parsecs", "not a time span"},
                {"-5", "not a time span"},
                {"1.min", "not a time span"},
                {"min", "not a time span"},
                {"5s,", "not a time span"},
                {"10 # seconds", "comments must be on a line of their own"},
                {"", "needs a value"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *content = NULL, *needle = NULL;
                assert_true(asprintf(&content, "[Scan]\nIntervalSec=%s\n", bad[i].value) >= 0);
                assert_true(asprintf(&needle, "IntervalSec=%s", bad[i].value) >= 0);
                write_file(root, MAIN, content);
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
                {"[Watch]\n[Foo]\nBar=1\n", 2, "[Foo]", "unknown section"},
                {"[watch]\n", 1, "[watch]", "unknown section"},
                {"[Scan]\nFoo=1\n", 2, "Foo=1", "unknown key in [Scan]"},
                {"[Watch]\nBackend=bpf\n", 2, "Backend=bpf", "belongs in [Scan]"},
                {"Units=a.service\n", 1, "Units=a.service", "outside of a section"},
                {"[Watch\nUnits=a.service\n", 1, "[Watch", "lacks ']'"},
                {"[Watch] Units=a.service\n", 1, "[Watch] Units=a.service", "after the section header"},
                {"[Watch]\nUnits\n", 2, "'Units'", "expected Key=value"},
                {"[Watch]\n  Units=a.service\n", 2, "Units=a.service", "starts with whitespace"},
                {"[Watch]\nUnits=a.service\n\tb.service\n", 3, "b.service", "starts with whitespace"},
                {"[Thresholds]\nWarningPercent=abc\n", 2, "WarningPercent=abc", "not an integer"},
                {"[Thresholds]\nWarningPercent=80x\n", 2, "WarningPercent=80x", "not an integer"},
                {"[Thresholds]\nWarningPercent=80 %\n", 2, "WarningPercent=80 %", "not an integer"},
                {"[Thresholds]\nWarningPercent=80%%\n", 2, "WarningPercent=80%%", "not an integer"},
                {"[Thresholds]\nWarningPercent=-1\n", 2, "WarningPercent=-1", "not an integer"},
                {"[Thresholds]\nWarningPercent=+1\n", 2, "WarningPercent=+1", "not an integer"},
                {"[Thresholds]\nWarningPercent=0x10\n", 2, "WarningPercent=0x10", "not an integer"},
                {"[Thresholds]\nWarningPercent=80 # warn\n", 2, "WarningPercent=80 # warn", "own"},
                {"[Thresholds]\nWarningPercent=\n", 2, "WarningPercent=", "needs a value"},
                {"[Thresholds]\nWarningPercent=0\n", 2, "WarningPercent=0", "1..99"},
                {"[Thresholds]\nWarningPercent=100\n", 2, "WarningPercent=100", "1..99"},
                {"[Thresholds]\nCriticalPercent=0\n", 2, "CriticalPercent=0", "1..100"},
                {"[Thresholds]\nCriticalPercent=101%\n", 2, "CriticalPercent=101%", "1..100"},
                {"[Thresholds]\nCriticalPercent=99999999999999999999\n", 2, "CriticalPercent=9999",
                 "1..100"},
                {"[Thresholds]\nHysteresisPercent=51\n", 2, "HysteresisPercent=51", "0..50"},
                {"[Scan]\nBackend=ebpf\n", 2, "Backend=ebpf", "auto, bpf or procfs"},
                {"[Scan]\nBackend=BPF\n", 2, "Backend=BPF", "auto, bpf or procfs"},
                {"[Scan]\nBackend=\n", 2, "Backend=", "auto, bpf or procfs"},
                {"[Watch]\nUnits=a.service,b.service\n", 2, "'a.service,b.service'", "with spaces"},
                {"[Watch]\nUnits=a/b.service\n", 2, "Units=a/b.service", "not a unit name or glob"},
                {"[Watch]\nUnits=ingester\n", 2, "'ingester'", "unit type suffix"},
                {"[Watch]\nUnits=ingester.servcie\n", 2, "'ingester.servcie'", "unit type suffix"},
                {"[Watch]\nUnits=ingester@.service\n", 2, "'ingester@.service' is a template",
                 "use ingester@*.service"},
                {"[Watch]\nunits=a.service\n", 2, "units=a.service", "case-sensitive: Units"},
                {"[Watch]\nUnits: a.service\n", 2, "'Units: a.service'", "expected Key=value"},
                /* No newline at the end of the file. */
                {"[Watch]\nUnits=a.service\n[Scan] x", 3, "[Scan] x", "after the section header"},
                {"[Watch]\nUnits=a.service\n[Sca", 3, "'[Sca'", "lacks ']'"},
                /* Cross-key checks point at whichever of the pair was assigned last. */
                {"[Thresholds]\nWarningPercent=95\n", 2,
                 "WarningPercent=95 must be below CriticalPercent=95", "(the default)"},
                {"[Thresholds]\nWarningPercent=85\nCriticalPercent=85\n", 3,
                 "CriticalPercent=85 must be above WarningPercent=85", "mapguardd.conf:2)"},
                {"[Thresholds]\nCriticalPercent=70\nWarningPercent=75\n", 3,
                 "WarningPercent=75 must be below CriticalPercent=70", "mapguardd.conf:2)"},
                {"[Thresholds]\nHysteresisPercent=30\nWarningPercent=30\n", 3,
                 "WarningPercent=30 must be above HysteresisPercent=30", NULL},
                {"[Thresholds]\nWarningPercent=20\nHysteresisPercent=25\n", 3,
                 "HysteresisPercent=25 must be below WarningPercent=20", NULL},
                /* The first error wins, also over inih's own syntax errors. */
                {"[Watch]\nnonsense\n[Scan]\nFoo=1\n", 2, "'nonsense'", NULL},
                {"[Scan]\nFoo=1\nnonsense\n", 2, "Foo=1", NULL},
        };
        const char *root = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                write_file(root, MAIN, cases[i].content);
                load_fail(root, -EINVAL, MAIN, cases[i].line, cases[i].needle1, cases[i].needle2, NULL);
        }
}

static void test_cross_file_inconsistency(void **state) {
        const char *root = *state;
        write_file(root, MAIN, "[Thresholds]\nCriticalPercent=90\n");
        write_file(root, RUN_D "/10-a.conf", "# raise the warning\n[Thresholds]\nWarningPercent=92\n");
        _cleanup_free_ char *where = NULL;
        assert_true(asprintf(&where, "set at %s" MAIN ":2", root) >= 0);
        load_fail(root, -EINVAL, RUN_D "/10-a.conf", 3, "WarningPercent=92 must be below CriticalPercent=90",
                  where, NULL);

        /* Consistent only after the merge: fine. */
        write_file(root, MAIN, "[Thresholds]\nWarningPercent=96\n");
        write_file(root, RUN_D "/10-a.conf", "[Thresholds]\nCriticalPercent=99\n");
        Config *c = load_ok(root);
        assert_int_equal(c->warning_percent, 96);
        assert_int_equal(c->critical_percent, 99);
        config_free(c);
}

static void test_error_in_dropin(void **state) {
        const char *root = *state;
        write_file(root, MAIN, "[Watch]\nUnits=a.service\n");
        write_file(root, ETC_D "/20-bad.conf", "\n\n[Scan]\nIntervalSec=soon\n");
        load_fail(root, -EINVAL, ETC_D "/20-bad.conf", 4, "IntervalSec=soon", NULL);
}

static void test_long_lines(void **state) {
        const char *root = *state;
        char line[512];

        /* 198 bytes and a newline fit libinih 55's 200-byte buffer (with the NUL). */
        memset(line, 0, sizeof(line));
        strcpy(line, "Units=a.service");
        size_t n = strlen(line);
        while (n < 198 - strlen(" z.service"))
                n += (size_t)sprintf(line + n, " %c.service", (char)('a' + (n % 26)));
        while (n < 198)
                line[n++] = ' ';
        assert_int_equal(strlen(line), 198);
        _cleanup_free_ char *ok = NULL;
        assert_true(asprintf(&ok, "[Watch]\n%s\n", line) >= 0);
        write_file(root, MAIN, ok);
        Config *c = load_ok(root);
        config_free(c);

        /* One more byte: inih would split it and parse the tail as a line of its own. Refuse, with the
         * line number. Comments too: the tail of a long comment would be parsed as a setting. */
        line[198] = 'x';
        line[199] = '\0';
        _cleanup_free_ char *bad = NULL;
        assert_true(asprintf(&bad, "[Watch]\n\n%s\n", line) >= 0);
        write_file(root, MAIN, bad);
        load_fail(root, -EINVAL, MAIN, 3, "line too long (199 bytes, at most 198", NULL);

        memset(line, 0, sizeof(line));
        line[0] = '#';
        memset(line + 1, ' ', 300);
        strcpy(line + 301, "WarningPercent=99");
        free(bad);
        assert_true(asprintf(&bad, "[Thresholds]\n%s\n", line) >= 0);
        write_file(root, MAIN, bad);
        load_fail(root, -EINVAL, MAIN, 2, "line too long (318 bytes", NULL);
}

static void test_nul_byte(void **state) {
        const char *root = *state;
        static const char content[] = "[Scan]\nBackend=bpf\0procfs\n";
        write_file_len(root, MAIN, content, sizeof(content) - 1);
        load_fail(root, -EINVAL, MAIN, 2, "NUL byte", NULL);
}

static void test_wrong_file_types(void **state) {
        const char *root = *state;
        _cleanup_free_ char *main_path = path_join(root, MAIN);
        mkdir_parents(main_path);

        assert_int_equal(mkdir(main_path, 0755), 0);
        load_fail(root, -EISDIR, MAIN, 0, "is a directory", NULL);
        assert_int_equal(rmdir(main_path), 0);

        _cleanup_free_ char *dropin_dir = path_join(root, ETC_D "/10-dir.conf");
        mkdir_parents(dropin_dir);
        assert_int_equal(mkdir(dropin_dir, 0755), 0);
        load_fail(root, -EISDIR, ETC_D "/10-dir.conf", 0, "is a directory", NULL);
        assert_int_equal(rmdir(dropin_dir), 0);

        /* The drop-in directory itself a file. */
        write_file(root, RUN_D, "[Scan]\n");
        load_fail(root, -ENOTDIR, RUN_D, 0, "is not a directory", NULL);
        _cleanup_free_ char *run_d = path_join(root, RUN_D);
        assert_int_equal(unlink(run_d), 0);

        _cleanup_free_ char *fifo = path_join(root, USR_D "/10-fifo.conf");
        mkdir_parents(fifo);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        load_fail(root, -EINVAL, USR_D "/10-fifo.conf", 0, "not a regular file", NULL);
}

/* Runs config_load() on ROOT as uid 65534 in a child (setuid() also clears the capabilities that let root
 * read anything) and expects exactly EXPECTED as the error. Returns false when the switch is not possible
 * here. */
static bool load_fail_as_nobody(const char *root, int expected_r, const char *expected, const char *probe) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(77);
                /* Still readable (some odd LSM or an unusual uid mapping): the test would prove nothing. */
                if (access(probe, R_OK) == 0)
                        _exit(77);
                Config *c = NULL;
                char *error = NULL;
                int r = config_load(root, NULL, &c, &error);
                bool good = r == expected_r && !c && error && streq(error, expected);
                if (!good)
                        fprintf(stderr, "# expected %d '%s', got %d: %s\n", expected_r, expected, r,
                                error ? error : "(none)");
                _exit(good ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                return false;
        assert_int_equal(WEXITSTATUS(status), 0);
        return true;
}

static void test_unreadable(void **state) {
        const char *root = *state;
        _cleanup_free_ char *main_path = path_join(root, MAIN), *etc_d = path_join(root, ETC_D);
        _cleanup_free_ char *expected = NULL;

        if (geteuid() != 0) {
                print_message(
                        "# not root: cannot switch to uid 65534 to test permission errors, skipping\n");
                skip();
        }

        write_file(root, MAIN, "[Scan]\nBackend=bpf\n");
        assert_int_equal(chmod(main_path, 0000), 0);
        assert_true(asprintf(&expected, "%s:0: cannot open: %s", main_path, strerror(EACCES)) >= 0);
        if (!load_fail_as_nobody(root, -EACCES, expected, main_path)) {
                print_message("# cannot switch to uid 65534, or it can read a mode-0000 file, skipping\n");
                skip();
        }

        /* An unreadable drop-in directory is refused too, not skipped as if missing. */
        assert_int_equal(chmod(main_path, 0644), 0);
        write_file(root, ETC_D "/10-a.conf", "[Scan]\nBackend=bpf\n");
        assert_int_equal(chmod(etc_d, 0700), 0);
        free(expected);
        assert_true(asprintf(&expected, "%s:0: cannot open directory: %s", etc_d, strerror(EACCES)) >= 0);
        assert_true(load_fail_as_nobody(root, -EACCES, expected, etc_d));
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
        write_file(root, MAIN, "[Watch]\nUnits=ingester@*.service user-*.slice\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "foo.scope"));
        assert_true(config_matches_unit(c, "user-1000.slice"));
        assert_false(config_matches_unit(c, "system.slice"));
        config_free(c);

        write_file(root, MAIN, "[Watch]\nUnits=\nUnits=*.service ingester@*.service\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "foo.service"));
        assert_false(config_matches_unit(c, "foo.scope"));
        config_free(c);

        write_file(root, MAIN, "[Watch]\nUnits=\nUnits=ingester@*.service db-[0-9].service\n");
        c = load_ok(root);
        assert_true(config_matches_unit(c, "ingester@1.service"));
        assert_true(config_matches_unit(c, "ingester@zone-a.service"));
        assert_false(config_matches_unit(c, "ingester.service"));
        assert_false(config_matches_unit(c, "ingester@1.scope"));
        assert_true(config_matches_unit(c, "db-7.service"));
        assert_false(config_matches_unit(c, "db-x.service"));
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
        _cleanup_free_ char *path = path_join(src, "/units/mapguardd.conf");
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
        assert_int_equal(settings, 6);

        Config *d = config_new_default();
        assert_non_null(d);

        write_file(root, MAIN, as_is);
        Config *c = load_ok(root);
        assert_true(config_equal(c, d));
        config_free(c);

        write_file(root, MAIN, uncommented);
        c = load_ok(root);
        assert_true(config_equal(c, d));
        config_free(c);
        config_free(d);
}

static void test_backend_strings(void **state) {
        for (Backend b = 0; b < _BACKEND_MAX; b++) {
                assert_non_null(backend_to_string(b));
                assert_int_equal(backend_from_string(backend_to_string(b)), b);
        }
        assert_string_equal(backend_to_string(BACKEND_AUTO), "auto");
        assert_string_equal(backend_to_string(BACKEND_BPF), "bpf");
        assert_string_equal(backend_to_string(BACKEND_PROCFS), "procfs");
        assert_null(backend_to_string(_BACKEND_MAX));
        assert_null(backend_to_string(_BACKEND_INVALID));
        assert_int_equal(backend_from_string("Procfs"), -EINVAL);
        assert_int_equal(backend_from_string(""), -EINVAL);
        assert_int_equal(backend_from_string(NULL), -EINVAL);
}

static void test_equal(void **state) {
        Config *a = config_new_default(), *b = config_new_default();
        assert_non_null(a);
        assert_non_null(b);
        assert_true(config_equal(a, b));
        assert_true(config_equal(NULL, NULL));
        assert_false(config_equal(a, NULL));
        assert_false(config_equal(NULL, b));

        b->warning_percent++;
        assert_false(config_equal(a, b));
        b->warning_percent--;
        b->critical_percent--;
        assert_false(config_equal(a, b));
        b->critical_percent++;
        b->hysteresis_percent++;
        assert_false(config_equal(a, b));
        b->hysteresis_percent--;
        b->interval_usec++;
        assert_false(config_equal(a, b));
        b->interval_usec--;
        b->backend = BACKEND_BPF;
        assert_false(config_equal(a, b));
        b->backend = BACKEND_AUTO;
        assert_true(config_equal(a, b));

        /* Order matters (WatchedUnits shows it), and so does length. */
        char *t = b->units[0];
        b->units[0] = b->units[1];
        b->units[1] = t;
        assert_false(config_equal(a, b));
        b->units[1] = b->units[0];
        b->units[0] = t;
        assert_true(config_equal(a, b));
        free(b->units[1]);
        b->units[1] = NULL;
        assert_false(config_equal(a, b));
        free(b->units[0]);
        b->units[0] = NULL;
        assert_false(config_equal(a, b));
        assert_true(config_equal(b, b));

        assert_null(config_free(a));
        assert_null(config_free(b));
        assert_null(config_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_defaults_no_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_main_file_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_key_last_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_masking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_mask_devnull_and_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_accumulate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_reset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_reset_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_configuration_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interval_spans, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cross_file_inconsistency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_in_dropin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_file_types, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_globs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shipped_default_config, setup, teardown),
                cmocka_unit_test(test_backend_strings),
                cmocka_unit_test(test_equal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
