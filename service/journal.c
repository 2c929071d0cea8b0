/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "crash-loop.h"
#include "escape.h"
#include "journal.h"
#include "messages.h"
#include "util.h"

#define STRINGIFY_INNER(x) #x
#define STRINGIFY(x) STRINGIFY_INNER(x)

static const char *message_id_for(const JournalProc *p, int *ret_priority) {
        if (p->new_level == p->old_level)
                return NULL;
        switch (p->new_level) {
        case LEVEL_CRITICAL:
                *ret_priority = LOG_CRIT;
                return MAPGUARD_MESSAGE_CRITICAL_STR;
        case LEVEL_WARNING:
                *ret_priority = LOG_WARNING;
                return MAPGUARD_MESSAGE_WARNING_STR;
        case LEVEL_OK:
                if (p->old_level < LEVEL_WARNING)
                        return NULL; /* a first reading, not a recovery */
                *ret_priority = LOG_NOTICE;
                return MAPGUARD_MESSAGE_RECOVERED_STR;
        default:
                return NULL;
        }
}

int journal_level_changed(const JournalProc *p) {
        const char *id, *old_s = level_to_string(p->old_level), *new_s = level_to_string(p->new_level);
        int priority = LOG_INFO;
        char message[512], comm[64];
        unsigned percent;

        id = message_id_for(p, &priority);
        if (!id)
                return 0;

        percent = p->max_map_count > 0 ? (unsigned) ((uint64_t) p->map_count * 100 / p->max_map_count) : 0;
        /* A process names itself: its name must not forge a line in MESSAGE or send escape codes to a
         * terminal. The MAPGUARD_COMM field keeps it as it is. */
        escape_printable_buf(comm, sizeof(comm), p->comm, 0);
        if (streq(id, MAPGUARD_MESSAGE_RECOVERED_STR))
                snprintf(message, sizeof(message),
                         "%s: process %d (%s) is back to %s: %u of %u memory maps (%u%%), headroom %u.",
                         p->unit, (int) p->pid, comm, new_s, p->map_count, p->max_map_count, percent,
                         p->headroom);
        else
                snprintf(message, sizeof(message),
                         "%s: process %d (%s) uses %u of %u memory maps (%u%%), headroom %u: %s.", p->unit,
                         (int) p->pid, comm, p->map_count, p->max_map_count, percent, p->headroom, new_s);

        return sd_journal_send_with_location(
                "CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__, "MESSAGE_ID=%s", id,
                "PRIORITY=%i", priority, "MESSAGE=%s", message, "MAPGUARD_UNIT=%s", p->unit,
                "MAPGUARD_PID=%d", (int) p->pid, "MAPGUARD_COMM=%s", p->comm, "MAPGUARD_MAP_COUNT=%u",
                p->map_count, "MAPGUARD_MAX_MAP_COUNT=%u", p->max_map_count, "MAPGUARD_HEADROOM=%u",
                p->headroom, "MAPGUARD_LEVEL=%s", new_s, "MAPGUARD_OLD_LEVEL=%s", old_s, "OBJECT_PID=%d",
                (int) p->pid, NULL);
}

int journal_limit_changed(unsigned old_max, unsigned new_max) {
        return sd_journal_send_with_location(
                "CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__, "MESSAGE_ID=%s",
                MAPGUARD_MESSAGE_LIMIT_CHANGED_STR, "PRIORITY=%i", LOG_NOTICE,
                "MESSAGE=vm.max_map_count changed from %u to %u.", old_max, new_max,
                "MAPGUARD_MAX_MAP_COUNT=%u", new_max, "MAPGUARD_OLD_MAX_MAP_COUNT=%u", old_max, NULL);
}

int journal_below_tuned(unsigned live_max, unsigned tuned_max, const char *source) {
        return sd_journal_send_with_location(
                "CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__, "MESSAGE_ID=%s",
                MAPGUARD_MESSAGE_BELOW_TUNED_STR, "PRIORITY=%i", LOG_WARNING,
                "MESSAGE=vm.max_map_count is %u, below the %u that %s asks for; "
                "systemd-sysctl did not apply it, or something lowered it since.",
                live_max, tuned_max, source ? source : "sysctl.d", "MAPGUARD_MAX_MAP_COUNT=%u", live_max,
                "MAPGUARD_TUNED_MAX_MAP_COUNT=%u", tuned_max, "MAPGUARD_TUNED_SOURCE=%s",
                source ? source : "", NULL);
}

/* The fields of one entry, built one by one: some are there only when known. */
typedef struct Fields {
        struct iovec iov[24];
        size_t n;
        bool oom;
} Fields;

static void fields_add(Fields *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void fields_add(Fields *f, const char *format, ...) {
        va_list ap;
        char *s;

        if (f->n >= ELEMENTSOF(f->iov)) {
                f->oom = true;
                return;
        }
        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0) {
                f->oom = true;
                s = NULL;
        }
        va_end(ap);
        if (s)
                f->iov[f->n++] = (struct iovec){ .iov_base = s, .iov_len = strlen(s) };
}

static void fields_done(Fields *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->iov[i].iov_base);
        f->n = 0;
}

/* Sends F with our CODE_FILE/CODE_LINE/CODE_FUNC. */
static int fields_send(Fields *f, const char *line, const char *func) {
        int r;

        r = f->oom ? -ENOMEM
                   : sd_journal_sendv_with_location("CODE_FILE=" __FILE__, line, func, f->iov, (int) f->n);
        fields_done(f);
        return r;
}

