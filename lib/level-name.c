/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "level-name.h"

static const char *const level_table[_LEVEL_MAX] = {
        [LEVEL_UNKNOWN] = "unknown",
        [LEVEL_OK] = "ok",
        [LEVEL_WARNING] = "warning",
        [LEVEL_CRITICAL] = "critical",
};

const char *level_to_string(Level l) {
        if (l < 0 || l >= _LEVEL_MAX)
                return NULL;
        return level_table[l];
}

Level level_from_string(const char *s) {
        if (!s)
                return _LEVEL_INVALID;
        for (Level l = 0; l < _LEVEL_MAX; l++)
                if (strcmp(level_table[l], s) == 0)
                        return l;
        return _LEVEL_INVALID;
}
