/* SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf() */
#endif

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "conf.h"
#include "util.h"

/* A config file is a few hundred bytes; anything this big is a mistake (or /dev/zero behind a link). */
#define CONFIG_FILE_SIZE_MAX (UINT64_C(1) << 20)
#define UNIT_NAME_MAX 255

static const char *const backend_table[_BACKEND_MAX] = {
        [BACKEND_AUTO] = "auto",
        [BACKEND_BPF] = "bpf",
        [BACKEND_PROCFS] = "procfs",
};

const char *backend_to_string(Backend b) {
        if (b < 0 || b >= _BACKEND_MAX)
                return NULL;
        return backend_table[b];
}

Backend backend_from_string(const char *s) {
        if (!s)
                return _BACKEND_INVALID;
        for (Backend b = 0; b < _BACKEND_MAX; b++)
                if (streq(backend_table[b], s))
                        return b;
        return _BACKEND_INVALID;
}

static bool strv_contains(char *const *l, const char *s) {
        if (l)
                for (char *const *i = l; *i; i++)
                        if (streq(*i, s))
                                return true;
        return false;
}

/* Takes ownership of S (freed on failure too). Returns 0 or -ENOMEM. */
static int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **t = realloc(*l, (n + 2) * sizeof(char *));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

/* Splits on spaces and tabs. Returns 0 and a strv (empty strv for a blank string), or -ENOMEM. */
static int split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (;;) {
                s += strspn(s, " \t");
                if (!*s)
                        break;
                size_t n = strcspn(s, " \t");
                char *w = strndup(s, n);
                if (!w || strv_consume(&l, w) < 0)
                        return -ENOMEM;
                s += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

Config *config_new_default(void) {
        Config *c = calloc(1, sizeof(Config));
        if (!c)
                return NULL;
        *c = (Config){
                .warning_percent = CONFIG_WARNING_PERCENT_DEFAULT,
                .critical_percent = CONFIG_CRITICAL_PERCENT_DEFAULT,
                .hysteresis_percent = CONFIG_HYSTERESIS_PERCENT_DEFAULT,
                .interval_usec = CONFIG_INTERVAL_USEC_DEFAULT,
                .backend = BACKEND_AUTO,
        };
        if (split_words(CONFIG_UNITS_DEFAULT, &c->units) < 0)
                return config_free(c);
        return c;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        strv_free(c->units);
        free(c);
        return NULL;
}

static void config_freep(Config **c) {
        config_free(*c);
}

bool config_matches_unit(const Config *c, const char *unit) {
        if (!c || !unit || !c->units)
                return false;
        for (char **p = c->units; *p; p++)
                if (fnmatch(*p, unit, 0) == 0)
                        return true;
        return false;
}

bool config_equal(const Config *a, const Config *b) {
        if (!a || !b)
                return a == b;
        return a->warning_percent == b->warning_percent && a->critical_percent == b->critical_percent &&
               a->hysteresis_percent == b->hysteresis_percent && a->interval_usec == b->interval_usec &&
               a->backend == b->backend && strv_equal(a->units, b->units);
}

/* Where a key was last assigned; seq 0 means never (the built-in default). Lets the cross-key checks,
 * which only make sense after the merge, still point at a line. */
typedef struct Location {
        const char *path;
        unsigned line;
        uint64_t seq;
} Location;

typedef struct Parser {
        Config *config;
        char **units; /* what Units= assignments accumulated; NULL or empty: the default */
        Location warning_at, critical_at, hysteresis_at;
        uint64_t seq;

        /* The file being parsed, fed to inih line by line by parser_read_line(). */
        const char *path;
        const char *buf;
        size_t size, pos;
        unsigned line;

        /* The first error only: later ones are usually consequences of it. */
        int error_code;
        unsigned error_line;
        char *error;
} Parser;

static void parser_done(Parser *p) {
        strv_free(p->units);
        free(p->error);
}

/* Records the first error as "PATH:LINE: reason"; later calls are ignored. Returns the recorded error
 * code (-ENOMEM when the message itself could not be allocated). */
__attribute__((format(printf, 5, 6))) static int parser_fail(Parser *p, int error_code, const char *path,
                                                             unsigned line, const char *fmt, ...) {
        if (p->error_code != 0)
                return p->error_code;

        _cleanup_free_ char *reason = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&reason, fmt, ap);
        va_end(ap);

        p->error_code = error_code;
        p->error_line = line;
        if (r < 0 || asprintf(&p->error, "%s:%u: %s", path, line, reason) < 0) {
                p->error = NULL;
                p->error_code = -ENOMEM;
        }
        return p->error_code;
}

