/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Counting a process's memory mappings from /proc, and the identity (comm, uid, start time) that
 * tells a process apart from a later one that reuses its pid. Pure logic: no logging, no bus. */

#include <stdint.h>
#include <sys/types.h>

typedef struct ProcSample {
        pid_t pid;
        pid_t tgid;          /* thread-group id from status (0 when not read): pid itself for a process */
        uid_t uid;           /* the owner, from /proc/PID/status "Uid:": the real uid when the effective
                              * and saved ones are the same, else 0 (a setuid process is root's) */
        char comm[16];       /* from /proc/PID/stat, between the first '(' and the LAST ')' */
        uint64_t start_time; /* field 22 of /proc/PID/stat (clock ticks since boot) */
        unsigned map_count;  /* the kernel's mm->map_count */
} ProcSample;

/* Counts lines of ROOT/proc/PID/maps with open()+read()+memchr() (no stdio, never smaps, no
 * PROCMAP_QUERY), minus the gate area line ("[vsyscall]", only where present; it is the last line).
 * A last line without a newline (truncated read) still counts.
 * Returns 0 and *ret_count, -ESRCH when the process is gone, -EACCES/-EPERM without ptrace access,
 * other -errno on I/O failure. An empty maps file (kernel thread or zombie: no mm) returns -ENODATA. */
int proc_count_maps(const char *root, pid_t pid, unsigned *ret_count);

/* Full sample of a thread-group leader: stat (comm, state, start time) before, maps, stat after; if the
 * start time changed (pid reused) or it vanished: -ESRCH. Zombies (state Z/X) and kernel threads
 * (PF_KTHREAD flag in stat field 9, or empty maps): -ENODATA. A zombie leader whose other threads live
 * on (it called pthread_exit()) is a live process: its maps are read through one of those threads.
 * -EACCES/-EPERM without ptrace access, -EBADMSG when stat or status cannot be parsed, other -errno on I/O
 * failure. */
int proc_sample(const char *root, pid_t pid, ProcSample *ret);
/* The same without the owner (uid is left (uid_t) -1): what a scan pass needs, one file less per
 * process. Same return values. */
int proc_sample_count(const char *root, pid_t pid, ProcSample *ret);

/* Only stat and status: comm, uid, start time, no maps (map_count left 0). Used by the BPF backend.
 * Returns 0, -ESRCH when the process is gone, -ENODATA for zombies (unless a thread lives on) and
 * kernel threads (they have no mm, so no map count to attach the identity to), -EBADMSG on unparsable
 * stat/status, other -errno. */
int proc_sample_identity(const char *root, pid_t pid, ProcSample *ret);
