/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/status as proc_read_status_at() hands it to proc_status_parse(): at most 4095 bytes,
 * NUL-terminated. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[4096];
        size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
        uid_t uid = 4242;
        pid_t tgid = 4242;
        int r;

        memcpy(buf, data, n);
        buf[n] = '\0';
        r = proc_status_parse(buf, &uid, &tgid);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                FUZZ_CHECK(uid == 4242 && tgid == 4242);
        else
                FUZZ_CHECK(tgid >= 0 && uid != (uid_t) -1);
        return 0;
}
