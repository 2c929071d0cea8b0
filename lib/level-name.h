/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The levels of a process's map count against vm.max_map_count and their names, as the D-Bus API, the
 * journal, the metrics and mapguardctl spell them. How a level is reached is core/level.h's. */

#include <errno.h>

typedef enum Level {
        LEVEL_UNKNOWN,
        LEVEL_OK,
        LEVEL_WARNING,
        LEVEL_CRITICAL,
        _LEVEL_MAX,
        _LEVEL_INVALID = -EINVAL,
} Level;

/* Returns "unknown", "ok", "warning" or "critical"; NULL if L is invalid. */
const char *level_to_string(Level l);

/* Returns the level named S, _LEVEL_INVALID if S is NULL or not one of the names above. */
Level level_from_string(const char *s);
