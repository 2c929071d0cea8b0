/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between conf.c (finding the files, reading and merging them by name) and conf-parse.c (the text of one
 * file: inih, the keys and their values, and the checks that need every file applied). Not part of the
 * Config API: only the loader includes this. Pure logic: no logging. */

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Where a key was last assigned; seq 0 means never (the built-in default). Lets the cross-key checks,
 * which only make sense after the merge, still point at a line. */
typedef struct Location {
        const char *path;
        unsigned line;
        uint64_t seq;
} Location;

/* One per config_load(): files are parsed one after the other into the same Config, so assignments
 * accumulate and later ones win. Zero-initialise it, set config, and release it with parser_done(). */
typedef struct Parser {
        Config *config;
        Location warning_at, critical_at, hysteresis_at;
        uint64_t seq;

        /* The file being parsed, fed to inih line by line. */
        const char *path;
        const char *buf;
        size_t size, pos;
        unsigned line;

        /* The first error only: later ones are usually consequences of it. */
        int error_code;
        unsigned error_line;
        char *error;
} Parser;

/* Frees what the Parser owns (the error message), not the Config. */
void parser_done(Parser *p);

/* Records the first error as "PATH:LINE: reason"; later calls are ignored. Returns the recorded error
 * code (-ENOMEM when the message itself could not be allocated). */
__attribute__((format(printf, 5, 6))) int parser_fail(Parser *p, int error_code, const char *path,
                                                      unsigned line, const char *fmt, ...);
/* A file-level failure, ERROR a positive errno: "PATH:0: WHAT: strerror". Returns -ERROR (or -ENOMEM). */
int parser_fail_errno(Parser *p, int error, const char *path, const char *what);

/* Applies the SIZE bytes of BUF (NUL-terminated after them), the text of PATH, to p->config. Returns 0,
 * or the recorded error (-EINVAL for bad syntax or values, -ENOMEM). */
int parser_parse_buffer(Parser *p, const char *path, const char *buf, size_t size);

/* The checks between keys, once every file is applied (a drop-in may legitimately raise
 * CriticalPercent before another raises WarningPercent). Returns 0 or the recorded -EINVAL/-ENOMEM. */
int parser_check_merged(Parser *p);
