/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "limit-hit.h"
#include "escape.h"
#include "log.h"
#include "manager-announce.h"
#include "manager-exits.h"
#include "manager-units.h"
#include "util.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

/* systemd reaps a main process and updates ExecMainCode a moment after the process leaves its cgroup,
 * where a pass may see it go first: ask again every EXIT_RETRY_USEC, EXIT_TRIES_MAX times. */
#define EXIT_RETRY_USEC (UINT64_C(50) * USEC_PER_MSEC)
#define EXIT_TRIES_MAX 40U

/* A user's manager says in the journal how a unit's main process ended, or that it was stopped, a moment
 * after: journald tells readers of new entries at most every 250 ms. An exit of a user's unit is judged
 * after this. */
#define EXIT_USER_LOG_WAIT_USEC (UINT64_C(1500) * USEC_PER_MSEC)

typedef struct PendingExit {
        Manager *manager;
        struct PendingExit *next;
        char *unit;            /* the watched name */
        UnitIdentity identity; /* its unit's, as it was */
        ProcState proc;        /* as last read */
        unsigned max_map_count;
        uint64_t seconds_since_hit;
        uint64_t seen_usec;   /* CLOCK_MONOTONIC of the last pass that found it alive */
        AskedStop asked_stop; /* its unit's, once the unit is no longer watched */
        unsigned tries;
        sd_event_source *timer;
        sd_bus_slot *slot;
} PendingExit;

/* "exited 1", "killed SIGKILL", "dumped SIGABRT" from a waitid() code and status. Returns false when
 * CODE is none of those. */
static bool exit_describe(int32_t code, int32_t status, char *code_buf, size_t code_size, char *status_buf,
                          size_t status_size);

void manager_exits_main_exit(WatchedUnit *u, uint32_t pid, int32_t code, int32_t status,
                             const char *result) {
        char code_s[8], status_s[16];

        u->main_exit.pid = pid;
        u->main_exit.code = code;
        u->main_exit.status = status;
        u->main_exit.usec = now_usec(CLOCK_MONOTONIC);
        if (result)
                snprintf(u->main_exit.result, sizeof(u->main_exit.result), "%s", result);

        /* A failed instance: the next ones are caught from their start (manager-hits.c arms for them at
         * the next pass, run now). A stop someone asked for, which ends the process with a signal, is no
         * failure. */
        if ((code == CLD_EXITED && status == 0) ||
            (u->asked_stop.start_usec != 0 && u->asked_stop.end_usec == 0) ||
            !exit_describe(code, status, code_s, sizeof(code_s), status_s, sizeof(status_s)))
                return;
        u->failure.usec = u->main_exit.usec;
        snprintf(u->failure.what, sizeof(u->failure.what), "%s %s", code_s, status_s);
        manager_schedule_now(u->manager);
}

static bool exit_describe(int32_t code, int32_t status, char *code_buf, size_t code_size, char *status_buf,
                          size_t status_size) {
        const char *sig;

        switch (code) {
        case CLD_EXITED:
                snprintf(code_buf, code_size, "exited");
                snprintf(status_buf, status_size, "%" PRIi32, status);
                return true;
        case CLD_KILLED:
        case CLD_DUMPED:
                snprintf(code_buf, code_size, "%s", code == CLD_KILLED ? "killed" : "dumped");
                sig = sigabbrev_np(status);
                if (sig)
                        snprintf(status_buf, status_size, "SIG%s", sig);
                else
                        snprintf(status_buf, status_size, "%" PRIi32, status);
                return true;
        default:
                return false;
        }
}

static PendingExit *pending_exit_free(PendingExit *e) {
        if (!e)
                return NULL;
        sd_event_source_disable_unref(e->timer);
        sd_bus_slot_unref(e->slot);
        free(e->unit);
        free(e);
        return NULL;
}

static void pending_exit_unlink(PendingExit *e) {
        for (PendingExit **i = &e->manager->pending_exits; *i; i = &(*i)->next)
                if (*i == e) {
                        *i = e->next;
                        return;
                }
}

/* Returns true when E's unit was being stopped on request (manager_watch_unit_job()) after E's process
 * was last seen alive: the stop, not the limit, ended it. Asked only after a round trip to systemd,
 * which has sent every PropertiesChanged of the stop before its answer. */
static bool pending_exit_stop_asked(const PendingExit *e) {
        const WatchedUnit *u = manager_find_unit(e->manager, e->unit);
        const AskedStop *w = u ? &u->asked_stop : &e->asked_stop;

        return w->start_usec != 0 && (w->end_usec == 0 || w->end_usec >= e->seen_usec);
}

