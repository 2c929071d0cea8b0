/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The text of one mapguardd.conf file: inih, the keys and their values, and the checks between keys once
 * every file is applied. Finding and reading the files is conf.c's. */

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <strings.h>

#include "conf-parse.h"
#include "escape.h"
#include "strv.h"
#include "timespan.h"
#include "utf8.h"
#include "util.h"

#define UNIT_NAME_MAX 255

void parser_done(Parser *p) {
        free(p->error);
        p->error = NULL;
}

int parser_fail(Parser *p, int error_code, const char *path, unsigned line, const char *fmt, ...) {
        if (p->error_code != 0)
                return p->error_code;

        _cleanup_free_ char *reason = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&reason, fmt, ap);
        va_end(ap);

        p->error_code = error_code;
        p->error_line = line;
        _cleanup_free_ char *text = NULL;
        if (r < 0 || asprintf(&text, "%s:%u: %s", path, line, reason) < 0)
                text = NULL;
        /* It quotes the file (its name, a value): escaped for the journal, STATUS= and a terminal, which
         * also makes it UTF-8, without which D-Bus would refuse it and the Reload() caller would get no
         * answer at all. */
        p->error = text ? escape_printable(text, SIZE_MAX, 0) : NULL;
        if (!p->error)
                p->error_code = -ENOMEM;
        return p->error_code;
}

int parser_fail_errno(Parser *p, int error, const char *path, const char *what) {
        return parser_fail(p, -error, path, 0, "%s: %s", what, strerror(error));
}

/* Values cannot carry '#' comments (inih only strips ';' ones, and only after whitespace): say so when
 * that is the likely cause of a bad value. */
static const char *comment_hint(const char *value) {
        return strstr(value, " #") || strstr(value, "\t#") ? " (comments must be on a line of their own)"
                                                           : "";
}

/* Decimal integer with an optional trailing '%'. Returns 0, -EINVAL when not a number, -ERANGE above
 * 100000 (far outside every allowed range, so the exact value does not matter). */
static int parse_percent(const char *s, unsigned *ret) {
        unsigned long v = 0;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++)
                if (v <= 100000)
                        v = v * 10 + (unsigned) (*s - '0');
        if (*s == '%')
                s++;
        if (*s)
                return -EINVAL;
        if (v > 100000)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

static void location_set(Parser *p, Location *l) {
        *l = (Location){ .path = p->path, .line = p->line, .seq = ++p->seq };
}

static int parse_percent_key(Parser *p, const char *key, const char *value, unsigned min, unsigned max,
                             unsigned *field, Location *at) {
        unsigned v;
        int r;

        if (!*value)
                return parser_fail(p, -EINVAL, p->path, p->line, "%s= needs a value (%u..%u)", key, min,
                                   max);
        r = parse_percent(value, &v);
        if (r == -EINVAL)
                return parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: not an integer percentage%s", key,
                                   value, comment_hint(value));
        if (r < 0 || v < min || v > max)
                return parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: out of range, must be %u..%u", key,
                                   value, min, max);
        *field = v;
        location_set(p, at);
        return 0;
}

static int parse_warning(Parser *p, const char *key, const char *value) {
        return parse_percent_key(p, key, value, 1, 99, &p->config->warning_percent, &p->warning_at);
}

static int parse_critical(Parser *p, const char *key, const char *value) {
        return parse_percent_key(p, key, value, 1, 100, &p->config->critical_percent, &p->critical_at);
}

static int parse_hysteresis(Parser *p, const char *key, const char *value) {
        return parse_percent_key(p, key, value, 0, 50, &p->config->hysteresis_percent, &p->hysteresis_at);
}

static int parse_interval(Parser *p, const char *key, const char *value) {
        uint64_t v;
        int r;

        if (!*value)
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "%s= needs a value (seconds, or a time span such as 500ms or 1min 30s)",
                                   key);
        r = parse_timespan(value, &v);
        if (r == -EINVAL)
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "%s=%s: not a time span (seconds, or e.g. 500ms, 2s, 1min 30s)%s", key,
                                   value, comment_hint(value));
        if (r < 0 || v < CONFIG_INTERVAL_USEC_MIN || v > CONFIG_INTERVAL_USEC_MAX)
                return parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: out of range, must be 100ms..1h",
                                   key, value);
        p->config->interval_usec = v;
        return 0;
}

