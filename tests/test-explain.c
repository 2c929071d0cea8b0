/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* explain_maps() and its sentences on maps of real programs kept as fixtures (tests/fixtures/explain/,
 * captured by capture.sh there) and on maps generated here; explain_read() on fixture trees. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "explain-advice.h"
#include "explain-read.h"
#include "explain.h"
#include "fileio.h"
#include "procfs.h"
#include "testfs.h"
#include "util.h"

#define MIB (UINT64_C(1) << 20)
#define KIB (UINT64_C(1) << 10)
#define STACK_SIZE (8 * MIB)
#define GATE "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

/* ---- building maps text ---- */

typedef struct Maps {
        char *buf;
        size_t len;
        FILE *f;
} Maps;

static void maps_begin(Maps *m) {
        *m = (Maps){};
        m->f = open_memstream(&m->buf, &m->len);
        assert_non_null(m->f);
}

/* One line as the kernel writes it: the name (if any) from column 74. */
static void maps_add(Maps *m, uint64_t start, uint64_t end, const char *perms, const char *name) {
        int n = fprintf(m->f, "%08" PRIx64 "-%08" PRIx64 " %s 00000000 %s %u", start, end, perms,
                        name && name[0] == '/' ? "fe:00" : "00:00", name && name[0] == '/' ? 4242U : 0U);

        if (name)
                fprintf(m->f, "%*s %s\n", n < 72 ? 72 - n : 0, "", name);
        else
                fputs(" \n", m->f);
}

static char *maps_end(Maps *m) {
        assert_int_equal(fclose(m->f), 0);
        return m->buf;
}

/* A thread's stack of SIZE at TOP - SIZE, with (or without) a one-page guard below it. */
static void maps_add_stack(Maps *m, uint64_t top, uint64_t size, bool guard) {
        if (guard)
                maps_add(m, top - size - 4096, top - size, "---p", NULL);
        maps_add(m, top - size, top, "rw-p", NULL);
}

/* The few lines every process has, below the threads' stacks: a program, heap, libc. */
static void maps_add_base_low(Maps *m) {
        maps_add(m, 0x400000, 0x401000, "r--p", "/usr/bin/prog");
        maps_add(m, 0x401000, 0x402000, "r-xp", "/usr/bin/prog");
        maps_add(m, 0x1000000, 0x1021000, "rw-p", "[heap]");
        maps_add(m, 0x7f0000000000, 0x7f0000020000, "r--p", "/usr/lib/libc.so.6");
        maps_add(m, 0x7f0000020000, 0x7f0000100000, "r-xp", "/usr/lib/libc.so.6");
}

/* And above them: the vdso and the main thread's stack at 0x7ffe00000000. */
static void maps_add_base_high(Maps *m) {
        maps_add(m, 0x7ffd00000000, 0x7ffd00002000, "r-xp", "[vdso]");
        maps_add(m, 0x7ffe00000000, 0x7ffe00021000, "rw-p", "[stack]");
}

static void maps_add_base(Maps *m) {
        maps_add_base_low(m);
        maps_add_base_high(m);
}

/* ---- checking ---- */

static void check_invariants(const Explain *e) {
        uint64_t sum = 0, kind_sum[_EXPLAIN_KIND_MAX] = {};

        for (size_t i = 0; i < e->n_groups; i++) {
                const ExplainGroup *g = &e->groups[i];

                assert_non_null(explain_kind_to_string(g->kind));
                assert_non_null(g->source);
                assert_true(strlen(g->source) < EXPLAIN_SOURCE_MAX);
                assert_true(g->mappings > 0);
                sum += g->mappings;
                kind_sum[g->kind] += g->mappings;
                if (i > 0) {
                        const ExplainGroup *p = &e->groups[i - 1];
                        assert_true(p->mappings > g->mappings ||
                                    (p->mappings == g->mappings &&
                                     (p->bytes > g->bytes ||
                                      (p->bytes == g->bytes &&
                                       strcmp(explain_kind_to_string(p->kind),
                                              explain_kind_to_string(g->kind)) <= 0))));
                }
        }
        assert_int_equal(sum, e->map_count);
        for (ExplainKind k = 0; k < _EXPLAIN_KIND_MAX; k++)
                assert_int_equal(kind_sum[k], e->kind_mappings[k]);
        assert_non_null(explain_verdict_to_string(e->verdict));
}

/* Classifies TEXT, checks the invariants and that the count is proc_count_maps()'s for the same text. */
static Explain *explain_text(const char *text, size_t len, const uint64_t *sps, size_t n) {
        MapsCounter c = {};
        Explain *e = NULL;
        unsigned count;

        assert_int_equal(explain_maps(text, len, sps, n, &e), 0);
        assert_non_null(e);
        maps_counter_feed(&c, text, len);
        assert_int_equal(maps_counter_finish(&c, &count), 0);
        assert_int_equal(e->map_count, count);
        check_invariants(e);
        return e;
}

static Explain *explain_str(const char *text, const uint64_t *sps, size_t n) {
        return explain_text(text, strlen(text), sps, n);
}

static const ExplainGroup *find_group(const Explain *e, ExplainKind kind, const char *source) {
        for (size_t i = 0; i < e->n_groups; i++)
                if (e->groups[i].kind == kind && streq(e->groups[i].source, source))
                        return &e->groups[i];
        return NULL;
}

static void assert_sentence(char *s, const char *expected) {
        assert_non_null(s);
        assert_string_equal(s, expected);
        free(s);
}

static char *summary(const Explain *e) {
        char *s = NULL;
        assert_int_equal(explain_summary(e, &s), 0);
        return s;
}

static char *advice(const Explain *e, unsigned limit) {
        char *s = NULL;
        assert_int_equal(explain_advice(e, limit, &s), 0);
        return s;
}

/* ---- names and the count ---- */

