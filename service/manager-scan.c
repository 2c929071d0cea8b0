/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One pass of the Manager: the limits, each watched unit's processes read through the chosen backend,
 * levels, trends, and what is announced about them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf-counter.h"
#include "manager-bus.h"
#include "cgroup.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "max-map-count.h"
#include "procfs.h"
#include "schedule.h"
#include "util.h"

/* Tries the BPF backend unless the config says procfs; says once in the journal why it fell back. */
void manager_select_backend(Manager *m) {
        _cleanup_free_ char *reason = NULL;
        int r;

        m->bpf = bpf_counter_free(m->bpf);
        m->backend = BACKEND_PROCFS;
        if (m->config->backend == BACKEND_PROCFS) {
                log_info("Reading map counts from /proc (Backend=procfs).");
                return;
        }
        if (m->hierarchy && !strstr(m->hierarchy, "/systemd")) {
                r = bpf_counter_new(&m->bpf, &reason);
                if (r >= 0) {
                        m->backend = BACKEND_BPF;
                        m->bpf_cgroups_dirty = true;
                        log_info("Reading map counts with the BPF task iterator.");
                        return;
                }
        } else
                reason = strdup("the system has no cgroup2 hierarchy to filter by");

        log_full_errno(m->config->backend == BACKEND_BPF ? LOG_WARNING : LOG_NOTICE, 0,
                       "BPF backend unavailable: %s; reading map counts from /proc instead.",
                       reason ? reason : "unknown reason");
}

static int manager_sync_bpf_cgroups(Manager *m) {
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0;
        int r;

        if (!m->bpf || !m->bpf_cgroups_dirty)
                return 0;

        ids = calloc(m->n_units ? m->n_units : 1, sizeof(uint64_t));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                WatchedUnit *u = m->units[i];

                if (u->cgroup_id == 0) {
                        _cleanup_free_ char *dir = NULL;

                        if (asprintf(&dir, "%s%s", m->hierarchy, u->cgroup) < 0)
                                return -ENOMEM;
                        r = cgroup_id_from_path(dir, &u->cgroup_id);
                        if (r < 0) {
                                log_debug_errno(r, "Failed to get the cgroup id of %s: %m", dir);
                                continue;
                        }
                }
                ids[n++] = u->cgroup_id;
        }
        r = bpf_counter_set_cgroups(m->bpf, ids, n);
        if (r < 0)
                return r;
        /* A cgroup whose id could not be read yet is tried again on the next pass. */
        m->bpf_cgroups_dirty = n < m->n_units;
        return 0;
}

static int bpf_count_compare(const void *key, const void *elem) {
        pid_t pid = *(const pid_t *) key;
        const BpfTaskCount *c = elem;
        return pid < (pid_t) c->pid ? -1 : pid > (pid_t) c->pid ? 1 : 0;
}

static int proc_state_compare(const void *key, const void *elem) {
        pid_t pid = *(const pid_t *) key;
        const ProcState *p = elem;
        return pid < p->pid ? -1 : pid > p->pid ? 1 : 0;
}

/* Announces a process's level change on the bus and in the journal, when it is one worth telling:
 * into or out of warning/critical. unknown -> ok, a new process's first reading, is not. */
static void manager_notify_level(Manager *m, WatchedUnit *u, const ProcState *p, Level old) {
        JournalProc jp = {
                .unit = u->name,
                .pid = p->pid,
                .comm = p->comm,
                .map_count = p->map_count,
                .max_map_count = m->max_map_count,
                .headroom = max_map_count_headroom(p->map_count, m->max_map_count),
                .old_level = old,
                .new_level = p->level,
        };
        int r;

        if (old == p->level || (old < LEVEL_WARNING && p->level < LEVEL_WARNING))
                return;
        m->levels_dirty = true;

        r = journal_level_changed(&jp);
        if (r < 0)
                log_warning_errno(r, "Failed to write the journal entry for %s pid %d: %m", u->name,
                                  (int) p->pid);
        manager_bus_emit_level_changed(m, u->name, p, old);
}

/* Reads one process: from the BPF pass when it has it, else from /proc. Returns 0, or -errno for a
 * process to skip (gone, no mm, no access). */
