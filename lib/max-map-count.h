/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* vm.max_map_count: the live value, the value the sysctl.d files ask for, and the headroom below it.
 * Pure logic. */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* ROOT/proc/sys/vm/max_map_count. Returns 0 and the value, -errno on failure, -EBADMSG on garbage
 * (anything but a decimal number from 0 to INT_MAX, the kernel's range, with optional whitespace). */
int max_map_count_read_live(const char *root, unsigned *ret);

/* The vm.max_map_count (also accepting the "vm/max_map_count" spelling, and the "-" prefix meaning
 * ignore errors, as systemd-sysctl does) that the sysctl.d files of ROOT ask for, merged like
 * systemd-sysctl: directories /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d
 * (and /lib/sysctl.d unless ROOT/lib or ROOT/lib/sysctl.d is a symlink, i.e. merged /usr), *.conf files
 * ordered by file name across all dirs, a same-named file in an earlier dir masks the later (a symlink
 * to /dev/null masks too and sets nothing), later files win. /etc/sysctl.conf counts only through a link in
 * a sysctl.d dir, as for systemd-sysctl. Like systemd-sysctl, a later assignment replaces an earlier one
 * even when its value is bad: with the "-" prefix a bad value is what systemd-sysctl ignores, so nothing is
 * set; without it the boot would log a failure, and this returns -EBADMSG. Returns 0 with the value and (if
 * ret_source != NULL) a malloc'd path of the file that set it (with ROOT prefixed); -ENOENT when no file
 * sets it (when one did and a later "-" assignment with a bad value cancelled it, that later file in
 * *ret_source if not NULL, else *ret_source untouched); -EBADMSG when the value that counts is one the
 * kernel refuses (systemd-sysctl writes only the last assignment of a key; it fails, and the kernel's
 * default stays), with the file that sets it in *ret_source if not NULL; other -errno on I/O failure. */
int max_map_count_read_tuned(const char *root, unsigned *ret, char **ret_source);

/* The parsers behind the two readers, on text already read: what the fuzzers (tests/fuzz/) run. */

/* The text of /proc/sys/vm/max_map_count: LEN bytes, NUL-terminated after them. Returns 0 and the
 * value, -EBADMSG as max_map_count_read_live() does, -EINVAL when TEXT[LEN] is not NUL. */
int max_map_count_parse_live(const char *text, size_t len, unsigned *ret);

/* The effect of the vm.max_map_count assignments seen so far, across files. Zero-initialise. */
typedef struct MaxMapCountTuned {
        bool set;           /* the last assignment seen is a good value */
        bool bad;           /* ... is a value the kernel refuses, without "-" */
        unsigned value;     /* when set */
        const char *source; /* the PATH of the file of the last assignment, NULL when none */
} MaxMapCountTuned;

/* Applies the LEN bytes of TEXT, a sysctl.d file named PATH (kept as T->source, not copied), to T,
 * line by line as systemd-sysctl reads it. Returns 0, -ENOMEM, -EINVAL on NULL arguments. */
int max_map_count_parse_sysctl(const char *path, const char *text, size_t len, MaxMapCountTuned *t);

/* Returns MAX_MAP_COUNT - MAP_COUNT, clamped at 0 (the limit may be lowered below a live count). */
unsigned max_map_count_headroom(unsigned map_count, unsigned max_map_count);