static void test_names(void **state) {
        for (ExplainKind k = 0; k < _EXPLAIN_KIND_MAX; k++)
                assert_int_equal(explain_kind_from_string(explain_kind_to_string(k)), k);
        for (ExplainVerdict v = 0; v < _EXPLAIN_VERDICT_MAX; v++)
                assert_int_equal(explain_verdict_from_string(explain_verdict_to_string(v)), v);
        assert_string_equal(explain_kind_to_string(EXPLAIN_KIND_THREAD_STACK), "thread-stack");
        assert_string_equal(explain_kind_to_string(EXPLAIN_KIND_NAMED_ANONYMOUS), "named-anonymous");
        assert_string_equal(explain_verdict_to_string(EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS),
                            "fragmented-anonymous");
        assert_string_equal(explain_verdict_to_string(EXPLAIN_VERDICT_MAPPED_FILES), "mapped-files");
        assert_null(explain_kind_to_string(_EXPLAIN_KIND_MAX));
        assert_null(explain_verdict_to_string(-1));
        assert_int_equal(explain_kind_from_string("files"), _EXPLAIN_KIND_INVALID);
        assert_int_equal(explain_kind_from_string(NULL), _EXPLAIN_KIND_INVALID);
        assert_int_equal(explain_verdict_from_string("thread"), _EXPLAIN_VERDICT_INVALID);
}

static void test_gate(void **state) {
        _cleanup_free_ char *text = NULL;
        Explain *e;
        Maps m;

        /* A "[vsyscall]" that is not the last line is a mapping (kernel); the last one is the gate. */
        maps_begin(&m);
        maps_add(&m, 0x1000, 0x2000, "r--p", "[vsyscall]");
        maps_add_base(&m);
        fputs(GATE, m.f);
        text = maps_end(&m);
        e = explain_str(text, NULL, 0);
        assert_int_equal(e->map_count, 8);
        assert_non_null(find_group(e, EXPLAIN_KIND_KERNEL, "[vsyscall]"));
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_KERNEL], 2);
        explain_free(e);

        /* The gate without its newline is still the gate. */
        text[strlen(text) - 1] = '\0';
        e = explain_str(text, NULL, 0);
        assert_int_equal(e->map_count, 8);
        explain_free(e);
}

static void test_empty(void **state) {
        Explain *e = (Explain *) 0x1, *sentinel = e;
        char *s;

        assert_int_equal(explain_maps("", 0, NULL, 0, &e), -ENODATA);
        assert_ptr_equal(e, sentinel);
        assert_int_equal(explain_maps(NULL, 0, NULL, 0, &e), -ENODATA);
        assert_ptr_equal(e, sentinel);

        /* Only the gate: no mapping, no group. */
        e = explain_str(GATE, NULL, 0);
        assert_int_equal(e->map_count, 0);
        assert_int_equal(e->n_groups, 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        assert_null(explain_top_group(e));
        assert_sentence(summary(e), "the process has no maps: no single cause");
        s = advice(e, 65530);
        assert_non_null(strstr(s, "No single cause among 0 maps"));
        free(s);
        explain_free(e);
}

static void test_lines_that_do_not_parse(void **state) {
        static const char text[] =
                "00400000-00401000 r--p 00000000 fe:00 1 /usr/bin/x\n"
                "hello world\n"
                "\n"
                "00500000-00401000 rw-p 00000000 00:00 0\n" /* end below start: parses, 0 bytes */
                "zzzz-0001 rw-p 0 0 0\n"
                "00600000-00601000 rwxq 00000000 00:00 0\n"
                "00700000-00701000 rw-p 00000000 00:00\n"
                "7f0000005000-7f0000006000 rw-p 0000"; /* a read cut mid-line */
        Explain *e = explain_text(text, sizeof(text) - 1, NULL, 0);

        assert_int_equal(e->map_count, 8);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_UNKNOWN], 6);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 1);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_FILE], 1);
        assert_int_equal(find_group(e, EXPLAIN_KIND_ANONYMOUS, "")->bytes, 0);
        explain_free(e);

        /* NULs inside: they end a name, not a line. */
        static const char nul[] = "00400000-00401000 r--p 00000000 fe:00 1 /a\0b\n"
                                  "00401000-00402000 r--p 00000000 fe:00 1 /a\0c\n";
        e = explain_text(nul, sizeof(nul) - 1, NULL, 0);
        assert_int_equal(e->map_count, 2);
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/a")->mappings, 2);
        explain_free(e);
}

static void test_special_names(void **state) {
        _cleanup_free_ char *text = NULL;
        Explain *e;
        Maps m;

        maps_begin(&m);
        maps_add(&m, 0x10000, 0x11000, "rw-p", "[anon:my cache]");
        maps_add(&m, 0x12000, 0x13000, "rw-p", "[anon:my cache]");
        maps_add(&m, 0x14000, 0x15000, "rw-s", "[anon_shmem:ring]");
        maps_add(&m, 0x16000, 0x17000, "rw-s", "/dev/zero (deleted)");
        maps_add(&m, 0x18000, 0x19000, "rw-s", "/SYSV0000abcd (deleted)");
        maps_add(&m, 0x1a000, 0x1b000, "r--p", "/tmp/data\\012file (deleted)");
        maps_add(&m, 0x1c000, 0x1d000, "rw-p", "anon_inode:[perf_event]");
        maps_add(&m, 0x1e000, 0x1f000, "r-xp", "[uprobes]");
        maps_add(&m, 0x20000, 0x21000, "r--p", "[vvar_vclock]");
        maps_add(&m, 0x22000, 0x23000, "rw-p", NULL);
        text = maps_end(&m);
        e = explain_str(text, NULL, 0);

        assert_int_equal(e->map_count, 10);
        assert_int_equal(find_group(e, EXPLAIN_KIND_NAMED_ANONYMOUS, "my cache")->mappings, 2);
        assert_non_null(find_group(e, EXPLAIN_KIND_NAMED_ANONYMOUS, "ring"));
        assert_int_equal(find_group(e, EXPLAIN_KIND_ANONYMOUS, "")->mappings, 2);
        assert_non_null(find_group(e, EXPLAIN_KIND_FILE, "/SYSV0000abcd (deleted)"));
        assert_non_null(find_group(e, EXPLAIN_KIND_FILE, "/tmp/data\\012file (deleted)"));
        assert_non_null(find_group(e, EXPLAIN_KIND_FILE, "anon_inode:[perf_event]"));
        assert_non_null(find_group(e, EXPLAIN_KIND_KERNEL, "[uprobes]"));
        assert_non_null(find_group(e, EXPLAIN_KIND_KERNEL, "[vvar_vclock]"));
        explain_free(e);
}

