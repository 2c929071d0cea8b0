/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recommendation formula and its reason text, with and without a readable slabinfo. */

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "recommend.h"
#include "testfs.h"
#include "util.h"

static char root[] = "/tmp/mapguard-test-recommend-XXXXXX";
static char empty_root[] = "/tmp/mapguard-test-recommend-empty-XXXXXX";

static void write_slabinfo(const char *text) {
        testfs_write_str(root, "/proc/slabinfo", text);
}

static int group_setup(void **state) {
        _cleanup_free_ char *proc = NULL;

        if (!mkdtemp(root) || !mkdtemp(empty_root))
                return -1;
        if (asprintf(&proc, "%s/proc", root) < 0 || mkdir(proc, 0755) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state) {
        testfs_rm_rf(root);
        testfs_rm_rf(empty_root);
        return 0;
}

static void test_value_formula(void **state) {
        /* Twice the peak fits the default: keep the default. */
        assert_int_equal(recommend_value(0), 65530);
        assert_int_equal(recommend_value(1000), 65530);
        assert_int_equal(recommend_value(32765), 65530);
        /* Past half the default: straight to the distribution value. */
        assert_int_equal(recommend_value(32766), 1048576);
        assert_int_equal(recommend_value(60000), 1048576);
        assert_int_equal(recommend_value(524288), 1048576);
        /* Beyond that, twice the peak rounded up to 65536. */
        assert_int_equal(recommend_value(524289), 1048576 + 65536);
        assert_int_equal(recommend_value(1000000), 2031616); /* 2000000 -> 31 x 65536 */
        /* Capped at the kernel's int range, a multiple of 65536. */
        assert_int_equal(recommend_value(2000000000U), 2147418112U);
        assert_int_equal(recommend_value(UINT32_MAX), 2147418112U);
        assert_int_equal(2147418112U % 65536, 0);
}

static void test_slabinfo(void **state) {
        /* No slabinfo: the documented 192. */
        assert_int_equal(recommend_vma_object_size(empty_root), 192);

        write_slabinfo(
                "slabinfo - version: 2.1\n"
                "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
                " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs>"
                " <sharedavail>\n"
                "vm_area_structX     10     20    999   21    1 : tunables    0    0    0 : slabdata\n"
                "vm_area_struct     905   1575    200   20    1 : tunables    0    0    0 : slabdata"
                "     75     75      0\n");
        assert_int_equal(recommend_vma_object_size(root), 200);

        /* Garbage or implausible sizes fall back to 192. */
        write_slabinfo("vm_area_struct 1 2 lots 4 5\n");
        assert_int_equal(recommend_vma_object_size(root), 192);
        write_slabinfo("vm_area_struct 1 2 3 4 5\n");
        assert_int_equal(recommend_vma_object_size(root), 192);
        /* The cache merged into another one: no line for it. */
        write_slabinfo("slabinfo - version: 2.1\nkmalloc-192 1 2 192 21 1\n");
        assert_int_equal(recommend_vma_object_size(root), 192);
}

static void test_reason_default_object(void **state) {
        _cleanup_free_ char *reason = NULL;
        unsigned v = 0;

        /* 1048576 maps x (192 + 96) bytes = 288 MiB. */
        assert_int_equal(recommend_max_map_count(empty_root, 40000, 65530, NULL, NULL, &v, &reason), 0);
        assert_int_equal(v, 1048576);
        assert_non_null(strstr(reason, "Peak of 40000 maps in one process"));
        assert_non_null(strstr(reason, "192-byte vm_area_struct"));
        assert_non_null(strstr(reason, "96 bytes of maple-tree and anon_vma_chain overhead"));
        assert_non_null(strstr(reason, "288 MiB of unswappable kernel memory per process at the limit"));
        assert_non_null(strstr(reason, "The live limit 65530 is below it: raise it."));
}

static void test_reason_slab_object(void **state) {
        _cleanup_free_ char *reason = NULL;
        unsigned v = 0;

        /* 65530 x (200 + 96) = 19396880 bytes = 18.498 MiB, rounded to nearest: 18. */
        write_slabinfo("vm_area_struct 905 1575 200 20 1 : tunables 0 0 0 : slabdata 75 75 0\n");
        assert_int_equal(recommend_max_map_count(root, 100, 1048576, NULL, NULL, &v, &reason), 0);
        assert_int_equal(v, 65530);
        assert_non_null(strstr(reason, "the kernel default"));
        assert_non_null(strstr(reason, "200-byte vm_area_struct"));
        assert_non_null(strstr(reason, "18 MiB of unswappable kernel memory per process at the limit"));
        assert_non_null(strstr(reason, "The live limit 1048576 already covers it."));
}

static void test_reason_unknown_live(void **state) {
        _cleanup_free_ char *reason = NULL;
        unsigned v = 0;

        assert_int_equal(recommend_max_map_count(empty_root, 1000000, 0, NULL, NULL, &v, &reason), 0);
        assert_int_equal(v, 2031616);
        assert_non_null(strstr(reason, "The live limit is unknown."));
        /* 2031616 x 288 B = 558 MiB. */
        assert_non_null(strstr(reason, "558 MiB of unswappable"));
}

/* A unit that hit the limit needed more than the live limit, whatever peak was read: the value is
 * above the live limit, also when the live limit is already high and the reads saw little. */
static void test_reason_limit_hit(void **state) {
        _cleanup_free_ char *reason = NULL, *reason2 = NULL;
        unsigned v = 0;

        assert_int_equal(
                recommend_max_map_count(empty_root, 100, 65530, "ingester.service", NULL, &v, &reason), 0);
        assert_int_equal(v, 1048576);
        assert_non_null(strstr(reason, "ingester.service hit the limit: it needs more than 65530 maps"));
        assert_non_null(strstr(reason, "Peak of 65531 maps"));

        assert_int_equal(
                recommend_max_map_count(empty_root, 1048577, 1048576, "es.service", NULL, &v, &reason2), 0);
        assert_true(v > 1048576);
        assert_int_equal(v, 2162688); /* 2 x 1048577, rounded up to 33 x 65536 */
}

static char *reason_for(const char *unit, ExplainVerdict verdict, unsigned *ret_value) {
        RecommendCause cause = { .unit = unit, .verdict = verdict };
        char *reason = NULL;

        assert_int_equal(recommend_max_map_count(empty_root, 60000, 65530, NULL, &cause, ret_value, &reason),
                         0);
        return reason;
}

/* What the maps of the unit that needs the most are decides what the reason says first: a leak or an
 * allocator to fix, which a higher limit only postpones, or a store that the limit serves. The value
 * stays the same. */
static void test_reason_cause(void **state) {
        _cleanup_free_ char *none = NULL, *threads = NULL, *fragmented = NULL, *libraries = NULL,
                            *files = NULL, *mixed = NULL, *nameless = NULL, *hit = NULL;
        RecommendCause cause = { .unit = "jvm.service", .verdict = EXPLAIN_VERDICT_THREADS };
        unsigned v0 = 0, v = 0;

        assert_int_equal(recommend_max_map_count(empty_root, 60000, 65530, NULL, NULL, &v0, &none), 0);
        assert_int_equal(v0, 1048576);
        assert_true(strncmp(none, "Peak of 60000 maps", 18) == 0);

        threads = reason_for("jvm.service", EXPLAIN_VERDICT_THREADS, &v);
        assert_int_equal(v, v0);
        assert_non_null(strstr(threads,
                               "The maps of jvm.service are mostly thread stacks: look for a thread "
                               "leak"));
        assert_non_null(strstr(threads, "a higher limit only postpones the failure. Peak of 60000 maps"));
        /* The number is still given, after the fix. */
        assert_non_null(strstr(threads, "The live limit 65530 is below it"));

        fragmented = reason_for("cache.service", EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS, &v);
        assert_int_equal(v, v0);
        assert_non_null(strstr(fragmented, "The maps of cache.service are mostly small anonymous regions"));
        assert_non_null(strstr(fragmented, "tune the allocator (glibc: MALLOC_ARENA_MAX"));
        assert_non_null(strstr(fragmented, "only postpones the failure"));

        libraries = reason_for("app.service", EXPLAIN_VERDICT_LIBRARIES, &v);
        assert_non_null(strstr(libraries, "look for a plugin leak"));

        files = reason_for("tsdb.service", EXPLAIN_VERDICT_MAPPED_FILES, &v);
        assert_int_equal(v, v0);
        assert_non_null(strstr(files,
                               "The maps of tsdb.service are mostly its data files: a store that a "
                               "higher limit serves. Peak of 60000"));
        assert_null(strstr(files, "postpones"));

        /* No single cause, or none known: the number alone. */
        mixed = reason_for("mixed.service", EXPLAIN_VERDICT_MIXED, &v);
        assert_string_equal(mixed, none);
        nameless = reason_for(NULL, EXPLAIN_VERDICT_THREADS, &v);
        assert_string_equal(nameless, none);

        /* A unit that hit the limit: that first, then what to fix. */
        assert_int_equal(recommend_max_map_count(empty_root, 100, 65530, "jvm.service", &cause, &v, &hit),
                         0);
        assert_non_null(strstr(hit,
                               "jvm.service hit the limit: it needs more than 65530 maps, how many more "
                               "is not known. The maps of jvm.service are mostly thread stacks"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_value_formula),         cmocka_unit_test(test_slabinfo),
                cmocka_unit_test(test_reason_default_object), cmocka_unit_test(test_reason_slab_object),
                cmocka_unit_test(test_reason_unknown_live),   cmocka_unit_test(test_reason_limit_hit),
                cmocka_unit_test(test_reason_cause),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