static int manager_read_proc(Manager *m, pid_t pid, const BpfTaskCount *bpf, const ProcState *old,
                             ProcSample *ret) {
        int r;

        if (bpf) {
                /* In clock ticks, as /proc/PID/stat has it (the kernel rounds down the same way), so that
                 * a process read once through /proc and once through BPF stays the same process. */
                long hz = sysconf(_SC_CLK_TCK);
                uint64_t start_time =
                        bpf->start_time_ns / (UINT64_C(1000000000) / (uint64_t) (hz > 0 ? hz : 100));

                /* Identity from /proc only for processes we have not seen: the pass already gave the
                 * count, and its start time tells a reused pid apart. */
                if (old && old->start_time == start_time) {
                        *ret = (ProcSample){ .pid = pid,
                                             .start_time = old->start_time,
                                             .map_count = bpf->map_count };
                        memcpy(ret->comm, bpf->comm, sizeof(ret->comm));
                        return 0;
                }
                ProcSample s;

                r = proc_sample_identity(m->root, pid, &s);
                if (r < 0)
                        return r;
                if (s.start_time != start_time)
                        return -ESRCH; /* the pid was reused since the pass */
                s.map_count = bpf->map_count;
                memcpy(s.comm, bpf->comm, sizeof(s.comm));
                *ret = s;
                return 0;
        }
        return proc_sample_count(m->root, pid, ret);
}

/* The worst of two processes: the higher level (hysteresis can hold a smaller count at a higher
 * level), then the higher count. */
static bool proc_is_worse(const ProcState *a, const ProcState *b) {
        if (a->level != b->level)
                return a->level > b->level;
        return a->map_count > b->map_count;
}

static void unit_recompute(Manager *m, WatchedUnit *u) {
        const ProcState *worst = NULL, *soonest = NULL;
        uint64_t soonest_s = UINT64_MAX;

        for (size_t i = 0; i < u->n_procs; i++) {
                const ProcState *p = &u->procs[i];

                if (!worst || proc_is_worse(p, worst))
                        worst = p;
                if (p->seconds_to_limit < soonest_s) {
                        soonest_s = p->seconds_to_limit;
                        soonest = p;
                }
        }

        u->level = worst ? worst->level : LEVEL_UNKNOWN;
        u->worst_pid = worst ? worst->pid : 0;
        u->map_count = worst ? worst->map_count : 0;
        /* A unit without processes has the whole limit ahead of it. */
        u->headroom = worst ? max_map_count_headroom(worst->map_count, m->max_map_count) : m->max_map_count;
        for (size_t i = 0; i < u->n_procs; i++)
                if (u->procs[i].map_count > u->peak_map_count)
                        u->peak_map_count = u->procs[i].map_count;
        if (u->peak_map_count > m->peak_map_count)
                m->peak_map_count = u->peak_map_count;
        /* The unit's trend is that of the process that reaches the limit first, or else the worst's. */
        if (!soonest)
                soonest = worst;
        u->growth_per_minute = soonest ? soonest->growth_per_minute : 0.0;
        u->seconds_to_limit = soonest_s;
}

/* A process that was at warning or critical and is gone (exited, or its pid now belongs to another
 * process): clients that track levels learn it left that level. Not a "recovered" entry: it did not
 * recover, and the service's own log says how it ended. */
void manager_notify_gone(Manager *m, const char *unit, const ProcState *p, const char *why) {
        char comm[64];

        if (p->level < LEVEL_WARNING)
                return;
        m->levels_dirty = true;
        strcpy_printable(comm, sizeof(comm), p->comm);
        log_info("%s: process %d (%s) %s; it was at %s with %u memory maps.", unit, (int) p->pid, comm, why,
                 level_to_string(p->level), p->map_count);
        ProcState gone = *p;
        gone.level = LEVEL_UNKNOWN;
        manager_bus_emit_level_changed(m, unit, &gone, p->level);
}

/* Reads what it can of PID into P, a fresh or OLD state. Returns 0, or -errno for a process that is
 * not there (gone, reused, without an mm): it is left out. A process that cannot be read (no
 * access) is kept, at level unknown, so that the unit does not look empty. */