static void test_long_source(void **state) {
        _cleanup_free_ char *text = NULL, *name = malloc(1100);
        Explain *e;
        Maps m;
        size_t l;

        /* 1000 ASCII bytes: cut at EXPLAIN_SOURCE_MAX - 1. */
        assert_non_null(name);
        name[0] = '/';
        memset(name + 1, 'a', 999);
        name[1000] = '\0';
        maps_begin(&m);
        maps_add(&m, 0x10000, 0x11000, "r--p", name);
        /* Two-byte characters from an even offset: byte 511 is the second of one. */
        name[1] = 'x';
        for (size_t i = 2; i + 1 < 1000; i += 2)
                memcpy(name + i, "\xc3\xa9", 2);
        name[1000] = '\0';
        maps_add(&m, 0x12000, 0x13000, "r--p", name);
        text = maps_end(&m);
        e = explain_str(text, NULL, 0);
        assert_int_equal(e->n_groups, 2);
        for (size_t i = 0; i < 2; i++) {
                l = strlen(e->groups[i].source);
                if (e->groups[i].source[1] == 'a')
                        assert_int_equal(l, EXPLAIN_SOURCE_MAX - 1);
                else {
                        /* 511 bytes would end in the first byte of an é: 510 it is. */
                        assert_int_equal(l, EXPLAIN_SOURCE_MAX - 2);
                        assert_int_equal((unsigned char) e->groups[i].source[l - 1], 0xa9);
                }
        }
        explain_free(e);
}

/* ---- files and libraries ---- */

static void test_directory_rule(void **state) {
        _cleanup_free_ char *text = NULL;
        uint64_t a = 0x100000;
        char name[128];
        Explain *e;
        Maps m;

        maps_begin(&m);
        for (unsigned i = 0; i < EXPLAIN_DIR_MIN_FILES - 1; i++) { /* too few: each its own group */
                snprintf(name, sizeof(name), "/srv/few/f%u", i);
                maps_add(&m, a, a + 4096, "r--p", name), a += 8192;
        }
        for (unsigned i = 0; i < EXPLAIN_DIR_MIN_FILES; i++) { /* enough: one group */
                snprintf(name, sizeof(name), "/srv/many/f%u", i);
                maps_add(&m, a, a + 4096, "r--s", name), a += 8192;
                maps_add(&m, a, a + 4096, "r--s", name), a += 8192; /* twice: still one file */
        }
        for (unsigned i = 0; i < 5; i++) { /* a TSDB's blocks: two files each, one level down */
                snprintf(name, sizeof(name), "/data/tsdb/01BLOCK%u/chunks/000001", i);
                maps_add(&m, a, a + 4096, "r--s", name), a += 8192;
                snprintf(name, sizeof(name), "/data/tsdb/01BLOCK%u/index", i);
                maps_add(&m, a, a + 4096, "r--s", name), a += 8192;
        }
        maps_add(&m, a, a + 4096, "r--s", "/data/lock"), a += 8192; /* beside the group: not in it */
        text = maps_end(&m);
        e = explain_str(text, NULL, 0);

        assert_non_null(find_group(e, EXPLAIN_KIND_FILE, "/srv/few/f0"));
        assert_null(find_group(e, EXPLAIN_KIND_FILE, "/srv/few"));
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/srv/many")->files, EXPLAIN_DIR_MIN_FILES);
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/srv/many")->mappings, 2 * EXPLAIN_DIR_MIN_FILES);
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/data/tsdb")->files, 10);
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/data/lock")->files, 1);
        /* "/srv" holds 15 files, but 8 went to /srv/many: the 7 left are too few. */
        assert_null(find_group(e, EXPLAIN_KIND_FILE, "/srv"));
        assert_int_equal(e->n_groups, EXPLAIN_DIR_MIN_FILES - 1 + 3);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        explain_free(e);
}

static void test_libraries(void **state) {
        _cleanup_free_ char *text = NULL, *s = NULL;
        uint64_t a = 0x10000000;
        char name[128];
        Explain *e;
        Maps m;

        maps_begin(&m);
        maps_add_base(&m);
        for (unsigned i = 0; i < 3000; i++) { /* a plugin leak: 3,000 objects of three segments */
                snprintf(name, sizeof(name), "/opt/app/plugins/gen-%u.so", i);
                maps_add(&m, a, a + 4096, "r--p", name);
                maps_add(&m, a + 4096, a + 8192, "r-xp", name);
                maps_add(&m, a + 8192, a + 12288, "rw-p", name);
                a += 16384;
        }
        text = maps_end(&m);
        e = explain_str(text, NULL, 0);

        /* The program and libc are libraries (they execute); all segments of each count. */
        assert_int_equal(find_group(e, EXPLAIN_KIND_LIBRARY, "/usr/bin/prog")->mappings, 2);
        assert_int_equal(find_group(e, EXPLAIN_KIND_LIBRARY, "/opt/app/plugins")->files, 3000);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_LIBRARY], 9004);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_FILE], 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_LIBRARIES);
        assert_ptr_equal(explain_top_group(e), find_group(e, EXPLAIN_KIND_LIBRARY, "/opt/app/plugins"));
        assert_sentence(summary(e),
                        "9,004 of 9,007 maps are regions of 3,002 shared objects: too many loaded; "
                        "look for a plugin leak");
        s = advice(e, 65530);
        assert_non_null(strstr(s, "Look for a plugin leak: 3,002 shared objects are loaded (9,004 maps)"));
        explain_free(e);
}

/* ---- thread stacks ---- */

/* The base lines, N stacks (with guards or not) below 0x7f8000000000, 16 MiB apart, with their stack
 * pointers near the top, and FILES files of /srv/idx above them. */
