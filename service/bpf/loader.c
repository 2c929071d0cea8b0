/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mapguard-bpf-loader FD: opens, verifies, loads and attaches mapguardd's BPF task iterator, loads the
 * limit-hit program beside it (fexit where the kernel can, else the mapping calls' exit tracepoints,
 * else the raw sys_exit tracepoint), sends the fds back over the socket FD (loader.h), and exits. mapguardd
 * runs it (bpf_counter_new()); it is not meant to be run by hand.
 *
 * A process of its own because loading is the expensive part: libbpf parses the kernel's BTF
 * (several MiB) for the CO-RE relocations and keeps the heap it grew, and libbpf brings libelf and
 * libz. In a short-lived process none of that stays in the long-running daemon, which then needs
 * nothing of libbpf: it drives the iterator and the map with bpf(2) on the fds it received. */

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "escape.h"
#include "hits.h"
#include "hits.skel.h"
#include "loader.h"
#include "mapcount.skel.h"
#include "util.h"

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

/* include/linux/proc_ns.h: the inode number of the initial pid namespace, fixed at build time. */
#define PROC_PID_INIT_INO 0xEFFFFFFCU
#define PID_NS_PATH "/proc/self/ns/pid"

/* The reason sent to the daemon on failure; the reply has room for it. */
static char reason[sizeof(((BpfLoaderReply *) NULL)->reason)];
/* Why the limit-hit program is missing, or why it fell back to the tracepoint. */
static char hits_reason[sizeof(((BpfLoaderReply *) NULL)->hits_reason)];

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

/* Returns r, or -EOPNOTSUPP when the kernel lacks task iterators, and says why in reason. */
static int load_failure(int r, const char *what) {
        int k;

        if (r == -EPERM) {
                snprintf(reason, sizeof(reason),
                         "not permitted to %s: it needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN", what);
                return r;
        }

        /* Only now, as parsing the kernel's BTF once more costs as much as loading. */
        k = kernel_has_task_iterator();
        if (k < 0) {
                snprintf(reason, sizeof(reason), "cannot read the kernel's BTF at " VMLINUX_BTF_PATH ": %s",
                         strerror(-k));
                return r;
        }
        if (k == 0) {
                snprintf(reason, sizeof(reason),
                         "the kernel is too old for BPF task iterators (they need Linux 5.8 or newer)");
                return -EOPNOTSUPP;
        }

        if (libbpf_first_warning[0] != '\0')
                snprintf(reason, sizeof(reason), "failed to %s: %s (%s)", what, strerror(-r),
                         libbpf_first_warning);
        else
                snprintf(reason, sizeof(reason), "failed to %s: %s", what, strerror(-r));
        return r;
}

/* Loads, verifies and attaches the program. Returns 0 with the skeleton in *ret, or -errno and says
 * why in reason. */
