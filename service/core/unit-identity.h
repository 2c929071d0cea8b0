/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a watched unit is, and under which name its crash loop, counters and series are kept: the name
 * that survives restarts. A system unit is itself; a user manager's unit is named with its manager
 * (user@1001.service/grow.service); kubelet restarts a container as a new scope with a new id in the
 * same pod slice, so a Kubernetes container is named by (namespace, pod, container), read from its
 * runtime's state (container-state.h). Pure logic: no logging. */

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup-unit.h"
#include "container-state.h"
#include "unit-name.h"

#ifndef UID_INVALID
#define UID_INVALID ((uid_t) -1)
#endif

/* The longest watched name: NAMESPACE/POD/CONTAINER is 63 + 1 + 253 + 1 + 63 bytes, and the NUL. */
#define UNIT_IDENTITY_NAME_MAX (K8S_NAMESPACE_MAX + K8S_POD_MAX + K8S_CONTAINER_MAX)
#define UNIT_IDENTITY_RUNTIME_MAX 16

typedef enum UnitKind {
        UNIT_KIND_SYSTEM,    /* a system unit, watched under its own name */
        UNIT_KIND_USER,      /* a unit of a user's manager below user@UID.service: "user@UID.service/NAME" */
        UNIT_KIND_CONTAINER, /* a Kubernetes container, known by (namespace, pod, container):
                              * "NAMESPACE/POD/CONTAINER" */
        UNIT_KIND_POD, /* a container in a kubepods pod slice whose names could not be found: "pod/UID" */
        UNIT_KIND_SANDBOX, /* a pod's sandbox (pause) container: not a workload; its own unit name */
        UNIT_KIND_MONITOR, /* a runtime's monitor scope (crio-conmon-ID.scope, libpod-conmon-ID.scope) */
        _UNIT_KIND_MAX,
} UnitKind;

typedef struct UnitIdentity {
        UnitKind kind;
        char name[UNIT_IDENTITY_NAME_MAX]; /* the watched name, as above; for SYSTEM, SANDBOX and MONITOR
                                            * the unit's own name */
        char unit[UNIT_NAME_MAX];          /* the systemd unit now (the scope; user@UID.service for a user
                                            * unit) */
        char user_unit[UNIT_NAME_MAX];     /* USER: the user manager's unit ("grow.service"), else "" */
        uid_t owner_uid;                   /* USER: the user (from user@UID.service), else UID_INVALID */
        char k8s_namespace[K8S_NAMESPACE_MAX];   /* CONTAINER and SANDBOX (when known), else "" */
        char k8s_pod[K8S_POD_MAX];               /* CONTAINER and SANDBOX (when known), else "" */
        char k8s_container[K8S_CONTAINER_MAX];   /* CONTAINER, else "" */
        char pod_uid[CGROUP_UNIT_POD_UID_MAX];   /* below a kubepods*-pod<uid>.slice, else "" */
        char container_id[CONTAINER_ID_MAX];     /* the 64 hex of a
                                                  * cri-containerd-/crio-/docker-/libpod-<id>.scope     (never of a
                                                  * monitor), else "" */
        char runtime[UNIT_IDENTITY_RUNTIME_MAX]; /* with container_id: "containerd", "cri-o", "docker" or
                                                  * "podman", else "" */
} UnitIdentity;

/* Returns "system", "user", "container", "pod", "sandbox", "monitor", or NULL when out of range. */
const char *unit_kind_to_string(UnitKind k);

/* The identity of the system unit UNIT whose control group is CGROUP (relative to the hierarchy, as
 * systemd's ControlGroup property; NULL when it has none). UNIT must be what systemd makes of CGROUP
 * (unit-name.h: leading slices skipped, the next component, unescaped); only those leading slices are
 * looked at for a pod slice, never what is below the unit (its user may have made that up).
 *
 * Units named cri-containerd-ID.scope (containerd), crio-ID.scope (CRI-O), docker-ID.scope (docker,
 * cri-dockerd) and libpod-ID.scope (podman), ID being 64 lowercase hex, are containers;
 * crio-conmon-ID.scope and libpod-conmon-ID.scope are MONITOR (no container_id). A container below a
 * kubepods*-pod<uid>.slice is looked up in the runtimes' state below ROOT ("" in production; order and
 * rules in container_state_read()): CONTAINER, or SANDBOX for the pod's pause container, or, when no
 * source knows it, POD named "pod/UID" (all such containers of one pod share it). A container outside any
 * pod slice (docker-ID.scope in system.slice) is SYSTEM with its container_id; its state is not read.
 * A missing, unreadable or malformed state file is not an error: the next source is tried.
 *
 * Returns 0 and *RET; -EINVAL on a NULL UNIT or RET, a UNIT that is no valid unit name or a slice, a
 * CGROUP that is not absolute, holds "..", or whose unit is not UNIT; -ENOMEM. *RET untouched on
 * failure. */
int unit_identity_resolve(const char *root, const char *unit, const char *cgroup, UnitIdentity *ret);

/* The identity of a user unit: MANAGER is "user@UID.service", USER_UNIT the unit below it (a valid unit
 * name, not a slice), CGROUP its control-group path (NULL when not known; else it must be at or below
 * that user unit of that manager, as unit_name_user_unit_of_cgroup_path() says). The name is
 * "MANAGER/USER_UNIT", owner_uid the UID. Returns 0 and *RET; -EINVAL when an argument is NULL
 * (CGROUP aside) or does not fit the others. *RET untouched on failure. */
int unit_identity_user(const char *manager, const char *user_unit, const char *cgroup, UnitIdentity *ret);

/* unit_name_is_user_manager() (unit-name.h) tells whether a name is "user@UID.service", and its UID. */
