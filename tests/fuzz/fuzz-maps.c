/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The maps counter (procfs.c: maps_counter_feed/finish, what proc_count_maps() runs on each read()),
 * fed the input cut into chunks anywhere (the first byte seeds the cuts), checked against the whole
 * input fed at once and against a plain count: lines, a last line without newline counting, the gate
 * area line ("[vsyscall]" as the name field of the last line) not. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

static bool is_gate(const char *p, size_t len) {
        const char *end = p + len;

        for (int i = 0; i < 5; i++) {
                while (p < end && *p == ' ')
                        p++;
                if (p == end)
                        return false;
                while (p < end && *p != ' ')
                        p++;
        }
        while (p < end && *p == ' ')
                p++;
        return (size_t) (end - p) == 10 && memcmp(p, "[vsyscall]", 10) == 0;
}

static int reference(const char *data, size_t size, unsigned *ret) {
        const char *last = NULL;
        size_t last_len = 0, start = 0;
        uint64_t lines = 0;

        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n') {
                        lines++;
                        last = data + start;
                        last_len = i - start;
                        start = i + 1;
                }
        if (start < size) {
                lines++;
                last = data + start;
                last_len = size - start;
        }
        if (lines == 0)
                return -ENODATA;
        if (last_len <= MAPS_GATE_LINE_MAX && is_gate(last, last_len))
                lines--;
        *ret = (unsigned) lines;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MapsCounter whole = {}, chunked = {};
        unsigned n_whole = 0, n_chunked = 0, n_ref = 0;
        int r_whole, r_chunked, r_ref;
        uint32_t seed;
        const char *text;
        size_t pos = 0;

        if (size < 1)
                return 0;
        seed = data[0] * 2654435761U + 1;
        text = (const char *) data + 1;
        size--;

        maps_counter_feed(&whole, text, size);
        while (pos < size) {
                size_t n;

                seed = seed * 1103515245U + 12345U;
                n = 1 + (seed >> 16) % 300;
                if (n > size - pos)
                        n = size - pos;
                maps_counter_feed(&chunked, text + pos, n);
                pos += n;
        }

        r_whole = maps_counter_finish(&whole, &n_whole);
        r_chunked = maps_counter_finish(&chunked, &n_chunked);
        r_ref = reference(text, size, &n_ref);
        FUZZ_CHECK(r_whole == r_chunked);
        FUZZ_CHECK(r_whole == r_ref);
        if (r_whole == 0) {
                FUZZ_CHECK(n_whole == n_chunked);
                FUZZ_CHECK(n_whole == n_ref);
        }
        return 0;
}