/* A file-level failure, ERROR a positive errno: "PATH:0: WHAT: strerror". Returns -ERROR (or -ENOMEM). */
static int parser_fail_errno(Parser *p, int error, const char *path, const char *what) {
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

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        for (; isdigit((unsigned char)*s); s++)
                if (v <= 100000)
                        v = v * 10 + (unsigned)(*s - '0');
        if (*s == '%')
                s++;
        if (*s)
                return -EINVAL;
        if (v > 100000)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* A systemd time span: one or more "<number>[.<fraction>][ ]<unit>" components, optionally separated by
 * whitespace, summed; a number without a unit is seconds. Returns 0, -EINVAL on syntax errors, -ERANGE
 * on overflow. */
static int parse_timespan(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"usec", 1},
                {"us", 1},
                {"\xc2\xb5s", 1}, /* µs, MICRO SIGN */
                {"\xce\xbcs", 1}, /* μs, GREEK SMALL LETTER MU */
                {"msec", USEC_PER_MSEC},
                {"ms", USEC_PER_MSEC},
                {"seconds", USEC_PER_SEC},
                {"second", USEC_PER_SEC},
                {"sec", USEC_PER_SEC},
                {"s", USEC_PER_SEC},
                {"minutes", 60 * USEC_PER_SEC},
                {"minute", 60 * USEC_PER_SEC},
                {"min", 60 * USEC_PER_SEC},
                {"m", 60 * USEC_PER_SEC},
                {"hours", 3600 * USEC_PER_SEC},
                {"hour", 3600 * USEC_PER_SEC},
                {"hr", 3600 * USEC_PER_SEC},
                {"h", 3600 * USEC_PER_SEC},
                {"days", 86400 * USEC_PER_SEC},
                {"day", 86400 * USEC_PER_SEC},
                {"d", 86400 * USEC_PER_SEC},
                {"weeks", 604800 * USEC_PER_SEC},
                {"week", 604800 * USEC_PER_SEC},
                {"w", 604800 * USEC_PER_SEC},
        };
        uint64_t sum = 0;
        bool any = false;

        for (;;) {
                s += strspn(s, " \t");
                if (!*s)
                        break;
                if (!isdigit((unsigned char)*s))
                        return -EINVAL;

                uint64_t whole = 0;
                bool overflow = false;
                for (; isdigit((unsigned char)*s); s++) {
                        unsigned d = (unsigned)(*s - '0');
                        if (whole > (UINT64_MAX - d) / 10)
                                overflow = true;
                        else
                                whole = whole * 10 + d;
                }
                const char *frac = NULL;
                if (*s == '.') {
                        frac = ++s;
                        if (!isdigit((unsigned char)*s))
                                return -EINVAL;
                        while (isdigit((unsigned char)*s))
                                s++;
                }
                s += strspn(s, " \t");

                /* The unit is the whole run of letters, so "ms" is never read as "m" + "s". */
                size_t n = 0;
                while (s[n] && !isdigit((unsigned char)s[n]) && !strchr(" \t.", s[n]))
                        n++;
                uint64_t mult = USEC_PER_SEC;
                if (n > 0) {
                        size_t i;
                        for (i = 0; i < ELEMENTSOF(units); i++)
                                if (strlen(units[i].suffix) == n && strncmp(units[i].suffix, s, n) == 0)
                                        break;
                        if (i >= ELEMENTSOF(units))
                                return -EINVAL;
                        mult = units[i].usec;
                        s += n;
                }

                if (overflow || whole > UINT64_MAX / mult)
                        return -ERANGE;
                uint64_t v = whole * mult;
                if (frac)
                        for (uint64_t m = mult / 10; m > 0 && isdigit((unsigned char)*frac); m /= 10, frac++)
                                v += (uint64_t)(*frac - '0') * m; /* < mult: cannot overflow */
                if (v > UINT64_MAX - sum)
                        return -ERANGE;
                sum += v;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = sum;
        return 0;
}

