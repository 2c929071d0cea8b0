/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-host.h"
#include "bench-manager.h"
#include "bench-rss.h"
#include "conf.h"
#include "log.h"
#include "manager-scan.h"
#include "util.h"

/* The number after "FIELD:" at the start of a line of FILE (KiB in status and smaps_rollup), or -1. */
static long file_kib(const char *file, const char *field) {
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        size_t l = strlen(field);
        char line[256];

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, l) == 0 && line[l] == ':')
                        return strtol(line + l + 1, NULL, 10);
        return -1;
}

static RssPoint rss_point(void) {
        return (RssPoint){
                .rss_kib = file_kib("/proc/self/status", "VmRSS"),
                .hwm_kib = file_kib("/proc/self/status", "VmHWM"),
                .anon_kib = file_kib("/proc/self/status", "RssAnon"),
                .pss_kib = file_kib("/proc/self/smaps_rollup", "Pss"),
        };
}

/* Builds a Manager with BACKEND, runs PASSES forced passes, and reads the memory before freeing it. */
static int run_backend(const char *mount, Backend backend, unsigned passes, RssPoint *ret) {
        Manager *m = NULL;
        int r;

        r = bench_manager_new(mount, backend, CONFIG_INTERVAL_USEC_DEFAULT, &m);
        if (r >= 0 && m->scan.backend != backend)
                r = -EOPNOTSUPP;
        for (unsigned i = 0; r >= 0 && i < passes; i++)
                r = manager_scan(m, true);
        *ret = rss_point();
        manager_free(m);
        return r;
}

int bench_rss_probe_main(int argc, char *argv[]) {
        RssReport rep = { .floor = rss_point() };
        const char *mount;
        unsigned passes;
        int fd, r;

        if (argc != 6) {
                fprintf(stderr, "scan-bench: --rss-probe takes FD PASSES BPF DIR.\n");
                return EXIT_FAILURE;
        }
        fd = atoi(argv[2]);
        passes = (unsigned) atoi(argv[3]);
        log_set_max_priority(LOG_ERR);

        r = bench_host_find_cgroup2(&mount);
        if (r >= 0)
                r = bench_host_attach(argv[5]);
        if (r >= 0)
                r = run_backend(mount, BACKEND_PROCFS, passes, &rep.procfs);
        if (r >= 0 && streq(argv[4], "1")) {
                rep.bpf_run = true;
                r = run_backend(mount, BACKEND_BPF, passes, &rep.bpf);
        }
        rep.error = r < 0 ? -r : 0;
        if (write(fd, &rep, sizeof(rep)) != (ssize_t) sizeof(rep))
                return EXIT_FAILURE;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int bench_rss_measure(bool bpf, unsigned passes, RssReport *ret) {
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
                char fd_arg[16], passes_arg[16];

                close(fds[0]);
                /* The write end survives the exec; the report comes back through it. */
                if (fcntl(fds[1], F_SETFD, 0) < 0)
                        _exit(EXIT_FAILURE);
                snprintf(fd_arg, sizeof(fd_arg), "%d", fds[1]);
                snprintf(passes_arg, sizeof(passes_arg), "%u", passes);
                execv("/proc/self/exe",
                      (char *[]){ (char *) "scan-bench", (char *) "--rss-probe", fd_arg, passes_arg,
                                  (char *) (bpf ? "1" : "0"), (char *) bench_host_dir(), NULL });
                fprintf(stderr, "scan-bench: cannot execute /proc/self/exe as the RSS probe: %m\n");
                _exit(EXIT_FAILURE);
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