/* Drops E when a stop was asked for, saying why. Returns true when dropped. */
static bool pending_exit_drop_if_stopped(PendingExit *e) {
        char comm[64];

        if (!pending_exit_stop_asked(e))
                return false;
        escape_printable_buf(comm, sizeof(comm), e->proc.comm, 0);
        log_info("%s: process %d (%s) ended while its unit was being stopped on request, %" PRIu64
                 " s after it hit the memory map limit: not counted as an exit at the limit.",
                 e->unit, (int) e->proc.pid, comm, e->seconds_since_hit);
        pending_exit_unlink(e);
        pending_exit_free(e);
        return true;
}

/* Announces the exit of E, with CODE and STATUS when known (code 0: not known), and drops E. */
static void pending_exit_resolve(PendingExit *e, int32_t code, int32_t status) {
        Manager *m = e->manager;
        WatchedUnit *u = manager_find_unit(m, e->unit);
        char code_s[16] = "", status_s[32] = "", both[64] = "";
        bool known = exit_describe(code, status, code_s, sizeof(code_s), status_s, sizeof(status_s));
        CrashLoopTell tell = CRASH_LOOP_TELL_FULL;

        if (pending_exit_drop_if_stopped(e))
                return;
        if (known)
                snprintf(both, sizeof(both), "%s %s", code_s, status_s);
        if (u)
                tell = crash_loop_exit(&u->crash_loop, known ? both : NULL, now_usec(CLOCK_REALTIME));
        manager_announce_exit(m, u,
                              &(JournalExit){
                                      .unit = e->unit,
                                      .identity = &e->identity,
                                      .pid = e->proc.pid,
                                      .comm = e->proc.comm,
                                      .map_count = e->proc.map_count,
                                      .max_map_count = e->max_map_count,
                                      .exit_code = known ? code_s : NULL,
                                      .exit_status = known ? status_s : NULL,
                                      .seconds_since_hit = e->seconds_since_hit,
                                      .syscall = e->proc.hit_syscall[0] ? e->proc.hit_syscall : NULL,
                              },
                              tell);
        pending_exit_unlink(e);
        pending_exit_free(e);
}

/* systemd's view, when the unit's cached main-process exit is E's process. Returns true when resolved. */
static bool pending_exit_try_cache(PendingExit *e) {
        WatchedUnit *u = manager_find_unit(e->manager, e->unit);

        if (!u || u->main_exit.code == 0)
                return false;
        /* Without a pid (a user manager's word), an exit learnt after E was last seen alive is E's. */
        if (u->main_exit.pid != 0 ? u->main_exit.pid != (uint32_t) e->proc.pid
                                  : u->main_exit.usec < e->seen_usec)
                return false;
        pending_exit_resolve(e, u->main_exit.code, u->main_exit.status);
        return true;
}

static int pending_exit_ask(PendingExit *e);

static int on_exit_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        PendingExit *e = userdata;
        int r;

        if (pending_exit_try_cache(e))
                return 0;
        r = pending_exit_ask(e);
        if (r < 0) {
                log_debug_errno(r, "Failed to ask systemd how %s pid %d exited: %m", e->unit,
                                (int) e->proc.pid);
                pending_exit_resolve(e, 0, 0);
        }
        return 0;
}

/* Arms E's timer to call CALLBACK after USEC. Returns 0 or -errno. */
static int pending_exit_wait(PendingExit *e, uint64_t usec, sd_event_time_handler_t callback) {
        int r;

        if (!e->timer) {
                r = sd_event_add_time_relative(e->manager->event, &e->timer, CLOCK_MONOTONIC, usec, 0,
                                               callback, e);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(e->timer, "exit-attribution");
                return 0;
        }
        r = sd_event_source_set_time_relative(e->timer, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(e->timer, SD_EVENT_ONESHOT);
        return r;
}

static int pending_exit_retry_later(PendingExit *e) {
        if (++e->tries >= EXIT_TRIES_MAX)
                return -ETIMEDOUT;
        return pending_exit_wait(e, EXIT_RETRY_USEC, on_exit_retry);
}

/* A user's unit: what its manager said of the exit, if anything, has been read by now. */
static int on_user_log_waited(sd_event_source *s, uint64_t usec, void *userdata) {
        PendingExit *e = userdata;

        if (!pending_exit_try_cache(e))
                pending_exit_resolve(e, 0, 0);
        return 0;
}

/* Reads ExecMainPID, ExecMainCode and ExecMainStatus from a GetAll reply of the Service interface. */
static int read_exec_main(sd_bus_message *reply, uint32_t *ret_pid, int32_t *ret_code, int32_t *ret_status) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "ExecMainPID"))
                        r = sd_bus_message_read(reply, "v", "u", ret_pid);
                else if (streq(name, "ExecMainCode"))
                        r = sd_bus_message_read(reply, "v", "i", ret_code);
                else if (streq(name, "ExecMainStatus"))
                        r = sd_bus_message_read(reply, "v", "i", ret_status);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static int on_exec_main(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PendingExit *e = userdata;
        uint32_t pid = 0;
        int32_t code = 0, status = 0;
        int r;

        e->slot = sd_bus_slot_unref(e->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* Not a service systemd knows (any more): its own log has the exit. */
                if (!pending_exit_try_cache(e))
                        pending_exit_resolve(e, 0, 0);
                return 0;
        }
        r = read_exec_main(reply, &pid, &code, &status);
        if (r < 0) {
                log_debug_errno(r, "Failed to parse the main process of %s: %m", e->unit);
                pending_exit_resolve(e, 0, 0);
                return 0;
        }
        if (pid == (uint32_t) e->proc.pid && code != 0) {
                pending_exit_resolve(e, code, status);
                return 0;
        }
        /* A later main process already (systemd restarted the unit): PropertiesChanged told us of the
         * exit before, if it was the main process. */
        if (pid != (uint32_t) e->proc.pid) {
                if (!pending_exit_try_cache(e))
                        pending_exit_resolve(e, 0, 0);
                return 0;
        }
        /* Still its main process, not reaped yet. */
        if (pending_exit_retry_later(e) < 0)
                pending_exit_resolve(e, 0, 0);
        return 0;
}