static int load(struct mapcount_bpf **ret, uint32_t *ret_pidns_inum) {
        struct mapcount_bpf *skel;
        libbpf_print_fn_t old_print;
        struct stat st;
        int r;

        /* The pids the daemon reads from cgroup.procs are those of its own pid namespace; the
         * kernel's are those of the initial one. The inode number of the namespace file is the
         * namespace's ns.inum, which the program compares. */
        if (stat(PID_NS_PATH, &st) < 0) {
                r = -errno;
                snprintf(reason, sizeof(reason), "cannot find our pid namespace at " PID_NS_PATH ": %s",
                         strerror(-r));
                return r;
        }

        libbpf_first_warning[0] = '\0';
        old_print = libbpf_set_print(libbpf_capture_print);

        skel = mapcount_bpf__open();
        if (!skel)
                r = load_failure(errno > 0 ? -errno : -EIO, "open the BPF task iterator");
        else {
                /* 0 keeps the initial namespace's fast path: tgid is its pid. */
                skel->rodata->target_pidns_inum =
                        (uint32_t) st.st_ino == PROC_PID_INIT_INO ? 0 : (uint32_t) st.st_ino;
                /* The limit-hit program reports pids in the same namespace. */
                *ret_pidns_inum = skel->rodata->target_pidns_inum;
                r = mapcount_bpf__load(skel);
                if (r < 0)
                        r = load_failure(r, "load the BPF task iterator");
                else {
                        r = mapcount_bpf__attach(skel);
                        if (r < 0)
                                r = load_failure(r, "attach the BPF task iterator");
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

/* Not in Debian 12's headers: mseal() came with Linux 6.10, with the same number on every
 * architecture that uses the common table (x86-64 included). A kernel without it answers ENOSYS,
 * which is never a hit. */
#ifndef __NR_mseal
#define __NR_mseal 462
#endif

/* The syscall entry points' prefix: what SYSCALL_DEFINE makes of sys_NAME on this architecture. */
#if defined(__x86_64__)
#define SYSCALL_PREFIX "__x64_sys_"
#elif defined(__aarch64__)
#define SYSCALL_PREFIX "__arm64_sys_"
#else
#error "loader.c: no syscall entry point prefix for this architecture"
#endif

typedef struct HitCall {
        const char *name; /* sys_NAME */
        long nr;
        unsigned kind; /* enum mapguard_hit_syscall */
} HitCall;

static const HitCall hit_calls[] = {
        { "mmap", __NR_mmap, MAPGUARD_HIT_SYSCALL_MMAP },
        { "munmap", __NR_munmap, MAPGUARD_HIT_SYSCALL_MUNMAP },
        { "mprotect", __NR_mprotect, MAPGUARD_HIT_SYSCALL_MPROTECT },
        { "pkey_mprotect", __NR_pkey_mprotect, MAPGUARD_HIT_SYSCALL_PKEY_MPROTECT },
        { "mremap", __NR_mremap, MAPGUARD_HIT_SYSCALL_MREMAP },
        { "brk", __NR_brk, MAPGUARD_HIT_SYSCALL_BRK },
        { "madvise", __NR_madvise, MAPGUARD_HIT_SYSCALL_MADVISE },
        { "process_madvise", __NR_process_madvise, MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE },
        { "mlock", __NR_mlock, MAPGUARD_HIT_SYSCALL_MLOCK },
        { "mlock2", __NR_mlock2, MAPGUARD_HIT_SYSCALL_MLOCK2 },
        { "munlock", __NR_munlock, MAPGUARD_HIT_SYSCALL_MUNLOCK },
        { "mseal", __NR_mseal, MAPGUARD_HIT_SYSCALL_MSEAL },
        { "mbind", __NR_mbind, MAPGUARD_HIT_SYSCALL_MBIND },
        { "shmat", __NR_shmat, MAPGUARD_HIT_SYSCALL_SHMAT },
        { "remap_file_pages", __NR_remap_file_pages, MAPGUARD_HIT_SYSCALL_REMAP_FILE_PAGES },
};

/* The fexit program of each entry of hit_calls[], in the same order. */
static struct bpf_program *hit_fexit_program(struct hits_bpf *skel, size_t i) {
        struct bpf_program *progs[] = {
                skel->progs.fexit_mmap,
                skel->progs.fexit_munmap,
                skel->progs.fexit_mprotect,
                skel->progs.fexit_pkey_mprotect,
                skel->progs.fexit_mremap,
                skel->progs.fexit_brk,
                skel->progs.fexit_madvise,
                skel->progs.fexit_process_madvise,
                skel->progs.fexit_mlock,
                skel->progs.fexit_mlock2,
                skel->progs.fexit_munlock,
                skel->progs.fexit_mseal,
                skel->progs.fexit_mbind,
                skel->progs.fexit_shmat,
                skel->progs.fexit_remap_file_pages,
        };
        _Static_assert(ELEMENTSOF(progs) == ELEMENTSOF(hit_calls), "one fexit program per call");
        _Static_assert(ELEMENTSOF(hit_calls) <= BPF_LOADER_HIT_PROGS_MAX, "room in the reply");

        return progs[i];
}

/* The ways of catching, in the order they are tried: the cheapest first. */
typedef enum HitWay {
        HIT_WAY_FEXIT,      /* fexit programs on the syscalls' entry points */
        HIT_WAY_TRACEPOINT, /* a tracepoint program on the syscalls:sys_exit_* events of the mapping calls */
        HIT_WAY_TP_BTF,     /* the sys_exit tracepoint, BTF-typed program */
        HIT_WAY_RAW_TP,     /* the sys_exit tracepoint, untyped program (attached by name) */
        _HIT_WAY_MAX,
} HitWay;

static const char *const hit_way_names[_HIT_WAY_MAX] = {
        [HIT_WAY_FEXIT] = "fexit",
        [HIT_WAY_TRACEPOINT] = "tracepoint",
        [HIT_WAY_TP_BTF] = "tp_btf",
        [HIT_WAY_RAW_TP] = "raw_tp",
};

/* The copies of the tracepoint program (hits.h: MAPGUARD_HIT_COPIES), in copy order. */
static struct bpf_program *hit_tracepoint_program(struct hits_bpf *skel, size_t copy) {
        struct bpf_program *progs[] = {
                skel->progs.catch_syscall_exit_0,
                skel->progs.catch_syscall_exit_1,
        };
        _Static_assert(ELEMENTSOF(progs) == MAPGUARD_HIT_COPIES, "one program per copy");

        return progs[copy];
}

/* Where tracefs shows the syscall events: its own mount point (Linux 4.1+), or below debugfs. */
static const char *const tracefs_syscall_dirs[] = {
        "/sys/kernel/tracing/events/syscalls",
        "/sys/kernel/debug/tracing/events/syscalls",
};

/* The ids of the syscalls:sys_exit_<call> events of hit_calls[] (perf_event_open()'s config for a
 * PERF_TYPE_TRACEPOINT event), for those the kernel has; they stay the same until reboot. */
static uint32_t tracepoint_ids[ELEMENTSOF(hit_calls)];
static size_t n_tracepoint_ids;
_Static_assert(ELEMENTSOF(tracepoint_ids) <= BPF_LOADER_TRACEPOINTS_MAX, "room in the reply");

/* Reads the id of the event sys_exit_NAME below DIR into *RET. Returns 0, -ENOENT when the kernel has
 * no such event (a call it lacks), or another -errno. */
static int tracepoint_id_read(const char *dir, const char *name, uint32_t *ret) {
        char path[256], buf[32], *end;
        unsigned long id;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/sys_exit_%s/id", dir, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        errno = 0;
        id = strtoul(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || id > UINT32_MAX)
                return -EBADMSG;
        *ret = (uint32_t) id;
        return 0;
}

/* Finds the ids of the mapping calls' exit events in tracefs. Returns 0 with them in tracepoint_ids[],
 * or -errno and why in libbpf_first_warning (which the caller's reason quotes). */
static int tracepoint_ids_find(void) {
        const char *dir = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(tracefs_syscall_dirs) && !dir; i++)
                if (access(tracefs_syscall_dirs[i], F_OK) >= 0)
                        dir = tracefs_syscall_dirs[i];
        if (!dir) {
                snprintf(libbpf_first_warning, sizeof(libbpf_first_warning),
                         "no tracefs with syscall events at /sys/kernel/tracing or "
                         "/sys/kernel/debug/tracing");
                return -ENOENT;
        }

        n_tracepoint_ids = 0;
        for (size_t i = 0; i < ELEMENTSOF(hit_calls); i++) {
                r = tracepoint_id_read(dir, hit_calls[i].name, &tracepoint_ids[n_tracepoint_ids]);
                if (r == -ENOENT)
                        continue; /* a call this kernel lacks cannot fail */
                if (r < 0) {
                        snprintf(libbpf_first_warning, sizeof(libbpf_first_warning),
                                 "cannot read %s/sys_exit_%s/id: %s", dir, hit_calls[i].name, strerror(-r));
                        return r;
                }
                n_tracepoint_ids++;
        }
        if (n_tracepoint_ids == 0) {
                snprintf(libbpf_first_warning, sizeof(libbpf_first_warning), "%s has no sys_exit_mmap", dir);
                return -ENOENT;
        }
        return 0;
}

/* Attaches PROG to the event ID as the daemon does (bpf-hits-attach.c): a perf event on CPU 0 for all
 * tasks, and a BPF link to it. Returns 0 with both fds, or -errno and what failed in
 * libbpf_first_warning. */
static int tracepoint_attach(struct bpf_program *prog, uint32_t id, int *ret_perf_fd, int *ret_link_fd) {
        struct perf_event_attr attr = {
                .type = PERF_TYPE_TRACEPOINT,
                .size = sizeof(attr),
                .config = id,
                .sample_period = 1,
                .wakeup_events = 1,
        };
        int pfd, lfd;

        pfd = (int) syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
        if (pfd < 0) {
                int r = -errno;

                snprintf(libbpf_first_warning, sizeof(libbpf_first_warning), "perf_event_open() failed%s",
                         r == -EPERM ? ", a system call filter may forbid it" : "");
                return r;
        }
        lfd = bpf_link_create(bpf_program__fd(prog), pfd, BPF_PERF_EVENT, NULL);
        if (lfd < 0) {
                snprintf(libbpf_first_warning, sizeof(libbpf_first_warning),
                         "BPF_LINK_CREATE on a perf event failed (BPF links to perf events need Linux "
                         "5.15+)");
                close(pfd);
                return lfd;
        }
        *ret_perf_fd = pfd;
        *ret_link_fd = lfd;
        return 0;
}

/* Opens and loads the limit-hit program in one of its ways, sharing the iterator's cgroup map. BTF is
 * the kernel's, to leave out the entry points it lacks (mseal before 6.10). Returns 0 with the skeleton
 * in *ret, or -errno with libbpf's first warning in libbpf_first_warning. */
static int hits_load(struct hits_bpf **ret, int cgroups_map_fd, uint32_t pidns_inum, HitWay way,
                     const struct btf *btf) {
        struct hits_bpf *skel;
        int r;

        libbpf_first_warning[0] = '\0';
        skel = hits_bpf__open();
        if (!skel)
                return errno > 0 ? -errno : -EIO;

        skel->rodata->target_pidns_inum = pidns_inum;
        for (size_t i = 0; i < ELEMENTSOF(hit_calls); i++) {
                struct bpf_program *prog = hit_fexit_program(skel, i);
                char target[64];

                if (hit_calls[i].nr >= 0 && hit_calls[i].nr < MAPGUARD_HIT_NR_MAX)
                        skel->rodata->syscall_kinds[hit_calls[i].nr] = (uint8_t) hit_calls[i].kind;

                snprintf(target, sizeof(target), SYSCALL_PREFIX "%s", hit_calls[i].name);
                if (way != HIT_WAY_FEXIT || btf__find_by_name_kind(btf, target, BTF_KIND_FUNC) < 0)
                        r = bpf_program__set_autoload(prog, false);
                else
                        r = bpf_program__set_attach_target(prog, 0, target);
                if (r < 0)
                        goto fail;
        }
        for (size_t copy = 0; copy < MAPGUARD_HIT_COPIES; copy++) {
                r = bpf_program__set_autoload(hit_tracepoint_program(skel, copy), way == HIT_WAY_TRACEPOINT);
                if (r < 0)
                        goto fail;
        }
        r = bpf_program__set_autoload(skel->progs.catch_sys_exit_btf, way == HIT_WAY_TP_BTF);
        if (r >= 0)
                r = bpf_program__set_autoload(skel->progs.catch_sys_exit, way == HIT_WAY_RAW_TP);
        if (r >= 0)
                r = bpf_map__reuse_fd(skel->maps.watched_cgroups, cgroups_map_fd);
        if (r >= 0)
                r = hits_bpf__load(skel);
        if (r < 0)
                goto fail;

        *ret = skel;
        return 0;

fail:
        hits_bpf__destroy(skel);
        return r;
}

/* Attaches the program(s) of WAY once and detaches them again: the kernel may load a program it cannot
 * attach (fexit without trampolines on some architectures), and a sandbox may forbid perf_event_open().
 * The tracepoint way tries the first event, as the daemon will (releasing it costs this process ~70
 * ms, at exit). Returns 0 or -errno. */
static int try_attach(struct hits_bpf *skel, HitWay way) {
        struct bpf_link *link;
        int pfd = -EBADF, lfd = -EBADF, r;

        if (way == HIT_WAY_TRACEPOINT) {
                r = tracepoint_attach(hit_tracepoint_program(skel, 0), tracepoint_ids[0], &pfd, &lfd);
                if (r < 0)
                        return r;
                close(lfd);
                close(pfd);
                return 0;
        }

        link = bpf_program__attach(way == HIT_WAY_FEXIT            ? skel->progs.fexit_mmap
                                           : way == HIT_WAY_TP_BTF ? skel->progs.catch_sys_exit_btf
                                                                   : skel->progs.catch_sys_exit);
        if (!link)
                return errno > 0 ? -errno : -EIO;
        (void) bpf_link__destroy(link);
        return 0;
}

/* snprintf() into a reason buffer, where truncating a long libbpf warning is fine. */
static void reason_printf(char *buf, size_t size, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static void reason_printf(char *buf, size_t size, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(buf, size, format, ap);
        va_end(ap);
}

/* The first way to try: fexit, or the one $MAPGUARD_BPF_HITS_WAY names (the tests try the fallbacks on
 * a kernel that would take a better way). */
static HitWay first_hit_way(void) {
        const char *e = getenv(BPF_LOADER_HITS_WAY_ENV);

        for (HitWay way = 0; e && way < _HIT_WAY_MAX; way++)
                if (streq(e, hit_way_names[way]))
                        return way;
        return HIT_WAY_FEXIT;
}

/* Loads the limit-hit program the first way the kernel takes (fexit, else the syscalls' exit events,
 * else the sys_exit tracepoint with BTF, else without). Returns 0 with the skeleton in *ret and the way
 * in *ret_way, and in hits_reason why the ways before it failed ("" for fexit); or -errno and why each
 * way failed in hits_reason. */
static int hits_setup(struct hits_bpf **ret, HitWay *ret_way, int cgroups_map_fd, uint32_t pidns_inum) {
        struct btf *btf;
        size_t len = 0;
        int r = -EOPNOTSUPP;

        hits_reason[0] = '\0';
        btf = btf__load_vmlinux_btf();
        if (!btf) {
                r = -errno;
                reason_printf(hits_reason, sizeof(hits_reason), "cannot read the kernel's BTF: %s",
                              strerror(-r));
                return r;
        }

        if (first_hit_way() != HIT_WAY_FEXIT) {
                reason_printf(hits_reason, sizeof(hits_reason), "$%s=%s skipped the better ways",
                              BPF_LOADER_HITS_WAY_ENV, hit_way_names[first_hit_way()]);
                len = strlen(hits_reason);
        }
        for (HitWay way = first_hit_way(); way < _HIT_WAY_MAX; way++) {
                struct hits_bpf *skel = NULL;
                const char *what = "cannot find the syscalls' exit events";

                libbpf_first_warning[0] = '\0';
                r = way == HIT_WAY_TRACEPOINT ? tracepoint_ids_find() : 0;
                if (r >= 0) {
                        what = "cannot load the programs";
                        r = hits_load(&skel, cgroups_map_fd, pidns_inum, way, btf);
                }
                if (r >= 0) {
                        what = "cannot attach them";
                        libbpf_first_warning[0] = '\0';
                        r = try_attach(skel, way);
                        if (r < 0)
                                hits_bpf__destroy(skel);
                }
                if (r >= 0) {
                        btf__free(btf);
                        *ret = skel;
                        *ret_way = way;
                        return 0;
                }
                if (len < sizeof(hits_reason))
                        reason_printf(hits_reason + len, sizeof(hits_reason) - len, "%s%s: %s: %s%s%s%s",
                                      len > 0 ? "; " : "", hit_way_names[way], what, strerror(-r),
                                      libbpf_first_warning[0] ? " (" : "", libbpf_first_warning,
                                      libbpf_first_warning[0] ? ")" : "");
                len = strlen(hits_reason);
        }
        btf__free(btf);
        return r;
}

/* What the daemon gets: the reply and, on success, the fds (loader.h). The loader's own copies close when
 * it exits; the daemon's keep the links, programs and maps alive. */
static int send_reply(int sock, struct mapcount_bpf *skel, int r, struct hits_bpf *hits, int hits_r,
                      HitWay way) {
        BpfLoaderReply reply = { .r = r, .hits_r = hits_r };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(BPF_LOADER_FDS_MAX * sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int fds[BPF_LOADER_FDS_MAX];
        size_t n_fds = 0;
        struct cmsghdr *cmsg;

        if (r < 0) {
                escape_printable_buf(reply.reason, sizeof(reply.reason), reason, 0);
                return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
        }

        fds[n_fds++] = bpf_link__fd(skel->links.report_map_counts);
        fds[n_fds++] = bpf_map__fd(skel->maps.watched_cgroups);
        escape_printable_buf(reply.hits_reason, sizeof(reply.hits_reason), hits_reason, 0);
        if (hits_r >= 0) {
                fds[n_fds++] = bpf_map__fd(hits->maps.hits);
                fds[n_fds++] = bpf_map__fd(hits->maps.hit_config);
                fds[n_fds++] = bpf_map__fd(hits->maps.hit_stats);
                if (way == HIT_WAY_FEXIT) {
                        for (size_t i = 0; i < ELEMENTSOF(hit_calls); i++) {
                                struct bpf_program *prog = hit_fexit_program(hits, i);

                                if (bpf_program__autoload(prog))
                                        fds[n_fds++] = bpf_program__fd(prog);
                        }
                } else if (way == HIT_WAY_TRACEPOINT) {
                        for (size_t copy = 0; copy < MAPGUARD_HIT_COPIES; copy++)
                                fds[n_fds++] = bpf_program__fd(hit_tracepoint_program(hits, copy));
                        for (size_t i = 0; i < n_tracepoint_ids; i++)
                                reply.tracepoint_ids[i] = tracepoint_ids[i];
                        reply.n_tracepoint_ids = (unsigned) n_tracepoint_ids;
                } else
                        fds[n_fds++] = bpf_program__fd(way == HIT_WAY_TP_BTF ? hits->progs.catch_sys_exit_btf
                                                                             : hits->progs.catch_sys_exit);
                reply.n_hit_progs = (unsigned) (n_fds - 5);
                snprintf(reply.hits_mode, sizeof(reply.hits_mode), "%s",
                         way == HIT_WAY_FEXIT                ? BPF_LOADER_HITS_FEXIT
                                 : way == HIT_WAY_TRACEPOINT ? BPF_LOADER_HITS_TRACEPOINT
                                                             : BPF_LOADER_HITS_SYS_EXIT);
                /* Only the untyped program is attached by name; the others have their target. */
                snprintf(reply.hits_tracepoint, sizeof(reply.hits_tracepoint), "%s",
                         way == HIT_WAY_RAW_TP ? "sys_exit" : "");
        }

        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, n_fds * sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* The fd number in S, if it is an open socket. Returns the fd or -EINVAL. */
static int parse_socket_fd(const char *s) {
        struct stat st;
        char *end;
        long fd;

        errno = 0;
        fd = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || fd < 0 || fd > INT32_MAX)
                return -EINVAL;
        if (fstat((int) fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return -EINVAL;
        return (int) fd;
}

int main(int argc, char *argv[]) {
        struct mapcount_bpf *skel = NULL;
        struct hits_bpf *hits = NULL;
        uint32_t pidns_inum = 0;
        HitWay way = HIT_WAY_RAW_TP;
        int sock, r, hits_r = -EOPNOTSUPP;

        sock = argc == 2 ? parse_socket_fd(argv[1]) : -EINVAL;
        if (sock < 0) {
                fprintf(stderr,
                        "%s: mapguardd runs this program with the fd of a socket to answer on; "
                        "it is not meant to be run by hand.\n",
                        program_invocation_short_name);
                return EXIT_FAILURE;
        }

        r = load(&skel, &pidns_inum);
        if (r >= 0) {
                /* Without it the counter still works: the daemon then observes hits instead. */
                libbpf_print_fn_t old_print = libbpf_set_print(libbpf_capture_print);

                hits_r = hits_setup(&hits, &way, bpf_map__fd(skel->maps.watched_cgroups), pidns_inum);
                (void) libbpf_set_print(old_print);
        }
        r = send_reply(sock, skel, r, hits, hits_r, way);
        /* The daemon's copies of the fds keep the programs loaded and the iterator attached. */
        hits_bpf__destroy(hits);
        mapcount_bpf__destroy(skel);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
