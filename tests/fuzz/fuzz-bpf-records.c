/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The BPF task iterator's record stream (struct mapcount_record, read straight into BpfTaskCount):
 * bpf_counter_parse_records(), what bpf_counter_scan() runs on what the kernel wrote. Lengths are
 * checked, never trusted; comm comes out terminated and valid UTF-8. (The limit-hit ring buffer is
 * fuzz-bpf-hits.c's.) */

#include <errno.h>
#include <string.h>

#include "bpf-counter.h"
#include "fuzz.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        BpfTaskCount *tasks = NULL;
        size_t n = 0, whole = size / sizeof(BpfTaskCount);
        void *buf = malloc(size ? size : 1);
        int r;

        FUZZ_CHECK(buf);
        memcpy(buf, data, size);
        r = bpf_counter_parse_records(buf, size, &tasks, &n);
        if (size % sizeof(BpfTaskCount) != 0) {
                FUZZ_CHECK(r == -EBADMSG);
                return 0;
        }
        FUZZ_CHECK(r >= 0 && (size_t) r == n && n <= whole);
        FUZZ_CHECK((n == 0) == (whole == 0));
        for (size_t i = 0; i < n; i++) {
                char comm[sizeof(tasks[i].comm)];

                FUZZ_CHECK(i == 0 || tasks[i - 1].pid < tasks[i].pid);
                FUZZ_CHECK(memchr(tasks[i].comm, '\0', sizeof(tasks[i].comm)));
                memcpy(comm, tasks[i].comm, sizeof(comm));
                utf8_make_valid(comm);
                FUZZ_CHECK(memcmp(comm, tasks[i].comm, sizeof(comm)) == 0);
        }
        free(tasks);
        return 0;
}
