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

bool cgroup_path_is_below(const char *path, const char *cgroup_path) {
        size_t l = strlen(cgroup_path);

        while (l > 1 && cgroup_path[l - 1] == '/')
                l--;
        if (l == 1) /* the root: everything is below it */
                return true;
        return strncmp(path, cgroup_path, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

int cgroup_path_of_pid(const char *root, pid_t pid, bool unified, char **ret_path) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
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
        return cgroup_proc_file_path(buf, len, unified, ret_path);
}

static bool is_uid_char(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool cgroup_unit_pod_uid(const char *cgroup, char *buf, size_t size) {
        const char *found = NULL;
        size_t found_len = 0;

        if (!cgroup || !buf || size == 0)
                return false;

        /* Component by component; the last one is the unit itself, never its own ancestor. */
        for (const char *p = cgroup;;) {
                const char *end, *pod;
                size_t len;

                while (*p == '/')
                        p++;
                end = strchrnul(p, '/');
                if (*end == '\0')
                        break;
                len = (size_t) (end - p);
                /* kubepods-pod<uid>.slice (Guaranteed), kubepods-burstable-pod<uid>.slice, ... */
                if (len > strlen("kubepods-pod.slice") && strncmp(p, "kubepods", 8) == 0 &&
                    strncmp(end - 6, ".slice", 6) == 0) {
                        pod = NULL;
                        for (const char *q = p; q + 4 <= end - 6; q++)
                                if (strncmp(q, "-pod", 4) == 0)
                                        pod = q + 4;
                        if (pod && pod < end - 6) {
                                bool ok = true;

                                for (const char *q = pod; q < end - 6; q++)
                                        ok = ok && is_uid_char(*q);
                                if (ok) {
                                        found = pod;
                                        found_len = (size_t) (end - 6 - pod);
                                }
                        }
                }
                p = end;
        }

        if (!found || found_len >= size)
                return false;
        for (size_t i = 0; i < found_len; i++)
                buf[i] = found[i] == '_' ? '-' : found[i];
        buf[found_len] = '\0';
        return true;
}

bool cgroup_unit_container_id(const char *unit, char buf[static CGROUP_UNIT_CONTAINER_ID_MAX]) {
        size_t len;
        const char *id;

        if (!unit)
                return false;
        len = strlen(unit);
        /* At least one character of runtime, the dash, 64 hex digits, ".scope". */
        if (len < 1 + 1 + 64 + 6 || !streq(unit + len - 6, ".scope"))
                return false;
        id = unit + len - 6 - 64;
        if (id[-1] != '-')
                return false;
        for (size_t i = 0; i < 64; i++)
                if (!is_lower_hex(id[i]))
                        return false;
        memcpy(buf, id, 64);
        buf[64] = '\0';
        return true;
}