static int manager_update_proc(Manager *m, WatchedUnit *u, pid_t pid, const BpfTaskCount *b,
                               const ProcState *old, uint64_t now, ProcState *p) {
        Thresholds t = manager_thresholds(m);
        ProcSample s;
        Level prev;
        int r;

        r = manager_read_proc(m, pid, b, old, &s);
        if (r == -ESRCH || r == -ENOENT || r == -ENODATA) {
                log_debug_errno(r, "Skipping pid %d of %s: %m", (int) pid, u->name);
                return r;
        }
        if (r < 0) {
                /* Said once per unit, so that a missing capability does not flood the journal. */
                if (!u->read_error_logged)
                        log_warning_errno(r, "Failed to read the memory maps of pid %d of %s: %m", (int) pid,
                                          u->name);
                u->read_error_logged = true;
                *p = (ProcState){ .pid = pid,
                                  .level = LEVEL_UNKNOWN,
                                  .seconds_to_limit = UINT64_MAX,
                                  .next_read_usec = now + m->config->interval_usec };
                if (proc_sample_identity(m->root, pid, &s) >= 0) {
                        memcpy(p->comm, s.comm, sizeof(p->comm));
                        p->start_time = s.start_time;
                }
                return 0;
        }

        if (old && old->start_time == s.start_time)
                *p = *old;
        else {
                /* New to us, but maybe not to the instance before a restart: its level goes on. */
                SavedLevel *saved = level_state_find(&m->saved, pid);

                *p = (ProcState){ .level = LEVEL_UNKNOWN };
                if (saved && saved->start_time == s.start_time) {
                        p->level = saved->level;
                        saved->matched = true;
                }
        }
        p->pid = pid;
        p->start_time = s.start_time;
        memcpy(p->comm, s.comm, sizeof(p->comm));
        p->map_count = s.map_count;
        trend_add(&p->trend, now, s.map_count);
        p->growth_per_minute = trend_growth_per_minute(&p->trend);
        p->seconds_to_limit = trend_seconds_to_limit(&p->trend, s.map_count, m->max_map_count);

        prev = p->level;
        p->level = level_next(prev, s.map_count, m->max_map_count, &t);
        p->next_read_usec = now +
                schedule_interval(m->config->interval_usec, p->trend.n, s.map_count, m->max_map_count,
                                  p->level, &t, p->growth_per_minute);
        manager_notify_level(m, u, p, prev);
        return 0;
}

/* One pass over one unit: its cgroup's processes, reading those that are due. */
static int manager_scan_unit(Manager *m, WatchedUnit *u, uint64_t now, bool force_all,
                             const BpfTaskCount *bpf, size_t n_bpf, uint64_t *next_wakeup) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ ProcState *procs = NULL;
        CgroupSkipped skipped = {};
        /* The aggregates as they were, to tell which properties changed (its procs are not used). */
        const WatchedUnit before = *u;
        size_t n_pids = 0, n = 0;
        int r;

        r = cgroup_read_pids_full(m->root, m->hierarchy, u->cgroup, &pids, &n_pids, &skipped);
        if (r == -ENOENT)
                /* The unit stopped between systemd's signal and this pass: it has no processes now. */
                n_pids = 0;
        else if (r < 0) {
                /* Said when the error changes, not on every pass. */
                if (r != u->cgroup_error)
                        log_warning_errno(r, "Failed to read the processes of %s (%s%s): %m", u->name,
                                          m->hierarchy, u->cgroup);
                u->cgroup_error = r;
                return r;
        }
        /* A delegated user's chmod, said when it changes: /proc/PID/cgroup found those processes. */
        if (skipped.n > 0 && skipped.error != u->cgroup_error)
                log_warning_errno(skipped.error,
                                  "Cannot read %zu sub-cgroup(s) of %s, first %s%s: %m; "
                                  "their processes were found through /proc.",
                                  skipped.n, u->name, m->hierarchy, skipped.path);
        u->cgroup_error = skipped.n > 0 ? skipped.error : 0;
        cgroup_skipped_done(&skipped);

        procs = calloc(n_pids ? n_pids : 1, sizeof(ProcState));
        if (!procs)
                return -ENOMEM;

        for (size_t i = 0; i < n_pids; i++) {
                pid_t pid = pids[i];
                const ProcState *old = u->n_procs > 0
                        ? bsearch(&pid, u->procs, u->n_procs, sizeof(ProcState), proc_state_compare)
                        : NULL;
                /* Not in the BPF pass: a kernel thread, or it exited, or it was born after the pass
                 * started; /proc tells which. */
                const BpfTaskCount *b = n_bpf > 0
                        ? bsearch(&pid, bpf, n_bpf, sizeof(BpfTaskCount), bpf_count_compare)
                        : NULL;

                /* A count from the BPF pass costs nothing more; a /proc read waits until it is due. */
                if (old && !b && !force_all && old->next_read_usec > now) {
                        procs[n++] = *old;
                        continue;
                }
                if (manager_update_proc(m, u, pid, b, old, now, &procs[n]) >= 0)
                        n++;
        }

        /* Who left: processes we knew that are not there any more as the same process. */
        for (size_t i = 0; i < u->n_procs; i++) {
                const ProcState *now_p = n > 0
                        ? bsearch(&u->procs[i].pid, procs, n, sizeof(ProcState), proc_state_compare)
                        : NULL;

                if (!now_p || now_p->start_time != u->procs[i].start_time)
                        manager_notify_gone(m, u->name, &u->procs[i], "is gone");
        }

        free(u->procs);
        u->procs = TAKE_PTR(procs);
        u->n_procs = n;

        for (size_t i = 0; i < u->n_procs; i++)
                if (u->procs[i].next_read_usec < *next_wakeup)
                        *next_wakeup = u->procs[i].next_read_usec;

        unit_recompute(m, u);
        manager_bus_unit_changed(
                m, u,
                &(UnitChangedMask){
                        .level = before.level != u->level,
                        .processes = before.n_procs != u->n_procs,
                        .worst_pid = before.worst_pid != u->worst_pid,
                        .map_count = before.map_count != u->map_count,
                        .peak_map_count = before.peak_map_count != u->peak_map_count,
                        .headroom = before.headroom != u->headroom,
                        .growth_per_minute = before.growth_per_minute != u->growth_per_minute,
                        .seconds_to_limit = before.seconds_to_limit != u->seconds_to_limit,
                });
        return 0;
}

