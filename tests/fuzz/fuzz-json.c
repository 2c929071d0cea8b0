/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's JSON writer (client/json.c): for any input string (a comm, a unit name: bytes a user
 * chose) the document `mapguardctl --json` writes must be valid JSON. A strict RFC 8259 validator
 * (UTF-8 checked per RFC 3629, escapes and surrogate pairs checked) reads it back; a string that was
 * valid UTF-8 must come back byte for byte, in a value and in a key. */

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "util.h"

typedef struct Reader {
        const unsigned char *p, *end;
        /* The decoded text of the last string read. */
        char *str;
        size_t len, allocated;
} Reader;

static void ws(Reader *r) {
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
                r->p++;
}

static void put_byte(Reader *r, unsigned char c) {
        if (ARRAY_RESERVE(r->str, r->allocated, r->len + 1, 64) < 0)
                abort();
        r->str[r->len++] = (char) c;
        r->str[r->len] = '\0';
}

static void put_cp(Reader *r, uint32_t cp) {
        if (cp < 0x80)
                put_byte(r, (unsigned char) cp);
        else if (cp < 0x800) {
                put_byte(r, (unsigned char) (0xc0 | (cp >> 6)));
                put_byte(r, (unsigned char) (0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
                put_byte(r, (unsigned char) (0xe0 | (cp >> 12)));
                put_byte(r, (unsigned char) (0x80 | ((cp >> 6) & 0x3f)));
                put_byte(r, (unsigned char) (0x80 | (cp & 0x3f)));
        } else {
                put_byte(r, (unsigned char) (0xf0 | (cp >> 18)));
                put_byte(r, (unsigned char) (0x80 | ((cp >> 12) & 0x3f)));
                put_byte(r, (unsigned char) (0x80 | ((cp >> 6) & 0x3f)));
                put_byte(r, (unsigned char) (0x80 | (cp & 0x3f)));
        }
}

/* One UTF-8 sequence at P (RFC 3629); returns its length, 0 when ill-formed. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end, uint32_t *ret) {
        size_t n, avail = (size_t) (end - p);
        uint32_t cp, min;

        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)
                n = 2, cp = p[0] & 0x1f, min = 0x80;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3, cp = p[0] & 0x0f, min = 0x800;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4, cp = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (avail < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return n;
}

static bool hex4(Reader *r, uint32_t *ret) {
        uint32_t v = 0;

        if (r->end - r->p < 4)
                return false;
        for (int i = 0; i < 4; i++) {
                unsigned char c = *r->p++;
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= c - '0';
                else if (c >= 'a' && c <= 'f')
                        v |= c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v |= c - 'A' + 10;
                else
                        return false;
        }
        *ret = v;
        return true;
}

static bool string(Reader *r) {
        r->len = 0;
        put_byte(r, 0);
        r->len = 0;
        if (r->p >= r->end || *r->p != '"')
                return false;
        r->p++;
        for (;;) {
                uint32_t cp;
                size_t n;

                if (r->p >= r->end)
                        return false;
                if (*r->p == '"') {
                        r->p++;
                        return true;
                }
                if (*r->p < 0x20)
                        return false;
                if (*r->p != '\\') {
                        n = utf8_seq(r->p, r->end, &cp);
                        if (n == 0)
                                return false;
                        for (size_t i = 0; i < n; i++)
                                put_byte(r, r->p[i]);
                        r->p += n;
                        continue;
                }
                r->p++;
                if (r->p >= r->end)
                        return false;
                switch (*r->p++) {
                case '"':
                        put_byte(r, '"');
                        break;
                case '\\':
                        put_byte(r, '\\');
                        break;
                case '/':
                        put_byte(r, '/');
                        break;
                case 'b':
                        put_byte(r, '\b');
                        break;
                case 'f':
                        put_byte(r, '\f');
                        break;
                case 'n':
                        put_byte(r, '\n');
                        break;
                case 'r':
                        put_byte(r, '\r');
                        break;
                case 't':
                        put_byte(r, '\t');
                        break;
                case 'u':
                        if (!hex4(r, &cp))
                                return false;
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return false; /* a lone low surrogate */
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                uint32_t lo;

                                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                                        return false;
                                r->p += 2;
                                if (!hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
                                        return false;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        put_cp(r, cp);
                        break;
                default:
                        return false;
                }
        }
}

