/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "manager-exits.h"
#include "manager-units.h"
#include "manager-user-log.h"
#include "util.h"

/* The value of FIELD in the current entry ("FIELD=value", not NUL-terminated) into BUF, "" when absent
 * or longer than BUF. Returns BUF, or NULL when absent. */
static const char *entry_field(sd_journal *j, const char *field, char *buf, size_t size) {
        const void *data;
        size_t len, prefix = strlen(field) + 1;

        if (sd_journal_get_data(j, field, &data, &len) < 0 || len < prefix || len - prefix >= size)
                return NULL;
        memcpy(buf, (const char *) data + prefix, len - prefix);
        buf[len - prefix] = '\0';
        return buf;
}

/* A decimal number in S, within [MIN, MAX]. Returns true when S is one. */
static bool parse_number(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        if (!s || !*s)
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

bool manager_user_log_apply(Manager *m, const UserLogEntry *e) {
        char expected[64], name[512];
        WatchedUnit *u;
        long uid, job = 0, status;
        int32_t code;

        /* From a user manager only: its own process, in its own init.scope. */
        if (!e->message_id || !e->user_unit || !e->systemd_unit || !e->systemd_user_unit ||
            !streq(e->systemd_user_unit, "init.scope") || !parse_number(e->uid, 1, INT32_MAX, &uid))
                return false;
        snprintf(expected, sizeof(expected), "user@%ld.service", uid);
        if (!streq(e->systemd_unit, expected))
                return false;
        if (snprintf(name, sizeof(name), "%s/%s", expected, e->user_unit) >= (int) sizeof(name))
                return false;

        if (streq(e->message_id, SYSTEMD_MESSAGE_UNIT_STOPPING) ||
            streq(e->message_id, SYSTEMD_MESSAGE_UNIT_STOPPED)) {
                if (!parse_number(e->job_id, 1, UINT32_MAX, &job))
                        return false;
                if (streq(e->message_id, SYSTEMD_MESSAGE_UNIT_STOPPING)) {
                        /* Logged once the manager sent the stop signal: the unit is deactivating. */
                        manager_units_job_seen(m, name, "deactivating", (uint32_t) job);
                        return true;
                }
                /* A unit stopped while it waited to restart has no "Stopping" line: the stop is the job's
                 * all the same (the automatic restart's own job says "restart"). */
                if (e->job_type && streq(e->job_type, "stop"))
                        manager_units_job_seen(m, name, "deactivating", (uint32_t) job);
                manager_units_job_removed(m, name, (uint32_t) job);
                return true;
        }
        if (!streq(e->message_id, SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT) || !e->exit_code ||
            !parse_number(e->exit_status, 0, 255, &status))
                return false;
        if (streq(e->exit_code, "exited"))
                code = CLD_EXITED;
        else if (streq(e->exit_code, "killed"))
                code = CLD_KILLED;
        else if (streq(e->exit_code, "dumped"))
                code = CLD_DUMPED;
        else
                return false;
        u = manager_find_unit(m, name);
        if (!u)
                return false;
        /* The entry names no pid: it is the exit of the unit's main process, whichever it was. */
        manager_exits_main_exit(u, 0, code, (int32_t) status, NULL);
        return true;
}

static void manager_user_log_read(Manager *m) {
        sd_journal *j = m->user_log.journal;
        int r;

        r = sd_journal_process(j);
        if (r < 0) {
                log_debug_errno(r, "Failed to process journal changes: %m");
                return;
        }
        while ((r = sd_journal_next(j)) > 0) {
                char id[40], uid[16], unit[256], user_unit_self[64], user_unit[256], job[16], job_type[32],
                        code[16], status[16];
                UserLogEntry e = {
                        .message_id = entry_field(j, "MESSAGE_ID", id, sizeof(id)),
                        .uid = entry_field(j, "_UID", uid, sizeof(uid)),
                        .systemd_unit = entry_field(j, "_SYSTEMD_UNIT", unit, sizeof(unit)),
                        .systemd_user_unit =
                                entry_field(j, "_SYSTEMD_USER_UNIT", user_unit_self, sizeof(user_unit_self)),
                        .user_unit = entry_field(j, "USER_UNIT", user_unit, sizeof(user_unit)),
                        .job_id = entry_field(j, "JOB_ID", job, sizeof(job)),
                        .job_type = entry_field(j, "JOB_TYPE", job_type, sizeof(job_type)),
                        .exit_code = entry_field(j, "EXIT_CODE", code, sizeof(code)),
                        .exit_status = entry_field(j, "EXIT_STATUS", status, sizeof(status)),
                };

                (void) manager_user_log_apply(m, &e);
        }
        if (r < 0)
                log_debug_errno(r, "Failed to read the journal: %m");
}

static int on_user_log(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        manager_user_log_read(userdata);
        return 0;
}

/* The entries of interest: the four MESSAGE_IDs (one field: ORed), from a user manager's init.scope. */
static int user_log_add_matches(sd_journal *j) {
        static const char *const matches[] = {
                "MESSAGE_ID=" SYSTEMD_MESSAGE_UNIT_STOPPING,
                "MESSAGE_ID=" SYSTEMD_MESSAGE_UNIT_STOPPED,
                "MESSAGE_ID=" SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT,
                "MESSAGE_ID=" SYSTEMD_MESSAGE_UNIT_STARTING,
                "_SYSTEMD_USER_UNIT=init.scope",
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(matches); i++) {
                r = sd_journal_add_match(j, matches[i], 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

int manager_user_log_start(Manager *m) {
        sd_journal *j = NULL;
        int r, fd;

        if (m->user_log.journal)
                return 0;
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r >= 0)
                r = user_log_add_matches(j);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        /* Onto the last entry, so that the next one is the first to come. */
        if (r >= 0)
                r = sd_journal_previous(j);
        if (r >= 0)
                r = fd = sd_journal_get_fd(j);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->user_log.source, fd, sd_journal_get_events(j), on_user_log,
                                    m);
        if (r < 0) {
                if (r != m->user_log.error)
                        log_warning_errno(
                                r,
                                "Failed to follow the journal for what users' managers say of their "
                                "units; exits of user units after a limit hit are judged without it: %m");
                m->user_log.error = r;
                sd_journal_close(j);
                return r;
        }
        (void) sd_event_source_set_description(m->user_log.source, "user-manager-log");
        m->user_log.journal = j;
        m->user_log.error = 0;
        return 0;
}

void manager_user_log_stop(Manager *m) {
        m->user_log.source = sd_event_source_disable_unref(m->user_log.source);
        sd_journal_close(m->user_log.journal);
        m->user_log.journal = NULL;
}
