/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

static int log_max_priority = LOG_INFO;

void log_set_max_priority(int priority) {
        log_max_priority = priority;
}

int log_get_max_priority(void) {
        return log_max_priority;
}

int log_priority_from_string(const char *s) {
        static const char *const names[] = { "emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

int log_internal(int priority, int error, const char *file, int line, const char *func, const char *format,
                 ...) {
        char message[2048];
        char code_file[512], code_line[32];
        va_list ap;
        int r;

        error = error < 0 ? -error : error;
        if (priority > log_max_priority)
                return -error;

        /* %m must see the error we were handed, not whatever errno is now. */
        errno = error;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
        snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
        if (error > 0)
                r = sd_journal_send_with_location(code_file, code_line, func, "PRIORITY=%i", priority,
                                                  "ERRNO=%i", error, "MESSAGE=%s", message, NULL);
        else
                r = sd_journal_send_with_location(code_file, code_line, func, "PRIORITY=%i", priority,
                                                  "MESSAGE=%s", message, NULL);
        /* Started by hand (a terminal, a script, a test) the caller reads stderr, and there may be no
         * journal at all; under systemd stderr is the journal itself (JOURNAL_STREAM), so say it once. */
        if (r < 0 || !getenv("JOURNAL_STREAM"))
                fprintf(stderr, "mapguardd: %s\n", message);

        return -error;
}

/* The entry a transition gets: the level it arrived at, whichever way it came (critical -> warning is
 * still a warning); "recovered" only once back at ok. */
