/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limit-hit ring buffer as the kernel lays it out (8-byte headers with BUSY and DISCARD bits,
 * records at 8-byte boundaries, the data mapped twice in a row): bpf_hits_ring_drain(), what
 * bpf_hits_drain() runs on the mmap()ed ring. The input is the ring: byte 0 the reader's MAX, bytes
 * 1-8 the consumer's position, 9-10 how far the producer is ahead of it, then the data pages (cut or
 * zero-padded to RING_SIZE). Headers are checked, never trusted:
 *  - the consumer never passes the producer, moves in whole 8-byte steps, and -EBADMSG leaves it on
 *    the producer (the ring is resynchronised);
 *  - every hit delivered has a pid, a syscall, an errno and a count at the limit, its comm terminated
 *    and valid UTF-8;
 *  - draining MAX records at a time delivers the same hits, in the same order, as draining at once;
 *    after a full drain, nothing is left to drain. */

#include <errno.h>
#include <string.h>

#include "bpf-hits.h"
#include "fuzz.h"
#include "utf8.h"

#define RING_SIZE 4096U
#define MAX_HITS (RING_SIZE / 8U)

typedef struct Ring {
        uint64_t consumer;
        uint64_t producer;
        uint8_t data[2 * RING_SIZE];
        BpfHitsRing view;
} Ring;

typedef struct Hits {
        LimitHit hit[MAX_HITS];
        size_t n;
} Hits;

static void on_hit(const LimitHit *hit, void *userdata) {
        Hits *hits = userdata;
        char comm[sizeof(hit->comm)];

        FUZZ_CHECK(hits->n < MAX_HITS);
        FUZZ_CHECK(hit->pid != 0);
        FUZZ_CHECK(hit->syscall > 0 && hit->syscall < _LIMIT_HIT_SYSCALL_MAX);
        FUZZ_CHECK(hit->error > 0);
        FUZZ_CHECK(hit->evidence == LIMIT_HIT_CAUGHT);
        FUZZ_CHECK(hit->max_map_count > 0 &&
                   (uint64_t) hit->map_count + LIMIT_HIT_MARGIN >= hit->max_map_count);
        FUZZ_CHECK(memchr(hit->comm, '\0', sizeof(hit->comm)));
        memcpy(comm, hit->comm, sizeof(comm));
        utf8_make_valid(comm);
        FUZZ_CHECK(memcmp(comm, hit->comm, sizeof(comm)) == 0);
        hits->hit[hits->n++] = *hit;
}

static void ring_init(Ring *ring, uint64_t consumer, uint64_t ahead, const uint8_t *data, size_t size) {
        memset(ring->data, 0, RING_SIZE);
        memcpy(ring->data, data, size < RING_SIZE ? size : RING_SIZE);
        memcpy(ring->data + RING_SIZE, ring->data, RING_SIZE); /* the second mapping */
        ring->consumer = consumer;
        ring->producer = consumer + ahead;
        ring->view = (BpfHitsRing){
                .consumer_pos = &ring->consumer,
                .producer_pos = &ring->producer,
                .data = ring->data,
                .mask = RING_SIZE - 1,
        };
}

static bool hit_equal(const LimitHit *a, const LimitHit *b) {
        return a->pid == b->pid && a->tid == b->tid && a->syscall == b->syscall && a->error == b->error &&
                a->map_count == b->map_count && a->max_map_count == b->max_map_count &&
                a->cgroup_id == b->cgroup_id && a->start_time_ns == b->start_time_ns &&
                a->time_usec == b->time_usec && a->evidence == b->evidence &&
                memcmp(a->comm, b->comm, sizeof(a->comm)) == 0;
}

/* Drains RING MAX at a time until nothing moves. Returns the last result (0, or -EBADMSG). */
static int drain_all(Ring *ring, size_t max, Hits *hits) {
        for (;;) {
                uint64_t before = ring->consumer, bad = UINT64_MAX;
                size_t n_before = hits->n;
                int r = bpf_hits_ring_drain(&ring->view, on_hit, hits, max, &bad);

                FUZZ_CHECK(bad != UINT64_MAX); /* always told */
                if (r == -EBADMSG) {
                        FUZZ_CHECK(ring->consumer == ring->producer);
                        return r;
                }
                FUZZ_CHECK(r >= 0);
                FUZZ_CHECK(max == 0 || (size_t) r <= max);
                FUZZ_CHECK(hits->n - n_before + bad <= (size_t) r);
                FUZZ_CHECK(ring->consumer >= before && ring->consumer - before <= ring->producer - before);
                FUZZ_CHECK((ring->consumer - before) % 8 == 0);
                FUZZ_CHECK(r == 0 || ring->consumer != before); /* discarded records move it uncounted */
                if (ring->consumer == before || max == 0)
                        return 0;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Ring whole, chunked;
        static Hits hits_whole, hits_chunked;
        uint64_t consumer, ahead;
        size_t max;
        int r_whole, r_chunked;

        if (size < 11)
                return 0;
        max = data[0];
        memcpy(&consumer, data + 1, sizeof(consumer));
        consumer &= ~UINT64_C(7); /* the kernel's positions are 8-byte aligned */
        ahead = (uint64_t) data[9] | (uint64_t) data[10] << 8;
        if (consumer > UINT64_MAX - ahead)
                return 0; /* positions are 64-bit byte counts since load: they do not wrap */

        ring_init(&whole, consumer, ahead, data + 11, size - 11);
        ring_init(&chunked, consumer, ahead, data + 11, size - 11);
        hits_whole.n = hits_chunked.n = 0;

        r_whole = drain_all(&whole, 0, &hits_whole);
        r_chunked = drain_all(&chunked, max, &hits_chunked);
        FUZZ_CHECK(r_whole == r_chunked);
        FUZZ_CHECK(whole.consumer == chunked.consumer);
        FUZZ_CHECK(hits_whole.n == hits_chunked.n);
        for (size_t i = 0; i < hits_whole.n; i++)
                FUZZ_CHECK(hit_equal(&hits_whole.hit[i], &hits_chunked.hit[i]));

        /* Nothing is left that a later wakeup would read differently. */
        FUZZ_CHECK(bpf_hits_ring_drain(&whole.view, on_hit, &hits_whole, 0, NULL) == 0);
        return 0;
}
