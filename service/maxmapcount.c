/* SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf(), reallocarray() */
#endif

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
#include "maxmapcount.h"
#include "procfs.h"
#include "util.h"

/* Parses a kernel int sysctl value surrounded by whitespace: as the kernel prints it (BASE 10), or as
 * its proc_dointvec_minmax() reads what systemd-sysctl writes (BASE 0). The kernel's reader takes an
 * optional '-', then C notation (0x hex, a leading 0 octal: "0500000" is 163840, not 500000), at
 * most 20 characters with the sign; vm.max_map_count's range is 0..INT_MAX, so "-0" is 0 and any other negative
 * value is refused. */
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

int limits_read_live(const char *root, unsigned *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[64];
        ssize_t n;

        path = procfs_root_path(root, "/proc/sys/vm/max_map_count");
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
        if (strlen(buf) != (size_t) n)
                return -EBADMSG;
        return parse_max_map_count(buf, 10, ret);
}

/* One sysctl.d file name and the path it resolves to, NULL when masked. */
typedef struct ConfFile {
        char *name;
        char *path;
} ConfFile;

typedef struct ConfList {
        ConfFile *files;
        size_t n;
} ConfList;

static void conflist_done(ConfList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->files[i].name);
                free(l->files[i].path);
        }
        free(l->files);
        *l = (ConfList) {};
}

static bool conflist_has(const ConfList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->files[i].name, name))
                        return true;
        return false;
}

static bool endswith_conf(const char *name) {
        size_t l = strlen(name);
        return l > 5 && streq(name + l - 5, ".conf");
}

/* Decides what DIR/NAME stands for: NULL path when it masks (a symlink to /dev/null, or an empty
 * file, both of which systemd treats as masking), else the file to read. An absolute symlink target
 * is taken inside ROOT, as systemd-sysctl --root would. */
static int resolve_entry(const char *root, const char *dir, const char *name, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                if (streq(target, "/dev/null")) {
                        *ret_path = NULL;
                        return 0;
                }
                if (target[0] == '/') {
                        char *p = procfs_root_path(root, target);
                        if (!p)
                                return -ENOMEM;
                        free(path);
                        path = p;
                }
                if (stat(path, &st) < 0)
                        return -errno;
        }
        if (S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)) {
                *ret_path = NULL;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return -EISDIR;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int collect_dir(const char *root, const char *rel, ConfList *l) {
        _cleanup_free_ char *dir = NULL;
        DIR *d;
        int r = 0;

        dir = procfs_root_path(root, rel);
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        for (;;) {
                struct dirent *de;
                char *path = NULL;
                ConfFile *f;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (de->d_name[0] == '.' || !endswith_conf(de->d_name))
                        continue;
                /* A name seen in an earlier (higher priority) directory masks this one. */
                if (conflist_has(l, de->d_name))
                        continue;
                r = resolve_entry(root, dir, de->d_name, &path);
                /* A dangling or looping symlink, or a directory: systemd-sysctl skips them too. */
                if (r == -ENOENT || r == -ELOOP || r == -EISDIR) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                f = reallocarray(l->files, l->n + 1, sizeof(ConfFile));
                if (!f) {
                        free(path);
                        r = -ENOMEM;
                        break;
                }
                l->files = f;
                l->files[l->n] = (ConfFile) { .name = strdup(de->d_name), .path = path };
                if (!l->files[l->n].name) {
                        free(path);
                        r = -ENOMEM;
                        break;
                }
                l->n++;
        }
        closedir(d);
        return r;
}

static int conffile_compare(const void *a, const void *b) {
        return strcmp(((const ConfFile *) a)->name, ((const ConfFile *) b)->name);
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

/* The effect of the vm.max_map_count assignments seen so far. */
typedef struct Tuned {
        bool set;         /* the last assignment seen */
        bool bad;         /* ... has a bad value without "-" */
        unsigned value;
        const char *source;
} Tuned;

/* Applies the vm.max_map_count assignments of one file to T. A missing file is no assignment. */
static int parse_file(const char *path, Tuned *t) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;

        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;

        for (;;) {
                char *l, *eq, *key, *value;
                bool ignore_failure = false;
                unsigned v;
                ssize_t n;

                errno = 0;
                n = getline(&line, &allocated, f);
                if (n < 0) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                l = strip(line);
                if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
                        continue;
                eq = strchr(l, '=');
                if (!eq) /* systemd-sysctl logs "not an assignment" and goes on */
                        continue;
                *eq = '\0';
                key = strip(l);
                value = strip(eq + 1);
                if (key[0] == '-') {
                        ignore_failure = true;
                        key = strip(key + 1);
                }
                if (!key_is_max_map_count(key))
                        continue;

                t->source = path;
                if (parse_max_map_count(value, 0, &v) >= 0) {
                        t->set = true;
                        t->bad = false;
                        t->value = v;
                } else {
                        /* The kernel will refuse this value; the earlier assignment is replaced all
                         * the same, so nothing effective is set. */
                        t->set = false;
                        t->bad = !ignore_failure;
                }
        }
        return 0;
}

int limits_read_tuned(const char *root, unsigned *ret, char **ret_source) {
        static const char *const dirs[] = {
                "/etc/sysctl.d",
                "/run/sysctl.d",
                "/usr/local/lib/sysctl.d",
                "/usr/lib/sysctl.d",
        };
        _cleanup_free_ char *lib = NULL, *lib_sysctl = NULL;
        ConfList l = {};
        Tuned t = {};
        struct stat st;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = collect_dir(root, dirs[i], &l);
                if (r < 0)
                        goto finish;
        }

        /* On merged-/usr systems /lib is a symlink to usr/lib: the same files again. */
        lib = procfs_root_path(root, "/lib");
        lib_sysctl = procfs_root_path(root, "/lib/sysctl.d");
        if (!lib || !lib_sysctl) {
                r = -ENOMEM;
                goto finish;
        }
        if (!(lstat(lib, &st) >= 0 && S_ISLNK(st.st_mode)) &&
            !(lstat(lib_sysctl, &st) >= 0 && S_ISLNK(st.st_mode))) {
                r = collect_dir(root, "/lib/sysctl.d", &l);
                if (r < 0)
                        goto finish;
        }

        if (l.n > 0)
                qsort(l.files, l.n, sizeof(ConfFile), conffile_compare);

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
        conflist_done(&l);
        return r;
}
