/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small streaming JSON writer for `mapguardctl --json`: compact output, commas placed by the writer,
 * strings escaped per RFC 8259. The writer never fails midway; errors of the stream are reported once at
 * the end by json_writer_finish(), so callers write a whole document without checking each call. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool first[JSON_DEPTH_MAX + 1]; /* Nothing written yet at this level: no comma needed. */
        bool after_key;                 /* The next value completes a "key": pair. */
        bool broken;                    /* Misuse (too deep, unbalanced end): the document is invalid. */
} JsonWriter;

/* Starts a document on f. */
void json_writer_init(JsonWriter *w, FILE *f);

/* Ends the document with a newline and flushes. Returns 0, -EINVAL when objects or arrays were left open or
 * nested deeper than JSON_DEPTH_MAX, or -EIO when writing failed. */
int json_writer_finish(JsonWriter *w);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);

/* Writes a member name; the next value call writes its value. */
void json_key(JsonWriter *w, const char *key);

/* A string value; NULL writes null. */
void json_string(JsonWriter *w, const char *s);
void json_uint(JsonWriter *w, uint64_t v);
/* A number; NaN and infinities, which JSON cannot express, are written as null. */
void json_double(JsonWriter *w, double v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);

/* Shorthands for a member: json_key() followed by the value. */
void json_key_string(JsonWriter *w, const char *key, const char *s);
void json_key_uint(JsonWriter *w, const char *key, uint64_t v);
void json_key_double(JsonWriter *w, const char *key, double v);
void json_key_bool(JsonWriter *w, const char *key, bool v);

/* Writes s as a quoted JSON string: '"', '\\' and control characters escaped (\n, \t, ... or \u00XX),
 * valid UTF-8 passed through, each byte of invalid UTF-8 replaced by U+FFFD so the document stays valid. */
void json_write_escaped(FILE *f, const char *s);
