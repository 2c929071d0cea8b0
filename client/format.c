/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "escape.h"
#include "format.h"
#include "util.h"

#define SEC_PER_MINUTE UINT64_C(60)
#define SEC_PER_HOUR UINT64_C(3600)
#define SEC_PER_DAY UINT64_C(86400)

/* A terminal wider than this is a bogus $COLUMNS, not a real screen. */
#define COLUMNS_MAX 100000
#define COLUMNS_DEFAULT 80

uint64_t format_percent(uint64_t part, uint64_t whole) {
        if (whole == 0)
                return 0;
        /* part and whole are at most UINT32_MAX in practice, so part * 100 cannot overflow 64 bits. */
        return part * 100 / whole;
}

uint64_t format_threshold(uint32_t limit, uint32_t percent) {
        return (uint64_t) limit * percent / 100;
}

const char *format_level_color(const char *level) {
        if (streq_ptr(level, "critical"))
                return ANSI_RED;
        if (streq_ptr(level, "warning"))
                return ANSI_YELLOW;
        return NULL;
}

int format_level_rank(const char *level) {
        if (streq_ptr(level, "critical"))
                return 3;
        if (streq_ptr(level, "warning"))
                return 2;
        if (streq_ptr(level, "ok"))
                return 1;
        return 0;
}

const char *format_headroom(char *buf, size_t size, uint32_t headroom, uint32_t limit) {
        if (limit == 0)
                snprintf(buf, size, "%" PRIu32, headroom);
        else
                snprintf(buf, size, "%" PRIu32 " (%" PRIu64 "%%)", headroom,
                         format_percent(headroom, limit));
        return buf;
}

const char *format_growth(char *buf, size_t size, double per_minute) {
        if (!isfinite(per_minute))
                snprintf(buf, size, "-");
        else if (fabs(per_minute) < 0.5)
                snprintf(buf, size, "flat");
        else
                /* round() rounds halves away from zero, so +0.5 shows as +1, never as "+0". */
                snprintf(buf, size, "%+.0f/min", round(per_minute));
        return buf;
}

const char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double x = (double) bytes;
        unsigned u = 0;

        while (x >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                x /= 1024.0;
                u++;
        }
        /* One decimal below 10 of a unit, where it says something: "8.0 MiB", "72 KiB". */
        if (u > 0 && x < 9.95)
                snprintf(buf, size, "%.1f %s", x, units[u]);
        else
                snprintf(buf, size, "%.0f %s", x, units[u]);
        return buf;
}

const char *format_time_to_limit(char *buf, size_t size, uint64_t seconds) {
        /* Rounded down throughout: the limit is nearer than the text says, never farther. */
        if (seconds == UINT64_MAX)
                snprintf(buf, size, "never");
        else if (seconds == 0)
                snprintf(buf, size, "now");
        else if (seconds < SEC_PER_MINUTE)
                snprintf(buf, size, "in %" PRIu64 " s", seconds);
        else if (seconds < SEC_PER_HOUR)
                snprintf(buf, size, "in %" PRIu64 " min", seconds / SEC_PER_MINUTE);
        else if (seconds < SEC_PER_DAY) {
                uint64_t m = seconds % SEC_PER_HOUR / SEC_PER_MINUTE;
                if (m > 0)
                        snprintf(buf, size, "in %" PRIu64 " h %" PRIu64 " min", seconds / SEC_PER_HOUR, m);
                else
                        snprintf(buf, size, "in %" PRIu64 " h", seconds / SEC_PER_HOUR);
        } else {
                uint64_t h = seconds % SEC_PER_DAY / SEC_PER_HOUR;
                if (h > 0)
                        snprintf(buf, size, "in %" PRIu64 " d %" PRIu64 " h", seconds / SEC_PER_DAY, h);
                else
                        snprintf(buf, size, "in %" PRIu64 " d", seconds / SEC_PER_DAY);
        }
        return buf;
}

const char *format_timespan(char *buf, size_t size, uint64_t usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "d", SEC_PER_DAY * USEC_PER_SEC },
                { "h", SEC_PER_HOUR * USEC_PER_SEC },
                { "min", SEC_PER_MINUTE * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
                { "us", 1 },
        };
        size_t n = 0, shown = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (usec == 0) {
                snprintf(buf, size, "0");
                return buf;
        }

        /* Two components are precise enough to read at a glance ("2h 5min"), as systemctl shows them. */
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
                uint64_t v = usec / units[i].usec;
                if (v == 0) {
                        if (shown > 0)
                                break;
                        continue;
                }
                int r = snprintf(buf + n, size - n, "%s%" PRIu64 "%s", shown > 0 ? " " : "", v,
                                 units[i].suffix);
                if (r < 0 || (size_t) r >= size - n)
                        break;
                n += (size_t) r;
                usec -= v * units[i].usec;
                shown++;
        }
        return buf;
}

