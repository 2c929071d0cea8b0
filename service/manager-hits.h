/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Catching limit hits in the kernel (HitDetection "caught"): the limit-hit program that the BPF loader
 * loads beside the task iterator (bpf-hits.h), its ring buffer in the event loop, bursts of failed
 * calls grouped (limit-hit.h) and handed to the wall (manager-wall.h). Without it hits are observed by
 * the scan (manager_wall_observe()). */

#include <stdbool.h>

#include "manager.h"

/* Takes the limit-hit program from the BPF counter, when there is one, and puts its ring buffer in the
 * event loop; says in the journal how calls are caught, or why they are not. Sets
 * m->scan.hit_detection. Returns 0, or -errno for a failure of the loop itself (logged). */
int manager_hits_start(Manager *m);

/* Stops catching (before the BPF counter goes), handing over the bursts still open. */
void manager_hits_stop(Manager *m);

/* After the watched cgroups or the live limit changed: attaches the program while some cgroup is
 * watched (the tracepoint way slows every syscall while attached), and tells it the limit. */
void manager_hits_sync(Manager *m, size_t n_cgroups);

/* Reads what the kernel queued, then hands over at once the open burst of every process: before an exit
 * or an emptied cgroup is judged, which needs to know whether the unit is at the wall. */
void manager_hits_flush(Manager *m);
