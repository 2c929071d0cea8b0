/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* One pass of the Manager: the limits, each watched unit's processes read through the chosen backend,
 * levels and trends, and what is announced about them. */

#include "manager.h"

/* Runs one pass now: re-reads the live and tuned limits, reads due processes (all when FORCE_ALL),
 * updates levels, logs transitions and emits signals; re-arms the scan timer. Returns 0 or -errno. */
int manager_scan(Manager *m, bool force_all);

/* Returns true when the next pass reads every process: IntervalSec has passed since the last full one. */
bool manager_scan_full_due(const Manager *m);

/* Tries the BPF backend unless the config says procfs, else uses /proc; says once in the journal why
 * it fell back. Sets m->scan.backend. */
void manager_select_backend(Manager *m);

/* Gives the BPF programs the cgroup ids of the watched units, when they changed: at once when a unit
 * starts or restarts, so that its first failing calls are caught. Returns 0 or -errno. */
int manager_sync_bpf_cgroups(Manager *m);
