/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain-advice.h"
#include "recommend.h"
#include "util.h"

/* A number as text, held by value so that several fit in one printf() (a returned struct lives until the
 * end of the full expression). */
typedef struct Text {
        char s[32];
} Text;

/* 62000 -> "62,000". */
static Text count_text(uint64_t v) {
        char digits[24];
        Text t = {};
        int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
        size_t o = 0;

        for (int i = 0; i < n; i++) {
                if (i > 0 && (n - i) % 3 == 0)
                        t.s[o++] = ',';
                t.s[o++] = digits[i];
        }
        return t;
}

/* 73728 -> "72 KiB", 8388608 -> "8.0 MiB": one decimal below 10 of a unit. */
static Text bytes_text(uint64_t v) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double x = (double) v;
        unsigned u = 0;
        Text t = {};

        while (x >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                x /= 1024.0;
                u++;
        }
        if (u > 0 && x < 9.95)
                snprintf(t.s, sizeof(t.s), "%.1f %s", x, units[u]);
        else
                snprintf(t.s, sizeof(t.s), "%.0f %s", x, units[u]);
        return t;
}

static uint64_t kind_files(const Explain *e, ExplainKind kind) {
        uint64_t n = 0;

        for (size_t i = 0; i < e->n_groups; i++)
                if (e->groups[i].kind == kind)
                        n += e->groups[i].files;
        return n;
}

static uint64_t anonymous_mappings(const Explain *e) {
        return e->kind_mappings[EXPLAIN_KIND_ANONYMOUS] + e->kind_mappings[EXPLAIN_KIND_NAMED_ANONYMOUS];
}

static uint64_t anonymous_average(const Explain *e) {
        uint64_t n = anonymous_mappings(e), bytes = e->kind_bytes[EXPLAIN_KIND_ANONYMOUS];

        bytes += e->kind_bytes[EXPLAIN_KIND_NAMED_ANONYMOUS];
        if (bytes < e->kind_bytes[EXPLAIN_KIND_ANONYMOUS])
                bytes = UINT64_MAX;
        return n > 0 ? bytes / n : 0;
}

/* What the mappings of G are, as the object of "N of M maps are ...". Returns NULL when out of memory. */
static char *group_phrase(const Explain *e, const ExplainGroup *g) {
        const char *threads = e->thread_stacks == 1 ? "thread" : "threads";
        char *s = NULL;
        int r;

        switch (g->kind) {
        case EXPLAIN_KIND_FILE:
        case EXPLAIN_KIND_LIBRARY:
                if (g->files > 1)
                        r = asprintf(&s, "regions of %s %s under %s", count_text(g->files).s,
                                     g->kind == EXPLAIN_KIND_FILE ? "files" : "shared objects", g->source);
                else
                        r = asprintf(&s, "regions of %s", g->source);
                break;
        case EXPLAIN_KIND_THREAD_STACK:
                r = asprintf(&s, "the stacks %sof %s %s", e->thread_guards > 0 ? "and guards " : "",
                             count_text(e->thread_stacks).s, threads);
                break;
        case EXPLAIN_KIND_NAMED_ANONYMOUS:
                r = asprintf(&s, "anonymous regions named %s", g->source);
                break;
        case EXPLAIN_KIND_KERNEL:
                r = asprintf(&s, "the kernel's %s", g->source);
                break;
        case EXPLAIN_KIND_HEAP:
                r = asprintf(&s, "the heap");
                break;
        case EXPLAIN_KIND_STACK:
                r = asprintf(&s, "the main thread's stack");
                break;
        case EXPLAIN_KIND_UNKNOWN:
                r = asprintf(&s, "lines that do not parse");
                break;
        default:
                r = asprintf(&s, "anonymous regions");
                break;
        }
        return r < 0 ? NULL : s;
}

static const char *maps_are(uint64_t part, unsigned whole) {
        return whole == 1 ? "map is" : part == 1 ? "maps is" : "maps are";
}

