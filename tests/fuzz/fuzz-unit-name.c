/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Control-group paths, which a delegated user makes up below their unit (unit-name.c), and what
 * unit-identity.c makes of the unit they name. The input is a path (cut at a NUL). Checked:
 *  - the unit of the path is a valid unit name, no slice, made of bytes of the path;
 *  - a user unit's manager is user@UID.service and prints back as itself; unit_identity_user() takes
 *    both and the path, and names them MANAGER/UNIT;
 *  - unit_identity_resolve() of the unit and the path (runtimes' state below a root that does not
 *    exist) succeeds with a name of the unit's or "pod/UID", a container id only for a container scope,
 *    never for a monitor;
 *  - unit_name_is_valid() and unit_name_is_user_manager() of the input itself agree with each other. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "unit-identity.h"
#include "unit-name.h"
#include "util.h"

/* Returns true when PATH is relative or has a ".." component: what unit-identity.c refuses. */
static bool path_unsafe(const char *path) {
        return path[0] != '/' || strstr(path, "/../") || endswith(path, "/..");
}

static void check_resolve(const char *path, const char *unit) {
        UnitIdentity id;
        int r;

        r = unit_identity_resolve("/nonexistent-fuzz-root", unit, path, &id);
        if (path_unsafe(path)) {
                FUZZ_CHECK(r == 0 || r == -EINVAL);
                if (r < 0)
                        return;
        }
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(streq(id.unit, unit));
        FUZZ_CHECK(unit_kind_to_string(id.kind));
        FUZZ_CHECK(id.kind != UNIT_KIND_USER && id.kind != UNIT_KIND_CONTAINER &&
                   id.kind != UNIT_KIND_SANDBOX);
        if (id.kind == UNIT_KIND_POD) {
                FUZZ_CHECK(id.pod_uid[0] != '\0' && strncmp(id.name, "pod/", 4) == 0);
                FUZZ_CHECK(streq(id.name + 4, id.pod_uid));
        } else
                FUZZ_CHECK(streq(id.name, unit));
        FUZZ_CHECK(id.container_id[0] == '\0' || container_id_is_valid(id.container_id));
        FUZZ_CHECK((id.container_id[0] == '\0') == (id.runtime[0] == '\0'));
        if (id.kind == UNIT_KIND_MONITOR)
                FUZZ_CHECK(id.container_id[0] == '\0');
        if (id.container_id[0] != '\0')
                FUZZ_CHECK(strstr(unit, id.container_id) && endswith(unit, ".scope"));
        FUZZ_CHECK(id.owner_uid == UID_INVALID);
        FUZZ_CHECK(!strchr(id.pod_uid, '/') && !strchr(id.pod_uid, '_'));
}

static void check_user_unit(const char *path) {
        char manager[UNIT_NAME_MAX], unit[UNIT_NAME_MAX], back[UNIT_NAME_MAX];
        UnitIdentity id;
        uid_t uid;
        int r;

        r = unit_name_user_unit_of_cgroup_path(path, manager, unit);
        FUZZ_CHECK(r == 0 || r == -ENXIO);
        if (r < 0)
                return;
        FUZZ_CHECK(unit_name_is_user_manager(manager, &uid));
        snprintf(back, sizeof(back), "user@%u.service", (unsigned) uid);
        FUZZ_CHECK(streq(back, manager));
        FUZZ_CHECK(unit_name_is_valid(unit, strlen(unit)) && !endswith(unit, ".slice"));

        r = unit_identity_user(manager, unit, path, &id);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && path_unsafe(path)));
        if (r < 0)
                return;
        FUZZ_CHECK(id.kind == UNIT_KIND_USER && id.owner_uid == uid);
        FUZZ_CHECK(strlen(id.name) == strlen(manager) + 1 + strlen(unit));
        FUZZ_CHECK(strncmp(id.name, manager, strlen(manager)) == 0 && id.name[strlen(manager)] == '/');
        FUZZ_CHECK(streq(id.name + strlen(manager) + 1, unit));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = NULL;
        char unit[UNIT_NAME_MAX];
        const char *rest;
        uid_t uid;
        int r;

        if (size > 16 * 1024)
                return 0;
        path = fuzz_strndup(data, size);

        if (unit_name_is_user_manager(path, &uid))
                FUZZ_CHECK(unit_name_is_valid(path, strlen(path)));

        r = unit_name_of_cgroup_path(path, unit, &rest);
        FUZZ_CHECK(r == 0 || r == -ENXIO);
        if (r == 0) {
                FUZZ_CHECK(unit_name_is_valid(unit, strlen(unit)) && !endswith(unit, ".slice"));
                FUZZ_CHECK(rest > path && rest <= path + strlen(path));
                FUZZ_CHECK(*rest == '\0' || *rest == '/');
                FUZZ_CHECK(memmem(path, (size_t) (rest - path), unit, strlen(unit)));
                check_resolve(path, unit);
        }
        check_user_unit(path);
        return 0;
}
