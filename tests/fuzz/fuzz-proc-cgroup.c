/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/cgroup: cgroup_proc_file_path() for both hierarchies (what cgroup_unit_of_pid() and the
 * /proc completion of cgroup_read_pids_full() run), then cgroup_unit_from_path() on what it found. */

#include <errno.h>
#include <string.h>

#include "cgroup-unit.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        for (int unified = 0; unified <= 1; unified++) {
                _cleanup_free_ char *path = NULL, *unit = NULL;
                int r;

                r = cgroup_proc_file_path((const char *) data, size, unified, &path);
                FUZZ_CHECK(r == 0 || r == -ENXIO);
                if (r < 0) {
                        FUZZ_CHECK(!path);
                        continue;
                }
                /* One line's path: no newline in it, and it was in the input. */
                FUZZ_CHECK(!strchr(path, '\n'));
                FUZZ_CHECK(strlen(path) <= size);
                r = cgroup_unit_from_path(path, &unit);
                FUZZ_CHECK(r == 0 || r == -ENXIO);
                if (r == 0) {
                        FUZZ_CHECK(unit[0] != '\0' && !strchr(unit, '/'));
                        FUZZ_CHECK(strstr(path, unit));
                }
        }
        return 0;
}