/* The live and tuned limits; a change of the live one re-evaluates every process. Returns true when
 * the live limit changed since the previous pass. */
static bool manager_read_limits(Manager *m, bool full) {
        unsigned live = 0;
        bool changed = false;
        int r;

        r = max_map_count_read_live(m->root, &live);
        /* Read errors are said when they change, not on every pass. */
        if (r < 0 && r != m->live_error)
                log_warning_errno(r, "Failed to read %s/proc/sys/vm/max_map_count: %m", m->root);
        m->live_error = r < 0 ? r : 0;
        if (r >= 0 && live != m->max_map_count) {
                if (m->max_map_count != 0) {
                        r = journal_limit_changed(m->max_map_count, live);
                        if (r < 0)
                                log_warning_errno(
                                        r, "Failed to write the journal entry for the limit change: %m");
                }
                m->max_map_count = live;
                changed = true;
                full = true;
                manager_bus_manager_changed(m, "MaxMapCount");
        }

        if (full) {
                _cleanup_free_ char *source = NULL;
                unsigned tuned = 0;

                r = max_map_count_read_tuned(m->root, &tuned, &source);
                if (r == -EBADMSG && r != m->tuned_error)
                        log_warning("%s sets vm.max_map_count to a value the kernel refuses; systemd-sysctl "
                                    "will "
                                    "leave the kernel's default in place.",
                                    source ? source : "A sysctl.d file");
                else if (r < 0 && r != -ENOENT && r != m->tuned_error)
                        log_warning_errno(
                                r, "Failed to read the vm.max_map_count the sysctl.d files ask for: %m");
                m->tuned_error = r < 0 && r != -ENOENT ? r : 0;
                if (r < 0)
                        tuned = 0;
                if (tuned != m->tuned_max_map_count) {
                        m->tuned_max_map_count = tuned;
                        manager_bus_manager_changed(m, "TunedMaxMapCount");
                }
                /* Once per distinct (live, tuned) pair, not on every pass. */
                if (tuned > 0 && m->max_map_count > 0 && m->max_map_count < tuned &&
                    (m->below_tuned_logged_live != m->max_map_count ||
                     m->below_tuned_logged_tuned != tuned)) {
                        r = journal_below_tuned(m->max_map_count, tuned, source);
                        if (r < 0)
                                log_warning_errno(
                                        r, "Failed to write the journal entry for the tuned limit: %m");
                        m->below_tuned_logged_live = m->max_map_count;
                        m->below_tuned_logged_tuned = tuned;
                        m->levels_dirty = true; /* kept, so that a restart does not log it again */
                }
        }
        return changed;
}

