/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

/* Daemon logging. Entries go to the journal with CODE_FILE/CODE_LINE/CODE_FUNC of the caller; when the
 * journal cannot be reached (a test, a terminal) the message goes to stderr instead. "%m" works. */

void log_set_max_priority(int priority);
int log_get_max_priority(void);
/* Parses "debug", "info", ..., or a number 0-7. Returns the priority or -EINVAL. */
int log_priority_from_string(const char *s);

/* Always returns -abs(error) (or 0 when error is 0), so callers can `return log_error_errno(r, ...)`. */
int log_internal(int priority, int error, const char *file, int line, const char *func, const char *format,
                 ...) __attribute__((format(printf, 6, 7)));

#define log_full_errno(priority, error, ...) \
        log_internal(priority, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(priority, ...) log_full_errno(priority, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
