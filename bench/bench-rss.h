/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The memory the daemon's scan code needs, measured in a fresh process: the bench executes itself
 * (the same libraries as mapguardd: libsystemd, libinih, libbpf) as an RSS probe. Its memory at
 * main(), before any Manager exists, is the baseline measured in the same run: the floor that the
 * libraries alone cost. */

#include <stdbool.h>

/* One reading of /proc/self/status and smaps_rollup, in KiB. */
typedef struct RssPoint {
        long rss_kib;  /* VmRSS */
        long hwm_kib;  /* VmHWM: the peak so far */
        long anon_kib; /* RssAnon: the pages that are the process's own */
        long pss_kib;  /* Pss: shared pages divided among the processes that map them */
} RssPoint;

/* What the RSS probe reports. */
typedef struct RssReport {
        int error;
        RssPoint floor;  /* at main(), before the first Manager */
        RssPoint procfs; /* after the /proc backend's passes, the Manager still there */
        RssPoint bpf;    /* after the BPF backend's passes too; valid when bpf_run */
        bool bpf_run;
} RssReport;

/* Forks and executes the RSS probe (registered with bench-host as its helper, so a signal's cleanup
 * reaches it) over the host's cgroups: it builds a /proc Manager (bench-manager.h), runs PASSES forced
 * passes, frees it, and with BPF does the same with a BPF Manager. Returns 0 and its report in *ret;
 * -EOPNOTSUPP when the BPF Manager fell back to /proc, -EPIPE when the probe sent no whole report
 * (e.g. it could not be executed), else the -errno of what failed in it. */
int bench_rss_measure(bool bpf, unsigned passes, RssReport *ret);

/* main() of the probe: `scan-bench --rss-probe FD PASSES BPF DIR`, with DIR the host's top cgroup
 * directory and the report written to FD. Returns the exit status. */
int bench_rss_probe_main(int argc, char *argv[]);
