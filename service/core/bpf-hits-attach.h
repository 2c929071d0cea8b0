/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Attaching the limit-hit programs to the kernel and detaching them again, for bpf_hits_arm()
 * (bpf-hits.h), in each mode:
 * - fexit and sys_exit: one BPF_RAW_TRACEPOINT_OPEN link per program; closing a link takes well under a
 *   millisecond.
 * - tracepoint: for each syscalls:sys_exit_<call> event the loader found, a perf event
 *   (perf_event_open(PERF_TYPE_TRACEPOINT), all tasks, CPU 0) and a BPF link from one copy of the program
 *   to it: ~0.05 ms per event. Releasing them is what costs: the kernel waits for an RCU grace period
 *   when the program is detached and another when the event's tracepoint is unregistered (serialised
 *   by a kernel mutex), ~70 ms per event, ~0.65 s for fifteen. So the fds are handed to a child process
 *   that closes them (the caller only forks and closes its copies), and the next attach uses the other
 *   copy of the program while the kernel still holds the first (it refuses a program attached twice to
 *   one event: EEXIST).
 * Uses bpf(2) and perf_event_open(2) directly, no libbpf. Forks: the caller must be single-threaded. */

#include <stdbool.h>
#include <sys/types.h>

#include "bpf-hits.h"

typedef struct BpfHitsAttach BpfHitsAttach;

/* Takes the program fds of FDS (prog_fds, n_progs, tracepoint, tracepoint_ids; closed on failure too,
 * and set to -EBADF either way; the map fds are left alone) for MODE. Returns 0 and a new, detached
 * BpfHitsAttach in *ret; -EINVAL when the fds do not fit the mode (tracepoint: MAPGUARD_HIT_COPIES
 * programs and at least one event id; fexit: 1-16 programs; sys_exit: one); -ENOMEM. */
int bpf_hits_attach_new(BpfHitsAttach **ret, BpfHitsMode mode, BpfHitsFds *fds);

/* Detaches (handing a tracepoint attachment to a child as usual), waits for every child that is
 * releasing one, and closes the programs. Accepts NULL; returns NULL. */
BpfHitsAttach *bpf_hits_attach_free(BpfHitsAttach *a);

/* Attaches the programs: in tracepoint mode the copy (hits.h: MAPGUARD_HIT_COPIES) that no child is
 * still releasing; when both are, it first waits for the older child (up to ~0.7 s: only when attaching
 * for the third time within a second or so). The other modes have copy 0 only. Returns the copy
 * attached (also when attached already: it then only reaps the children that are done), or the -errno of
 * waitpid() or of the first attach that failed (then nothing is attached). */
int bpf_hits_attach(BpfHitsAttach *a);

/* Detaches. Tracepoint mode: forks a child that closes the links and events, so that the caller does
 * not wait for the kernel (when fork() fails, closes them here, waiting). Also when detached already,
 * reaps the children that are done (bpf_hits_attach() does too). Returns 0. */
int bpf_hits_attach_detach(BpfHitsAttach *a);

/* Returns the attached copy, or -1 when detached. */
int bpf_hits_attach_copy(const BpfHitsAttach *a);

/* Waits for every child still releasing a detached attachment, i.e. until the kernel runs no detached
 * program any more. Returns 0 or the -errno of waitpid(). */
int bpf_hits_attach_wait_released(BpfHitsAttach *a);
