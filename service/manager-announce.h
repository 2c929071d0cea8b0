/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Telling the world about what the Manager found: the journal entries (journal.c), the bus signals
 * (LevelChanged, LimitHit, PropertiesChanged, InterfacesAdded/Removed) and what is kept for a restart
 * (m->levels.dirty). One place per event: a pass, a hit or an exit calls one function here. A unit
 * crash-looping past its summary is quiet (crash-loop.h): counted and signalled, not journaled. Every
 * function is a no-op for the bus when there is none; errors are logged, never returned. */

#include <stdbool.h>
#include <stdint.h>

#include "journal.h"
#include "manager.h"

/* Which of a unit's properties changed: PropertiesChanged names exactly those. */
typedef struct UnitChangedMask {
        bool level, processes, worst_pid, map_count, peak_map_count, headroom, growth_per_minute,
                seconds_to_limit, limit_hits, limit_exits, systemd_unit;
} UnitChangedMask;

/* P of U went from OLD to P->level: announced when it is one worth telling, into or out of warning or
 * critical (unknown -> ok, a new process's first reading, is not). */
void manager_announce_level(Manager *m, WatchedUnit *u, const ProcState *p, Level old);

/* P, of the unit named UNIT, left our sight (WHY completes "process N (comm) ..."): when it was at warning
 * or critical, LevelChanged to unknown and an info line. Not a "recovered" entry: it did not recover, and
 * the service's own log says how it ended. Nothing for a process below warning. */
void manager_announce_gone(Manager *m, const char *unit, const ProcState *p, const char *why);

/* A limit hit of P in U, as the crash loop said to TELL it: CALLS failed calls of SYSCALL with ERRNO_NAME
 * (caught), or with SYSCALL NULL a read that found P with no headroom (observed). */
void manager_announce_hit(Manager *m, WatchedUnit *u, const ProcState *p, const char *syscall,
                          const char *errno_name, uint64_t calls, CrashLoopTell tell);

/* An exit attributed to a hit, E, as the crash loop said to TELL it; U is E's unit when still watched
 * (its LimitExits changed), NULL otherwise. */
void manager_announce_exit(Manager *m, WatchedUnit *u, const JournalExit *e, CrashLoopTell tell);

/* The live limit changed from OLD to NEW. */
void manager_announce_limit_changed(Manager *m, unsigned old, unsigned new);
/* The live limit is below the TUNED one that SOURCE asks for: told once per (live, tuned) pair. */
void manager_announce_below_tuned(Manager *m, unsigned tuned, const char *source);

/* A unit object appeared or is about to go (InterfacesAdded/Removed, and WatchedUnits changed). */
void manager_announce_unit_added(Manager *m, WatchedUnit *u);
void manager_announce_unit_removed(Manager *m, WatchedUnit *u);
/* PropertiesChanged for what CHANGED of U. */
void manager_announce_unit_changed(Manager *m, WatchedUnit *u, const UnitChangedMask *changed);
/* PropertiesChanged for the Manager's PROPERTY. */
void manager_announce_property(Manager *m, const char *property);
