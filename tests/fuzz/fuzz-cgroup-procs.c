/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup.procs: cgroup_procs_parse(), what the cgroup walk runs on each file, checked against the
 * format it accepts: decimal pids one per line, the last newline optional, pids 0 left out. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "fuzz.h"

typedef struct Seen {
        size_t n;
} Seen;

static int add(void *userdata, pid_t pid) {
        FUZZ_CHECK(pid > 0);
        ((Seen *) userdata)->n++;
        return 0;
}

/* The independent reading: -EBADMSG, or the number of non-zero pids. */
static long reference(const uint8_t *p, size_t size) {
        long n = 0;
        size_t i = 0;

        while (i < size) {
                uint64_t v = 0;
                size_t start = i;

                while (i < size && p[i] >= '0' && p[i] <= '9') {
                        v = v * 10 + (uint64_t) (p[i] - '0');
                        if (v > INT32_MAX)
                                return -EBADMSG;
                        i++;
                }
                if (i == start || (i < size && p[i] != '\n'))
                        return -EBADMSG;
                i++;
                if (v > 0)
                        n++;
        }
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Seen seen = {};
        long ref = reference(data, size);
        int r;

        r = cgroup_procs_parse((const char *) data, size, add, &seen);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        FUZZ_CHECK((r < 0) == (ref < 0));
        if (r == 0)
                FUZZ_CHECK((long) seen.n == ref);
        return 0;
}
