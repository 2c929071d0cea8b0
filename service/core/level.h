/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How a process's level follows its map count against vm.max_map_count: thresholds and hysteresis.
 * Pure logic. The levels and their names are lib/level-name.h's. */

#include "level-name.h"

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
