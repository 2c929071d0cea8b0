/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit-identity.h"
#include "util.h"

const char *unit_kind_to_string(UnitKind k) {
        static const char *const names[_UNIT_KIND_MAX] = {
                [UNIT_KIND_SYSTEM] = "system",       [UNIT_KIND_USER] = "user",
                [UNIT_KIND_CONTAINER] = "container", [UNIT_KIND_POD] = "pod",
                [UNIT_KIND_SANDBOX] = "sandbox",     [UNIT_KIND_MONITOR] = "monitor",
        };

        return (unsigned) k < _UNIT_KIND_MAX ? names[k] : NULL;
}

typedef enum ScopeKind {
        SCOPE_OTHER,
        SCOPE_CONTAINER,
        SCOPE_MONITOR,
} ScopeKind;

/* How runc names the scope of a container under the systemd cgroup driver: PREFIX-ID.scope, the prefix
 * being the runtime's (runc's "slice:prefix:name" cgroupsPath). */
static const struct {
        const char *prefix;
        const char *runtime; /* NULL: the runtime's monitor (conmon), not a container */
} container_scopes[] = {
        /* The monitors first: crio-conmon-ID starts as crio-ID does. */
        { "crio-conmon-", NULL }, { "libpod-conmon-", NULL }, { "cri-containerd-", "containerd" },
        { "crio-", "cri-o" },     { "docker-", "docker" },    { "libpod-", "podman" },
};

/* What the unit named UNIT is; for a container, its id goes to ID and its runtime to *RET_RUNTIME. */
static ScopeKind classify_scope(const char *unit, char id[static CONTAINER_ID_MAX],
                                const char **ret_runtime) {
        size_t n = strlen(unit);

        for (size_t i = 0; i < ELEMENTSOF(container_scopes); i++) {
                size_t l = strlen(container_scopes[i].prefix);
                char buf[CONTAINER_ID_MAX];

                if (n != l + CONTAINER_ID_MAX - 1 + strlen(".scope") ||
                    strncmp(unit, container_scopes[i].prefix, l) != 0 || !endswith(unit, ".scope"))
                        continue;
                memcpy(buf, unit + l, CONTAINER_ID_MAX - 1);
                buf[CONTAINER_ID_MAX - 1] = '\0';
                if (!container_id_is_valid(buf))
                        continue;
                if (!container_scopes[i].runtime)
                        return SCOPE_MONITOR;
                memcpy(id, buf, sizeof(buf));
                *ret_runtime = container_scopes[i].runtime;
                return SCOPE_CONTAINER;
        }
        return SCOPE_OTHER;
}

static bool path_is_safe(const char *path) {
        if (path[0] != '/')
                return false;
        for (const char *p = path; *p;) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += n;
        }
        return true;
}

/* Checks that CGROUP is the control group of UNIT and writes the uid of the pod slice among its leading
 * slices to POD_UID ("" when none). Returns 0, -EINVAL, -ENOMEM. */
static int pod_uid_of(const char *unit, const char *cgroup, char pod_uid[static CGROUP_UNIT_POD_UID_MAX]) {
        _cleanup_free_ char *upto_unit = NULL;
        char name[UNIT_NAME_MAX];
        const char *rest;

        if (!path_is_safe(cgroup) || unit_name_of_cgroup_path(cgroup, name, &rest) < 0 || !streq(name, unit))
                return -EINVAL;
        /* The slices and the unit: what is below the unit is its own (a delegated user's), and a
         * directory named like a pod slice there names no pod. */
        upto_unit = strndup(cgroup, (size_t) (rest - cgroup));
        if (!upto_unit)
                return -ENOMEM;
        if (!cgroup_unit_pod_uid(upto_unit, pod_uid, CGROUP_UNIT_POD_UID_MAX))
                pod_uid[0] = '\0';
        return 0;
}

static void identity_set_container(UnitIdentity *id, const ContainerState *s) {
        strcpy(id->k8s_namespace, s->k8s_namespace);
        strcpy(id->k8s_pod, s->k8s_pod);
        if (s->sandbox) {
                id->kind = UNIT_KIND_SANDBOX;
                return;
        }
        id->kind = UNIT_KIND_CONTAINER;
        strcpy(id->k8s_container, s->k8s_container);
        snprintf(id->name, sizeof(id->name), "%s/%s/%s", s->k8s_namespace, s->k8s_pod, s->k8s_container);
}

int unit_identity_resolve(const char *root, const char *unit, const char *cgroup, UnitIdentity *ret) {
        UnitIdentity id = { .kind = UNIT_KIND_SYSTEM, .owner_uid = UID_INVALID };
        char container_id[CONTAINER_ID_MAX];
        const char *runtime = NULL;
        ContainerState state;
        int r;

        if (!unit || !ret || !unit_name_is_valid(unit, strlen(unit)) || endswith(unit, ".slice"))
                return -EINVAL;
        if (cgroup) {
                r = pod_uid_of(unit, cgroup, id.pod_uid);
                if (r < 0)
                        return r;
        }
        strcpy(id.unit, unit);
        strcpy(id.name, unit);

        switch (classify_scope(unit, container_id, &runtime)) {
        case SCOPE_OTHER:
                break;
        case SCOPE_MONITOR:
                id.kind = UNIT_KIND_MONITOR;
                break;
        case SCOPE_CONTAINER:
                strcpy(id.container_id, container_id);
                strcpy(id.runtime, runtime);
                /* docker's or podman's own containers: the id stays across their restarts. */
                if (id.pod_uid[0] == '\0')
                        break;
                r = container_state_read(root, container_id, &state);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        identity_set_container(&id, &state);
                else {
                        id.kind = UNIT_KIND_POD;
                        snprintf(id.name, sizeof(id.name), "pod/%s", id.pod_uid);
                }
                break;
        }
        *ret = id;
        return 0;
}

int unit_identity_user(const char *manager, const char *user_unit, const char *cgroup, UnitIdentity *ret) {
        UnitIdentity id = { .kind = UNIT_KIND_USER };
        char m[UNIT_NAME_MAX], u[UNIT_NAME_MAX];

        if (!manager || !user_unit || !ret || !unit_name_is_user_manager(manager, &id.owner_uid) ||
            !unit_name_is_valid(user_unit, strlen(user_unit)) || endswith(user_unit, ".slice"))
                return -EINVAL;
        if (cgroup &&
            (!path_is_safe(cgroup) || unit_name_user_unit_of_cgroup_path(cgroup, m, u) < 0 ||
             !streq(m, manager) || !streq(u, user_unit)))
                return -EINVAL;

        snprintf(id.name, sizeof(id.name), "%s/%s", manager, user_unit);
        strcpy(id.unit, manager);
        strcpy(id.user_unit, user_unit);
        *ret = id;
        return 0;
}
