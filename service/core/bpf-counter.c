/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf-counter.h"
#include "bpf-hits.h"
#include "utf8.h"
#include "util.h"

#ifndef HAVE_BPF
#define HAVE_BPF 0
#endif

#if HAVE_BPF
#include <linux/bpf.h>
#include <linux/types.h>

#include "loader.h"
#include "mapcount.h"

/* The records are read straight into the public array: the layouts must be one. */
_Static_assert(sizeof(struct mapcount_record) == sizeof(BpfTaskCount), "record size");
_Static_assert(offsetof(struct mapcount_record, pid) == offsetof(BpfTaskCount, pid), "pid");
_Static_assert(offsetof(struct mapcount_record, map_count) == offsetof(BpfTaskCount, map_count),
               "map_count");
_Static_assert(offsetof(struct mapcount_record, cgroup_id) == offsetof(BpfTaskCount, cgroup_id),
               "cgroup_id");
_Static_assert(offsetof(struct mapcount_record, start_time_ns) == offsetof(BpfTaskCount, start_time_ns),
               "start_time_ns");
_Static_assert(offsetof(struct mapcount_record, comm) == offsetof(BpfTaskCount, comm), "comm");
_Static_assert(sizeof(((BpfTaskCount *) NULL)->comm) == MAPCOUNT_COMM_LEN, "comm length");
_Static_assert(BPF_COUNTER_MAX_CGROUPS == MAPCOUNT_MAX_CGROUPS, "map size");
_Static_assert(BPF_COUNTER_MAX_DEPTH == MAPCOUNT_MAX_DEPTH, "levels searched");
#endif

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

struct BpfCounter {
#if HAVE_BPF
        /* What the loader handed over (see load_in_child()): the attached task iterator, of which
         * each BPF_ITER_CREATE fd makes one pass, and the watched_cgroups map. */
        int iter_link_fd;
        int cgroups_map_fd;
        /* Sorted, without duplicates: exactly the keys of the watched_cgroups map. */
        uint64_t *ids;
        size_t n_ids;
        /* The limit-hit program until bpf_counter_take_hits() takes it; else why there is none
         * (hits_r < 0), or why it is not fexit (a tracepoint), or NULL. */
        BpfHits *hits;
        int hits_r;
        char *hits_reason;
#else
        char unused;
#endif
};