static char *threads_text(unsigned n, bool guards, uint64_t *sps, unsigned files) {
        Maps m;

        maps_begin(&m);
        maps_add_base_low(&m);
        for (unsigned i = n; i > 0; i--) {
                uint64_t top = 0x7f8000000000 - (uint64_t) i * 2 * STACK_SIZE;

                maps_add_stack(&m, top, STACK_SIZE, guards);
                if (sps)
                        sps[n - i] = top - 0x1230;
        }
        for (unsigned i = 0; i < files; i++) {
                char name[64];
                uint64_t a = 0x7f9000000000 + (uint64_t) i * 8192;

                snprintf(name, sizeof(name), "/srv/idx/part-%u", i);
                maps_add(&m, a, a + 4096, "r--s", name);
        }
        maps_add_base_high(&m);
        return maps_end(&m);
}

static void test_stacks_by_pointer(void **state) {
        uint64_t sps[101];
        _cleanup_free_ char *text = threads_text(100, true, sps, 0);
        Explain *e;

        sps[100] = 0x7ffe00000000 + 0x20000; /* the main thread, on [stack] */
        e = explain_str(text, sps, 101);
        assert_int_equal(e->threads, 101);
        assert_int_equal(e->thread_stacks, 100);
        assert_int_equal(e->thread_guards, 100);
        assert_int_equal(find_group(e, EXPLAIN_KIND_THREAD_STACK, "100 threads")->mappings, 200);
        assert_int_equal(find_group(e, EXPLAIN_KIND_THREAD_STACK, "100 threads")->files, 100);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_STACK], 1);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        assert_sentence(summary(e),
                        "200 of 207 maps are the stacks and guards of 100 threads: many threads; "
                        "look for a thread leak");
        assert_sentence(
                advice(e, 65530),
                "Look for a thread leak: 100 threads hold 200 maps (2 per thread: a stack and its guard); "
                "a pool that grows without bound or threads never joined keep adding them, and a higher "
                "vm.max_map_count only postpones the failure.");
        explain_free(e);

        /* No thread, no thread stack: pairs of anonymous mappings of 4 MiB on average. */
        e = explain_str(text, NULL, 0);
        assert_int_equal(e->thread_stacks, 0);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 200);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        explain_free(e);

        /* 101 threads whose pointers are unknown (running, or not ours to read): found by the pattern. */
        memset(sps, 0, sizeof(sps));
        e = explain_str(text, sps, 101);
        assert_int_equal(e->thread_stacks, 100);
        assert_int_equal(e->thread_guards, 100);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        explain_free(e);
}

static void test_stacks_without_guards(void **state) {
        uint64_t sps[50];
        _cleanup_free_ char *text = threads_text(50, false, sps, 0);
        Explain *e = explain_str(text, sps, 50);

        /* Guards installed with MADV_GUARD_INSTALL are no mappings: one mapping per thread. */
        assert_int_equal(e->thread_stacks, 50);
        assert_int_equal(e->thread_guards, 0);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_THREAD_STACK], 50);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        _cleanup_free_ char *s = advice(e, 65530);
        assert_non_null(
                strstr(s, "50 threads hold 50 maps (1 per thread: guards installed without a mapping)"));
        explain_free(e);
}

static void test_stack_pointers_elsewhere(void **state) {
        _cleanup_free_ char *text = NULL;
        uint64_t sps[] = {
                0x200000000 + 0x1000,           /* three pointers in one heap mapping (Go): not a stack */
                0x200000000 + 0x2000000,        /* */
                0x200000000 + 64 * MIB - 0x100, /* */
                0x300000000 + 0x40000,          /* one pointer 17.7 MiB below the top, no guard: heap */
                0x400000000 + 0x100,            /* in a file */
                0x500000000,                    /* in no mapping */
                0x600000000 + 4096 + 0x10,      /* deep in a stack above its guard: a stack */
                0x700000000 + 2 * MIB - 0x100,  /* near the top of an unguarded one: a stack */
        };
        Explain *e;
        Maps m;

        maps_begin(&m);
        maps_add(&m, 0x200000000, 0x200000000 + 64 * MIB, "rw-p", NULL);
        maps_add(&m, 0x300000000, 0x300000000 + 18 * MIB, "rw-p", NULL);
        maps_add(&m, 0x400000000, 0x400001000, "rw-p", "/var/lib/x/db");
        maps_add(&m, 0x600000000, 0x600001000, "---p", NULL);
        maps_add(&m, 0x600001000, 0x600001000 + STACK_SIZE, "rw-p", NULL);
        maps_add(&m, 0x700000000, 0x700000000 + 2 * MIB, "rw-p", NULL);
        text = maps_end(&m);
        e = explain_str(text, sps, ELEMENTSOF(sps));
        assert_int_equal(e->thread_stacks, 2);
        assert_int_equal(e->thread_guards, 1);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_THREAD_STACK], 3);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 2);
        explain_free(e);

        /* Lines out of address order (never the kernel's): pointers are not looked up. */
        static const char unsorted[] = "700000000-700200000 rw-p 00000000 00:00 0 \n"
                                       "600000000-600001000 rw-p 00000000 00:00 0 \n";
        e = explain_str(unsorted, sps, ELEMENTSOF(sps));
        assert_int_equal(e->thread_stacks, 0);
        explain_free(e);
}

static void test_running_threads(void **state) {
        _cleanup_free_ char *text = NULL;
        uint64_t sps[8] = {};
        Explain *e;
        Maps m;

        /* Six 8 MiB stacks with guards, and above them two arenas' heaps (each rw-p above the previous
         * one's ---p), and pointers for four threads: the two running ones take the two 8 MiB stacks left,
         * not the arenas, although those are higher. */
        maps_begin(&m);
        for (unsigned i = 6; i > 0; i--) {
                uint64_t top = 0x7e0000000000 - (uint64_t) i * 2 * STACK_SIZE;

                maps_add_stack(&m, top, STACK_SIZE, true);
                if (i > 2)
                        sps[6 - i] = top - 0x100;
        }
        maps_add(&m, 0x7f0000000000, 0x7f0000021000, "rw-p", NULL);
        maps_add(&m, 0x7f0000021000, 0x7f0004000000, "---p", NULL);
        maps_add(&m, 0x7f0004000000, 0x7f0004021000, "rw-p", NULL);
        maps_add(&m, 0x7f0004021000, 0x7f0008000000, "---p", NULL);
        maps_add(&m, 0x7f0008000000, 0x7f0008021000, "rw-p", NULL);
        text = maps_end(&m);
        e = explain_str(text, sps, 6); /* sps[4], sps[5]: 0, running */
        assert_int_equal(e->thread_stacks, 6);
        assert_int_equal(e->thread_guards, 6);
        assert_int_equal(e->kind_bytes[EXPLAIN_KIND_THREAD_STACK], 6 * (STACK_SIZE + 4096));
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 5);
        explain_free(e);

        /* Eight running threads and no pointer at all: no size to prefer, so the highest first: the two
         * arenas, then six stacks. */
        memset(sps, 0, sizeof(sps));
        e = explain_str(text, sps, 8);
        assert_int_equal(e->thread_stacks, 8);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 1);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_THREAD_STACK], 16);
        explain_free(e);
}

