/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which of a process's mappings are its threads' stacks and their guards, by the threads' stack
 * pointers, glibc's names and, for threads without a pointer, the guard pattern: explain.h says how and
 * how sure each way is. Pure logic, on the lines explain.c has parsed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps-line.h"

/* One line of maps as the classifier holds it. NAME points into the caller's text (not NUL-terminated). */
typedef struct ExplainMapping {
        uint64_t start, end;
        const char *name;
        uint32_t name_len;
        uint64_t sp;       /* the stack pointer of a thread in it (the last one looked up) */
        uint32_t sp_hits;  /* threads whose stack pointer is in it, saturating */
        uint32_t file;     /* file and library lines: their index in the classifier's files */
        uint8_t perms;     /* MAPS_PERM_* */
        uint8_t kind;      /* ExplainKind */
        bool named_stack;  /* a stack by its name: glibc's decoration or "[stack:TID]" */
        bool thread_guard; /* the guard below a thread's stack */
} ExplainMapping;

static inline uint64_t explain_mapping_size(const ExplainMapping *m) {
        return m->end > m->start ? m->end - m->start : 0;
}

/* "rw-p": readable, writable, not executable, private. */
static inline bool explain_mapping_is_rw_private(const ExplainMapping *m) {
        return (m->perms & (MAPS_PERM_READ | MAPS_PERM_WRITE | MAPS_PERM_EXEC | MAPS_PERM_SHARED)) ==
                (MAPS_PERM_READ | MAPS_PERM_WRITE);
}

/* "---p": no access, private. */
static inline bool explain_mapping_is_none_private(const ExplainMapping *m) {
        return (m->perms & (MAPS_PERM_READ | MAPS_PERM_WRITE | MAPS_PERM_EXEC | MAPS_PERM_SHARED)) == 0;
}

/* Marks the stacks among MAPS[0..N) (in the order maps lists them; SORTED: their starts ascend, as the
 * kernel writes them, without which no pointer is looked up) and their guards EXPLAIN_KIND_THREAD_STACK
 * (guards also thread_guard), given the stack pointers of the process's threads, SPS[0..N_THREADS) (0:
 * unknown). Lines named as stacks (named_stack) must be EXPLAIN_KIND_THREAD_STACK already. Returns 0 and
 * adds the stacks and the guards found to *STACKS and *GUARDS; -ENOMEM. */
int explain_find_stacks(ExplainMapping *maps, size_t n, bool sorted, const uint64_t *sps, size_t n_threads,
                        unsigned *stacks, unsigned *guards);
