/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Catches the mapping calls that fail at vm.max_map_count: a call of a process in a watched cgroup
 * that returned ENOMEM (EAGAIN for madvise and process_madvise; brk reports failure by returning the
 * old break) while mm->map_count was within hit_config.margin of hit_config.max_map_count or above it.
 * Everything else is dropped here, in the kernel: only hits cross into userspace, one record each
 * through the ring buffer. The classification is done again in userspace (limit-hit.c), which owns the
 * rules; this program is the cheap filter in front of it.
 *
 * Three ways in, one chosen by the loader (loader.c), best first:
 * - fexit programs on the syscalls' entry points (__x64_sys_mmap, ...): they cost only on those calls,
 *   where the kernel has BPF trampolines;
 * - one tracepoint program on the exit tracepoints of the mapping calls (syscalls:sys_exit_mmap, ...),
 *   attached through perf events: every task takes the slow syscall path while one is attached, but a
 *   call that maps nothing only pays the kernel's bitmap test of its number;
 * - one raw tracepoint program on sys_exit (the tracepoint under every syscalls:sys_exit_*), which runs
 *   on the exit of every syscall of every task and looks the call up in syscall_kinds[]. It needs
 *   neither tracefs nor perf_event_open(), which a sandboxed service may lack.
 * The daemon attaches and detaches them at run time ("arming"); hit_config.armed says which copy of the
 * programs may record (see MAPGUARD_HIT_COPIES), so that a detached program whose links the kernel is
 * still releasing records nothing. */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hits.h"
#include "watched.bpf.h"

/* Not in vmlinux.h: include/uapi/asm-generic/errno-base.h. */
#define EAGAIN 11
#define ENOMEM 12

/* GPL for bpf_probe_read_kernel() and bpf_get_current_task() (GPL-only helpers). */
char LICENSE[] SEC("license") = "GPL";

/* As in mapcount.bpf.c: the pid namespace whose pids to report, 0 for the initial one. */
const volatile __u32 target_pidns_inum = 0;

/* For the tracepoints: the kind (enum mapguard_hit_syscall) of each syscall number of the running
 * architecture, 0 for the calls that map nothing. The loader fills it from <sys/syscall.h>, so that
 * this object carries no architecture's numbers. */
const volatile __u8 syscall_kinds[MAPGUARD_HIT_NR_MAX] = {};

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, MAPGUARD_HIT_RINGBUF_SIZE);
} hits SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct mapguard_hit_config);
} hit_config SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct mapguard_hit_stats);
} hit_stats SEC(".maps");

/* Whether a call of KIND that returned RET may have failed at the limit: the test before the first
 * argument is read (a probe read), which only brk needs. */
static __always_inline bool may_have_failed(__u32 kind, long ret) {
        return kind == MAPGUARD_HIT_SYSCALL_BRK || ret == -ENOMEM ||
                (ret == -EAGAIN &&
                 (kind == MAPGUARD_HIT_SYSCALL_MADVISE || kind == MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE));
}

