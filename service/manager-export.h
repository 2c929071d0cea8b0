/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mapguard.prom for node_exporter's textfile collector: the Manager's numbers through the exposition
 * writer (lib/exposition.h), written where [Export] TextfileDirectory= says: after each full pass, and at
 * once after a limit hit or an exit at the limit. A unit with hits keeps its series for
 * EXPORT_HIT_WINDOW_USEC after it is gone. */

#include "manager.h"

/* How long a gone unit's series stay after its last hit: the window of the shipped alert
 * MapguardUnitLimitHit (increase over 15 min) and of `mapguardctl check --hit-window`'s default. */
#define EXPORT_HIT_WINDOW_USEC (UINT64_C(15) * UINT64_C(60) * UINT64_C(1000000))

/* Writes the file at once, or as soon as 250 ms after the last write have passed (a burst of hits makes
 * one write): a process that hits the limit and dies within a second shows in the metrics. */
void manager_export_soon(Manager *m);

/* U is no longer watched: when it hit the limit less than EXPORT_HIT_WINDOW_USEC ago, its series are kept
 * for the rest of that window. */
void manager_export_unit_departed(Manager *m, const WatchedUnit *u);

/* A unit named NAME is watched (again): its departed series, if any, give way to it. */
void manager_export_unit_back(Manager *m, const char *name);

/* Writes TextfileDirectory/mapguard.prom (below m->root, "" in production) from M's state, atomically (a
 * temporary file in that directory, then rename), mode 0644. Call after each full pass:
 * mapguard_scan_duration_seconds is the time since that pass started (m->scan.last_full_pass_usec). Never
 * fails the caller: a directory that does not exist turns the export off, said once at info level (and once
 * more when it appears); a write that fails is logged once per change of error, and tried again after the
 * next pass. A file written under another directory (the config changed on reload) is removed. */
void manager_export_textfile(Manager *m);

/* Removes the file manager_export_textfile() wrote, if any: on a clean stop, so that node_exporter does
 * not serve numbers nobody updates. (After a crash the file stays; its
 * mapguard_last_scan_timestamp_seconds tells, and the MapguardMetricsStale alert fires.) */
void manager_export_remove(Manager *m);

/* Formats M's state as the exposition written above. Returns 0 with a malloc'd text in *RET, or -ENOMEM. */
int manager_export_format(Manager *m, char **ret);

/* Forgets what the export remembers (without removing the file). */
void manager_export_done(Manager *m);
