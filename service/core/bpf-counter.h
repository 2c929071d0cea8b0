/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The BPF backend: one pass of a BPF task iterator reads mm->map_count of every process in a set
 * of watched cgroup2 cgroups, filtering in the kernel. A pass costs a fraction of a microsecond
 * per task on the host, whatever the number of mappings, where reading /proc/PID/maps costs time
 * proportional to them. Needs kernel BTF, Linux >= 5.8 (task iterators) and CAP_BPF + CAP_PERFMON
 * (or CAP_SYS_ADMIN); when any is missing the daemon falls back to /proc. */

#include <stddef.h>
#include <stdint.h>

#include "cgroup.h" /* cgroup_id_from_path(): the ids bpf_counter_set_cgroups() takes */

typedef struct BpfCounter BpfCounter;
typedef struct BpfHits BpfHits; /* bpf-hits.h */

typedef struct BpfTaskCount {
        uint32_t pid;           /* the thread-group id in the caller's pid namespace (what its
                                 * cgroup.procs and /proc show): threads are never reported on
                                 * their own */
        uint32_t map_count;     /* mm->map_count, what vm.max_map_count limits */
        uint64_t cgroup_id;     /* the watched cgroup (nearest ancestor-or-self) the process is in */
        uint64_t start_time_ns; /* process start, CLOCK_BOOTTIME ns (/proc/PID/stat's starttime in
                                 * ns): tells a reused pid apart */
        char comm[16];          /* NUL-terminated */
} BpfTaskCount;

/* Loads and verifies the BPF program and attaches the iterator by running mapguard-bpf-loader
 * (bpf/loader.c; $MAPGUARD_BPF_LOADER when set to an absolute path, else the installed one), which
 * hands back only the iterator link and the cgroup map as fds (and the limit-hit program's, see
 * bpf_counter_take_hits(); a limit-hit program that fails to load fails nothing here) and exits: libbpf's
 * parse of the kernel's BTF (~10 MiB of heap) never lands in the caller, which does not link libbpf at all.
 * The loader has the caller's capabilities (for root: its bounding set); the caller waits for it, as long as
 * a load takes (~0.1-0.3 s), and must be single-threaded (it forks).
 *
 * Returns 0 and a new BpfCounter in *ret, or -errno and in *ret_reason a malloc'd reason (the
 * caller frees it; lower case, no final period, made to follow "BPF backend unavailable: ") saying
 * why: -EOPNOTSUPP when mapguard was built without BPF support, the kernel has no BTF
 * (/sys/kernel/btf/vmlinux) or is too old for BPF task iterators; -EPERM when not permitted (needs
 * CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); the -errno of execve() when the loader cannot be run;
 * -EIO when it died without an answer (the reason names the signal); -ETIMEDOUT when it did not
 * answer within 5 s (it is killed, with its process group); another -errno, with
 * libbpf's first warning, when loading failed otherwise. *ret_reason is set only on failure (and
 * left untouched when allocating it fails too). libbpf's own output is silenced while loading. The
 * counter reports pids as seen in the pid namespace of the caller (the loader reads
 * /proc/self/ns/pid: -errno and a reason when that fails); processes not visible there are not
 * reported. Scan from the same namespace. */
int bpf_counter_new(BpfCounter **ret, char **ret_reason);

/* Unloads the program. Accepts NULL; returns NULL. */
BpfCounter *bpf_counter_free(BpfCounter *c);

/* Replaces the set of watched cgroup2 cgroups by their ids (see cgroup_id_from_path(); duplicates
 * are fine). Returns 0; -EINVAL for an id 0 or a NULL array with n > 0; -E2BIG for more than
 * BPF_COUNTER_MAX_CGROUPS distinct ids; -ENOMEM or the -errno of a failed map update, in which
 * case the previous set is still in force. */
int bpf_counter_set_cgroups(BpfCounter *c, const uint64_t *cgroup_ids, size_t n);

#define BPF_COUNTER_MAX_CGROUPS 65536

/* How far up from a task's cgroup the iterator looks for a watched one (the task's own cgroup included):
 * a process more than BPF_COUNTER_MAX_DEPTH - 1 levels below its unit's cgroup is not reported for it. */
#define BPF_COUNTER_MAX_DEPTH 64

/* Runs one pass of the task iterator: every process (thread-group leader with an mm; kernel
 * threads and exited processes are skipped) whose cgroup2 cgroup or one of its ancestors is
 * watched, with the nearest watched one as cgroup_id. Returns the number of processes (>= 0) and a
 * malloc'd array sorted by pid in *ret (NULL when there are none), its length in *ret_n; or -errno
 * (-EBADMSG when the kernel's output is not a whole number of records). */
int bpf_counter_scan(BpfCounter *c, BpfTaskCount **ret, size_t *ret_n);

/* Hands over the limit-hit program that the loader loaded beside the iterator (bpf-hits.h), once: the
 * caller owns it then, and frees it before or with C (it shares C's cgroup set). Returns 0 and the
 * BpfHits (disarmed, limit 0) in *ret, and in *ret_note NULL, or for a mode other than fexit a malloc'd
 * sentence saying why not a better one (bpf_hits_mode_reason() says the same). Or -errno and in *ret_note a
 * malloc'd reason (lower case, no final period): -EOPNOTSUPP when built without BPF, -ENOENT when already
 * taken, else the loader's -errno (no mode would load or attach, the reason says why for each). *ret_note
 * may be NULL after a failed allocation. */
int bpf_counter_take_hits(BpfCounter *c, BpfHits **ret, char **ret_note);

/* What bpf_counter_scan() does with the iterator's output, SIZE bytes in BUF (malloc'd; taken over and
 * freed, also on failure): checked to be whole records (the kernel's word on lengths is not trusted),
 * sorted by pid, one record per pid, comm NUL-terminated and made valid UTF-8. Returns the number of
 * processes (>= 0) with a malloc'd array in *RET (BUF itself, shrunk; NULL when empty) and its length in
 * *RET_N; -EBADMSG when SIZE is not a whole number of records; -EINVAL on NULL out-parameters or a NULL
 * BUF with SIZE > 0; -E2BIG beyond INT_MAX records. Fuzzed in tests/fuzz/. */
int bpf_counter_parse_records(void *buf, size_t size, BpfTaskCount **ret, size_t *ret_n);