void manager_save_levels(Manager *m) {
        _cleanup_free_ SavedLevel *levels = NULL;
        size_t n = 0, allocated = 0;
        int r;

        if (!m->levels_path) {
                m->levels_dirty = false;
                return;
        }
        for (size_t i = 0; i < m->n_units; i++)
                for (size_t j = 0; j < m->units[i]->n_procs; j++) {
                        const ProcState *p = &m->units[i]->procs[j];

                        if (p->level < LEVEL_WARNING)
                                continue;
                        if (ARRAY_RESERVE(levels, allocated, n, 16) < 0) {
                                log_warning_errno(-ENOMEM, "Failed to keep the levels for a restart: %m");
                                return; /* still dirty: tried again after the next pass */
                        }
                        levels[n] = (SavedLevel){ .pid = p->pid,
                                                  .start_time = p->start_time,
                                                  .level = p->level,
                                                  .map_count = p->map_count };
                        snprintf(levels[n].unit, sizeof(levels[n].unit), "%s", m->units[i]->name);
                        memcpy(levels[n].comm, p->comm, sizeof(levels[n].comm));
                        n++;
                }

        r = level_state_save(m->levels_path,
                             &(LevelState){
                                     .levels = levels,
                                     .n_levels = n,
                                     .below_tuned_live = m->below_tuned_logged_live,
                                     .below_tuned_tuned = m->below_tuned_logged_tuned,
                             });
        /* Said when the error changes, not on every pass. */
        if (r < 0 && r != m->levels_error)
                log_warning_errno(r, "Failed to write %s, a restart will announce levels again: %m",
                                  m->levels_path);
        m->levels_error = r < 0 ? r : 0;
        m->levels_dirty = r < 0;
}

/* After the first full pass of a restarted daemon: a process the previous instance had at warning or
 * critical that is not there any more (it exited, its pid went to another process, its unit is no
 * longer watched) left that level while nobody watched. Said as for a process that goes while we
 * watch (manager_notify_gone()): clients that track levels learn it. */
static void manager_report_unmatched(Manager *m) {
        for (size_t i = 0; i < m->saved.n_levels; i++) {
                const SavedLevel *l = &m->saved.levels[i];
                ProcState p = { .pid = l->pid, .level = l->level, .map_count = l->map_count };

                if (l->matched)
                        continue;
                memcpy(p.comm, l->comm, sizeof(p.comm));
                manager_notify_gone(m, l->unit, &p,
                                    "is gone, or no longer watched, since mapguardd restarted");
        }
}

int manager_scan(Manager *m, bool force_all) {
        _cleanup_free_ BpfTaskCount *bpf = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC), next_wakeup;
        size_t n_bpf = 0;
        bool full;
        int r;

        full = force_all || m->last_full_pass_usec == 0 ||
                now >= m->last_full_pass_usec + m->config->interval_usec;
        if (manager_read_limits(m, full))
                force_all = true;
        if (full)
                m->last_full_pass_usec = now;

        if (m->bpf) {
                r = manager_sync_bpf_cgroups(m);
                if (r >= 0)
                        r = bpf_counter_scan(m->bpf, &bpf, &n_bpf);
                if (r < 0) {
                        log_warning_errno(
                                r, "Failed to run the BPF pass, reading map counts from /proc instead: %m");
                        m->bpf = bpf_counter_free(m->bpf);
                        m->backend = BACKEND_PROCFS;
                        manager_bus_manager_changed(m, "Backend");
                        force_all = true;
                }
        }

        next_wakeup = now + m->config->interval_usec;
        /* Without a cgroup hierarchy no unit's processes can be found (said once at start). */
        int ret = 0;
        for (size_t i = 0; m->hierarchy && i < m->n_units; i++) {
                r = manager_scan_unit(m, m->units[i], now, force_all, bpf, n_bpf, &next_wakeup);
                if (r == -ENOMEM) {
                        ret = log_error_errno(r, "Failed to scan %s: %m", m->units[i]->name);
                        break;
                }
        }

        m->last_scan_usec = now_usec(CLOCK_REALTIME);

        /* A full pass has read every process the previous instance knew that is still there. */
        if (full && m->saved.n_levels > 0)
                manager_report_unmatched(m);
        if (full)
                level_state_done(&m->saved);
        if (m->levels_dirty)
                manager_save_levels(m);

        /* Re-armed whatever happened above: a pass that failed is tried again, never the last one. */
        if (m->scan_timer) {
                r = sd_event_source_set_time(m->scan_timer, next_wakeup);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->scan_timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return log_error_errno(r, "Failed to re-arm the scan timer: %m");
        }
        return ret;
}