static int reason_set(char **ret_reason, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int reason_set(char **ret_reason, const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *ret_reason = s;
        return 0;
}

#if HAVE_BPF

/* How long the loader may take: loading takes 0.1-0.3 s, more on a slow or loaded machine. */
#define BPF_LOADER_TIMEOUT_USEC (5 * USEC_PER_SEC)

/* Waits until FD is readable (or hung up). Returns 1, 0 on timeout, or -errno. */
static int fd_wait_readable(int fd, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int k;

                if (now >= deadline)
                        return 0;
                k = poll(&p, 1, (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (k > 0)
                        return 1;
                if (k < 0 && errno != EINTR)
                        return -errno;
        }
}

/* The loader's path: $MAPGUARD_BPF_LOADER when set (the tests and the bench run the build tree's),
 * else where meson installed it. */
static const char *loader_path(void) {
        const char *p = getenv(BPF_LOADER_ENV);

        return p && p[0] == '/' ? p : BPF_LOADER_PATH;
}

/* The forked child: becomes the loader, or says why it could not. snprintf() and strerror() are not
 * async-signal-safe, which is fine after fork() in a single-threaded caller (see bpf-counter.h). */
_Noreturn static void exec_loader(int sock) {
        BpfLoaderReply reply = { .r = -EIO };
        const char *path = loader_path();
        char fd_arg[16];
        sigset_t all;

        /* The daemon blocks SIGTERM & co. for its signalfd; the loader must be killable. It also dies
         * with the daemon rather than load a program nobody will use. */
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* A group of its own, so that a loader that hangs is killed with anything it started. */
        (void) setpgid(0, 0);
        if (fcntl(sock, F_SETFD, 0) < 0)
                reply.r = -errno;
        else {
                snprintf(fd_arg, sizeof(fd_arg), "%d", sock);
                execl(path, path, fd_arg, (char *) NULL);
                reply.r = -errno;
        }
        snprintf(reply.reason, sizeof(reply.reason), "cannot execute the BPF loader %s: %s", path,
                 strerror(-reply.r));
        (void) !send(sock, &reply, sizeof(reply), MSG_NOSIGNAL);
        _exit(EXIT_FAILURE);
}

/* The mode named in the loader's reply, or -EIO. */
static int reply_hits_mode(const BpfLoaderReply *reply, BpfHitsMode *ret) {
        if (streq(reply->hits_mode, BPF_LOADER_HITS_FEXIT))
                *ret = BPF_HITS_FEXIT;
        else if (streq(reply->hits_mode, BPF_LOADER_HITS_TRACEPOINT))
                *ret = BPF_HITS_TRACEPOINT;
        else if (streq(reply->hits_mode, BPF_LOADER_HITS_SYS_EXIT))
                *ret = BPF_HITS_SYS_EXIT;
        else
                return -EIO;
        return 0;
}

/* Makes the BpfHits of the limit-hit program's fds (loader.h), or records why there is none. Takes
 * (closes, on failure) the N fds at FDS. */
static void take_hits_fds(BpfCounter *c, BpfLoaderReply *reply, int *fds, int n) {
        BpfHitsFds hits_fds = { .ringbuf_fd = -EBADF, .config_fd = -EBADF, .stats_fd = -EBADF };
        BpfHitsMode mode = BPF_HITS_FEXIT;

        reply->hits_reason[sizeof(reply->hits_reason) - 1] = '\0';
        reply->hits_mode[sizeof(reply->hits_mode) - 1] = '\0';
        reply->hits_tracepoint[sizeof(reply->hits_tracepoint) - 1] = '\0';
        c->hits_r = reply->hits_r < 0 ? reply->hits_r : 0;
        if (c->hits_r == 0)
                c->hits_r = reply_hits_mode(reply, &mode);
        if (c->hits_r == 0 &&
            (reply->n_hit_progs == 0 || reply->n_hit_progs > ELEMENTSOF(hits_fds.prog_fds) ||
             n != 3 + (int) reply->n_hit_progs ||
             reply->n_tracepoint_ids > ELEMENTSOF(hits_fds.tracepoint_ids) ||
             (mode == BPF_HITS_TRACEPOINT) != (reply->n_tracepoint_ids > 0)))
                c->hits_r = -EIO;
        if (c->hits_r < 0) {
                for (int i = 0; i < n; i++)
                        if (fds[i] >= 0)
                                close(fds[i]);
                if (reply->hits_r == 0)
                        (void) reason_set(&c->hits_reason,
                                          "the BPF loader sent a malformed limit-hit program");
                else
                        (void) reason_set(&c->hits_reason, "%s",
                                          reply->hits_reason[0] ? reply->hits_reason : strerror(-c->hits_r));
                return;
        }

        hits_fds.ringbuf_fd = fds[0];
        hits_fds.config_fd = fds[1];
        hits_fds.stats_fd = fds[2];
        hits_fds.n_progs = reply->n_hit_progs;
        hits_fds.tracepoint = reply->hits_tracepoint[0] ? reply->hits_tracepoint : NULL;
        hits_fds.reason = reply->hits_reason;
        for (unsigned i = 0; i < reply->n_hit_progs; i++)
                hits_fds.prog_fds[i] = fds[3 + i];
        hits_fds.n_tracepoint_ids = reply->n_tracepoint_ids;
        for (unsigned i = 0; i < reply->n_tracepoint_ids; i++)
                hits_fds.tracepoint_ids[i] = reply->tracepoint_ids[i];
        c->hits_r = bpf_hits_new_from_fds(&c->hits, mode, &hits_fds);
        if (c->hits_r < 0)
                (void) reason_set(&c->hits_reason, "cannot take the limit-hit program: %s",
                                  strerror(-c->hits_r));
        else if (reply->hits_reason[0])
                (void) reason_set(&c->hits_reason, "%s", reply->hits_reason);
}

/* Loading parses the kernel's BTF (several MiB, for the CO-RE relocations) and needs libbpf, libelf
 * and libz. mapguard-bpf-loader does it in a process of its own and hands back only the two fds the
 * counter uses (loader.h), so the daemon's memory never holds any of it. */
/* What came back from the loader. */
typedef struct LoaderAnswer {
        BpfLoaderReply reply;
        ssize_t n;      /* bytes of the reply received; -errno when recvmsg() failed */
        bool truncated; /* the reply or its fds did not fit */
        bool timed_out; /* no answer in BPF_LOADER_TIMEOUT_USEC: its process group was killed */
        int status;     /* of waitpid() */
        int fds[BPF_LOADER_FDS_MAX];
        int n_fds;
} LoaderAnswer;

static void loader_answer_close(LoaderAnswer *a) {
        for (size_t i = 0; i < ELEMENTSOF(a->fds); i++)
                if (a->fds[i] >= 0) {
                        close(a->fds[i]);
                        a->fds[i] = -EBADF;
                }
}

/* Starts the loader on one end of a new socket pair, in a process group of its own. Returns 0 with the
 * other end and its pid, or -errno with the reason. */
static int loader_spawn(int *ret_sock, pid_t *ret_pid, char **ret_reason) {
        int sv[2], r;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = -errno;
                (void) reason_set(ret_reason, "cannot create a socket pair for the BPF loader: %s",
                                  strerror(-r));
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                (void) reason_set(ret_reason, "cannot fork the BPF loader: %s", strerror(-r));
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                exec_loader(sv[1]);
        }
        close(sv[1]);
        /* The child does the same: whichever runs first, the group exists before any kill(). */
        (void) setpgid(pid, pid);
        *ret_sock = sv[0];
        *ret_pid = pid;
        return 0;
}

/* Waits for the loader's one datagram (killing its process group when it does not come in time),
 * reaps it, and collects the fds it sent, into *A. */
static void loader_answer_receive(int sock, pid_t pid, LoaderAnswer *a) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(BPF_LOADER_FDS_MAX * sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &a->reply, .iov_len = sizeof(a->reply) };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        int r;

        /* A load takes well under a second; a loader that hangs must not hold up the daemon's start
         * (or its event loop, on reload) until systemd's timeout or the watchdog kills it. */
        r = fd_wait_readable(sock, BPF_LOADER_TIMEOUT_USEC);
        if (r == 0) {
                /* Its process group: whatever it started goes too. */
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL);
                a->timed_out = true;
        } else if (r > 0) {
                do
                        a->n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
                while (a->n < 0 && errno == EINTR);
                if (a->n < 0)
                        a->n = -errno;
                a->truncated = mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC);
        } else
                a->n = r;

        while (waitpid(pid, &a->status, 0) < 0)
                if (errno != EINTR) {
                        a->status = 0;
                        break;
                }

        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
                if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
                        continue;
                a->n_fds = (int) ((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < a->n_fds; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(cmsg) + (size_t) i * sizeof(int), sizeof(int));
                        if (i < BPF_LOADER_FDS_MAX)
                                a->fds[i] = fd;
                        else
                                close(fd);
                }
        }
}

