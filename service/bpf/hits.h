/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between hits.bpf.c (which gets __u32/__u64 from the generated vmlinux.h) and the daemon's
 * consumer, bpf-hits.c (which gets them from <linux/types.h>): what the program that catches mapping
 * calls failing at vm.max_map_count writes into its ring buffer, and the map that tells it the limit.
 * Fixed sizes, no padding: the layout is the wire format. */

/* The mapping calls that can fail at the limit, as the program reports them: a wire value, the same in
 * every build, never a syscall number (those differ between architectures). limit-hit.h names them. */
enum mapguard_hit_syscall {
        MAPGUARD_HIT_SYSCALL_NONE = 0,
        MAPGUARD_HIT_SYSCALL_MMAP,
        MAPGUARD_HIT_SYSCALL_MUNMAP,
        MAPGUARD_HIT_SYSCALL_MPROTECT,
        MAPGUARD_HIT_SYSCALL_PKEY_MPROTECT,
        MAPGUARD_HIT_SYSCALL_MREMAP,
        MAPGUARD_HIT_SYSCALL_BRK,
        MAPGUARD_HIT_SYSCALL_MADVISE,
        MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE,
        MAPGUARD_HIT_SYSCALL_MLOCK,
        MAPGUARD_HIT_SYSCALL_MLOCK2,
        MAPGUARD_HIT_SYSCALL_MUNLOCK,
        MAPGUARD_HIT_SYSCALL_MSEAL,
        MAPGUARD_HIT_SYSCALL_MBIND,
        MAPGUARD_HIT_SYSCALL_SHMAT,
        MAPGUARD_HIT_SYSCALL_REMAP_FILE_PAGES,
        MAPGUARD_HIT_SYSCALL_MAX, /* one past the last */
};

/* The syscall-number table the loader fills (hits.bpf.c's syscall_kinds[]) has this many entries; a
 * number at or above it is not a mapping call. */
#define MAPGUARD_HIT_NR_MAX 1024

/* The tracepoint program is loaded this many times. The kernel refuses to attach a program to a
 * syscalls:sys_exit_* event that runs it already (EEXIST), and releasing a detached one takes it ~70 ms
 * per event (two RCU grace periods, done by a child process of the daemon: bpf-hits-attach.c), so
 * arming again soon after disarming takes the other copy. The fexit and sys_exit programs are copy 0. */
#define MAPGUARD_HIT_COPIES 2

/* The value of the single entry (key 0) of the hit_config array map, written by the daemon. */
struct mapguard_hit_config {
        __u32 max_map_count; /* vm.max_map_count as the daemon last read it; 0: catch nothing */
        __u32 margin;        /* a call counts when map_count + margin >= max_map_count */
        __u32 armed;         /* bit N set: copy N of the programs records hits (it is attached) */
        __u32 unused;
};

/* The value of the single entry (key 0) of the hit_stats array map, written by the program only. */
struct mapguard_hit_stats {
        __u64 caught;  /* records reserved in the ring buffer */
        __u64 dropped; /* hits lost because the ring buffer was full */
};

/* One record per failed call at the limit. */
struct mapguard_hit_record {
        __u32 pid;           /* thread-group id, in the pid namespace of the loader (0: not visible there) */
        __u32 tid;           /* thread id, same namespace rules as pid (the initial namespace's when 0) */
        __u32 syscall;       /* enum mapguard_hit_syscall */
        __s32 error;         /* the positive errno; ENOMEM for brk (which returns the old break) */
        __u32 map_count;     /* mm->map_count after the call */
        __u32 max_map_count; /* the limit the program compared with (hit_config) */
        __u64 cgroup_id;     /* the nearest watched cgroup2 cgroup (ancestor-or-self) */
        __u64 leaf_cgroup_id; /* the task's own cgroup2 cgroup: which unit, when cgroup_id is a parent's
                               * (a user manager's, whose units the daemon may not have listed yet) */
        __u64 start_time_ns;  /* process start, CLOCK_BOOTTIME ns, as the task iterator reports it */
        __u64 time_ns;        /* when the call returned, CLOCK_MONOTONIC ns (bpf_ktime_get_ns()) */
        __s64 ret;            /* the raw return value: -errno, or for brk the break it got */
        __u64 arg;            /* brk: the break asked for; otherwise the call's first argument */
        char comm[16];        /* the thread's comm, NUL-terminated */
};

#define MAPGUARD_HIT_RINGBUF_SIZE (256 * 1024)
