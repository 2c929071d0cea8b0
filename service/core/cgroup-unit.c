/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-unit.h"
#include "fileio.h"
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

int cgroup_proc_file_path(const char *text, size_t len, bool unified, char **ret_path) {
        static const char legacy_tag[] = ":name=systemd:";
        const char *p = text, *end = text + len, *found = NULL;
        size_t found_len = 0;
        char *path;

        if (!text || !ret_path)
                return -EINVAL;
        /* Whole lines only: a path can be longer than any fixed line buffer (nested sub-cgroups), and
         * a line cut in two must not let its tail pass for a line of its own. */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end, *colon1, *colon2;

                /* hierarchy-ID:controller-list:path; the path may hold ':' itself. */
                colon1 = memchr(p, ':', (size_t) (eol - p));
                colon2 = colon1 ? memchr(colon1 + 1, ':', (size_t) (eol - colon1 - 1)) : NULL;
                if (colon2) {
                        bool match = unified ? colon1 - p == 1 && p[0] == '0' && colon2 == colon1 + 1
                                             : (size_t) (colon2 + 1 - colon1) == sizeof(legacy_tag) - 1 &&
                                        memcmp(colon1, legacy_tag, sizeof(legacy_tag) - 1) == 0;
                        if (match) {
                                found = colon2 + 1;
                                found_len = (size_t) (eol - found);
                        }
                }
                p = nl ? nl + 1 : end;
        }
        if (!found || memchr(found, '\0', found_len))
                return -ENXIO;
        path = strndup(found, found_len);
        if (!path)
                return -ENOMEM;
        *ret_path = path;
        return 0;
}

int cgroup_unit_of_pid(const char *root, pid_t pid, char **ret_unit) {
        _cleanup_free_ char *path = NULL, *buf = NULL, *unified = NULL, *legacy = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;
        int r;

        if (asprintf(&path, "%s/proc/%d/cgroup", root, (int) pid) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;

        r = cgroup_proc_file_path(buf, len, true, &unified);
        if (r == -ENOMEM)
                return r;
        r = cgroup_proc_file_path(buf, len, false, &legacy);
        if (r == -ENOMEM)
                return r;

        /* On hybrid systems the cgroup2 line can be empty ("0::/") while name=systemd has the unit. */
        if (unified && cgroup_unit_from_path(unified, ret_unit) == 0)
                return 0;
        if (legacy)
                return cgroup_unit_from_path(legacy, ret_unit);
        return -ENXIO;
}
