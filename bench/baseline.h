/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The hand-made ways of counting mappings that the daemon's scan is measured against. Both find the
 * processes through cgroup.procs of the bench host's sub-cgroups (bench-host.h). */

#include <stdint.h>

/* The baseline: for each process, open() + read() of /proc/PID/maps in 64 KiB chunks + memchr() for
 * newlines, and nothing more. Returns 0 and the number of lines read (maps plus each process's
 * gate-area line), or -errno when a cgroup.procs cannot be read; a process that vanished is skipped. */
int baseline_plain_pass(uint64_t *ret_lines);

/* The seed's method: one posix_spawn()ed `wc -l /proc/PID/maps` per process (output to /dev/null),
 * waited for, as a shell loop would run it. Returns 0, or -errno (-ENOENT when wc is not in PATH,
 * -EIO when a wc failed). */
int baseline_wc_pass(void);
