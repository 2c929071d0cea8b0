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

static void manager_hits_announce_catching(Manager *m);

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
        /* Observed at the limit while disarmed, then caught once armed: the same hit, told once. */
        if (syscall && p->observed_at_limit)
                tell = CRASH_LOOP_TELL_QUIET;
        manager_announce_hit(m, u, p, syscall, errno_name, calls, tell);
}

void manager_hits_observe(Manager *m, WatchedUnit *u, ProcState *p) {
        if (m->limits.live == 0 || p->map_count < m->limits.live || p->observed_at_limit)
                return;
        /* Armed, its failing calls are caught (and one that fails none has not hit the limit); one caught
         * already is not counted again. Disarmed, the read is all there is. */
        if (m->scan.hit_detection == HIT_DETECTION_CAUGHT &&
            (bpf_hits_armed(m->hits.bpf) || p->last_hit_usec != 0))
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
                m->hits.off_reason = strdup("the BPF backend is not in use");
                goto observed;
        }
        r = bpf_counter_take_hits(m->scan.bpf, &m->hits.bpf, &note);
        if (r < 0) {
                log_notice("Limit hits are observed (a process read with no headroom), not caught: %s.",
                           note ? note : strerror(-r));
                m->hits.off_reason = strdup(note ? note : strerror(-r));
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
        log_info("Catching limit hits in the kernel, %s mode (%s); %s.",
                 bpf_hits_mode_to_string(bpf_hits_mode(m->hits.bpf)), bpf_hits_mode_reason(m->hits.bpf),
                 bpf_hits_always_armed(m->hits.bpf)
                         ? "armed all the time: it costs nothing on the calls it does not catch"
                         : "armed only while something nears the limit: meanwhile every system call pays");
        manager_announce_property(m, "HitDetection");
        manager_hits_announce_catching(m);
        return 0;

fail:
        manager_hits_stop(m);
        m->hits.off_reason = strdup("the limit-hit program could not be put in the event loop");
observed:
        manager_announce_property(m, "HitDetection");
        manager_hits_announce_catching(m);
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
        m->hits.arm_error = 0;
        m->hits.off_reason = mfree(m->hits.off_reason);
        m->scan.hit_detection = HIT_DETECTION_OBSERVED;
}

void manager_hits_done(Manager *m) {
        manager_hits_stop(m);
        for (size_t i = 0; i < m->hits.n_departed; i++)
                free(m->hits.departed[i].name);
        m->hits.departed = mfree(m->hits.departed);
        m->hits.n_departed = 0;
        m->hits.trigger = mfree(m->hits.trigger);
        m->hits.catching_reason = mfree(m->hits.catching_reason);
}

const char *manager_hits_catching(const Manager *m) {
        if (!m->hits.bpf)
                return "off";
        if (bpf_hits_always_armed(m->hits.bpf))
                return "always";
        return bpf_hits_armed(m->hits.bpf) ? "armed" : "idle";
}

const char *manager_hits_catching_reason(const Manager *m) {
        return m->hits.catching_reason ?: "";
}

/* HitCatchingReason as it is now. Returns a new string, or NULL when out of memory. */
static char *manager_hits_reason_now(const Manager *m) {
        char *s = NULL;
        int r = 0;

        if (!m->hits.bpf)
                return strdup(m->hits.off_reason ?: "the limit-hit program is not loaded");
        if (bpf_hits_always_armed(m->hits.bpf))
                return strdup("fexit programs cost nothing on the calls they do not catch");
        if (m->hits.arm_error < 0 && m->hits.wanted)
                r = asprintf(&s, "arming failed (%s): %s", m->hits.trigger ?: "",
                             strerror(-m->hits.arm_error));
        else if (m->hits.trigger_holds)
                return strdup(m->hits.trigger ?: "");
        else if (m->hits.wanted)
                /* Disarmed once none has held for the delay. */
                r = asprintf(&s, "%s, less than %" PRIu64 " s ago", m->hits.trigger ?: "",
                             m->hits.disarm_delay_usec / USEC_PER_SEC);
        else
                return strdup("nothing near the limit, no recent hit or failure");
        return r < 0 ? NULL : s;
}

/* Sends PropertiesChanged for HitCatching and HitCatchingReason when they changed. */
static void manager_hits_announce_catching(Manager *m) {
        const char *catching = manager_hits_catching(m);
        char *reason = manager_hits_reason_now(m);

        if (!reason)
                return;
        if (!streq_ptr(catching, m->hits.catching)) {
                m->hits.catching = catching;
                manager_announce_property(m, "HitCatching");
        }
        if (streq_ptr(reason, m->hits.catching_reason)) {
                free(reason);
                return;
        }
        free(m->hits.catching_reason);
        m->hits.catching_reason = reason;
        manager_announce_property(m, "HitCatchingReason");
}

