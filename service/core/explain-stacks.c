/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>

#include "explain-stacks.h"
#include "explain.h"
#include "util.h"

typedef struct StackFinder {
        ExplainMapping *maps;
        size_t n_maps;
        bool sorted;
        unsigned thread_stacks, thread_guards;
} StackFinder;

/* The index of the mapping that holds ADDR, SIZE_MAX when none does. Needs ascending starts. */
static size_t finder_find(const StackFinder *f, uint64_t addr) {
        size_t lo = 0, hi = f->n_maps;

        /* The last mapping whose start is <= ADDR. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (f->maps[mid].start <= addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == 0 || addr >= f->maps[lo - 1].end)
                return SIZE_MAX;
        return lo - 1;
}

/* G, directly below S, is S's guard: adjacent, anonymous, no access, and no thread's pointer in it. */
static bool is_guard_below(const ExplainMapping *g, const ExplainMapping *s) {
        return g->end == s->start && g->kind == EXPLAIN_KIND_ANONYMOUS &&
                explain_mapping_is_none_private(g) && g->sp_hits == 0;
}

/* ExplainMapping I is a thread's stack by its pointer: anonymous, writable, private, no other thread's, and
 * either above a guard or holding the pointer within its top EXPLAIN_UNGUARDED_STACK_DEPTH bytes. */
static bool is_stack_by_pointer(const StackFinder *f, size_t i) {
        const ExplainMapping *m = &f->maps[i];

        if (m->sp_hits != 1 || m->kind != EXPLAIN_KIND_ANONYMOUS || !(m->perms & MAPS_PERM_WRITE) ||
            (m->perms & MAPS_PERM_SHARED))
                return false;
        return (i > 0 && is_guard_below(&f->maps[i - 1], m)) ||
                m->end - m->sp <= EXPLAIN_UNGUARDED_STACK_DEPTH;
}

/* The pattern a running thread's stack is recognised by without its pointer: an anonymous rw-p mapping
 * that no pointer claimed, directly above an anonymous ---p one. */
static bool is_stack_by_pattern(const StackFinder *f, size_t i) {
        const ExplainMapping *m = &f->maps[i];

        return i > 0 && m->kind == EXPLAIN_KIND_ANONYMOUS && explain_mapping_is_rw_private(m) &&
                m->sp_hits == 0 && is_guard_below(&f->maps[i - 1], m);
}

/* Counts the stack pointers into the mappings that hold them. */
static void finder_stack_pointers(StackFinder *f, const uint64_t *sps, size_t n) {
        if (!f->sorted)
                return;
        for (size_t t = 0; t < n; t++) {
                size_t i;

                if (sps[t] == 0)
                        continue;
                i = finder_find(f, sps[t]);
                if (i == SIZE_MAX)
                        continue;
                f->maps[i].sp = sps[t];
                if (f->maps[i].sp_hits < UINT32_MAX)
                        f->maps[i].sp_hits++;
        }
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* The size most stacks found so far have (0 when none): a running thread's stack is likely its siblings'
 * size. */
static int finder_modal_stack_size(const StackFinder *f, uint64_t *ret) {
        _cleanup_free_ uint64_t *sizes = NULL;
        size_t n = 0, best_run = 0;
        uint64_t best = 0;

        sizes = malloc(sizeof(uint64_t) * (f->thread_stacks > 0 ? f->thread_stacks : 1));
        if (!sizes)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_maps && n < f->thread_stacks; i++)
                if (f->maps[i].kind == EXPLAIN_KIND_THREAD_STACK && !f->maps[i].thread_guard)
                        sizes[n++] = explain_mapping_size(&f->maps[i]);
        qsort(sizes, n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0, run = 0; i < n; i++) {
                run = i > 0 && sizes[i] == sizes[i - 1] ? run + 1 : 1;
                if (run > best_run) {
                        best_run = run;
                        best = sizes[i];
                }
        }
        *ret = best;
        return 0;
}

/* Running threads have no pointer: take UNCLAIMED stacks by the pattern, those of the modal size first,
 * then any, the highest first. */
static int finder_running_threads(StackFinder *f, size_t unclaimed) {
        uint64_t modal;
        int r;

        if (unclaimed == 0)
                return 0;
        r = finder_modal_stack_size(f, &modal);
        if (r < 0)
                return r;
        for (unsigned pass = 0; pass < 2; pass++)
                for (size_t i = f->n_maps; i > 0 && unclaimed > 0; i--) {
                        ExplainMapping *m = &f->maps[i - 1];

                        if (!is_stack_by_pattern(f, i - 1) ||
                            (pass == 0 && explain_mapping_size(m) != modal))
                                continue;
                        m->kind = EXPLAIN_KIND_THREAD_STACK;
                        f->thread_stacks++;
                        unclaimed--;
                }
        return 0;
}

/* Thread stacks: by pointer, by name, by pattern for running threads; then their guards. */
static int finder_run(StackFinder *f, const uint64_t *sps, size_t n_threads) {
        size_t running = 0, named_unclaimed = 0;
        int r;

        finder_stack_pointers(f, sps, n_threads);
        for (size_t t = 0; t < n_threads; t++)
                if (sps[t] == 0)
                        running++;
        for (size_t i = 0; i < f->n_maps; i++) {
                ExplainMapping *m = &f->maps[i];

                if (m->named_stack &&
                    (m->perms & (MAPS_PERM_READ | MAPS_PERM_WRITE | MAPS_PERM_EXEC)) == 0) {
                        /* Named like a stack but no access: the guard part of a named range. */
                        m->thread_guard = true;
                        f->thread_guards++;
                } else if (m->named_stack) {
                        f->thread_stacks++;
                        named_unclaimed += m->sp_hits == 0;
                } else if (is_stack_by_pointer(f, i)) {
                        m->kind = EXPLAIN_KIND_THREAD_STACK;
                        f->thread_stacks++;
                }
        }
        r = finder_running_threads(f, running > named_unclaimed ? running - named_unclaimed : 0);
        if (r < 0)
                return r;
        for (size_t i = 1; i < f->n_maps; i++) {
                ExplainMapping *s = &f->maps[i], *g = &f->maps[i - 1];

                if (s->kind == EXPLAIN_KIND_THREAD_STACK && !s->thread_guard && is_guard_below(g, s)) {
                        g->kind = EXPLAIN_KIND_THREAD_STACK;
                        g->thread_guard = true;
                        f->thread_guards++;
                }
        }
        return 0;
}

int explain_find_stacks(ExplainMapping *maps, size_t n, bool sorted, const uint64_t *sps, size_t n_threads,
                        unsigned *stacks, unsigned *guards) {
        StackFinder f = { .maps = maps, .n_maps = n, .sorted = sorted };
        int r;

        r = finder_run(&f, sps, n_threads);
        if (r < 0)
                return r;
        *stacks += f.thread_stacks;
        *guards += f.thread_guards;
        return 0;
}
