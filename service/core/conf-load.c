/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* config_load(): finding the main file and the drop-ins, merging them by name, reading each one. What a
 * file says is conf-parse.c's. */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "conf-load.h"
#include "conf-parse.h"
#include "dropin.h"
#include "fileio.h"
#include "path-util.h"
#include "procfs.h"
#include "strv.h"
#include "util.h"

/* A config file is a few hundred bytes; anything this big is a mistake (or /dev/zero behind a link). */
#define CONFIG_FILE_SIZE_MAX (UINT64_C(1) << 20)

/* Parses one file. A missing file is fine (returns 0), and so is a mask: /dev/null (usually a symlink to
 * it) or an empty file. */
static int parser_parse_file(Parser *p, const char *path) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        /* O_NONBLOCK: a FIFO in the config dir must not hang the daemon's start. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return parser_fail_errno(p, errno, path, "cannot open");
        }
        if (fstat(fd, &st) < 0)
                return parser_fail_errno(p, errno, path, "cannot stat");
        if (S_ISDIR(st.st_mode))
                return parser_fail(p, -EISDIR, path, 0, "is a directory, expected a file");
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return 0; /* /dev/null: masked */
        if (!S_ISREG(st.st_mode))
                return parser_fail(p, -EINVAL, path, 0, "is not a regular file");
        if ((uint64_t) st.st_size > CONFIG_FILE_SIZE_MAX)
                return parser_fail(p, -EFBIG, path, 0, "file too large (%jd bytes, at most %" PRIu64 ")",
                                   (intmax_t) st.st_size, CONFIG_FILE_SIZE_MAX);

        /* Read to EOF rather than trusting st_size: the file may change under us. */
        r = read_fd_all(fd, &buf, &size);
        if (r == -ENOMEM)
                return parser_fail(p, -ENOMEM, path, 0, "out of memory");
        if (r < 0)
                return parser_fail_errno(p, -r, path, "cannot read");
        if (size > CONFIG_FILE_SIZE_MAX)
                return parser_fail(p, -EFBIG, path, 0, "file too large (%zu bytes, at most %" PRIu64 ")",
                                   size, CONFIG_FILE_SIZE_MAX);
        if (size == 0)
                return 0;

        return parser_parse_buffer(p, path, buf, size);
}

static char *config_dir_resolve(const char *root, const char *config_dir) {
        char *s;

        if (config_dir)
                s = strdup(config_dir);
        else {
                /* systemd sets this from ConfigurationDirectory=: a list, ours is the first entry. */
                const char *e = getenv("CONFIGURATION_DIRECTORY");
                size_t n = e ? strcspn(e, ":") : 0;
                s = n > 0 ? strndup(e, n) : path_prefix_root(root, CONFIG_DIR_DEFAULT);
        }
        if (!s)
                return NULL;

        /* "dir/" would print as "dir//mapguardd.conf" in every error message. */
        size_t n = strlen(s);
        while (n > 1 && s[n - 1] == '/')
                s[--n] = '\0';
        return s;
}

int config_load(const char *root, const char *config_dir, Config **ret, char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *dir = NULL, *main_path = NULL;
        _cleanup_free_ char *vendor_dir = NULL, *run_dir = NULL, *etc_dir = NULL;
        DropInList dropins = {};
        Parser p = {};
        int r;

        c = config_new_default();
        dir = config_dir_resolve(root, config_dir);
        vendor_dir = path_prefix_root(root, "/usr/lib/mapguard/" CONFIG_DROPIN_DIR_NAME);
        run_dir = path_prefix_root(root, "/run/mapguard/" CONFIG_DROPIN_DIR_NAME);
        /* asprintf() leaves the pointer undefined on failure. */
        if (dir && asprintf(&main_path, "%s/" CONFIG_FILE_NAME, dir) < 0)
                main_path = NULL;
        if (dir && asprintf(&etc_dir, "%s/" CONFIG_DROPIN_DIR_NAME, dir) < 0)
                etc_dir = NULL;
        if (!c || !dir || !vendor_dir || !run_dir || !main_path || !etc_dir) {
                r = -ENOMEM;
                goto finish;
        }
        p.config = c;

        r = parser_parse_file(&p, main_path);
        if (r < 0)
                goto finish;

        /* Highest priority first: /etc's file hides a same-named one in /run and /usr/lib. */
        const char *dirs[] = { etc_dir, run_dir, vendor_dir };
        const char *failed_dir = NULL;
        r = dropin_list(root, dirs, ELEMENTSOF(dirs), &dropins, &failed_dir);
        if (r == -ENOMEM) {
                r = parser_fail(&p, -ENOMEM, dir, 0, "out of memory");
                goto finish;
        }
        if (r == -ENOTDIR) {
                r = parser_fail(&p, -ENOTDIR, failed_dir, 0, "is not a directory");
                goto finish;
        }
        if (r < 0) {
                r = parser_fail_errno(&p, -r, failed_dir, "cannot open directory");
                goto finish;
        }
        for (size_t i = 0; i < dropins.n; i++) {
                if (!dropins.files[i].path)
                        continue; /* masked */
                r = parser_parse_file(&p, dropins.files[i].path);
                if (r < 0)
                        goto finish;
        }

        r = parser_check_merged(&p);
        if (r < 0)
                goto finish;

        *ret = TAKE_PTR(c);
        r = 0;

finish:
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(p.error);
        dropin_list_done(&dropins);
        parser_done(&p);
        return r;
}
