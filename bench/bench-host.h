/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The benchmark's synthetic host: a cgroup2 tree of its own, mapguard-bench-<pid>, with
 * BENCH_HOST_CGROUPS sub-cgroups and forked processes holding many mappings, spread over them.
 * Everything it creates is removed by bench_host_cleanup(), also on SIGINT/SIGTERM/SIGHUP. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_HOST_CGROUPS 8U
/* A process's map count must stay below the default vm.max_map_count (65530), which the bench
 * never changes. */
#define BENCH_HOST_VMAS_MAX 65000U

/* Finds the cgroup2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one.
 * Returns 0 and a static string in *ret, -ENOMEDIUM when neither is cgroup2. */
int bench_host_find_cgroup2(const char **ret);

/* Installs the handlers that clean up and exit on SIGINT/SIGTERM/SIGHUP. Returns 0 or -errno. */
int bench_host_install_signal_handlers(void);

/* Creates MOUNT/mapguard-bench-<pid>/w0..w7, then forks N_PROCS processes with about VMAS mappings
 * and N_BIG with about BIG_VMAS (both <= BENCH_HOST_VMAS_MAX), round-robin over the sub-cgroups, and
 * waits until each has its mappings (at most 2 minutes). Returns 0 and the sum of their map counts,
 * or -errno (a message naming what failed is printed to stderr); what was created is left for
 * bench_host_cleanup(). */
int bench_host_setup(const char *mount, unsigned n_procs, unsigned vmas, unsigned n_big, unsigned big_vmas,
                     uint64_t *ret_total_maps);

/* Makes the tree at DIR (set up by another process, see bench-rss.h) this process's host for
 * bench_host_dir()/bench_host_cgroup(), without owning it: bench_host_cleanup() leaves it alone.
 * Returns 0, -ENAMETOOLONG, or -errno when a sub-cgroup is missing. */
int bench_host_attach(const char *dir);

/* The top directory and sub-cgroup I (absolute paths), valid after a successful setup or attach. */
const char *bench_host_dir(void);
const char *bench_host_cgroup(unsigned i);

/* fork(), but the child gets the default signal dispositions (it never runs the parent's cleanup)
 * and is killed when the parent dies; the parent records the pid for the cleanup before an interrupt
 * can run it: as a workload process, or as the one HELPER (the RSS child). Returns as fork() does. */
pid_t bench_host_fork(bool helper);

/* Records a short-lived child (a spawned wc) to be killed on an interrupt; 0 clears it. Call with the
 * signals blocked between creating the child and recording it. */
void bench_host_set_helper(pid_t pid);

/* Blocks SIGINT/SIGTERM/SIGHUP (the previous mask in *RET_OLD), and restores the mask. */
void bench_host_block_signals(sigset_t *ret_old);
void bench_host_restore_signals(const sigset_t *old);

/* Kills and reaps every process forked for the host and removes the cgroups. Async-signal-safe;
 * idempotent. */
void bench_host_cleanup(void);
