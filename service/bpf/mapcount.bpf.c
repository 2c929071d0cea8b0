/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A task iterator that reports mm->map_count of every process in a set of watched cgroup2
 * cgroups. Filtering happens here, in the kernel, so that one pass over all tasks costs a few
 * loads per task and only the watched processes cross into userspace. Compiled once with clang
 * against the build host's vmlinux.h; CO-RE relocations adapt the field offsets to the running
 * kernel. */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "mapcount.h"
#include "watched.bpf.h"

/* include/linux/sched.h; kernel threads that borrow a user mm (kthread_use_mm) are no process. */
#define PF_KTHREAD 0x00200000

/* Declared GPL because bpf_seq_write() is GPL-only; LGPL-2.1-or-later code may be conveyed under
 * the GPL. */
char LICENSE[] SEC("license") = "GPL";

/* The inode number of the pid namespace whose pids to report, that of the loading process (set by
 * userspace before load; a constant to the verifier, which drops the unused branch). 0 for the
 * initial namespace, where the pid is task->tgid. Elsewhere (the daemon in a container) tgid is
 * the host's pid, which matches nothing the daemon reads from cgroup.procs. The kernel walks only
 * the tasks visible in the pid namespace of whoever creates the iterator fd, here the same
 * process, so the search below normally finds the namespace; the check is kept in case not. */
const volatile __u32 target_pidns_inum = 0;

SEC("iter/task")
int report_map_counts(struct bpf_iter__task *ctx) {
        struct task_struct *task = ctx->task, *leader;
        struct mapcount_record rec = {};
        struct mm_struct *mm;
        __u64 cgroup_id;

        if (!task)
                return 0;

        mm = task->mm;
        if (!mm || (task->flags & PF_KTHREAD))
                return 0;

        /* Threads share the mm: report the process once, through its leader. A leader that
         * called pthread_exit() is a zombie without mm while its threads keep the process (and its
         * maps) alive; then each live thread reports it and userspace keeps one record per pid. */
        leader = task->group_leader;
        if (task != leader && leader->mm)
                return 0;

        cgroup_id = nearest_watched_cgroup(task->cgroups->dfl_cgrp);
        if (cgroup_id == 0)
                return 0;

        if (target_pidns_inum == 0)
                rec.pid = task->tgid;
        else {
                /* Not visible in the daemon's namespace: not a process it can be watching. */
                rec.pid = pid_nr_in_ns(BPF_CORE_READ(leader, thread_pid), target_pidns_inum);
                if (rec.pid == 0)
                        return 0;
        }
        rec.map_count = mm->map_count;
        rec.cgroup_id = cgroup_id;
        /* Boot-based, as /proc/PID/stat's starttime, so that both backends agree on it. */
        rec.start_time_ns = leader->start_boottime;
        bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), leader->comm);

        bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
        return 0;
}
