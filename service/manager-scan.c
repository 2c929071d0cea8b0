/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One pass of the Manager: the limits, each watched unit's processes read through the chosen backend,
 * levels, trends, and what is announced about them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "bpf-counter.h"
#include "cgroup-unit.h"
#include "cgroup.h"
#include "log.h"
#include "manager-announce.h"
#include "manager-exits.h"
#include "manager-export.h"
#include "manager-hits.h"
#include "manager-levels.h"
#include "manager-scan.h"
#include "manager-units.h"
#include "max-map-count.h"
#include "procfs.h"
#include "schedule.h"
#include "util.h"

/* Tries the BPF backend unless the config says procfs; says once in the journal why it fell back. */
void manager_select_backend(Manager *m) {
        _cleanup_free_ char *reason = NULL;
        int r;

        manager_hits_stop(m); /* it shares the counter's cgroup set: before the counter goes */
        m->scan.bpf = bpf_counter_free(m->scan.bpf);
        m->scan.backend = BACKEND_PROCFS;
        if (m->config->backend == BACKEND_PROCFS) {
                log_info("Reading map counts from /proc (Backend=procfs).");
                (void) manager_hits_start(m);
                return;
        }
        if (m->hierarchy && m->cgroup_layout != CGROUP_LAYOUT_LEGACY) {
                r = bpf_counter_new(&m->scan.bpf, &reason);
                if (r >= 0) {
                        m->scan.backend = BACKEND_BPF;
                        m->scan.bpf_cgroups_dirty = true;
                        log_info("Reading map counts with the BPF task iterator.");
                        (void) manager_hits_start(m);
                        return;
                }
        } else
                reason = strdup("the system has no cgroup2 hierarchy to filter by");

        log_full_errno(m->config->backend == BACKEND_BPF ? LOG_WARNING : LOG_NOTICE, 0,
                       "BPF backend unavailable: %s; reading map counts from /proc instead.",
                       reason ? reason : "unknown reason");
        (void) manager_hits_start(m);
}

/* Reads the cgroup2 id of CGROUP into *ID when it is 0 (not read yet). Returns 0, -ENOMEM, or another
 * -errno (the cgroup is not there yet, or no longer): tried again at the next sync. */
static int bpf_cgroup_id(Manager *m, const char *cgroup, uint64_t *id) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (*id != 0)
                return 0;
        if (asprintf(&dir, "%s%s", m->hierarchy, cgroup) < 0)
                return -ENOMEM;
        r = cgroup_id_from_path(dir, id);
        if (r < 0)
                log_debug_errno(r, "Failed to get the cgroup id of %s: %m", dir);
        return r;
}

int manager_sync_bpf_cgroups(Manager *m) {
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0, wanted;
        int r;

        if (!m->scan.bpf || !m->scan.bpf_cgroups_dirty)
                return 0;

        wanted = m->n_units + m->n_user_managers;
        ids = calloc(wanted ? wanted : 1, sizeof(uint64_t));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                WatchedUnit *u = m->units[i];

                /* Held at the limit since before a restart: no control group (its path would be the
                 * root's, which holds everything). */
                if (!u->cgroup[0]) {
                        wanted--;
                        continue;
                }
                r = bpf_cgroup_id(m, u->cgroup, &u->cgroup_id);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        ids[n++] = u->cgroup_id;
        }
        /* A user manager's own cgroup too: a unit of it that started since its units were last listed
         * (they are found by a walk, not told of) is in no watched cgroup yet, and its first calls at the
         * limit, often its only ones, would go uncaught. They are caught as the manager's, with the
         * caller's own cgroup (LimitHit.leaf_cgroup_id), and manager-hits.c has the units listed anew.
         * The task iterator's records of such processes match no unit and are skipped. */
        for (size_t i = 0; i < m->n_user_managers; i++) {
                UserManager *um = &m->user_managers[i];

                if (!um->cgroup) {
                        wanted--;
                        continue;
                }
                r = bpf_cgroup_id(m, um->cgroup, &um->cgroup_id);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        ids[n++] = um->cgroup_id;
        }
        r = bpf_counter_set_cgroups(m->scan.bpf, ids, n);
        if (r < 0)
                return r;
        /* A cgroup whose id could not be read yet is tried again on the next pass. */
        m->scan.bpf_cgroups_dirty = n < wanted;
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

