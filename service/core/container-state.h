/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a container runtime's own state says of a Kubernetes container, by its id: its namespace, pod
 * and container name, and whether it is a pod's sandbox (the pause container). kubelet restarts a
 * crashed container under a new id, so these names, not the id, are what stays across restarts.
 * Every name is checked to be a Kubernetes name, so that no other byte of these files reaches a unit's
 * name. Pure logic: no logging. */

#include <stdbool.h>

#define K8S_NAMESPACE_MAX 64        /* a DNS label: 63 bytes, and the NUL */
#define K8S_POD_MAX 254             /* a DNS subdomain: 253 bytes, and the NUL */
#define K8S_CONTAINER_MAX 64        /* a DNS label */
#define CONTAINER_ID_MAX 65         /* 64 lowercase hex digits (containerd, CRI-O, docker), and the NUL */
#define CONTAINER_STATE_DIRS_MAX 64 /* entries of a state directory tried for one id */

typedef enum ContainerStateSource {
        CONTAINER_STATE_CONTAINERD,  /* /run/containerd/io.containerd.runtime.v2.task/NS/ID/config.json */
        CONTAINER_STATE_CRIO_RUN,    /* /run/containers/storage/DRIVER-containers/ID/userdata/config.json */
        CONTAINER_STATE_CRIO_LIB,    /* the same below /var/lib/containers/storage */
        CONTAINER_STATE_KUBELET_LOG, /* /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (the name) */
        _CONTAINER_STATE_SOURCE_MAX,
} ContainerStateSource;

typedef struct ContainerState {
        ContainerStateSource source; /* where the names were found */
        bool sandbox;                /* the pod's sandbox (pause) container: not a workload */
        char k8s_namespace[K8S_NAMESPACE_MAX];
        char k8s_pod[K8S_POD_MAX];
        char k8s_container[K8S_CONTAINER_MAX]; /* "" for a sandbox */
} ContainerState;

/* Returns "containerd", "cri-o (/run)", "cri-o (/var/lib)", "kubelet log link", or NULL when out of
 * range. */
const char *container_state_source_to_string(ContainerStateSource s);

/* Returns true when NAME is a DNS-1123 label ([a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes), as
 * Kubernetes requires of namespaces and container names. */
bool k8s_name_is_label(const char *name);

/* Returns true when NAME is a DNS-1123 subdomain (dot-separated labels, at most 253 bytes), as Kubernetes
 * requires of pod names. */
bool k8s_name_is_subdomain(const char *name);

/* Returns true when ID is 64 lowercase hex digits. */
bool container_id_is_valid(const char *id);

/* Finds the names of the container ID (64 lowercase hex) in the runtimes' state below ROOT ("" or "/"
 * in production), in this order, the first usable one winning:
 *  1. containerd: ROOT/run/containerd/io.containerd.runtime.v2.task/k8s.io/ID/config.json, then the same
 *     in every other namespace directory there; annotations io.kubernetes.cri.container-type,
 *     ...cri.sandbox-namespace, ...cri.sandbox-name, ...cri.container-name;
 *  2. CRI-O: ROOT/run/containers/storage/overlay-containers/ID/userdata/config.json, then every other
 *     DRIVER-containers directory there, then the same below ROOT/var/lib/containers/storage;
 *     annotations io.kubernetes.cri-o.ContainerType, io.kubernetes.pod.namespace, ...pod.name,
 *     io.kubernetes.container.name;
 *  3. kubelet: the name of the symlink ROOT/var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (not
 *     followed).
 * Type "sandbox" (or CRI-O's container name "POD") makes a sandbox, with its namespace and pod when
 * those are valid names. A file is opened without following a symlink anywhere below the state
 * directory, must be a regular file of at most 1 MiB holding well-formed JSON, and is read once; one
 * that is missing, unreadable, malformed or whose names are not Kubernetes names is passed over for the
 * next. At most CONTAINER_STATE_DIRS_MAX entries of a state directory are tried.
 * Returns 0 and the names in *RET; -ENOENT when no source knows the id; -EINVAL on a NULL argument or
 * an ID that is not 64 lowercase hex; -ENOMEM. *RET untouched on failure. */
int container_state_read(const char *root, const char *id, ContainerState *ret);
