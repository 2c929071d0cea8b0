/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "utf8.h"

/* The longest escape of one character of the input: a C1 control, two bytes as \xNN\xNN. */
#define ESCAPE_UNIT_MAX 8

static const char hex_digits[] = "0123456789abcdef";

static size_t escape_byte_hex(unsigned char c, char *out) {
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex_digits[c >> 4];
        out[3] = hex_digits[c & 0xf];
        return 4;
}

/* The escape of the character at S (not at its end) into OUT (ESCAPE_UNIT_MAX bytes, not terminated).
 * Returns its length; *RET_CONSUMED says how many bytes of S it stands for. */
static size_t escape_unit(const char *s, EscapeFlags flags, char *out, size_t *ret_consumed) {
        static const char named[] = { ['\a'] = 'a', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
                                      ['\v'] = 'v', ['\f'] = 'f', ['\r'] = 'r' };
        unsigned char c = (unsigned char) s[0];
        size_t n;

        *ret_consumed = 1;
        if (c == '\\' && (flags & ESCAPE_REVERSIBLE)) {
                out[0] = out[1] = '\\';
                return 2;
        }
        if (c < 0x20 && c < sizeof(named) && named[c]) {
                out[0] = '\\';
                out[1] = named[c];
                return 2;
        }
        if (c < 0x20 || c == 0x7f)
                return escape_byte_hex(c, out);
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }

        n = utf8_sequence_length(s);
        if (n == 0)
                return escape_byte_hex(c, out); /* one byte of garbage; what follows is looked at anew */
        *ret_consumed = n;
        if (n == 2 && c == 0xc2 && (unsigned char) s[1] <= 0x9f) {
                /* U+0080-U+009F: C1 controls (U+009B is CSI, as ESC [ is). */
                escape_byte_hex(c, out);
                return 4 + escape_byte_hex((unsigned char) s[1], out + 4);
        }
        memcpy(out, s, n);
        return n;
}

/* Writes the escape of S, at most MAX bytes of it, into BUF (MAX + 1 bytes), NUL-terminated. Returns the
 * length written. */
static size_t escape_into(char *buf, size_t max, const char *s, EscapeFlags flags) {
        static const size_t ellipsis_len = sizeof(ESCAPE_ELLIPSIS) - 1;
        size_t len = 0, fits_ellipsis = 0;

        while (*s) {
                char unit[ESCAPE_UNIT_MAX];
                size_t consumed, k = escape_unit(s, flags, unit, &consumed);

                if (k > max - len) {
                        /* Cut: back to the last character boundary that leaves room for the ellipsis. */
                        if (max >= ellipsis_len) {
                                len = fits_ellipsis;
                                memcpy(buf + len, ESCAPE_ELLIPSIS, ellipsis_len);
                                len += ellipsis_len;
                        }
                        break;
                }
                memcpy(buf + len, unit, k);
                len += k;
                s += consumed;
                if (max >= ellipsis_len && len <= max - ellipsis_len)
                        fits_ellipsis = len;
        }
        buf[len] = '\0';
        return len;
}

char *escape_printable(const char *s, size_t max_bytes, EscapeFlags flags) {
        size_t len, cap;
        char *buf, *shrunk;

        if (!s) {
                errno = EINVAL;
                return NULL;
        }
        len = strlen(s);
        /* No character escapes to more than 4 bytes per input byte. */
        cap = len <= (SIZE_MAX - 1) / 4 && len * 4 < max_bytes ? len * 4 : max_bytes;
        if (cap == SIZE_MAX) {
                errno = ENOMEM;
                return NULL;
        }
        buf = malloc(cap + 1);
        if (!buf)
                return NULL;
        len = escape_into(buf, cap, s, flags);
        /* A 4 KiB name of plain text needs no 16 KiB. */
        shrunk = realloc(buf, len + 1);
        return shrunk ?: buf;
}

char *escape_printable_buf(char *buf, size_t size, const char *s, EscapeFlags flags) {
        if (size == 0)
                return buf;
        escape_into(buf, size - 1, s ?: "", flags);
        return buf;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int unescape_printable(const char *s, char **ret) {
        static const char *const named = "\\\\a\ab\bt\tn\nv\vf\fr\r";
        char *out, *p;

        if (!s || !ret)
                return -EINVAL;
        out = p = malloc(strlen(s) + 1);
        if (!out)
                return -ENOMEM;
        while (*s) {
                const char *e;
                int hi, lo;

                if (*s != '\\') {
                        *p++ = *s++;
                        continue;
                }
                s++;
                if (*s == 'x') {
                        hi = unhex(s[1]);
                        lo = hi >= 0 ? unhex(s[2]) : -1;
                        if (lo < 0 || (hi == 0 && lo == 0))
                                goto invalid;
                        *p++ = (char) (hi << 4 | lo);
                        s += 3;
                        continue;
                }
                /* NAMED pairs an escape letter with the byte it stands for. */
                for (e = named; *e && *e != *s; e += 2)
                        ;
                if (!*s || !*e)
                        goto invalid;
                *p++ = e[1];
                s++;
        }
        *p = '\0';
        *ret = out;
        return 0;
invalid:
        free(out);
        return -EINVAL;
}
