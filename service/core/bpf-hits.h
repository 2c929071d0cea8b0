/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's side of the limit-hit program (service/bpf/hits.bpf.c): it catches, in the kernel, the
 * mapping calls of processes in the watched cgroups that fail at vm.max_map_count and queues one
 * record per call in a BPF ring buffer; this reads them with mmap() and bpf(2), without libbpf.
 *
 * Getting one: bpf_counter_new() runs mapguard-bpf-loader, which loads the program beside the task
 * iterator; bpf_counter_take_hits() hands it over. The program shares the counter's watched_cgroups
 * map: bpf_counter_set_cgroups() decides whose calls are caught. Free the BpfHits before or with its
 * counter (after the counter is gone it keeps catching for the last set of cgroups).
 *
 * Wiring it into sd-event (the daemon; this file knows nothing of the loop):
 *
 *     bpf_hits_set_limit(h, max_map_count);        // at start and whenever the scan reads a new limit
 *     bpf_hits_set_attached(h, n_watched_cgroups > 0);   // after each bpf_counter_set_cgroups()
 *     sd_event_add_io(event, &source, bpf_hits_fd(h), EPOLLIN, on_limit_hits, m);
 *     sd_event_source_set_description(source, "limit-hits");
 *
 *     static int on_limit_hits(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
 *             r = bpf_hits_drain(m->hits, manager_on_limit_hit, m, 0);   // one callback per hit
 *             ...                                                        // then flush bursts
 *     }
 *
 * The ring buffer fd polls readable while records are queued (the kernel's ringbuf_map_poll() compares
 * the two positions), so sd-event's level-triggered io source fires again after a partial drain (max >
 * 0); the kernel's own wakeups are adaptive (it signals a submit only when the consumer had caught up),
 * which is why the loop must poll, not wait for a signal per record.
 *
 * HitDetection: `caught` while the daemon holds a BpfHits (and is attached), `observed` otherwise:
 * the /proc backend, or a BPF backend whose loader could load neither way (the note says why; say it
 * in the journal at start, as for the way it caught: bpf_hits_mode_to_string() + the note).
 *
 * Attached or not: the fexit way costs only on the mapping calls; the tracepoint way puts every
 * syscall of every task on the slow syscall-exit path while attached, so the daemon attaches only
 * while it watches at least one cgroup. Attaching is one bpf(2) BPF_RAW_TRACEPOINT_OPEN per program
 * (link fds the BpfHits keeps), detaching closes them: nothing is reloaded. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit-hit.h"

typedef struct BpfHits BpfHits;

typedef enum BpfHitsMode {
        BPF_HITS_FEXIT,      /* fexit programs on the syscalls' entry points */
        BPF_HITS_TRACEPOINT, /* one program on the tracepoint sys_exit (under every syscalls:sys_exit_*) */
        _BPF_HITS_MODE_MAX,
} BpfHitsMode;

/* What the loader handed over (loader.h), taken by bpf_hits_new_from_fds(): the ring buffer, config and
 * stats maps, and N_PROGS program fds. */
typedef struct BpfHitsFds {
        int ringbuf_fd;
        int config_fd;
        int stats_fd;
        int prog_fds[16];
        size_t n_progs;
        const char *tracepoint; /* attach by this name (an untyped raw_tp program), NULL: by load target */
} BpfHitsFds;

/* Takes the fds (all of them, also on failure: they are closed then) and maps the ring buffer.
 * Returns 0 and a new, detached BpfHits with a limit of 0 (catching nothing) in *ret; -EINVAL for bad
 * arguments, -EBADF/-EINVAL when ringbuf_fd is no BPF ring buffer, or the -errno of mmap(). Used by
 * bpf-counter.c; the daemon gets its BpfHits from bpf_counter_take_hits(). */
int bpf_hits_new_from_fds(BpfHits **ret, BpfHitsMode mode, BpfHitsFds *fds);

/* Detaches, unmaps and closes everything. Accepts NULL; returns NULL. */
BpfHits *bpf_hits_free(BpfHits *h);

/* Returns "fexit" or "tracepoint": how calls are caught, for the journal at start. */
const char *bpf_hits_mode_to_string(BpfHitsMode mode);
BpfHitsMode bpf_hits_mode(const BpfHits *h);

/* Returns the fd to poll for EPOLLIN (the ring buffer map's: readable while records are queued). */
int bpf_hits_fd(const BpfHits *h);

/* Tells the program the live vm.max_map_count (0: catch nothing) and the margin (LIMIT_HIT_MARGIN).
 * Returns 0 or the -errno of the map update. */
int bpf_hits_set_limit(BpfHits *h, uint32_t max_map_count);

/* Attaches (ATTACH) or detaches the program(s); nothing happens when already so. Returns 0, or the
 * -errno of the first attach that failed (then nothing is attached). */
int bpf_hits_set_attached(BpfHits *h, bool attach);
bool bpf_hits_is_attached(const BpfHits *h);

/* Calls CB for each queued record that limit_hit_classify() confirms as a hit (the program's filter
 * and the rules agree; a record the rules reject is skipped), converted to a LimitHit (evidence
 * caught, comm made valid UTF-8, time in CLOCK_MONOTONIC µs), oldest first, consuming them: at most
 * MAX records, or all queued (also those queued meanwhile) when MAX is 0. Every record's length and
 * position is checked against the ring: a record of another size is skipped and counted in
 * *ret_bad (may be NULL); a header that points outside what the kernel produced makes it drop
 * everything queued and return -EBADMSG. Returns the number of records consumed (hits or not). */
typedef void (*BpfHitFunc)(const LimitHit *hit, void *userdata);
int bpf_hits_drain(BpfHits *h, BpfHitFunc cb, void *userdata, size_t max, uint64_t *ret_bad);

/* The ring as bpf_hits_drain() reads it: the kernel's layout (kernel/bpf/ringbuf.c) seen through two
 * mappings, or any memory laid out alike (the fuzz harness builds one from its input). */
typedef struct BpfHitsRing {
        uint64_t *consumer_pos;       /* written by the reader */
        const uint64_t *producer_pos; /* written by the kernel */
        const uint8_t *data;          /* the data pages, mapped twice in a row */
        uint64_t mask;                /* data size - 1, a power of two */
} BpfHitsRing;

/* bpf_hits_drain() on RING: what it runs. -EINVAL when a pointer is missing. */
int bpf_hits_ring_drain(BpfHitsRing *ring, BpfHitFunc cb, void *userdata, size_t max, uint64_t *ret_bad);

/* Reads the program's counters: records queued since load, and hits dropped because the ring buffer
 * was full (the daemon fell behind by MAPGUARD_HIT_RINGBUF_SIZE bytes, ~2,900 records). Returns 0 or
 * -errno. */
int bpf_hits_stats(BpfHits *h, uint64_t *ret_caught, uint64_t *ret_dropped);