/* Returns 0 when A is a good answer with the iterator's link and map, else -errno with the reason. */
static int loader_answer_check(LoaderAnswer *a, char **ret_reason) {
        if (a->timed_out) {
                (void) reason_set(ret_reason, "the BPF loader %s did not answer within %u s", loader_path(),
                                  (unsigned) (BPF_LOADER_TIMEOUT_USEC / USEC_PER_SEC));
                return -ETIMEDOUT;
        }
        if (a->n < 0) {
                (void) reason_set(ret_reason, "cannot receive from the BPF loader: %s",
                                  strerror((int) -a->n));
                return (int) a->n;
        }
        if (a->n != (ssize_t) sizeof(a->reply) || a->truncated) {
                if (WIFSIGNALED(a->status))
                        (void) reason_set(ret_reason, "the BPF loader %s was killed by signal %d",
                                          loader_path(), WTERMSIG(a->status));
                else
                        (void) reason_set(ret_reason, "the BPF loader %s exited without an answer",
                                          loader_path());
                return -EIO;
        }
        if (a->reply.r < 0) {
                a->reply.reason[sizeof(a->reply.reason) - 1] = '\0';
                (void) reason_set(ret_reason, "%s",
                                  a->reply.reason[0] ? a->reply.reason : strerror(-a->reply.r));
                return a->reply.r;
        }
        if (a->n_fds < 2 || a->fds[0] < 0 || a->fds[1] < 0) {
                (void) reason_set(ret_reason,
                                  "the BPF loader sent %d file descriptors instead of at least 2", a->n_fds);
                return -EIO;
        }
        return 0;
}

static int load_in_child(BpfCounter *c, char **ret_reason) {
        _cleanup_close_ int sock = -EBADF;
        LoaderAnswer a = {};
        pid_t pid = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(a.fds); i++)
                a.fds[i] = -EBADF;
        r = loader_spawn(&sock, &pid, ret_reason);
        if (r < 0)
                return r;
        loader_answer_receive(sock, pid, &a);
        r = loader_answer_check(&a, ret_reason);
        if (r < 0) {
                loader_answer_close(&a);
                return r;
        }
        c->iter_link_fd = a.fds[0];
        c->cgroups_map_fd = a.fds[1];
        take_hits_fds(c, &a.reply, a.fds + 2, a.n_fds - 2);
        return 0;
}

