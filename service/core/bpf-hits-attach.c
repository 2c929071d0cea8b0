/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf-hits-attach.h"
#include "hits.h"
#include "util.h"

#define ATTACH_MAX 16

struct BpfHitsAttach {
        BpfHitsMode mode;
        int prog_fds[ATTACH_MAX];
        size_t n_progs;
        char tracepoint[32]; /* sys_exit, untyped program: attach by this name; "": by the load target */
        uint32_t event_ids[ATTACH_MAX]; /* tracepoint: the syscalls:sys_exit_* events */
        size_t n_event_ids;

        int copy;      /* attached, -1: detached */
        int last_copy; /* the copy attached last (tracepoint: the next attach prefers the other) */
        int link_fds[ATTACH_MAX];
        int event_fds[ATTACH_MAX]; /* tracepoint: the perf events the links run on */
        size_t n_links;
        /* Per copy: the child releasing its last attachment, 0 when none. */
        pid_t releasers[MAPGUARD_HIT_COPIES];
};

static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

        return r < 0 ? -errno : (int) r;
}

static void fds_close(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        fds[i] = -EBADF;
                }
}

/* Closes the program fds of FDS: the first n_progs (at most all), which the caller set. */
static void fds_take_close(BpfHitsFds *fds) {
        fds_close(fds->prog_fds,
                  fds->n_progs < ELEMENTSOF(fds->prog_fds) ? fds->n_progs : ELEMENTSOF(fds->prog_fds));
        fds->n_progs = 0;
}

static bool fds_fit_mode(BpfHitsMode mode, const BpfHitsFds *fds) {
        if (fds->n_progs == 0 || fds->n_progs > ELEMENTSOF(fds->prog_fds))
                return false;
        for (size_t i = 0; i < fds->n_progs; i++)
                if (fds->prog_fds[i] < 0)
                        return false;
        switch (mode) {
        case BPF_HITS_FEXIT:
                return fds->n_tracepoint_ids == 0;
        case BPF_HITS_TRACEPOINT:
                return fds->n_progs == MAPGUARD_HIT_COPIES && fds->n_tracepoint_ids > 0 &&
                        fds->n_tracepoint_ids <= ELEMENTSOF(fds->tracepoint_ids);
        case BPF_HITS_SYS_EXIT:
                return fds->n_progs == 1 && fds->n_tracepoint_ids == 0;
        default:
                return false;
        }
}

int bpf_hits_attach_new(BpfHitsAttach **ret, BpfHitsMode mode, BpfHitsFds *fds) {
        BpfHitsAttach *a;

        if (!fds)
                return -EINVAL;
        if (!ret || !fds_fit_mode(mode, fds)) {
                fds_take_close(fds);
                return -EINVAL;
        }
        a = calloc(1, sizeof(*a));
        if (!a) {
                fds_take_close(fds);
                return -ENOMEM;
        }
        *a = (BpfHitsAttach){
                .mode = mode,
                .n_progs = fds->n_progs,
                .n_event_ids = fds->n_tracepoint_ids,
                .copy = -1,
                .last_copy = -1,
        };
        if (fds->tracepoint)
                snprintf(a->tracepoint, sizeof(a->tracepoint), "%s", fds->tracepoint);
        for (size_t i = 0; i < ATTACH_MAX; i++) {
                a->prog_fds[i] = i < fds->n_progs ? fds->prog_fds[i] : -EBADF;
                fds->prog_fds[i] = -EBADF;
                a->link_fds[i] = a->event_fds[i] = -EBADF;
                a->event_ids[i] = i < fds->n_tracepoint_ids ? fds->tracepoint_ids[i] : 0;
        }
        fds->n_progs = 0;
        *ret = a;
        return 0;
}

/* Reaps the releaser of COPY when it is done (WAIT: waits for it). Returns 0, or -errno of waitpid()
 * (-ECHILD, someone else reaped it, counts as done). */
static int releaser_reap(BpfHitsAttach *a, int copy, bool wait) {
        pid_t pid = a->releasers[copy], k;

        if (pid <= 0)
                return 0;
        do
                k = waitpid(pid, NULL, wait ? 0 : WNOHANG);
        while (k < 0 && errno == EINTR);
        if (k < 0 && errno != ECHILD)
                return -errno;
        if (k != 0)
                a->releasers[copy] = 0;
        return 0;
}

/* A child that is done is reaped whenever the caller comes by: it is a zombie until then. */
static void releasers_reap_done(BpfHitsAttach *a) {
        for (int copy = 0; copy < MAPGUARD_HIT_COPIES; copy++)
                (void) releaser_reap(a, copy, false);
}

