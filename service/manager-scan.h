/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "manager.h"

/* Runs one pass now: re-reads the live and tuned limits, reads due processes (all when FORCE_ALL),
 * updates levels, logs transitions and emits signals; re-arms the scan timer. Returns 0 or -errno. */
int manager_scan(Manager *m, bool force_all);

/* Tells the bus (LevelChanged to unknown) and the journal that P, at warning or critical, left our
 * sight; WHY completes "process N (comm) ...". Nothing for a process below warning. */
void manager_notify_gone(Manager *m, const char *unit, const ProcState *p, const char *why);

/* Tries the BPF backend unless the config says procfs, else uses /proc; says once in the journal why
 * it fell back. Sets m->scan.backend. */
void manager_select_backend(Manager *m);

/* Gives the BPF programs the cgroup ids of the watched units, when they changed: at once when a unit
 * starts or restarts, so that its first failing calls are caught. Returns 0 or -errno. */
int manager_sync_bpf_cgroups(Manager *m);
