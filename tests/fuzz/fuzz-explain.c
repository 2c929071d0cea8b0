/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The maps classifier (explain.c) and its sentences (explain-advice.c). The first byte seeds up to 16
 * threads, each with a stack pointer inside (or just past) a line the input holds, or none (running); the
 * rest is the maps text. Checked: the classifier succeeds exactly when the map count does (procfs.c's
 * counter on the same text), the groups add up to that count and to the per-kind totals, no group is
 * empty, kinds and the verdict are valid names, sources are bounded, the groups are sorted, the thread
 * stacks found are the thread-stack group's, and both sentences can be made. The input is also fed to the
 * syscall-file parser (explain-read.c). */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "explain-advice.h"
#include "explain-read.h"
#include "explain.h"
#include "fuzz.h"
#include "maps-line.h"
#include "procfs.h"

#define THREADS_MAX 16

static uint32_t next(uint32_t *seed) {
        *seed = *seed * 1103515245U + 12345U;
        return *seed >> 16;
}

/* The start address of line N of TEXT (lines as the counter splits them), 0 when it does not parse. */
static uint64_t line_start(const char *text, size_t len, size_t n) {
        const char *p = text, *end = text + len, *nl;
        MapsLine l;

        for (; n > 0 && p < end; n--) {
                nl = memchr(p, '\n', (size_t) (end - p));
                p = nl ? nl + 1 : end;
        }
        if (p >= end)
                return 0;
        nl = memchr(p, '\n', (size_t) (end - p));
        return maps_line_parse(p, nl ? (size_t) (nl - p) : (size_t) (end - p), &l) ? l.start : 0;
}

static size_t make_threads(uint8_t seed_byte, const char *text, size_t len, unsigned lines, uint64_t *sps) {
        uint32_t seed = seed_byte * 2654435761U + 1;
        size_t n = seed_byte % (THREADS_MAX + 1);

        for (size_t i = 0; i < n; i++) {
                uint32_t r = next(&seed);

                if (r % 4 == 0 || lines == 0)
                        sps[i] = 0;
                else
                        sps[i] = line_start(text, len, next(&seed) % lines) + next(&seed) % 0x3000;
        }
        return n;
}

static bool sorted(const ExplainGroup *a, const ExplainGroup *b) {
        int r;

        if (a->mappings != b->mappings)
                return a->mappings > b->mappings;
        if (a->bytes != b->bytes)
                return a->bytes > b->bytes;
        r = strcmp(explain_kind_to_string(a->kind), explain_kind_to_string(b->kind));
        return r < 0 || (r == 0 && strcmp(a->source, b->source) <= 0);
}

static void check(const Explain *e, unsigned count) {
        uint64_t sum = 0, per_kind[_EXPLAIN_KIND_MAX] = {}, kinds_sum = 0;

        FUZZ_CHECK(e->map_count == count);
        for (size_t i = 0; i < e->n_groups; i++) {
                const ExplainGroup *g = &e->groups[i];

                FUZZ_CHECK(explain_kind_to_string(g->kind));
                FUZZ_CHECK(g->mappings > 0);
                FUZZ_CHECK(g->source && strlen(g->source) < EXPLAIN_SOURCE_MAX);
                FUZZ_CHECK(!strchr(g->source, '\n'));
                FUZZ_CHECK(i == 0 || sorted(&e->groups[i - 1], g));
                if (g->kind == EXPLAIN_KIND_THREAD_STACK)
                        FUZZ_CHECK(g->files == e->thread_stacks);
                sum += g->mappings;
                per_kind[g->kind] += g->mappings;
        }
        FUZZ_CHECK(sum == count);
        for (ExplainKind k = 0; k < _EXPLAIN_KIND_MAX; k++) {
                FUZZ_CHECK(per_kind[k] == e->kind_mappings[k]);
                kinds_sum += e->kind_mappings[k];
        }
        FUZZ_CHECK(kinds_sum == count);
        FUZZ_CHECK(e->alternating <= e->kind_mappings[EXPLAIN_KIND_ANONYMOUS] +
                           e->kind_mappings[EXPLAIN_KIND_NAMED_ANONYMOUS]);
        FUZZ_CHECK(e->thread_stacks + e->thread_guards == e->kind_mappings[EXPLAIN_KIND_THREAD_STACK]);
        FUZZ_CHECK(explain_verdict_to_string(e->verdict));
        FUZZ_CHECK((explain_top_group(e) == NULL) == (e->n_groups == 0));
}

static void check_sentences(const Explain *e) {
        static const unsigned limits[] = { 0, 100, 65530 };
        char *s = NULL;

        FUZZ_CHECK(explain_summary(e, &s) == 0 && s && s[0] != '\0');
        free(s);
        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
                s = NULL;
                FUZZ_CHECK(explain_advice(e, limits[i], &s) == 0 && s && s[strlen(s) - 1] == '.');
                free(s);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t sps[THREADS_MAX];
        MapsCounter c = {};
        Explain *e = NULL;
        const char *text;
        unsigned count = 0;
        char *nul_terminated;
        uint64_t sp = 0;
        size_t len, n;
        int r, r_count;

        if (size < 1)
                return 0;
        text = (const char *) data + 1;
        len = size - 1;

        maps_counter_feed(&c, text, len);
        r_count = maps_counter_finish(&c, &count);
        n = make_threads(data[0], text, len, r_count == 0 ? count : 0, sps);

        r = explain_maps(text, len, sps, n, &e);
        FUZZ_CHECK(r == r_count);
        if (r == 0) {
                FUZZ_CHECK(e->threads == n);
                check(e, count);
                check_sentences(e);
                explain_free(e);
        } else
                FUZZ_CHECK(e == NULL);

        nul_terminated = fuzz_strndup((const uint8_t *) text, len);
        r = explain_parse_syscall(nul_terminated, &sp);
        FUZZ_CHECK(r == 0 || r == 1 || r == -EBADMSG);
        free(nul_terminated);
        return 0;
}
