/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "timespan.h"
#include "util.h"

static const struct {
        const char *suffix;
        uint64_t usec;
} units[] = {
        { "usec", 1 },
        { "us", 1 },
        { "\xc2\xb5s", 1 }, /* µs, MICRO SIGN */
        { "\xce\xbcs", 1 }, /* μs, GREEK SMALL LETTER MU */
        { "msec", USEC_PER_MSEC },
        { "ms", USEC_PER_MSEC },
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "minute", 60 * USEC_PER_SEC },
        { "min", 60 * USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC },
        { "hour", 3600 * USEC_PER_SEC },
        { "hr", 3600 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
        { "days", 86400 * USEC_PER_SEC },
        { "day", 86400 * USEC_PER_SEC },
        { "d", 86400 * USEC_PER_SEC },
        { "weeks", 604800 * USEC_PER_SEC },
        { "week", 604800 * USEC_PER_SEC },
        { "w", 604800 * USEC_PER_SEC },
};

/* The unit that begins at *S, which it skips: the whole run of letters, so "ms" is never read as "m" +
 * "s"; none is seconds. */
static int parse_unit(const char **s, uint64_t *ret) {
        size_t n = 0;

        while ((*s)[n] && !isdigit((unsigned char) (*s)[n]) && !strchr(" \t.", (*s)[n]))
                n++;
        if (n == 0) {
                *ret = USEC_PER_SEC;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strlen(units[i].suffix) == n && strncmp(units[i].suffix, *s, n) == 0) {
                        *s += n;
                        *ret = units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

/* One "NUMBER[.FRACTION] [UNIT]" at *S (past blanks), which it skips. */
static int parse_component(const char **s, uint64_t *ret) {
        const char *p = *s, *frac = NULL;
        uint64_t whole = 0, mult, v;
        bool overflow = false;
        int r;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (whole > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        whole = whole * 10 + d;
        }
        if (*p == '.') {
                frac = ++p;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        p += strspn(p, " \t");
        r = parse_unit(&p, &mult);
        if (r < 0)
                return r;

        if (overflow || whole > UINT64_MAX / mult)
                return -ERANGE;
        v = whole * mult;
        if (frac)
                for (uint64_t m = mult / 10; m > 0 && isdigit((unsigned char) *frac); m /= 10, frac++)
                        v += (uint64_t) (*frac - '0') * m; /* < mult: cannot overflow */
        *s = p;
        *ret = v;
        return 0;
}

int parse_timespan(const char *s, uint64_t *ret) {
        uint64_t sum = 0, v;
        bool any = false;
        int r;

        if (!s)
                return -EINVAL;
        for (;;) {
                s += strspn(s, " \t");
                if (!*s)
                        break;
                r = parse_component(&s, &v);
                if (r < 0)
                        return r;
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
