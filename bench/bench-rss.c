/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-host.h"
#include "bench-manager.h"
#include "bench-rss.h"
#include "conf.h"
#include "util.h"

/* A "Vm...: N kB" field of /proc/self/status, or -1. */
static long status_kib(const char *field) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        size_t l = strlen(field);
        char line[256];

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, l) == 0 && line[l] == ':')
                        return strtol(line + l + 1, NULL, 10);
        return -1;
}

static long maxrss_kib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

/* The RSS child: only what the daemon's scan does, PASSES forced passes per backend. */
static _Noreturn void rss_child_run(const char *mount, bool bpf, unsigned passes, int report_fd) {
        RssReport rep = { .start_rss_kib = status_kib("VmRSS"), .start_anon_kib = status_kib("RssAnon"),
                          .bpf_rss_kib = -1, .bpf_anon_kib = -1, .bpf_maxrss_kib = -1, .bpf_hwm_kib = -1 };
        Manager *m = NULL;
        int r;

        r = bench_manager_new(mount, BACKEND_PROCFS, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        for (unsigned i = 0; r >= 0 && i < passes; i++)
                r = manager_scan(m, true);
        rep.procfs_rss_kib = status_kib("VmRSS");
        rep.procfs_anon_kib = status_kib("RssAnon");
        m = manager_free(m);
        rep.procfs_maxrss_kib = maxrss_kib();
        rep.procfs_hwm_kib = status_kib("VmHWM");

        if (r >= 0 && bpf) {
                r = bench_manager_new(mount, BACKEND_BPF, CONFIG_INTERVAL_USEC_DEFAULT, &m);
                if (r >= 0 && m->backend != BACKEND_BPF)
                        r = -EOPNOTSUPP;
                for (unsigned i = 0; r >= 0 && i < passes; i++)
                        r = manager_scan(m, true);
                rep.bpf_rss_kib = status_kib("VmRSS");
                rep.bpf_anon_kib = status_kib("RssAnon");
                m = manager_free(m);
                rep.bpf_maxrss_kib = maxrss_kib();
                rep.bpf_hwm_kib = status_kib("VmHWM");
        }
        rep.error = r < 0 ? -r : 0;
        (void) !write(report_fd, &rep, sizeof(rep));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

int bench_rss_measure(const char *mount, bool bpf, unsigned passes, RssReport *ret) {
        int fds[2], status;
        RssReport rep;
        ssize_t n;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = bench_host_fork(true);
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -errno;
        }
        if (pid == 0) {
                close(fds[0]);
                rss_child_run(mount, bpf, passes, fds[1]);
        }
        close(fds[1]);
        do
                n = read(fds[0], &rep, sizeof(rep));
        while (n < 0 && errno == EINTR);
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        bench_host_set_helper(0);
        if (n != (ssize_t) sizeof(rep))
                return -EPIPE;
        if (rep.error != 0)
                return -rep.error;
        *ret = rep;
        return 0;
}