static void location_set(Parser *p, Location *l) {
        *l = (Location){.path = p->path, .line = p->line, .seq = ++p->seq};
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

        if (split_words(value, &words) < 0)
                return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");

        if (!words[0]) {
                /* The systemd convention: an empty assignment drops everything before it. */
                p->units = strv_free(p->units);
                return 0;
        }

        for (char **w = words; *w; w++) {
                size_t n = strlen(*w);
                if (n > UNIT_NAME_MAX || strspn(*w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
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
                                key, value, *w, (int)(at - *w), *w, at + 1);
        }

        for (char **w = words; *w; w++) {
                if (strv_contains(p->units, *w))
                        continue;
                char *s = strdup(*w);
                if (!s || strv_consume(&p->units, s) < 0)
                        return parser_fail(p, -ENOMEM, p->path, p->line, "out of memory");
        }
        return 0;
}

static const struct {
        const char *section;
        const char *key;
        int (*parse)(Parser *p, const char *key, const char *value);
} config_keys[] = {
        {"Watch", "Units", parse_units},
        {"Thresholds", "WarningPercent", parse_warning},
        {"Thresholds", "CriticalPercent", parse_critical},
        {"Thresholds", "HysteresisPercent", parse_hysteresis},
        {"Scan", "IntervalSec", parse_interval},
        {"Scan", "Backend", parse_backend},
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
                (void)parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: key outside of a section", key,
                                  value);
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].section, section) && streq(config_keys[i].key, key)) {
                        (void)config_keys[i].parse(p, key, value);
                        return 1;
                }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].key, key)) {
                        (void)parser_fail(p, -EINVAL, p->path, p->line,
                                          "%s=%s: unknown key in [%s] (it belongs in [%s])", key, value,
                                          section, config_keys[i].section);
                        return 1;
                }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strcasecmp(config_keys[i].key, key) == 0) {
                        (void)parser_fail(p, -EINVAL, p->path, p->line,
                                          "%s=%s: unknown key in [%s] (keys are case-sensitive: %s)", key,
                                          value, section, config_keys[i].key);
                        return 1;
                }
        (void)parser_fail(p, -EINVAL, p->path, p->line, "%s=%s: unknown key in [%s]", key, value, section);
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
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                len--;

        size_t indent = 0;
        while (indent < len && isspace((unsigned char)s[indent]))
                indent++;
        if (indent == len || strchr(";#", s[indent]))
                return 0; /* blank line or comment */
        if (indent > 0)
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "'%.*s': line starts with whitespace, remove it (it would continue the "
                                   "previous value)",
                                   (int)(len - indent), s + indent);
        if (s[0] != '[') {
                /* inih also takes "Key: value"; systemd-style files do not, and the man page says '='. */
                size_t sep = 0;
                while (sep < len && s[sep] != '=' && s[sep] != ':')
                        sep++;
                if (sep < len && s[sep] == ':')
                        return parser_fail(
                                p, -EINVAL, p->path, p->line,
                                "'%.*s': expected Key=value (':' does not separate key and value)", (int)len,
                                s);
                return 0;
        }

        const char *end = memchr(s, ']', len);
        if (!end)
                return parser_fail(p, -EINVAL, p->path, p->line, "'%.*s': section header lacks ']'",
                                   (int)len, s);
        const char *rest = end + 1;
        while (rest < s + len && (*rest == ' ' || *rest == '\t'))
                rest++;
        if (rest < s + len && *rest != ';')
                return parser_fail(p, -EINVAL, p->path, p->line,
                                   "'%.*s': unexpected text after the section header", (int)len, s);

        _cleanup_free_ char *name = strndup(s + 1, (size_t)(end - s - 1));
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
        size_t len = nl ? (size_t)(nl - s) : p->size - p->pos;

        p->line++;
        if (memchr(s, '\0', len)) {
                (void)parser_fail(p, -EINVAL, p->path, p->line, "line contains a NUL byte");
                return NULL;
        }
        if (num < 2 || len > (size_t)num - 2) {
                (void)parser_fail(p, -EINVAL, p->path, p->line,
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

static int parser_parse_buffer(Parser *p, const char *path, const char *buf, size_t size) {
        p->path = path;
        p->buf = buf;
        p->size = size;
        p->pos = 0;
        p->line = 0;

        int r = ini_parse_stream(parser_read_line, p, parser_handle, p);
        if (r == -2)
                return parser_fail(p, -ENOMEM, path, 0, "out of memory");
        if (r > 0 && (p->error_code == 0 || (unsigned)r < p->error_line)) {
                /* inih saw a syntax error before any of ours: a line that is neither a comment, a section
                 * nor Key=value. Quote it. */
                const char *s = buf, *end = buf + size;
                for (int l = 1; l < r && s < end; l++) {
                        const char *nl = memchr(s, '\n', (size_t)(end - s));
                        s = nl ? nl + 1 : end;
                }
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                size_t len = (size_t)((nl ? nl : end) - s);
                while (len > 0 && isspace((unsigned char)s[len - 1]))
                        len--;

                free(p->error);
                p->error = NULL;
                p->error_code = 0;
                return parser_fail(p, -EINVAL, path, (unsigned)r,
                                   "'%.*s': expected Key=value, [Section] or a comment", (int)len, s);
        }
        return p->error_code;
}

/* Parses one file. A missing file is fine (returns 0), and so is a mask: /dev/null (usually a symlink to
 * it) or an empty file. */
static int parser_parse_file(Parser *p, const char *path) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        /* O_NONBLOCK: a FIFO in the config dir must not hang the daemon's start. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return parser_fail_errno(p, errno, path, "cannot open");
        }
        if (fstat(fd, &st) < 0)
                return parser_fail_errno(p, errno, path, "cannot stat");
        if (S_ISDIR(st.st_mode))
                return parser_fail(p, -EISDIR, path, 0, "is a directory, expected a file");
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return 0; /* /dev/null: masked */
        if (!S_ISREG(st.st_mode))
                return parser_fail(p, -EINVAL, path, 0, "is not a regular file");
        if ((uint64_t)st.st_size > CONFIG_FILE_SIZE_MAX)
                return parser_fail(p, -EFBIG, path, 0, "file too large (%jd bytes, at most %" PRIu64 ")",
                                   (intmax_t)st.st_size, CONFIG_FILE_SIZE_MAX);

        /* Read to EOF rather than trusting st_size: the file may change under us. One byte of slack
         * tells "exactly the limit" from "more". */
        size_t alloc = (size_t)st.st_size + 1;
        buf = malloc(alloc);
        if (!buf)
                return parser_fail(p, -ENOMEM, path, 0, "out of memory");
        for (;;) {
                if (size == alloc) {
                        if (alloc > CONFIG_FILE_SIZE_MAX)
                                return parser_fail(p, -EFBIG, path, 0,
                                                   "file too large (more than %" PRIu64 " bytes)",
                                                   CONFIG_FILE_SIZE_MAX);
                        char *t = realloc(buf, alloc * 2);
                        if (!t)
                                return parser_fail(p, -ENOMEM, path, 0, "out of memory");
                        buf = t;
                        alloc *= 2;
                }
                ssize_t k = read(fd, buf + size, alloc - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return parser_fail_errno(p, errno, path, "cannot read");
                }
                if (k == 0)
                        break;
                size += (size_t)k;
        }
        if (size == 0)
                return 0;
        /* The line checks stay within each line's length; the terminator is a second line of defence. */
        if (size == alloc) {
                char *t = realloc(buf, size + 1);
                if (!t)
                        return parser_fail(p, -ENOMEM, path, 0, "out of memory");
                buf = t;
        }
        buf[size] = '\0';

        return parser_parse_buffer(p, path, buf, size);
}

typedef struct DropIn {
        char *name;
        char *path;
} DropIn;

static void dropins_free(DropIn *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
}

static int dropin_compare(const void *a, const void *b) {
        return strcmp(((const DropIn *)a)->name, ((const DropIn *)b)->name);
}

static bool dropin_name_valid(const char *name) {
        size_t n = strlen(name);
        /* Hidden files are editor and package-manager leftovers, as for systemd's own drop-ins. */
        return name[0] != '.' && n > strlen(".conf") && streq(name + n - strlen(".conf"), ".conf");
}

/* Adds the *.conf entries of DIR to the list, replacing same-named entries of earlier (lower-priority)
 * directories. A missing DIR is fine. Returns 0 or the recorded error. */
static int dropins_add_dir(Parser *p, const char *dir, DropIn **list, size_t *n) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOTDIR)
                        return parser_fail(p, -ENOTDIR, dir, 0, "is not a directory");
                return parser_fail_errno(p, errno, dir, "cannot open directory");
        }

        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return parser_fail_errno(p, errno, dir, "cannot read directory");
                        break;
                }
                if (!dropin_name_valid(de->d_name))
                        continue;

                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        path = NULL;
                        return parser_fail(p, -ENOMEM, dir, 0, "out of memory");
                }

                size_t i;
                for (i = 0; i < *n; i++)
                        if (streq((*list)[i].name, de->d_name))
                                break;
                if (i < *n) {
                        free((*list)[i].path);
                        (*list)[i].path = TAKE_PTR(path);
                        continue;
                }

                char *name = strdup(de->d_name);
                DropIn *t = name ? realloc(*list, (*n + 1) * sizeof(DropIn)) : NULL;
                if (!t) {
                        free(name);
                        return parser_fail(p, -ENOMEM, dir, 0, "out of memory");
                }
                t[*n] = (DropIn){.name = name, .path = TAKE_PTR(path)};
                *list = t;
                (*n)++;
        }
        return 0;
}

