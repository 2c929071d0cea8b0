/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "explain-advice.h"
#include "explain-read.h"
#include "log.h"
#include "manager-announce.h"
#include "manager-export.h"
#include "manager-units.h"
#include "max-map-count.h"
#include "procfs.h"

/* Signals go out only once our objects are on the bus. */
static bool bus_ready(const Manager *m) {
        return m->bus && m->slots.manager_object;
}

static bool unit_quiet(const WatchedUnit *u) {
        return u && crash_loop_quiet(&u->crash_loop, now_usec(CLOCK_REALTIME));
}

static void emit_level_changed(Manager *m, const char *unit, const ProcState *p, Level old, Level new) {
        int r;

        if (!bus_ready(m))
                return;
        r = sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "LevelChanged", "susssuu",
                               unit, (uint32_t) p->pid, p->comm, level_to_string(old), level_to_string(new),
                               p->map_count, m->limits.live);
        if (r < 0)
                log_warning_errno(r, "Failed to emit LevelChanged for %s pid %d: %m", unit, (int) p->pid);
}

/* What the maps of P are, when it went up to warning or critical: read once (explain_process() costs
 * about 45 ms at 65,000 maps, so never on every pass) and kept as U's cause. Returns 0 with the
 * explanation in *RET, or -errno when P cannot be explained (gone, no mm, no access): its entry goes out
 * without it. */
static int explain_level_up(Manager *m, WatchedUnit *u, const ProcState *p, Explain **ret) {
        _cleanup_(explain_freep) Explain *e = NULL;
        ProcSample after;
        int r;

        r = explain_process(m->root, p->pid, &e);
        if (r < 0)
                return r;
        /* The pid may have been taken by another process since the pass read it. */
        r = proc_sample_identity(m->root, p->pid, &after);
        if (r < 0)
                return r;
        if (after.start_time != p->start_time)
                return -ESRCH;
        u->cause.known = true;
        u->cause.verdict = e->verdict;
        *ret = TAKE_PTR(e);
        return 0;
}

void manager_announce_level(Manager *m, WatchedUnit *u, const ProcState *p, Level old) {
        _cleanup_(explain_freep) Explain *e = NULL;
        _cleanup_free_ char *summary = NULL;
        const ExplainGroup *top = NULL;
        int r;

        if (old == p->level || (old < LEVEL_WARNING && p->level < LEVEL_WARNING))
                return;
        m->levels.dirty = true;

        /* A unit crash-looping at the limit past its summary: its level entries are quiet too. */
        if (!unit_quiet(u)) {
                if (p->level > old && p->level >= LEVEL_WARNING) {
                        r = explain_level_up(m, u, p, &e);
                        if (r >= 0)
                                r = explain_summary(e, &summary);
                        if (r < 0) {
                                log_debug_errno(r, "Failed to explain the maps of %s pid %d: %m", u->name,
                                                (int) p->pid);
                                e = explain_free(e);
                        } else
                                top = explain_top_group(e);
                }
                r = journal_level_changed(&(JournalProc){
                        .unit = u->name,
                        .identity = &u->identity,
                        .pid = p->pid,
                        .comm = p->comm,
                        .map_count = p->map_count,
                        .max_map_count = m->limits.live,
                        .headroom = max_map_count_headroom(p->map_count, m->limits.live),
                        .old_level = old,
                        .new_level = p->level,
                        .cause = e ? explain_verdict_to_string(e->verdict) : NULL,
                        .top_source = top ? top->source : "",
                        .summary = summary,
                });
                if (r < 0)
                        log_warning_errno(r, "Failed to write the journal entry for %s pid %d: %m", u->name,
                                          (int) p->pid);
        }
        emit_level_changed(m, u->name, p, old, p->level);
}

void manager_announce_gone(Manager *m, const char *unit, const ProcState *p, const char *why) {
        char comm[64];

        if (p->level < LEVEL_WARNING)
                return;
        m->levels.dirty = true;
        escape_printable_buf(comm, sizeof(comm), p->comm, 0);
        /* A unit crash-looping past its summary: every cycle's process goes, said only at debug level. */
        log_full(unit_quiet(manager_find_unit(m, unit)) ? LOG_DEBUG : LOG_INFO,
                 "%s: process %d (%s) %s; it was at %s with %u memory maps.", unit, (int) p->pid, comm, why,
                 level_to_string(p->level), p->map_count);
        emit_level_changed(m, unit, p, p->level, LEVEL_UNKNOWN);
}

