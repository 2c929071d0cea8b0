/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "level.h"

/* count >= percent % of max, exactly: count * 100 >= percent * max. */
static bool at_or_above(unsigned count, unsigned max, unsigned percent) {
        return (uint64_t) count * 100 >= (uint64_t) percent * max;
}

/* Still holding a level crossed at PERCENT: not yet HYSTERESIS points below it. With nothing below
 * the line (hysteresis >= percent) only a count of 0 lets go. */
static bool holds(unsigned count, unsigned max, unsigned percent, unsigned hysteresis) {
        if (hysteresis >= percent)
                return count > 0;
        return at_or_above(count, max, percent - hysteresis);
}

Level level_next(Level old, unsigned map_count, unsigned max_map_count, const Thresholds *t) {
        assert(t);

        if (max_map_count == 0)
                return LEVEL_UNKNOWN;

        if (at_or_above(map_count, max_map_count, t->critical_percent))
                return LEVEL_CRITICAL;
        if (old == LEVEL_CRITICAL &&
            holds(map_count, max_map_count, t->critical_percent, t->hysteresis_percent))
                return LEVEL_CRITICAL;

        if (at_or_above(map_count, max_map_count, t->warning_percent))
                return LEVEL_WARNING;
        if ((old == LEVEL_WARNING || old == LEVEL_CRITICAL) &&
            holds(map_count, max_map_count, t->warning_percent, t->hysteresis_percent))
                return LEVEL_WARNING;

        return LEVEL_OK;
}
