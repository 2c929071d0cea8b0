/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capture-maps: keeps what explain_read() reads of a live process as a test fixture.
 *
 *     capture-maps [--names FILE] PID PREFIX
 *
 * Writes PREFIX.maps (the maps text, as read), PREFIX.threads (one line per thread: its stack pointer in
 * hex, or "running" when it was on a CPU) and PREFIX.count (the map count proc_count_maps() gave, read
 * right before and right after: the capture is retried until both and the count of the text agree, so a
 * fixture is one consistent picture of a process at rest).
 *
 * --names FILE emulates anonymous-mapping names on a kernel without CONFIG_ANON_VMA_NAME (prctl
 * PR_SET_VMA_ANON_NAME fails with EINVAL there): each line "ADDRESS NAME" (ADDRESS in hex) names the
 * unnamed anonymous mapping that holds ADDRESS "[anon:NAME]", written as the kernel writes names (from
 * column 74). A name for an address no anonymous mapping holds is an error: nothing is invented.
 * Run as root (or with CAP_SYS_PTRACE): reading a thread's syscall file takes ptrace attach access.
 */

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain-read.h"
#include "fileio.h"
#include "procfs.h"
#include "util.h"

#define CAPTURE_ATTEMPTS 20
/* The kernel writes a mapping's name from this column (0-based) on. */
#define NAME_COLUMN 73

typedef struct Name {
        uint64_t address;
        char *name;
        bool matched;
} Name;

static int read_names(const char *path, Name **ret, size_t *ret_n) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        Name *names = NULL;
        size_t n = 0, allocated = 0;
        char line[512];
        unsigned no = 0;

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *end;
                uint64_t a;

                no++;
                line[strcspn(line, "\n")] = '\0';
                errno = 0;
                a = strtoull(line, &end, 16);
                if (errno != 0 || end == line || *end != ' ' || end[1] == '\0') {
                        fprintf(stderr, "capture-maps: %s:%u: expected \"ADDRESS NAME\".\n", path, no);
                        return -EINVAL;
                }
                if (ARRAY_RESERVE(names, allocated, n, 16) < 0)
                        return -ENOMEM;
                names[n].address = a;
                names[n].name = strdup(end + 1);
                if (!names[n++].name)
                        return -ENOMEM;
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

/* The name NAMES gives the mapping START-END (the last that does), NULL when none. Marks those matched. */
static const char *name_for(Name *names, size_t n, uint64_t start, uint64_t end) {
        const char *name = NULL;

        for (size_t i = 0; i < n; i++)
                if (names[i].address >= start && names[i].address < end) {
                        names[i].matched = true;
                        name = names[i].name;
                }
        return name;
}

/* Writes one maps line (without newline), named when NAMES names its range. */
static int write_line(FILE *f, const char *line, size_t len, Name *names, size_t n) {
        _cleanup_free_ char *copy = strndup(line, len);
        unsigned long long start, end;
        const char *name = NULL;
        size_t base = len;
        int k = 0;

        if (!copy)
                return -ENOMEM;
        if (sscanf(copy, "%llx-%llx %*s %*s %*s %*s%n", &start, &end, &k) == 2 && k > 0)
                name = name_for(names, n, start, end);
        if (!name) {
                fwrite(line, 1, len, f);
                return 0;
        }
        while (base > 0 && line[base - 1] == ' ')
                base--;
        if (base != (size_t) k) {
                fprintf(stderr, "capture-maps: %s: not an anonymous mapping; refusing to name it.\n", copy);
                return -EINVAL;
        }
        fprintf(f, "%.*s%*s [anon:%s]", (int) base, copy,
                base < NAME_COLUMN - 1 ? (int) (NAME_COLUMN - 1 - base) : 0, "", name);
        return 0;
}

