/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading what explain_maps() (explain.h) takes from /proc: the maps text, read once (never smaps), and
 * the stack pointer each thread is stopped at. Pure logic apart from reading files below ROOT (a prefix
 * for /proc, NULL or "/" for the real one): no logging.
 *
 * ROOT/proc/PID/task/TID/syscall says, of a thread:
 *   "NR A1 A2 A3 A4 A5 A6 SP PC"   blocked in system call NR: SP is its user stack pointer
 *   "-1 SP PC"                     blocked outside a system call
 *   "running"                      on a CPU: no stack pointer (explain.h says how its stack is found then)
 * A thread past its exit (a leader that exited before its threads, a thread being torn down) reads
 * "-1 0x0 0x0" and is skipped: it has no stack any more. Reading the file takes ptrace attach access
 * (PTRACE_MODE_ATTACH: root, or CAP_SYS_PTRACE as mapguardd has), more than maps needs; a thread whose
 * file cannot be read for that reason is counted with an unknown pointer, as a running one. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "explain.h"

/* Parses the NUL-terminated text of a task's syscall file as above. Returns 1 and *RET_SP for a stopped
 * thread (*RET_SP 0 for one past its exit), 0 for "running" (*RET_SP untouched), -EBADMSG for anything
 * else (*RET_SP untouched). */
int explain_parse_syscall(const char *text, uint64_t *ret_sp);

/* The threads whose stack pointers explain_process() reads. Each syscall file costs about 14 µs (1,001
 * threads took 13-17 ms here), and a thread leak at the default limit has 30,000 threads: past this many,
 * the threads count with unknown pointers, and their stacks are found as running threads' are (explain.h:
 * the pattern, at the size of most stacks found by pointer). The JVM fixture's 520 threads read 64 at a
 * time find the same 519 stacks as all read. */
#define EXPLAIN_STACK_POINTERS_MAX 64U

typedef struct ExplainInput {
        char *maps; /* NUL-terminated; MAPS_LEN bytes before the NUL */
        size_t maps_len;
        uint64_t *stack_pointers; /* one per thread; 0 when unknown (running, or past the maximum) */
        size_t n_threads;
} ExplainInput;

/* Reads ROOT/proc/PID/maps once, then the stack pointers of at most MAX_STACK_POINTERS threads from
 * ROOT/proc/PID/task/TID/syscall (SIZE_MAX: all of them; the threads beyond count, as many as
 * ROOT/proc/PID/status says, with pointer 0), all through one open ROOT/proc/PID directory, so that a pid
 * reused meanwhile is never read. A thread that vanished mid-read (its files gone, or empty) is skipped. A
 * process whose main thread has exited while others live on has an empty maps file: the maps are read
 * through a live thread then, and that leader is no thread. Returns 0 and fills *RET (free it with
 * explain_input_done()); -ESRCH when the process is gone, -ENODATA when it has no mm (a kernel thread, a
 * zombie), -EACCES/-EPERM without ptrace read access to its maps, -EINVAL for a PID <= 0, -EBADMSG when its
 * status cannot be parsed, -ENOMEM, other -errno on I/O failure. *RET untouched on failure. */
int explain_read(const char *root, pid_t pid, size_t max_stack_pointers, ExplainInput *ret);

/* Frees what INPUT holds and zeroes it (a zeroed one is fine). */
void explain_input_done(ExplainInput *input);

/* explain_read() of EXPLAIN_STACK_POINTERS_MAX pointers and explain_maps() in one: returns what either
 * returns; *RET untouched on failure. */
int explain_process(const char *root, pid_t pid, Explain **ret);