/* The fields every entry about a process has; OBJECT_SYSTEMD_UNIT as well, for a process that is gone. */
static void fields_add_process(Fields *f, const char *unit, pid_t pid, const char *comm, unsigned map_count,
                               unsigned max_map_count) {
        fields_add(f, "MAPGUARD_UNIT=%s", unit);
        fields_add(f, "MAPGUARD_PID=%d", (int) pid);
        fields_add(f, "MAPGUARD_COMM=%s", comm);
        fields_add(f, "MAPGUARD_MAP_COUNT=%u", map_count);
        fields_add(f, "MAPGUARD_MAX_MAP_COUNT=%u", max_map_count);
        fields_add(f, "MAPGUARD_HEADROOM=%u", map_count < max_map_count ? max_map_count - map_count : 0);
        fields_add(f, "MAPGUARD_LEVEL=%s", level_to_string(LEVEL_CRITICAL));
        fields_add(f, "OBJECT_PID=%d", (int) pid);
        fields_add(f, "OBJECT_SYSTEMD_UNIT=%s", unit);
}

int journal_limit_hit(const JournalHit *h) {
        Fields f = {};
        char comm[64];

        escape_printable_buf(comm, sizeof(comm), h->comm, 0);
        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_LIMIT_HIT_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        if (h->syscall)
                fields_add(
                        &f,
                        "MESSAGE=%s: process %d (%s) hit the memory map limit: %s() failed with %s %" PRIu64
                        " time%s at %u of %u maps (vm.max_map_count).",
                        h->unit, (int) h->pid, comm, h->syscall, h->errno_name ? h->errno_name : "an error",
                        h->hits, h->hits == 1 ? "" : "s", h->map_count, h->max_map_count);
        else
                fields_add(&f,
                           "MESSAGE=%s: process %d (%s) is at the memory map limit: %u of %u maps "
                           "(vm.max_map_count); its calls that split a mapping fail, new mappings one "
                           "map later.",
                           h->unit, (int) h->pid, comm, h->map_count, h->max_map_count);
        fields_add_process(&f, h->unit, h->pid, h->comm, h->map_count, h->max_map_count);
        if (h->syscall)
                fields_add(&f, "MAPGUARD_SYSCALL=%s", h->syscall);
        if (h->errno_name)
                fields_add(&f, "MAPGUARD_ERRNO=%s", h->errno_name);
        fields_add(&f, "MAPGUARD_HITS=%" PRIu64, h->hits);
        fields_add(&f, "MAPGUARD_EVIDENCE=%s", h->evidence);
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}

int journal_limit_exit(const JournalExit *e) {
        Fields f = {};
        char comm[64], how[64] = "ended"; /* how, when systemd did not say: it did not necessarily exit */

        escape_printable_buf(comm, sizeof(comm), e->comm, 0);
        if (e->exit_code && e->exit_status)
                snprintf(how, sizeof(how), "%s%s %s", e->exit_code,
                         streq(e->exit_code, "exited") ? " with status" : " by", e->exit_status);
        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_LIMIT_EXIT_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        fields_add(&f,
                   "MESSAGE=%s: process %d (%s) %s %" PRIu64 " s after it hit the memory map limit "
                   "(%u of %u maps): the limit is the likely cause.",
                   e->unit, (int) e->pid, comm, how, e->seconds_since_hit, e->map_count, e->max_map_count);
        fields_add_process(&f, e->unit, e->pid, e->comm, e->map_count, e->max_map_count);
        if (e->exit_code)
                fields_add(&f, "MAPGUARD_EXIT_CODE=%s", e->exit_code);
        if (e->exit_status)
                fields_add(&f, "MAPGUARD_EXIT_STATUS=%s", e->exit_status);
        fields_add(&f, "MAPGUARD_SECONDS_SINCE_HIT=%" PRIu64, e->seconds_since_hit);
        if (e->syscall)
                fields_add(&f, "MAPGUARD_SYSCALL=%s", e->syscall);
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}

int journal_crash_loop(const char *unit, uint64_t loop_exits, uint64_t loop_start_usec, uint64_t hits,
                       unsigned max_map_count) {
        Fields f = {};
        uint64_t now = now_usec(CLOCK_REALTIME);
        uint64_t seconds = now > loop_start_usec ? (now - loop_start_usec) / USEC_PER_SEC : 0;
        char span[32];

        if (seconds < 120)
                snprintf(span, sizeof(span), "%" PRIu64 " s", seconds);
        else
                snprintf(span, sizeof(span), "%" PRIu64 " min", seconds / 60);

        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_CRASH_LOOP_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        fields_add(&f,
                   "MESSAGE=%s is crash-looping at the memory map limit (%u): %" PRIu64 " exits in %s. "
                   "Further cycles are counted (mapguardctl show %s), not logged, until it runs "
                   "%u min without hitting the limit.",
                   unit, max_map_count, loop_exits, span, unit,
                   (unsigned) (CRASH_LOOP_CLEAN_USEC / (60 * USEC_PER_SEC)));
        fields_add(&f, "MAPGUARD_UNIT=%s", unit);
        fields_add(&f, "MAPGUARD_MAX_MAP_COUNT=%u", max_map_count);
        fields_add(&f, "MAPGUARD_LIMIT_EXITS=%" PRIu64, loop_exits);
        fields_add(&f, "MAPGUARD_HITS=%" PRIu64, hits);
        fields_add(&f, "MAPGUARD_LEVEL=%s", level_to_string(LEVEL_CRITICAL));
        fields_add(&f, "OBJECT_SYSTEMD_UNIT=%s", unit);
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}
