/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Byte strings with a small tag, to dense ids 0, 1, 2, ... in the order they were first put: open
 * addressing over FNV-1a hashes. The table keeps pointers to the bytes, not copies: they must outlive it.
 * Pure logic. The caller computes the hash, so that it can hash the prefixes of a string (a path's
 * directories) in one pass: key_hash_add() from KEY_HASH_INIT over the bytes, then key_hash_finish() with
 * the tag. */

#include <stddef.h>
#include <stdint.h>

#define KEY_HASH_INIT UINT64_C(14695981039346656037)

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

/* Returns the hash H continued over the N bytes of P. */
uint64_t key_hash_add(uint64_t h, const char *p, size_t n);

/* Returns the hash of a key whose bytes hashed to PARTIAL, with TAG. */
uint64_t key_hash_finish(uint64_t partial, uint8_t tag);

/* Looks up the LEN bytes of DATA with TAG (HASH: their key_hash_finish()), adding them when new. Returns
 * 1 when added, 0 when there already, with the id in *RET_ID; -ENOMEM (nothing added, *RET_ID
 * untouched). */
int key_table_put(KeyTable *t, const char *data, size_t len, uint8_t tag, uint64_t hash, uint32_t *ret_id);

/* Returns the id of the key, or -ENOENT. */
int64_t key_table_get(const KeyTable *t, const char *data, size_t len, uint8_t tag, uint64_t hash);

/* Frees what T holds and zeroes it (a zeroed table is empty and fine to free). */
void key_table_done(KeyTable *t);
