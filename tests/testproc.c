/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testproc.h"
#include "util.h"

int testproc_join_cgroup(const char *dir) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, "0\n", 2) != 2)
                return -errno;
        return 0;
}

char testproc_state(pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], buf[1024], *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof(buf), f))
                return '?';
        /* The comm may hold ") ": the state follows the last one. */
        p = strrchr(buf, ')');
        return p && p[1] == ' ' ? p[2] : '?';
}
