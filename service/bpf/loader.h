/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What mapguard-bpf-loader sends back to mapguardd (bpf-backend.c) over the socket it was given: one
 * datagram with this struct and, on success, two fds as SCM_RIGHTS: the attached task iterator's
 * link, then the watched_cgroups map. */

#define BPF_LOADER_ENV "MAPGUARD_BPF_LOADER"

typedef struct BpfLoaderReply {
        int r;            /* 0, or the -errno of bpf_counter_new() */
        char reason[512]; /* on failure: why, as bpf_counter_new()'s reason (NUL-terminated) */
} BpfLoaderReply;