/* bpf(2) on the fds from the loader: what libbpf's bpf_iter_create(), bpf_map_update_elem() and
 * bpf_map_delete_elem() do, without linking libbpf. The attr is zeroed whole: the kernel accepts a
 * longer attr than it knows when the tail is zero. */
static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

        return r < 0 ? -errno : (int) r;
}

static int bpf_iter_open(int link_fd) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.iter_create.link_fd = (__u32) link_fd;
        return sys_bpf(BPF_ITER_CREATE, &attr);
}

static int bpf_map_set(int map_fd, const uint64_t *key, const uint8_t *value) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.map_fd = (__u32) map_fd;
        attr.key = (__u64) (uintptr_t) key;
        attr.value = (__u64) (uintptr_t) value;
        attr.flags = BPF_ANY;
        return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

static int bpf_map_unset(int map_fd, const uint64_t *key) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.map_fd = (__u32) map_fd;
        attr.key = (__u64) (uintptr_t) key;
        return sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
}

int bpf_counter_new(BpfCounter **ret, char **ret_reason) {
        _cleanup_free_ BpfCounter *c = NULL;
        int r;

        if (!ret || !ret_reason)
                return -EINVAL;

        if (access(VMLINUX_BTF_PATH, F_OK) < 0) {
                r = -errno;
                if (r != -ENOENT)
                        (void) reason_set(ret_reason,
                                          "cannot access the kernel's BTF at " VMLINUX_BTF_PATH ": %s",
                                          strerror(-r));
                else
                        (void) reason_set(ret_reason,
                                          "the kernel has no BTF (" VMLINUX_BTF_PATH
                                          " is missing: it needs CONFIG_DEBUG_INFO_BTF=y)");
                return r == -ENOENT ? -EOPNOTSUPP : r;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = load_in_child(c, ret_reason);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

BpfCounter *bpf_counter_free(BpfCounter *c) {
        if (!c)
                return NULL;
        close(c->iter_link_fd);
        close(c->cgroups_map_fd);
        free(c->ids);
        bpf_hits_free(c->hits);
        free(c->hits_reason);
        free(c);
        return NULL;
}

int bpf_counter_take_hits(BpfCounter *c, BpfHits **ret, char **ret_note) {
        char *note = NULL;

        if (!c || !ret || !ret_note)
                return -EINVAL;
        if (!c->hits && c->hits_r >= 0) {
                *ret_note = strdup("the limit-hit program was taken already");
                return -ENOENT;
        }
        if (c->hits_reason) {
                note = strdup(c->hits_reason);
                if (!note)
                        return -ENOMEM;
        }
        if (!c->hits) {
                *ret_note = note ?: strdup(strerror(-c->hits_r));
                return c->hits_r;
        }
        *ret = TAKE_PTR(c->hits);
        *ret_note = note;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static bool ids_contain(const uint64_t *ids, size_t n, uint64_t id) {
        return n > 0 && bsearch(&id, ids, n, sizeof(uint64_t), cmp_u64);
}

int bpf_counter_set_cgroups(BpfCounter *c, const uint64_t *cgroup_ids, size_t n) {
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n_ids = 0, n_kept;
        const uint8_t one = 1;
        int r = 0;

        if (!c || (!cgroup_ids && n > 0))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (cgroup_ids[i] == 0)
                        return -EINVAL;

        /* Room for the new set plus any old id whose removal fails, so the array always matches
         * the map. */
        ids = malloc((n + c->n_ids) * sizeof(uint64_t) + 1);
        if (!ids)
                return -ENOMEM;
        if (n > 0) {
                memcpy(ids, cgroup_ids, n * sizeof(uint64_t));
                qsort(ids, n, sizeof(uint64_t), cmp_u64);
                for (size_t i = 0; i < n; i++)
                        if (n_ids == 0 || ids[n_ids - 1] != ids[i])
                                ids[n_ids++] = ids[i];
        }
        if (n_ids > BPF_COUNTER_MAX_CGROUPS)
                return -E2BIG;

        /* Add first: should an update fail, removing what was just added restores the old set. */
        for (size_t i = 0; i < n_ids; i++) {
                if (ids_contain(c->ids, c->n_ids, ids[i]))
                        continue;
                r = bpf_map_set(c->cgroups_map_fd, &ids[i], &one);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                if (!ids_contain(c->ids, c->n_ids, ids[j]))
                                        (void) bpf_map_unset(c->cgroups_map_fd, &ids[j]);
                        return r;
                }
        }

        n_kept = n_ids;
        for (size_t i = 0; i < c->n_ids; i++) {
                int k;

                if (ids_contain(ids, n_kept, c->ids[i]))
                        continue;
                k = bpf_map_unset(c->cgroups_map_fd, &c->ids[i]);
                if (k < 0 && k != -ENOENT) {
                        ids[n_ids++] = c->ids[i];
                        if (r == 0)
                                r = k;
                }
        }
        if (n_ids > n_kept)
                qsort(ids, n_ids, sizeof(uint64_t), cmp_u64);

        free(c->ids);
        c->ids = TAKE_PTR(ids);
        c->n_ids = n_ids;
        return r;
}

int bpf_counter_scan(BpfCounter *c, BpfTaskCount **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size = 0, allocated = 0;

        if (!c || !ret || !ret_n)
                return -EINVAL;

        /* Each read() of a fresh iterator fd runs the program over the next batch of tasks. */
        fd = bpf_iter_open(c->iter_link_fd);
        if (fd < 0)
                return fd;

        for (;;) {
                ssize_t k;

                if (allocated - size < 4096) {
                        size_t a = allocated == 0 ? 64 * 1024 : allocated * 2;
                        uint8_t *p = realloc(buf, a);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = a;
                }

                k = read(fd, buf + size, allocated - size);
                if (k == 0)
                        break;
                if (k < 0) {
                        /* EAGAIN: the kernel stopped after a million tasks without output; the
                         * next read() goes on from there. */
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                size += (size_t) k;
        }

        return bpf_counter_parse_records(TAKE_PTR(buf), size, ret, ret_n);
}

#else /* !HAVE_BPF */

int bpf_counter_new(BpfCounter **ret, char **ret_reason) {
        if (!ret || !ret_reason)
                return -EINVAL;
        (void) reason_set(ret_reason, "mapguard was built without BPF support");
        return -EOPNOTSUPP;
}

BpfCounter *bpf_counter_free(BpfCounter *c) {
        free(c);
        return NULL;
}

int bpf_counter_set_cgroups(BpfCounter *c, const uint64_t *cgroup_ids, size_t n) {
        return -EOPNOTSUPP;
}

int bpf_counter_scan(BpfCounter *c, BpfTaskCount **ret, size_t *ret_n) {
        return -EOPNOTSUPP;
}

int bpf_counter_take_hits(BpfCounter *c, BpfHits **ret, char **ret_note) {
        if (!ret || !ret_note)
                return -EINVAL;
        *ret_note = strdup("mapguard was built without BPF support");
        return -EOPNOTSUPP;
}

#endif

static int cmp_task_pid(const void *a, const void *b) {
        const BpfTaskCount *x = a, *y = b;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int bpf_counter_parse_records(void *buf, size_t size, BpfTaskCount **ret, size_t *ret_n) {
        _cleanup_free_ uint8_t *data = buf;
        size_t n, n_unique = 0;
        BpfTaskCount *tasks;

        if ((!buf && size > 0) || !ret || !ret_n)
                return -EINVAL;
        if (size % sizeof(BpfTaskCount) != 0)
                return -EBADMSG;
        n = size / sizeof(BpfTaskCount);
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (n > INT_MAX)
                return -E2BIG;

        tasks = (BpfTaskCount *) data;
        qsort(tasks, n, sizeof(BpfTaskCount), cmp_task_pid);
        /* Several threads report a process whose leader has exited: keep one. */
        for (size_t i = 0; i < n; i++) {
                if (n_unique > 0 && tasks[n_unique - 1].pid == tasks[i].pid)
                        continue;
                tasks[n_unique] = tasks[i];
                tasks[n_unique].comm[sizeof(tasks[n_unique].comm) - 1] = '\0';
                utf8_make_valid(tasks[n_unique].comm);
                n_unique++;
        }

        tasks = realloc(data, n_unique * sizeof(BpfTaskCount));
        if (tasks)
                data = NULL;
        else
                tasks = (BpfTaskCount *) TAKE_PTR(data);

        *ret = tasks;
        *ret_n = n_unique;
        return (int) n_unique;
}
