/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The annotations of a runtime's config.json (json-annotations.c), which anyone who can start a
 * container shapes in part. Two checks per input:
 *  1. the input as a document: json_annotations_parse() returns 0, -ENOENT or -EBADMSG; on -EBADMSG it
 *     wrote nothing; a value found fits its buffer and holds no NUL; a second parse says the same;
 *  2. the input as an annotation's value (made valid UTF-8, cut at a NUL): written as JSON with each
 *     character raw or escaped (\", \n, \u00e9, a surrogate pair, ... as the input's bytes choose), it must
 *     come back byte for byte. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "json-annotations.h"
#include "utf8.h"
#include "util.h"

#define VALUE_SIZE 256

static const char *const keys[] = {
        "io.kubernetes.cri.container-type",
        "io.kubernetes.cri.sandbox-namespace",
        "io.kubernetes.cri.sandbox-name",
        "io.kubernetes.cri.container-name",
        "io.kubernetes.cri-o.ContainerType",
        "io.kubernetes.pod.namespace",
        "io.kubernetes.pod.name",
        "io.kubernetes.container.name",
        "io.kubernetes.cri-o.Labels",
        "k",
};

static void check_document(const char *text, size_t size) {
        static char values[ELEMENTSOF(keys)][VALUE_SIZE], again[ELEMENTSOF(keys)][VALUE_SIZE];
        JsonAnnotation a[ELEMENTSOF(keys)], b[ELEMENTSOF(keys)];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                /* Some buffers small, so that values too long for them are met. */
                size_t s = i % 3 == 0 ? 8 : VALUE_SIZE;

                strcpy(values[i], "sentinel");
                a[i] = (JsonAnnotation){ .key = keys[i], .value = values[i], .size = s, .found = true };
                b[i] = (JsonAnnotation){ .key = keys[i], .value = again[i], .size = s };
        }
        r = json_annotations_parse(text, size, a, ELEMENTSOF(a));
        FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EBADMSG);
        FUZZ_CHECK(json_annotations_parse(text, size, b, ELEMENTSOF(b)) == r);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (r == -EBADMSG) {
                        FUZZ_CHECK(a[i].found && streq(values[i], "sentinel"));
                        continue;
                }
                FUZZ_CHECK(a[i].found == b[i].found);
                FUZZ_CHECK(memchr(values[i], '\0', a[i].size));
                FUZZ_CHECK(a[i].found ? streq(values[i], again[i]) : values[i][0] == '\0');
                FUZZ_CHECK(r == 0 || !a[i].found);
        }
}

/* The code point of the valid UTF-8 sequence at S, and its length in *RET_LEN. */
static uint32_t utf8_decode(const unsigned char *s, size_t *ret_len) {
        if (s[0] < 0x80) {
                *ret_len = 1;
                return s[0];
        }
        if (s[0] < 0xe0) {
                *ret_len = 2;
                return (uint32_t) (s[0] & 0x1f) << 6 | (s[1] & 0x3f);
        }
        if (s[0] < 0xf0) {
                *ret_len = 3;
                return (uint32_t) (s[0] & 0x0f) << 12 | (uint32_t) (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
        }
        *ret_len = 4;
        return (uint32_t) (s[0] & 0x07) << 18 | (uint32_t) (s[1] & 0x3f) << 12 |
                (uint32_t) (s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Writes VALUE as the body of a JSON string to OUT, each character as bit I of CHOICE says. */
static char *encode(const char *value, const uint8_t *choice, size_t n_choice, char *out) {
        static const char short_escapes[] = "\"\\/\b\f\n\r\t", short_letters[] = "\"\\/bfnrt";
        const unsigned char *s = (const unsigned char *) value;

        for (size_t i = 0; *s; i++) {
                uint8_t c = n_choice > 0 ? choice[i % n_choice] >> (i / n_choice % 8) : 0;
                const char *e = memchr(short_escapes, *s, strlen(short_escapes));
                size_t len;
                uint32_t cp = utf8_decode(s, &len);

                if (e && (c & 1))
                        out += sprintf(out, "\\%c", short_letters[e - short_escapes]);
                else if (!(c & 2) && *s != '"' && *s != '\\' && cp >= 0x20) {
                        memcpy(out, s, len);
                        out += len;
                } else if (cp >= 0x10000)
                        out += sprintf(out, c & 4 ? "\\u%04X\\u%04X" : "\\u%04x\\u%04x",
                                       (unsigned) (0xd800 + ((cp - 0x10000) >> 10)),
                                       (unsigned) (0xdc00 + ((cp - 0x10000) & 0x3ff)));
                else
                        out += sprintf(out, c & 4 ? "\\u%04X" : "\\u%04x", (unsigned) cp);
                s += len;
        }
        *out = '\0';
        return out;
}

static void check_round_trip(const uint8_t *data, size_t size) {
        _cleanup_free_ char *value = fuzz_strndup(data, size), *doc = NULL;
        char got[VALUE_SIZE];
        JsonAnnotation a = { .key = "k", .value = got, .size = sizeof(got) };
        char *p;

        utf8_make_valid(value);
        doc = malloc(strlen(value) * 12 + 64);
        FUZZ_CHECK(doc);
        p = doc + sprintf(doc, "{\"annotations\":{\"k\":\"");
        p = encode(value, data, size, p);
        strcpy(p, "\"}}");
        FUZZ_CHECK(json_annotations_parse(doc, strlen(doc), &a, 1) == 0);
        FUZZ_CHECK(a.found == (strlen(value) < sizeof(got)));
        if (a.found)
                FUZZ_CHECK(streq(got, value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > JSON_ANNOTATIONS_FILE_MAX)
                return 0;
        check_document((const char *) data, size);
        check_round_trip(data, size);
        return 0;
}