static int parse_backend(Parser *p, const char *key, const char *value) {
        Backend b = backend_from_string(value);
        if (b < 0)
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "%s=%s: unknown backend, must be auto, bpf or procfs%s", key, value,
                                   comment_hint(value));
        p->config->backend = b;
        return 0;
}

/* An absolute, normalized path: the daemon writes there as root, so anything that could mean another
 * directory than it says ("..", "//", a relative path) is refused instead of resolved. */
static bool directory_path_valid(const char *path) {
        size_t n = strlen(path);

        if (path[0] != '/' || n >= PATH_MAX || (n > 1 && path[n - 1] == '/') || strstr(path, "//"))
                return false;
        for (const char *c = path; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return false;
        for (const char *c = path; *c;) {
                size_t len;

                c++; /* the slash */
                len = strcspn(c, "/");
                if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len;
        }
        return true;
}

static int parse_textfile_directory(Parser *p, const char *key, const char *value) {
        char *s;

        if (!*value) {
                /* The systemd convention: an empty assignment resets, here to "no export". */
                free(p->config->textfile_directory);
                p->config->textfile_directory = NULL;
                return 0;
        }
        /* " #" is far more likely a comment in the wrong place than part of a directory's name. */
        if (!directory_path_valid(value) || *comment_hint(value))
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "%s=%s: not an absolute, normalized directory path (empty turns the "
                                   "export off)%s",
                                   key, value, comment_hint(value));
        s = strdup(value);
        if (!s)
                return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");
        free(p->config->textfile_directory);
        p->config->textfile_directory = s;
        return 0;
}

/* Literal names must carry a real unit type suffix, so that a typo ("foo.servcie") or a forgotten suffix
 * ("foo") is refused instead of silently watching nothing. Globs are left to the operator. */
static bool unit_suffix_valid(const char *name) {
        static const char *const types[] = {
                "service", "socket", "target", "device", "mount", "automount",
                "swap",    "timer",  "path",   "slice",  "scope",
        };
        const char *dot = strrchr(name, '.');
        if (!dot || dot == name)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(dot + 1, types[i]))
                        return true;
        return false;
}

static int parse_units(Parser *p, const char *key, const char *value) {
        _cleanup_strv_free_ char **words = NULL;

        if (strv_split_blanks(value, &words) < 0)
                return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");

        if (!words[0]) {
                /* The systemd convention: an empty assignment empties the list, the built-in default
                 * included, so that a drop-in can replace it rather than add to it. The empty strv
                 * stays: with nothing added after it, nothing is watched. */
                strv_free(p->config->units);
                p->config->units = TAKE_PTR(words);
                return 0;
        }

        for (char **w = words; *w; w++) {
                size_t n = strlen(*w);
                if (n > UNIT_NAME_MAX ||
                    strspn(*w,
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789:-_.\\@*?[]!^") != n)
                        return parser_fail(p, -EINVAL, p->path, p->line,
                                           "%s=%s: '%s' is not a unit name or glob%s", key, value, *w,
                                           strchr(*w, ',') ? " (separate names with spaces)"
                                                           : comment_hint(value));
                if (strpbrk(*w, "*?["))
                        continue;
                if (!unit_suffix_valid(*w))
                        return parser_fail(
                                p, -EINVAL, p->path, p->line,
                                "%s=%s: '%s' is not a unit name (no unit type suffix such as .service)", key,
                                value, *w);
                /* A template never runs itself; its instances do, and that is what was meant. */
                const char *at = strstr(*w, "@.");
                if (at)
                        return parser_fail(
                                p, -EINVAL, p->path, p->line,
                                "%s=%s: '%s' is a template, which has no processes; use %.*s@*%s to "
                                "watch its instances",
                                key, value, *w, (int) (at - *w), *w, at + 1);
        }

        /* Added to what is there already: the default, or what earlier lines and files left. */
        for (char **w = words; *w; w++) {
                if (strv_contains(p->config->units, *w))
                        continue;
                char *s = strdup(*w);
                if (!s || strv_consume(&p->config->units, s) < 0)
                        return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");
        }
        return 0;
}

static const struct {
        const char *section;
        const char *key;
        int (*parse)(Parser *p, const char *key, const char *value);
} config_keys[] = {
        { "Watch", "Units", parse_units },
        { "Thresholds", "WarningPercent", parse_warning },
        { "Thresholds", "CriticalPercent", parse_critical },
        { "Thresholds", "HysteresisPercent", parse_hysteresis },
        { "Scan", "IntervalSec", parse_interval },
        { "Scan", "Backend", parse_backend },
        { "Export", "TextfileDirectory", parse_textfile_directory },
};

static bool section_known(const char *section) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].section, section))
                        return true;
        return false;
}

