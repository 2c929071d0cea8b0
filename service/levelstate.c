/* SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf() */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "levelstate.h"
#include "util.h"

/* The first line: what the file is and its format's version. */
#define LEVEL_STATE_HEADER "mapguardd levels 1\n"

int level_state_save(const char *path, const SavedLevel *levels, size_t n) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r = 0;

        if (!path || (!levels && n > 0))
                return -EINVAL;
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                (void) unlink(tmp);
                return r;
        }
        fputs(LEVEL_STATE_HEADER, f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%" PRIi32 " %" PRIu64 " %s\n", (int32_t) levels[i].pid, levels[i].start_time,
                        level_to_string(levels[i].level) ?: "unknown");
        if (fflush(f) != 0 || ferror(f))
                r = errno > 0 ? -errno : -EIO;
        if (fclose(TAKE_PTR(f)) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static int saved_level_compare(const void *a, const void *b) {
        const SavedLevel *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

int level_state_load(const char *path, SavedLevel **ret, size_t *ret_n) {
        _cleanup_free_ SavedLevel *levels = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len, n = 0, allocated = 0;
        char *line, *next;
        int r;

        if (!path || !ret || !ret_n)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r;
        if (strlen(buf) != len || strncmp(buf, LEVEL_STATE_HEADER, strlen(LEVEL_STATE_HEADER)) != 0)
                return -EBADMSG;

        for (line = buf + strlen(LEVEL_STATE_HEADER); *line; line = next) {
                char level[16];
                long long pid;
                unsigned long long start_time;
                int consumed = 0;
                Level l;

                next = strchr(line, '\n');
                if (!next)
                        return -EBADMSG; /* cut short */
                *next++ = '\0';
                if (sscanf(line, "%lld %llu %15s%n", &pid, &start_time, level, &consumed) != 3 ||
                    line[consumed] != '\0' || pid <= 0 || pid > INT32_MAX)
                        return -EBADMSG;
                l = level_from_string(level);
                if (l < 0)
                        return -EBADMSG;
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        SavedLevel *p = reallocarray(levels, a, sizeof(SavedLevel));

                        if (!p)
                                return -ENOMEM;
                        levels = p;
                        allocated = a;
                }
                levels[n++] = (SavedLevel) { .pid = (pid_t) pid, .start_time = start_time, .level = l };
        }

        if (n > 0)
                qsort(levels, n, sizeof(SavedLevel), saved_level_compare);
        *ret = TAKE_PTR(levels);
        *ret_n = n;
        return 0;
}

const SavedLevel *level_state_find(const SavedLevel *levels, size_t n, pid_t pid) {
        SavedLevel key = { .pid = pid };

        if (!levels || n == 0)
                return NULL;
        return bsearch(&key, levels, n, sizeof(SavedLevel), saved_level_compare);
}
