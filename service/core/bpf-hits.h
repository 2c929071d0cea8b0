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
 * Modes, chosen once by the loader, best first (bpf_hits_mode(), and bpf_hits_mode_reason() for why not
 * a better one):
 * - fexit: programs on the mapping calls' entry points. They cost nothing on other calls (the kernel's
 *   selftests measure ~3 ns on the hooked ones), so the mode is always armed
 *   (bpf_hits_always_armed()): once armed it stays attached.
 * - tracepoint: one program on the syscalls:sys_exit_<call> events of the mapping calls the kernel has
 *   (perf events; needs tracefs, where the events' ids are, and perf_event_open()). While attached,
 *   every task takes the slow syscall path: a call that maps nothing pays ~70-80 ns, a mapping call
 *   ~100-200 ns (Linux 6.18, 2 vCPUs: bench/README.md).
 * - sys_exit: one program on the raw tracepoint under every syscall's exit, which looks each call up:
 *   ~105-130 ns on every syscall of every task while attached.
 * In the last two, arm only while it matters (a process near the limit, a unit that hit it): disarmed,
 * nothing is attached and the host pays nothing.
 *
 * Wiring it into sd-event (the daemon; this file knows nothing of the loop):
 *
 *     bpf_hits_set_limit(h, max_map_count);        // at start and whenever the scan reads a new limit
 *     bpf_hits_arm(h, trigger_holds);              // at start and whenever the trigger changes
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
 * which is why the loop must poll, not wait for a signal per record. Disarming keeps the ring buffer
 * and what it holds: keep draining it.
 *
 * HitDetection: `caught` while the daemon holds a BpfHits, `observed` otherwise: the /proc backend, or
 * a BPF backend whose loader could load no mode (the note says why). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit-hit.h"

typedef struct BpfHits BpfHits;

typedef enum BpfHitsMode {
        BPF_HITS_FEXIT,      /* fexit programs on the syscalls' entry points */
        BPF_HITS_TRACEPOINT, /* one program on the syscalls:sys_exit_<call> events of the mapping calls */
        BPF_HITS_SYS_EXIT,   /* one program on the raw tracepoint sys_exit, under every syscall's exit */
        _BPF_HITS_MODE_MAX,
} BpfHitsMode;

/* What the loader handed over (loader.h), taken by bpf_hits_new_from_fds(): the ring buffer, config and
 * stats maps, N_PROGS program fds and, in tracepoint mode, the ids of the events to attach them to. */
typedef struct BpfHitsFds {
        int ringbuf_fd;
        int config_fd;
        int stats_fd;
        int prog_fds[16];
        size_t n_progs;
        const char *tracepoint; /* sys_exit: attach by this name (an untyped raw_tp program), NULL: by load
                                   target */
        uint32_t tracepoint_ids[16]; /* tracepoint: the syscalls:sys_exit_* events' ids (tracefs) */
        size_t n_tracepoint_ids;
        const char *reason; /* why this mode and not a better one (copied); NULL or "" for none */
} BpfHitsFds;

/* Takes the fds (all of them, also on failure: they are closed then) and maps the ring buffer.
 * Returns 0 and a new, disarmed BpfHits with a limit of 0 (catching nothing) in *ret; -EINVAL for bad
 * arguments (program fds that do not fit MODE included), -EBADF/-EINVAL when ringbuf_fd is no BPF ring
 * buffer, or the -errno of mmap(). Used by bpf-counter.c; the daemon gets its BpfHits from
 * bpf_counter_take_hits(). */
int bpf_hits_new_from_fds(BpfHits **ret, BpfHitsMode mode, BpfHitsFds *fds);

/* Disarms, waits until the kernel has released what disarming handed to child processes (tracepoint
 * mode: up to ~0.7 s after the last disarm), unmaps and closes everything. Accepts NULL; returns NULL. */
BpfHits *bpf_hits_free(BpfHits *h);

/* Returns "fexit", "tracepoint" or "sys_exit": how calls are caught, for the journal at start; NULL for
 * an unknown mode. */
const char *bpf_hits_mode_to_string(BpfHitsMode mode);
BpfHitsMode bpf_hits_mode(const BpfHits *h);

/* Returns one line (no final period) saying why this mode and not a better one, e.g. "the kernel refused
 * to load fexit programs: Operation not permitted (...)", for the journal line that names the mode;
 * for fexit, that it is the cheapest. Never NULL; valid while H lives. */
const char *bpf_hits_mode_reason(const BpfHits *h);

/* Returns whether the mode costs nothing on the calls it does not catch (fexit), so that it stays armed:
 * bpf_hits_arm() then arms whatever it is told, and the daemon need not keep a trigger. */
bool bpf_hits_always_armed(const BpfHits *h);

/* Arms (ARMED: attaches the programs, so that failing calls are caught from now on) or disarms
 * (detaches them: nothing is caught from the moment this returns, and the host pays nothing once the
 * kernel has released them). Idempotent. In an always-armed mode every call arms. Records already in the
 * ring buffer stay there, to be drained as usual.
 * Costs, Linux 6.18 on 2 vCPUs: sys_exit ~0.2 ms either way. Tracepoint: arming opens a perf event and a
 * link per mapping call, ~0.5 ms in all; disarming forks a child that closes them and returns in ~0.2
 * ms; the kernel then takes ~0.65 s of RCU grace periods to release them, in that child; arming a
 * third time within that time waits for the first child (the program has two copies to alternate,
 * hits.h). fexit: attaching ~15 links, once.
 * The child is a zombie once done, until the next bpf_hits_arm() (either way) reaps it: call it on every
 * scan pass with the trigger's state, it costs nothing when nothing changes.
 * Returns 0, or -errno of what failed (perf_event_open(), BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN, the
 * config map update): then it is left disarmed. */
int bpf_hits_arm(BpfHits *h, bool armed);

/* Returns whether the programs are attached (catching) now. */
bool bpf_hits_armed(const BpfHits *h);

/* Waits until the kernel has released every attachment that disarming handed to a child (tracepoint
 * mode; nothing to wait for in the others): then no detached program runs any more, and the children
 * are reaped. The daemon need not call it (bpf_hits_free() does); the tests and the benchmark do.
 * Returns 0 or the -errno of waitpid(). */
int bpf_hits_wait_released(BpfHits *h);

/* Returns the fd to poll for EPOLLIN (the ring buffer map's: readable while records are queued). */
int bpf_hits_fd(const BpfHits *h);

/* Tells the program the live vm.max_map_count (0: catch nothing) and the margin (LIMIT_HIT_MARGIN).
 * Returns 0 or the -errno of the map update. */
int bpf_hits_set_limit(BpfHits *h, uint32_t max_map_count);

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