/* COPY: which copy of the programs this is (hit_config.armed's bit). */
static __always_inline int catch_call(__u32 kind, long ret, __u64 arg, __u32 copy) {
        const struct mapguard_hit_config *cfg;
        struct mapguard_hit_record *rec;
        struct mapguard_hit_stats *stats;
        struct task_struct *task;
        __u32 key = 0, map_count;
        struct cgroup *cgrp;
        __u64 cgroup_id;
        __s32 error;

        if (kind == MAPGUARD_HIT_SYSCALL_BRK) {
                /* brk(0) asks for the break; any other value that is not what came back failed. */
                if (arg == 0 || (__u64) ret == arg)
                        return 0;
                error = ENOMEM; /* what glibc's brk() sets when the break did not move */
        } else if (ret == -ENOMEM)
                error = ENOMEM;
        else if (ret == -EAGAIN &&
                 (kind == MAPGUARD_HIT_SYSCALL_MADVISE || kind == MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE))
                error = EAGAIN;
        else
                return 0;

        cfg = bpf_map_lookup_elem(&hit_config, &key);
        if (!cfg || cfg->max_map_count == 0 || !(cfg->armed & (1U << copy)))
                return 0;

        task = (struct task_struct *) bpf_get_current_task();
        map_count = BPF_CORE_READ(task, mm, map_count);
        if ((__u64) map_count + cfg->margin < cfg->max_map_count)
                return 0; /* a real shortage of memory, not the limit */

        cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
        cgroup_id = nearest_watched_cgroup(cgrp);
        if (cgroup_id == 0)
                return 0;

        stats = bpf_map_lookup_elem(&hit_stats, &key);
        rec = bpf_ringbuf_reserve(&hits, sizeof(*rec), 0);
        if (!rec) {
                if (stats)
                        __sync_fetch_and_add(&stats->dropped, 1);
                return 0;
        }
        if (stats)
                __sync_fetch_and_add(&stats->caught, 1);

        if (target_pidns_inum == 0) {
                __u64 pid_tgid = bpf_get_current_pid_tgid();

                rec->pid = (__u32) (pid_tgid >> 32);
                rec->tid = (__u32) pid_tgid;
        } else {
                rec->pid = pid_nr_in_ns(BPF_CORE_READ(task, group_leader, thread_pid), target_pidns_inum);
                rec->tid = pid_nr_in_ns(BPF_CORE_READ(task, thread_pid), target_pidns_inum);
        }
        rec->syscall = kind;
        rec->error = error;
        rec->map_count = map_count;
        rec->max_map_count = cfg->max_map_count;
        rec->cgroup_id = cgroup_id;
        rec->leaf_cgroup_id = BPF_CORE_READ(cgrp, kn, id);
        rec->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
        rec->time_ns = bpf_ktime_get_ns();
        rec->ret = ret;
        rec->arg = arg;
        bpf_get_current_comm(rec->comm, sizeof(rec->comm));
        bpf_ringbuf_submit(rec, 0);
        return 0;
}

/* The syscall number at syscall exit: arch/x86's orig_ax, arm64's syscallno (what syscall_get_nr()
 * reads). */
static __always_inline long syscall_nr(struct pt_regs *regs) {
#if defined(__TARGET_ARCH_x86)
        return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
        return BPF_CORE_READ(regs, syscallno);
#else
#error "hits.bpf.c: no syscall number for this architecture"
#endif
}

/* Whether the current task is in a 32-bit system call (x86's ia32 emulation: int 0x80, a 32-bit
 * process), whose number is one of the 32-bit table (arch/x86/entry/syscalls/syscall_32.tbl), not of
 * syscall_kinds[]: 150 is mlock there, munlock here. The kernel's syscalls:* events leave such calls
 * out (trace_get_syscall_nr()); the raw sys_exit program does the same, so that no call is ever named
 * after the wrong table. On arm64 (whose 32-bit tasks carry TIF_32BIT) they are not told apart: their
 * numbers are looked up as native ones. */
static __always_inline bool in_compat_syscall(void) {
#if defined(__TARGET_ARCH_x86)
        struct task_struct *task = (struct task_struct *) bpf_get_current_task();

        /* arch/x86/include/asm/thread_info.h: TS_COMPAT, "32 bit syscall active". */
        return BPF_CORE_READ(task, thread_info.status) & 0x0002;
#else
        return false;
#endif
}

/* The tracepoint sys_exit(struct pt_regs *regs, long ret): every syscall exit of every task. Two
 * flavours of the same program: with BTF types (tp_btf, Linux 5.5+; the registers are read with plain
 * loads, no helper call, which matters on a path every syscall takes), and untyped (raw_tp, probe
 * reads) for kernels that refuse the first. The compat test comes last: it costs a probe read, which
 * only failed mapping calls pay. */
