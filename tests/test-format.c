/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mapguardctl's formatting: percentages, growth, times, terminal safety, colour and width decisions, and
 * the monitoring-plugin line of `check`. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "format.h"
#include "util.h"

static void test_percent(void **state) {
        assert_int_equal(format_percent(12530, 65530), 19);
        assert_int_equal(format_percent(65530, 65530), 100);
        assert_int_equal(format_percent(0, 65530), 0);
        /* Rounded down: 1 of 3 is 33%, 2 of 3 is 66% -- headroom is never overstated. */
        assert_int_equal(format_percent(1, 3), 33);
        assert_int_equal(format_percent(2, 3), 66);
        assert_int_equal(format_percent(5, 0), 0);
        /* 64-bit arithmetic: UINT32_MAX * 100 does not wrap. */
        assert_int_equal(format_percent(UINT32_MAX, UINT32_MAX), 100);
        assert_int_equal(format_percent(UINT32_MAX / 2, UINT32_MAX), 49);
        assert_int_equal(format_percent(UINT32_MAX, 1), 429496729500u);

        assert_int_equal(format_threshold(65530, 80), 52424);
        assert_int_equal(format_threshold(65530, 95), 62253);
        assert_int_equal(format_threshold(65530, 0), 0);
        assert_int_equal(format_threshold(UINT32_MAX, 95), 4080218930u);
        assert_int_equal(format_threshold(UINT32_MAX, 100), UINT32_MAX);
}

static void test_headroom(void **state) {
        char buf[FORMAT_HEADROOM_MAX];

        assert_string_equal(format_headroom(buf, sizeof(buf), 12530, 65530), "12530 (19%)");
        assert_string_equal(format_headroom(buf, sizeof(buf), 0, 65530), "0 (0%)");
        assert_string_equal(format_headroom(buf, sizeof(buf), 65530, 65530), "65530 (100%)");
        assert_string_equal(format_headroom(buf, sizeof(buf), 12, 0), "12");
        assert_string_equal(format_headroom(buf, sizeof(buf), UINT32_MAX, UINT32_MAX), "4294967295 (100%)");
}

static void test_level(void **state) {
        assert_string_equal(format_level_color("critical"), ANSI_RED);
        assert_string_equal(format_level_color("warning"), ANSI_YELLOW);
        assert_null(format_level_color("ok"));
        assert_null(format_level_color("unknown"));
        assert_null(format_level_color(NULL));

        assert_int_equal(format_level_rank("critical"), 3);
        assert_int_equal(format_level_rank("warning"), 2);
        assert_int_equal(format_level_rank("ok"), 1);
        assert_int_equal(format_level_rank("unknown"), 0);
        assert_int_equal(format_level_rank("Critical"), 0);
        assert_int_equal(format_level_rank(NULL), 0);
}

static void test_growth(void **state) {
        char buf[FORMAT_GROWTH_MAX];

        assert_string_equal(format_growth(buf, sizeof(buf), 120), "+120/min");
        assert_string_equal(format_growth(buf, sizeof(buf), -3), "-3/min");
        assert_string_equal(format_growth(buf, sizeof(buf), 0), "flat");
        assert_string_equal(format_growth(buf, sizeof(buf), -0.0), "flat");
        assert_string_equal(format_growth(buf, sizeof(buf), 0.49), "flat");
        assert_string_equal(format_growth(buf, sizeof(buf), -0.49), "flat");
        /* Halves round away from zero: a growing process never shows "+0/min". */
        assert_string_equal(format_growth(buf, sizeof(buf), 0.5), "+1/min");
        assert_string_equal(format_growth(buf, sizeof(buf), -0.5), "-1/min");
        assert_string_equal(format_growth(buf, sizeof(buf), 119.6), "+120/min");
        assert_string_equal(format_growth(buf, sizeof(buf), 1e12), "+1000000000000/min");
        assert_string_equal(format_growth(buf, sizeof(buf), NAN), "-");
        assert_string_equal(format_growth(buf, sizeof(buf), INFINITY), "-");
        assert_string_equal(format_growth(buf, sizeof(buf), -INFINITY), "-");
        /* A huge finite value is cut to the buffer, not written past it. */
        format_growth(buf, sizeof(buf), 1e300);
        assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

static void test_time_to_limit(void **state) {
        char buf[FORMAT_TIME_TO_LIMIT_MAX];

        assert_string_equal(format_time_to_limit(buf, sizeof(buf), UINT64_MAX), "never");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 0), "now");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 1), "in 1 s");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 59), "in 59 s");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 60), "in 1 min");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 42 * 60 + 59), "in 42 min");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 3600), "in 1 h");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 3 * 3600 + 5 * 60 + 30), "in 3 h 5 min");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 86400 - 1), "in 23 h 59 min");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 86400), "in 1 d");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), 2 * 86400 + 3 * 3600 + 59), "in 2 d 3 h");
        assert_string_equal(format_time_to_limit(buf, sizeof(buf), UINT64_MAX - 1),
                            "in 213503982334601 d 7 h");
}

