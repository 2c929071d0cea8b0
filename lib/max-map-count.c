/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "fileio.h"
#include "dropin.h"
#include "max-map-count.h"
#include "path-util.h"
#include "util.h"

/* Parses a kernel int sysctl value surrounded by whitespace: as the kernel prints it (BASE 10), or as
 * its proc_dointvec_minmax() reads what systemd-sysctl writes (BASE 0). The kernel's reader takes an
 * optional '-', then C notation (0x hex, a leading 0 octal: "0500000" is 163840, not 500000), at
 * most 20 characters with the sign; vm.max_map_count's range is 0..INT_MAX, so "-0" is 0 and any other
 * negative value is refused. */
static int parse_max_map_count(const char *s, int base, unsigned *ret) {
        const char *start;
        unsigned long v;
        bool neg = false;
        char *end;

        while (isspace((unsigned char) *s))
                s++;
        start = s;
        if (base == 0 && *s == '-') {
                neg = true;
                s++;
        }
        if (!isdigit((unsigned char) *s))
                return -EBADMSG;
        errno = 0;
        v = strtoul(s, &end, base);
        if (errno != 0 || v > INT_MAX || (neg && v != 0) || (base == 0 && end - start > 20))
                return -EBADMSG;
        while (isspace((unsigned char) *end))
                end++;
        if (*end != '\0')
                return -EBADMSG;
        *ret = (unsigned) v;
        return 0;
}

int max_map_count_read_live(const char *root, unsigned *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[64];
        ssize_t n;

        path = path_prefix_root(root, "/proc/sys/vm/max_map_count");
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read_fd_small(fd, buf, sizeof(buf));
        if (n < 0)
                return (int) n;
        if ((size_t) n >= sizeof(buf) - 1)
                return -EBADMSG; /* no number is that long */
        return max_map_count_parse_live(buf, (size_t) n, ret);
}

int max_map_count_parse_live(const char *text, size_t len, unsigned *ret) {
        if (!text || !ret || text[len] != '\0')
                return -EINVAL;
        if (strlen(text) != len)
                return -EBADMSG;
        return parse_max_map_count(text, 10, ret);
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = '\0';
        return s;
}

/* systemd-sysctl normalises a key whose first separator is '.' by swapping '.' and '/', so both
 * spellings name the same sysctl; this key has no other separator, so comparing both is enough. */
static bool key_is_max_map_count(const char *key) {
        return streq(key, "vm.max_map_count") || streq(key, "vm/max_map_count");
}

/* Applies one line of a sysctl.d file (NUL-terminated, no newline; modified in place) to T. */
static void apply_line(char *line, const char *path, MaxMapCountTuned *t) {
        char *l, *eq, *key, *value;
        bool ignore_failure = false;
        unsigned v;

        l = strip(line);
        if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
                return;
        eq = strchr(l, '=');
        if (!eq) /* systemd-sysctl logs "not an assignment" and goes on */
                return;
        *eq = '\0';
        key = strip(l);
        value = strip(eq + 1);
        if (key[0] == '-') {
                ignore_failure = true;
                key = strip(key + 1);
        }
        if (!key_is_max_map_count(key))
                return;

        t->source = path;
        if (parse_max_map_count(value, 0, &v) >= 0) {
                t->set = true;
                t->bad = false;
                t->value = v;
        } else {
                /* The kernel will refuse this value; the earlier assignment is replaced all the same, so
                 * nothing effective is set. */
                t->set = false;
                t->bad = !ignore_failure;
        }
}

int max_map_count_parse_sysctl(const char *path, const char *text, size_t len, MaxMapCountTuned *t) {
        const char *p = text, *end = text + len;

        if (!text || !t)
                return -EINVAL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = (size_t) ((nl ? nl : end) - p);
                /* A NUL byte ends the line early, as it did for getline() and strlen(). */
                _cleanup_free_ char *line = strndup(p, l);

                if (!line)
                        return -ENOMEM;
                apply_line(line, path, t);
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* Applies the vm.max_map_count assignments of one file to T. A missing file is no assignment. */
static int parse_file(const char *path, MaxMapCountTuned *t) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len;
        int r;

        /* O_NONBLOCK: a FIFO named *.conf must not hang us in open(). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* A directory or a FIFO named *.conf: systemd-sysctl ignores it. */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return 0;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r;
        return max_map_count_parse_sysctl(path, buf, len, t);
}

/* The sysctl.d directories of ROOT, highest priority first, as systemd-sysctl reads them. */
static int sysctl_dropins(const char *root, DropInList *ret) {
        static const char *const rel[] = {
                "/etc/sysctl.d",     "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                "/usr/lib/sysctl.d", "/lib/sysctl.d",
        };
        char *dirs[ELEMENTSOF(rel)] = {};
        _cleanup_free_ char *lib = NULL;
        size_t n = ELEMENTSOF(rel);
        struct stat st;
        int r;

        lib = path_prefix_root(root, "/lib");
        for (size_t i = 0; i < ELEMENTSOF(rel); i++)
                dirs[i] = path_prefix_root(root, rel[i]);
        r = -ENOMEM;
        if (!lib || !dirs[0] || !dirs[1] || !dirs[2] || !dirs[3] || !dirs[4])
                goto finish;
        /* On merged-/usr systems /lib is a symlink to usr/lib: the same files again. */
        if ((lstat(lib, &st) >= 0 && S_ISLNK(st.st_mode)) ||
            (lstat(dirs[4], &st) >= 0 && S_ISLNK(st.st_mode)))
                n--;
        r = dropin_list(root, (const char *const *) dirs, n, ret, NULL);
finish:
        for (size_t i = 0; i < ELEMENTSOF(rel); i++)
                free(dirs[i]);
        return r;
}

int max_map_count_read_tuned(const char *root, unsigned *ret, char **ret_source) {
        DropInList l = {};
        MaxMapCountTuned t = {};
        int r;

        r = sysctl_dropins(root, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                if (!l.files[i].path)
                        continue; /* masked */
                r = parse_file(l.files[i].path, &t);
                if (r < 0)
                        goto finish;
        }

        /* Not /etc/sysctl.conf: systemd-sysctl does not read it (Debian links it into /etc/sysctl.d
         * as 99-sysctl.conf, and so it is read there, in its place by name). */

        if (t.bad || (!t.set && t.source)) {
                /* Say where: that file's value is what systemd-sysctl will try, and fail, to write;
                 * or, with "-", what cancelled an earlier value. */
                r = t.bad ? -EBADMSG : -ENOENT;
                if (ret_source && t.source) {
                        char *src = strdup(t.source);
                        if (!src) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        *ret_source = src;
                }
        } else if (!t.set)
                r = -ENOENT;
        else {
                if (ret_source) {
                        char *s = strdup(t.source);
                        if (!s) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        *ret_source = s;
                }
                *ret = t.value;
                r = 0;
        }
finish:
        dropin_list_done(&l);
        return r;
}

unsigned max_map_count_headroom(unsigned map_count, unsigned max_map_count) {
        return map_count < max_map_count ? max_map_count - map_count : 0;
}
