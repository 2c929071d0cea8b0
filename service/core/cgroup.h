/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding the processes of a systemd unit through its cgroup. Pure logic: no logging, no bus. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum CgroupLayout {
        CGROUP_LAYOUT_UNIFIED, /* pure cgroup2 at /sys/fs/cgroup */
        CGROUP_LAYOUT_HYBRID,  /* cgroup v1 controllers, systemd's tree in cgroup2 at /sys/fs/cgroup/unified
                                */
        CGROUP_LAYOUT_LEGACY,  /* cgroup v1 only: systemd's tree in name=systemd at /sys/fs/cgroup/systemd */
} CgroupLayout;

/* Finds where systemd's ControlGroup paths live under ROOT: pure cgroup2 -> "ROOT/sys/fs/cgroup",
 * hybrid -> "ROOT/sys/fs/cgroup/unified", legacy -> "ROOT/sys/fs/cgroup/systemd" (name=systemd). Decided
 * by what is there (cgroup2: a cgroup.controllers file at /sys/fs/cgroup; hybrid: /sys/fs/cgroup/unified
 * with cgroup.controllers; legacy: /sys/fs/cgroup/systemd with cgroup.procs); when ROOT is "/" or "" the
 * filesystem type is confirmed with statfs() (cgroup2 or cgroup v1 magic), so that a stray directory
 * is not taken for a hierarchy. Returns 0, a malloc'd path and (RET_LAYOUT may be NULL) which layout it
 * found: only the first two have cgroup2 ids for BPF to filter by; -ENOMEDIUM when no usable
 * hierarchy is found, -ENOMEM. */
int cgroup_find_hierarchy(const char *root, char **ret_dir, CgroupLayout *ret_layout);

/* Reads cgroup.procs of HIERARCHY_DIR + CGROUP_PATH and of every sub-cgroup below it (recursive,
 * symlinks not followed), de-duplicated and sorted ascending, into a malloc'd array (NULL when there
 * are no pids, with *ret_n = 0). A sub-cgroup that vanished while walking is skipped; the top cgroup
 * missing (or not a cgroup: no cgroup.procs) gives -ENOENT. A pid listed as 0 (a process outside our
 * pid namespace) is left out. -EBADMSG when a cgroup.procs holds something other than one decimal
 * pid per line, -EINVAL on a relative or ".."-holding CGROUP_PATH,
 * other -errno on I/O failure. Never scans /proc. */
int cgroup_read_pids(const char *hierarchy_dir, const char *cgroup_path, pid_t **ret_pids, size_t *ret_n);

/* Returns 0 and the cgroup id of a cgroup2 directory in *ret_id: the 64-bit kernfs node id, which
 * is what BPF sees as cgroup->kn->id and systemd as the cgroup id (name_to_handle_at(), falling
 * back to the inode number). -EMEDIUMTYPE when the path is not on a cgroup2 file system (a cgroup
 * v1 hierarchy has ids of its own), -ENOTDIR when not a directory, else the -errno of open(). */
int cgroup_id_from_path(const char *cgroup2_dir, uint64_t *ret_id);
