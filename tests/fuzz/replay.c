/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The corpus replay: feeds each file of the directories (or files) named on the command line to the
 * harness's LLVMFuzzerTestOneInput() once, without libFuzzer, and prints TAP. Built with the harness
 * into one test per harness, so that the normal test suite (and its ASan+UBSan build) runs every
 * corpus input: a crash, a sanitizer report or a FUZZ_CHECK() failure aborts, and the test fails. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fuzz.h"
#include "util.h"

static unsigned n_tests;

static int replay_file(const char *path) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r;
        /* A copy of exactly LEN bytes, so that ASan sees a read past the input. */
        uint8_t *data = malloc(len ? len : 1);
        if (!data)
                return -ENOMEM;
        memcpy(data, buf, len);
        (void) LLVMFuzzerTestOneInput(data, len);
        free(data);
        printf("ok %u - %s\n", ++n_tests, path);
        fflush(stdout);
        return 0;
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int replay_path(const char *path) {
        _cleanup_(closedirp) DIR *d = NULL;
        char **names = NULL;
        size_t n = 0, allocated = 0;
        struct stat st;
        int r = 0;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return replay_file(path);
        d = opendir(path);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                if (ARRAY_RESERVE(names, allocated, n, 16) < 0)
                        return -ENOMEM;
                if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
                        return -ENOMEM;
                n++;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), name_compare);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = replay_path(names[i]);
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                int r = replay_path(argv[i]);

                if (r < 0) {
                        printf("not ok %u - %s: %s\n", ++n_tests, argv[i], strerror(-r));
                        printf("1..%u\n", n_tests);
                        return 1;
                }
        }
        if (n_tests == 0) {
                printf("1..0 # SKIP no corpus files\n");
                return 0;
        }
        printf("1..%u\n", n_tests);
        return 0;
}