/* The triggers, in the order in which the first one found is named. */
typedef enum HitTrigger {
        HIT_TRIGGER_HIT,       /* hit the limit, or an exit was attributed to it, lately */
        HIT_TRIGGER_FAILED,    /* restarted after a failure, lately */
        HIT_TRIGGER_LEVEL,     /* its worst process at warning or critical */
        HIT_TRIGGER_PREDICTED, /* a process predicted to reach the limit within IntervalSec */
        _HIT_TRIGGER_NONE,
} HitTrigger;

/* The first trigger U holds at NOW (CLOCK_MONOTONIC), from what the last pass computed of it. */
static HitTrigger unit_trigger(const Manager *m, const WatchedUnit *u, uint64_t now) {
        if (manager_hits_recent(u))
                return HIT_TRIGGER_HIT;
        if (u->failure.usec != 0 && now < u->failure.usec + CRASH_LOOP_CLEAN_USEC)
                return HIT_TRIGGER_FAILED;
        /* Not raised by a hit (that is the first trigger): its worst process's level. */
        if (u->level == LEVEL_WARNING || u->level == LEVEL_CRITICAL)
                return HIT_TRIGGER_LEVEL;
        /* IntervalSec is the longest a process goes unread: one that may reach the limit within it could
         * get there before a read sees it at warning (growth speeding up, the trend behind it). */
        if (u->seconds_to_limit != UINT64_MAX &&
            u->seconds_to_limit <= m->config->interval_usec / USEC_PER_SEC)
                return HIT_TRIGGER_PREDICTED;
        return _HIT_TRIGGER_NONE;
}

/* Says TRIGGER of U in words, naming U. Returns a new string, or NULL when out of memory. */
static char *unit_trigger_describe(const WatchedUnit *u, HitTrigger trigger) {
        char *s = NULL;
        int r;

        switch (trigger) {
        case HIT_TRIGGER_HIT:
                r = asprintf(&s, "%s hit the limit", u->name);
                break;
        case HIT_TRIGGER_FAILED:
                if (u->failure.what[0])
                        r = asprintf(&s, "%s restarted after a failure (%s)", u->name, u->failure.what);
                else
                        r = asprintf(&s, "%s restarted in a new scope", u->name);
                break;
        case HIT_TRIGGER_LEVEL:
                r = asprintf(&s, "%s at %s", u->name, level_to_string(u->level));
                break;
        case HIT_TRIGGER_PREDICTED:
                r = asprintf(&s, "%s predicted to reach the limit within the scan interval", u->name);
                break;
        default:
                return NULL;
        }
        return r < 0 ? NULL : s;
}

/* The departed units remembered for longer than a crash loop lasts are forgotten. */
static void manager_hits_prune_departed(Manager *m, uint64_t now) {
        size_t n = 0;

        for (size_t i = 0; i < m->hits.n_departed; i++) {
                HitsDeparted *d = &m->hits.departed[i];

                if (now >= d->left_usec + CRASH_LOOP_CLEAN_USEC) {
                        free(d->name);
                        continue;
                }
                m->hits.departed[n++] = *d;
        }
        m->hits.n_departed = n;
}

/* Finds the first trigger over the units (the pass has just visited every process: its aggregates say
 * enough), keeps it in m->hits.trigger and says whether catching is wanted now. */
static void manager_hits_find_trigger(Manager *m, uint64_t now) {
        HitTrigger best = _HIT_TRIGGER_NONE;
        const WatchedUnit *best_unit = NULL;

        for (size_t i = 0; i < m->n_units && best != HIT_TRIGGER_HIT; i++) {
                HitTrigger t = unit_trigger(m, m->units[i], now);

                if (t < best) {
                        best = t;
                        best_unit = m->units[i];
                }
        }
        m->hits.trigger_holds = best_unit != NULL;
        if (best_unit) {
                char *s = unit_trigger_describe(best_unit, best);

                if (s) {
                        free(m->hits.trigger);
                        m->hits.trigger = s;
                }
                m->hits.trigger_usec = now;
        }
        m->hits.wanted = m->hits.trigger_holds ||
                (m->hits.trigger_usec != 0 && now < m->hits.trigger_usec + m->hits.disarm_delay_usec);
}

