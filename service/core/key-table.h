/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Byte strings with a small tag, to dense ids 0, 1, 2, ... in the order they were first put: open
 * addressing over a multiplicative hash taken 8 bytes at a time. The table keeps pointers to the bytes, not
 * copies: they must outlive it. Pure logic. */

#include <stddef.h>
#include <stdint.h>

typedef struct Key {
        const char *data;
        size_t len;
        uint64_t hash;
        uint8_t tag;
} Key;

typedef struct KeyTable {
        Key *keys; /* by id */
        size_t n_keys, allocated;
        uint32_t *slots; /* id + 1; 0 is free */
        size_t n_slots;  /* 0, or a power of two above twice n_keys */
} KeyTable;

/* Looks up the LEN bytes of DATA with TAG, adding them when new. Returns 1 when added, 0 when there
 * already, with the id in *RET_ID; -ENOMEM (nothing added, *RET_ID untouched). */
int key_table_put(KeyTable *t, const char *data, size_t len, uint8_t tag, uint32_t *ret_id);

/* Returns the id of the key, or -ENOENT. */
int64_t key_table_get(const KeyTable *t, const char *data, size_t len, uint8_t tag);

/* Frees what T holds and zeroes it (a zeroed table is empty and fine to free). */
void key_table_done(KeyTable *t);
