/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The systemd unit a process belongs to, as systemd would name it: the first component of its
 * control-group path that is a unit name and not a slice, read from ROOT/proc/PID/cgroup (the cgroup2
 * line "0::", else the "name=systemd" line). /system.slice/foo.service/x -> "foo.service".
 * Returns 0 and a malloc'd name, -ENXIO when the process is in no unit (e.g. the root cgroup),
 * -ESRCH when the process is gone, other -errno on read failure. */
int cgroup_unit_of_pid(const char *root, pid_t pid, char **ret_unit);

/* Same, from a control-group path. Returns 0 and a malloc'd name or -ENXIO. */
int cgroup_unit_from_path(const char *path, char **ret_unit);

/* The control-group path in the text of a /proc/PID/cgroup file (LEN bytes): from the cgroup2 line
 * "0::PATH" when UNIFIED, else from the "N:name=systemd:PATH" line; the last such line wins. Lines end
 * only at '\n', whatever their length. Returns 0 and a malloc'd path, -ENXIO when there is no such line
 * (or it holds a NUL byte), -EINVAL on NULL arguments, -ENOMEM. */
int cgroup_proc_file_path(const char *text, size_t len, bool unified, char **ret_path);

/* Returns true when PATH is CGROUP_PATH or below it (both absolute; trailing slashes ignored). */
bool cgroup_path_is_below(const char *path, const char *cgroup_path);

/* The control-group path of PID in ROOT/proc/PID/cgroup: of the cgroup2 hierarchy when UNIFIED, else of
 * name=systemd. Returns 0 and a malloc'd path, -ESRCH when the process is gone, -ENXIO when it has no such
 * line, other -errno. */
int cgroup_path_of_pid(const char *root, pid_t pid, bool unified, char **ret_path);

/* The longest pod UID we take from a slice name (a UUID is 36 bytes), with its NUL. */
#define CGROUP_UNIT_POD_UID_MAX 128
/* A container ID: 64 hex digits and the NUL. */
#define CGROUP_UNIT_CONTAINER_ID_MAX 65

/* Finds, in the ancestors of the control group path CGROUP (its last component is the unit itself),
 * the deepest slice named kubepods*-pod<uid>.slice (kubelet's systemd cgroup driver), and writes <uid>
 * with '_' turned back into '-' to BUF (SIZE bytes). Returns true when found, false otherwise (BUF
 * untouched): no such slice, a uid that is empty, holds other than [0-9A-Za-z_] or does not fit. */
bool cgroup_unit_pod_uid(const char *cgroup, char *buf, size_t size);

/* Writes to BUF the 64 lowercase hex digits of a unit named <runtime>-<64 hex>.scope (as runc, containerd
 * and CRI-O name a container's scope under the systemd cgroup driver). Returns true when UNIT is such a
 * name, false otherwise (BUF untouched). */
bool cgroup_unit_container_id(const char *unit, char buf[static CGROUP_UNIT_CONTAINER_ID_MAX]);
