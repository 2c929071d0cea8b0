/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What an Explain (explain.h) says in words: the summary a journal MESSAGE carries and one sentence of
 * advice. Pure logic. Numbers are written with thousands separators ("62,000"); sources are put in as
 * the Explain holds them (any byte but NUL and newline), so callers escape the sentences before a
 * terminal or a journal sees them.
 *
 * The value advised for vm.max_map_count is recommend_value() (recommend.h) of the map count: twice the
 * count, the kernel default when that fits, else at least 1048576 in multiples of 65536: the same number
 * `mapguardctl recommend` would give for this process alone. */

#include "explain.h"

/* The summary: the verdict's top group (explain_top_group()) and what it means, e.g. "62,000 of 64,000
 * maps are regions of 61,998 files under /var/lib/cortex/tsdb: a store mapping its files; raise
 * vm.max_map_count", "1,000 of 1,300 maps are the stacks and guards of 500 threads: many threads; look
 * for a thread leak". For mixed, the two largest groups. No trailing period (it is a clause a caller may
 * extend). Returns 0 and a malloc'd string in *RET, -ENOMEM (*RET untouched). */
int explain_summary(const Explain *e, char **ret);

/* One sentence of advice for E's verdict, ending in a period. MAX_MAP_COUNT is the live
 * vm.max_map_count (0 when unknown): mapped-files advises raising it to the value above, or says that
 * the live limit already leaves room; threads says to look for a thread leak, with the threads and the
 * mappings each costs (2: a stack and its guard; 1: guards installed without a mapping); fragmented-
 * anonymous names the allocator settings to look at (glibc, jemalloc, mimalloc); libraries says to look
 * for a plugin leak; mixed names the two largest groups. Returns 0 and a malloc'd string in *RET,
 * -ENOMEM (*RET untouched). */
int explain_advice(const Explain *e, unsigned max_map_count, char **ret);
