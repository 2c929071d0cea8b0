/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Strings that come from outside -- a process's comm, cgroup and file names, unit names -- are bytes that
 * someone else chose: an ESC starts a terminal control sequence, a CR or newline forges the start of a line,
 * a byte that is no UTF-8 turns a journal MESSAGE into a blob, and a delegated user can make a cgroup name
 * kilobytes long. Every such string is escaped, as systemd escapes them, before it reaches a journal
 * MESSAGE, a log line or a terminal: one function, in two forms (allocating, and into a fixed buffer).
 * Structured fields (MAPGUARD_COMM, the D-Bus and JSON values) keep the string as it is. */

#include <stddef.h>

typedef enum EscapeFlags {
        /* A backslash doubled, so that unescape_printable() gives the string back: for text that is read
         * back (the state file). Without it a backslash stays as it is, as systemd's
         * utf8_escape_non_printable() leaves it for display: a unit name's \x2d reads as systemd writes
         * it. Either way nothing a terminal acts on gets through. */
        ESCAPE_REVERSIBLE = 1 << 0,
} EscapeFlags;

/* What ends a cut result: U+2026, three bytes. */
#define ESCAPE_ELLIPSIS "…"

/* The escape of S: control characters (C0, DEL, and the C1 range U+0080-U+009F, which terminals may
 * take as the start of a control sequence too) as \a \b \t \n \v \f \r, or else \xNN per byte (ESC is
 * \x1b); a backslash doubled with ESCAPE_REVERSIBLE; each byte that belongs to no well-formed UTF-8 sequence
 * as \xNN; printable ASCII and well-formed non-ASCII UTF-8 as they are. The result is valid UTF-8, holds no
 * byte below 0x20 nor 0x7f, and with ESCAPE_REVERSIBLE unescape_printable() gives S back.
 *
 * It is at most MAX_BYTES bytes long (SIZE_MAX: no bound). When the whole escape does not fit, it is cut
 * between two characters of S (never inside an escape or a UTF-8 sequence) and ends with
 * ESCAPE_ELLIPSIS, within the MAX_BYTES; a MAX_BYTES below 3 has no room for it and is cut without.
 *
 * Returns a malloc'd string, or NULL with errno ENOMEM, or EINVAL for a NULL S. */
char *escape_printable(const char *s, size_t max_bytes, EscapeFlags flags);

/* escape_printable() into BUF of SIZE bytes, for hot paths and fixed-size fields: the result is at most
 * SIZE - 1 bytes and always NUL-terminated (SIZE 0 writes nothing; a NULL S is taken as ""). Returns
 * BUF, so that it can be an argument of printf(). */
char *escape_printable_buf(char *buf, size_t size, const char *s, EscapeFlags flags);

/* Undoes escape_printable() with ESCAPE_REVERSIBLE (of a result that was not cut): \\ \a \b \t \n \v \f \r
 * and \xNN (hex digits in either case) become the byte they stand for, everything else stays. Returns 0 and
 * a malloc'd string in *RET; -EINVAL when S holds a backslash that starts none of these escapes, or \x00;
 * -ENOMEM. *RET is untouched on failure. */
int unescape_printable(const char *s, char **ret);
