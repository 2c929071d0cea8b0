/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "json-annotations.h"
#include "util.h"

typedef struct JsonParser {
        const unsigned char *p, *end;
        unsigned depth;
} JsonParser;

/* Where a string's decoded bytes go: BUF (SIZE bytes) while they fit with a NUL; LEN counts them all. */
typedef struct StringOut {
        char *buf;
        size_t size, len;
        bool nul; /* a \u0000 was in it */
} StringOut;

/* Called with J after the ':' of a member whose key (its opening quote) is at KEY: reads the value. */
typedef int (*MemberFn)(JsonParser *j, const unsigned char *key, void *userdata);

static int parse_value(JsonParser *j);

static void out_put(StringOut *o, const void *bytes, size_t n) {
        if (!o)
                return;
        if (o->buf && o->len + n < o->size)
                memcpy(o->buf + o->len, bytes, n);
        o->len += n;
}

static bool at(const JsonParser *j, unsigned char c) {
        return j->p < j->end && *j->p == c;
}

static void skip_ws(JsonParser *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

/* The length of the well-formed UTF-8 sequence (RFC 3629) at P, which has N > 0 bytes; 0 for none. */
static size_t utf8_len(const unsigned char *p, size_t n) {
        uint32_t cp, min;
        size_t len;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, cp = p[0] & 0x1f, min = 0x80;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, cp = p[0] & 0x0f, min = 0x800;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, cp = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (unsigned char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (unsigned char) (0xc0 | cp >> 6);
                out[1] = (unsigned char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (unsigned char) (0xe0 | cp >> 12);
                out[1] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
                out[2] = (unsigned char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (unsigned char) (0xf0 | cp >> 18);
        out[1] = (unsigned char) (0x80 | (cp >> 12 & 0x3f));
        out[2] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
        out[3] = (unsigned char) (0x80 | (cp & 0x3f));
        return 4;
}

static int parse_hex4(JsonParser *j, uint32_t *ret) {
        uint32_t v = 0;

        if (j->end - j->p < 4)
                return -EBADMSG;
        for (size_t i = 0; i < 4; i++) {
                unsigned char c = j->p[i];

                if (c >= '0' && c <= '9')
                        v = v << 4 | (uint32_t) (c - '0');
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        v = v << 4 | (uint32_t) ((c | 0x20) - 'a' + 10);
                else
                        return -EBADMSG;
        }
        j->p += 4;
        *ret = v;
        return 0;
}

/* J just after a backslash in a string. */
static int parse_escape(JsonParser *j, StringOut *o) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        unsigned char utf8[4];
        const char *e;
        uint32_t cp, low;

        if (j->p >= j->end)
                return -EBADMSG;
        if (*j->p != 'u') {
                e = memchr(from, *j->p, strlen(from));
                if (!e)
                        return -EBADMSG;
                j->p++;
                out_put(o, &to[e - from], 1);
                return 0;
        }
        j->p++;
        if (parse_hex4(j, &cp) < 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                return -EBADMSG;
        if (cp >= 0xd800 && cp <= 0xdbff) {
                /* A character above U+FFFF: a surrogate pair, the high half first. */
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                        return -EBADMSG;
                j->p += 2;
                if (parse_hex4(j, &low) < 0 || low < 0xdc00 || low > 0xdfff)
                        return -EBADMSG;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        if (cp == 0 && o)
                o->nul = true;
        out_put(o, utf8, utf8_encode(cp, utf8));
        return 0;
}

/* J at the opening quote: reads to after the closing one, decoding into O (NULL: only checks). */
static int parse_string(JsonParser *j, StringOut *o) {
        if (!at(j, '"'))
                return -EBADMSG;
        j->p++;
        for (;;) {
                size_t n;
                int r;

                if (j->p >= j->end)
                        return -EBADMSG;
                if (*j->p == '"') {
                        j->p++;
                        return 0;
                }
                if (*j->p == '\\') {
                        j->p++;
                        r = parse_escape(j, o);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (*j->p < 0x20)
                        return -EBADMSG;
                n = utf8_len(j->p, (size_t) (j->end - j->p));
                if (n == 0)
                        return -EBADMSG;
                out_put(o, j->p, n);
                j->p += n;
        }
}

static bool at_digit(const JsonParser *j) {
        return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static int parse_digits(JsonParser *j) {
        if (!at_digit(j))
                return -EBADMSG;
        while (at_digit(j))
                j->p++;
        return 0;
}

static int parse_number(JsonParser *j) {
        if (at(j, '-'))
                j->p++;
        if (at(j, '0'))
                j->p++;
        else if (parse_digits(j) < 0)
                return -EBADMSG;
        if (at(j, '.')) {
                j->p++;
                if (parse_digits(j) < 0)
                        return -EBADMSG;
        }
        if (at(j, 'e') || at(j, 'E')) {
                j->p++;
                if (at(j, '+') || at(j, '-'))
                        j->p++;
                if (parse_digits(j) < 0)
                        return -EBADMSG;
        }
        return 0;
}

static int parse_literal(JsonParser *j, const char *word) {
        size_t l = strlen(word);

        if ((size_t) (j->end - j->p) < l || memcmp(j->p, word, l) != 0)
                return -EBADMSG;
        j->p += l;
        return 0;
}

/* J at '{': reads the object, handing each member's value to MEMBER (NULL: skips it). */
static int parse_object(JsonParser *j, MemberFn member, void *userdata) {
        if (++j->depth > JSON_ANNOTATIONS_DEPTH_MAX)
                return -EBADMSG;
        j->p++;
        skip_ws(j);
        if (at(j, '}')) {
                j->p++;
                j->depth--;
                return 0;
        }
        for (;;) {
                const unsigned char *key = j->p;
                int r;

                r = parse_string(j, NULL);
                if (r < 0)
                        return r;
                skip_ws(j);
                if (!at(j, ':'))
                        return -EBADMSG;
                j->p++;
                skip_ws(j);
                r = member ? member(j, key, userdata) : parse_value(j);
                if (r < 0)
                        return r;
                skip_ws(j);
                if (at(j, '}')) {
                        j->p++;
                        j->depth--;
                        return 0;
                }
                if (!at(j, ','))
                        return -EBADMSG;
                j->p++;
                skip_ws(j);
        }
}

static int parse_array(JsonParser *j) {
        if (++j->depth > JSON_ANNOTATIONS_DEPTH_MAX)
                return -EBADMSG;
        j->p++;
        skip_ws(j);
        if (at(j, ']')) {
                j->p++;
                j->depth--;
                return 0;
        }
        for (;;) {
                int r = parse_value(j);

                if (r < 0)
                        return r;
                skip_ws(j);
                if (at(j, ']')) {
                        j->p++;
                        j->depth--;
                        return 0;
                }
                if (!at(j, ','))
                        return -EBADMSG;
                j->p++;
                skip_ws(j);
        }
}

static int parse_value(JsonParser *j) {
        if (j->p >= j->end)
                return -EBADMSG;
        switch (*j->p) {
        case '{':
                return parse_object(j, NULL, NULL);
        case '[':
                return parse_array(j);
        case '"':
                return parse_string(j, NULL);
        case 't':
                return parse_literal(j, "true");
        case 'f':
                return parse_literal(j, "false");
        case 'n':
                return parse_literal(j, "null");
        default:
                return parse_number(j);
        }
}

/* Decodes the string that was checked already at START (its opening quote) into O. */
static void decode_checked(const unsigned char *start, const unsigned char *end, StringOut *o) {
        JsonParser j = { .p = start, .end = end };

        (void) parse_string(&j, o);
}

/* Decodes the checked key at KEY into BUF (a member name we look for is short). Returns false when it
 * does not fit or holds a NUL: then it is none of ours. */
static bool key_decode(const JsonParser *j, const unsigned char *key, char buf[static UINT8_MAX + 1]) {
        StringOut o = { .buf = buf, .size = UINT8_MAX + 1 };

        decode_checked(key, j->end, &o);
        if (o.nul || o.len >= o.size)
                return false;
        buf[o.len] = '\0';
        return true;
}

typedef struct Annotations {
        const JsonAnnotation *keys;
        size_t n_keys;
        const unsigned char *values[JSON_ANNOTATIONS_KEYS_MAX]; /* the opening quote of each found value */
        bool seen;
} Annotations;

static int on_annotation(JsonParser *j, const unsigned char *key, void *userdata) {
        Annotations *a = userdata;
        char name[UINT8_MAX + 1];

        /* The OCI runtime spec: a map of strings to strings. */
        if (!at(j, '"'))
                return -EBADMSG;
        if (!key_decode(j, key, name))
                return parse_string(j, NULL);
        for (size_t i = 0; i < a->n_keys; i++) {
                if (!streq(name, a->keys[i].key))
                        continue;
                /* Go's encoder writes a map's key once: a second one was not written by a runtime. */
                if (a->values[i])
                        return -EBADMSG;
                a->values[i] = j->p;
        }
        return parse_string(j, NULL);
}

static int on_top_member(JsonParser *j, const unsigned char *key, void *userdata) {
        Annotations *a = userdata;
        char name[UINT8_MAX + 1];

        if (!key_decode(j, key, name) || !streq(name, "annotations"))
                return parse_value(j);
        if (a->seen || !at(j, '{'))
                return -EBADMSG;
        a->seen = true;
        return parse_object(j, on_annotation, a);
}

int json_annotations_parse(const char *text, size_t len, JsonAnnotation *keys, size_t n_keys) {
        JsonParser j = { .p = (const unsigned char *) text, .end = (const unsigned char *) text + len };
        Annotations a = { .keys = keys, .n_keys = n_keys };
        int r;

        if (!text || (!keys && n_keys > 0) || n_keys > JSON_ANNOTATIONS_KEYS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_keys; i++)
                if (!keys[i].key || (!keys[i].value && keys[i].size > 0))
                        return -EINVAL;

        skip_ws(&j);
        if (!at(&j, '{'))
                return -EBADMSG;
        r = parse_object(&j, on_top_member, &a);
        if (r < 0)
                return r;
        skip_ws(&j);
        if (j.p != j.end)
                return -EBADMSG;

        for (size_t i = 0; i < n_keys; i++) {
                StringOut o = { .buf = keys[i].value, .size = keys[i].size };

                if (a.values[i])
                        decode_checked(a.values[i], j.end, &o);
                keys[i].found = a.values[i] && !o.nul && o.len < o.size;
                if (keys[i].size > 0)
                        keys[i].value[keys[i].found ? o.len : 0] = '\0';
        }
        return a.seen ? 0 : -ENOENT;
}

int json_annotations_read_fd(int fd, JsonAnnotation *keys, size_t n_keys) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size;
        ssize_t n;

        if (fd < 0)
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > JSON_ANNOTATIONS_FILE_MAX)
                return -EFBIG;
        /* One byte more than the file has, to see that it did not grow meanwhile, and the NUL. */
        size = (size_t) st.st_size + 2;
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        n = read_fd_small(fd, buf, size);
        if (n < 0)
                return (int) n;
        if ((size_t) n == size - 1)
                return -EFBIG;
        return json_annotations_parse(buf, (size_t) n, keys, n_keys);
}