/* The answer to a question that only makes the round trip (a unit that is not a service has no main
 * process whose exit systemd reports): every signal of systemd's about the exit came before it. */
static int on_round_trip(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PendingExit *e = userdata;

        e->slot = sd_bus_slot_unref(e->slot);
        pending_exit_resolve(e, 0, 0);
        return 0;
}

/* Asks systemd about E's unit: a service's main process (ExecMain*), or, for any other unit, its
 * ActiveState, for the round trip alone. Returns 0 or -errno. */
static int pending_exit_ask(PendingExit *e) {
        _cleanup_free_ char *path = NULL;
        bool service = endswith(e->identity.unit, ".service");
        int r;

        r = sd_bus_path_encode(SYSTEMD_UNIT_PREFIX, e->identity.unit, &path);
        if (r < 0)
                return r;
        if (service)
                return sd_bus_call_method_async(e->manager->bus, &e->slot, SYSTEMD_DEST, path,
                                                "org.freedesktop.DBus.Properties", "GetAll", on_exec_main, e,
                                                "s", "org.freedesktop.systemd1.Service");
        return sd_bus_call_method_async(e->manager->bus, &e->slot, SYSTEMD_DEST, path,
                                        "org.freedesktop.DBus.Properties", "Get", on_round_trip, e, "ss",
                                        "org.freedesktop.systemd1.Unit", "ActiveState");
}

void manager_exits_judge(Manager *m, WatchedUnit *u, const ProcState *p) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool recent, at_limit;
        PendingExit *e;

        recent = p->last_hit_usec > 0 && now < p->last_hit_usec + EXIT_AFTER_HIT_USEC;
        at_limit = p->last_hit_usec > 0 && m->limits.live > 0 &&
                (uint64_t) p->map_count + LIMIT_HIT_MARGIN >= m->limits.live;
        if (!recent && !at_limit)
                return;

        e = calloc(1, sizeof(*e));
        if (!e || !(e->unit = strdup(u->name))) {
                free(e);
                log_warning_errno(-ENOMEM, "Failed to attribute the exit of %s pid %d: %m", u->name,
                                  (int) p->pid);
                return;
        }
        e->manager = m;
        e->identity = u->identity;
        e->proc = *p;
        e->max_map_count = m->limits.live;
        e->seconds_since_hit = (now - p->last_hit_usec) / USEC_PER_SEC;
        e->seen_usec = p->seen_usec;
        e->next = m->pending_exits;
        m->pending_exits = e;

        /* A user's unit: after its manager has had time to say in the journal how it ended. */
        if (u->identity.kind == UNIT_KIND_USER) {
                if (pending_exit_wait(e, EXIT_USER_LOG_WAIT_USEC, on_user_log_waited) < 0)
                        pending_exit_resolve(e, 0, 0);
                return;
        }
        /* Decided after a round trip to systemd: a stop that was asked for may still be on its way. */
        if (!m->watching_systemd || pending_exit_ask(e) < 0)
                pending_exit_resolve(e, 0, 0);
}

void manager_exits_unit_dropped(Manager *m, const WatchedUnit *u) {
        for (PendingExit *e = m->pending_exits; e; e = e->next)
                if (streq(e->unit, u->name))
                        e->asked_stop = u->asked_stop;
}

void manager_exits_done(Manager *m) {
        while (m->pending_exits) {
                PendingExit *e = m->pending_exits;

                m->pending_exits = e->next;
                pending_exit_free(e);
        }
}
