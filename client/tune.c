/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "format.h"
#include "max-map-count.h"
#include "tune.h"
#include "util.h"

uint32_t tune_target(uint32_t live, uint32_t tuned, uint32_t recommended) {
        uint32_t v = live;

        if (tuned > v)
                v = tuned;
        if (recommended > v)
                v = recommended;
        return v;
}

uint32_t tune_read_tuned(const char *root, uint32_t fallback) {
        unsigned tuned = 0;
        int r;

        r = max_map_count_read_tuned(root, &tuned, NULL);
        if (r == -ENOENT || r == -EBADMSG)
                return 0;
        if (r < 0)
                return fallback;
        return tuned;
}

int tune_path(const char *root, const char *path, char **ret_path) {
        char *p;

        if (!root || !*root || streq(root, "/"))
                p = strdup(path);
        else if (asprintf(&p, "%s%s", root, path) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

/* Returns the file's text: the header, `why` as comment lines, and the setting. NULL when out of memory. */
static char *sysctl_file_text(uint32_t value, const char *why, uint64_t realtime_usec) {
        char ts[FORMAT_TIMESTAMP_MAX], *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        fprintf(f,
                "# Written by 'mapguardctl tune --apply' on %s.\n"
                "# mapguardd(8) watches the vm.max_map_count headroom; mapguardctl(1) tune --apply\n"
                "# wrote this file so that the tuned value survives reboots. It is replaced whole the\n"
                "# next time tune --apply runs.\n",
                format_timestamp(ts, sizeof(ts), realtime_usec));
        if (why && *why) {
                /* Newlines start a new comment line; other control characters are replaced, so no text
                 * from the daemon can escape the comment and become a setting. */
                fputs("#\n# ", f);
                for (const char *p = why; *p; p++) {
                        if (*p == '\n')
                                fputs("\n# ", f);
                        else if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                fputc(' ', f);
                        else
                                fputc(*p, f);
                }
                fputc('\n', f);
        }
        fprintf(f, "vm.max_map_count = %" PRIu32 "\n", value);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

int tune_write_sysctl_file(const char *root, uint32_t value, const char *why, uint64_t realtime_usec) {
        _cleanup_free_ char *path = NULL, *dir = NULL, *text = NULL;
        int r;

        if (value > TUNE_VALUE_MAX)
                return -ERANGE;

        r = tune_path(root, TUNE_SYSCTL_FILE, &path);
        if (r < 0)
                return r;
        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = '\0';

        text = sysctl_file_text(value, why, realtime_usec);
        if (!text)
                return -ENOMEM;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        /* sysctl.d files are world-readable like the rest of /etc. */
        return write_file_atomic(path, text, 0644);
}

int tune_apply_live(const char *root, uint32_t value) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char buf[16];
        int r, n;

        if (value > TUNE_VALUE_MAX)
                return -ERANGE;
        r = tune_path(root, TUNE_PROC_FILE, &path);
        if (r < 0)
                return r;

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* One write(): a sysctl file takes the value of the first write at offset 0. */
        n = snprintf(buf, sizeof(buf), "%" PRIu32 "\n", value);
        return write_fd_all(fd, buf, (size_t) n);
}

void tune_boot_done(TuneBoot *b) {
        free(b->source);
        free(b->target);
        *b = (TuneBoot){};
}

/* Whether systemd-sysctl reads the file at path (a sysctl.d file: it has a '/') after ours. */
static bool sorts_after_ours(const char *path) {
        return strcmp(strrchr(path, '/') + 1, strrchr(TUNE_SYSCTL_FILE, '/') + 1) > 0;
}

int tune_check_boot(const char *root, uint32_t value, bool written, TuneBoot *ret) {
        _cleanup_free_ char *source = NULL, *target = NULL;
        unsigned tuned = 0;
        struct stat st;
        int r;

        r = max_map_count_read_tuned(root, &tuned, &source);
        if (r < 0 && r != -EBADMSG && r != -ENOENT)
                return r;
        if (r >= 0 && tuned == value)
                return 0; /* Ours counts, or another file asks for the same: the boot sets value. */
        /* systemd-sysctl keeps the last assignment, in file name order across the directories, and a name
         * in /etc masks the same name elsewhere: once ours is written, only a setting in a file whose name
         * sorts after ours can still win. */
        if (!written && (!source || !sorts_after_ours(source)))
                return 0;

        /* Debian's 99-sysctl.conf is a link to /etc/sysctl.conf: the user edits the file it leads to. */
        if (source && lstat(source, &st) >= 0 && S_ISLNK(st.st_mode)) {
                target = realpath(source, NULL);
                if (!target && errno == ENOMEM)
                        return -ENOMEM;
        }
        *ret = (TuneBoot){
                .source = TAKE_PTR(source),
                .target = TAKE_PTR(target),
                .valid = r >= 0,
                .value = r >= 0 ? tuned : 0,
        };
        return 1;
}
