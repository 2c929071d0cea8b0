/* SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* vasprintf() */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf-backend.h"
#include "util.h"

#ifndef HAVE_BPF
#define HAVE_BPF 0
#endif

#if HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/mapcount.h"
#include "bpf/mapcount.skel.h"

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
#endif

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

/* include/linux/proc_ns.h: the inode number of the initial pid namespace, fixed at build time. */
#define PROC_PID_INIT_INO 0xEFFFFFFCU
#define PID_NS_PATH "/proc/self/ns/pid"

struct BpfCounter {
#if HAVE_BPF
        /* What the loading child handed over (see load_in_child()): the attached task iterator, of
         * which bpf_iter_create() makes one pass, and the watched_cgroups map. */
        int iter_link_fd;
        int cgroups_map_fd;
        /* Sorted, without duplicates: exactly the keys of the watched_cgroups map. */
        uint64_t *ids;
        size_t n_ids;
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

/* libbpf prints to stderr unless told otherwise; the daemon logs to the journal. While loading,
 * keep the first warning instead, to name the cause in the reason. Not thread-safe, as nothing in
 * mapguard is threaded. */
static char libbpf_first_warning[256];

static int libbpf_capture_print(enum libbpf_print_level level, const char *format, va_list ap) {
        if (level != LIBBPF_WARN || libbpf_first_warning[0] != '\0')
                return 0;

        (void) vsnprintf(libbpf_first_warning, sizeof(libbpf_first_warning), format, ap);
        libbpf_first_warning[strcspn(libbpf_first_warning, "\n")] = '\0';
        return 0;
}

/* Returns 1 when the running kernel has BPF task iterators, 0 when not, -errno when its BTF cannot be
 * read. */
static int kernel_has_task_iterator(void) {
        struct btf *btf;
        int r;

        btf = btf__load_vmlinux_btf();
        if (!btf)
                return -errno;
        /* The context type of "iter/task" programs; it came with them, in Linux 5.8. */
        r = btf__find_by_name_kind(btf, "bpf_iter__task", BTF_KIND_STRUCT) >= 0;
        btf__free(btf);
        return r;
}

/* Returns r, or -EOPNOTSUPP when the kernel lacks task iterators, and the reason in *ret_reason. */
static int load_failure(int r, const char *what, char **ret_reason) {
        int k;

        if (r == -EPERM) {
                (void) reason_set(ret_reason,
                                  "not permitted to %s: it needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN",
                                  what);
                return r;
        }

        /* Only now, as parsing the kernel's BTF once more costs as much as loading. */
        k = kernel_has_task_iterator();
        if (k < 0) {
                (void) reason_set(ret_reason, "cannot read the kernel's BTF at " VMLINUX_BTF_PATH ": %s",
                                  strerror(-k));
                return r;
        }
        if (k == 0) {
                (void) reason_set(ret_reason, "the kernel is too old for BPF task iterators "
                                  "(they need Linux 5.8 or newer)");
                return -EOPNOTSUPP;
        }

        if (libbpf_first_warning[0] != '\0')
                (void) reason_set(ret_reason, "failed to %s: %s (%s)", what, strerror(-r),
                                  libbpf_first_warning);
        else
                (void) reason_set(ret_reason, "failed to %s: %s", what, strerror(-r));
        return r;
}

/* Loads, verifies and attaches the program in this process. Returns 0 with the skeleton in *ret, or
 * -errno and the reason. */
static int load_here(struct mapcount_bpf **ret, char **ret_reason) {
        struct mapcount_bpf *skel;
        libbpf_print_fn_t old_print;
        struct stat st;
        int r;

        /* The pids the daemon reads from cgroup.procs are those of its own pid namespace; the
         * kernel's are those of the initial one. The inode number of the namespace file is the
         * namespace's ns.inum, which the program compares. */
        if (stat(PID_NS_PATH, &st) < 0) {
                r = -errno;
                (void) reason_set(ret_reason, "cannot find our pid namespace at " PID_NS_PATH ": %s",
                                  strerror(-r));
                return r;
        }

        libbpf_first_warning[0] = '\0';
        old_print = libbpf_set_print(libbpf_capture_print);

        skel = mapcount_bpf__open();
        if (!skel)
                r = load_failure(errno > 0 ? -errno : -EIO, "open the BPF task iterator", ret_reason);
        else {
                /* 0 keeps the initial namespace's fast path: tgid is its pid. */
                skel->rodata->target_pidns_inum =
                        (uint32_t) st.st_ino == PROC_PID_INIT_INO ? 0 : (uint32_t) st.st_ino;
                r = mapcount_bpf__load(skel);
                if (r < 0)
                        r = load_failure(r, "load the BPF task iterator", ret_reason);
                else {
                        r = mapcount_bpf__attach(skel);
                        if (r < 0)
                                r = load_failure(r, "attach the BPF task iterator", ret_reason);
                }
                if (r < 0)
                        mapcount_bpf__destroy(skel);
        }
        (void) libbpf_set_print(old_print);
        if (r < 0)
                return r;

        *ret = skel;
        return 0;
}

/* What the loading child sends back in one datagram; on success the link and map fds ride along
 * (SCM_RIGHTS), in that order. */
typedef struct LoadReply {
        int r;
        char reason[512];
} LoadReply;

_Noreturn static void load_child(int sock) {
        _cleanup_free_ char *reason = NULL;
        struct mapcount_bpf *skel = NULL;
        LoadReply reply = {};
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        reply.r = load_here(&skel, &reason);
        if (reply.r < 0)
                strcpy_printable(reply.reason, sizeof(reply.reason), reason ? reason : "");
        else {
                int fds[2] = { bpf_link__fd(skel->links.report_map_counts),
                               bpf_map__fd(skel->maps.watched_cgroups) };
                struct cmsghdr *cmsg;

                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                cmsg = CMSG_FIRSTHDR(&mh);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
                memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
        }
        /* Exiting closes the child's own fds; the parent's copies keep the link, the program and
         * the map alive. _exit(): no atexit handlers or stdio buffers of the parent run twice. */
        _exit(sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? 1 : 0);
}

/* Loading parses the kernel's BTF (several MiB, for the CO-RE relocations) and libbpf keeps the
 * heap it grew. A short-lived child does it and hands back only the two fds the counter uses, so
 * the daemon's own memory never holds the BTF: its peak RSS stays that of a /proc scan. */
static int load_in_child(BpfCounter *c, char **ret_reason) {
        _cleanup_close_ int sock = -EBADF;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control = {};
        LoadReply reply = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        int sv[2], status, fds[2] = { -EBADF, -EBADF }, n_fds = 0, r;
        struct cmsghdr *cmsg;
        ssize_t n;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = -errno;
                (void) reason_set(ret_reason, "cannot create a socket pair for the loader: %s", strerror(-r));
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                (void) reason_set(ret_reason, "cannot fork the loader: %s", strerror(-r));
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                load_child(sv[1]);
        }
        close(sv[1]);
        sock = sv[0];

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        r = n < 0 ? -errno : 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 0;
                        break;
                }

        for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg))
                if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
                        n_fds = (int) ((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                        for (int i = 0; i < n_fds; i++) {
                                int fd;

                                memcpy(&fd, CMSG_DATA(cmsg) + (size_t) i * sizeof(int), sizeof(int));
                                if (i < 2)
                                        fds[i] = fd;
                                else
                                        close(fd);
                        }
                }

        if (r < 0)
                (void) reason_set(ret_reason, "cannot receive from the loader: %s", strerror(-r));
        else if (n != (ssize_t) sizeof(reply) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                if (WIFSIGNALED(status))
                        (void) reason_set(ret_reason, "the loader process was killed by signal %d",
                                          WTERMSIG(status));
                else
                        (void) reason_set(ret_reason, "the loader process exited without an answer");
                r = -EIO;
        } else if (reply.r < 0) {
                r = reply.r;
                reply.reason[sizeof(reply.reason) - 1] = '\0';
                (void) reason_set(ret_reason, "%s", reply.reason[0] ? reply.reason : strerror(-r));
        } else if (n_fds != 2) {
                (void) reason_set(ret_reason, "the loader sent %d file descriptors instead of 2", n_fds);
                r = -EIO;
        }

        if (r < 0) {
                for (int i = 0; i < 2; i++)
                        if (fds[i] >= 0)
                                close(fds[i]);
                return r;
        }
        c->iter_link_fd = fds[0];
        c->cgroups_map_fd = fds[1];
        return 0;
}

