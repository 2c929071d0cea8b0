/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every harness shares: libFuzzer's entry point, and a check that aborts (a finding) with a
 * message, in the libFuzzer build and in the corpus replay (replay.c) alike. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

/* A NUL-terminated malloc'd copy of the input (it may hold NULs of its own). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                abort();
        if (size > 0)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