static bool literal(Reader *r, const char *s) {
        size_t l = strlen(s);

        if ((size_t) (r->end - r->p) < l || memcmp(r->p, s, l) != 0)
                return false;
        r->p += l;
        return true;
}

static bool digits(Reader *r) {
        const unsigned char *start = r->p;

        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
                r->p++;
        return r->p > start;
}

static bool number(Reader *r) {
        if (r->p < r->end && *r->p == '-')
                r->p++;
        if (r->p < r->end && *r->p == '0')
                r->p++;
        else if (!digits(r))
                return false;
        if (r->p < r->end && *r->p == '.') {
                r->p++;
                if (!digits(r))
                        return false;
        }
        if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
                r->p++;
                if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
                        r->p++;
                if (!digits(r))
                        return false;
        }
        return true;
}

static bool value(Reader *r, unsigned depth) {
        if (depth > 64)
                return false;
        ws(r);
        if (r->p >= r->end)
                return false;
        switch (*r->p) {
        case '"':
                return string(r);
        case 't':
                return literal(r, "true");
        case 'f':
                return literal(r, "false");
        case 'n':
                return literal(r, "null");
        case '[':
                r->p++;
                ws(r);
                if (r->p < r->end && *r->p == ']') {
                        r->p++;
                        return true;
                }
                for (;;) {
                        if (!value(r, depth + 1))
                                return false;
                        ws(r);
                        if (r->p >= r->end)
                                return false;
                        if (*r->p++ == ']')
                                return true;
                        if (r->p[-1] != ',')
                                return false;
                }
        case '{':
                r->p++;
                ws(r);
                if (r->p < r->end && *r->p == '}') {
                        r->p++;
                        return true;
                }
                for (;;) {
                        ws(r);
                        if (!string(r))
                                return false;
                        ws(r);
                        if (r->p >= r->end || *r->p++ != ':')
                                return false;
                        if (!value(r, depth + 1))
                                return false;
                        ws(r);
                        if (r->p >= r->end)
                                return false;
                        if (*r->p++ == '}')
                                return true;
                        if (r->p[-1] != ',')
                                return false;
                }
        default:
                return number(r);
        }
}

static bool valid_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *) s, *end = p + strlen(s);
        uint32_t cp;

        while (p < end) {
                size_t n = utf8_seq(p, end, &cp);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

/* Reads the string member that must come next ("KEY":"VALUE" or "VALUE":N) and compares it. */
static void expect_string(Reader *r, const char *s) {
        FUZZ_CHECK(string(r));
        FUZZ_CHECK(r->len == strlen(r->str) && valid_utf8(r->str));
        if (valid_utf8(s))
                FUZZ_CHECK(r->len == strlen(s) && memcmp(r->str, s, r->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *out = NULL;
        size_t out_size = 0;
        JsonWriter w;
        Reader r = {};
        double d = 0;
        FILE *f;

        if (size >= sizeof(d))
                memcpy(&d, data, sizeof(d));
        f = open_memstream(&out, &out_size);
        FUZZ_CHECK(f);
        json_writer_init(&w, f);
        json_begin_object(&w);
        json_key_string(&w, "comm", s);
        json_key_uint(&w, s, UINT64_MAX);
        json_key(&w, "list");
        json_begin_array(&w);
        json_string(&w, s);
        json_string(&w, NULL);
        json_double(&w, d);
        json_double(&w, NAN);
        json_bool(&w, true);
        json_end_array(&w);
        json_end_object(&w);
        FUZZ_CHECK(json_writer_finish(&w) == 0);
        FUZZ_CHECK(fclose(f) == 0);

        /* The whole document, then exactly one newline. */
        r.p = (const unsigned char *) out;
        r.end = r.p + out_size;
        FUZZ_CHECK(out_size > 0 && out[out_size - 1] == '\n');
        FUZZ_CHECK(value(&r, 0));
        FUZZ_CHECK(r.p == r.end - 1);

        /* And the strings in it: {"comm":S,S:18446744073709551615,"list":[S,null,D,null,true]} */
        r.p = (const unsigned char *) out + 1;
        FUZZ_CHECK(string(&r) && streq(r.str, "comm") && *r.p++ == ':');
        expect_string(&r, s);
        FUZZ_CHECK(*r.p++ == ',');
        expect_string(&r, s);
        FUZZ_CHECK(literal(&r, ":18446744073709551615,\"list\":["));
        expect_string(&r, s);
        free(r.str);
        return 0;
}
