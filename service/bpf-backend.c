/* SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* vasprintf() */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
        struct mapcount_bpf *skel;
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

int bpf_counter_new(BpfCounter **ret, char **ret_reason) {
        _cleanup_free_ BpfCounter *c = NULL;
        libbpf_print_fn_t old_print;
        struct stat st;
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

        /* The pids the daemon reads from cgroup.procs are those of its own pid namespace; the
         * kernel's are those of the initial one. The inode number of the namespace file is the
         * namespace's ns.inum, which the program compares. */
        if (stat(PID_NS_PATH, &st) < 0) {
                r = -errno;
                (void) reason_set(ret_reason, "cannot find our pid namespace at " PID_NS_PATH ": %s",
                                  strerror(-r));
                return r;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;

        libbpf_first_warning[0] = '\0';
        old_print = libbpf_set_print(libbpf_capture_print);

        c->skel = mapcount_bpf__open();
        if (!c->skel)
                r = load_failure(errno > 0 ? -errno : -EIO, "open the BPF task iterator", ret_reason);
        else {
                /* 0 keeps the initial namespace's fast path: tgid is its pid. */
                c->skel->rodata->target_pidns_inum =
                        (uint32_t) st.st_ino == PROC_PID_INIT_INO ? 0 : (uint32_t) st.st_ino;
                r = mapcount_bpf__load(c->skel);
                if (r < 0)
                        r = load_failure(r, "load the BPF task iterator", ret_reason);
                else {
                        r = mapcount_bpf__attach(c->skel);
                        if (r < 0)
                                r = load_failure(r, "attach the BPF task iterator", ret_reason);
                }
                if (r < 0)
                        mapcount_bpf__destroy(c->skel);
        }
        (void) libbpf_set_print(old_print);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

BpfCounter *bpf_counter_free(BpfCounter *c) {
        if (!c)
                return NULL;
        mapcount_bpf__destroy(c->skel);
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
        struct bpf_map *map;
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

        map = c->skel->maps.watched_cgroups;

        /* Add first: should an update fail, removing what was just added restores the old set. */
        for (size_t i = 0; i < n_ids; i++) {
                if (ids_contain(c->ids, c->n_ids, ids[i]))
                        continue;
                r = bpf_map__update_elem(map, &ids[i], sizeof(uint64_t), &one, sizeof(one), BPF_ANY);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                if (!ids_contain(c->ids, c->n_ids, ids[j]))
                                        (void) bpf_map__delete_elem(map, &ids[j], sizeof(uint64_t), 0);
                        return r;
                }
        }

        n_kept = n_ids;
        for (size_t i = 0; i < c->n_ids; i++) {
                int k;

                if (ids_contain(ids, n_kept, c->ids[i]))
                        continue;
                k = bpf_map__delete_elem(map, &c->ids[i], sizeof(uint64_t), 0);
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
        fd = bpf_iter_create(bpf_link__fd(c->skel->links.report_map_counts));
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