void manager_announce_hit(Manager *m, WatchedUnit *u, const ProcState *p, const char *syscall,
                          const char *errno_name, uint64_t calls, CrashLoopTell tell) {
        int r;

        m->levels.dirty = true; /* the counters are kept across restarts */
        if (tell == CRASH_LOOP_TELL_FULL) {
                r = journal_limit_hit(&(JournalHit){
                        .unit = u->name,
                        .identity = &u->identity,
                        .pid = p->pid,
                        .comm = p->comm,
                        .map_count = p->map_count,
                        .max_map_count = m->limits.live,
                        .syscall = syscall,
                        .errno_name = errno_name,
                        .hits = calls,
                        .evidence = syscall ? "caught" : "observed",
                });
                if (r < 0)
                        log_warning_errno(r, "Failed to write the limit hit entry for %s pid %d: %m",
                                          u->name, (int) p->pid);
        }
        if (bus_ready(m)) {
                r = sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "LimitHit", "sussuu",
                                       u->name, (uint32_t) p->pid, p->comm, syscall ? syscall : "",
                                       p->map_count, m->limits.live);
                if (r < 0)
                        log_warning_errno(r, "Failed to emit LimitHit for %s pid %d: %m", u->name,
                                          (int) p->pid);
        }
        manager_announce_unit_changed(m, u, &(UnitChangedMask){ .limit_hits = true });
        manager_export_soon(m);
}

void manager_announce_exit(Manager *m, WatchedUnit *u, const JournalExit *e, CrashLoopTell tell) {
        int r = 0;

        if (u) {
                m->levels.dirty = true;
                manager_announce_unit_changed(m, u, &(UnitChangedMask){ .limit_exits = true });
                manager_export_soon(m);
        }
        if (tell == CRASH_LOOP_TELL_FULL)
                r = journal_limit_exit(e);
        else if (tell == CRASH_LOOP_TELL_SUMMARY && u)
                r = journal_crash_loop(e->unit, e->identity, u->crash_loop.loop_exits,
                                       u->crash_loop.loop_start_usec, u->crash_loop.hits, e->max_map_count);
        if (r < 0)
                log_warning_errno(r, "Failed to write the exit entry for %s pid %d: %m", e->unit,
                                  (int) e->pid);
}

void manager_announce_limit_changed(Manager *m, unsigned old, unsigned new) {
        int r;

        if (old != 0) {
                r = journal_limit_changed(old, new);
                if (r < 0)
                        log_warning_errno(r, "Failed to write the journal entry for the limit change: %m");
        }
        manager_announce_property(m, "MaxMapCount");
}

void manager_announce_below_tuned(Manager *m, unsigned tuned, const char *source) {
        int r;

        if (m->limits.below_tuned_logged_live == m->limits.live &&
            m->limits.below_tuned_logged_tuned == tuned)
                return;
        r = journal_below_tuned(m->limits.live, tuned, source);
        if (r < 0)
                log_warning_errno(r, "Failed to write the journal entry for the tuned limit: %m");
        m->limits.below_tuned_logged_live = m->limits.live;
        m->limits.below_tuned_logged_tuned = tuned;
        m->levels.dirty = true; /* kept, so that a restart does not log it again */
}

void manager_announce_unit_added(Manager *m, WatchedUnit *u) {
        int r;

        if (!bus_ready(m))
                return;
        r = sd_bus_emit_object_added(m->bus, u->object_path);
        if (r < 0)
                log_debug_errno(r, "Failed to announce %s on the bus: %m", u->object_path);
        manager_announce_property(m, "WatchedUnits");
}

void manager_announce_unit_removed(Manager *m, WatchedUnit *u) {
        int r;

        if (!bus_ready(m))
                return;
        r = sd_bus_emit_object_removed(m->bus, u->object_path);
        if (r < 0)
                log_debug_errno(r, "Failed to announce the removal of %s on the bus: %m", u->object_path);
        manager_announce_property(m, "WatchedUnits");
}

void manager_announce_unit_changed(Manager *m, WatchedUnit *u, const UnitChangedMask *c) {
        const struct {
                bool changed;
                const char *names[2];
        } table[] = {
                { c->level, { "Level" } },
                { c->processes, { "Processes" } },
                { c->worst_pid, { "WorstPID" } },
                { c->map_count, { "MapCount" } },
                { c->peak_map_count, { "PeakMapCount" } },
                { c->headroom, { "Headroom" } },
                { c->growth_per_minute, { "GrowthPerMinute" } },
                { c->seconds_to_limit, { "SecondsToLimit" } },
                { c->limit_hits, { "LimitHits", "LastLimitHitUSec" } },
                { c->limit_exits, { "LimitExits", "LastExit" } },
                { c->systemd_unit, { "SystemdUnit", "ContainerID" } },
        };
        const char *names[2 * ELEMENTSOF(table) + 1];
        size_t n = 0;
        int r;

        if (!bus_ready(m))
                return;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                for (size_t j = 0; table[i].changed && j < 2 && table[i].names[j]; j++)
                        names[n++] = table[i].names[j];
        if (n == 0)
                return;
        names[n] = NULL;
        r = sd_bus_emit_properties_changed_strv(m->bus, u->object_path, BUS_UNIT_INTERFACE, (char **) names);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged for %s: %m", u->name);
}

void manager_announce_property(Manager *m, const char *property) {
        int r;

        if (!bus_ready(m))
                return;
        r = sd_bus_emit_properties_changed(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, property, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged for %s: %m", property);
}