static int proc_state_order(const void *a, const void *b) {
        return proc_state_compare(&((const ProcState *) a)->pid, b);
}

/* Whether the owner OLD knew of a process still holds for its reading S (same process): not when OLD
 * had it as root's or did not know it, since a service's process starts as root's (systemd forks it, then
 * drops to User=; a daemon's workers drop after their fork) and is read at once; nor when its comm changed
 * (an exec, maybe of a setuid program). Otherwise the owner is read once, when the process is first
 * seen: a pass reads the maps and the stat, one file less. */
static bool proc_owner_known(const ProcState *old, const ProcSample *s) {
        return old && old->start_time == s->start_time && old->owner != 0 && old->owner != (uid_t) -1 &&
                strncmp(old->comm, s->comm, sizeof(old->comm)) == 0;
}

/* Reads one process: from the BPF pass when it has it, else from /proc; its owner as
 * proc_owner_known() says. Returns 0, or -errno for a process to skip (gone, no mm, no access). */
static int manager_read_proc(Manager *m, pid_t pid, const BpfTaskCount *bpf, const ProcState *old,
                             ProcSample *ret) {
        ProcSample s, id;
        int r;

        if (bpf) {
                /* In clock ticks, as /proc/PID/stat has it (the kernel rounds down the same way), so that
                 * a process read once through /proc and once through BPF stays the same process. */
                long hz = sysconf(_SC_CLK_TCK);

                s = (ProcSample){ .pid = pid,
                                  .start_time = bpf->start_time_ns /
                                          (UINT64_C(1000000000) / (uint64_t) (hz > 0 ? hz : 100)),
                                  .uid = (uid_t) -1,
                                  .map_count = bpf->map_count };
                memcpy(s.comm, bpf->comm, sizeof(s.comm));
        } else {
                r = proc_sample_count(m->root, pid, &s);
                if (r < 0)
                        return r;
        }
        if (proc_owner_known(old, &s))
                s.uid = old->owner;
        else {
                /* The pass already gave the count; its start time tells a reused pid apart. */
                r = proc_sample_identity(m->root, pid, &id);
                if (r >= 0 && id.start_time != s.start_time)
                        r = -ESRCH; /* the pid was reused since */
                if (r < 0 && bpf)
                        return r;
                if (r >= 0)
                        s.uid = id.uid;
        }
        *ret = s;
        return 0;
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

        u->level = manager_hits_unit_level(u, worst ? worst->level : LEVEL_UNKNOWN);
        u->worst_pid = worst ? worst->pid : 0;
        u->map_count = worst ? worst->map_count : 0;
        /* A unit without processes has the whole limit ahead of it, unless it is held at the limit:
         * its last instance had none left, and the next will grow back to it. */
        if (worst)
                u->headroom = max_map_count_headroom(worst->map_count, m->limits.live);
        else
                u->headroom = u->held ? 0 : m->limits.live;
        for (size_t i = 0; i < u->n_procs; i++)
                if (u->procs[i].map_count > u->peak_map_count)
                        u->peak_map_count = u->procs[i].map_count;
        if (u->peak_map_count > m->scan.peak_map_count)
                m->scan.peak_map_count = u->peak_map_count;
        /* The unit's trend is that of the process that reaches the limit first, or else the worst's. */
        if (!soonest)
                soonest = worst;
        u->growth_per_minute = soonest ? soonest->growth_per_minute : 0.0;
        u->seconds_to_limit = soonest_s;
}

/* A process whose maps could not be read this time (no access, an I/O error) is kept. One we knew
 * keeps its last reading and level: nothing is announced for a read that failed, so it neither leaves
 * warning unsaid nor comes back as a fresh warning, and the state file keeps it. One we did not know
 * is kept at unknown, or at the level the previous instance saved for it (it is the same process), so
 * that the unit does not look empty. */
