/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "timespan.h"
#include "util.h"

int parse_timespan(const char *s, uint64_t *ret) {
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
        uint64_t sum = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                s += strspn(s, " \t");
                if (!*s)
                        break;
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;

                uint64_t whole = 0;
                bool overflow = false;
                for (; isdigit((unsigned char) *s); s++) {
                        unsigned d = (unsigned) (*s - '0');
                        if (whole > (UINT64_MAX - d) / 10)
                                overflow = true;
                        else
                                whole = whole * 10 + d;
                }
                const char *frac = NULL;
                if (*s == '.') {
                        frac = ++s;
                        if (!isdigit((unsigned char) *s))
                                return -EINVAL;
                        while (isdigit((unsigned char) *s))
                                s++;
                }
                s += strspn(s, " \t");

                /* The unit is the whole run of letters, so "ms" is never read as "m" + "s". */
                size_t n = 0;
                while (s[n] && !isdigit((unsigned char) s[n]) && !strchr(" \t.", s[n]))
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
                        for (uint64_t m = mult / 10; m > 0 && isdigit((unsigned char) *frac);
                             m /= 10, frac++)
                                v += (uint64_t) (*frac - '0') * m; /* < mult: cannot overflow */
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
