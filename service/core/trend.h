/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How fast a process's map count grows, from its last few samples. Pure logic. */

#include <stdbool.h>
#include <stdint.h>

#include "schedule.h"

#define TREND_SAMPLES 8

/* The honesty rule. A process is read in quick succession while it is young (its first
 * SCHEDULE_YOUNG_READINGS = 5 readings, schedule.h), which is also when services map their data: a process
 * that maps at start and then stays flat gives a window of a steep start and a flat tail, whose Theil-Sen
 * slope reads as fast growth
 * (+33996/min two seconds after the start) until enough flat readings outvote it. So growth is published
 * only once the window rests on readings taken at the steady cadence: it no longer holds any of the first
 * TREND_YOUNG_READINGS, which happens at reading TREND_SETTLED_READINGS (about 90 s after mapguardd first
 * sees the process at the default 10 s interval, the window then spanning 70 s). Until then the growth is
 * 0 and there is no time to the limit: a prediction that does not exist is not shown, not exported and
 * cannot fire an alert. The level, which needs no trend, is not affected. */
#define TREND_YOUNG_READINGS SCHEDULE_YOUNG_READINGS
#define TREND_SETTLED_READINGS (TREND_YOUNG_READINGS + TREND_SAMPLES)

/* A ring of the last TREND_SAMPLES (time, count) samples. Zero-initialise before use. */
typedef struct Trend {
        uint64_t t_usec[TREND_SAMPLES];
        unsigned count[TREND_SAMPLES];
        unsigned n, next;
        unsigned readings; /* all samples ever added, saturating at TREND_SETTLED_READINGS */
} Trend;

/* Records a sample taken at NOW_USEC (any monotonic clock, µs), dropping the oldest when full. */
void trend_add(Trend *t, uint64_t now_usec, unsigned map_count);

/* Returns true once the window holds none of the young readings (the rule above). */
bool trend_settled(const Trend *t);

/* Returns the growth in maps per minute over the window: the Theil-Sen estimate (median of the slopes
 * between every pair of samples), so one noisy sample cannot swing it. 0.0 until trend_settled(), or
 * when all samples share one time stamp. */
double trend_growth_per_minute(const Trend *t);

/* Returns the seconds until MAP_COUNT reaches MAX_MAP_COUNT at the current growth, rounded up:
 * 0 when already at or over the limit (a fact, not a prediction: also before trend_settled()), UINT64_MAX
 * when not growing (growth <= 0, which includes "no trend yet"), and at most
 * UINT64_MAX - 1 otherwise, so that UINT64_MAX keeps meaning "not growing". */
uint64_t trend_seconds_to_limit(const Trend *t, unsigned map_count, unsigned max_map_count);