static void test_named_stacks(void **state) {
        _cleanup_free_ char *text = NULL;
        uint64_t running[3] = {};
        Explain *e;
        Maps m;

        maps_begin(&m);
        maps_add(&m, 0x10000, 0x11000, "---p", NULL);
        maps_add(&m, 0x11000, 0x20000, "rw-p", "[anon: glibc: pthread stack: 101]");
        maps_add(&m, 0x20000, 0x21000, "---p", NULL);
        maps_add(&m, 0x21000, 0x30000, "rw-p", "[anon:glibc: pthread user stack: 102]");
        maps_add(&m, 0x40000, 0x50000, "rw-p", "[stack:103]"); /* kernels before 4.5 */
        maps_add(&m, 0x60000, 0x61000, "---p", "[anon: glibc: pthread stack: 104]");
        maps_add(&m, 0x61000, 0x70000, "rw-p", "[anon: glibc: pthread stack: 104]");
        maps_add(&m, 0x80000, 0x81000, "---p", NULL); /* a guard+stack pattern nobody claims */
        maps_add(&m, 0x81000, 0x90000, "rw-p", NULL);
        maps_add(&m, 0xa0000, 0xa1000, "rw-p", "[anon: glibc: unused stack]");
        text = maps_end(&m);

        /* Three running threads: the named stacks account for them, the pattern is not needed. */
        e = explain_str(text, running, 3);
        assert_int_equal(e->thread_stacks, 4);
        assert_int_equal(e->thread_guards, 3);
        assert_int_equal(find_group(e, EXPLAIN_KIND_THREAD_STACK, "4 threads")->mappings, 7);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS], 2);
        assert_non_null(find_group(e, EXPLAIN_KIND_NAMED_ANONYMOUS, " glibc: unused stack"));
        explain_free(e);
}

/* ---- verdicts ---- */

/* FILES file mappings of one directory and ANON anonymous ones of SIZE, not adjacent. */
static char *files_and_anon(unsigned files, unsigned anon, uint64_t size, bool alternate) {
        uint64_t a = 0x10000000;
        char name[64];
        Maps m;

        maps_begin(&m);
        for (unsigned i = 0; i < files; i++) {
                snprintf(name, sizeof(name), "/var/lib/store/seg-%05u", i);
                maps_add(&m, a, a + 4096, "r--s", name);
                a += 8192;
        }
        a = 0x100000000;
        for (unsigned i = 0; i < anon; i++) {
                maps_add(&m, a, a + size, alternate && i % 2 ? "---p" : "rw-p", NULL);
                a += size + (alternate ? 0 : 4096);
        }
        return maps_end(&m);
}

