/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-unit.h"
#include "util.h"

static bool is_unit_name(const char *s, size_t n) {
        static const char *const suffixes[] = {
                ".service", ".scope", ".socket", ".mount", ".swap", ".slice"
        };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t l = strlen(suffixes[i]);

                if (n > l && memcmp(s + n - l, suffixes[i], l) == 0)
                        return true;
        }
        return false;
}

int cgroup_unit_from_path(const char *path, char **ret_unit) {
        const char *p = path;

        for (;;) {
                size_t n;
                char *unit;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 0)
                        return -ENXIO;
                if (is_unit_name(p, n) && !(n > 6 && memcmp(p + n - 6, ".slice", 6) == 0)) {
                        unit = strndup(p, n);
                        if (!unit)
                                return -ENOMEM;
                        *ret_unit = unit;
                        return 0;
                }
                p += n;
        }
}

int cgroup_unit_of_pid(const char *root, pid_t pid, char **ret_unit) {
        _cleanup_free_ char *path = NULL, *unified = NULL, *legacy = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char line[4096];

        if (asprintf(&path, "%s/proc/%d/cgroup", root, (int) pid) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? -ESRCH : -errno;

        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "0::", 3) == 0) {
                        free(unified);
                        unified = strdup(line + 3);
                        if (!unified)
                                return -ENOMEM;
                } else if (strstr(line, ":name=systemd:")) {
                        free(legacy);
                        legacy = strdup(strstr(line, ":name=systemd:") + strlen(":name=systemd:"));
                        if (!legacy)
                                return -ENOMEM;
                }
        }

        /* On hybrid systems the cgroup2 line can be empty ("0::/") while name=systemd has the unit. */
        if (unified && cgroup_unit_from_path(unified, ret_unit) == 0)
                return 0;
        if (legacy)
                return cgroup_unit_from_path(legacy, ret_unit);
        return -ENXIO;
}
