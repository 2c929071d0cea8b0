/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key-table.h"
#include "util.h"

#define FNV_PRIME UINT64_C(1099511628211)

uint64_t key_hash_add(uint64_t h, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) p[i];
                h *= FNV_PRIME;
        }
        return h;
}

uint64_t key_hash_finish(uint64_t partial, uint8_t tag) {
        return (partial ^ (uint64_t) (tag + 1U) << 56) * FNV_PRIME;
}

void key_table_done(KeyTable *t) {
        free(t->keys);
        free(t->slots);
        *t = (KeyTable){};
}

static int key_table_grow(KeyTable *t) {
        size_t n = t->n_slots ? t->n_slots * 2 : 256;
        uint32_t *slots;

        if (n > SIZE_MAX / sizeof(uint32_t) || n / 2 > UINT32_MAX)
                return -ENOMEM;
        slots = calloc(n, sizeof(uint32_t));
        if (!slots)
                return -ENOMEM;
        for (size_t id = 0; id < t->n_keys; id++) {
                size_t s = t->keys[id].hash & (n - 1);

                while (slots[s] != 0)
                        s = (s + 1) & (n - 1);
                slots[s] = (uint32_t) id + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = n;
        return 0;
}

/* The slot of the key, or the free one it would go to. */
static size_t key_table_slot(const KeyTable *t, const char *data, size_t len, uint8_t tag, uint64_t hash) {
        size_t s = hash & (t->n_slots - 1);

        for (;; s = (s + 1) & (t->n_slots - 1)) {
                const Key *k;

                if (t->slots[s] == 0)
                        return s;
                k = &t->keys[t->slots[s] - 1];
                if (k->hash == hash && k->tag == tag && k->len == len && memcmp(k->data, data, len) == 0)
                        return s;
        }
}

int key_table_put(KeyTable *t, const char *data, size_t len, uint8_t tag, uint64_t hash, uint32_t *ret_id) {
        size_t s;
        int r;

        if ((t->n_keys + 1) * 2 >= t->n_slots) {
                r = key_table_grow(t);
                if (r < 0)
                        return r;
        }
        s = key_table_slot(t, data, len, tag, hash);
        if (t->slots[s] != 0) {
                *ret_id = t->slots[s] - 1;
                return 0;
        }
        if (ARRAY_RESERVE(t->keys, t->allocated, t->n_keys, 256) < 0)
                return -ENOMEM;
        t->keys[t->n_keys] = (Key){ .data = data, .len = len, .hash = hash, .tag = tag };
        t->slots[s] = (uint32_t) t->n_keys + 1;
        *ret_id = (uint32_t) t->n_keys++;
        return 1;
}

int64_t key_table_get(const KeyTable *t, const char *data, size_t len, uint8_t tag, uint64_t hash) {
        size_t s;

        if (t->n_slots == 0)
                return -ENOENT;
        s = key_table_slot(t, data, len, tag, hash);
        return t->slots[s] == 0 ? -ENOENT : (int64_t) t->slots[s] - 1;
}
