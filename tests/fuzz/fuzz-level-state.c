/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state file (level-state.c): level_state_parse(), what level_state_load() runs on the file a
 * previous mapguardd left in its runtime directory. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "level-state.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *buf = fuzz_strndup(data, size);
        LevelState s = {};
        unsigned bad_line = 0;
        int r;

        r = level_state_parse(buf, size, &s, &bad_line);
        FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r < 0)
                return 0;
        for (size_t i = 0; i < s.n_levels; i++) {
                const SavedLevel *l = &s.levels[i];

                FUZZ_CHECK(l->pid > 0);
                FUZZ_CHECK(i == 0 || s.levels[i - 1].pid <= l->pid);
                FUZZ_CHECK(l->level == LEVEL_WARNING || l->level == LEVEL_CRITICAL);
                FUZZ_CHECK(memchr(l->comm, '\0', sizeof(l->comm)) && memchr(l->unit, '\0', sizeof(l->unit)));
                FUZZ_CHECK(level_state_find(&s, l->pid));
                FUZZ_CHECK(level_state_find(&s, l->pid)->pid == l->pid);
        }
        level_state_done(&s);
        return 0;
}