static int write_maps(const char *path, const ExplainInput *in, Name *names, size_t n) {
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        const char *p = in->maps, *end = in->maps + in->maps_len;
        int r;

        if (!f)
                return -errno;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);

                r = write_line(f, p, len, names, n);
                if (r < 0)
                        return r;
                if (nl)
                        fputc('\n', f);
                p = nl ? nl + 1 : end;
        }
        for (size_t i = 0; i < n; i++)
                if (!names[i].matched) {
                        fprintf(stderr, "capture-maps: no mapping holds %" PRIx64 " (%s).\n",
                                names[i].address, names[i].name);
                        return -EINVAL;
                }
        return fflush(f) == 0 ? 0 : -errno;
}

static int write_threads(const char *path, const ExplainInput *in) {
        _cleanup_fclose_ FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        for (size_t i = 0; i < in->n_threads; i++)
                if (in->stack_pointers[i] == 0)
                        fprintf(f, "running\n");
                else
                        fprintf(f, "0x%" PRIx64 "\n", in->stack_pointers[i]);
        return fflush(f) == 0 ? 0 : -errno;
}

/* Reads the process until the count before, the count after and the text's own count agree. */
static int capture(pid_t pid, ExplainInput *ret, unsigned *ret_count) {
        for (unsigned attempt = 0; attempt < CAPTURE_ATTEMPTS; attempt++) {
                _cleanup_(explain_input_done) ExplainInput in = {};
                MapsCounter c = {};
                unsigned before, after, text;
                int r;

                r = proc_count_maps(NULL, pid, &before);
                if (r < 0)
                        return r;
                r = explain_read(NULL, pid, SIZE_MAX, &in);
                if (r < 0)
                        return r;
                r = proc_count_maps(NULL, pid, &after);
                if (r < 0)
                        return r;
                maps_counter_feed(&c, in.maps, in.maps_len);
                r = maps_counter_finish(&c, &text);
                if (r < 0)
                        return r;
                if (before == after && after == text) {
                        *ret = in;
                        in = (ExplainInput){};
                        *ret_count = text;
                        return 0;
                }
                usleep(100 * 1000);
        }
        return -EAGAIN;
}

int main(int argc, char *argv[]) {
        _cleanup_(explain_input_done) ExplainInput in = {};
        _cleanup_free_ char *maps_path = NULL, *threads_path = NULL, *count_text = NULL, *count_path = NULL;
        const char *names_path = NULL;
        Name *names = NULL;
        size_t n_names = 0;
        unsigned count;
        long pid;
        int r;

        if (argc == 5 && streq(argv[1], "--names")) {
                names_path = argv[2];
                argv += 2;
                argc -= 2;
        }
        if (argc != 3 || (pid = strtol(argv[1], NULL, 10)) <= 0) {
                fprintf(stderr, "Usage: capture-maps [--names FILE] PID PREFIX\n");
                return EXIT_FAILURE;
        }
        if (names_path && (r = read_names(names_path, &names, &n_names)) < 0) {
                fprintf(stderr, "capture-maps: failed to read %s: %s\n", names_path, strerror(-r));
                return EXIT_FAILURE;
        }
        r = capture((pid_t) pid, &in, &count);
        if (r < 0) {
                fprintf(stderr, "capture-maps: failed to read process %ld%s: %s\n", pid,
                        r == -EAGAIN ? " at rest (its maps kept changing)" : "", strerror(-r));
                return EXIT_FAILURE;
        }
        if (asprintf(&maps_path, "%s.maps", argv[2]) < 0 ||
            asprintf(&threads_path, "%s.threads", argv[2]) < 0 ||
            asprintf(&count_path, "%s.count", argv[2]) < 0 || asprintf(&count_text, "%u\n", count) < 0)
                return EXIT_FAILURE;
        r = write_maps(maps_path, &in, names, n_names);
        if (r >= 0)
                r = write_threads(threads_path, &in);
        if (r >= 0)
                r = write_file_atomic(count_path, count_text, 0644);
        for (size_t i = 0; i < n_names; i++)
                free(names[i].name);
        free(names);
        if (r < 0) {
                fprintf(stderr, "capture-maps: failed to write %s.*: %s\n", argv[2], strerror(-r));
                return EXIT_FAILURE;
        }
        printf("%s: %u maps, %zu threads\n", argv[2], count, in.n_threads);
        return EXIT_SUCCESS;
}