static void test_timespan(void **state) {
        char buf[FORMAT_TIMESPAN_MAX];

        assert_string_equal(format_timespan(buf, sizeof(buf), 0), "0");
        assert_string_equal(format_timespan(buf, sizeof(buf), 1), "1us");
        assert_string_equal(format_timespan(buf, sizeof(buf), 500 * USEC_PER_MSEC), "500ms");
        assert_string_equal(format_timespan(buf, sizeof(buf), 10 * USEC_PER_SEC), "10s");
        assert_string_equal(format_timespan(buf, sizeof(buf), 60 * USEC_PER_SEC), "1min");
        assert_string_equal(format_timespan(buf, sizeof(buf), 90 * USEC_PER_SEC), "1min 30s");
        /* Two components: the seconds of "2h 5min 7s" do not matter at a glance. */
        assert_string_equal(format_timespan(buf, sizeof(buf), (2 * 3600 + 5 * 60 + 7) * USEC_PER_SEC),
                            "2h 5min");
        /* A zero in the middle ends it: "1h 7s" would read as a typo. */
        assert_string_equal(format_timespan(buf, sizeof(buf), (3600 + 7) * USEC_PER_SEC), "1h");
        assert_string_equal(format_timespan(buf, sizeof(buf), (3 * 86400 + 4 * 3600) * USEC_PER_SEC),
                            "3d 4h");
        assert_string_equal(format_timespan(buf, sizeof(buf), UINT64_MAX), "213503982d 8h");
}

static void test_ago(void **state) {
        char buf[FORMAT_TIMESPAN_MAX];
        uint64_t now = UINT64_C(1795000000) * USEC_PER_SEC;

        assert_string_equal(format_ago(buf, sizeof(buf), now, 0), "never");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now - 3 * USEC_PER_SEC), "3s ago");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now - 3 * USEC_PER_SEC - 999999), "3s ago");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now - 500 * USEC_PER_MSEC), "now");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now), "now");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now - 3725 * USEC_PER_SEC), "1h 2min ago");
        assert_string_equal(format_ago(buf, sizeof(buf), now, now + USEC_PER_SEC), "in the future");
}

static void test_timestamp(void **state) {
        char buf[FORMAT_TIMESTAMP_MAX];

        assert_int_equal(setenv("TZ", "UTC", 1), 0);
        tzset();
        assert_string_equal(format_timestamp(buf, sizeof(buf), 0), "never");
        assert_string_equal(format_timestamp(buf, sizeof(buf), UINT64_C(1795000000) * USEC_PER_SEC + 999999),
                            "Wed 2026-11-18 11:06:40 UTC");
        assert_string_equal(format_timestamp(buf, sizeof(buf), 1), "Thu 1970-01-01 00:00:00 UTC");
}

static void assert_sanitized(const char *in, const char *expected) {
        _cleanup_free_ char *s = format_sanitize(in);
        assert_non_null(s);
        assert_string_equal(s, expected);
}