static void manager_keep_unreadable(Manager *m, pid_t pid, const ProcState *old, uint64_t now,
                                    ProcState *p) {
        ProcSample id;
        bool have_id = proc_sample_identity(m->root, pid, &id) >= 0;

        if (old && (!have_id || id.start_time == old->start_time)) {
                *p = *old;
                p->next_read_usec = now + m->config->interval_usec;
                return;
        }
        *p = (ProcState){ .pid = pid,
                          .owner = (uid_t) -1,
                          .level = LEVEL_UNKNOWN,
                          .seconds_to_limit = UINT64_MAX,
                          .next_read_usec = now + m->config->interval_usec };
        if (!have_id)
                return;
        memcpy(p->comm, id.comm, sizeof(p->comm));
        p->start_time = id.start_time;
        p->owner = id.uid;

        SavedLevel *saved = level_state_find(&m->levels.saved, pid);
        if (saved && saved->start_time == id.start_time) {
                p->level = saved->level;
                p->map_count = saved->map_count;
                saved->matched = true;
        }
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
                manager_keep_unreadable(m, pid, old, now, p);
                return 0;
        }

        if (old && old->start_time == s.start_time)
                *p = *old;
        else {
                /* New to us, but maybe not to the instance before a restart: its level goes on. */
                SavedLevel *saved = level_state_find(&m->levels.saved, pid);

                *p = (ProcState){ .level = LEVEL_UNKNOWN };
                if (saved && saved->start_time == s.start_time) {
                        p->level = saved->level;
                        saved->matched = true;
                }
        }
        p->pid = pid;
        p->start_time = s.start_time;
        p->owner = s.uid;
        memcpy(p->comm, s.comm, sizeof(p->comm));
        p->map_count = s.map_count;
        trend_add(&p->trend, now, s.map_count);
        p->growth_per_minute = trend_growth_per_minute(&p->trend);
        p->seconds_to_limit = trend_seconds_to_limit(&p->trend, s.map_count, m->limits.live);

        prev = p->level;
        p->level = level_next(prev, s.map_count, m->limits.live, &t);
        p->next_read_usec = now +
                schedule_interval(m->config->interval_usec, p->trend.n, s.map_count, m->limits.live,
                                  p->level, &t, p->growth_per_minute);
        manager_announce_level(m, u, p, prev);
        manager_hits_observe(m, u, p);
        return 0;
}

/* The pids of U, sorted. With the BPF pass the kernel has already said which processes are U's: those whose
 * nearest watched cgroup, searched from their own up to BPF_COUNTER_MAX_DEPTH levels, is U's. It misses
 * only a process deeper than that below U's cgroup, and there can be none while U has fewer sub-cgroups
 * than that (cgroup.stat counts them, whatever their permissions): then U's tree is not walked at all, and
 * a delegated user's empty sub-cgroups cost nothing. Otherwise, and without the BPF pass, its cgroup.procs,
 * recursively (cgroup_read_pids_full(): what could not be read of it in *RET_SKIPPED, its processes then
 * found through /proc), merged with the BPF pass: a delegated user can hide a process from neither by what
 * it does to its cgroup tree, and a walk that fails does not blind U. Returns 0, -ENOENT when the unit has
 * no control group (now), or -errno. */
