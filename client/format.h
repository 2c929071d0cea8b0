/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure formatting for mapguardctl's human output: numbers, times, levels, colour and terminal width
 * decisions, and the monitoring-plugin line of `check`. Nothing here touches the bus; the strings are
 * written into caller-provided buffers (sized by the FORMAT_*_MAX constants) so that formatting never
 * fails. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ANSI_RED "\033[0;1;31m"
#define ANSI_YELLOW "\033[0;1;33m"
#define ANSI_UNDERLINE "\033[0;4m"
#define ANSI_NORMAL "\033[0m"

/* Monitoring-plugin exit codes (the Nagios/Icinga convention `check` follows). */
enum {
        CHECK_OK = 0,
        CHECK_WARNING = 1,
        CHECK_CRITICAL = 2,
        CHECK_UNKNOWN = 3,
};

/* The answer of the Manager's GetHeadroom(): the process with the least headroom. Strings are borrowed. */
typedef struct Headroom {
        const char *unit;
        uint32_t pid;
        const char *comm;
        uint32_t map_count;
        uint32_t max_map_count;
        uint32_t headroom;
        const char *level;
} Headroom;

/* Returns floor(part * 100 / whole), 0 when whole is 0. Computed in 64 bits: inputs up to UINT32_MAX are
 * fine. */
uint64_t format_percent(uint64_t part, uint64_t whole);

/* Returns the map count at which `percent` of `limit` is reached (floor), the daemon's threshold. */
uint64_t format_threshold(uint32_t limit, uint32_t percent);

/* Returns the ANSI colour of a level: red for "critical", yellow for "warning", NULL otherwise. */
const char *format_level_color(const char *level);

/* Returns the severity rank of a level for sorting: critical 3, warning 2, ok 1, anything else 0. */
int format_level_rank(const char *level);

/* "12530 (19%)": headroom and its share of the limit. Returns buf. */
#define FORMAT_HEADROOM_MAX 32
const char *format_headroom(char *buf, size_t size, uint32_t headroom, uint32_t limit);

/* "+120/min", "-3/min", "flat" (|growth| < 0.5/min), "-" when not finite. Returns buf. */
#define FORMAT_GROWTH_MAX 32
const char *format_growth(char *buf, size_t size, double per_minute);

/* A size in bytes in IEC units, one decimal below 10 of a unit: "512 B", "8.0 KiB", "72 KiB", "1.5 GiB".
 * Returns buf. */
#define FORMAT_BYTES_MAX 32
const char *format_bytes(char *buf, size_t size, uint64_t bytes);

/* "never" for UINT64_MAX, "now" for 0, else "in 42 s", "in 42 min", "in 3 h 5 min", "in 2 d 3 h".
 * Returns buf. */
#define FORMAT_TIME_TO_LIMIT_MAX 48
const char *format_time_to_limit(char *buf, size_t size, uint64_t seconds);

/* A duration in the short systemd style: "10s", "1min 30s", "2h 5min", "3d 4h", "500ms", "0".
 * Returns buf. */
#define FORMAT_TIMESPAN_MAX 48
const char *format_timespan(char *buf, size_t size, uint64_t usec);

/* "3s ago" for then_usec before now_usec, "in the future" after it, "never" when then_usec is 0.
 * Returns buf. */
const char *format_ago(char *buf, size_t size, uint64_t now_usec, uint64_t then_usec);

/* "Fri 2026-11-27 09:13:29 UTC" in local time; "never" for 0. Returns buf. */
#define FORMAT_TIMESTAMP_MAX 64
const char *format_timestamp(char *buf, size_t size, uint64_t realtime_usec);

/* Returns a copy of s safe to print on a terminal: escape_printable() (lib/escape.h) for display, C0/C1
 * control characters, DEL and bytes that are not valid UTF-8 as \xNN (a backslash stays). Process names
 * are chosen by their owner (prctl(PR_SET_NAME)), so they must not reach a terminal raw. Returns NULL
 * when out of memory. */
char *format_sanitize(const char *s);

/* Returns a copy of s fit for the status text of a `check` line: format_sanitize()'s, and '|' becomes '!'.
 * Monitoring systems split the line at the first '|' (performance data follows it) and read only its first
 * line, so a process name such as "java|x=1;2;3" must not forge either; a newline is a control character
 * and already becomes '?'. Returns NULL when out of memory. */
char *format_check_sanitize(const char *s);

/* Returns the number of terminal cells the character at s (not at its end) takes, as wcwidth() says in
 * the LC_CTYPE locale (2 for a wide CJK character, 0 for a combining mark; 1 where the locale cannot
 * tell, as in "C", and for a byte that is not valid UTF-8), and its length in bytes in *ret_len. */
size_t format_char_width(const char *s, size_t *ret_len);

/* Returns the number of terminal cells s takes: the sum of format_char_width() over its characters. */
size_t format_width(const char *s);

/* Returns whether to colour output: only on a terminal, never when NO_COLOR is set (to any value) or
 * TERM is "dumb". */
bool format_want_color(bool stdout_is_tty, const char *no_color, const char *term);

/* Returns the width output must fit in: $COLUMNS when it is a positive number, else the size of the
 * terminal on fd (80 when fd is a terminal that does not know its size), else 0 (unlimited: a pipe or a
 * file, whose reader gets whole names, as systemctl does). */
size_t format_columns(const char *columns_env, int fd);

/* Formats the one-line `check` result with its perfdata, e.g.
 *   MAPGUARD WARNING - a.service pid 1234 (prometheus) 53000/65530 maps, 12530 headroom (19%) | ...
 * Returns the plugin exit code (CHECK_*) and the malloc'd line in *ret_line, or -ENOMEM (then *ret_line
 * is untouched). An h with level "unknown" or without a unit gives CHECK_UNKNOWN; without a unit, the
 * line says why: nothing scanned yet when `watching` (WatchedUnits is not empty), else that no unit is
 * watched at all. Text from h goes through format_check_sanitize(). */
int format_check(const Headroom *h, bool watching, uint32_t warning_percent, uint32_t critical_percent,
                 char **ret_line);

/* Returns the plugin status word of a CHECK_* code: "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *format_check_status(int code);

/* Decodes the UTF-8 sequence at s. Returns its length (1-4) and the code point in *ret_codepoint, or 0
 * when s does not start with a valid, shortest-form sequence (then *ret_codepoint is untouched). */
size_t format_utf8_decode(const char *s, uint32_t *ret_codepoint);

/* Writes text to f as words wrapped to width cells, the first line continuing at column `indent` (the
 * caller wrote a label there), each further line indented by `indent` blanks; ends with a newline. A word
 * wider than the room gets a line of its own. width 0 (no terminal), or too narrow to leave 20 cells
 * after the indent, writes text unwrapped. */
void format_wrap(FILE *f, const char *text, size_t width, size_t indent);

/* The `check` line for UNIT at the limit: CRITICAL, when it last hit the limit (LAST_HIT_USEC,
 * CLOCK_REALTIME, against NOW_USEC; 0 when it is held down without a recent hit), its hits and exits, with
 * perfdata. Returns CHECK_CRITICAL and the malloc'd line, or -ENOMEM. */
int format_check_hits(const char *unit, uint64_t now_usec, uint64_t last_hit_usec, uint64_t hits,
                      uint64_t exits, char **ret_line);

/* The `check` line for a unit whose processes could not be read: UNKNOWN, and why. Returns
 * CHECK_UNKNOWN and the malloc'd line, or -ENOMEM. */
int format_check_stale(const char *unit, char **ret_line);
