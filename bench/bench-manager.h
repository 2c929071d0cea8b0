/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager the bench times and measures: built as the daemon builds it, over the bench host's
 * sub-cgroups (bench-host.h). */

#include <stdint.h>

#include "manager.h"

/* A Manager over the bench's cgroups, as the daemon builds it, after one untimed pass (which reads
 * every process's identity and, for the big ones, logs their first level): one unit
 * mapguard-bench-wN.service per sub-cgroup, with BACKEND and INTERVAL_USEC. Returns 0 and the Manager
 * in *ret, -ENOMEDIUM (with a message on stderr) when the Manager finds the cgroup hierarchy elsewhere
 * than at MOUNT, or the -errno of building it or of the pass. */
int bench_manager_new(const char *mount, Backend backend, uint64_t interval_usec, Manager **ret);
