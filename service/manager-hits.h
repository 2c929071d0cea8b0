/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limit hits: mapping calls of watched processes that failed at vm.max_map_count. Caught in the kernel
 * (HitDetection "caught": the limit-hit program that the BPF loader loads beside the task iterator,
 * bpf-hits.h, its ring buffer in the event loop, bursts of failed calls grouped by limit-hit.h), or
 * observed by a pass (a process read with no headroom). Each hit is counted in its unit's crash loop
 * (crash-loop.h) and announced (manager-announce.h). A unit that hit the limit less than
 * CRASH_LOOP_CLEAN_USEC ago shows level critical, also while it has no processes (held).
 * The program is armed (attached) only while something nears the limit (manager_hits_sync()): in its
 * tracepoint and sys_exit modes it slows every syscall of the host while attached. Disarmed, a read with
 * no headroom is observed as one hit, as without the program. */

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"

/* Takes the limit-hit program from the BPF counter, when there is one, and puts its ring buffer in the
 * event loop; says in the journal how calls are caught, or why they are not. Sets
 * m->scan.hit_detection. Returns 0, or -errno for a failure of the loop itself (logged). */
int manager_hits_start(Manager *m);

/* Stops catching (before the BPF counter goes), counting the bursts still open. */
void manager_hits_stop(Manager *m);

/* Stops catching and forgets the units that departed (at shutdown). */
void manager_hits_done(Manager *m);

/* How long catching stays armed after the last trigger held: a minute, so that a process hovering at the
 * warning threshold does not arm and disarm with every read (and a tracepoint mode, which takes ~0.7 s
 * to release what it detached, never has to wait for a release to arm again). */
#define HITS_DISARM_DELAY_USEC (UINT64_C(60) * UINT64_C(1000000))

/* After each pass (its aggregates fresh): tells the program the live limit, and arms it while a trigger
 * holds and for m->hits.disarm_delay_usec after the last one held, disarms it then (a fexit program
 * stays armed: it costs nothing on other calls). The triggers, read from the units' aggregates that the
 * pass computed, first one named (mapguardd(8), LIMIT HITS):
 *   a unit that hit the limit, or had an exit attributed to it, less than CRASH_LOOP_CLEAN_USEC ago
 *   (manager_hits_recent(); also while it is held without processes);
 *   a unit restarted after a failure (WatchedUnit.failure) less than CRASH_LOOP_CLEAN_USEC ago;
 *   a unit whose worst process is at warning or critical;
 *   a unit with a process predicted to reach the limit within IntervalSec at its growth.
 * Sets m->hits.wanted and m->hits.trigger also without a program (hits observed), and says the changes
 * of HitCatching and HitCatchingReason. */
void manager_hits_sync(Manager *m);

/* U is no longer watched: when it failed lately, or it is a container that went without a stop asked
 * for, it is remembered, so that manager_hits_unit_back() knows it restarted. */
void manager_hits_unit_left(Manager *m, const WatchedUnit *u);
/* U is watched anew: when it left lately (manager_hits_unit_left()), it failed before (its failure is
 * restored), or, a container, it restarted in a new scope (a failure now). */
void manager_hits_unit_back(Manager *m, WatchedUnit *u);
/* U, a container still watched, runs in a new scope: kubelet restarted it (a failure now). */
void manager_hits_unit_new_scope(Manager *m, WatchedUnit *u);

/* Returns HitCatching: "off" when hits are observed (no program), "always" for a program that stays
 * armed (fexit), else "armed" or "idle": whether the program is attached now. */
const char *manager_hits_catching(const Manager *m);
/* Returns HitCatchingReason, never NULL: why hits are not caught ("off"); the trigger that holds, naming
 * the unit, or the last one and that it held less than the delay ago ("armed"); that none holds, or why
 * arming failed ("idle"); why fexit stays armed ("always"). */
const char *manager_hits_catching_reason(const Manager *m);

/* Reads what the kernel queued, then counts at once the open burst of every process: call it before an
 * exit or an emptied cgroup is judged, which needs to know whether the unit is at the limit. */
void manager_hits_flush(Manager *m);

/* After a read of P in U, while no program catches P's calls (hits observed, or the program disarmed) and
 * none of its calls was caught: a process with no headroom counts as one hit, once. */
void manager_hits_observe(Manager *m, WatchedUnit *u, ProcState *p);

/* Returns true while U counts as at the limit: held, or a hit less than CRASH_LOOP_CLEAN_USEC ago. */
bool manager_hits_recent(const WatchedUnit *u);

/* The level U shows: critical while manager_hits_recent(), else LEVEL (that of its worst process). */
Level manager_hits_unit_level(const WatchedUnit *u, Level level);
