/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path-util.h"
#include "procfs.h"
#include "recommend.h"
#include "util.h"

unsigned recommend_vma_object_size(const char *root) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t allocated = 0;

        path = path_prefix_root(root, "/proc/slabinfo");
        if (!path)
                return RECOMMEND_VM_AREA_STRUCT_BYTES;
        f = fopen(path, "re");
        if (!f)
                return RECOMMEND_VM_AREA_STRUCT_BYTES;

        /* "name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ..." */
        while (getline(&line, &allocated, f) >= 0) {
                unsigned long active, num, size;
                char name[64];

                if (sscanf(line, "%63s %lu %lu %lu", name, &active, &num, &size) != 4)
                        continue;
                if (!streq(name, "vm_area_struct"))
                        continue;
                /* Bounds that no kernel's vm_area_struct is outside of: anything else is garbage. */
                if (size < 64 || size > 4096)
                        break;
                return (unsigned) size;
        }
        return RECOMMEND_VM_AREA_STRUCT_BYTES;
}

unsigned recommend_value(unsigned peak_map_count) {
        uint64_t need = (uint64_t) peak_map_count * 2, v;

        if (need <= RECOMMEND_KERNEL_DEFAULT)
                return RECOMMEND_KERNEL_DEFAULT;
        v = (need + RECOMMEND_GRANULE - 1) / RECOMMEND_GRANULE * RECOMMEND_GRANULE;
        if (v < RECOMMEND_DISTRO_VALUE)
                v = RECOMMEND_DISTRO_VALUE;
        if (v > RECOMMEND_VALUE_MAX)
                v = RECOMMEND_VALUE_MAX;
        return (unsigned) v;
}

/* What CAUSE means for the limit, as the sentence that opens the reason ("" when it says nothing). Returns
 * 0 and a malloc'd string, or -ENOMEM. */
static int cause_sentence(const RecommendCause *cause, char **ret) {
        const char *fix;
        char *s;

        if (!cause || !cause->unit)
                fix = NULL;
        else
                switch (cause->verdict) {
                case EXPLAIN_VERDICT_THREADS:
                        fix = "are mostly thread stacks: look for a thread leak (a pool that grows without "
                              "bound, threads never joined) and fix it; a higher limit only postpones the "
                              "failure";
                        break;
                case EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS:
                        fix = "are mostly small anonymous regions that its allocator splits: tune the "
                              "allocator (glibc: MALLOC_ARENA_MAX; jemalloc and mimalloc: their decay and "
                              "purge settings); a higher limit only postpones the failure";
                        break;
                case EXPLAIN_VERDICT_LIBRARIES:
                        fix = "are mostly shared objects: look for a plugin leak (libraries loaded and "
                              "never "
                              "unloaded); a higher limit only postpones the failure";
                        break;
                case EXPLAIN_VERDICT_MAPPED_FILES:
                        fix = "are mostly its data files: a store that a higher limit serves";
                        break;
                default:
                        fix = NULL;
                        break;
                }
        if (!fix)
                s = strdup("");
        else if (asprintf(&s, "The maps of %s %s. ", cause->unit, fix) < 0)
                s = NULL; /* asprintf() leaves it undefined on failure */
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int recommend_max_map_count(const char *root, unsigned peak_map_count, unsigned live_max,
                            const char *hit_unit, const RecommendCause *cause, unsigned *ret_value,
                            char **ret_reason) {
        _cleanup_free_ char *live = NULL, *hit = NULL, *fix = NULL;
        unsigned value, object, per_vma;
        uint64_t mib;
        char *reason;
        int r;

        if (hit_unit && live_max > 0 && peak_map_count <= live_max)
                peak_map_count = live_max + 1;
        if (hit_unit &&
            asprintf(&hit, "%s hit the limit: it needs more than %u maps, how many more is not known. ",
                     hit_unit, live_max) < 0)
                return -ENOMEM;
        value = recommend_value(peak_map_count);
        object = recommend_vma_object_size(root);
        per_vma = object + RECOMMEND_VMA_OVERHEAD_BYTES;
        mib = ((uint64_t) value * per_vma + (1U << 20) / 2) >> 20;

        if (live_max == 0)
                r = asprintf(&live, "The live limit is unknown.");
        else if (live_max >= value)
                r = asprintf(&live, "The live limit %u already covers it.", live_max);
        else
                r = asprintf(&live, "The live limit %u is below it: raise it.", live_max);
        if (r < 0)
                return -ENOMEM;
        r = cause_sentence(cause, &fix);
        if (r < 0)
                return r;

        if (asprintf(&reason,
                     "%s%sPeak of %u maps in one process; %u is %s. %s "
                     "Each mapping pins unswappable kernel memory: a %u-byte vm_area_struct plus about "
                     "%u bytes of maple-tree and anon_vma_chain overhead, so %u maps cost "
                     "%" PRIu64 " MiB of unswappable kernel memory per process at the limit.",
                     hit ? hit : "", fix, peak_map_count, value,
                     value == RECOMMEND_KERNEL_DEFAULT
                             ? "the kernel default, which leaves twice the peak"
                             : "at least twice the peak, rounded up to a multiple of 65536 and no lower "
                               "than the common distribution value 1048576",
                     live, object, RECOMMEND_VMA_OVERHEAD_BYTES, value, mib) < 0)
                return -ENOMEM;

        *ret_value = value;
        *ret_reason = reason;
        return 0;
}
