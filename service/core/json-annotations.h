/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "annotations" of an OCI runtime config.json, which container runtimes write for each container
 * (containerd compact, CRI-O indented with tabs; Go's encoder, which writes '<' as \u003c). A small
 * strict reader: the whole document must be well-formed JSON (RFC 8259, UTF-8) or nothing of it is
 * believed, so that a file cut short while it is written, or made up, names nothing. It allocates only
 * the buffer a file is read into. Pure logic: no logging. */

#include <stdbool.h>
#include <stddef.h>

/* The largest config.json read: runtimes write 5-30 KB. */
#define JSON_ANNOTATIONS_FILE_MAX (1024 * 1024)
/* How deep objects and arrays may nest (a config.json nests 5 deep). */
#define JSON_ANNOTATIONS_DEPTH_MAX 64
/* How many annotations one call may ask for. */
#define JSON_ANNOTATIONS_KEYS_MAX 16

/* One annotation asked for: KEY in, VALUE (a buffer of SIZE bytes) and FOUND out. */
typedef struct JsonAnnotation {
        const char *key;
        char *value;
        size_t size;
        bool found; /* the value was a string that fits SIZE with its NUL and holds no NUL (\u0000) */
} JsonAnnotation;

/* Reads the document TEXT (LEN bytes, no NUL needed): one JSON object, whitespace around it allowed.
 * Its top-level member "annotations" must be an object whose values are all strings. For each of the
 * N_KEYS entries of KEYS, FOUND says whether its KEY is a member there (keys compared after their escapes
 * are decoded), and VALUE holds the decoded string when FOUND (else ""). Nested "annotations" members
 * (below other members) are not the annotations.
 *
 * Returns 0; -ENOENT when the document is well-formed but has no top-level "annotations" (all FOUND
 * false); -EBADMSG when it is not well-formed JSON (invalid UTF-8, a lone surrogate escape, a control
 * character in a string, nesting deeper than JSON_ANNOTATIONS_DEPTH_MAX, anything after the object, ...)
 * or "annotations" is no object of strings, or holds one of KEYS twice, or "annotations" is there twice;
 * -EINVAL on NULL arguments or more than JSON_ANNOTATIONS_KEYS_MAX keys. KEYS' VALUE and FOUND are
 * untouched on failure. */
int json_annotations_parse(const char *text, size_t len, JsonAnnotation *keys, size_t n_keys);

/* Reads the open file FD (a regular file of at most JSON_ANNOTATIONS_FILE_MAX bytes, read once) and
 * parses it with json_annotations_parse(). Returns what that returns; -EBADFD when FD is not a regular
 * file (a FIFO, a device, a directory); -EFBIG when the file is larger than JSON_ANNOTATIONS_FILE_MAX, or
 * grew while it was read (a runtime still writing it); -ENOMEM; other -errno of fstat() or read(). */
int json_annotations_read_fd(int fd, JsonAnnotation *keys, size_t n_keys);
