/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf-hits-attach.h"
#include "bpf-hits.h"
#include "hits.h"
#include "utf8.h"
#include "util.h"

/* The kernel's ring buffer (kernel/bpf/ringbuf.c, include/uapi/linux/bpf.h): a consumer page the
 * consumer writes its position to, then a producer page with the producer's position, then the data
 * pages, mapped twice in a row so that a record that wraps around the end reads as one piece. Each
 * record starts with an 8-byte header, whose first u32 is its length with two flags on top: BUSY while
 * the producer writes it, DISCARD when the producer dropped it; records start at 8-byte boundaries. */
#define RINGBUF_HDR_SIZE 8U

struct BpfHits {
        BpfHitsMode mode;
        char *reason; /* bpf_hits_mode_reason() */
        int ringbuf_fd;
        int config_fd;
        int stats_fd;
        BpfHitsAttach *attach;
        uint32_t max_map_count; /* what hit_config says */
        uint32_t armed;         /* hit_config.armed: bit N, copy N of the programs is attached */

        size_t page_size;
        void *producer_map; /* producer page + data twice */
        size_t producer_map_size;
        BpfHitsRing ring; /* points into the two mappings */
};

static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

        return r < 0 ? -errno : (int) r;
}

static void fds_close(BpfHitsFds *fds) {
        int *all[] = { &fds->ringbuf_fd, &fds->config_fd, &fds->stats_fd };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (*all[i] >= 0) {
                        close(*all[i]);
                        *all[i] = -EBADF;
                }
        for (size_t i = 0; i < fds->n_progs && i < ELEMENTSOF(fds->prog_fds); i++)
                if (fds->prog_fds[i] >= 0) {
                        close(fds->prog_fds[i]);
                        fds->prog_fds[i] = -EBADF;
                }
        fds->n_progs = 0;
}

/* The reason for MODE when the loader gave none: only fexit, the best, needs none. */
static char *mode_reason_dup(BpfHitsMode mode, const char *reason) {
        if (reason && reason[0])
                return strdup(reason);
        return strdup(mode == BPF_HITS_FEXIT ? "fexit programs on the mapping calls are the cheapest way"
                                             : "the better ways were not tried");
}

/* The data size of the ring buffer map FD: a power of two and a multiple of the page (the kernel's own
 * rule), or -EINVAL for anything else. */
static int ringbuf_data_size(int fd, uint32_t *ret) {
        struct bpf_map_info info = {};
        union bpf_attr attr;
        int r;

        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (__u32) fd;
        attr.info.info_len = sizeof(info);
        attr.info.info = (__u64) (uintptr_t) &info;
        r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
        if (r < 0)
                return r;
        if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
            (info.max_entries & (info.max_entries - 1)) != 0 ||
            info.max_entries % (uint32_t) sysconf(_SC_PAGESIZE) != 0)
                return -EINVAL;
        *ret = info.max_entries;
        return 0;
}

/* Maps H's ring buffer of SIZE data bytes: the consumer page read-write, the producer page and the data
 * (mapped twice, so a record that wraps reads as one) read-only. */