/* ROOT + PATH; ROOT NULL, "" or "/" leave PATH alone. Returns NULL on OOM. */
static char *root_path(const char *root, const char *path) {
        char *s;
        size_t n = root ? strlen(root) : 0;

        while (n > 0 && root[n - 1] == '/')
                n--;
        if (asprintf(&s, "%.*s%s", (int)n, n > 0 ? root : "", path) < 0)
                return NULL;
        return s;
}

static char *config_dir_resolve(const char *root, const char *config_dir) {
        char *s;

        if (config_dir)
                s = strdup(config_dir);
        else {
                /* systemd sets this from ConfigurationDirectory=: a list, ours is the first entry. */
                const char *e = getenv("CONFIGURATION_DIRECTORY");
                size_t n = e ? strcspn(e, ":") : 0;
                s = n > 0 ? strndup(e, n) : root_path(root, CONFIG_DIR_DEFAULT);
        }
        if (!s)
                return NULL;

        /* "dir/" would print as "dir//mapguardd.conf" in every error message. */
        size_t n = strlen(s);
        while (n > 1 && s[n - 1] == '/')
                s[--n] = '\0';
        return s;
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

/* The pair is checked once all files are applied (a drop-in may legitimately raise CriticalPercent
 * before another raises WarningPercent). The error points at the later assignment of the two. */
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

int config_load(const char *root, const char *config_dir, Config **ret, char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *dir = NULL, *main_path = NULL;
        _cleanup_free_ char *vendor_dir = NULL, *run_dir = NULL, *etc_dir = NULL;
        DropIn *dropins = NULL;
        size_t n_dropins = 0;
        Parser p = {};
        int r;

        c = config_new_default();
        dir = config_dir_resolve(root, config_dir);
        vendor_dir = root_path(root, "/usr/lib/mapguard/" CONFIG_DROPIN_DIR_NAME);
        run_dir = root_path(root, "/run/mapguard/" CONFIG_DROPIN_DIR_NAME);
        if (!c || !dir || !vendor_dir || !run_dir || asprintf(&main_path, "%s/" CONFIG_FILE_NAME, dir) < 0 ||
            asprintf(&etc_dir, "%s/" CONFIG_DROPIN_DIR_NAME, dir) < 0) {
                /* asprintf leaves the pointer undefined on failure */
                main_path = NULL;
                etc_dir = NULL;
                r = -ENOMEM;
                goto finish;
        }
        p.config = c;

        r = parser_parse_file(&p, main_path);
        if (r < 0)
                goto finish;

        /* Ascending priority: a later directory's file replaces an earlier one of the same name. */
        const char *dirs[] = {vendor_dir, run_dir, etc_dir};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = dropins_add_dir(&p, dirs[i], &dropins, &n_dropins);
                if (r < 0)
                        goto finish;
        }
        if (n_dropins > 0)
                qsort(dropins, n_dropins, sizeof(DropIn), dropin_compare);
        for (size_t i = 0; i < n_dropins; i++) {
                r = parser_parse_file(&p, dropins[i].path);
                if (r < 0)
                        goto finish;
        }

        r = parser_check_pair(&p, "WarningPercent", c->warning_percent, &p.warning_at, "CriticalPercent",
                              c->critical_percent, &p.critical_at);
        if (r < 0)
                goto finish;
        r = parser_check_pair(&p, "HysteresisPercent", c->hysteresis_percent, &p.hysteresis_at,
                              "WarningPercent", c->warning_percent, &p.warning_at);
        if (r < 0)
                goto finish;

        if (strv_length(p.units) > 0) {
                strv_free(c->units);
                c->units = TAKE_PTR(p.units);
        }

        *ret = TAKE_PTR(c);
        r = 0;

finish:
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(p.error);
        dropins_free(dropins, n_dropins);
        parser_done(&p);
        return r;
}