static void test_verdict_threshold(void **state) {
        _cleanup_free_ char *at = files_and_anon(60, 40, 4 * MIB, false),
                            *below = files_and_anon(59, 41, 4 * MIB, false);
        Explain *e;

        e = explain_str(at, NULL, 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        explain_free(e);
        e = explain_str(below, NULL, 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        assert_sentence(summary(e),
                        "59 of 100 maps are regions of 59 files under /var/lib/store and 41 anonymous "
                        "regions: no single cause");
        explain_free(e);
}

static void test_fragmentation(void **state) {
        _cleanup_free_ char *large = files_and_anon(10, 90, 4 * MIB, false),
                            *small = files_and_anon(10, 90, 72 * KIB, false),
                            *alternating = files_and_anon(10, 90, 4 * MIB, true);
        Explain *e;

        /* Many anonymous mappings, but large and apart: no signature. */
        e = explain_str(large, NULL, 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        explain_free(e);
        /* ClickHouse's signature: ~72 KiB each. */
        e = explain_str(small, NULL, 0);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);
        assert_int_equal(e->alternating, 0);
        assert_sentence(summary(e),
                        "90 of 100 maps are anonymous regions of 72 KiB on average: an allocator "
                        "fragmenting its memory; tune the allocator");
        explain_free(e);
        /* Large, but reserved space committed piece by piece: alternating rw-p/---p. */
        e = explain_str(alternating, NULL, 0);
        assert_int_equal(e->alternating, 90);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);
        _cleanup_free_ char *s = advice(e, 65530);
        assert_non_null(strstr(s,
                               "Tune the allocator rather than the limit: 90 anonymous maps of 4.0 MiB on "
                               "average, 90 of them in alternating rw-p/---p runs"));
        assert_non_null(strstr(s, "MALLOC_ARENA_MAX"));
        explain_free(e);
}

static void test_mapped_files_advice(void **state) {
        _cleanup_free_ char *text = files_and_anon(6200, 200, 4 * MIB, false);
        _cleanup_free_ char *big = files_and_anon(40000, 100, 4 * MIB, false);
        Explain *e = explain_str(text, NULL, 0);

        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        assert_sentence(summary(e),
                        "6,200 of 6,400 maps are regions of 6,200 files under /var/lib/store: a store "
                        "mapping its files; raise vm.max_map_count");
        assert_sentence(
                advice(e, 65530),
                "vm.max_map_count (65,530) leaves room for twice the 6,400 maps: the process maps its "
                "6,200 data files, so raise the limit further only as the store grows.");
        assert_sentence(advice(e, 8000),
                        "Raise vm.max_map_count from 8,000 to 65,530 (room for twice the 6,400 "
                        "maps): the process maps its 6,200 data files, which a higher limit "
                        "serves and a fix would not shrink.");
        explain_free(e);

        e = explain_str(big, NULL, 0);
        assert_sentence(advice(e, 0),
                        "Raise vm.max_map_count to 1,048,576 (room for twice the 40,100 maps): the "
                        "process maps its 40,000 data files, which a higher limit serves and a fix "
                        "would not shrink.");
        explain_free(e);
}

static void test_mixed_advice(void **state) {
        uint64_t sps[30];
        _cleanup_free_ char *text = threads_text(30, true, sps, 50);
        Explain *e;

        /* 60 thread-stack mappings and 50 files: neither holds 60 %. */
        e = explain_str(text, sps, 30);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        assert_ptr_equal(explain_top_group(e), &e->groups[0]);
        assert_sentence(summary(e),
                        "60 of 117 maps are the stacks and guards of 30 threads and 50 regions of 50 "
                        "files under /srv/idx: no single cause");
        assert_sentence(advice(e, 65530),
                        "No single cause: the largest groups are the stacks and guards of 30 "
                        "threads (60 maps) and regions of 50 files under /srv/idx (50 maps); see "
                        "which of them grows, and if both are expected, the limit leaves room "
                        "for twice the count.");
        explain_free(e);
}

static void test_sorted(void **state) {
        static const char text[] =
                "00001000-00002000 rw-p 00000000 00:00 0                          [heap]\n"
                "00003000-00004000 r--p 00000000 00:00 0                          [vvar]\n"
                "00005000-00006000 r--p 00000000 fe:00 9                          /b\n"
                "00007000-00008000 r--p 00000000 fe:00 9                          /a\n"
                "00009000-0000b000 r--p 00000000 fe:00 9                          /c\n";
        Explain *e = explain_str(text, NULL, 0);

        /* Ties on mappings go by bytes, then kind name, then source. */
        assert_int_equal(e->n_groups, 5);
        assert_string_equal(e->groups[0].source, "/c");
        assert_string_equal(e->groups[1].source, "/a");
        assert_string_equal(e->groups[2].source, "/b");
        assert_string_equal(e->groups[3].source, "[heap]");
        assert_string_equal(e->groups[4].source, "[vvar]");
        explain_free(e);
}

/* 65,000 mappings, the size of a process at the default limit: 30,000 files, 10,000 threads with guards,
 * 15,000 anonymous. */
static void test_at_the_limit(void **state) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint64_t *sps = calloc(10000, sizeof(uint64_t));
        char name[64];
        uint64_t a = 0x10000000;
        Explain *e;
        Maps m;

        assert_non_null(sps);
        maps_begin(&m);
        for (unsigned i = 0; i < 30000; i++, a += 8192) {
                snprintf(name, sizeof(name), "/var/lib/store/seg-%05u", i);
                maps_add(&m, a, a + 4096, "r--s", name);
        }
        for (unsigned i = 0; i < 15000; i++, a += 3 * 4096)
                maps_add(&m, a, a + 4096, "rw-p", NULL);
        a = 0x7f0000000000;
        for (unsigned i = 0; i < 10000; i++, a += 64 * KIB + 8192) {
                maps_add_stack(&m, a + 4096 + 64 * KIB, 64 * KIB, true);
                sps[i] = a + 4096 + 60 * KIB;
        }
        fputs(GATE, m.f);
        text = maps_end(&m);
        e = explain_str(text, sps, 10000);
        assert_int_equal(e->map_count, 65000);
        assert_int_equal(e->thread_stacks, 10000);
        assert_int_equal(find_group(e, EXPLAIN_KIND_FILE, "/var/lib/store")->files, 30000);
        assert_int_equal(e->groups[0].mappings, 30000);
        assert_int_equal(e->groups[1].mappings, 20000);
        assert_int_equal(e->groups[2].mappings, 15000);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        explain_free(e);
}

/* ---- the fixtures: real programs ---- */

typedef struct Fixture {
        char *maps;
        size_t len;
        uint64_t sps[4096];
        size_t n;
        unsigned count; /* what proc_count_maps() said at capture time */
} Fixture;

static char *fixture_read(const char *name, const char *suffix, size_t *ret_len) {
        const char *src = getenv("MAPGUARD_SOURCE_ROOT");
        _cleanup_free_ char *rel = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *buf = NULL;
        size_t len = 0;

        assert_non_null(src);
        assert_true(asprintf(&rel, "/tests/fixtures/explain/%s.%s", name, suffix) > 0);
        path = testfs_path(src, rel);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read_fd_all(fd, &buf, &len), 0);
        if (ret_len)
                *ret_len = len;
        return buf;
}