static int summary_mixed(const Explain *e, char **ret) {
        _cleanup_free_ char *first = NULL, *second = NULL;
        const ExplainGroup *g = e->groups;
        int r;

        if (e->n_groups == 0)
                return asprintf(ret, "the process has no maps: no single cause") < 0 ? -ENOMEM : 0;
        first = group_phrase(e, &g[0]);
        if (!first)
                return -ENOMEM;
        if (e->n_groups == 1)
                r = asprintf(ret, "%s of %s %s %s: no single cause", count_text(g[0].mappings).s,
                             count_text(e->map_count).s, maps_are(g[0].mappings, e->map_count), first);
        else {
                second = group_phrase(e, &g[1]);
                if (!second)
                        return -ENOMEM;
                r = asprintf(ret, "%s of %s %s %s and %s %s: no single cause", count_text(g[0].mappings).s,
                             count_text(e->map_count).s, maps_are(g[0].mappings, e->map_count), first,
                             count_text(g[1].mappings).s, second);
        }
        return r < 0 ? -ENOMEM : 0;
}

static int summary(const Explain *e, char **ret) {
        const ExplainGroup *top = explain_top_group(e);
        _cleanup_free_ char *phrase = NULL;
        uint64_t anon = anonymous_mappings(e);
        unsigned n = e->map_count;
        uint64_t libs = e->kind_mappings[EXPLAIN_KIND_LIBRARY];
        int r;

        if (e->verdict == EXPLAIN_VERDICT_MIXED || !top)
                return summary_mixed(e, ret);
        phrase = group_phrase(e, top);
        if (!phrase)
                return -ENOMEM;
        switch (e->verdict) {
        case EXPLAIN_VERDICT_MAPPED_FILES:
                r = asprintf(ret, "%s of %s %s %s: a store mapping its files; raise vm.max_map_count",
                             count_text(top->mappings).s, count_text(n).s, maps_are(top->mappings, n),
                             phrase);
                break;
        case EXPLAIN_VERDICT_THREADS:
                r = asprintf(ret, "%s of %s %s %s: many threads; look for a thread leak",
                             count_text(top->mappings).s, count_text(n).s, maps_are(top->mappings, n),
                             phrase);
                break;
        case EXPLAIN_VERDICT_LIBRARIES:
                r = asprintf(
                        ret,
                        "%s of %s %s regions of %s shared objects: too many loaded; look for a plugin leak",
                        count_text(libs).s, count_text(n).s, maps_are(libs, n),
                        count_text(kind_files(e, EXPLAIN_KIND_LIBRARY)).s);
                break;
        default:
                r = asprintf(ret,
                             "%s of %s %s anonymous regions of %s on average: an allocator fragmenting its "
                             "memory; tune the allocator",
                             count_text(anon).s, count_text(n).s, maps_are(anon, n),
                             bytes_text(anonymous_average(e)).s);
                break;
        }
        return r < 0 ? -ENOMEM : 0;
}

static int advice_mapped_files(const Explain *e, unsigned max_map_count, char **ret) {
        unsigned value = recommend_value(e->map_count);
        uint64_t files = kind_files(e, EXPLAIN_KIND_FILE);
        int r;

        if (max_map_count > 0 && value <= max_map_count)
                r = asprintf(
                        ret,
                        "vm.max_map_count (%s) leaves room for twice the %s maps: the process maps its %s "
                        "data files, so raise the limit further only as the store grows.",
                        count_text(max_map_count).s, count_text(e->map_count).s, count_text(files).s);
        else if (max_map_count > 0)
                r = asprintf(
                        ret,
                        "Raise vm.max_map_count from %s to %s (room for twice the %s maps): the process "
                        "maps its %s data files, which a higher limit serves and a fix would not shrink.",
                        count_text(max_map_count).s, count_text(value).s, count_text(e->map_count).s,
                        count_text(files).s);
        else
                r = asprintf(
                        ret,
                        "Raise vm.max_map_count to %s (room for twice the %s maps): the process maps its %s "
                        "data files, which a higher limit serves and a fix would not shrink.",
                        count_text(value).s, count_text(e->map_count).s, count_text(files).s);
        return r < 0 ? -ENOMEM : 0;
}

