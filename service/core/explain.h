/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a process's memory mappings are: the text of /proc/PID/maps and the stack pointers of its threads
 * in, groups of mappings, a verdict and a sentence of advice out. Pure logic: no I/O, no logging (the
 * reader is explain-read.h).
 *
 * Every mapping the map count counts lands in exactly one group, so the groups add up to the count that
 * proc_count_maps() reports for the same text: the lines, a last line without newline included, minus the
 * gate area's line (maps_line_is_gate(), procfs.h, the one definition both use).
 *
 * Kinds, decided per line by its name field (the 6th; the text after the inode and its padding):
 *   file             a named file that the process does not execute. Source: its name as maps prints it
 *                    (a newline in it is "\012", a deleted file's ends in " (deleted)"). Many files of one
 *                    directory are one group whose source is the directory: a file's group is the deepest
 *                    directory above it (never "/") holding EXPLAIN_DIR_MIN_FILES distinct files of its
 *                    kind that no deeper such directory took, subdirectories counted, so that a store's
 *                    files under DIR/BLOCK/chunks/ add up under DIR; else the file is a group of its own.
 *                    A name that is no path (anon_inode:[perf_event]) is a group of its own.
 *   library          every mapping of a file that has an executable mapping in the process: shared
 *                    objects and the program itself, all their segments; grouped by directory as files.
 *   thread-stack     the stacks of threads other than the main one, and their guards (see below). One
 *                    group; source "N threads" ("1 thread"), N the stacks found.
 *   anonymous        private or shared anonymous memory ("/dev/zero (deleted)", the kernel's name for
 *                    shared anonymous memory, included). One group, source "".
 *   named-anonymous  "[anon:NAME]" and "[anon_shmem:NAME]": one group per NAME, the source.
 *   heap             "[heap]", the source.
 *   stack            "[stack]", the main thread's stack, the source.
 *   kernel           any other bracketed name: "[vdso]", "[vvar]", "[vvar_vclock]", "[uprobes]", and a
 *                    "[vsyscall]" that is not the last line. One group per name, the source.
 *   unknown          a line whose addresses, permissions or fields do not parse: never in what the kernel
 *                    writes, but a cut read or a fixture can hold one, and it still counts. Source "".
 *
 * Thread stacks are told by what the kernel says of each thread, not by their size:
 *   1. A thread stopped in or outside a system call has a stack pointer (/proc/PID/task/TID/syscall).
 *      The mapping that holds it is that thread's stack when it is anonymous memory, writable, private,
 *      holds no other thread's pointer, and either lies directly above its guard (see below; confidence:
 *      high) or, having none (a guard installed with MADV_GUARD_INSTALL, as glibc 2.42 does since Linux
 *      6.13, is no mapping), holds the pointer within its top EXPLAIN_UNGUARDED_STACK_DEPTH bytes, where a
 *      blocked thread's stack in use lies (confidence: medium). Not stacks: the heaps of runtimes that
 *      run threads on stacks carved from them (Go's goroutines, and every Go thread without cgo) hold
 *      pointers anywhere, often several in one mapping; stacks without guard mappings that the kernel
 *      merged into one mapping hold several and cost no mapping each.
 *   2. "[anon: glibc: pthread stack: TID]" (glibc 2.40's glibc.mem.decorate_maps; also "pthread user
 *      stack", also without the leading space) and "[stack:TID]" (kernels before 4.5) are stacks by their
 *      name, pointer or not. Confidence: high.
 *   3. A thread running on a CPU has no stack pointer to read, nor one the reader left unread
 *      (explain-read.h). For each such thread that no named stack accounts for, one anonymous rw-p
 *      mapping directly above an anonymous ---p one, and claimed by no pointer, is taken as its stack:
 *      those of the size most stacks found by 1 have first, then the highest (stacks are mapped
 *      top-down). Confidence: low, a malloc arena above another looks the same; at the size of the
 *      stacks found by pointer, good.
 *   The anonymous ---p mapping directly below a stack (adjacent, unnamed or of the stack's name) is its
 *   guard and belongs to its group. Since Linux 6.13 a guard installed with MADV_GUARD_INSTALL is no
 *   mapping, so a stack may have none: a thread costs one mapping then, not two. Stacks grow down on
 *   every architecture mapguard runs on.
 *
 * The verdict looks at the share of the map count each cause holds:
 *   mapped-files          file mappings >= EXPLAIN_DECIDING_PERCENT of the count
 *   threads               thread-stack mappings >= EXPLAIN_DECIDING_PERCENT
 *   libraries             library mappings >= EXPLAIN_DECIDING_PERCENT
 *   fragmented-anonymous  anonymous + named-anonymous mappings >= EXPLAIN_DECIDING_PERCENT, with the
 *                         fragmentation signature: at least EXPLAIN_ALTERNATING_PERCENT of them in runs of
 *                         alternating rw-p/---p mappings (adjacent, at least EXPLAIN_ALTERNATING_RUN_MIN
 *                         long: reserved address space committed piece by piece, as glibc's arenas,
 *                         jemalloc without overcommit and mimalloc's purges do), or an average size of at
 *                         most EXPLAIN_FRAGMENT_AVERAGE_BYTES (ClickHouse reports ~72 KiB per mapping as its
 *                         allocator's signature). Thread stacks are not part of these runs: they are
 *                         classified first.
 *   mixed                 anything else: no cause holds the deciding share. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define EXPLAIN_DIR_MIN_FILES 8U
#define EXPLAIN_DECIDING_PERCENT 60U
#define EXPLAIN_ALTERNATING_PERCENT 50U
#define EXPLAIN_ALTERNATING_RUN_MIN 4U
#define EXPLAIN_FRAGMENT_AVERAGE_BYTES (UINT64_C(1024) * 1024U)
#define EXPLAIN_UNGUARDED_STACK_DEPTH (UINT64_C(256) * 1024U)
/* A source is at most this many bytes, NUL included: a longer name is cut (before a UTF-8 sequence when
 * the cut would fall inside one). Sources are otherwise as maps prints them: any byte but NUL and
 * newline, so callers escape them before a terminal or a journal sees them. */
#define EXPLAIN_SOURCE_MAX 512U

typedef enum ExplainKind {
        EXPLAIN_KIND_FILE,
        EXPLAIN_KIND_LIBRARY,
        EXPLAIN_KIND_THREAD_STACK,
        EXPLAIN_KIND_ANONYMOUS,
        EXPLAIN_KIND_NAMED_ANONYMOUS,
        EXPLAIN_KIND_HEAP,
        EXPLAIN_KIND_STACK,
        EXPLAIN_KIND_KERNEL,
        EXPLAIN_KIND_UNKNOWN,
        _EXPLAIN_KIND_MAX,
        _EXPLAIN_KIND_INVALID = -EINVAL,
} ExplainKind;

typedef enum ExplainVerdict {
        EXPLAIN_VERDICT_MAPPED_FILES,
        EXPLAIN_VERDICT_THREADS,
        EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS,
        EXPLAIN_VERDICT_LIBRARIES,
        EXPLAIN_VERDICT_MIXED,
        _EXPLAIN_VERDICT_MAX,
        _EXPLAIN_VERDICT_INVALID = -EINVAL,
} ExplainVerdict;

typedef struct ExplainGroup {
        ExplainKind kind;
        char *source;      /* never NULL; see the kinds above */
        uint64_t mappings; /* > 0 */
        uint64_t bytes;    /* their sizes added (saturating) */
        uint64_t files;    /* file and library groups: distinct files; thread-stack: threads; else 0 */
} ExplainGroup;

typedef struct Explain {
        unsigned map_count; /* as proc_count_maps() counts the text: the groups' mappings add up to it */
        ExplainGroup *groups;
        size_t n_groups;
        ExplainVerdict verdict;
        uint64_t kind_mappings[_EXPLAIN_KIND_MAX];
        uint64_t kind_bytes[_EXPLAIN_KIND_MAX];
        unsigned threads;       /* threads given, with or without a stack pointer */
        unsigned thread_stacks; /* stacks found (the thread-stack group's threads) */
        unsigned thread_guards; /* guard mappings below them */
        uint64_t alternating;   /* anonymous mappings in alternating rw-p/---p runs */
} Explain;

/* Returns "file", "library", "thread-stack", "anonymous", "named-anonymous", "heap", "stack", "kernel",
 * "unknown" (the names the D-Bus API and JSON use); NULL if K is invalid. */
const char *explain_kind_to_string(ExplainKind k);
/* Returns the kind named S, _EXPLAIN_KIND_INVALID if S is NULL or no kind's name. */
ExplainKind explain_kind_from_string(const char *s);

/* Returns "mapped-files", "threads", "fragmented-anonymous", "libraries", "mixed"; NULL if V is invalid. */
const char *explain_verdict_to_string(ExplainVerdict v);
/* Returns the verdict named S, _EXPLAIN_VERDICT_INVALID if S is NULL or no verdict's name. */
ExplainVerdict explain_verdict_from_string(const char *s);

/* Classifies the LEN bytes of MAPS (the text of /proc/PID/maps: any bytes, lines of any length, the last
 * one possibly without newline; it need not be NUL-terminated) with the stack pointers of the process's
 * threads, STACK_POINTERS[0..N_THREADS) (0: a thread running on a CPU, pointer unknown; N_THREADS may be
 * 0). Returns 0 and a new Explain in *RET, groups sorted by mappings, then bytes (both descending), then
 * kind name and source (ascending); -ENODATA when MAPS holds no line (no mm: a kernel thread or a
 * zombie), -EOVERFLOW beyond UINT32_MAX lines, -ENOMEM. *RET untouched on failure. */
int explain_maps(const char *maps, size_t len, const uint64_t *stack_pointers, size_t n_threads,
                 Explain **ret);

/* Frees E (NULL is fine); returns NULL. */
Explain *explain_free(Explain *e);
static inline void explain_freep(Explain **e) {
        explain_free(*e);
}

/* Returns the group that stands for E's verdict: the largest file group for mapped-files, the
 * thread-stack group for threads, the largest library group for libraries, the largest anonymous or
 * named-anonymous group for fragmented-anonymous, the largest group of all for mixed; NULL when E has no
 * group (a maps text holding only the gate line). Its source is what a journal's MAPGUARD_TOP_SOURCE
 * carries. */
const ExplainGroup *explain_top_group(const Explain *e);
