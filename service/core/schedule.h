/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "level.h"

/* The adaptive scheduler: how long until a process is read again.
 *
 * The rule: a process is read again after at most SLOW_USEC ([Scan] IntervalSec), so no crossing is
 * seen later than a fixed-interval scan would see it. It is read sooner when it could cross its next
 * threshold (warning, then critical, then the limit) before that: after half the time it needs to
 * get there at its observed growth, and after SLOW_USEC / 8 when it is within 2 % of the limit's
 * worth of maps of that threshold whatever its growth. A young process, read fewer than
 * SCHEDULE_YOUNG_READINGS times, has no trend yet and may grow at once (a service that maps its data
 * as it starts, an instance of a crash loop that lives a few seconds): it is read again after
 * SLOW_USEC / 16, / 8, / 4, / 2, so that its first SLOW_USEC holds five reads instead of one. Never
 * sooner than SLOW_USEC / SCHEDULE_FAST_DIVISOR (and 100 ms): the fastest cadence, the one a
 * fixed-interval scanner would need everywhere to see a fast grower as early. */

#define SCHEDULE_FAST_DIVISOR 32
#define SCHEDULE_MIN_USEC UINT64_C(100000)
#define SCHEDULE_YOUNG_READINGS 5U

/* Returns the delay in µs until the next read, within [max(SLOW_USEC / 32, 100 ms), SLOW_USEC]
 * (SLOW_USEC itself when it is below 100 ms). READINGS is how often the process has been read,
 * this read included; GROWTH_PER_MINUTE is in maps per minute. */
uint64_t schedule_interval(uint64_t slow_usec, unsigned readings, unsigned map_count, unsigned max_map_count,
                           Level level, const Thresholds *t, double growth_per_minute);