/* Arms or disarms the program as m->hits.wanted says: on every pass, which also reaps what a tracepoint
 * mode's disarming left behind (bpf-hits.h). */
static void manager_hits_arm(Manager *m) {
        bool was = bpf_hits_armed(m->hits.bpf);
        int r;

        r = bpf_hits_arm(m->hits.bpf, m->hits.wanted);
        if (r < 0) {
                if (r != m->hits.arm_error && m->hits.wanted)
                        log_warning_errno(
                                r,
                                "Failed to arm the limit-hit program for %s: %m; hits are observed "
                                "by reads until it can be armed.",
                                m->hits.trigger ?: "a trigger");
                else if (r != m->hits.arm_error)
                        log_warning_errno(r, "Failed to disarm the limit-hit program: %m");
                m->hits.arm_error = r;
                return;
        }
        m->hits.arm_error = 0;
        if (bpf_hits_always_armed(m->hits.bpf) || was == bpf_hits_armed(m->hits.bpf))
                return;
        if (was)
                log_debug("Disarmed the limit-hit program: no trigger for %" PRIu64 " s, the last: %s.",
                          m->hits.disarm_delay_usec / USEC_PER_SEC, m->hits.trigger ?: "none");
        else
                log_debug("Armed the limit-hit program: %s.", m->hits.trigger ?: "");
}

void manager_hits_sync(Manager *m) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        manager_hits_prune_departed(m, now);
        manager_hits_find_trigger(m, now);
        if (m->hits.bpf) {
                if (m->limits.live != m->hits.limit) {
                        r = bpf_hits_set_limit(m->hits.bpf, m->limits.live);
                        if (r < 0)
                                log_warning_errno(r, "Failed to give the limit-hit program the limit %u: %m",
                                                  m->limits.live);
                        else
                                m->hits.limit = m->limits.live;
                }
                manager_hits_arm(m);
                /* What a flood lost after the last time it was said, when no hit has come since. */
                manager_hits_check_dropped(m);
        }
        manager_hits_announce_catching(m);
}

/* Returns the departed unit NAME, or NULL. */
static HitsDeparted *manager_hits_find_departed(Manager *m, const char *name) {
        for (size_t i = 0; i < m->hits.n_departed; i++)
                if (streq(m->hits.departed[i].name, name))
                        return &m->hits.departed[i];
        return NULL;
}

void manager_hits_unit_left(Manager *m, const WatchedUnit *u) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool container = u->identity.kind == UNIT_KIND_CONTAINER || u->identity.kind == UNIT_KIND_POD;
        bool failed = u->failure.usec != 0 && now < u->failure.usec + CRASH_LOOP_CLEAN_USEC;
        HitsDeparted *d, *grown;

        /* A container deleted on request (its scope stopped by a job) is not restarting. */
        if (!failed && (!container || u->asked_stop.start_usec != 0))
                return;
        d = manager_hits_find_departed(m, u->name);
        if (!d) {
                char *name = strdup(u->name);

                grown = name ? reallocarray(m->hits.departed, m->hits.n_departed + 1, sizeof(HitsDeparted))
                             : NULL;
                if (!grown) {
                        free(name);
                        log_debug("Out of memory remembering that %s failed: its restart is not armed for.",
                                  u->name);
                        return;
                }
                m->hits.departed = grown;
                d = &m->hits.departed[m->hits.n_departed++];
                *d = (HitsDeparted){ .name = name };
        }
        d->left_usec = now;
        d->failure_usec = failed ? u->failure.usec : 0;
        snprintf(d->what, sizeof(d->what), "%s", failed ? u->failure.what : "");
}

void manager_hits_unit_back(Manager *m, WatchedUnit *u) {
        HitsDeparted *d = manager_hits_find_departed(m, u->name);

        if (!d)
                return;
        /* A container comes back in a new scope: kubelet restarted it, now. */
        if (u->identity.kind == UNIT_KIND_CONTAINER || u->identity.kind == UNIT_KIND_POD)
                manager_hits_unit_new_scope(m, u);
        else {
                u->failure.usec = d->failure_usec;
                snprintf(u->failure.what, sizeof(u->failure.what), "%s", d->what);
        }
        free(d->name);
        *d = m->hits.departed[--m->hits.n_departed];
}

void manager_hits_unit_new_scope(Manager *m, WatchedUnit *u) {
        u->failure.usec = now_usec(CLOCK_MONOTONIC);
        u->failure.what[0] = '\0';
}
