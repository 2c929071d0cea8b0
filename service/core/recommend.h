/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tuned vm.max_map_count from the observed peaks, and what it costs. Pure logic.
 *
 * The formula, with PEAK the highest map count seen in any one watched process:
 *   need = 2 x PEAK             growth headroom: after doubling its mappings the busiest process
 *                               is still at 50 %, below the 80 % warning threshold.
 *   need <= 65530  -> 65530     the kernel default already gives that room: don't raise anything.
 *   otherwise      -> max(1048576, need rounded up to a multiple of 65536)
 *                               1048576 is the value Fedora, Arch, Ubuntu and Elastic settled on
 *                               (and mapguard's sysctl.d drop-in); as soon as the default is not
 *                               enough, step to it rather than to an odd value just above 65530.
 *                               Multiples of 65536 keep the numbers readable and stable as the
 *                               peak creeps up.
 *   capped at 2147418112        the largest multiple of 65536 the kernel's int sysctl accepts.
 * A limit costs nothing until it is used, but each VMA pins unswappable kernel memory: one
 * vm_area_struct (its object size read from ROOT/proc/slabinfo, 192 bytes when unreadable) plus
 * RECOMMEND_VMA_OVERHEAD_BYTES of maple-tree node share and anon_vma_chain, about 250-320 bytes in
 * all, so the reason states the cost of one process at the limit. */

#include "explain.h"

#define RECOMMEND_KERNEL_DEFAULT 65530U
#define RECOMMEND_DISTRO_VALUE 1048576U
#define RECOMMEND_GRANULE 65536U
#define RECOMMEND_VALUE_MAX 2147418112U
#define RECOMMEND_VM_AREA_STRUCT_BYTES 192U
/* A maple-tree node is 256 bytes for up to 16 VMAs (~16 bytes each, more with inner nodes), an
 * anon_vma_chain 64 bytes per anonymous VMA: ~96 bytes on top of the vm_area_struct. */
#define RECOMMEND_VMA_OVERHEAD_BYTES 96U

/* Returns the vm_area_struct object size from ROOT/proc/slabinfo's "vm_area_struct" line (root only
 * on most systems; the cache may also be merged away), RECOMMEND_VM_AREA_STRUCT_BYTES when it cannot
 * be read or parsed. Never fails. */
unsigned recommend_vma_object_size(const char *root);

/* Returns the recommended value for PEAK_MAP_COUNT by the formula above (no I/O). */
unsigned recommend_value(unsigned peak_map_count);

/* What the maps of the unit that needs the most are, as far as they were explained (explain.h). */
typedef struct RecommendCause {
        const char *unit;       /* NULL: not known */
        ExplainVerdict verdict; /* of its worst process, when it last went up to warning or critical */
} RecommendCause;

/* A tuned vm.max_map_count from the observed peak map count over all watched processes and the live
 * limit LIVE_MAX (0 if unknown). HIT_UNIT, when not NULL, names a unit that hit the limit: its process
 * needed more than the limit let it have, so the peak counts as at least LIVE_MAX + 1 (its real need is
 * not known; the value is then always above the live limit). CAUSE (NULL, or its unit NULL: not known)
 * says what the maps of the unit that needs the most are. A higher limit serves a store that maps its
 * files; it only postpones a leak: for threads, fragmented-anonymous and libraries the reason first says
 * what to fix (a thread leak; the allocator's settings; a plugin leak), for mapped-files that the limit
 * is the fix; mixed adds nothing. The value is the same either way. Returns 0 with the value and a
 * malloc'd one-paragraph reason: the cause, the peak, why this value, how it compares with the live
 * limit, and "N MiB of unswappable kernel memory per process at the limit". -ENOMEM on allocation
 * failure. */
int recommend_max_map_count(const char *root, unsigned peak_map_count, unsigned live_max,
                            const char *hit_unit, const RecommendCause *cause, unsigned *ret_value,
                            char **ret_reason);
