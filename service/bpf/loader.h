/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What mapguard-bpf-loader sends back to mapguardd (bpf-counter.c) over the socket it was given: one
 * datagram with this struct and, on success, file descriptors as SCM_RIGHTS, in this order:
 *   0  the attached task iterator's link
 *   1  the watched_cgroups map (shared by both programs)
 * and when hits_r is 0, the limit-hit program (hits.bpf.c), loaded but not attached:
 *   2  the hits ring buffer map
 *   3  the hit_config array map (the daemon writes the limit there)
 *   4  the hit_stats array map
 *   5… n_hit_progs program fds:
 *      "fexit": one fexit program per syscall the kernel has; attach each with BPF_RAW_TRACEPOINT_OPEN
 *      without a name (they carry their target from the load);
 *      "tracepoint": MAPGUARD_HIT_COPIES copies of one tracepoint program; attach one copy to each of the
 *      n_tracepoint_ids syscalls:sys_exit_* events (perf_event_open(PERF_TYPE_TRACEPOINT, config = id)
 *      and BPF_LINK_CREATE);
 *      "sys_exit": one program on the sys_exit tracepoint; attach it with BPF_RAW_TRACEPOINT_OPEN,
 *      named hits_tracepoint when that is set (the untyped raw_tp program), else without a name (tp_btf).
 * The fields after reason came with the limit-hit program; the daemon and the loader are built and
 * installed together, so there is no older peer to stay compatible with beyond the field order. */

#include <stdint.h>

#define BPF_LOADER_ENV "MAPGUARD_BPF_LOADER"
/* For the tests and the benchmark: the first way the loader tries for the limit-hit program, "fexit"
 * (the default), "tracepoint", "tp_btf" or "raw_tp" (the last two are mode "sys_exit"); it falls back
 * from there as usual. */
#define BPF_LOADER_HITS_WAY_ENV "MAPGUARD_BPF_HITS_WAY"

#define BPF_LOADER_HIT_PROGS_MAX 16
#define BPF_LOADER_FDS_MAX (5 + BPF_LOADER_HIT_PROGS_MAX)
#define BPF_LOADER_TRACEPOINTS_MAX 16

#define BPF_LOADER_HITS_FEXIT "fexit"
#define BPF_LOADER_HITS_TRACEPOINT "tracepoint"
#define BPF_LOADER_HITS_SYS_EXIT "sys_exit"

typedef struct BpfLoaderReply {
        int r;            /* 0, or the -errno of bpf_counter_new() */
        char reason[512]; /* on failure: why, as bpf_counter_new()'s reason (NUL-terminated) */

        int hits_r;               /* 0: the limit-hit program is loaded and its fds follow; or -errno */
        char hits_mode[16];       /* BPF_LOADER_HITS_FEXIT, _TRACEPOINT or _SYS_EXIT; "" when hits_r < 0 */
        char hits_reason[512];    /* hits_r < 0: why there is none; else why the better ways failed, or "" */
        unsigned n_hit_progs;     /* program fds after the three maps, 1..BPF_LOADER_HIT_PROGS_MAX */
        char hits_tracepoint[32]; /* the name to attach the programs by ("sys_exit"), or "" */
        unsigned n_tracepoint_ids; /* "tracepoint": how many of tracepoint_ids follow, else 0 */
        uint32_t tracepoint_ids[BPF_LOADER_TRACEPOINTS_MAX]; /* the syscalls:sys_exit_* events' ids */
} BpfLoaderReply;
