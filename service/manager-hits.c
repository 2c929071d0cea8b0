/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bpf-counter.h"
#include "bpf-hits.h"
#include "limit-hit.h"
#include "log.h"
#include "manager-announce.h"
#include "manager-hits.h"
#include "manager-units.h"
#include "util.h"

#define HITS_DROPPED_TELL_USEC (60 * USEC_PER_SEC)

bool manager_hits_recent(const WatchedUnit *u) {
        return u->held || crash_loop_active(&u->crash_loop, now_usec(CLOCK_REALTIME));
}

Level manager_hits_unit_level(const WatchedUnit *u, Level level) {
        if (manager_hits_recent(u) && level < LEVEL_CRITICAL)
                return LEVEL_CRITICAL;
        return level;
}

/* Counts a hit of P in U: CALLS failed calls of SYSCALL with ERRNO_NAME (caught), or with SYSCALL NULL a
 * read that found P with no headroom (observed), and announces it as the crash loop says. */
static void manager_hits_count(Manager *m, WatchedUnit *u, ProcState *p, const char *syscall,
                               const char *errno_name, uint64_t calls) {
        CrashLoopTell tell;

        p->last_hit_usec = now_usec(CLOCK_MONOTONIC);
        snprintf(p->hit_syscall, sizeof(p->hit_syscall), "%s", syscall ? syscall : "");
        tell = crash_loop_hit(&u->crash_loop, calls, now_usec(CLOCK_REALTIME));
        manager_announce_hit(m, u, p, syscall, errno_name, calls, tell);
}

void manager_hits_observe(Manager *m, WatchedUnit *u, ProcState *p) {
        if (m->scan.hit_detection != HIT_DETECTION_OBSERVED || m->limits.live == 0)
                return;
        if (p->map_count < m->limits.live || p->observed_at_limit)
                return;
        p->observed_at_limit = true;
        manager_hits_count(m, u, p, NULL, NULL, 1);
}

/* The watched unit a hit belongs to: by the watched cgroup the program found it in, or by the caller's own
 * cgroup (one found in a user manager's: the unit started since the units were last listed), else by
 * pid. */
static WatchedUnit *manager_hit_unit(Manager *m, const LimitHit *hit, ProcState **ret_proc) {
        WatchedUnit *u = manager_find_unit_by_cgroup_id(m, hit->cgroup_id)
                ?: manager_find_unit_by_cgroup_id(m, hit->leaf_cgroup_id);

        *ret_proc = NULL;
        if (!u)
                return manager_find_pid(m, (pid_t) hit->pid, ret_proc);
        *ret_proc = watched_unit_find_proc(u, (pid_t) hit->pid);
        return u;
}

static void on_burst(const LimitHitBurst *burst, void *userdata) {
        Manager *m = userdata;
        const LimitHit *last = &burst->last;
        ProcState *p, tmp;
        WatchedUnit *u;

        u = manager_hit_unit(m, last, &p);
        if (!u) {
                log_debug("A limit hit of pid %u is in no watched unit (any more), dropped.", last->pid);
                return;
        }
        if (!p) {
                /* Not read yet (it is young): told from what the program saw; the next pass reads it. */
                tmp = (ProcState){ .pid = (pid_t) last->pid, .level = LEVEL_CRITICAL };
                memcpy(tmp.comm, last->comm, sizeof(tmp.comm));
                p = &tmp;
        }
        /* The count when the call failed, not the last read. */
        p->map_count = last->map_count;
        manager_hits_count(m, u, p, limit_hit_syscall_to_string(last->syscall),
                           limit_hit_errno_to_string(last->error), burst->n_hits);
}

