/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "maps-line.h"

/* A hex digit's value plus one, 0 for any other byte: one load per digit, in a loop that reads 65,000
 * lines. */
static const uint8_t hex_table[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
        ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
        ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Parses hex digits from *P up to END (at most 16 of them) into *RET, and moves *P past them. */
static bool parse_hex(const char **p, const char *end, uint64_t *ret) {
        const char *q = *p;
        uint64_t v = 0;

        for (; q < end && hex_table[(unsigned char) *q] != 0; q++) {
                if (q - *p == 16)
                        return false;
                v = v << 4 | (uint64_t) (hex_table[(unsigned char) *q] - 1);
        }
        if (q == *p)
                return false;
        *p = q;
        *ret = v;
        return true;
}

/* Moves P past the spaces at it; the kernel pads names to column 74 with them, so 8 at a time first. */
static const char *skip_spaces(const char *p, const char *end) {
        while (end - p >= 8 && memcmp(p, "        ", 8) == 0)
                p += 8;
        while (p < end && *p == ' ')
                p++;
        return p;
}

/* Moves P past one field and the spaces after it; NULL when there is no field at P. */
static const char *skip_field(const char *p, const char *end) {
        const char *q = p;

        while (q < end && *q != ' ')
                q++;
        if (q == p)
                return NULL;
        return skip_spaces(q, end);
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
        p = skip_spaces(p, end);
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
