/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How fast a process's map count grows, from its last few samples. Pure logic. */

#include <stdint.h>

#define TREND_SAMPLES 8

/* A ring of the last TREND_SAMPLES (time, count) samples. Zero-initialise before use. */
typedef struct Trend {
        uint64_t t_usec[TREND_SAMPLES];
        unsigned count[TREND_SAMPLES];
        unsigned n, next;
} Trend;

/* Records a sample taken at NOW_USEC (any monotonic clock, µs), dropping the oldest when full. */
void trend_add(Trend *t, uint64_t now_usec, unsigned map_count);

/* Returns the growth in maps per minute over the window: the Theil-Sen estimate (median of the slopes
 * between every pair of samples), so one noisy sample cannot swing it. 0.0 with fewer than 2 samples
 * or when all samples share one time stamp. */
double trend_growth_per_minute(const Trend *t);

/* Returns the seconds until MAP_COUNT reaches MAX_MAP_COUNT at the current growth, rounded up:
 * 0 when already at or over the limit, UINT64_MAX when not growing (growth <= 0), and at most
 * UINT64_MAX - 1 otherwise, so that UINT64_MAX keeps meaning "not growing". */
uint64_t trend_seconds_to_limit(const Trend *t, unsigned map_count, unsigned max_map_count);
