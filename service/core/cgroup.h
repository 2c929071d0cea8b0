/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding the processes of a systemd unit through its cgroup. Pure logic: no logging, no bus. */

#include <stdbool.h>
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

/* What a walk of a unit's cgroup could not read: a sub-cgroup a delegated user made unreadable (mode
 * 000 directory, cgroup.procs or cgroup.events; the daemon has no CAP_DAC_*), a sub-cgroup with another
 * file system mounted on it (a bind mount, a tmpfs: what is in the cgroup under it cannot be seen), or
 * the unit's own cgroup directory. */
typedef struct CgroupSkipped {
        char *path; /* the first one, as a ControlGroup path (CGROUP_PATH/a/b), NULL when none */
        int error;  /* why: its -errno (-EACCES, ...), -EXDEV for another mount */
        size_t n;   /* how many in all; 0 when the walk read everything */
} CgroupSkipped;

/* Frees what S holds and zeroes it. Accepts NULL. */
void cgroup_skipped_done(CgroupSkipped *s);

/* Past this many sub-cgroups (cgroup.stat's nr_descendants) a unit is not walked, /proc is read instead:
 * even an empty sub-cgroup costs the walk ~12 µs, /proc ~15 µs per process on the host (bench/README.md,
 * cgroup-bench), so the walk costs at most ~12 ms a pass. */
#define CGROUP_WALK_MAX_DESCENDANTS 1000U

/* Reads cgroup.procs of HIERARCHY_DIR + CGROUP_PATH and of every sub-cgroup below it, at any depth
 * (iterative, with one directory fd open at a time: depth costs memory, never descriptors or an error),
 * symlinks not followed, other mounts (a bind mount, maybe making a loop) not entered. Pids are
 * de-duplicated and sorted ascending into a malloc'd array (NULL when there are none, with *ret_n = 0).
 * A pid listed as 0 (a process outside our pid namespace) is left out.
 *
 * On cgroup2 a sub-cgroup whose cgroup.events says "populated 0" holds no process, nor does anything
 * below it: it is neither read nor listed (its cgroup.events is read before its cgroup.procs and its
 * children). Without cgroup.events (cgroup v1's name=systemd, a fixture), everything is read.
 *
 * A sub-cgroup that vanished while walking is skipped silently. One that cannot be read (its directory,
 * cgroup.procs or cgroup.events: EACCES, or garbage in a fixture; an unreadable cgroup.events only stops
 * the pruning, what can be read below it still is), or one on another mount (-EXDEV), is skipped and
 * noted in *RET_SKIPPED (when not NULL; the caller frees it with cgroup_skipped_done()), and the rest of
 * the unit is still counted. When anything was skipped and ROOT is not NULL, the processes that /proc
 * says are at or below CGROUP_PATH (ROOT/proc/PID/cgroup: the cgroup2 line, or name=systemd when
 * HIERARCHY_DIR ends in "/systemd") are added, so that hiding in an unreadable sub-cgroup hides nothing;
 * the unit's own directory being unreadable is then handled the same way (skipped, path = CGROUP_PATH).
 *
 * When ROOT is not NULL and the unit's cgroup.stat counts more than CGROUP_WALK_MAX_DESCENDANTS
 * sub-cgroups, there is no walk at all: the processes are those /proc says are at or below CGROUP_PATH
 * (none when its cgroup.events says it is empty), and nothing is noted as skipped. A delegated tree of
 * 100,000 empty sub-cgroups costs a read of /proc, not 100,000 directories, on every pass.
 *
 * Returns 0 (also when something was skipped); -ENOENT when the top cgroup is missing or not a cgroup
 * (no cgroup.procs); -EINVAL on a relative or ".."-holding CGROUP_PATH; -EBADMSG when the top
 * cgroup.procs holds something other than one decimal pid per line; -EACCES when the top directory is
 * unreadable and ROOT is NULL; -ENOMEM; other -errno on I/O failure. Out-parameters untouched on
 * failure. */
int cgroup_read_pids_full(const char *root, const char *hierarchy_dir, const char *cgroup_path,
                          pid_t **ret_pids, size_t *ret_n, CgroupSkipped *ret_skipped);

/* cgroup_read_pids_full() without /proc and without the report of what was skipped. */
int cgroup_read_pids(const char *hierarchy_dir, const char *cgroup_path, pid_t **ret_pids, size_t *ret_n);

/* Parses the text of a cgroup.procs file (LEN bytes; no NUL needed): one decimal pid per line, the
 * last newline optional, nothing else. Calls ADD for each pid > 0 (0 is a process outside the
 * reader's pid namespace). Returns 0, -EBADMSG on anything else (a pid above INT32_MAX too), or the
 * first negative return of ADD. */
int cgroup_procs_parse(const char *text, size_t len, int (*add)(void *userdata, pid_t pid), void *userdata);

/* What the kernel says of a cgroup2 cgroup as a whole, read from its directory alone: no walk. */
typedef struct CgroupSummary {
        uint64_t id;            /* as cgroup_id_from_path() */
        uint64_t n_descendants; /* live sub-cgroups at any depth (cgroup.stat's nr_descendants) */
} CgroupSummary;

/* Reads it for HIERARCHY_DIR + CGROUP_PATH. Returns 0; -EMEDIUMTYPE when it is not on cgroup2 (a v1
 * hierarchy has no such ids nor cgroup.stat); -ENOENT when it is gone, or has no cgroup.stat; -EBADMSG
 * when cgroup.stat says something else; -EINVAL, -ENOMEM, or the -errno of open(). *RET untouched on
 * failure. */
int cgroup_read_summary(const char *hierarchy_dir, const char *cgroup_path, CgroupSummary *ret);

/* Returns 0 and the cgroup id of a cgroup2 directory in *ret_id: the 64-bit kernfs node id, which
 * is what BPF sees as cgroup->kn->id and systemd as the cgroup id (name_to_handle_at(), falling
 * back to the inode number). -EMEDIUMTYPE when the path is not on a cgroup2 file system (a cgroup
 * v1 hierarchy has ids of its own), -ENOTDIR when not a directory, else the -errno of open(). */
int cgroup_id_from_path(const char *cgroup2_dir, uint64_t *ret_id);