/* Counts the bursts that closed by now (all of them with FORCE), and arms the timer for the next. */
static void manager_hits_flush_due(Manager *m, bool force) {
        uint64_t next;

        if (!m->hits.bursts)
                return;
        (void) limit_hit_bursts_flush(m->hits.bursts, now_usec(CLOCK_MONOTONIC), force, on_burst, m);
        next = limit_hit_bursts_next_close(m->hits.bursts);
        if (!m->hits.timer)
                return;
        if (next == UINT64_MAX) {
                (void) sd_event_source_set_enabled(m->hits.timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(m->hits.timer, next);
        (void) sd_event_source_set_enabled(m->hits.timer, SD_EVENT_ONESHOT);
}

static void on_hit(const LimitHit *hit, void *userdata);

void manager_hits_flush(Manager *m) {
        /* What the kernel queued and the loop has not read yet belongs to the open bursts too. */
        if (m->hits.bpf && m->hits.bursts)
                (void) bpf_hits_drain(m->hits.bpf, on_hit, m, 0, NULL);
        manager_hits_flush_due(m, true);
}

static void on_hit(const LimitHit *hit, void *userdata) {
        Manager *m = userdata;
        int r;

        r = limit_hit_bursts_add(m->hits.bursts, hit);
        if (r < 0)
                log_warning_errno(r, "Failed to count a limit hit of pid %u: %m", hit->pid);
        else if (r > 0 && !manager_find_pid(m, (pid_t) hit->pid, NULL)) {
                /* A process at the limit that no pass has read yet: read it now. Caught in a user
                 * manager's cgroup, not a unit's: a unit of it that started since they were listed; list
                 * them, so that the burst, when it closes, has a unit (manager_hit_unit()). */
                if (!manager_find_unit_by_cgroup_id(m, hit->cgroup_id))
                        m->watch_user_units_now = true;
                manager_schedule_now(m);
        }
}

/* Says, at most once a minute, how many failed calls the program could not queue since it was last said:
 * a process failing calls in a tight loop fills the ring buffer (~2,900 records) faster than the loop
 * reads it. Which unit they were of is not known; their bursts and exits are told all the same, from the
 * records that were queued. */
static void manager_hits_check_dropped(Manager *m) {
        uint64_t dropped, now = now_usec(CLOCK_MONOTONIC);

        if (m->hits.dropped_told_usec != 0 && now < m->hits.dropped_told_usec + HITS_DROPPED_TELL_USEC)
                return;
        if (bpf_hits_stats(m->hits.bpf, NULL, &dropped) < 0 || dropped <= m->hits.dropped)
                return;
        log_warning("%" PRIu64 " failed calls at the limit were not counted: the kernel's queue of limit "
                    "hits was full (a process failed calls faster than mapguardd read them). LimitHits "
                    "counts fewer calls than failed; each process's hits and its exit are still told.",
                    dropped - m->hits.dropped);
        m->hits.dropped = dropped;
        m->hits.dropped_told_usec = now;
}

static int on_limit_hits(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        uint64_t bad = 0;
        int r;

        r = bpf_hits_drain(m->hits.bpf, on_hit, m, 0, &bad);
        if (r < 0)
                log_warning_errno(r, "Failed to read the limit hits the kernel queued, some were lost: %m");
        if (bad > 0)
                log_warning("Skipped %" PRIu64 " limit-hit records of an unexpected size.", bad);
        manager_hits_check_dropped(m);
        manager_hits_flush_due(m, false);
        return 0;
}

static int on_burst_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_hits_flush_due(userdata, false);
        return 0;
}

int manager_hits_start(Manager *m) {
        _cleanup_free_ char *note = NULL;
        int r;

        manager_hits_stop(m);
        m->scan.hit_detection = HIT_DETECTION_OBSERVED;
        if (!m->scan.bpf) {
                log_info("Limit hits are observed (a process read with no headroom), not caught: the BPF "
                         "backend is not in use.");
                goto observed;
        }
        r = bpf_counter_take_hits(m->scan.bpf, &m->hits.bpf, &note);
        if (r < 0) {
                log_notice("Limit hits are observed (a process read with no headroom), not caught: %s.",
                           note ? note : strerror(-r));
                goto observed;
        }
        m->hits.bursts = limit_hit_bursts_new();
        if (!m->hits.bursts) {
                r = log_error_errno(-ENOMEM, "Failed to catch limit hits: %m");
                goto fail;
        }
        r = sd_event_add_io(m->event, &m->hits.io, bpf_hits_fd(m->hits.bpf), EPOLLIN, on_limit_hits, m);
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->hits.timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                                      on_burst_timer, m);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the limit-hit ring buffer: %m");
                goto fail;
        }
        (void) sd_event_source_set_description(m->hits.io, "limit-hits");
        (void) sd_event_source_set_description(m->hits.timer, "limit-hit-bursts");
        (void) sd_event_source_set_enabled(m->hits.timer, SD_EVENT_OFF);

        m->hits.limit = 0;
        m->hits.dropped = 0;
        m->hits.dropped_told_usec = 0;
        m->scan.hit_detection = HIT_DETECTION_CAUGHT;
        log_info("Catching limit hits in the kernel (%s)%s%s",
                 bpf_hits_mode_to_string(bpf_hits_mode(m->hits.bpf)), note ? ": " : ".", note ? note : "");
        manager_announce_property(m, "HitDetection");
        return 0;

fail:
        manager_hits_stop(m);
observed:
        manager_announce_property(m, "HitDetection");
        return 0;
}

void manager_hits_stop(Manager *m) {
        if (m->hits.bursts)
                manager_hits_flush(m);
        m->hits.io = sd_event_source_disable_unref(m->hits.io);
        m->hits.timer = sd_event_source_disable_unref(m->hits.timer);
        m->hits.bursts = limit_hit_bursts_free(m->hits.bursts);
        m->hits.bpf = bpf_hits_free(m->hits.bpf);
        m->hits.limit = 0;
        m->scan.hit_detection = HIT_DETECTION_OBSERVED;
}

void manager_hits_sync(Manager *m, size_t n_cgroups) {
        int r;

        if (!m->hits.bpf)
                return;
        if (m->limits.live != m->hits.limit) {
                r = bpf_hits_set_limit(m->hits.bpf, m->limits.live);
                if (r < 0)
                        log_warning_errno(r, "Failed to give the limit-hit program the limit %u: %m",
                                          m->limits.live);
                else
                        m->hits.limit = m->limits.live;
        }
        r = bpf_hits_set_attached(m->hits.bpf, n_cgroups > 0);
        if (r < 0)
                log_warning_errno(r, "Failed to %s the limit-hit program: %m",
                                  n_cgroups > 0 ? "attach" : "detach");
        /* What a flood lost after the last time it was said, when no hit has come since. */
        manager_hits_check_dropped(m);
}
