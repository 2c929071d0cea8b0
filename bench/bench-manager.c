/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench-host.h"
#include "bench-manager.h"
#include "conf.h"
#include "manager-scan.h"
#include "manager-watch.h"
#include "util.h"

int bench_manager_new(const char *mount, Backend backend, uint64_t interval_usec, Manager **ret) {
        Manager *m = NULL;
        Config *c;
        sigset_t saved;
        int r;

        c = config_new_default();
        if (!c)
                return -ENOMEM;
        c->backend = backend;
        c->interval_usec = interval_usec;

        /* manager_new() blocks SIGINT/SIGTERM/SIGHUP for its signalfds; the bench keeps its own
         * handlers instead, so that an interrupt always cleans up. */
        sigprocmask(SIG_SETMASK, NULL, &saved);
        r = manager_new("", NULL, c, &m);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                config_free(c);
                return r;
        }
        if (!m->hierarchy || !streq(m->hierarchy, mount)) {
                fprintf(stderr, "scan-bench: the Manager found the cgroup hierarchy at %s, not at %s.\n",
                        m->hierarchy ? m->hierarchy : "(none)", mount);
                manager_free(m);
                return -ENOMEDIUM;
        }

        for (unsigned i = 0; i < BENCH_HOST_CGROUPS; i++) {
                char name[64], cgroup[PATH_MAX];

                snprintf(name, sizeof(name), "mapguard-bench-w%u.service", i);
                snprintf(cgroup, sizeof(cgroup), "%s", bench_host_cgroup(i) + strlen(mount));
                r = manager_watch_update_unit(m, name, cgroup);
                if (r < 0) {
                        manager_free(m);
                        return r;
                }
        }
        r = manager_scan(m, true);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}
