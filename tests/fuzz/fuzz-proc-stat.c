/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/stat as proc_read_stat_at() hands it to proc_stat_parse(): at most 1023 bytes, NUL-terminated.
 * comm is whatever a process chose: spaces, parentheses, newlines ("(a) b)\n"), invalid UTF-8. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[1024], comm[sizeof(((ProcStat *) 0)->comm)];
        ProcStat st, untouched;
        size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
        int r;

        memcpy(buf, data, n);
        buf[n] = '\0';
        memset(&st, 0xaa, sizeof(st));
        untouched = st;
        r = proc_stat_parse(buf, &st);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                FUZZ_CHECK(memcmp(&st, &untouched, sizeof(st)) == 0);
                return 0;
        }
        FUZZ_CHECK(memchr(st.comm, '\0', sizeof(st.comm)));
        /* Already valid: making it valid again changes nothing. */
        memcpy(comm, st.comm, sizeof(comm));
        utf8_make_valid(comm);
        FUZZ_CHECK(memcmp(comm, st.comm, sizeof(comm)) == 0);
        /* The comm is what lies between the first '(' and the last ')', cut at 15 bytes. */
        {
                const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
                FUZZ_CHECK(open && close && close > open);
                FUZZ_CHECK(strlen(st.comm) <= (size_t) (close - open - 1));
        }
        return 0;
}
