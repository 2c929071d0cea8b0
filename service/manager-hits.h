/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limit hits: mapping calls of watched processes that failed at vm.max_map_count. Caught in the kernel
 * (HitDetection "caught": the limit-hit program that the BPF loader loads beside the task iterator,
 * bpf-hits.h, its ring buffer in the event loop, bursts of failed calls grouped by limit-hit.h), or
 * observed by a pass (a process read with no headroom). Each hit is counted in its unit's crash loop
 * (crash-loop.h) and announced (manager-announce.h). A unit that hit the limit less than
 * CRASH_LOOP_CLEAN_USEC ago shows level critical, also while it has no processes (held). */

#include <stdbool.h>

#include "manager.h"

/* Takes the limit-hit program from the BPF counter, when there is one, and puts its ring buffer in the
 * event loop; says in the journal how calls are caught, or why they are not. Sets
 * m->scan.hit_detection. Returns 0, or -errno for a failure of the loop itself (logged). */
int manager_hits_start(Manager *m);

/* Stops catching (before the BPF counter goes), counting the bursts still open. */
void manager_hits_stop(Manager *m);

/* After the watched cgroups or the live limit changed: attaches the program while some cgroup is
 * watched (the tracepoint way slows every syscall while attached), and tells it the limit. */
void manager_hits_sync(Manager *m, size_t n_cgroups);

/* Reads what the kernel queued, then counts at once the open burst of every process: call it before an
 * exit or an emptied cgroup is judged, which needs to know whether the unit is at the limit. */
void manager_hits_flush(Manager *m);

/* After a read of P in U, when hits are not caught: a process with no headroom counts as one hit, once. */
void manager_hits_observe(Manager *m, WatchedUnit *u, ProcState *p);

/* Returns true while U counts as at the limit: held, or a hit less than CRASH_LOOP_CLEAN_USEC ago. */
bool manager_hits_recent(const WatchedUnit *u);

/* The level U shows: critical while manager_hits_recent(), else LEVEL (that of its worst process). */
Level manager_hits_unit_level(const WatchedUnit *u, Level level);