int bpf_hits_attach_wait_released(BpfHitsAttach *a) {
        int r = 0;

        if (!a)
                return -EINVAL;
        for (int copy = 0; copy < MAPGUARD_HIT_COPIES; copy++) {
                int k = releaser_reap(a, copy, true);

                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

BpfHitsAttach *bpf_hits_attach_free(BpfHitsAttach *a) {
        if (!a)
                return NULL;
        (void) bpf_hits_attach_detach(a);
        (void) bpf_hits_attach_wait_released(a);
        fds_close(a->prog_fds, a->n_progs);
        free(a);
        return NULL;
}

/* Returns the copy of the programs to attach next: one that no child is still releasing (the one not
 * attached last first: its events were released longest ago); when both are, waits for the older
 * child. Returns the copy or -errno of waitpid(). */
static int attach_pick(BpfHitsAttach *a) {
        int first, r;

        if (a->mode != BPF_HITS_TRACEPOINT)
                return 0;
        first = (a->last_copy + 1) % MAPGUARD_HIT_COPIES;
        for (int i = 0; i < MAPGUARD_HIT_COPIES; i++) {
                int copy = (first + i) % MAPGUARD_HIT_COPIES;

                r = releaser_reap(a, copy, false);
                if (r < 0)
                        return r;
                if (a->releasers[copy] == 0)
                        return copy;
        }
        r = releaser_reap(a, first, true);
        return r < 0 ? r : first;
}

/* BPF_RAW_TRACEPOINT_OPEN: an untyped raw tracepoint program by the tracepoint's name; a BTF-typed one
 * (fexit, tp_btf) without a name, at the target it was loaded for. Returns the link fd or -errno. */
static int raw_tracepoint_attach(const char *tracepoint, int prog_fd) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.raw_tracepoint.prog_fd = (__u32) prog_fd;
        if (tracepoint[0])
                attr.raw_tracepoint.name = (__u64) (uintptr_t) tracepoint;
        return sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);
}

/* A perf event on the tracepoint ID, for all tasks, counted on CPU 0: a program attached to a
 * tracepoint event runs wherever the tracepoint fires, whatever the event's CPU. What libbpf does.
 * Returns the fd or -errno. */
static int tracepoint_event_open(uint32_t id) {
        struct perf_event_attr attr = {
                .type = PERF_TYPE_TRACEPOINT,
                .size = sizeof(attr),
                .config = id,
                .sample_period = 1,
                .wakeup_events = 1,
        };
        long fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

        return fd < 0 ? -errno : (int) fd;
}

/* BPF_LINK_CREATE of PROG_FD to the perf event EVENT_FD (Linux 5.15+). Returns the link fd or -errno. */
static int perf_event_link(int prog_fd, int event_fd) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.link_create.prog_fd = (__u32) prog_fd;
        attr.link_create.target_fd = (__u32) event_fd;
        attr.link_create.attach_type = BPF_PERF_EVENT;
        return sys_bpf(BPF_LINK_CREATE, &attr);
}

/* Attaches link I of copy COPY. Returns 0 or -errno. */
static int attach_one(BpfHitsAttach *a, int copy, size_t i) {
        int fd;

        if (a->mode != BPF_HITS_TRACEPOINT) {
                fd = raw_tracepoint_attach(a->tracepoint, a->prog_fds[i]);
                if (fd < 0)
                        return fd;
                a->link_fds[i] = fd;
                return 0;
        }

        fd = tracepoint_event_open(a->event_ids[i]);
        if (fd < 0)
                return fd;
        a->event_fds[i] = fd;
        fd = perf_event_link(a->prog_fds[copy], a->event_fds[i]);
        if (fd < 0)
                return fd;
        a->link_fds[i] = fd;
        return 0;
}

int bpf_hits_attach(BpfHitsAttach *a) {
        int copy;
        size_t n;

        if (!a)
                return -EINVAL;
        releasers_reap_done(a);
        if (a->copy >= 0)
                return a->copy;
        copy = attach_pick(a);
        if (copy < 0)
                return copy;

        n = a->mode == BPF_HITS_TRACEPOINT ? a->n_event_ids : a->n_progs;
        for (size_t i = 0; i < n; i++) {
                int r = attach_one(a, copy, i);

                if (r < 0) {
                        /* Closed here, waiting: a failed attach is rare and not on the hot path. */
                        fds_close(a->link_fds, ATTACH_MAX);
                        fds_close(a->event_fds, ATTACH_MAX);
                        return r;
                }
        }
        a->n_links = n;
        a->copy = a->last_copy = copy;
        return copy;
}

