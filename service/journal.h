/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "level.h"
#include "unit-identity.h"

/* The structured entries of mapguardd: one MESSAGE_ID per kind (messages.h), MAPGUARD_* fields. */

/* What the structured entries say about one process. */
typedef struct JournalProc {
        const char *unit;             /* the watched name */
        const UnitIdentity *identity; /* what it is; NULL: a system unit of that name */
        pid_t pid;
        const char *comm;
        unsigned map_count;
        unsigned max_map_count;
        unsigned headroom;
        Level old_level;
        Level new_level;
        /* What its maps are (explain.h), for an entry going up to warning or critical; NULL when the
         * process could not be explained: the verdict (MAPGUARD_CAUSE), the source of the verdict's top
         * group (MAPGUARD_TOP_SOURCE; "" for the anonymous group) and explain_summary()'s sentence, which
         * MESSAGE ends with. The source and the sentence hold file names as they are: escaped here. */
        const char *cause;
        const char *top_source;
        const char *summary;
} JournalProc;

/* Every entry about a unit carries MAPGUARD_UNIT, what the unit is (MAPGUARD_USER_UNIT and
 * MAPGUARD_OWNER_UID for a user's unit, MAPGUARD_K8S_NAMESPACE, _POD, _CONTAINER for a Kubernetes
 * container, ...), and OBJECT_SYSTEMD_UNIT (OBJECT_SYSTEMD_USER_UNIT, OBJECT_SYSTEMD_OWNER_UID): what
 * `journalctl -u` and `journalctl --user-unit` match in entries of uid 0. */

/* One entry per level transition of a process: warning (PRIORITY=4) or critical (2) going up,
 * recovered (5) going down, with MAPGUARD_* fields and OBJECT_PID so that `journalctl -u UNIT`
 * shows it; an entry going up with P->cause set also says what the maps are (MAPGUARD_CAUSE,
 * MAPGUARD_TOP_SOURCE, the summary in MESSAGE). Returns 0 or -errno from sd-journal. */
int journal_level_changed(const JournalProc *p);
/* The live vm.max_map_count changed (PRIORITY=5). */
int journal_limit_changed(unsigned old_max, unsigned new_max);
/* The live value is below what the sysctl.d files ask for (PRIORITY=4). */
int journal_below_tuned(unsigned live_max, unsigned tuned_max, const char *source);

/* A limit hit: a mapping call of a watched process failed at vm.max_map_count (caught), or a read found
 * a process with no headroom (observed). */
typedef struct JournalHit {
        const char *unit;
        const UnitIdentity *identity;
        pid_t pid;
        const char *comm;
        unsigned map_count;
        unsigned max_map_count;
        const char *syscall;    /* "mmap", ...; NULL when observed */
        const char *errno_name; /* "ENOMEM", "EAGAIN"; NULL when observed */
        uint64_t hits;          /* failed calls in this burst */
        const char *evidence;   /* "caught" or "observed" */
} JournalHit;

/* One "limit hit" entry (PRIORITY=3) for a burst, with OBJECT_PID and OBJECT_SYSTEMD_UNIT so that
 * `journalctl -u UNIT` shows it. Returns 0 or -errno from sd-journal. */
int journal_limit_hit(const JournalHit *h);

/* A process that exited after a limit hit: the likely cause, not a proof. */
typedef struct JournalExit {
        const char *unit;
        const UnitIdentity *identity;
        pid_t pid;
        const char *comm;
        unsigned map_count; /* at its last read */
        unsigned max_map_count;
        const char *exit_code; /* "exited", "killed", "dumped"; NULL when not known (not the main process) */
        const char *exit_status; /* "1", "SIGKILL"; NULL when not known */
        uint64_t seconds_since_hit;
        const char *syscall; /* of the last hit; NULL when observed */
} JournalExit;

/* One "exit after limit hit" entry (PRIORITY=3). The process is gone: no OBJECT_PID (journald could not
 * resolve it, or would find the process that took the pid since); the unit's OBJECT_SYSTEMD_* fields
 * are set here. Returns 0 or -errno. */
int journal_limit_exit(const JournalExit *e);

/* The one summary of a crash loop (PRIORITY=3): LOOP_EXITS exits at the limit since LOOP_START_USEC
 * (CLOCK_REALTIME); further cycles are counted, not told. Returns 0 or -errno. */
int journal_crash_loop(const char *unit, const UnitIdentity *id, uint64_t loop_exits,
                       uint64_t loop_start_usec, uint64_t hits, unsigned max_map_count);