static int manager_unit_pids(Manager *m, WatchedUnit *u, const BpfTaskCount *bpf, size_t n_bpf, pid_t **ret,
                             size_t *ret_n, CgroupSkipped *ret_skipped) {
        _cleanup_free_ pid_t *walked = NULL, *pids = NULL;
        size_t n_walked = 0, n = 0, allocated = 0, i = 0, j = 0;
        bool walk = true;
        int r = 0;

        /* A unit held at the limit since before a restart has no control group we know of. */
        if (!u->cgroup[0])
                return -ENOENT;
        if (m->scan.bpf && u->cgroup_id != 0) {
                CgroupSummary s;

                r = cgroup_read_summary(m->hierarchy, u->cgroup, &s);
                if (r >= 0 && s.id != u->cgroup_id) {
                        /* Made anew under the same path (a restart systemd has not told us of yet): the
                         * program has the old id, and learns the new one on the next pass. */
                        u->cgroup_id = 0;
                        m->scan.bpf_cgroups_dirty = true;
                } else if (r >= 0)
                        walk = s.n_descendants >= BPF_COUNTER_MAX_DEPTH;
                /* Gone, or it cannot be told: the walk says which. */
        }
        if (walk)
                r = cgroup_read_pids_full(m->root, m->hierarchy, u->cgroup, &walked, &n_walked, ret_skipped);
        if (!m->scan.bpf || u->cgroup_id == 0)
                goto walked_only;
        if (r < 0 && r != -ENOENT) {
                char name[256];

                log_debug_errno(r, "Failed to walk the cgroup of %s, counting what the kernel says: %m",
                                escape_printable_buf(name, sizeof(name), u->name, 0));
        }

        /* Both sorted by pid: merge, each pid once. */
        for (;;) {
                pid_t next;

                while (i < n_bpf && bpf[i].cgroup_id != u->cgroup_id)
                        i++;
                if (i >= n_bpf && j >= n_walked)
                        break;
                if (j >= n_walked || (i < n_bpf && (pid_t) bpf[i].pid <= walked[j]))
                        next = (pid_t) bpf[i++].pid;
                else
                        next = walked[j++];
                if (n > 0 && pids[n - 1] == next)
                        continue;
                if (ARRAY_RESERVE(pids, allocated, n, 16) < 0)
                        return -ENOMEM;
                pids[n++] = next;
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;

walked_only:
        if (r < 0)
                return r;
        *ret = TAKE_PTR(walked);
        *ret_n = n_walked;
        return 0;
}

/* The processes of U could not be listed: its level says unknown rather than the last readings. */
static void manager_unit_set_stale(Manager *m, WatchedUnit *u) {
        Level before = u->level;

        u->level = manager_hits_unit_level(u, LEVEL_UNKNOWN);
        if (u->level != before)
                manager_announce_unit_changed(m, u, &(UnitChangedMask){ .level = true });
}

/* Returns true when P, a process of U that the listing did not find, is still the same process at or below
 * U's cgroup: it moved between U's sub-cgroups while the walk read them (the walk read the one it went to
 * before it arrived, and the one it left after it had gone). */
static bool manager_proc_still_in_unit(Manager *m, const WatchedUnit *u, const ProcState *p) {
        _cleanup_free_ char *path = NULL;
        ProcSample id;

        if (!u->cgroup[0] || proc_sample_identity(m->root, p->pid, &id) < 0 ||
            id.start_time != p->start_time)
                return false;
        if (cgroup_path_of_pid(m->root, p->pid, m->cgroup_layout != CGROUP_LAYOUT_LEGACY, &path) < 0)
                return false;
        return cgroup_path_is_below(path, u->cgroup);
}

/* Adds to the N of *PROCS (sorted by pid) the processes of U that the listing missed but that are still in
 * U (manager_proc_still_in_unit()), as they were: they are read on the next pass, and neither said gone
 * nor warned about afresh. Returns 0 or -ENOMEM. */
static int manager_unit_keep_moved(Manager *m, WatchedUnit *u, uint64_t now, ProcState **procs, size_t *n) {
        size_t n_old = *n;

        for (size_t i = 0; i < u->n_procs; i++) {
                const ProcState *old = &u->procs[i];
                const ProcState *found = n_old > 0
                        ? bsearch(&old->pid, *procs, n_old, sizeof(ProcState), proc_state_compare)
                        : NULL;
                ProcState *grown;

                if (found || !manager_proc_still_in_unit(m, u, old))
                        continue;
                grown = reallocarray(*procs, *n + 1, sizeof(ProcState));
                if (!grown)
                        return -ENOMEM;
                *procs = grown;
                (*procs)[*n] = *old;
                /* Not at once: a process that keeps moving must not make passes run back to back. */
                if ((*procs)[*n].next_read_usec < now + m->config->interval_usec / 8)
                        (*procs)[*n].next_read_usec = now + m->config->interval_usec / 8;
                (*n)++;
                log_debug("%s: process %d moved within the unit while its cgroup was read; kept.", u->name,
                          (int) old->pid);
        }
        if (*n > n_old)
                qsort(*procs, *n, sizeof(ProcState), proc_state_order);
        return 0;
}

/* Who left U: the processes we knew (u->procs) that are not among the N of PROCS any more as the same
 * process. Each is announced gone, and its exit judged. */
static void manager_unit_announce_left(Manager *m, WatchedUnit *u, const ProcState *procs, size_t n) {
        bool flushed = false;

        for (size_t i = 0; i < u->n_procs; i++) {
                const ProcState *now_p = n > 0
                        ? bsearch(&u->procs[i].pid, procs, n, sizeof(ProcState), proc_state_compare)
                        : NULL;

                if (now_p && now_p->start_time == u->procs[i].start_time)
                        continue;
                /* Its calls caught in the last second are still an open burst: counted now (setting its
                 * last hit), before its exit is judged. */
                if (!flushed)
                        manager_hits_flush(m);
                flushed = true;
                manager_announce_gone(m, u->name, &u->procs[i], "is gone");
                manager_exits_judge(m, u, &u->procs[i]);
        }
}

/* PropertiesChanged for what a pass changed of U, against BEFORE (its aggregates before the pass). */
static void manager_unit_changed(Manager *m, WatchedUnit *u, const WatchedUnit *before) {
        manager_announce_unit_changed(
                m, u,
                &(UnitChangedMask){
                        .level = before->level != u->level,
                        .processes = before->n_procs != u->n_procs,
                        .worst_pid = before->worst_pid != u->worst_pid,
                        .map_count = before->map_count != u->map_count,
                        .peak_map_count = before->peak_map_count != u->peak_map_count,
                        .headroom = before->headroom != u->headroom,
                        .growth_per_minute = before->growth_per_minute != u->growth_per_minute,
                        .seconds_to_limit = before->seconds_to_limit != u->seconds_to_limit,
                });
}

/* U's pids as manager_unit_pids() finds them (none when the unit stopped meanwhile), its errors said when
 * they change. On failure U is marked stale: its last readings are not current. */
static int manager_unit_read_pids(Manager *m, WatchedUnit *u, const BpfTaskCount *bpf, size_t n_bpf,
                                  pid_t **ret, size_t *ret_n) {
        _cleanup_(cgroup_skipped_done) CgroupSkipped skipped = {};
        char name[256], path[256];
        int r;

        r = manager_unit_pids(m, u, bpf, n_bpf, ret, ret_n, &skipped);
        if (r == -ENOENT) {
                /* The unit stopped between systemd's signal and this pass: it has no processes now. */
                *ret_n = 0;
                return 0;
        }
        if (r < 0) {
                /* Said when the error changes, not on every pass. */
                if (r != u->cgroup_error)
                        log_warning_errno(r, "Failed to read the processes of %s (%s%s): %m",
                                          escape_printable_buf(name, sizeof(name), u->name, 0), m->hierarchy,
                                          escape_printable_buf(path, sizeof(path), u->cgroup, 0));
                u->cgroup_error = r;
                /* Its last readings are not shown as current: the unit's level is unknown until its
                 * processes can be read again (ListUnits, `mapguardctl check` say so). */
                manager_unit_set_stale(m, u);
                return r;
        }
        /* A delegated user's chmod or another mount, said when it changes: /proc/PID/cgroup found those
         * processes. The user named the sub-cgroup: escaped, and bounded, as every outside name. */
        if (skipped.n > 0 && skipped.error != u->cgroup_error) {
                escape_printable_buf(name, sizeof(name), u->name, 0);
                escape_printable_buf(path, sizeof(path), skipped.path, 0);
                if (skipped.error == -EXDEV)
                        log_warning("Not walking %zu sub-cgroup(s) of %s, first %s%s, which another file "
                                    "system is mounted on; their processes were found through /proc.",
                                    skipped.n, name, m->hierarchy, path);
                else
                        log_warning_errno(skipped.error,
                                          "Cannot read %zu sub-cgroup(s) of %s, first %s%s: %m; "
                                          "their processes were found through /proc.",
                                          skipped.n, name, m->hierarchy, path);
        }
        u->cgroup_error = skipped.n > 0 ? skipped.error : 0;
        return 0;
}

/* One pass over one unit: its cgroup's processes, reading those that are due. */
static int manager_scan_unit(Manager *m, WatchedUnit *u, uint64_t now, bool force_all,
                             const BpfTaskCount *bpf, size_t n_bpf, uint64_t *next_wakeup) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ ProcState *procs = NULL;
        /* The aggregates as they were, to tell which properties changed (its procs are not used). */
        const WatchedUnit before = *u;
        size_t n_pids = 0, n = 0;
        int r;

        r = manager_unit_read_pids(m, u, bpf, n_bpf, &pids, &n_pids);
        if (r < 0)
                return r;

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

        r = manager_unit_keep_moved(m, u, now, &procs, &n);
        if (r < 0)
                return r;
        manager_unit_announce_left(m, u, procs, n);

        free(u->procs);
        u->procs = TAKE_PTR(procs);
        u->n_procs = n;

        if (u->n_procs > 0)
                u->seen_usec = now;
        for (size_t i = 0; i < u->n_procs; i++) {
                u->procs[i].seen_usec = now;
                if (u->procs[i].next_read_usec < *next_wakeup)
                        *next_wakeup = u->procs[i].next_read_usec;
        }

        unit_recompute(m, u);
        manager_unit_changed(m, u, &before);
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
        if (r < 0 && r != m->limits.live_error)
                log_warning_errno(r, "Failed to read %s/proc/sys/vm/max_map_count: %m", m->root);
        m->limits.live_error = r < 0 ? r : 0;
        if (r >= 0 && live != m->limits.live) {
                unsigned old = m->limits.live;

                m->limits.live = live;
                manager_announce_limit_changed(m, old, live);
                changed = true;
                full = true;
        }

        if (full) {
                _cleanup_free_ char *source = NULL;
                unsigned tuned = 0;

                r = max_map_count_read_tuned(m->root, &tuned, &source);
                if (r == -EBADMSG && r != m->limits.tuned_error) {
                        char shown[PATH_MAX];

                        log_warning(
                                "%s sets vm.max_map_count to a value the kernel refuses; systemd-sysctl "
                                "will leave the kernel's default in place.",
                                escape_printable_buf(shown, sizeof(shown), source ?: "A sysctl.d file", 0));
                } else if (r < 0 && r != -ENOENT && r != m->limits.tuned_error)
                        log_warning_errno(
                                r, "Failed to read the vm.max_map_count the sysctl.d files ask for: %m");
                m->limits.tuned_error = r < 0 && r != -ENOENT ? r : 0;
                if (r < 0)
                        tuned = 0;
                if (tuned != m->limits.tuned) {
                        m->limits.tuned = tuned;
                        manager_announce_property(m, "TunedMaxMapCount");
                }
                if (tuned > 0 && m->limits.live > 0 && m->limits.live < tuned)
                        manager_announce_below_tuned(m, tuned, source);
        }
        return changed;
}

