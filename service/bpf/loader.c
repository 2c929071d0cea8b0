/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mapguard-bpf-loader FD: opens, verifies, loads and attaches mapguardd's BPF task iterator, sends the
 * iterator link and the cgroup map back over the socket FD (loader.h), and exits. mapguardd runs it
 * (bpf_counter_new()); it is not meant to be run by hand.
 *
 * A process of its own because loading is the expensive part: libbpf parses the kernel's BTF
 * (several MiB) for the CO-RE relocations and keeps the heap it grew, and libbpf brings libelf and
 * libz. In a short-lived process none of that stays in the long-running daemon, which then needs
 * nothing of libbpf: it drives the iterator and the map with bpf(2) on the fds it received. */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "loader.h"
#include "mapcount.skel.h"
#include "util.h"

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

/* include/linux/proc_ns.h: the inode number of the initial pid namespace, fixed at build time. */
#define PROC_PID_INIT_INO 0xEFFFFFFCU
#define PID_NS_PATH "/proc/self/ns/pid"

/* The reason sent to the daemon on failure; the reply has room for it. */
static char reason[sizeof(((BpfLoaderReply *) NULL)->reason)];

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
static int load(struct mapcount_bpf **ret) {
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

/* What the daemon gets: the reply and, on success, the two fds. The loader's own copies close when it
 * exits; the daemon's keep the link, the program and the map alive. */
static int send_reply(int sock, struct mapcount_bpf *skel, int r) {
        BpfLoaderReply reply = { .r = r };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (r < 0)
                strcpy_printable(reply.reason, sizeof(reply.reason), reason);
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
        int sock, r;

        sock = argc == 2 ? parse_socket_fd(argv[1]) : -EINVAL;
        if (sock < 0) {
                fprintf(stderr,
                        "%s: mapguardd runs this program with the fd of a socket to answer on; "
                        "it is not meant to be run by hand.\n",
                        program_invocation_short_name);
                return EXIT_FAILURE;
        }

        r = load(&skel);
        r = send_reply(sock, skel, r);
        /* The daemon's copies of the fds keep the program attached. */
        mapcount_bpf__destroy(skel);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
