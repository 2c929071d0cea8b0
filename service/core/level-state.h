/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the daemon keeps in its runtime directory ($RUNTIME_DIRECTORY, kept across restarts by
 * RuntimeDirectoryPreserve=restart) so that a restarted mapguardd knows what it already announced:
 * the processes at warning or critical, and the "live limit below the tuned one" pair it logged. A
 * restart then neither repeats a warning nor misses a recovery, or an exit, in between. A process is
 * the same only with the same pid and start time. Pure logic: no logging. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "level.h"

typedef struct SavedLevel {
        pid_t pid;
        uint64_t start_time; /* /proc/PID/stat field 22 */
        Level level;
        unsigned map_count; /* at its last read */
        char unit[256];     /* its watched unit (systemd's names are at most 255 bytes) */
        char comm[16];      /* as the process named itself (valid UTF-8); escaped in the file */
        bool matched;       /* not saved: the new instance found it again */
} SavedLevel;

/* A unit's limit hits and exits (crash-loop.h), which LimitHits and LimitExits count across restarts. */
typedef struct SavedHits {
        char unit[256];
        uint64_t hits, exits;
        uint64_t last_hit_usec; /* CLOCK_REALTIME */
        char last_exit[32];     /* "exited 1", ...; escaped in the file */
} SavedHits;

typedef struct LevelState {
        SavedLevel *levels; /* sorted by pid */
        size_t n_levels;
        SavedHits *hits; /* in file order */
        size_t n_hits;
        /* The (live, tuned) pair of the last "live limit below the tuned one" entry; 0, 0 for none. */
        unsigned below_tuned_live, below_tuned_tuned;
} LevelState;

/* Writes S to PATH, replacing it at once (write_file_atomic()). The levels need not be sorted.
 * Returns 0 or -errno. */
int level_state_save(const char *path, const LevelState *s);

/* Reads PATH into *RET (levels sorted by pid). A line that cannot be parsed is skipped, each entry
 * stands on its own: the first such line's number is in *RET_BAD_LINE (0 when all were good).
 * Returns 0; -ENOENT when there is no file; -EBADMSG when it is not such a file (another first line);
 * other -errno. Out-parameters untouched on failure. */
int level_state_load(const char *path, LevelState *ret, unsigned *ret_bad_line);

/* The same on the text of such a file: the LEN bytes of BUF, which must be NUL-terminated after them
 * (BUF[LEN] == 0) and is cut into lines in place. Same returns (-EINVAL for a BUF not so terminated). */
int level_state_parse(char *buf, size_t len, LevelState *ret, unsigned *ret_bad_line);

void level_state_done(LevelState *s);

/* The hits entry of UNIT in S, NULL when none. */
SavedHits *level_state_find_hits(const LevelState *s, const char *unit);

/* The entry of PID in S, NULL when none. */
SavedLevel *level_state_find(const LevelState *s, pid_t pid);