const char *format_ago(char *buf, size_t size, uint64_t now_usec, uint64_t then_usec) {
        char span[FORMAT_TIMESPAN_MAX];

        if (then_usec == 0)
                snprintf(buf, size, "never");
        else if (then_usec > now_usec)
                snprintf(buf, size, "in the future");
        else {
                /* Whole seconds: sub-second precision on a scan time is noise. */
                uint64_t d = (now_usec - then_usec) / USEC_PER_SEC * USEC_PER_SEC;
                if (d == 0)
                        snprintf(buf, size, "now");
                else
                        snprintf(buf, size, "%s ago", format_timespan(span, sizeof(span), d));
        }
        return buf;
}

const char *format_timestamp(char *buf, size_t size, uint64_t realtime_usec) {
        struct tm tm;
        time_t t;

        if (realtime_usec == 0) {
                snprintf(buf, size, "never");
                return buf;
        }
        t = (time_t) (realtime_usec / USEC_PER_SEC);
        if (!localtime_r(&t, &tm) || strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "@%" PRIu64, realtime_usec / USEC_PER_SEC);
        return buf;
}

size_t format_utf8_decode(const char *s, uint32_t *ret_codepoint) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t cp, min;
        size_t len;

        if (p[0] < 0x80) {
                *ret_codepoint = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0) {
                len = 2;
                cp = p[0] & 0x1f;
                min = 0x80;
        } else if ((p[0] & 0xf0) == 0xe0) {
                len = 3;
                cp = p[0] & 0x0f;
                min = 0x800;
        } else if ((p[0] & 0xf8) == 0xf0) {
                len = 4;
                cp = p[0] & 0x07;
                min = 0x10000;
        } else
                return 0;

        for (size_t i = 1; i < len; i++) {
                /* A NUL terminator fails this test too, so a truncated sequence never reads past it. */
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;

        *ret_codepoint = cp;
        return len;
}

char *format_sanitize(const char *s) {
        return escape_printable(s, SIZE_MAX, 0);
}

char *format_check_sanitize(const char *s) {
        char *out = format_sanitize(s);

        /* '|' is ASCII, never part of a multi-byte UTF-8 sequence: replacing bytes is safe. */
        for (char *p = out; p && (p = strchr(p, '|')); p++)
                *p = '!';
        return out;
}

size_t format_char_width(const char *s, size_t *ret_len) {
        uint32_t cp;
        size_t len = format_utf8_decode(s, &cp);
        int w;

        if (len == 0) {
                *ret_len = 1;
                return 1;
        }
        *ret_len = len;
        /* glibc's wchar_t is the Unicode code point in every locale (__STDC_ISO_10646__), so the decoded
         * code point goes to wcwidth() as it is: the text is UTF-8 whatever the locale, and mbrtowc()
         * would refuse it outside a UTF-8 locale. There wcwidth() cannot tell (-1) and one cell is the
         * best guess; so it is for the control characters that format_sanitize() replaces anyway. */
        w = wcwidth((wchar_t) cp);
        return w < 0 ? 1 : (size_t) w;
}

size_t format_width(const char *s) {
        size_t w = 0;

        for (size_t i = 0; s[i];) {
                size_t len;
                w += format_char_width(s + i, &len);
                i += len;
        }
        return w;
}

bool format_want_color(bool stdout_is_tty, const char *no_color, const char *term) {
        if (!stdout_is_tty || no_color)
                return false;
        return !streq_ptr(term, "dumb");
}