int bpf_counter_new(BpfCounter **ret, char **ret_reason) {
        _cleanup_free_ BpfCounter *c = NULL;
        int r;

        if (!ret || !ret_reason)
                return -EINVAL;

        if (access(VMLINUX_BTF_PATH, F_OK) < 0) {
                r = -errno;
                if (r != -ENOENT)
                        (void) reason_set(ret_reason, "cannot access the kernel's BTF at " VMLINUX_BTF_PATH
                                          ": %s", strerror(-r));
                else
                        (void) reason_set(ret_reason, "the kernel has no BTF (" VMLINUX_BTF_PATH
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
        free(c);
        return NULL;
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
                r = bpf_map_update_elem(c->cgroups_map_fd, &ids[i], &one, BPF_ANY);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                if (!ids_contain(c->ids, c->n_ids, ids[j]))
                                        (void) bpf_map_delete_elem(c->cgroups_map_fd, &ids[j]);
                        return r;
                }
        }

        n_kept = n_ids;
        for (size_t i = 0; i < c->n_ids; i++) {
                int k;

                if (ids_contain(ids, n_kept, c->ids[i]))
                        continue;
                k = bpf_map_delete_elem(c->cgroups_map_fd, &c->ids[i]);
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

static int cmp_task_pid(const void *a, const void *b) {
        const BpfTaskCount *x = a, *y = b;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int bpf_counter_scan(BpfCounter *c, BpfTaskCount **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size = 0, allocated = 0, n, n_unique = 0;
        BpfTaskCount *tasks;

        if (!c || !ret || !ret_n)
                return -EINVAL;

        /* Each read() of a fresh iterator fd runs the program over the next batch of tasks. */
        fd = bpf_iter_create(c->iter_link_fd);
        if (fd < 0)
                return -errno;

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

        if (size % sizeof(BpfTaskCount) != 0)
                return -EBADMSG;
        n = size / sizeof(BpfTaskCount);
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }

        tasks = (BpfTaskCount *) buf;
        qsort(tasks, n, sizeof(BpfTaskCount), cmp_task_pid);
        /* Several threads report a process whose leader has exited: keep one. */
        for (size_t i = 0; i < n; i++) {
                if (n_unique > 0 && tasks[n_unique - 1].pid == tasks[i].pid)
                        continue;
                tasks[n_unique] = tasks[i];
                tasks[n_unique].comm[sizeof(tasks[n_unique].comm) - 1] = '\0';
                n_unique++;
        }

        tasks = realloc(buf, n_unique * sizeof(BpfTaskCount));
        if (tasks)
                buf = NULL;
        else
                tasks = (BpfTaskCount *) TAKE_PTR(buf);

        *ret = tasks;
        *ret_n = n_unique;
        return (int) n_unique;
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

#endif
