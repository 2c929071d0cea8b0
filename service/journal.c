/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

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
        strcpy_printable(comm, sizeof(comm), p->comm);
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