bool manager_scan_full_due(const Manager *m) {
        return m->scan.last_full_pass_usec == 0 ||
                now_usec(CLOCK_MONOTONIC) >= m->scan.last_full_pass_usec + m->config->interval_usec;
}

int manager_scan(Manager *m, bool force_all) {
        _cleanup_free_ BpfTaskCount *bpf = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC), next_wakeup;
        size_t n_bpf = 0;
        bool full;
        int r;

        full = force_all || manager_scan_full_due(m);
        if (manager_read_limits(m, full))
                force_all = true;
        if (full)
                m->scan.last_full_pass_usec = now;

        if (m->scan.bpf) {
                r = manager_sync_bpf_cgroups(m);
                if (r >= 0)
                        r = bpf_counter_scan(m->scan.bpf, &bpf, &n_bpf);
                if (r < 0) {
                        log_warning_errno(
                                r, "Failed to run the BPF pass, reading map counts from /proc instead: %m");
                        manager_hits_stop(m);
                        m->scan.bpf = bpf_counter_free(m->scan.bpf);
                        m->scan.backend = BACKEND_PROCFS;
                        manager_announce_property(m, "Backend");
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
        /* A unit's cgroup made anew under the same path (a restart nobody told us of: a user's unit), found
         * by the pass: the programs learn its new id now, so that its next failing calls are caught. */
        if (m->scan.bpf && m->scan.bpf_cgroups_dirty) {
                r = manager_sync_bpf_cgroups(m);
                if (r < 0)
                        log_debug_errno(r, "Failed to give the BPF programs the watched cgroups: %m");
        }

        /* The limit-hit program: told the live limit, armed while something nears it (from the units'
         * aggregates that this pass has just computed). */
        manager_hits_sync(m);

        m->scan.last_usec = now_usec(CLOCK_REALTIME);

        /* A full pass has read every process the previous instance knew that is still there. */
        if (full && m->levels.saved.n_levels > 0)
                manager_levels_report_unmatched(m);
        /* The saved levels have served; the saved hits wait for units that are not running yet. */
        if (full) {
                m->levels.saved.levels = mfree(m->levels.saved.levels);
                m->levels.saved.n_levels = 0;
        }
        if (m->levels.dirty)
                manager_levels_save(m);
        if (full)
                manager_export_textfile(m);

        /* Re-armed whatever happened above: a pass that failed is tried again, never the last one. */
        if (m->scan.timer) {
                r = sd_event_source_set_time(m->scan.timer, next_wakeup);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->scan.timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return log_error_errno(r, "Failed to re-arm the scan timer: %m");
        }
        return ret;
}
