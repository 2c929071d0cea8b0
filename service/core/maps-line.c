/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "maps-line.h"

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parses hex digits from *P up to END (at most 16 of them) into *RET, and moves *P past them. */
static bool parse_hex(const char **p, const char *end, uint64_t *ret) {
        uint64_t v = 0;
        unsigned n = 0;
        int d;

        for (; *p < end && (d = hex_digit(**p)) >= 0; (*p)++, n++) {
                if (n == 16)
                        return false;
                v = v << 4 | (uint64_t) d;
        }
        *ret = v;
        return n > 0;
}

/* Moves P past one field and the spaces after it; NULL when there is no field at P. */
static const char *skip_field(const char *p, const char *end) {
        const char *q = p;

        while (q < end && *q != ' ')
                q++;
        if (q == p)
                return NULL;
        while (q < end && *q == ' ')
                q++;
        return q;
}

static bool parse_perms(const char *p, const char *end, uint8_t *ret) {
        uint8_t perms = 0;

        if (end - p < 4 || (end - p > 4 && p[4] != ' '))
                return false;
        if (p[0] != 'r' && p[0] != '-')
                return false;
        if (p[1] != 'w' && p[1] != '-')
                return false;
        if (p[2] != 'x' && p[2] != '-')
                return false;
        if (p[3] != 'p' && p[3] != 's')
                return false;
        perms |= p[0] == 'r' ? MAPS_PERM_READ : 0;
        perms |= p[1] == 'w' ? MAPS_PERM_WRITE : 0;
        perms |= p[2] == 'x' ? MAPS_PERM_EXEC : 0;
        perms |= p[3] == 's' ? MAPS_PERM_SHARED : 0;
        *ret = perms;
        return true;
}

bool maps_line_parse(const char *line, size_t len, MapsLine *ret) {
        const char *p = line, *end = line + len;
        uint64_t start, end_addr;
        uint8_t perms;

        if (!parse_hex(&p, end, &start) || p == end || *p++ != '-' || !parse_hex(&p, end, &end_addr) ||
            p == end || *p != ' ')
                return false;
        while (p < end && *p == ' ')
                p++;
        if (!parse_perms(p, end, &perms))
                return false;
        p = skip_field(p, end);
        /* offset, dev, inode */
        for (unsigned i = 0; i < 3 && p; i++)
                p = p < end ? skip_field(p, end) : NULL;
        if (!p)
                return false;
        *ret = (MapsLine){
                .start = start,
                .end = end_addr,
                .perms = perms,
                .name = p,
                .name_len = strnlen(p, (size_t) (end - p)),
        };
        return true;
}
