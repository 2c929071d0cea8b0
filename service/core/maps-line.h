/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One line of /proc/PID/maps, "START-END PERMS OFFSET DEV INODE [NAME]", parsed. Pure logic.
 *
 * The kernel writes START and END in hex, PERMS as four letters ("rw-p", "r-xs"), and NAME from column
 * 74 on (after padding spaces) when the mapping has one: an absolute path (a newline in it written as
 * "\012", a deleted file's followed by " (deleted)"), or a bracketed name ("[heap]", "[anon:NAME]"), or
 * what a pseudo file is called ("anon_inode:[perf_event]"). An anonymous mapping's line ends after the
 * inode (and a space). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAPS_PERM_READ 0x1U
#define MAPS_PERM_WRITE 0x2U
#define MAPS_PERM_EXEC 0x4U
#define MAPS_PERM_SHARED 0x8U

typedef struct MapsLine {
        uint64_t start, end; /* END may be below START in a line the kernel did not write */
        uint8_t perms;       /* MAPS_PERM_* */
        const char *name;    /* into the line; not NUL-terminated */
        size_t name_len;     /* 0: anonymous */
} MapsLine;

/* Parses the LEN bytes of LINE (without its newline; it need not be NUL-terminated). The name is the rest
 * of the line after the inode and the spaces that follow it, up to a NUL if there is one (no name the
 * kernel writes holds a NUL). Returns true and fills *RET; false when the addresses, the permissions or
 * the three fields after them are missing or malformed (*RET untouched). */
bool maps_line_parse(const char *line, size_t len, MapsLine *ret);
