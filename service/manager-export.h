/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mapguard.prom for node_exporter's textfile collector: the Manager's numbers through the core's
 * exposition writer (core/exposition.h), written where [Export] TextfileDirectory= says. */

#include "manager.h"

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
