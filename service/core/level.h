/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Levels of a process's map count against vm.max_map_count, with hysteresis. Pure logic. */

#include <errno.h>

typedef enum Level {
        LEVEL_UNKNOWN,
        LEVEL_OK,
        LEVEL_WARNING,
        LEVEL_CRITICAL,
        _LEVEL_MAX,
        _LEVEL_INVALID = -EINVAL,
} Level;

/* Returns "unknown", "ok", "warning" or "critical" (the names the D-Bus API and the journal use); NULL if L
 * is invalid. */
const char *level_to_string(Level l);

/* Returns the level named S, _LEVEL_INVALID if S is NULL or not one of the names above. */
Level level_from_string(const char *s);

typedef struct Thresholds {
        unsigned warning_percent, critical_percent, hysteresis_percent;
} Thresholds;

/* Returns the next level of a process given its previous level OLD: up as soon as the count reaches
 * the threshold percentage of MAX_MAP_COUNT; down only once it is hysteresis points below the
 * threshold it had crossed (critical -> warning below critical - hysteresis, and -> ok below
 * warning - hysteresis). Where hysteresis >= threshold there is nothing below the line, so that level
 * is left only when the count reaches 0. Integer math in uint64_t, so no rounding decides a level.
 * MAX_MAP_COUNT == 0 (limit unknown) returns LEVEL_UNKNOWN; an OLD that is not a level counts as
 * LEVEL_UNKNOWN. Thresholds are expected validated (warning < critical) by the config loader. */
Level level_next(Level old, unsigned map_count, unsigned max_map_count, const Thresholds *t);
