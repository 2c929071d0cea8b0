/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "level.h"

/* The structured entries of mapguardd: one MESSAGE_ID per kind (messages.h), MAPGUARD_* fields. */

/* What the structured entries say about one process. */
typedef struct JournalProc {
        const char *unit;
        pid_t pid;
        const char *comm;
        unsigned map_count;
        unsigned max_map_count;
        unsigned headroom;
        Level old_level;
        Level new_level;
} JournalProc;

/* One entry per level transition of a process: warning (PRIORITY=4) or critical (2) going up,
 * recovered (5) going down, with MAPGUARD_* fields and OBJECT_PID so that `journalctl -u UNIT`
 * shows it. Returns 0 or -errno from sd-journal. */
int journal_level_changed(const JournalProc *p);
/* The live vm.max_map_count changed (PRIORITY=5). */
int journal_limit_changed(unsigned old_max, unsigned new_max);
/* The live value is below what the sysctl.d files ask for (PRIORITY=4). */
int journal_below_tuned(unsigned live_max, unsigned tuned_max, const char *source);