static Fixture *fixture_load(const char *name) {
        Fixture *f = calloc(1, sizeof(Fixture));
        _cleanup_free_ char *threads = NULL, *count = NULL;
        char *save = NULL;

        if (!getenv("MAPGUARD_SOURCE_ROOT")) {
                print_message("# MAPGUARD_SOURCE_ROOT unset (not run by meson test), skipping\n");
                free(f);
                skip();
        }
        assert_non_null(f);
        f->maps = fixture_read(name, "maps", &f->len);
        threads = fixture_read(name, "threads", NULL);
        count = fixture_read(name, "count", NULL);
        f->count = (unsigned) strtoul(count, NULL, 10);
        for (char *l = strtok_r(threads, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                assert_true(f->n < ELEMENTSOF(f->sps));
                f->sps[f->n++] = streq(l, "running") ? 0 : strtoull(l, NULL, 16);
        }
        return f;
}

static void fixture_free(Fixture *f) {
        free(f->maps);
        free(f);
}

static Explain *fixture_explain(const Fixture *f) {
        Explain *e = explain_text(f->maps, f->len, f->sps, f->n);

        assert_int_equal(e->map_count, f->count);
        assert_int_equal(e->threads, f->n);
        return e;
}

static void test_fixture_jvm(void **state) {
        Fixture *f = fixture_load("jvm");
        Explain *e = fixture_explain(f);

        /* 500 waiting threads and the JVM's own; every thread but the main one has a stack and a guard. */
        assert_true(f->n > 500);
        assert_int_equal(e->thread_stacks, f->n - 1);
        assert_int_equal(e->thread_guards, f->n - 1);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        assert_int_equal(explain_top_group(e)->kind, EXPLAIN_KIND_THREAD_STACK);
        assert_int_equal(explain_top_group(e)->mappings, 2 * (f->n - 1));
        explain_free(e);

        /* explain_process() reads EXPLAIN_STACK_POINTERS_MAX pointers (the leader's first: tids are
         * listed in order); the other stacks are found by the guard pattern at the size most have. */
        memset(f->sps + EXPLAIN_STACK_POINTERS_MAX, 0,
               (f->n - EXPLAIN_STACK_POINTERS_MAX) * sizeof(uint64_t));
        e = explain_text(f->maps, f->len, f->sps, f->n);
        assert_int_equal(e->thread_stacks, f->n - 1);
        assert_int_equal(e->thread_guards, f->n - 1);
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        explain_free(e);
        fixture_free(f);
}

static void test_fixture_prometheus(void **state) {
        Fixture *f = fixture_load("prometheus");
        Explain *e = fixture_explain(f);
        const ExplainGroup *top;

        /* 360 blocks, each with its index and chunk file mapped, and the head's chunk file. */
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        top = explain_top_group(e);
        assert_string_equal(top->source, "/tmp/mapguard-capture-explain/prometheus/tsdb");
        assert_true(top->files >= 720);
        assert_int_equal(top->mappings, top->files);
        /* cgo: its threads are pthreads with guards; the main one is on [stack], and one was blocked on a
         * goroutine's stack, inside the Go heap, which is no thread's stack. */
        assert_int_equal(e->thread_stacks, f->n - 2);
        assert_int_equal(e->thread_guards, f->n - 2);
        explain_free(e);
        fixture_free(f);
}

static void test_fixture_node_exporter(void **state) {
        Fixture *f = fixture_load("node-exporter");
        Explain *e = fixture_explain(f);

        /* A Go program at rest: its heap, arenas and a few threads, nothing that dominates. */
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MIXED);
        assert_int_equal(e->thread_stacks, f->n - 1);
        assert_int_equal(e->groups[0].kind, EXPLAIN_KIND_ANONYMOUS);
        explain_free(e);
        fixture_free(f);
}

static void test_fixture_fragment(void **state) {
        Fixture *f = fixture_load("fragment");
        Explain *e = fixture_explain(f);

        /* 16,000 malloc'd blocks of 256 KiB, every other one freed, and 8 threads with arenas. */
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS);
        assert_true(e->kind_mappings[EXPLAIN_KIND_ANONYMOUS] >= 8000);
        assert_int_equal(e->thread_stacks, 8);
        assert_true(e->alternating >= 16); /* the arenas' heaps: rw-p then ---p */
        explain_free(e);
        fixture_free(f);
}

static void test_fixture_store(void **state) {
        Fixture *f = fixture_load("store");
        Explain *e = fixture_explain(f);

        assert_int_equal(e->verdict, EXPLAIN_VERDICT_MAPPED_FILES);
        assert_string_equal(e->groups[0].source, "/tmp/mapguard-capture-explain/store");
        assert_int_equal(e->groups[0].files, 5000);
        assert_int_equal(e->groups[0].mappings, 5000);
        assert_int_equal(e->thread_stacks, 0);
        assert_sentence(summary(e),
                        "5,000 of 5,023 maps are regions of 5,000 files under "
                        "/tmp/mapguard-capture-explain/store: a store mapping its files; raise "
                        "vm.max_map_count");
        explain_free(e);
        fixture_free(f);
}

static void test_fixture_names(void **state) {
        Fixture *f = fixture_load("names");
        Explain *e = fixture_explain(f);
        unsigned stacks;

        /* 64 threads whose stacks are named as glibc 2.40 names them, and their arenas. */
        assert_int_equal(e->verdict, EXPLAIN_VERDICT_THREADS);
        assert_int_equal(e->thread_stacks, 64);
        assert_int_equal(e->thread_guards, 64);
        assert_non_null(find_group(e, EXPLAIN_KIND_NAMED_ANONYMOUS, " glibc: malloc arena"));
        stacks = e->thread_stacks;
        explain_free(e);

        /* The names alone say as much: no pointer needed. */
        e = explain_text(f->maps, f->len, NULL, 0);
        assert_int_equal(e->thread_stacks, stacks);
        assert_int_equal(e->kind_mappings[EXPLAIN_KIND_THREAD_STACK], 2 * stacks);
        explain_free(e);
        fixture_free(f);
}

/* ---- the reader ---- */

static void test_parse_syscall(void **state) {
        uint64_t sp = 42;

        assert_int_equal(explain_parse_syscall("running\n", &sp), 0);
        assert_int_equal(sp, 42);
        assert_int_equal(explain_parse_syscall("-1 0x7ffd1000 0x401000\n", &sp), 1);
        assert_int_equal(sp, 0x7ffd1000);
        assert_int_equal(explain_parse_syscall("230 0x0 0x0 0x7fff8564ba00 0x7fff8564ba40 0x0 0x0 "
                                               "0x7fff8564b9e8 0x7fc32796c503\n",
                                               &sp),
                         1);
        assert_int_equal(sp, 0x7fff8564b9e8);
        sp = 42;
        static const char *const bad[] = {
                "",
                "\n",
                "-1 0x1\n",
                "-1 0x1 0x2 0x3\n",
                "230 0x0\n",
                "x 0x0 0x0 0x0 0x0 0x0 0x0 0x1 0x2\n",
                "-1 zz 0x1\n",
                "-1 0x11111111111111111 0x1\n",
                "-1 0x1 0x2\nrunning\n",
                "running now\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(explain_parse_syscall(bad[i], &sp), -EBADMSG);
                assert_int_equal(sp, 42);
        }
}

static char *root;

static int group_setup(void **state) {
        root = testfs_mkdtemp("mapguard-test-explain");
        return 0;
}

static int group_teardown(void **state) {
        testfs_rm_rf(root);
        free(root);
        return 0;
}

static void fixture_file(pid_t pid, const char *rel, const char *text) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "/proc/%d/%s", (int) pid, rel) > 0);
        testfs_write_str(root, path, text);
}

/* ROOT/proc/PID/status: what explain_read() reads of it, the state and the number of threads. */
static void fixture_status(pid_t pid, char state, unsigned threads) {
        _cleanup_free_ char *s = NULL;

        assert_true(asprintf(&s, "Name:\tx\nUmask:\t0022\nState:\t%c (x)\nTgid:\t%d\nThreads:\t%u\n", state,
                             (int) pid, threads) > 0);
        fixture_file(pid, "status", s);
}

