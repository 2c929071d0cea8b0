/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the task iterator (mapcount.bpf.c) and the limit-hit program (hits.bpf.c) share: the set of
 * watched cgroup ids, the walk that finds a task's nearest watched cgroup, and a pid as the loader's
 * pid namespace sees it. Each object declares its own copy of the map; the loader makes the hit
 * program's copy the iterator's (bpf_map__reuse_fd()), so one update from the daemon serves both.
 * Include after vmlinux.h, bpf_helpers.h and bpf_core_read.h. */

#include "mapcount.h"

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, MAPCOUNT_MAX_CGROUPS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, __u64);
        __type(value, __u8);
} watched_cgroups SEC(".maps");

/* Returns the id of the nearest watched cgroup among cgrp and its ancestors, 0 if none is watched.
 * Walks up through the css parent links rather than cgrp->ancestors[]: an ancestors[] index is a
 * variable offset, which the verifier refuses on a kernel pointer, and the parent links have the same
 * layout on kernels from before ancestors[] replaced ancestor_ids[] (5.8-5.19). BPF_CORE_READ (probe
 * reads), so that it works from a task the verifier knows the type of (the iterator) as well as from
 * bpf_get_current_task()'s plain value (a raw tracepoint). */
static __always_inline __u64 nearest_watched_cgroup(struct cgroup *cgrp) {
        for (int level = 0; level < MAPCOUNT_MAX_DEPTH; level++) {
                struct cgroup_subsys_state *parent;
                __u64 id;

                if (!cgrp)
                        return 0;

                id = BPF_CORE_READ(cgrp, kn, id);
                if (bpf_map_lookup_elem(&watched_cgroups, &id))
                        return id;

                parent = BPF_CORE_READ(cgrp, self.parent);
                if (!parent)
                        return 0;
                cgrp = BPF_CORE_READ(parent, cgroup);
        }
        return 0;
}

/* Returns the number of the struct pid P (a thread's or a thread group's) as seen in the pid namespace
 * with inode number ns_inum, or 0 when it is not visible there. A struct pid holds one (nr, namespace)
 * pair per level from the initial namespace (0) down to the one it was created in; a namespace sits at
 * the same level in all of them, so the search starts at the deepest, where a container's own
 * processes have it. The pointers come from BPF_CORE_READ, i.e. plain values read with
 * bpf_probe_read_kernel(): an index into numbers[] is a variable offset the verifier refuses on a
 * typed kernel pointer. */
static __always_inline __u32 pid_nr_in_ns(struct pid *p, __u32 ns_inum) {
        unsigned int level;

        if (!p)
                return 0;
        level = BPF_CORE_READ(p, level);
        if (level > MAPCOUNT_MAX_PID_NS_LEVEL)
                return 0;

        for (int i = 0; i <= MAPCOUNT_MAX_PID_NS_LEVEL; i++) {
                struct upid upid;

                if (i > (int) level)
                        break;
                if (bpf_core_read(&upid, sizeof(upid), &p->numbers[level - i]) < 0)
                        return 0;
                if (upid.ns && BPF_CORE_READ(upid.ns, ns.inum) == ns_inum)
                        return (__u32) upid.nr;
        }
        return 0;
}