/* Reads FD until end of file: until every process holding its write end has closed it. */
static void wait_eof(int fd) {
        for (;;) {
                char c;
                ssize_t k = read(fd, &c, 1);

                if (k == 0 || (k < 0 && errno != EINTR))
                        return;
        }
}

/* Closes links and events in one process per link, so that the kernel's grace periods overlap: ~60 ms
 * for fifteen links where one process takes ~450 ms. Each worker drops the others' fds first; once
 * all have (READY reaches end of file), this process closes its own copies and lets them go (GO): each
 * worker then holds the last reference to its link. A worker that cannot be forked leaves its link
 * to be released here. Waits for the workers. */
static void release_in_parallel(BpfHitsAttach *a) {
        pid_t workers[ATTACH_MAX];
        size_t n_workers = 0;
        int ready[2], go[2];

        /* Without pipes the caller's exit releases them, one after the other. */
        if (pipe2(ready, O_CLOEXEC) < 0)
                return;
        if (pipe2(go, O_CLOEXEC) < 0) {
                close(ready[0]);
                close(ready[1]);
                return;
        }
        for (size_t i = 0; i < a->n_links; i++) {
                pid_t pid = fork();

                if (pid < 0)
                        break;
                if (pid == 0) {
                        close(ready[0]);
                        close(go[1]);
                        for (size_t j = 0; j < a->n_links; j++)
                                if (j != i) {
                                        fds_close(&a->link_fds[j], 1);
                                        fds_close(&a->event_fds[j], 1);
                                }
                        close(ready[1]);
                        wait_eof(go[0]);
                        _exit(EXIT_SUCCESS); /* closes link i and its event */
                }
                workers[n_workers++] = pid;
        }
        close(ready[1]);
        wait_eof(ready[0]);
        close(ready[0]);
        fds_close(a->link_fds, ATTACH_MAX);
        fds_close(a->event_fds, ATTACH_MAX);
        close(go[1]);
        close(go[0]);
        for (size_t i = 0; i < n_workers; i++)
                while (waitpid(workers[i], NULL, 0) < 0 && errno == EINTR)
                        ;
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return x < y ? -1 : x > y;
}

/* Closes every fd from 3 on but FD and A's links and events, so that a child that only waits for the
 * kernel holds nothing else of the caller's (its bus connection, say) meanwhile. */
static void close_all_but(BpfHitsAttach *a, int fd) {
        int keep[2 * ATTACH_MAX + 1];
        size_t n = 0;
        unsigned first = 3;

        keep[n++] = fd;
        for (size_t i = 0; i < ATTACH_MAX; i++) {
                if (a->link_fds[i] >= 0)
                        keep[n++] = a->link_fds[i];
                if (a->event_fds[i] >= 0)
                        keep[n++] = a->event_fds[i];
        }
        qsort(keep, n, sizeof(int), cmp_int);
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int) first)
                        continue;
                if (keep[i] > (int) first)
                        (void) syscall(__NR_close_range, first, (unsigned) keep[i] - 1, 0);
                first = (unsigned) keep[i] + 1;
        }
        (void) syscall(__NR_close_range, first, ~0U, 0);
}

/* Forks a child that releases the links and events after the caller has closed its copies, so that
 * it holds the last references and the kernel's release waits in the child. Returns its pid, or
 * -errno (then nothing was closed). */
static pid_t release_in_child(BpfHitsAttach *a) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;

                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                close_all_but(a, p[0]);
                (void) prctl(PR_SET_NAME, "mapguard-detach");
                /* End of file once the parent has closed its copies of the fds (and the pipe). */
                wait_eof(p[0]);
                close(p[0]);
                release_in_parallel(a);
                _exit(EXIT_SUCCESS);
        }
        close(p[0]);
        fds_close(a->link_fds, ATTACH_MAX);
        fds_close(a->event_fds, ATTACH_MAX);
        close(p[1]);
        return pid;
}

int bpf_hits_attach_detach(BpfHitsAttach *a) {
        pid_t pid;

        if (!a)
                return -EINVAL;
        releasers_reap_done(a);
        if (a->copy < 0)
                return 0;

        if (a->mode == BPF_HITS_TRACEPOINT) {
                pid = release_in_child(a);
                if (pid > 0)
                        a->releasers[a->copy] = pid;
        }
        /* What the child did not take (other modes, or fork() failed) is released here. */
        fds_close(a->link_fds, ATTACH_MAX);
        fds_close(a->event_fds, ATTACH_MAX);
        a->n_links = 0;
        a->copy = -1;
        return 0;
}

int bpf_hits_attach_copy(const BpfHitsAttach *a) {
        return a ? a->copy : -1;
}
