/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"

void json_writer_init(JsonWriter *w, FILE *f) {
        *w = (JsonWriter){
                .f = f,
                .first[0] = true,
        };
}

int json_writer_finish(JsonWriter *w) {
        if (w->broken || w->depth != 0 || w->after_key)
                return -EINVAL;
        fputc('\n', w->f);
        if (fflush(w->f) != 0 || ferror(w->f))
                return -EIO;
        return 0;
}

/* Writes the comma that separates this value from the previous one at the same level. */
static void json_separate(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (!w->first[w->depth])
                fputc(',', w->f);
        w->first[w->depth] = false;
}

static void json_begin(JsonWriter *w, char c) {
        json_separate(w);
        if (w->depth >= JSON_DEPTH_MAX) {
                w->broken = true;
                return;
        }
        fputc(c, w->f);
        w->first[++w->depth] = true;
}

static void json_end(JsonWriter *w, char c) {
        if (w->depth == 0 || w->after_key) {
                w->broken = true;
                return;
        }
        fputc(c, w->f);
        w->depth--;
}

void json_begin_object(JsonWriter *w) {
        json_begin(w, '{');
}

void json_end_object(JsonWriter *w) {
        json_end(w, '}');
}

void json_begin_array(JsonWriter *w) {
        json_begin(w, '[');
}

void json_end_array(JsonWriter *w) {
        json_end(w, ']');
}

void json_key(JsonWriter *w, const char *key) {
        if (w->after_key)
                w->broken = true;
        json_separate(w);
        json_write_escaped(w->f, key);
        fputc(':', w->f);
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        json_separate(w);
        if (s)
                json_write_escaped(w->f, s);
        else
                fputs("null", w->f);
}

void json_uint(JsonWriter *w, uint64_t v) {
        json_separate(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_double(JsonWriter *w, double v) {
        char buf[64];

        json_separate(w);
        if (!isfinite(v)) {
                fputs("null", w->f);
                return;
        }
        /* -0.0 == 0: written "0". "-0" is valid JSON but reads as a falling value where nothing moves
         * (a trend of a flat series can come out as -0.0). */
        if (v == 0)
                v = 0;
        /* The shortest of %.15g and %.17g that reads back as the same double: 120 stays "120", not
         * "120.00000000000001". LC_NUMERIC stays "C" (mapguardctl sets only LC_CTYPE), so the decimal
         * point is a '.'. */
        snprintf(buf, sizeof(buf), "%.15g", v);
        if (strtod(buf, NULL) != v)
                snprintf(buf, sizeof(buf), "%.17g", v);
        fputs(buf, w->f);
}

void json_bool(JsonWriter *w, bool v) {
        json_separate(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        json_separate(w);
        fputs("null", w->f);
}

void json_key_string(JsonWriter *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}

void json_key_uint(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_uint(w, v);
}

void json_key_double(JsonWriter *w, const char *key, double v) {
        json_key(w, key);
        json_double(w, v);
}

void json_key_bool(JsonWriter *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}

void json_write_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (size_t i = 0; s[i];) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp;
                size_t len;

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        i++;
                        continue;
                case '\\':
                        fputs("\\\\", f);
                        i++;
                        continue;
                case '\b':
                        fputs("\\b", f);
                        i++;
                        continue;
                case '\f':
                        fputs("\\f", f);
                        i++;
                        continue;
                case '\n':
                        fputs("\\n", f);
                        i++;
                        continue;
                case '\r':
                        fputs("\\r", f);
                        i++;
                        continue;
                case '\t':
                        fputs("\\t", f);
                        i++;
                        continue;
                }
                if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }

                len = format_utf8_decode(s + i, &cp);
                if (len == 0) {
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                fwrite(s + i, 1, len, f);
                i += len;
        }
        fputc('"', f);
}