static void test_sanitize(void **state) {
        assert_sanitized("", "");
        assert_sanitized("prometheus", "prometheus");
        /* A process name cannot move the cursor, recolour the terminal or break a table row. */
        assert_sanitized("evil\033[2J\n", "evil\\x1b[2J\\n");
        assert_sanitized("a\tb\rc\x7f", "a\\tb\\rc\\x7f");
        /* C1 controls (CSI as U+009B) are escape sequences to many terminals too. */
        assert_sanitized("x\xc2\x9b"
                         "31m",
                         "x\\xc2\\x9b31m");
        /* Valid UTF-8 passes, invalid bytes (a name cut inside a character) become \xNN; a backslash stays.
         */
        assert_sanitized("prométhée 日本 🙂", "prométhée 日本 🙂");
        assert_sanitized("ab\xe6\x97", "ab\\xe6\\x97");
        assert_sanitized("\xff\xfe", "\\xff\\xfe");
        assert_sanitized("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
        assert_sanitized("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
        assert_sanitized("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* beyond U+10FFFF */
        assert_sanitized("ingester@a\\x2db.service", "ingester@a\\x2db.service");
}

static void test_utf8(void **state) {
        uint32_t cp = 0;

        assert_int_equal(format_utf8_decode("A", &cp), 1);
        assert_int_equal(cp, 'A');
        assert_int_equal(format_utf8_decode("é", &cp), 2);
        assert_int_equal(cp, 0xe9);
        assert_int_equal(format_utf8_decode("日", &cp), 3);
        assert_int_equal(cp, 0x65e5);
        assert_int_equal(format_utf8_decode("🙂", &cp), 4);
        assert_int_equal(cp, 0x1f642);
        cp = 7;
        /* Truncated by the terminator: no read past it, cp untouched. */
        assert_int_equal(format_utf8_decode("\xf0\x9f", &cp), 0);
        assert_int_equal(cp, 7);
        assert_int_equal(format_utf8_decode("\x80", &cp), 0);

        assert_int_equal(format_width(""), 0);
        assert_int_equal(format_width("abc"), 3);
        assert_int_equal(format_width("prométhée"), 9);
        assert_int_equal(format_width("\xff"
                                      "a"),
                         2);
}

static void test_want_color(void **state) {
        assert_true(format_want_color(true, NULL, "xterm-256color"));
        assert_true(format_want_color(true, NULL, NULL));
        assert_false(format_want_color(false, NULL, "xterm"));
        /* NO_COLOR set to any value, the empty string included, turns colour off. */
        assert_false(format_want_color(true, "", "xterm"));
        assert_false(format_want_color(true, "1", "xterm"));
        assert_false(format_want_color(true, NULL, "dumb"));
}

static void test_columns(void **state) {
        /* fd -1: no terminal to ask, so only $COLUMNS can give a width. */
        assert_int_equal(format_columns("80", -1), 80);
        assert_int_equal(format_columns("1", -1), 1);
        assert_int_equal(format_columns(NULL, -1), 0);
        assert_int_equal(format_columns("", -1), 0);
        assert_int_equal(format_columns("0", -1), 0);
        assert_int_equal(format_columns("-5", -1), 0);
        assert_int_equal(format_columns("+80", -1), 0);
        assert_int_equal(format_columns(" 80", -1), 0);
        assert_int_equal(format_columns("80x", -1), 0);
        assert_int_equal(format_columns("abc", -1), 0);
        assert_int_equal(format_columns("99999999999999999999", -1), 0);
        assert_int_equal(format_columns("100001", -1), 0);
}

static void test_columns_terminal(void **state) {
        struct winsize ws = { .ws_row = 24, .ws_col = 123 };
        int master, slave, fds[2];

        /* A pipe is no terminal: unlimited unless $COLUMNS says otherwise. */
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(format_columns(NULL, fds[1]), 0);
        assert_int_equal(format_columns("60", fds[1]), 60);
        close(fds[0]);
        close(fds[1]);

        if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
                print_message("# no pseudo-terminal to test with: openpty() failed: %s\n", strerror(errno));
                skip();
        }
        assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
        assert_int_equal(format_columns(NULL, slave), 123);
        /* $COLUMNS wins over the terminal's size. */
        assert_int_equal(format_columns("60", slave), 60);
        /* A terminal of unknown size is taken as 80 columns wide, not as unlimited. */
        ws.ws_col = 0;
        assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
        assert_int_equal(format_columns(NULL, slave), 80);
        close(slave);
        close(master);
}

static void assert_check_watching(const Headroom *h, bool watching, int expected_code,
                                  const char *expected_line) {
        _cleanup_free_ char *line = NULL;

        assert_int_equal(format_check(h, watching, 80, 95, &line), expected_code);
        assert_non_null(line);
        assert_string_equal(line, expected_line);
}

/* format_check() as when WatchedUnits is not empty. */
static void assert_check(const Headroom *h, int expected_code, const char *expected_line) {
        assert_check_watching(h, true, expected_code, expected_line);
}

static void test_check(void **state) {
        Headroom h = {
                .unit = "ingester.service",
                .pid = 1234,
                .comm = "prometheus",
                .map_count = 53000,
                .max_map_count = 65530,
                .headroom = 12530,
                .level = "warning",
        };

        assert_check(
                &h, CHECK_WARNING,
                "MAPGUARD WARNING - ingester.service pid 1234 (prometheus) 53000/65530 maps, 12530 headroom "
                "(19%) | map_count=53000;52424;62253;0;65530 headroom=12530 max_map_count=65530");

        h.level = "critical";
        h.map_count = 63000;
        h.headroom = 2530;
        assert_check(
                &h, CHECK_CRITICAL,
                "MAPGUARD CRITICAL - ingester.service pid 1234 (prometheus) 63000/65530 maps, 2530 headroom "
                "(3%) | map_count=63000;52424;62253;0;65530 headroom=2530 max_map_count=65530");

        h.level = "ok";
        h.map_count = 100;
        h.headroom = 65430;
        assert_check(&h, CHECK_OK,
                     "MAPGUARD OK - ingester.service pid 1234 (prometheus) 100/65530 maps, 65430 headroom "
                     "(99%) | map_count=100;52424;62253;0;65530 headroom=65430 max_map_count=65530");

        h.level = "unknown";
        assert_check(&h, CHECK_UNKNOWN,
                     "MAPGUARD UNKNOWN - ingester.service pid 1234 (prometheus) level 'unknown', not "
                     "scanned yet");

        /* A level this client does not know is not OK. */
        h.level = "bogus\n";
        assert_check(&h, CHECK_UNKNOWN,
                     "MAPGUARD UNKNOWN - ingester.service pid 1234 (prometheus) level 'bogus\\n', not "
                     "scanned yet");

        h = (Headroom){ .unit = "", .comm = "", .level = "unknown" };
        assert_check(&h, CHECK_UNKNOWN, "MAPGUARD UNKNOWN - no watched process has been scanned yet");

        /* Even a level of "ok" without a unit means nothing was measured. */
        h = (Headroom){ .unit = "", .comm = "", .level = "ok", .max_map_count = 65530, .headroom = 65530 };
        assert_check(&h, CHECK_UNKNOWN, "MAPGUARD UNKNOWN - no watched process has been scanned yet");

        h = (Headroom){ .level = "critical" };
        assert_check(&h, CHECK_UNKNOWN, "MAPGUARD UNKNOWN - no watched process has been scanned yet");

        /* Nothing watched (an empty Units=, or none of its units loaded): GetHeadroom() answers as before
         * the first scan, the line says that no scan will change it. */
        h = (Headroom){
                .unit = "", .comm = "", .level = "unknown", .max_map_count = 65530, .headroom = 65530
        };
        assert_check_watching(&h, false, CHECK_UNKNOWN,
                              "MAPGUARD UNKNOWN - no unit is watched (no loaded unit matches Units=)");
        /* A unit in the answer is watched, whatever the caller thought. */
        h = (Headroom){ .unit = "a.service", .pid = 1, .comm = "x", .level = "unknown" };
        assert_check_watching(&h, false, CHECK_UNKNOWN,
                              "MAPGUARD UNKNOWN - a.service pid 1 (x) level 'unknown', not scanned yet");

        /* The line is one line: a process name cannot add another or fake the perfdata, which begins at the
         * first '|' of the line. */
        h = (Headroom){
                .unit = "a.service",
                .pid = UINT32_MAX,
                .comm = "x\n| map_count=0",
                .map_count = UINT32_MAX,
                .max_map_count = UINT32_MAX,
                .headroom = 0,
                .level = "critical",
        };
        assert_check(
                &h, CHECK_CRITICAL,
                "MAPGUARD CRITICAL - a.service pid 4294967295 (x\\n! map_count=0) 4294967295/4294967295 "
                "maps, 0 "
                "headroom (0%) | map_count=4294967295;3435973836;4080218930;0;4294967295 headroom=0 "
                "max_map_count=4294967295");

        /* prctl(PR_SET_NAME) lets any user name a process so; every '|' goes, not only the first. */
        h = (Headroom){
                .unit = "pipe.service",
                .pid = 6792,
                .comm = "java|x=1;2;3|",
                .map_count = 64020,
                .max_map_count = 65530,
                .headroom = 1510,
                .level = "critical",
        };
        assert_check(
                &h, CHECK_CRITICAL,
                "MAPGUARD CRITICAL - pipe.service pid 6792 (java!x=1;2;3!) 64020/65530 maps, 1510 headroom "
                "(2%) | map_count=64020;52424;62253;0;65530 headroom=1510 max_map_count=65530");

        /* Unit names cannot hold '|', nor levels; the line does not rely on it, without perfdata either. */
        h = (Headroom){ .unit = "a|b.service", .pid = 7, .comm = "c|d", .level = "un|known" };
        assert_check(&h, CHECK_UNKNOWN,
                     "MAPGUARD UNKNOWN - a!b.service pid 7 (c!d) level 'un!known', not scanned yet");

        assert_string_equal(format_check_status(CHECK_OK), "OK");
        assert_string_equal(format_check_status(CHECK_WARNING), "WARNING");
        assert_string_equal(format_check_status(CHECK_CRITICAL), "CRITICAL");
        assert_string_equal(format_check_status(CHECK_UNKNOWN), "UNKNOWN");
        assert_string_equal(format_check_status(42), "UNKNOWN");
}

static void test_check_sanitize(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        a = format_check_sanitize("java|x=1;2;3");
        assert_string_equal(a, "java!x=1;2;3");
        b = format_check_sanitize("||\n|\r|\t");
        assert_string_equal(b, "!!\\n!\\r!\\t");
        /* Multi-byte characters stay whole; a byte that is not UTF-8 is escaped as in format_sanitize(). */
        c = format_check_sanitize("日本|\xff");
        assert_string_equal(c, "日本!\\xff");
        d = format_check_sanitize("");
        assert_string_equal(d, "");
        /* The terminal's sanitizing keeps '|': only the plugin line gives it a meaning. */
        free(a);
        a = format_sanitize("a|b");
        assert_string_equal(a, "a|b");
}

static char *wrapped(const char *text, size_t width, size_t indent) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        format_wrap(f, text, width, indent);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_wrapped(const char *text, size_t width, size_t indent, const char *expected) {
        _cleanup_free_ char *s = wrapped(text, width, indent);
        assert_string_equal(s, expected);
}

static void test_wrap(void **state) {
        const char *reason =
                "Peak of 52525 maps in one process; 1048576 maps cost 288 MiB of kernel memory.";

        /* No terminal: one line, as is. */
        assert_wrapped(reason, 0, 16,
                       "Peak of 52525 maps in one process; 1048576 maps cost 288 MiB of kernel "
                       "memory.\n");
        assert_wrapped(reason, 40, 0,
                       "Peak of 52525 maps in one process;\n"
                       "1048576 maps cost 288 MiB of kernel\n"
                       "memory.\n");
        /* Continuation lines line up under the first, which starts after the caller's label. */
        assert_wrapped(reason, 40, 16,
                       "Peak of 52525 maps in\n"
                       "                one process; 1048576\n"
                       "                maps cost 288 MiB of\n"
                       "                kernel memory.\n");
        /* Too narrow for the indent: not wrapped rather than one word a line. */
        assert_wrapped(reason, 30, 16,
                       "Peak of 52525 maps in one process; 1048576 maps cost 288 MiB of kernel "
                       "memory.\n");
        /* A word longer than the room stands alone; runs of blanks collapse; UTF-8 counts per character. */
        assert_wrapped("a  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb c", 20, 0,
                       "a\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nc\n");
        assert_wrapped("éééééééééé éééééééééé", 21, 0, "éééééééééé éééééééééé\n");
        assert_wrapped("", 40, 0, "\n");
        assert_wrapped("   ", 40, 0, "\n");
}

static void test_cell_width(void **state) {
        size_t len = 0;

        /* In the "C" locale wcwidth() knows nothing beyond ASCII: one cell per character, as before. */
        assert_non_null(setlocale(LC_CTYPE, "C"));
        assert_int_equal(format_width("日本"), 2);

        if (!setlocale(LC_CTYPE, "C.UTF-8")) {
                print_message("# no C.UTF-8 locale, which the cell widths of wide characters need\n");
                skip();
        }
        /* As a terminal shows them: CJK two cells, a combining mark none, invalid bytes one each. */
        assert_int_equal(format_width("日本"), 4);
        assert_int_equal(format_width("日本.service"), 12);
        assert_int_equal(format_width("cafe\xcc\x81"), 4);
        assert_int_equal(format_width("prométhée"), 9);
        assert_int_equal(format_width("\xff"
                                      "a"),
                         2);
        assert_int_equal(format_char_width("日本", &len), 2);
        assert_int_equal(len, 3);
        assert_int_equal(format_char_width("\xcc\x81", &len), 0);
        assert_int_equal(len, 2);
        assert_int_equal(format_char_width("\xe6\x97", &len), 1);
        assert_int_equal(len, 1);

        /* Wrapping counts cells too: ten wide characters fill a line of 20. */
        assert_wrapped("日本語日本語日本語日 本", 20, 0, "日本語日本語日本語日\n本\n");
        assert_non_null(setlocale(LC_CTYPE, "C"));
}

static void test_bytes(void **state) {
        char buf[FORMAT_BYTES_MAX];

        assert_string_equal(format_bytes(buf, sizeof(buf), 0), "0 B");
        assert_string_equal(format_bytes(buf, sizeof(buf), 1023), "1023 B");
        assert_string_equal(format_bytes(buf, sizeof(buf), 4096), "4.0 KiB");
        assert_string_equal(format_bytes(buf, sizeof(buf), 73728), "72 KiB");
        assert_string_equal(format_bytes(buf, sizeof(buf), 8 * 1024 * 1024), "8.0 MiB");
        /* 9.96 MiB would round to "10.0": written as "10 MiB". */
        assert_string_equal(format_bytes(buf, sizeof(buf), 10444000), "10 MiB");
        assert_string_equal(format_bytes(buf, sizeof(buf), UINT64_C(1610612736)), "1.5 GiB");
        assert_string_equal(format_bytes(buf, sizeof(buf), UINT64_MAX), "16 EiB");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_percent),   cmocka_unit_test(test_headroom),
                cmocka_unit_test(test_level),     cmocka_unit_test(test_growth),
                cmocka_unit_test(test_bytes),     cmocka_unit_test(test_time_to_limit),
                cmocka_unit_test(test_timespan),  cmocka_unit_test(test_ago),
                cmocka_unit_test(test_timestamp), cmocka_unit_test(test_sanitize),
                cmocka_unit_test(test_utf8),      cmocka_unit_test(test_want_color),
                cmocka_unit_test(test_columns),   cmocka_unit_test(test_columns_terminal),
                cmocka_unit_test(test_check),     cmocka_unit_test(test_check_sanitize),
                cmocka_unit_test(test_wrap),      cmocka_unit_test(test_cell_width),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
