/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit-name.h"
#include "util.h"

static bool is_unit_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

static bool is_unit_type(const char *s, size_t len) {
        static const char *const types[] = { "service", "socket", "target", "device", "mount", "automount",
                                             "swap",    "timer",  "path",   "slice",  "scope" };

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (strlen(types[i]) == len && memcmp(types[i], s, len) == 0)
                        return true;
        return false;
}

/* The position of the last dot of NAME (LEN bytes), or NULL. */
static const char *last_dot(const char *name, size_t len) {
        for (size_t i = len; i > 0; i--)
                if (name[i - 1] == '.')
                        return name + i - 1;
        return NULL;
}

bool unit_name_is_valid(const char *name, size_t len) {
        const char *dot, *at = NULL;

        if (!name || len == 0 || len >= UNIT_NAME_MAX)
                return false;
        dot = last_dot(name, len);
        if (!dot || dot == name || !is_unit_type(dot + 1, (size_t) (name + len - dot - 1)))
                return false;
        for (const char *p = name; p < dot; p++) {
                if (!is_unit_name_char(*p))
                        return false;
                if (*p == '@' && !at)
                        at = p;
        }
        /* "@x.service" has no prefix; "x@.service" is a template, which never runs. */
        return at != name && (!at || dot > at + 1);
}

/* cg_unescape(): a leading '_' marks a name escaped so as not to clash with the kernel's files. */
static void unescape(const char **component, size_t *len) {
        if (*len > 0 && (*component)[0] == '_') {
                (*component)++;
                (*len)--;
        }
}

static bool has_suffix(const char *s, size_t len, const char *suffix) {
        size_t l = strlen(suffix);

        return len >= l && memcmp(s + len - l, suffix, l) == 0;
}

bool unit_name_component_is_slice(const char *component, size_t len) {
        if (!component || !has_suffix(component, len, ".slice"))
                return false;
        unescape(&component, &len);
        return unit_name_is_valid(component, len) && !memchr(component, '@', len);
}

bool unit_name_from_component(const char *component, size_t len, char buf[static UNIT_NAME_MAX]) {
        if (!component)
                return false;
        unescape(&component, &len);
        if (!unit_name_is_valid(component, len) || has_suffix(component, len, ".slice"))
                return false;
        memcpy(buf, component, len);
        buf[len] = '\0';
        return true;
}

bool unit_name_is_user_manager(const char *name, uid_t *ret_uid) {
        const char *p, *end;
        uint64_t uid = 0;

        if (!name || strncmp(name, "user@", 5) != 0 || !endswith(name, ".service"))
                return false;
        p = name + 5;
        end = name + strlen(name) - strlen(".service");
        if (p >= end || end - p > 10 || (p[0] == '0' && end - p > 1))
                return false;
        for (; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                uid = uid * 10 + (uint64_t) (*p - '0');
        }
        /* (uid_t) -1 is "no uid" to libc, and 65535 was that when uids had 16 bits. */
        if (uid >= UINT32_MAX || uid == UINT16_MAX)
                return false;
        if (ret_uid)
                *ret_uid = (uid_t) uid;
        return true;
}

int unit_name_of_cgroup_path(const char *path, char buf[static UNIT_NAME_MAX], const char **ret_rest) {
        const char *p = path;
        size_t n;

        if (!path || !buf)
                return -EINVAL;
        for (;;) {
                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (!unit_name_component_is_slice(p, n))
                        break;
                p += n;
        }
        /* The first component after the slices is the unit, or there is none. */
        if (n == 0 || !unit_name_from_component(p, n, buf))
                return -ENXIO;
        if (ret_rest)
                *ret_rest = p + n;
        return 0;
}

int unit_name_user_unit_of_cgroup_path(const char *path, char manager[static UNIT_NAME_MAX],
                                       char unit[static UNIT_NAME_MAX]) {
        char m[UNIT_NAME_MAX];
        const char *rest;
        int r;

        if (!path || !manager || !unit)
                return -EINVAL;
        r = unit_name_of_cgroup_path(path, m, &rest);
        if (r < 0)
                return r;
        if (!unit_name_is_user_manager(m, NULL))
                return -ENXIO;
        r = unit_name_of_cgroup_path(rest, unit, NULL);
        if (r < 0)
                return r;
        memcpy(manager, m, strlen(m) + 1);
        return 0;
}
