/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "path-util.h"

char *path_prefix_root(const char *root, const char *path) {
        char *p;
        size_t l;

        if (!root)
                root = "";
        l = strlen(root);
        while (l > 0 && root[l - 1] == '/')
                l--;
        if (asprintf(&p, "%.*s%s", (int) l, root, path) < 0)
                return NULL;
        return p;
}
