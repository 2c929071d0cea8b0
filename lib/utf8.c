/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

size_t utf8_sequence_length(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                n = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
                n = 3;
                if (p[0] == 0xE0)
                        lo = 0xA0; /* overlong below */
                else if (p[0] == 0xED)
                        hi = 0x9F; /* surrogates above */
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
                n = 4;
                if (p[0] == 0xF0)
                        lo = 0x90; /* overlong below */
                else if (p[0] == 0xF4)
                        hi = 0x8F; /* above U+10FFFF */
        } else
                return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */

        /* The second byte has the narrowed range, the others 80..BF. A NUL ends the check: the
         * sequence is cut. */
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xBF)
                        return 0;
        return n;
}

char *utf8_make_valid(char *s) {
        unsigned char *p = (unsigned char *) s;

        while (*p) {
                size_t n = utf8_sequence_length((const char *) p);

                if (n == 0)
                        *p++ = '?';
                else
                        p += n;
        }
        return s;
}
