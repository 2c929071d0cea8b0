/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape_printable() (escape.h), what every outside string goes through before a journal MESSAGE or a
 * terminal. The first byte of the input is the bound, the rest (up to a NUL) the string. Checks: the
 * result is valid UTF-8 without a byte below 0x20, 0x7f or a C1 control; unbounded, it unescapes back to
 * the input; bounded, it is the unbounded one when that fits, else its longest prefix that ends between two
 * characters and leaves room for the ellipsis, then the ellipsis; the fixed-buffer form says the same. */

#include <string.h>

#include "escape.h"
#include "fuzz.h"
#include "utf8.h"
#include "util.h"

static void check_printable(const char *s) {
        for (const char *p = s; *p;) {
                size_t n = utf8_sequence_length(p);

                FUZZ_CHECK(n > 0);
                FUZZ_CHECK((unsigned char) p[0] >= 0x20 && (unsigned char) p[0] != 0x7f);
                FUZZ_CHECK(!((unsigned char) p[0] == 0xc2 && (unsigned char) p[1] <= 0x9f));
                p += n;
        }
}

/* The length of the escape of the one character at S. */
static size_t unit_length(const char *s) {
        _cleanup_free_ char *one = NULL, *e = NULL;
        size_t n = utf8_sequence_length(s);

        one = strndup(s, n > 0 ? n : 1);
        FUZZ_CHECK(one);
        e = escape_printable(one, SIZE_MAX, ESCAPE_REVERSIBLE);
        FUZZ_CHECK(e);
        return strlen(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *full = NULL, *bounded = NULL, *back = NULL, *buf = NULL,
                            *display = NULL, *collapsed = NULL;
        size_t max, ellipsis = strlen(ESCAPE_ELLIPSIS), len;

        if (size < 1)
                return 0;
        max = data[0];
        s = fuzz_strndup(data + 1, size - 1);

        full = escape_printable(s, SIZE_MAX, ESCAPE_REVERSIBLE);
        FUZZ_CHECK(full);
        check_printable(full);
        FUZZ_CHECK(strlen(full) <= 4 * strlen(s));
        FUZZ_CHECK(unescape_printable(full, &back) == 0);
        FUZZ_CHECK(streq(back, s));

        bounded = escape_printable(s, max, ESCAPE_REVERSIBLE);
        FUZZ_CHECK(bounded);
        check_printable(bounded);
        len = strlen(bounded);
        FUZZ_CHECK(len <= max);
        if (strlen(full) <= max)
                FUZZ_CHECK(streq(bounded, full));
        else if (max >= ellipsis) {
                _cleanup_free_ char *prefix = NULL, *consumed = NULL, *again = NULL;

                /* Cut: a prefix of the full escape, between two characters, then the ellipsis. */
                FUZZ_CHECK(len >= ellipsis && streq(bounded + len - ellipsis, ESCAPE_ELLIPSIS));
                prefix = strndup(bounded, len - ellipsis);
                FUZZ_CHECK(prefix);
                FUZZ_CHECK(strncmp(full, prefix, strlen(prefix)) == 0);
                FUZZ_CHECK(unescape_printable(prefix, &consumed) == 0);
                FUZZ_CHECK(strncmp(s, consumed, strlen(consumed)) == 0);
                again = escape_printable(consumed, SIZE_MAX, ESCAPE_REVERSIBLE);
                FUZZ_CHECK(again && streq(again, prefix));
                /* The longest such prefix: the next character's escape would not have fitted. */
                FUZZ_CHECK(s[strlen(consumed)] != '\0');
                FUZZ_CHECK(strlen(prefix) + unit_length(s + strlen(consumed)) + ellipsis > max);
        } else
                FUZZ_CHECK(strncmp(full, bounded, len) == 0);

        buf = malloc(max + 1);
        FUZZ_CHECK(buf);
        FUZZ_CHECK(escape_printable_buf(buf, max + 1, s, ESCAPE_REVERSIBLE) == buf);
        FUZZ_CHECK(streq(buf, bounded));

        /* For display a backslash stays single: the reversible form with each doubled one undone. */
        display = escape_printable(s, SIZE_MAX, 0);
        FUZZ_CHECK(display);
        check_printable(display);
        collapsed = strdup(full);
        FUZZ_CHECK(collapsed);
        for (char *r = collapsed, *w = collapsed;; r++) {
                if (r[0] == '\\' && r[1] == '\\')
                        r++;
                if (!(*w++ = *r))
                        break;
        }
        FUZZ_CHECK(streq(display, collapsed));
        return 0;
}