static int bpf_hits_map_ring(BpfHits *h, uint32_t size) {
        void *p;

        h->page_size = (size_t) sysconf(_SC_PAGESIZE);
        h->ring.mask = (uint64_t) size - 1;

        p = mmap(NULL, h->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, h->ringbuf_fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        h->ring.consumer_pos = p;

        h->producer_map_size = h->page_size + 2 * (size_t) size;
        p = mmap(NULL, h->producer_map_size, PROT_READ, MAP_SHARED, h->ringbuf_fd, (off_t) h->page_size);
        if (p == MAP_FAILED)
                return -errno;
        h->producer_map = p;
        h->ring.producer_pos = p;
        h->ring.data = (const uint8_t *) p + h->page_size;
        return 0;
}

int bpf_hits_new_from_fds(BpfHits **ret, BpfHitsMode mode, BpfHitsFds *fds) {
        BpfHits *h;
        uint32_t size;
        int r;

        if (!fds)
                return -EINVAL;
        if (!ret || mode < 0 || mode >= _BPF_HITS_MODE_MAX || fds->n_progs == 0 ||
            fds->n_progs > ELEMENTSOF(fds->prog_fds) || fds->ringbuf_fd < 0 || fds->config_fd < 0 ||
            fds->stats_fd < 0) {
                fds_close(fds);
                return -EINVAL;
        }
        r = ringbuf_data_size(fds->ringbuf_fd, &size);
        if (r < 0) {
                fds_close(fds);
                return r;
        }

        h = calloc(1, sizeof(*h));
        if (h)
                h->reason = mode_reason_dup(mode, fds->reason);
        if (!h || !h->reason) {
                free(h);
                fds_close(fds);
                return -ENOMEM;
        }
        h->mode = mode;
        h->ringbuf_fd = fds->ringbuf_fd;
        h->config_fd = fds->config_fd;
        h->stats_fd = fds->stats_fd;
        fds->ringbuf_fd = fds->config_fd = fds->stats_fd = -EBADF;

        /* Takes the program fds, also on failure. */
        r = bpf_hits_attach_new(&h->attach, mode, fds);
        if (r >= 0)
                r = bpf_hits_map_ring(h, size);
        if (r < 0) {
                bpf_hits_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

static int hits_detach(BpfHits *h);

BpfHits *bpf_hits_free(BpfHits *h) {
        if (!h)
                return NULL;
        if (h->attach)
                (void) hits_detach(h);
        /* Waits for the children releasing detached tracepoint events. */
        h->attach = bpf_hits_attach_free(h->attach);
        if (h->producer_map)
                (void) munmap(h->producer_map, h->producer_map_size);
        if (h->ring.consumer_pos)
                (void) munmap(h->ring.consumer_pos, h->page_size);
        if (h->ringbuf_fd >= 0)
                close(h->ringbuf_fd);
        if (h->config_fd >= 0)
                close(h->config_fd);
        if (h->stats_fd >= 0)
                close(h->stats_fd);
        free(h->reason);
        free(h);
        return NULL;
}

const char *bpf_hits_mode_to_string(BpfHitsMode mode) {
        switch (mode) {
        case BPF_HITS_FEXIT:
                return "fexit";
        case BPF_HITS_TRACEPOINT:
                return "tracepoint";
        case BPF_HITS_SYS_EXIT:
                return "sys_exit";
        default:
                return NULL;
        }
}

BpfHitsMode bpf_hits_mode(const BpfHits *h) {
        return h->mode;
}

const char *bpf_hits_mode_reason(const BpfHits *h) {
        return h ? h->reason : "";
}

bool bpf_hits_always_armed(const BpfHits *h) {
        return h && h->mode == BPF_HITS_FEXIT;
}

int bpf_hits_fd(const BpfHits *h) {
        return h ? h->ringbuf_fd : -EINVAL;
}

/* Writes H's limit and armed copies to the program's hit_config. Returns 0 or -errno. */
static int config_write(BpfHits *h) {
        struct mapguard_hit_config config = {
                .max_map_count = h->max_map_count,
                .margin = LIMIT_HIT_MARGIN,
                .armed = h->armed,
        };
        union bpf_attr attr;
        __u32 key = 0;

        memset(&attr, 0, sizeof(attr));
        attr.map_fd = (__u32) h->config_fd;
        attr.key = (__u64) (uintptr_t) &key;
        attr.value = (__u64) (uintptr_t) &config;
        attr.flags = BPF_ANY;
        return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

int bpf_hits_set_limit(BpfHits *h, uint32_t max_map_count) {
        uint32_t old;
        int r;

        if (!h)
                return -EINVAL;
        old = h->max_map_count;
        h->max_map_count = max_map_count;
        r = config_write(h);
        if (r < 0)
                h->max_map_count = old;
        return r;
}

/* Attaches, then lets the attached copy record. A call that fails in between is not caught: arming
 * means from the moment it returns. */
static int hits_attach(BpfHits *h) {
        int copy, r;

        copy = bpf_hits_attach(h->attach);
        if (copy < 0)
                return copy;
        if (h->armed == 1U << copy)
                return 0;
        h->armed = 1U << copy;
        r = config_write(h);
        if (r < 0) {
                h->armed = 0;
                (void) bpf_hits_attach_detach(h->attach);
        }
        return r;
}

/* Stops the attached copy recording first: the kernel may run it for a while yet (tracepoint mode),
 * but what it catches then is not told. */
static int hits_detach(BpfHits *h) {
        int r = 0;

        if (h->armed != 0) {
                h->armed = 0;
                r = config_write(h);
        }
        (void) bpf_hits_attach_detach(h->attach);
        return r;
}

int bpf_hits_arm(BpfHits *h, bool armed) {
        if (!h)
                return -EINVAL;
        return armed || bpf_hits_always_armed(h) ? hits_attach(h) : hits_detach(h);
}

bool bpf_hits_armed(const BpfHits *h) {
        return h && bpf_hits_attach_copy(h->attach) >= 0;
}

int bpf_hits_wait_released(BpfHits *h) {
        return h ? bpf_hits_attach_wait_released(h->attach) : -EINVAL;
}

static void record_to_hit(const struct mapguard_hit_record *rec, LimitHit *ret) {
        *ret = (LimitHit){
                .pid = rec->pid,
                .tid = rec->tid,
                .syscall = (LimitHitSyscall) rec->syscall,
                /* What limit_hit_classify() confirmed from ret, not the record's own error field. */
                .error = limit_hit_syscall_errno((LimitHitSyscall) rec->syscall),
                .map_count = rec->map_count,
                .max_map_count = rec->max_map_count,
                .cgroup_id = rec->cgroup_id,
                .leaf_cgroup_id = rec->leaf_cgroup_id,
                .start_time_ns = rec->start_time_ns,
                .time_usec = rec->time_ns / NSEC_PER_USEC,
                .evidence = LIMIT_HIT_CAUGHT,
        };
        memcpy(ret->comm, rec->comm, sizeof(ret->comm));
        ret->comm[sizeof(ret->comm) - 1] = '\0';
        utf8_make_valid(ret->comm);
}

/* One record at the consumer's position POS, of LEN bytes (checked). Returns whether it is a hit, and
 * the hit in *ret. */
static bool record_parse(const BpfHitsRing *ring, uint64_t pos, uint32_t len, LimitHit *ret) {
        struct mapguard_hit_record rec;

        if (len != sizeof(rec))
                return false;
        /* The data is mapped twice: a record that wraps is contiguous from its start. */
        memcpy(&rec, ring->data + (pos & ring->mask) + RINGBUF_HDR_SIZE, sizeof(rec));
        if (rec.syscall >= MAPGUARD_HIT_SYSCALL_MAX || rec.pid == 0 ||
            limit_hit_classify((LimitHitSyscall) rec.syscall, rec.ret, rec.arg, rec.map_count,
                               rec.max_map_count) != LIMIT_HIT_AT_LIMIT)
                return false;
        record_to_hit(&rec, ret);
        return true;
}

int bpf_hits_ring_drain(BpfHitsRing *ring, BpfHitFunc cb, void *userdata, size_t max, uint64_t *ret_bad) {
        uint64_t cons, bad = 0;
        size_t n = 0;

        if (!ring || !ring->consumer_pos || !ring->producer_pos || !ring->data)
                return -EINVAL;

        cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
        for (;;) {
                uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
                bool progress = false;

                while (cons < prod && (max == 0 || n < max)) {
                        const uint32_t *hdr = (const uint32_t *) (ring->data + (cons & ring->mask));
                        uint32_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE), len;
                        uint64_t size;
                        LimitHit hit;

                        if (word & BPF_RINGBUF_BUSY_BIT)
                                break; /* still being written: the rest waits for the next wakeup */

                        len = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
                        size = ((uint64_t) len + RINGBUF_HDR_SIZE + 7) & ~UINT64_C(7);
                        /* Never trust the header: a record lies within what was produced and within
                         * the ring. Otherwise resynchronise on the producer, dropping what is queued. */
                        if (size > prod - cons || size > ring->mask + 1) {
                                __atomic_store_n(ring->consumer_pos, prod, __ATOMIC_RELEASE);
                                if (ret_bad)
                                        *ret_bad = bad + 1;
                                return -EBADMSG;
                        }

                        if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
                                if (record_parse(ring, cons, len, &hit)) {
                                        if (cb)
                                                cb(&hit, userdata);
                                } else if (len != sizeof(struct mapguard_hit_record))
                                        bad++;
                                n++;
                        }
                        cons += size;
                        progress = true;
                        __atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
                }
                if (!progress || (max != 0 && n >= max))
                        break;
        }

        if (ret_bad)
                *ret_bad = bad;
        return n > INT32_MAX ? INT32_MAX : (int) n;
}

int bpf_hits_drain(BpfHits *h, BpfHitFunc cb, void *userdata, size_t max, uint64_t *ret_bad) {
        if (!h)
                return -EINVAL;
        return bpf_hits_ring_drain(&h->ring, cb, userdata, max, ret_bad);
}

int bpf_hits_stats(BpfHits *h, uint64_t *ret_caught, uint64_t *ret_dropped) {
        struct mapguard_hit_stats stats = {};
        union bpf_attr attr;
        __u32 key = 0;
        int r;

        if (!h)
                return -EINVAL;
        memset(&attr, 0, sizeof(attr));
        attr.map_fd = (__u32) h->stats_fd;
        attr.key = (__u64) (uintptr_t) &key;
        attr.value = (__u64) (uintptr_t) &stats;
        r = sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
        if (r < 0)
                return r;
        if (ret_caught)
                *ret_caught = stats.caught;
        if (ret_dropped)
                *ret_dropped = stats.dropped;
        return 0;
}