size_t format_columns(const char *columns_env, int fd) {
        struct winsize ws = {};

        if (columns_env && *columns_env) {
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(columns_env, &end, 10);
                if (errno == 0 && *end == '\0' && columns_env[0] >= '0' && columns_env[0] <= '9' && v > 0 &&
                    v <= COLUMNS_MAX)
                        return v;
        }
        if (fd < 0 || !isatty(fd))
                return 0;
        if (ioctl(fd, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        /* A terminal that does not know its size (a serial console, a pty nobody sized, as `script` or
         * nsenter leave them) is still a terminal: assume 80 columns, as systemd does. */
        return COLUMNS_DEFAULT;
}

/* format_width() of the first n bytes of s. */
static size_t width_n(const char *s, size_t n) {
        size_t w = 0;

        for (size_t i = 0; i < n;) {
                size_t len;
                w += format_char_width(s + i, &len);
                i += len;
        }
        return w;
}

void format_wrap(FILE *f, const char *text, size_t width, size_t indent) {
        size_t column = indent;
        bool line_empty = true;

        if (width == 0 || width < indent + 20) {
                fprintf(f, "%s\n", text);
                return;
        }

        for (const char *p = text; *p;) {
                size_t len, w;

                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                len = strcspn(p, " ");
                w = width_n(p, len);
                if (!line_empty && column + 1 + w > width) {
                        fprintf(f, "\n%*s", (int) indent, "");
                        column = indent;
                        line_empty = true;
                }
                if (!line_empty) {
                        fputc(' ', f);
                        column++;
                }
                fwrite(p, 1, len, f);
                column += w;
                line_empty = false;
                p += len;
        }
        fputc('\n', f);
}

const char *format_check_status(int code) {
        switch (code) {
        case CHECK_OK:
                return "OK";
        case CHECK_WARNING:
                return "WARNING";
        case CHECK_CRITICAL:
                return "CRITICAL";
        default:
                return "UNKNOWN";
        }
}

int format_check(const Headroom *h, bool watching, uint32_t warning_percent, uint32_t critical_percent,
                 char **ret_line) {
        _cleanup_free_ char *unit = NULL, *comm = NULL, *level = NULL;
        char *line, proc[128];
        int code, r;

        switch (format_level_rank(h->level)) {
        case 3:
                code = CHECK_CRITICAL;
                break;
        case 2:
                code = CHECK_WARNING;
                break;
        case 1:
                code = CHECK_OK;
                break;
        default:
                code = CHECK_UNKNOWN;
        }
        if (!h->unit || !*h->unit)
                code = CHECK_UNKNOWN;

        unit = format_check_sanitize(h->unit ?: "");
        comm = format_check_sanitize(h->comm ?: "");
        level = format_check_sanitize(h->level ?: "");
        if (!unit || !comm || !level)
                return -ENOMEM;
        /* Which process, when the daemon tells this caller (pid 0: another user's, told to root only). */
        if (h->pid == 0)
                proc[0] = '\0';
        else if (snprintf(proc, sizeof(proc), " pid %" PRIu32 " (%s)", h->pid, comm) < 0)
                return -ENOMEM;

        /* An empty Units= is a choice, not a wait: "yet" would send the admin waiting for nothing. */
        if (!*unit && !watching)
                r = asprintf(&line, "MAPGUARD UNKNOWN - no unit is watched (no loaded unit matches Units=)");
        else if (!*unit)
                r = asprintf(&line, "MAPGUARD UNKNOWN - no watched process has been scanned yet");
        else if (code == CHECK_UNKNOWN)
                r = asprintf(&line, "MAPGUARD UNKNOWN - %s%s level '%s', not scanned yet", unit, proc,
                             level);
        else
                /* Perfdata thresholds are the map counts where the daemon's levels begin, so a graph
                 * draws them as lines: 'label'=value;warn;crit;min;max. */
                r = asprintf(&line,
                             "MAPGUARD %s - %s%s %" PRIu32 "/%" PRIu32 " maps, %" PRIu32
                             " headroom (%" PRIu64 "%%) | map_count=%" PRIu32 ";%" PRIu64 ";%" PRIu64
                             ";0;%" PRIu32 " headroom=%" PRIu32 " max_map_count=%" PRIu32,
                             format_check_status(code), unit, proc, h->map_count, h->max_map_count,
                             h->headroom, format_percent(h->headroom, h->max_map_count), h->map_count,
                             format_threshold(h->max_map_count, warning_percent),
                             format_threshold(h->max_map_count, critical_percent), h->max_map_count,
                             h->headroom, h->max_map_count);
        if (r < 0)
                return -ENOMEM;
        *ret_line = line;
        return code;
}

int format_check_hits(const char *unit, uint64_t now_usec, uint64_t last_hit_usec, uint64_t hits,
                      uint64_t exits, char **ret_line) {
        _cleanup_free_ char *u = format_check_sanitize(unit);
        char ago[FORMAT_TIMESPAN_MAX + 8], *line;
        int r;

        if (!u)
                return -ENOMEM;
        if (last_hit_usec == 0)
                r = asprintf(&line,
                             "MAPGUARD CRITICAL - %s is down at the memory map limit (%" PRIu64
                             " hits, %" PRIu64 " exits at the limit) | limit_hits=%" PRIu64
                             "c limit_exits=%" PRIu64 "c",
                             u, hits, exits, hits, exits);
        else {
                format_ago(ago, sizeof(ago), now_usec, last_hit_usec);
                r = asprintf(&line,
                             "MAPGUARD CRITICAL - %s hit the memory map limit %s (%" PRIu64 " hits, %" PRIu64
                             " exits at the limit) | limit_hits=%" PRIu64 "c limit_exits=%" PRIu64 "c",
                             u, ago, hits, exits, hits, exits);
        }
        if (r < 0)
                return -ENOMEM;
        *ret_line = line;
        return CHECK_CRITICAL;
}

int format_check_stale(const char *unit, char **ret_line) {
        _cleanup_free_ char *u = format_check_sanitize(unit);
        char *line;

        if (!u ||
            asprintf(&line,
                     "MAPGUARD UNKNOWN - the processes of %s could not be read, its level is unknown "
                     "(journalctl -u mapguardd says why)",
                     u) < 0)
                return -ENOMEM;
        *ret_line = line;
        return CHECK_UNKNOWN;
}
