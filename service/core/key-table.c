/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key-table.h"
#include "util.h"

/* The fractional part of the golden ratio: odd, and its bits well mixed. */
#define KEY_HASH_MULTIPLIER UINT64_C(0x9e3779b97f4a7c15)

static uint64_t key_hash_mix(uint64_t h) {
        h *= KEY_HASH_MULTIPLIER;
        return h ^ h >> 32;
}

/* Eight bytes per step; the length and the tag go in first, so that the zeros that pad the last word do
 * not make "a" and "a\0" collide. The table takes its slot from the low bits: each step folds the high
 * half of the product, where a multiplication carries a difference to, back into them. */
static uint64_t key_hash(const char *p, size_t n, uint8_t tag) {
        uint64_t h = key_hash_mix((uint64_t) n ^ (uint64_t) tag << 56);

        for (; n >= 8; p += 8, n -= 8) {
                uint64_t w;

                memcpy(&w, p, 8);
                h = key_hash_mix(h ^ w);
        }
        if (n > 0) {
                uint64_t w = 0;

                memcpy(&w, p, n);
                h = key_hash_mix(h ^ w);
        }
        return key_hash_mix(h);
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

int key_table_put(KeyTable *t, const char *data, size_t len, uint8_t tag, uint32_t *ret_id) {
        uint64_t hash = key_hash(data, len, tag);
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

int64_t key_table_get(const KeyTable *t, const char *data, size_t len, uint8_t tag) {
        size_t s;

        if (t->n_slots == 0)
                return -ENOENT;
        s = key_table_slot(t, data, len, tag, key_hash(data, len, tag));
        return t->slots[s] == 0 ? -ENOENT : (int64_t) t->slots[s] - 1;
}
