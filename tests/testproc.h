/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Processes for the tests: moving one into a cgroup, reading its state. Unlike testfs.h these do not
 * assert: they run in forked children too, which report failure to the test by other means. */

#include <sys/types.h>

/* Moves the calling process into the cgroup DIR (writes "0", the writer itself in any pid namespace,
 * to DIR/cgroup.procs). Returns 0 or -errno. */
int testproc_join_cgroup(const char *dir);

/* Returns the state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or '?' when it cannot be read. */
char testproc_state(pid_t pid);