/* Always returns 1 (inih's "no error"): our errors are recorded in the Parser with a reason, and the
 * reader stops feeding lines after the first one. inih's own return value is then left to report the
 * syntax errors only it can see (a line without '='). */
static int parser_handle(void *user, const char *section, const char *key, const char *value) {
        Parser *p = user;

        if (p->error_code != 0)
                return 1;
        if (!*section) {
                (void) parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: key outside of a section", key,
                                   value);
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].section, section) && streq(config_keys[i].key, key)) {
                        (void) config_keys[i].parse(p, key, value);
                        return 1;
                }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].key, key)) {
                        (void) parser_fail(p, -EINVAL, p->path, p->line,
                                           "%s=%s: unknown key in [%s] (it belongs in [%s])", key, value,
                                           section, config_keys[i].section);
                        return 1;
                }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strcasecmp(config_keys[i].key, key) == 0) {
                        (void) parser_fail(p, -EINVAL, p->path, p->line,
                                           "%s=%s: unknown key in [%s] (keys are case-sensitive: %s)", key,
                                           value, section, config_keys[i].key);
                        return 1;
                }
        (void) parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: unknown key in [%s]", key, value, section);
        return 1;
}

/* Refuses what inih would otherwise accept silently and get wrong: indented lines (joined to the previous
 * value as a continuation), section headers it would half-read ("[Watch] junk"), unknown sections (inih
 * never tells the handler about an empty one). Returns 0 or the recorded error. */
static int parser_check_line(Parser *p, const char *s, size_t len) {
        if (p->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
                s += 3;
                len -= 3;
        }
        while (len > 0 && isspace((unsigned char) s[len - 1]))
                len--;

        size_t indent = 0;
        while (indent < len && isspace((unsigned char) s[indent]))
                indent++;
        if (indent == len || strchr(";#", s[indent]))
                return 0; /* blank line or comment */
        if (indent > 0)
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "'%.*s': line starts with whitespace, remove it (it would continue the "
                                   "previous value)",
                                   (int) (len - indent), s + indent);
        if (s[0] != '[') {
                /* inih also takes "Key: value"; systemd-style files do not, and the man page says '='. */
                size_t sep = 0;
                while (sep < len && s[sep] != '=' && s[sep] != ':')
                        sep++;
                if (sep < len && s[sep] == ':')
                        return parser_fail(
                                p, -EINVAL, p->path, p->line,
                                "'%.*s': expected Key=value (':' does not separate key and value)",
                                (int) len, s);
                return 0;
        }

        const char *end = memchr(s, ']', len);
        if (!end)
                return parser_fail(p, -EINVAL, p->path, p->line, "'%.*s': section header lacks ']'",
                                   (int) len, s);
        const char *rest = end + 1;
        while (rest < s + len && (*rest == ' ' || *rest == '\t'))
                rest++;
        if (rest < s + len && *rest != ';')
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "'%.*s': unexpected text after the section header", (int) len, s);

        _cleanup_free_ char *name = strndup(s + 1, (size_t) (end - s - 1));
        if (!name)
                return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");
        if (!section_known(name))
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "[%s]: unknown section (expected [Watch], [Thresholds] or [Scan])", name);
        return 0;
}

/* inih's line reader over the buffered file. It counts lines for the handler (libinih 55 does not pass
 * them), and it refuses a line longer than inih's buffer: inih would cut it and parse the rest as the
 * next line. Returns STR, or NULL at the end or after an error. */
