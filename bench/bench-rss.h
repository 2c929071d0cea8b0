/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The memory the daemon's scan code needs, measured in a child forked before the bench allocates
 * anything big, so that the peak is the scan's own. */

#include <stdbool.h>

/* What the RSS child reports, in KiB. */
typedef struct RssReport {
        int error;
        long start_rss_kib, start_anon_kib;     /* VmRSS and RssAnon before the first Manager exists */
        long procfs_rss_kib, bpf_rss_kib;       /* VmRSS after the passes, the Manager still there */
        long procfs_anon_kib, bpf_anon_kib;     /* RssAnon of those: the part not shared with others */
        long procfs_maxrss_kib, procfs_hwm_kib; /* peak after the /proc backend's passes */
        long bpf_maxrss_kib, bpf_hwm_kib;       /* peak after the BPF backend's too; -1 when not run */
} RssReport;

/* Forks the RSS child (registered with bench-host as its helper, so a signal's cleanup reaches it), which
 * builds a /proc Manager (bench-manager.h), runs PASSES forced passes, frees it, and with BPF does the
 * same with a BPF Manager. Returns 0 and its report in *ret; -EOPNOTSUPP when the BPF Manager fell back
 * to /proc, -EPIPE when the child sent no whole report, else the -errno of what failed in it. */
int bench_rss_measure(const char *mount, bool bpf, unsigned passes, RssReport *ret);
