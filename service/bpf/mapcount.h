/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between mapcount.bpf.c (which gets __u32/__u64 from the generated vmlinux.h) and
 * core/bpf-counter.c (which gets them from <linux/types.h>): one record per reported process, written
 * to the iterator's seq_file with bpf_seq_write(). Fixed size, no padding, so that userspace can
 * read the stream as an array. */

#define MAPCOUNT_COMM_LEN 16

/* The hash map of watched cgroup ids is allocated on demand (BPF_F_NO_PREALLOC), so a large
 * bound costs nothing until the ids are there. */
#define MAPCOUNT_MAX_CGROUPS 65536

/* How many cgroup levels (self included) are searched for a watched id. systemd's tree is 3-6
 * levels deep, containers add a few; the kernel allows deeper trees, whose levels nearest the
 * root are then not searched. */
#define MAPCOUNT_MAX_DEPTH 64

/* include/linux/pid_namespace.h: pid namespaces nest at most this deep below the initial one. */
#define MAPCOUNT_MAX_PID_NS_LEVEL 32

struct mapcount_record {
        __u32 pid; /* in the pid namespace of the process that loaded the program */
        __u32 map_count;
        __u64 cgroup_id;
        __u64 start_time_ns;
        char comm[MAPCOUNT_COMM_LEN];
};