static void test_read_fixture_tree(void **state) {
        _cleanup_free_ char *text = threads_text(1, true, NULL, 0);
        ExplainInput in = {}, sentinel = { .n_threads = 99 };
        Explain *e = NULL;

        fixture_status(4242, 'S', 3);
        fixture_file(4242, "maps", text);
        fixture_file(4242, "task/4242/syscall", "7 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffe00010000 0x401000\n");
        fixture_file(4242, "task/4243/syscall", "-1 0x7f7ffeff0000 0x401000\n");
        fixture_file(4242, "task/4244/syscall", "running\n");
        fixture_file(4242, "task/4245/stat", "4245 (x) S\n");    /* exited: its syscall file is gone */
        fixture_file(4242, "task/4246/syscall", "");             /* exited while being read */
        fixture_file(4242, "task/4247/syscall", "-1 0x0 0x0\n"); /* past its exit: no stack any more */
        assert_int_equal(explain_read(root, 4242, SIZE_MAX, &in), 0);
        assert_int_equal(in.maps_len, strlen(text));
        assert_memory_equal(in.maps, text, in.maps_len);
        assert_int_equal(in.n_threads, 3);
        /* readdir()'s order: find each. */
        for (size_t i = 0; i < 3; i++)
                assert_true(in.stack_pointers[i] == 0x7ffe00010000 ||
                            in.stack_pointers[i] == 0x7f7ffeff0000 || in.stack_pointers[i] == 0);
        explain_input_done(&in);
        explain_input_done(&in); /* zeroed: fine twice */

        /* One pointer read at most: the other threads count as status says, with unknown pointers. */
        assert_int_equal(explain_read(root, 4242, 1, &in), 0);
        assert_int_equal(in.n_threads, 3);
        assert_true((in.stack_pointers[0] != 0) + (in.stack_pointers[1] != 0) +
                            (in.stack_pointers[2] != 0) <=
                    1);
        assert_int_equal(in.stack_pointers[1], 0);
        assert_int_equal(in.stack_pointers[2], 0);
        explain_input_done(&in);
        fixture_status(4242, 'S', 1000);
        assert_int_equal(explain_read(root, 4242, 1, &in), 0);
        assert_int_equal(in.n_threads, 1000);
        explain_input_done(&in);
        fixture_status(4242, 'S', 3);

        assert_int_equal(explain_process(root, 4242, &e), 0);
        assert_int_equal(e->threads, 3);
        assert_int_equal(e->thread_stacks, 1); /* 0x7f7ffeff0000: in the one thread's stack */
        explain_free(e);

        in = sentinel;
        assert_int_equal(explain_read(root, 4343, SIZE_MAX, &in), -ESRCH);
        assert_int_equal(explain_read(root, 0, SIZE_MAX, &in), -EINVAL);
        assert_int_equal(explain_read(root, -1, SIZE_MAX, &in), -EINVAL);
        assert_int_equal(in.n_threads, 99);
        e = (Explain *) 0x1;
        assert_int_equal(explain_process(root, 4343, &e), -ESRCH);
        assert_ptr_equal(e, (Explain *) 0x1);
}

static void test_read_exited_leader(void **state) {
        ExplainInput in = {};

        /* The leader exited (zombie, empty maps) while a thread lives on: its maps are the process's. */
        fixture_status(4250, 'Z', 2);
        fixture_file(4250, "maps", "");
        fixture_file(4250, "task/4250/maps", "");
        fixture_file(4250, "task/4250/syscall", "running\n");
        fixture_file(4250, "task/4251/maps", GATE);
        fixture_file(4250, "task/4251/syscall", "-1 0x10 0x20\n");
        assert_int_equal(explain_read(root, 4250, SIZE_MAX, &in), 0);
        assert_string_equal(in.maps, GATE);
        assert_int_equal(in.n_threads, 1);
        assert_int_equal(in.stack_pointers[0], 0x10);
        explain_input_done(&in);

        /* No mm anywhere: a kernel thread, or a zombie. */
        fixture_status(4260, 'S', 1);
        fixture_file(4260, "maps", "");
        fixture_file(4260, "task/4260/maps", "");
        fixture_file(4260, "task/4260/syscall", "running\n");
        assert_int_equal(explain_read(root, 4260, SIZE_MAX, &in), -ENODATA);

        /* Maps read, then every thread gone: the process exited meanwhile. */
        fixture_status(4270, 'S', 1);
        fixture_file(4270, "maps", GATE);
        fixture_file(4270, "task/4270/stat", "4270 (x) S\n");
        assert_int_equal(explain_read(root, 4270, SIZE_MAX, &in), -ESRCH);
        assert_null(in.maps);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_gate),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_lines_that_do_not_parse),
                cmocka_unit_test(test_special_names),
                cmocka_unit_test(test_long_source),
                cmocka_unit_test(test_directory_rule),
                cmocka_unit_test(test_libraries),
                cmocka_unit_test(test_stacks_by_pointer),
                cmocka_unit_test(test_stacks_without_guards),
                cmocka_unit_test(test_stack_pointers_elsewhere),
                cmocka_unit_test(test_running_threads),
                cmocka_unit_test(test_named_stacks),
                cmocka_unit_test(test_verdict_threshold),
                cmocka_unit_test(test_fragmentation),
                cmocka_unit_test(test_mapped_files_advice),
                cmocka_unit_test(test_mixed_advice),
                cmocka_unit_test(test_sorted),
                cmocka_unit_test(test_at_the_limit),
                cmocka_unit_test(test_fixture_jvm),
                cmocka_unit_test(test_fixture_prometheus),
                cmocka_unit_test(test_fixture_node_exporter),
                cmocka_unit_test(test_fixture_fragment),
                cmocka_unit_test(test_fixture_store),
                cmocka_unit_test(test_fixture_names),
                cmocka_unit_test(test_parse_syscall),
                cmocka_unit_test(test_read_fixture_tree),
                cmocka_unit_test(test_read_exited_leader),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
