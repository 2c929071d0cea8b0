/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "schedule.h"

/* The map count at which a process enters the level above LEVEL. */
static uint64_t next_threshold(Level level, unsigned max_map_count, const Thresholds *t) {
        switch (level) {
        case LEVEL_UNKNOWN:
        case LEVEL_OK:
                return ((uint64_t) max_map_count * t->warning_percent + 99) / 100;
        case LEVEL_WARNING:
                return ((uint64_t) max_map_count * t->critical_percent + 99) / 100;
        default:
                return max_map_count;
        }
}

uint64_t schedule_interval(uint64_t slow_usec, unsigned readings, unsigned map_count, unsigned max_map_count,
                           Level level, const Thresholds *t, double growth_per_minute) {
        uint64_t fast = slow_usec / SCHEDULE_FAST_DIVISOR, interval = slow_usec, target, distance;

        if (fast < SCHEDULE_MIN_USEC)
                fast = SCHEDULE_MIN_USEC;
        if (fast >= slow_usec || max_map_count == 0)
                return slow_usec;

        target = next_threshold(level, max_map_count, t);
        distance = target > map_count ? target - map_count : 0;

        if (distance * 100 <= (uint64_t) max_map_count * 2)
                interval = slow_usec / 8;

        /* Young: 1 reading -> SLOW / 16, 2 -> / 8, 3 -> / 4, 4 -> / 2. */
        if (readings < SCHEDULE_YOUNG_READINGS) {
                uint64_t young = slow_usec >> (SCHEDULE_YOUNG_READINGS - (readings > 0 ? readings : 1));

                if (young < interval)
                        interval = young;
        }

        if (growth_per_minute > 0.0) {
                double to_cross_usec = (double) distance / growth_per_minute * 60e6;

                if (to_cross_usec / 2 < (double) interval)
                        interval = (uint64_t) (to_cross_usec / 2);
        }

        return interval < fast ? fast : interval;
}