static char *parser_read_line(char *str, int num, void *userdata) {
        Parser *p = userdata;

        if (p->error_code != 0 || p->pos >= p->size)
                return NULL;

        const char *s = p->buf + p->pos;
        const char *nl = memchr(s, '\n', p->size - p->pos);
        size_t len = nl ? (size_t) (nl - s) : p->size - p->pos;

        p->line++;
        if (memchr(s, '\0', len)) {
                (void) parser_fail(p, -EINVAL, p->path, p->line, "line contains a NUL byte");
                return NULL;
        }
        if (num < 2 || len > (size_t) num - 2) {
                (void) parser_fail(p, -EINVAL, p->path, p->line,
                                   "line too long (%zu bytes, at most %d are supported)", len, num - 2);
                return NULL;
        }
        if (parser_check_line(p, s, len) < 0)
                return NULL;

        size_t n = len + (nl ? 1 : 0);
        memcpy(str, s, n);
        str[n] = '\0';
        p->pos += n;
        return str;
}

int parser_parse_buffer(Parser *p, const char *path, const char *buf, size_t size) {
        p->path = path;
        p->buf = buf;
        p->size = size;
        p->pos = 0;
        p->line = 0;

        int r = ini_parse_stream(parser_read_line, p, parser_handle, p);
        if (r == -2)
                return parser_fail(p, -ENOMEM, path, 0, "out of memory");
        if (r > 0 && (p->error_code == 0 || (unsigned) r < p->error_line)) {
                /* inih saw a syntax error before any of ours: a line that is neither a comment, a section
                 * nor Key=value. Quote it. */
                const char *s = buf, *end = buf + size;
                for (int l = 1; l < r && s < end; l++) {
                        const char *nl = memchr(s, '\n', (size_t) (end - s));
                        s = nl ? nl + 1 : end;
                }
                const char *nl = memchr(s, '\n', (size_t) (end - s));
                size_t len = (size_t) ((nl ? nl : end) - s);
                while (len > 0 && isspace((unsigned char) s[len - 1]))
                        len--;

                free(p->error);
                p->error = NULL;
                p->error_code = 0;
                return parser_fail(p, -EINVAL, path, (unsigned) r,
                                   "'%.*s': expected Key=value, [Section] or a comment", (int) len, s);
        }
        return p->error_code;
}

/* Describes where the other key of an inconsistent pair got its value, for the error message. */
static char *location_describe(const Location *l) {
        char *s;
        if (l->seq == 0)
                return strdup("the default");
        if (asprintf(&s, "set at %s:%u", l->path, l->line) < 0)
                return NULL;
        return s;
}

/* LOW must be below HIGH. The error points at the later assignment of the two, the one that made the
 * pair inconsistent. */
static int parser_check_pair(Parser *p, const char *low_key, unsigned low, const Location *low_at,
                             const char *high_key, unsigned high, const Location *high_at) {
        if (low < high)
                return 0;

        bool low_last = low_at->seq > high_at->seq;
        const Location *culprit = low_last ? low_at : high_at;
        _cleanup_free_ char *other = location_describe(low_last ? high_at : low_at);
        if (!other)
                return parser_fail(p, -ENOMEM, culprit->path ? culprit->path : "", culprit->line,
                                   "out of memory");

        if (low_last)
                return parser_fail(p, -EINVAL, culprit->path, culprit->line,
                                   "%s=%u must be below %s=%u (%s)", low_key, low, high_key, high, other);
        return parser_fail(p, -EINVAL, culprit->path, culprit->line, "%s=%u must be above %s=%u (%s)",
                           high_key, high, low_key, low, other);
}

int parser_check_merged(Parser *p) {
        const Config *c = p->config;
        int r;

        r = parser_check_pair(p, "WarningPercent", c->warning_percent, &p->warning_at, "CriticalPercent",
                              c->critical_percent, &p->critical_at);
        if (r < 0)
                return r;
        return parser_check_pair(p, "HysteresisPercent", c->hysteresis_percent, &p->hysteresis_at,
                                 "WarningPercent", c->warning_percent, &p->warning_at);
}
