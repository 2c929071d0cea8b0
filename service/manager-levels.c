/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager's level store: what a restarted mapguardd must know of the instance before it, kept in
 * $RUNTIME_DIRECTORY/state (level-state.h has the format). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager-announce.h"
#include "manager-levels.h"
#include "manager-units.h"
#include "util.h"

/* What the previous instance left in $RUNTIME_DIRECTORY (systemd sets it from RuntimeDirectory=; the
 * first directory when there are several): the processes it had warned about. */
void manager_levels_load(Manager *m) {
        const char *dir = getenv("RUNTIME_DIRECTORY");
        unsigned bad_line = 0;
        size_t l;
        int r;

        if (!dir || dir[0] != '/')
                return;
        l = strcspn(dir, ":");
        if (asprintf(&m->levels.path, "%.*s/state", (int) l, dir) < 0) {
                m->levels.path = NULL;
                log_warning_errno(-ENOMEM, "Levels will not be kept across a restart: %m");
                return;
        }
        r = level_state_load(m->levels.path, &m->levels.saved, &bad_line);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning_errno(r,
                                  "Failed to read the levels of the previous run from %s, ignoring them: %m",
                                  m->levels.path);
                return;
        }
        if (bad_line > 0)
                log_warning("%s:%u: cannot parse this line, skipped it (and any other bad one).",
                            m->levels.path, bad_line);
        m->limits.below_tuned_logged_live = m->levels.saved.below_tuned_live;
        m->limits.below_tuned_logged_tuned = m->levels.saved.below_tuned_tuned;
        log_debug("%zu processes at warning or critical before the restart, from %s.",
                  m->levels.saved.n_levels, m->levels.path);
}

/* The processes at warning or critical, into *RET. Returns 0 or -ENOMEM. */
static int collect_levels(Manager *m, SavedLevel **ret, size_t *ret_n) {
        _cleanup_free_ SavedLevel *levels = NULL;
        size_t n = 0, allocated = 0;

        for (size_t i = 0; i < m->n_units; i++)
                for (size_t j = 0; j < m->units[i]->n_procs; j++) {
                        const ProcState *p = &m->units[i]->procs[j];

                        if (p->level < LEVEL_WARNING)
                                continue;
                        if (ARRAY_RESERVE(levels, allocated, n, 16) < 0)
                                return -ENOMEM;
                        levels[n] = (SavedLevel){ .pid = p->pid,
                                                  .start_time = p->start_time,
                                                  .level = p->level,
                                                  .map_count = p->map_count };
                        snprintf(levels[n].unit, sizeof(levels[n].unit), "%s", m->units[i]->name);
                        memcpy(levels[n].comm, p->comm, sizeof(levels[n].comm));
                        n++;
                }
        *ret = TAKE_PTR(levels);
        *ret_n = n;
        return 0;
}

/* The units that ever hit the limit, into *RET. Returns 0 or -ENOMEM. */
static int collect_hits(Manager *m, SavedHits **ret, size_t *ret_n) {
        _cleanup_free_ SavedHits *hits = NULL;
        size_t n = 0, allocated = 0;

        for (size_t i = 0; i < m->n_units; i++) {
                const WatchedUnit *u = m->units[i];

                if (u->crash_loop.hits == 0 && u->crash_loop.exits == 0)
                        continue;
                if (ARRAY_RESERVE(hits, allocated, n, 8) < 0)
                        return -ENOMEM;
                hits[n] = (SavedHits){ .hits = u->crash_loop.hits,
                                       .exits = u->crash_loop.exits,
                                       .last_hit_usec = u->crash_loop.last_hit_usec };
                snprintf(hits[n].unit, sizeof(hits[n].unit), "%s", u->name);
                snprintf(hits[n].last_exit, sizeof(hits[n].last_exit), "%s", u->crash_loop.last_exit);
                n++;
        }
        /* Those of units not watched now (stopped meanwhile) are kept for when they come back. */
        for (size_t i = 0; i < m->levels.saved.n_hits; i++) {
                if (manager_find_unit(m, m->levels.saved.hits[i].unit))
                        continue;
                if (ARRAY_RESERVE(hits, allocated, n, 8) < 0)
                        return -ENOMEM;
                hits[n++] = m->levels.saved.hits[i];
        }
        *ret = TAKE_PTR(hits);
        *ret_n = n;
        return 0;
}

void manager_levels_save(Manager *m) {
        _cleanup_free_ SavedLevel *levels = NULL;
        _cleanup_free_ SavedHits *hits = NULL;
        size_t n = 0, n_hits = 0;
        int r;

        if (!m->levels.path) {
                m->levels.dirty = false;
                return;
        }
        if (collect_levels(m, &levels, &n) < 0 || collect_hits(m, &hits, &n_hits) < 0) {
                log_warning_errno(-ENOMEM, "Failed to keep the levels for a restart: %m");
                return; /* still dirty: tried again after the next pass */
        }

        r = level_state_save(m->levels.path,
                             &(LevelState){
                                     .levels = levels,
                                     .n_levels = n,
                                     .hits = hits,
                                     .n_hits = n_hits,
                                     .below_tuned_live = m->limits.below_tuned_logged_live,
                                     .below_tuned_tuned = m->limits.below_tuned_logged_tuned,
                             });
        /* Said when the error changes, not on every pass. */
        if (r < 0 && r != m->levels.error)
                log_warning_errno(r, "Failed to write %s, a restart will announce levels again: %m",
                                  m->levels.path);
        m->levels.error = r < 0 ? r : 0;
        m->levels.dirty = r < 0;
}

void manager_levels_restore_hits(Manager *m, WatchedUnit *u) {
        const SavedHits *h = level_state_find_hits(&m->levels.saved, u->name);

        if (!h)
                return;
        u->crash_loop.hits = h->hits;
        u->crash_loop.exits = h->exits;
        u->crash_loop.last_hit_usec = h->last_hit_usec;
        snprintf(u->crash_loop.last_exit, sizeof(u->crash_loop.last_exit), "%s", h->last_exit);
}

/* After the first full pass of a restarted daemon: a process the previous instance had at warning or
 * critical that is not there any more (it exited, its pid went to another process, its unit is no
 * longer watched) left that level while nobody watched. Said as for a process that goes while we
 * watch (manager_announce_gone()): clients that track levels learn it. */
void manager_levels_report_unmatched(Manager *m) {
        for (size_t i = 0; i < m->levels.saved.n_levels; i++) {
                const SavedLevel *l = &m->levels.saved.levels[i];
                ProcState p = { .pid = l->pid, .level = l->level, .map_count = l->map_count };

                if (l->matched)
                        continue;
                memcpy(p.comm, l->comm, sizeof(p.comm));
                manager_announce_gone(m, l->unit, &p,
                                      "is gone, or no longer watched, since mapguardd restarted");
        }
}
