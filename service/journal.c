/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
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

/* The most bytes of an escaped summary or top source in an entry. */
#define JOURNAL_CAUSE_TEXT_MAX 4096U

/* The fields of one entry, built one by one: some are there only when known. */
typedef struct Fields {
        struct iovec iov[32];
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

/* The fields that say which unit an entry is about: MAPGUARD_UNIT (the watched name) and what the unit is
 * (its user, its Kubernetes names), and OBJECT_SYSTEMD_UNIT (for a user's unit also
 * OBJECT_SYSTEMD_USER_UNIT and OBJECT_SYSTEMD_OWNER_UID), which `journalctl -u` and `--user-unit` match
 * in entries of uid 0, whether the process is alive or not. */
static void fields_add_unit(Fields *f, const char *unit, const UnitIdentity *id) {
        fields_add(f, "MAPGUARD_UNIT=%s", unit);
        if (!id) {
                fields_add(f, "OBJECT_SYSTEMD_UNIT=%s", unit);
                return;
        }
        if (id->unit[0])
                fields_add(f, "OBJECT_SYSTEMD_UNIT=%s", id->unit);
        if (id->kind == UNIT_KIND_USER) {
                fields_add(f, "MAPGUARD_USER_UNIT=%s", id->user_unit);
                fields_add(f, "MAPGUARD_OWNER_UID=%u", (unsigned) id->owner_uid);
                fields_add(f, "OBJECT_SYSTEMD_USER_UNIT=%s", id->user_unit);
                fields_add(f, "OBJECT_SYSTEMD_OWNER_UID=%u", (unsigned) id->owner_uid);
        }
        if (id->k8s_namespace[0])
                fields_add(f, "MAPGUARD_K8S_NAMESPACE=%s", id->k8s_namespace);
        if (id->k8s_pod[0])
                fields_add(f, "MAPGUARD_K8S_POD=%s", id->k8s_pod);
        if (id->k8s_container[0])
                fields_add(f, "MAPGUARD_K8S_CONTAINER=%s", id->k8s_container);
        if (id->pod_uid[0])
                fields_add(f, "MAPGUARD_K8S_POD_UID=%s", id->pod_uid);
        if (id->container_id[0])
                fields_add(f, "MAPGUARD_CONTAINER_ID=%s", id->container_id);
}

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

/* The escaped summary of what a process's maps are, as the sentence that ends a MESSAGE ("62,000 of
 * 64,000 maps are ..."), and the escaped top source. Returns 0, or -ENOMEM. */
static int cause_text(const JournalProc *p, char **ret_sentence, char **ret_source) {
        _cleanup_free_ char *sentence = NULL, *source = NULL;

        /* File names are anyone's: a newline in one must not forge a line of MESSAGE. Bounded, as a
         * source is up to EXPLAIN_SOURCE_MAX bytes and escaping can make each byte four. */
        sentence = escape_printable(p->summary ?: "", JOURNAL_CAUSE_TEXT_MAX, 0);
        source = escape_printable(p->top_source ?: "", JOURNAL_CAUSE_TEXT_MAX, 0);
        if (!sentence || !source)
                return -ENOMEM;
        if (sentence[0] >= 'a' && sentence[0] <= 'z')
                sentence[0] = (char) (sentence[0] - 'a' + 'A');
        *ret_sentence = TAKE_PTR(sentence);
        *ret_source = TAKE_PTR(source);
        return 0;
}

int journal_level_changed(const JournalProc *p) {
        const char *id, *old_s = level_to_string(p->old_level), *new_s = level_to_string(p->new_level);
        _cleanup_free_ char *sentence = NULL, *source = NULL;
        int priority = LOG_INFO, r;
        char comm[64], unit[256];
        unsigned percent;
        bool recovered;
        Fields f = {};

        id = message_id_for(p, &priority);
        if (!id)
                return 0;
        recovered = streq(id, MAPGUARD_MESSAGE_RECOVERED_STR);
        if (!recovered && p->cause) {
                r = cause_text(p, &sentence, &source);
                if (r < 0)
                        return r;
        }

        percent = p->max_map_count > 0 ? (unsigned) ((uint64_t) p->map_count * 100 / p->max_map_count) : 0;
        /* A process names itself: its name must not forge a line in MESSAGE or send escape codes to a
         * terminal. The MAPGUARD_COMM field keeps it as it is. */
        escape_printable_buf(comm, sizeof(comm), p->comm, 0);
        escape_printable_buf(unit, sizeof(unit), p->unit, 0);
        fields_add(&f, "MESSAGE_ID=%s", id);
        fields_add(&f, "PRIORITY=%i", priority);
        if (recovered)
                fields_add(&f,
                           "MESSAGE=%s: process %d (%s) is back to %s: %u of %u memory maps (%u%%), "
                           "headroom %u.",
                           unit, (int) p->pid, comm, new_s, p->map_count, p->max_map_count, percent,
                           p->headroom);
        else
                fields_add(&f,
                           "MESSAGE=%s: process %d (%s) uses %u of %u memory maps (%u%%), headroom %u: "
                           "%s.%s%s%s",
                           unit, (int) p->pid, comm, p->map_count, p->max_map_count, percent, p->headroom,
                           new_s, sentence ? " " : "", sentence ?: "", sentence ? "." : "");
        fields_add_unit(&f, p->unit, p->identity);
        fields_add(&f, "MAPGUARD_PID=%d", (int) p->pid);
        fields_add(&f, "MAPGUARD_COMM=%s", p->comm);
        fields_add(&f, "MAPGUARD_MAP_COUNT=%u", p->map_count);
        fields_add(&f, "MAPGUARD_MAX_MAP_COUNT=%u", p->max_map_count);
        fields_add(&f, "MAPGUARD_HEADROOM=%u", p->headroom);
        fields_add(&f, "MAPGUARD_LEVEL=%s", new_s);
        fields_add(&f, "MAPGUARD_OLD_LEVEL=%s", old_s);
        if (sentence) {
                fields_add(&f, "MAPGUARD_CAUSE=%s", p->cause);
                fields_add(&f, "MAPGUARD_TOP_SOURCE=%s", source);
        }
        fields_add(&f, "OBJECT_PID=%d", (int) p->pid);
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}

int journal_limit_changed(unsigned old_max, unsigned new_max) {
        return sd_journal_send_with_location(
                "CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__, "MESSAGE_ID=%s",
                MAPGUARD_MESSAGE_LIMIT_CHANGED_STR, "PRIORITY=%i", LOG_NOTICE,
                "MESSAGE=vm.max_map_count changed from %u to %u.", old_max, new_max,
                "MAPGUARD_MAX_MAP_COUNT=%u", new_max, "MAPGUARD_OLD_MAX_MAP_COUNT=%u", old_max, NULL);
}

int journal_below_tuned(unsigned live_max, unsigned tuned_max, const char *source) {
        char shown[PATH_MAX];

        /* A file name, as the directory has it: escaped in the MESSAGE, as it is in the field. */
        escape_printable_buf(shown, sizeof(shown), source ? source : "sysctl.d", 0);
        return sd_journal_send_with_location(
                "CODE_FILE=" __FILE__, "CODE_LINE=" STRINGIFY(__LINE__), __func__, "MESSAGE_ID=%s",
                MAPGUARD_MESSAGE_BELOW_TUNED_STR, "PRIORITY=%i", LOG_WARNING,
                "MESSAGE=vm.max_map_count is %u, below the %u that %s asks for; "
                "systemd-sysctl did not apply it, or something lowered it since.",
                live_max, tuned_max, shown, "MAPGUARD_MAX_MAP_COUNT=%u", live_max,
                "MAPGUARD_TUNED_MAX_MAP_COUNT=%u", tuned_max, "MAPGUARD_TUNED_SOURCE=%s",
                source ? source : "", NULL);
}

/* The fields every entry about a process has: OBJECT_PID only while it is known alive (a pid reused since
 * would have journald name another unit), the unit's own fields always. */
static void fields_add_process(Fields *f, const char *unit, const UnitIdentity *id, pid_t pid,
                               const char *comm, unsigned map_count, unsigned max_map_count, bool alive) {
        fields_add_unit(f, unit, id);
        fields_add(f, "MAPGUARD_PID=%d", (int) pid);
        fields_add(f, "MAPGUARD_COMM=%s", comm);
        fields_add(f, "MAPGUARD_MAP_COUNT=%u", map_count);
        fields_add(f, "MAPGUARD_MAX_MAP_COUNT=%u", max_map_count);
        fields_add(f, "MAPGUARD_HEADROOM=%u", map_count < max_map_count ? max_map_count - map_count : 0);
        fields_add(f, "MAPGUARD_LEVEL=%s", level_to_string(LEVEL_CRITICAL));
        if (alive)
                fields_add(f, "OBJECT_PID=%d", (int) pid);
}

int journal_limit_hit(const JournalHit *h) {
        Fields f = {};
        char comm[64], unit[256];

        escape_printable_buf(comm, sizeof(comm), h->comm, 0);
        escape_printable_buf(unit, sizeof(unit), h->unit, 0);
        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_LIMIT_HIT_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        if (h->syscall)
                fields_add(
                        &f,
                        "MESSAGE=%s: process %d (%s) hit the memory map limit: %s() failed with %s %" PRIu64
                        " time%s at %u of %u maps (vm.max_map_count).",
                        unit, (int) h->pid, comm, h->syscall, h->errno_name ? h->errno_name : "an error",
                        h->hits, h->hits == 1 ? "" : "s", h->map_count, h->max_map_count);
        else
                fields_add(&f,
                           "MESSAGE=%s: process %d (%s) is at the memory map limit: %u of %u maps "
                           "(vm.max_map_count); its calls that split a mapping fail, new mappings one "
                           "map later.",
                           unit, (int) h->pid, comm, h->map_count, h->max_map_count);
        fields_add_process(&f, h->unit, h->identity, h->pid, h->comm, h->map_count, h->max_map_count, true);
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
        char comm[64], unit[256], how[64] = "ended"; /* how, when systemd did not say: it did not necessarily
                                                      * exit */

        escape_printable_buf(comm, sizeof(comm), e->comm, 0);
        escape_printable_buf(unit, sizeof(unit), e->unit, 0);
        if (e->exit_code && e->exit_status)
                snprintf(how, sizeof(how), "%s%s %s", e->exit_code,
                         streq(e->exit_code, "exited") ? " with status" : " by", e->exit_status);
        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_LIMIT_EXIT_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        fields_add(&f,
                   "MESSAGE=%s: process %d (%s) %s %" PRIu64 " s after it hit the memory map limit "
                   "(%u of %u maps): the limit is the likely cause.",
                   unit, (int) e->pid, comm, how, e->seconds_since_hit, e->map_count, e->max_map_count);
        fields_add_process(&f, e->unit, e->identity, e->pid, e->comm, e->map_count, e->max_map_count, false);
        if (e->exit_code)
                fields_add(&f, "MAPGUARD_EXIT_CODE=%s", e->exit_code);
        if (e->exit_status)
                fields_add(&f, "MAPGUARD_EXIT_STATUS=%s", e->exit_status);
        fields_add(&f, "MAPGUARD_SECONDS_SINCE_HIT=%" PRIu64, e->seconds_since_hit);
        if (e->syscall)
                fields_add(&f, "MAPGUARD_SYSCALL=%s", e->syscall);
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}

int journal_crash_loop(const char *unit, const UnitIdentity *id, uint64_t loop_exits,
                       uint64_t loop_start_usec, uint64_t hits, unsigned max_map_count) {
        Fields f = {};
        uint64_t now = now_usec(CLOCK_REALTIME);
        uint64_t seconds = now > loop_start_usec ? (now - loop_start_usec) / USEC_PER_SEC : 0;
        char span[32], name[256];

        if (seconds < 120)
                snprintf(span, sizeof(span), "%" PRIu64 " s", seconds);
        else
                snprintf(span, sizeof(span), "%" PRIu64 " min", seconds / 60);
        escape_printable_buf(name, sizeof(name), unit, 0);

        fields_add(&f, "MESSAGE_ID=%s", MAPGUARD_MESSAGE_CRASH_LOOP_STR);
        fields_add(&f, "PRIORITY=%i", LOG_ERR);
        fields_add(&f,
                   "MESSAGE=%s is crash-looping at the memory map limit (%u): %" PRIu64 " exits in %s. "
                   "Further cycles are counted (mapguardctl show %s), not logged, until it runs "
                   "%u min without hitting the limit.",
                   name, max_map_count, loop_exits, span, name,
                   (unsigned) (CRASH_LOOP_CLEAN_USEC / (60 * USEC_PER_SEC)));
        fields_add_unit(&f, unit, id);
        fields_add(&f, "MAPGUARD_MAX_MAP_COUNT=%u", max_map_count);
        fields_add(&f, "MAPGUARD_LIMIT_EXITS=%" PRIu64, loop_exits);
        fields_add(&f, "MAPGUARD_HITS=%" PRIu64, hits);
        fields_add(&f, "MAPGUARD_LEVEL=%s", level_to_string(LEVEL_CRITICAL));
        return fields_send(&f, "CODE_LINE=" STRINGIFY(__LINE__), __func__);
}