static int advice_threads(const Explain *e, char **ret) {
        unsigned stacks = e->thread_stacks, guards = e->thread_guards;
        _cleanup_free_ char *each = NULL;
        int r;

        if (guards >= stacks)
                each = strdup("2 per thread: a stack and its guard");
        else if (guards == 0)
                each = strdup("1 per thread: guards installed without a mapping");
        else if (asprintf(&each, "a stack each, %s of them with a guard", count_text(guards).s) < 0)
                each = NULL;
        if (!each)
                return -ENOMEM;
        r = asprintf(
                ret,
                "Look for a thread leak: %s %s hold %s maps (%s); a pool that grows without bound or "
                "threads never joined keep adding them, and a higher vm.max_map_count only postpones the "
                "failure.",
                count_text(stacks).s, stacks == 1 ? "thread" : "threads",
                count_text(e->kind_mappings[EXPLAIN_KIND_THREAD_STACK]).s, each);
        return r < 0 ? -ENOMEM : 0;
}

static int advice_mixed(const Explain *e, unsigned max_map_count, char **ret) {
        _cleanup_free_ char *first = NULL, *second = NULL, *limit = NULL;
        unsigned value = recommend_value(e->map_count);
        int r;

        if (max_map_count > 0 && value <= max_map_count)
                limit = strdup("the limit leaves room for twice the count");
        else if (asprintf(&limit, "raise vm.max_map_count to %s", count_text(value).s) < 0)
                limit = NULL;
        if (!limit)
                return -ENOMEM;
        if (e->n_groups < 2)
                return asprintf(ret, "No single cause among %s maps; %s.", count_text(e->map_count).s,
                                limit) < 0
                        ? -ENOMEM
                        : 0;
        first = group_phrase(e, &e->groups[0]);
        second = group_phrase(e, &e->groups[1]);
        if (!first || !second)
                return -ENOMEM;
        r = asprintf(
                ret,
                "No single cause: the largest groups are %s (%s maps) and %s (%s maps); see which of them "
                "grows, and if both are expected, %s.",
                first, count_text(e->groups[0].mappings).s, second, count_text(e->groups[1].mappings).s,
                limit);
        return r < 0 ? -ENOMEM : 0;
}

static int advice(const Explain *e, unsigned max_map_count, char **ret) {
        int r;

        switch (e->verdict) {
        case EXPLAIN_VERDICT_MAPPED_FILES:
                return advice_mapped_files(e, max_map_count, ret);
        case EXPLAIN_VERDICT_THREADS:
                return advice_threads(e, ret);
        case EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS:
                r = asprintf(ret,
                             "Tune the allocator rather than the limit: %s anonymous maps of %s on average, "
                             "%s of "
                             "them in alternating rw-p/---p runs (glibc: MALLOC_ARENA_MAX, "
                             "MALLOC_MMAP_THRESHOLD_; "
                             "jemalloc: dirty_decay_ms, muzzy_decay_ms, retain; mimalloc: "
                             "MIMALLOC_PURGE_DECOMMITS=0, MIMALLOC_ARENA_EAGER_COMMIT=1).",
                             count_text(anonymous_mappings(e)).s, bytes_text(anonymous_average(e)).s,
                             count_text(e->alternating).s);
                break;
        case EXPLAIN_VERDICT_LIBRARIES:
                r = asprintf(
                        ret,
                        "Look for a plugin leak: %s shared objects are loaded (%s maps), so something loads "
                        "libraries (plugins, generated code) without unloading them; a higher "
                        "vm.max_map_count only postpones the failure.",
                        count_text(kind_files(e, EXPLAIN_KIND_LIBRARY)).s,
                        count_text(e->kind_mappings[EXPLAIN_KIND_LIBRARY]).s);
                break;
        default:
                return advice_mixed(e, max_map_count, ret);
        }
        return r < 0 ? -ENOMEM : 0;
}

/* asprintf() leaves its target undefined on failure: each sentence is made in a local first. */
int explain_summary(const Explain *e, char **ret) {
        char *s = NULL;
        int r;

        assert(e);
        assert(ret);

        r = summary(e, &s);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int explain_advice(const Explain *e, unsigned max_map_count, char **ret) {
        char *s = NULL;
        int r;

        assert(e);
        assert(ret);

        r = advice(e, max_map_count, &s);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}