SEC("tp_btf/sys_exit")
int BPF_PROG(catch_sys_exit_btf, struct pt_regs *regs, long ret) {
        long nr;
        __u32 kind;

#if defined(__TARGET_ARCH_x86)
        nr = regs->orig_ax;
#else
        nr = regs->syscallno;
#endif
        if (nr < 0 || nr >= MAPGUARD_HIT_NR_MAX)
                return 0;
        kind = syscall_kinds[nr];
        if (kind == 0 || !may_have_failed(kind, ret) || in_compat_syscall())
                return 0;
        return catch_call(kind, ret, PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
}

SEC("raw_tp/sys_exit")
int catch_sys_exit(struct bpf_raw_tracepoint_args *ctx) {
        struct pt_regs *regs = (struct pt_regs *) ctx->args[0];
        long nr = syscall_nr(regs);
        __u32 kind;

        if (nr < 0 || nr >= MAPGUARD_HIT_NR_MAX)
                return 0;
        kind = syscall_kinds[nr];
        if (kind == 0 || !may_have_failed(kind, (long) ctx->args[1]) || in_compat_syscall())
                return 0;
        return catch_call(kind, (long) ctx->args[1], PT_REGS_PARM1_CORE_SYSCALL(regs), 0);
}

/* What a program on a syscalls:sys_exit_* event gets (kernel/trace/trace_syscalls.c,
 * perf_call_bpf_exit(), and the event's format file): the common header, whose first 8 bytes the
 * kernel overwrites with a pointer to registers of its own (not the caller's), then the syscall number
 * and the return value. */
struct syscall_exit_args {
        __u64 header;
        __s32 nr;
        __s64 ret;
};

/* The event names the syscall, so the number is a native one: the kernel does not report 32-bit calls
 * on these events. The first argument (brk's) comes from the task's own saved registers. */
static __always_inline int catch_syscall_exit(struct syscall_exit_args *ctx, __u32 copy) {
        struct pt_regs *regs;
        long nr = ctx->nr;
        __u32 kind;

        if (nr < 0 || nr >= MAPGUARD_HIT_NR_MAX)
                return 0;
        kind = syscall_kinds[nr];
        if (kind == 0 || !may_have_failed(kind, ctx->ret))
                return 0;
        regs = (struct pt_regs *) bpf_task_pt_regs(bpf_get_current_task_btf());
        return catch_call(kind, ctx->ret, PT_REGS_PARM1_CORE_SYSCALL(regs), copy);
}

/* MAPGUARD_HIT_COPIES copies of one program, attached one at a time (hits.h says why). */
#define TRACEPOINT_COPY(n) \
        SEC("tracepoint") \
        int catch_syscall_exit_##n(struct syscall_exit_args *ctx) { \
                return catch_syscall_exit(ctx, n); \
        }

TRACEPOINT_COPY(0)
TRACEPOINT_COPY(1)
_Static_assert(MAPGUARD_HIT_COPIES == 2, "one TRACEPOINT_COPY() per copy");

/* fexit on the syscall's entry point, __<arch>_sys_NAME(const struct pt_regs *regs): the loader sets
 * the attach target (the prefix is the architecture's) and leaves out those the kernel lacks. 32-bit
 * calls enter through other entry points (__ia32_sys_NAME) and are not seen. */
#define FEXIT(name, kind) \
        SEC("fexit") \
        int BPF_PROG(fexit_##name, const struct pt_regs *regs, long ret) { \
                if (!may_have_failed(kind, ret)) \
                        return 0; \
                return catch_call(kind, ret, PT_REGS_PARM1_CORE_SYSCALL(regs), 0); \
        }

FEXIT(mmap, MAPGUARD_HIT_SYSCALL_MMAP)
FEXIT(munmap, MAPGUARD_HIT_SYSCALL_MUNMAP)
FEXIT(mprotect, MAPGUARD_HIT_SYSCALL_MPROTECT)
FEXIT(pkey_mprotect, MAPGUARD_HIT_SYSCALL_PKEY_MPROTECT)
FEXIT(mremap, MAPGUARD_HIT_SYSCALL_MREMAP)
FEXIT(brk, MAPGUARD_HIT_SYSCALL_BRK)
FEXIT(madvise, MAPGUARD_HIT_SYSCALL_MADVISE)
FEXIT(process_madvise, MAPGUARD_HIT_SYSCALL_PROCESS_MADVISE)
FEXIT(mlock, MAPGUARD_HIT_SYSCALL_MLOCK)
FEXIT(mlock2, MAPGUARD_HIT_SYSCALL_MLOCK2)
FEXIT(munlock, MAPGUARD_HIT_SYSCALL_MUNLOCK)
FEXIT(mseal, MAPGUARD_HIT_SYSCALL_MSEAL)
FEXIT(mbind, MAPGUARD_HIT_SYSCALL_MBIND)
FEXIT(shmat, MAPGUARD_HIT_SYSCALL_SHMAT)
FEXIT(remap_file_pages, MAPGUARD_HIT_SYSCALL_REMAP_FILE_PAGES)
