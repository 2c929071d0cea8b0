/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "manager.h"

/* Which of a unit's properties changed in a pass: PropertiesChanged names exactly those. */
typedef struct UnitChangedMask {
        bool level, processes, worst_pid, map_count, peak_map_count, headroom, growth_per_minute,
                seconds_to_limit, limit_hits, limit_exits;
} UnitChangedMask;

/* Registers the Manager object, the unit objects (fallback + enumerator) and the object manager on
 * m->bus. Returns 0 or -errno. */
int manager_bus_register(Manager *m);
/* Drops the object slots (before the bus goes away). */
void manager_bus_detach(Manager *m);

/* Signals to clients; all are no-ops without a bus. Errors are logged, never fatal. */
void manager_bus_unit_added(Manager *m, WatchedUnit *u);
void manager_bus_unit_removed(Manager *m, WatchedUnit *u);
void manager_bus_unit_changed(Manager *m, WatchedUnit *u, const UnitChangedMask *changed);
void manager_bus_manager_changed(Manager *m, const char *property);
/* LevelChanged for P of UNIT, which went from OLD to P->level. */
void manager_bus_emit_level_changed(Manager *m, const char *unit, const ProcState *p, Level old);
/* LimitHit for P of UNIT: SYSCALL failed at the limit ("" when a read found it there). */
void manager_bus_emit_limit_hit(Manager *m, const char *unit, const ProcState *p, const char *syscall);
