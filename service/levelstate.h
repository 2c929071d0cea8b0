/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The levels of processes at warning or critical, kept in a file of the daemon's runtime directory
 * ($RUNTIME_DIRECTORY, kept across restarts by RuntimeDirectoryPreserve=restart), so that a restarted
 * mapguardd knows which processes it already warned about: a restart neither repeats their warning
 * nor misses their recovery. A process is the same only with the same pid and start time. Pure logic:
 * no logging. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "level.h"

typedef struct SavedLevel {
        pid_t pid;
        uint64_t start_time; /* /proc/PID/stat field 22 */
        Level level;
} SavedLevel;

/* Writes the N entries of LEVELS to PATH, replacing it at once (PATH.tmp, then rename()). Returns 0 or
 * -errno. */
int level_state_save(const char *path, const SavedLevel *levels, size_t n);

/* Reads PATH into a malloc'd array sorted by pid (NULL when empty). Returns 0; -ENOENT when there is
 * no file; -EBADMSG when it is not such a file or a line is garbled (the whole file is then not to be
 * trusted); other -errno. Out-parameters untouched on failure. */
int level_state_load(const char *path, SavedLevel **ret, size_t *ret_n);

/* The entry of PID in LEVELS (sorted, N entries), NULL when none. */
const SavedLevel *level_state_find(const SavedLevel *levels, size_t n, pid_t pid);
