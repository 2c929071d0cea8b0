/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The few cleanup and string helpers mapguard uses. libsystemd's own exported unref helpers
 * (sd_bus_message_unrefp, ...) are used directly; systemd's internal macros are not public API. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _unused_ __attribute__((unused))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define NSEC_PER_USEC UINT64_C(1000)

/* Makes room in the array *P, of *ALLOCATED elements of SIZE bytes, for element N (the next one to be
 * added): doubles it when full, starting with INITIAL elements. Returns 0, or -ENOMEM with *P and
 * *ALLOCATED untouched. Use ARRAY_RESERVE(). */
static inline int array_reserve(void **p, size_t *allocated, size_t n, size_t size, size_t initial) {
        size_t a;
        void *q;

        if (n < *allocated)
                return 0;
        if (*allocated > SIZE_MAX / 2)
                return -ENOMEM;
        a = *allocated > 0 ? *allocated * 2 : initial;
        q = reallocarray(*p, a, size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *allocated = a;
        return 0;
}
#define ARRAY_RESERVE(p, allocated, n, initial) \
        array_reserve((void **) &(p), &(allocated), (n), sizeof(*(p)), (initial))

/* Frees P and returns NULL, for "p = mfree(p);". */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix);
}

/* Returns the old pointer's target moved out, leaving NULL behind (for handing ownership on). */
static inline void *steal_pointer_impl(void **p) {
        void *q = *p;
        *p = NULL;
        return q;
}
#define TAKE_PTR(p) ((__typeof__(p)) steal_pointer_impl((void **) &(p)))

/* CLOCK's now, in µs. */
static inline uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}
