/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Counting a process's memory mappings from /proc, and the identity (comm, uid, start time) that
 * tells a process apart from a later one that reuses its pid. Pure logic: no logging, no bus. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcSample {
        pid_t pid;
        pid_t tgid;          /* thread-group id from status (0 when not read): pid itself for a process */
        uid_t uid;           /* the owner, from /proc/PID/status "Uid:": the real uid when the effective
                              * and saved ones are the same and the process is dumpable (/proc/PID is
                              * that uid's), else 0 (a setuid process is root's) */
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

/* The parsers behind the functions above, on text already read: what the fuzzers (tests/fuzz/) run. */

/* The fields of /proc/PID/stat that mapguard uses. */
typedef struct ProcStat {
        char comm[16]; /* valid UTF-8, NUL-terminated; cut at 15 bytes */
        char state;
        unsigned long flags;
        uint64_t start_time;
        uint64_t vsize; /* 0 when the task has no mm (any more): read from the mm, not the task */
} ProcStat;

/* Parses the NUL-terminated text of /proc/PID/stat. comm may hold spaces, parentheses and newlines, so
 * it runs from the first '(' to the LAST ')'. Returns 0, or -EBADMSG (RET untouched). */
int proc_stat_parse(const char *buf, ProcStat *ret);

/* Parses the NUL-terminated text of /proc/PID/status: the owner (see ProcSample.uid) from "Uid:", the
 * thread-group id from "Tgid:" (0 when absent). Returns 0, or -EBADMSG (out-parameters untouched). */
int proc_status_parse(const char *buf, uid_t *ret_uid, pid_t *ret_tgid);

/* The gate area line is below 100 bytes; any longer last line cannot be it. */
#define MAPS_GATE_LINE_MAX 256

/* Whether the LEN bytes of LINE (no newline) are the gate area's line: its name field (the 6th, after
 * runs of spaces) is exactly "[vsyscall]" and it is at most MAPS_GATE_LINE_MAX bytes long. Only the last
 * line of a maps file can be the gate: the one definition of what the map count leaves out, shared by
 * the counter below and by everything else that walks maps lines (explain.c). */
bool maps_line_is_gate(const char *line, size_t len);

typedef struct MapsLineBuf {
        char data[MAPS_GATE_LINE_MAX];
        size_t len;
        bool overflow; /* longer than data: cannot be the gate line */
} MapsLineBuf;

/* Counting /proc/PID/maps as it is read, chunk by chunk, chunks cut anywhere: zero-initialise. */
typedef struct MapsCounter {
        MapsLineBuf cur, last; /* the line being read; the last complete one */
        uint64_t lines;
} MapsCounter;

/* Adds the N bytes of BUF (any bytes, NULs included) to the count. */
void maps_counter_feed(MapsCounter *c, const char *buf, size_t n);
/* The count so far, as proc_count_maps() returns it: 0 and *RET_COUNT, -ENODATA for no line at all,
 * -EOVERFLOW beyond UINT32_MAX. */
int maps_counter_finish(const MapsCounter *c, unsigned *ret_count);
