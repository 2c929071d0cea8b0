/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain-stacks.h"
#include "explain.h"
#include "key-table.h"
#include "maps-line.h"
#include "procfs.h"
#include "util.h"

static const char *const kind_table[_EXPLAIN_KIND_MAX] = {
        [EXPLAIN_KIND_FILE] = "file",
        [EXPLAIN_KIND_LIBRARY] = "library",
        [EXPLAIN_KIND_THREAD_STACK] = "thread-stack",
        [EXPLAIN_KIND_ANONYMOUS] = "anonymous",
        [EXPLAIN_KIND_NAMED_ANONYMOUS] = "named-anonymous",
        [EXPLAIN_KIND_HEAP] = "heap",
        [EXPLAIN_KIND_STACK] = "stack",
        [EXPLAIN_KIND_KERNEL] = "kernel",
        [EXPLAIN_KIND_UNKNOWN] = "unknown",
};

static const char *const verdict_table[_EXPLAIN_VERDICT_MAX] = {
        [EXPLAIN_VERDICT_MAPPED_FILES] = "mapped-files",
        [EXPLAIN_VERDICT_THREADS] = "threads",
        [EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS] = "fragmented-anonymous",
        [EXPLAIN_VERDICT_LIBRARIES] = "libraries",
        [EXPLAIN_VERDICT_MIXED] = "mixed",
};

const char *explain_kind_to_string(ExplainKind k) {
        if (k < 0 || k >= _EXPLAIN_KIND_MAX)
                return NULL;
        return kind_table[k];
}

ExplainKind explain_kind_from_string(const char *s) {
        if (!s)
                return _EXPLAIN_KIND_INVALID;
        for (ExplainKind k = 0; k < _EXPLAIN_KIND_MAX; k++)
                if (streq(kind_table[k], s))
                        return k;
        return _EXPLAIN_KIND_INVALID;
}

const char *explain_verdict_to_string(ExplainVerdict v) {
        if (v < 0 || v >= _EXPLAIN_VERDICT_MAX)
                return NULL;
        return verdict_table[v];
}

ExplainVerdict explain_verdict_from_string(const char *s) {
        if (!s)
                return _EXPLAIN_VERDICT_INVALID;
        for (ExplainVerdict v = 0; v < _EXPLAIN_VERDICT_MAX; v++)
                if (streq(verdict_table[v], s))
                        return v;
        return _EXPLAIN_VERDICT_INVALID;
}

/* A mapped file (or library): its mappings added up, whether one of them is executable, and the
 * directory it is in (an id in Classifier.dirs, UINT32_MAX for none: "/", or no path). */
typedef struct FileAcc {
        uint64_t mappings, bytes;
        uint32_t dir;
        bool exec;
} FileAcc;

/* A directory above mapped files (by kind): the distinct files below it, those of them not claimed by a
 * deeper directory that is a group, and its parent ("/" is never one: UINT32_MAX). */
typedef struct DirAcc {
        uint32_t files, unclaimed;
        uint32_t parent;
        uint32_t depth;
        bool group;
} DirAcc;

typedef struct GroupAcc {
        uint64_t mappings, bytes, files;
} GroupAcc;

typedef struct Classifier {
        ExplainMapping *maps;
        size_t n_maps;
        bool sorted; /* starts ascend, as the kernel writes them: stack pointers can be looked up */
        KeyTable files;
        FileAcc *file_accs;
        KeyTable dirs; /* directory prefixes of mapped files, tagged with the kind */
        DirAcc *dir_accs;
        KeyTable groups; /* (kind, source key) */
        GroupAcc *group_accs;
        size_t group_accs_allocated;
        uint32_t last_group; /* the group added to last (UINT32_MAX: none): runs of lines share one */
        unsigned thread_stacks, thread_guards;
        uint64_t alternating;
} Classifier;

static void classifier_done(Classifier *c) {
        free(c->maps);
        key_table_done(&c->files);
        free(c->file_accs);
        key_table_done(&c->dirs);
        free(c->dir_accs);
        key_table_done(&c->groups);
        free(c->group_accs);
}

static uint64_t add_saturating(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- one line ---- */

static bool has_prefix(const char *p, size_t len, const char *prefix) {
        size_t l = strlen(prefix);
        return len >= l && memcmp(p, prefix, l) == 0;
}

static bool is_name(const char *p, size_t len, const char *name) {
        return len == strlen(name) && memcmp(p, name, len) == 0;
}

/* The NAME of "[anon:NAME]" or "[anon_shmem:NAME]" (the closing bracket dropped when present). */
static bool anon_name(const char *p, size_t len, const char **ret, size_t *ret_len) {
        size_t skip;

        if (has_prefix(p, len, "[anon:"))
                skip = strlen("[anon:");
        else if (has_prefix(p, len, "[anon_shmem:"))
                skip = strlen("[anon_shmem:");
        else
                return false;
        *ret = p + skip;
        *ret_len = len - skip - (p[len - 1] == ']' && len > skip ? 1 : 0);
        return true;
}

/* glibc 2.40's names for thread stacks (glibc.mem.decorate_maps), with or without its leading space. */
static bool is_glibc_stack_name(const char *p, size_t len) {
        while (len > 0 && *p == ' ')
                p++, len--;
        return has_prefix(p, len, "glibc: pthread stack:") ||
                has_prefix(p, len, "glibc: pthread user stack:");
}

static ExplainKind kind_of_name(const char *name, size_t len, bool *ret_named_stack) {
        const char *anon;
        size_t anon_len;

        *ret_named_stack = false;
        if (len == 0)
                return EXPLAIN_KIND_ANONYMOUS;
        if (name[0] != '[')
                /* Shared anonymous memory is a shmem file the kernel names "/dev/zero (deleted)". */
                return is_name(name, len, "/dev/zero (deleted)") ? EXPLAIN_KIND_ANONYMOUS
                                                                 : EXPLAIN_KIND_FILE;
        if (is_name(name, len, "[heap]"))
                return EXPLAIN_KIND_HEAP;
        if (is_name(name, len, "[stack]"))
                return EXPLAIN_KIND_STACK;
        if (has_prefix(name, len, "[stack:")) {
                *ret_named_stack = true;
                return EXPLAIN_KIND_THREAD_STACK;
        }
        if (anon_name(name, len, &anon, &anon_len)) {
                *ret_named_stack = is_glibc_stack_name(anon, anon_len);
                return *ret_named_stack ? EXPLAIN_KIND_THREAD_STACK : EXPLAIN_KIND_NAMED_ANONYMOUS;
        }
        return EXPLAIN_KIND_KERNEL;
}

/* Fills M from one line, or makes it EXPLAIN_KIND_UNKNOWN when the line does not parse. */
static void parse_line(const char *line, size_t len, ExplainMapping *m) {
        MapsLine l;

        if (!maps_line_parse(line, len, &l)) {
                *m = (ExplainMapping){ .kind = EXPLAIN_KIND_UNKNOWN };
                return;
        }
        *m = (ExplainMapping){
                .start = l.start,
                .end = l.end,
                .name = l.name,
                .name_len = l.name_len < UINT32_MAX ? (uint32_t) l.name_len : UINT32_MAX,
                .perms = l.perms,
        };
        m->kind = kind_of_name(m->name, m->name_len, &m->named_stack);
}

/* ---- the passes ---- */

/* Splits the text into lines exactly as the map count does (procfs.c): every newline ends one, a last
 * line without it counts too, and the last line is left out when it is the gate area's. MAX_LINES is
 * that count plus the gate. */
static int classifier_parse(Classifier *c, const char *text, size_t len, size_t max_lines) {
        const char *p = text, *end = text + len;
        uint64_t prev_start = 0, prev_end = 0;

        c->maps = calloc(max_lines > 0 ? max_lines : 1, sizeof(ExplainMapping));
        if (!c->maps)
                return -ENOMEM;
        c->sorted = true;
        while (p < end && c->n_maps < max_lines) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *line_end = nl ? nl : end;
                ExplainMapping *m = &c->maps[c->n_maps];

                if ((!nl || nl + 1 == end) && maps_line_is_gate(p, (size_t) (line_end - p)))
                        break;
                parse_line(p, (size_t) (line_end - p), m);
                if (m->kind == EXPLAIN_KIND_UNKNOWN)
                        /* An empty range where the last one ended: lookups by address pass over it. */
                        m->start = m->end = prev_end;
                if (m->start < prev_start)
                        c->sorted = false;
                prev_start = m->start;
                prev_end = m->end;
                c->n_maps++;
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* Files by name: their mappings added up; a file with an executable mapping makes all of its mappings
 * library ones. */
static int classifier_files(Classifier *c) {
        const ExplainMapping *prev = NULL;
        size_t allocated = 0;

        for (size_t i = 0; i < c->n_maps; i++) {
                ExplainMapping *m = &c->maps[i];
                uint32_t id;
                int r;

                if (m->kind != EXPLAIN_KIND_FILE)
                        continue;
                /* A file's segments follow each other: the same name as the last file line is its id. */
                if (prev && prev->name_len == m->name_len && memcmp(prev->name, m->name, m->name_len) == 0)
                        id = prev->file;
                else {
                        r = key_table_put(&c->files, m->name, m->name_len, 0, &id);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                if (ARRAY_RESERVE(c->file_accs, allocated, id, 256) < 0)
                                        return -ENOMEM;
                                c->file_accs[id] = (FileAcc){ .dir = UINT32_MAX };
                        }
                }
                m->file = id;
                c->file_accs[id].mappings++;
                c->file_accs[id].bytes = add_saturating(c->file_accs[id].bytes, explain_mapping_size(m));
                if (m->perms & MAPS_PERM_EXEC)
                        c->file_accs[id].exec = true;
                prev = m;
        }
        for (size_t i = 0; i < c->n_maps; i++)
                if (c->maps[i].kind == EXPLAIN_KIND_FILE && c->file_accs[c->maps[i].file].exec)
                        c->maps[i].kind = EXPLAIN_KIND_LIBRARY;
        return 0;
}

/* 1 for anonymous rw-p, 0 for anonymous ---p, -1 for anything else. */
static int alternation_class(const ExplainMapping *m) {
        if (m->kind != EXPLAIN_KIND_ANONYMOUS && m->kind != EXPLAIN_KIND_NAMED_ANONYMOUS)
                return -1;
        if (explain_mapping_is_rw_private(m))
                return 1;
        return explain_mapping_is_none_private(m) ? 0 : -1;
}

/* Counts the anonymous mappings in runs of adjacent, alternating rw-p/---p mappings. */
static void classifier_alternation(Classifier *c) {
        size_t run = 0;
        int prev = -1;

        for (size_t i = 0; i <= c->n_maps; i++) {
                int cls = i < c->n_maps ? alternation_class(&c->maps[i]) : -1;

                if (cls >= 0 && prev >= 0 && cls != prev && c->maps[i - 1].end == c->maps[i].start) {
                        run++;
                } else {
                        if (run >= EXPLAIN_ALTERNATING_RUN_MIN)
                                c->alternating += run;
                        run = cls >= 0 ? 1 : 0;
                }
                prev = cls;
        }
}

/* ---- groups ---- */

static int classifier_group_add(Classifier *c, ExplainKind kind, const char *key, size_t len,
                                uint64_t mappings, uint64_t bytes, uint64_t files) {
        const Key *last = c->last_group != UINT32_MAX ? &c->groups.keys[c->last_group] : NULL;
        GroupAcc *acc;
        uint32_t id;
        int r;

        if (last && last->tag == (uint8_t) kind && last->len == len && memcmp(last->data, key, len) == 0)
                id = c->last_group;
        else {
                r = key_table_put(&c->groups, key, len, (uint8_t) kind, &id);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (ARRAY_RESERVE(c->group_accs, c->group_accs_allocated, id, 64) < 0)
                                return -ENOMEM;
                        c->group_accs[id] = (GroupAcc){};
                }
                c->last_group = id;
        }
        acc = &c->group_accs[id];
        acc->mappings += mappings;
        acc->bytes = add_saturating(acc->bytes, bytes);
        acc->files += files;
        return 0;
}

static ExplainKind file_kind(const Classifier *c, uint32_t id) {
        return c->file_accs[id].exec ? EXPLAIN_KIND_LIBRARY : EXPLAIN_KIND_FILE;
}

/* Adds file ID to the directories above it (never "/"), by kind, from the top one down. Returns the id of
 * the directory it is in, UINT32_MAX for none. */
static int classifier_add_file_dirs(Classifier *c, uint32_t id, size_t *allocated, uint32_t *ret_dir) {
        const Key *k = &c->files.keys[id];
        uint8_t kind = (uint8_t) file_kind(c, id);
        uint32_t parent = UINT32_MAX, depth = 0;

        for (const char *p = k->data + 1, *end = k->data + k->len; (p = memchr(p, '/', (size_t) (end - p)));
             p++) {
                uint32_t dir;
                int r = key_table_put(&c->dirs, k->data, (size_t) (p - k->data), kind, &dir);

                if (r < 0)
                        return r;
                if (r > 0) {
                        if (ARRAY_RESERVE(c->dir_accs, *allocated, dir, 64) < 0)
                                return -ENOMEM;
                        c->dir_accs[dir] = (DirAcc){ .parent = parent, .depth = ++depth };
                } else
                        depth = c->dir_accs[dir].depth;
                c->dir_accs[dir].files++;
                c->dir_accs[dir].unclaimed++;
                parent = dir;
        }
        *ret_dir = parent;
        return 0;
}

/* Counts, for every directory above a mapped file (never "/"), the distinct files below it, by kind, and
 * notes each file's directory. A file in the same directory as the one before (a store's files follow
 * each other) adds itself to that directory's chain without looking each one up again. */
static int classifier_count_dirs(Classifier *c) {
        const Key *prev = NULL;
        size_t allocated = 0;

        for (uint32_t id = 0; id < c->files.n_keys; id++) {
                const Key *k = &c->files.keys[id];
                uint32_t prev_dir = prev ? c->file_accs[prev - c->files.keys].dir : UINT32_MAX;
                const char *slash;
                int r;

                if (k->len == 0 || k->data[0] != '/')
                        continue;
                slash = memrchr(k->data, '/', k->len);
                if (prev_dir != UINT32_MAX &&
                    file_kind(c, (uint32_t) (prev - c->files.keys)) == file_kind(c, id) &&
                    c->dirs.keys[prev_dir].len == (size_t) (slash - k->data) &&
                    memcmp(prev->data, k->data, (size_t) (slash - k->data)) == 0) {
                        for (uint32_t d = prev_dir; d != UINT32_MAX; d = c->dir_accs[d].parent) {
                                c->dir_accs[d].files++;
                                c->dir_accs[d].unclaimed++;
                        }
                        c->file_accs[id].dir = prev_dir;
                } else {
                        r = classifier_add_file_dirs(c, id, &allocated, &c->file_accs[id].dir);
                        if (r < 0)
                                return r;
                }
                prev = k;
        }
        return 0;
}

static int cmp_dir_depth(const void *a, const void *b, void *userdata) {
        const DirAcc *dirs = userdata;
        uint32_t x = dirs[*(const uint32_t *) a].depth, y = dirs[*(const uint32_t *) b].depth;

        return x > y ? -1 : x < y;
}

/* Which directories are groups: the deepest first, each with EXPLAIN_DIR_MIN_FILES files that no deeper
 * group took. Files a group takes are no longer its ancestors' to count, so a directory holding one
 * file beside a subdirectory that is a group does not swallow that file. */
static int classifier_dir_groups(Classifier *c) {
        _cleanup_free_ uint32_t *order = NULL;
        size_t n = c->dirs.n_keys;

        order = malloc(sizeof(uint32_t) * (n > 0 ? n : 1));
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t) i;
        qsort_r(order, n, sizeof(uint32_t), cmp_dir_depth, c->dir_accs);
        for (size_t i = 0; i < n; i++) {
                DirAcc *d = &c->dir_accs[order[i]];

                if (d->unclaimed < EXPLAIN_DIR_MIN_FILES)
                        continue;
                d->group = true;
                for (uint32_t p = d->parent; p != UINT32_MAX; p = c->dir_accs[p].parent)
                        c->dir_accs[p].unclaimed -= d->unclaimed;
        }
        return 0;
}

/* The length of the name prefix that is file ID's group: the deepest directory above it that is a
 * group, or the whole name. */
static size_t classifier_file_group_len(const Classifier *c, uint32_t id) {
        for (uint32_t d = c->file_accs[id].dir; d != UINT32_MAX; d = c->dir_accs[d].parent)
                if (c->dir_accs[d].group)
                        return c->dirs.keys[d].len;
        return c->files.keys[id].len;
}

/* The key a mapping that is not a file's is grouped by. */
static void mapping_group_key(const ExplainMapping *m, const char **ret, size_t *ret_len) {
        switch (m->kind) {
        case EXPLAIN_KIND_NAMED_ANONYMOUS:
                if (anon_name(m->name, m->name_len, ret, ret_len))
                        return;
                break;
        case EXPLAIN_KIND_HEAP:
        case EXPLAIN_KIND_STACK:
        case EXPLAIN_KIND_KERNEL:
                *ret = m->name;
                *ret_len = m->name_len;
                return;
        default:
                break;
        }
        *ret = "";
        *ret_len = 0;
}

static int classifier_groups(Classifier *c) {
        int r;

        r = classifier_count_dirs(c);
        if (r < 0)
                return r;
        r = classifier_dir_groups(c);
        if (r < 0)
                return r;
        for (uint32_t id = 0; id < c->files.n_keys; id++) {
                r = classifier_group_add(c, file_kind(c, id), c->files.keys[id].data,
                                         classifier_file_group_len(c, id), c->file_accs[id].mappings,
                                         c->file_accs[id].bytes, 1);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_maps; i++) {
                const ExplainMapping *m = &c->maps[i];
                const char *key;
                size_t len;

                if (m->kind == EXPLAIN_KIND_FILE || m->kind == EXPLAIN_KIND_LIBRARY)
                        continue;
                mapping_group_key(m, &key, &len);
                r = classifier_group_add(c, m->kind, key, len, 1, explain_mapping_size(m), 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the result ---- */

/* A source: the LEN bytes of P, cut to fit EXPLAIN_SOURCE_MAX, not inside a UTF-8 sequence. */
static char *source_dup(const char *p, size_t len) {
        if (len > EXPLAIN_SOURCE_MAX - 1) {
                len = EXPLAIN_SOURCE_MAX - 1;
                for (unsigned i = 0; i < 3 && len > 0 && ((unsigned char) p[len] & 0xC0) == 0x80; i++)
                        len--;
        }
        return strndup(p, len);
}

static int group_compare(const void *a, const void *b) {
        const ExplainGroup *x = a, *y = b;
        int r;

        if (x->mappings != y->mappings)
                return x->mappings > y->mappings ? -1 : 1;
        if (x->bytes != y->bytes)
                return x->bytes > y->bytes ? -1 : 1;
        r = strcmp(explain_kind_to_string(x->kind), explain_kind_to_string(y->kind));
        if (r != 0)
                return r;
        return strcmp(x->source, y->source);
}

static int explain_build_groups(Explain *e, const Classifier *c) {
        size_t n = c->groups.n_keys;

        e->groups = calloc(n > 0 ? n : 1, sizeof(ExplainGroup));
        if (!e->groups)
                return -ENOMEM;
        for (size_t id = 0; id < n; id++) {
                const Key *k = &c->groups.keys[id];
                ExplainGroup *g = &e->groups[e->n_groups];

                *g = (ExplainGroup){
                        .kind = (ExplainKind) k->tag,
                        .mappings = c->group_accs[id].mappings,
                        .bytes = c->group_accs[id].bytes,
                        .files = c->group_accs[id].files,
                };
                if (g->kind == EXPLAIN_KIND_THREAD_STACK) {
                        g->files = c->thread_stacks;
                        if (asprintf(&g->source, "%u thread%s", c->thread_stacks,
                                     c->thread_stacks == 1 ? "" : "s") < 0)
                                g->source = NULL;
                } else
                        g->source = source_dup(k->data, k->len);
                if (!g->source)
                        return -ENOMEM;
                e->n_groups++;
        }
        qsort(e->groups, e->n_groups, sizeof(ExplainGroup), group_compare);
        return 0;
}

/* PART holds at least EXPLAIN_DECIDING_PERCENT of WHOLE. */
static bool decides(uint64_t part, uint64_t whole) {
        return whole > 0 && part * 100 >= (uint64_t) EXPLAIN_DECIDING_PERCENT * whole;
}

static ExplainVerdict explain_decide(const Explain *e) {
        const uint64_t *km = e->kind_mappings;
        uint64_t anon = km[EXPLAIN_KIND_ANONYMOUS] + km[EXPLAIN_KIND_NAMED_ANONYMOUS];
        uint64_t anon_bytes = add_saturating(e->kind_bytes[EXPLAIN_KIND_ANONYMOUS],
                                             e->kind_bytes[EXPLAIN_KIND_NAMED_ANONYMOUS]);

        if (decides(km[EXPLAIN_KIND_FILE], e->map_count))
                return EXPLAIN_VERDICT_MAPPED_FILES;
        if (decides(km[EXPLAIN_KIND_THREAD_STACK], e->map_count))
                return EXPLAIN_VERDICT_THREADS;
        if (decides(km[EXPLAIN_KIND_LIBRARY], e->map_count))
                return EXPLAIN_VERDICT_LIBRARIES;
        if (decides(anon, e->map_count) &&
            (e->alternating * 100 >= (uint64_t) EXPLAIN_ALTERNATING_PERCENT * anon ||
             anon_bytes / anon <= EXPLAIN_FRAGMENT_AVERAGE_BYTES))
                return EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS;
        return EXPLAIN_VERDICT_MIXED;
}

const ExplainGroup *explain_top_group(const Explain *e) {
        for (size_t i = 0; i < e->n_groups; i++) {
                ExplainKind k = e->groups[i].kind;

                switch (e->verdict) {
                case EXPLAIN_VERDICT_MAPPED_FILES:
                        if (k == EXPLAIN_KIND_FILE)
                                return &e->groups[i];
                        break;
                case EXPLAIN_VERDICT_THREADS:
                        if (k == EXPLAIN_KIND_THREAD_STACK)
                                return &e->groups[i];
                        break;
                case EXPLAIN_VERDICT_LIBRARIES:
                        if (k == EXPLAIN_KIND_LIBRARY)
                                return &e->groups[i];
                        break;
                case EXPLAIN_VERDICT_FRAGMENTED_ANONYMOUS:
                        if (k == EXPLAIN_KIND_ANONYMOUS || k == EXPLAIN_KIND_NAMED_ANONYMOUS)
                                return &e->groups[i];
                        break;
                default:
                        return &e->groups[i];
                }
        }
        return NULL;
}

Explain *explain_free(Explain *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_groups; i++)
                free(e->groups[i].source);
        free(e->groups);
        return mfree(e);
}

static int classify(Classifier *c, const char *maps, size_t len, unsigned count, const uint64_t *sps,
                    size_t n_threads) {
        int r;

        /* At most one line more than the count: the gate. */
        r = classifier_parse(c, maps, len, (size_t) count + 1);
        if (r < 0)
                return r;
        /* Both walk the lines as procfs.c defines them; a difference is a bug here, not bad input. */
        if (c->n_maps != count)
                return -EBADMSG;
        r = classifier_files(c);
        if (r < 0)
                return r;
        r = explain_find_stacks(c->maps, c->n_maps, c->sorted, sps, n_threads, &c->thread_stacks,
                                &c->thread_guards);
        if (r < 0)
                return r;
        classifier_alternation(c);
        return classifier_groups(c);
}

int explain_maps(const char *maps, size_t len, const uint64_t *stack_pointers, size_t n_threads,
                 Explain **ret) {
        _cleanup_(classifier_done) Classifier c = { .last_group = UINT32_MAX };
        _cleanup_(explain_freep) Explain *e = NULL;
        MapsCounter counter = {};
        unsigned count;
        int r;

        assert(maps || len == 0);
        assert(stack_pointers || n_threads == 0);
        assert(ret);

        maps_counter_feed(&counter, maps, len);
        r = maps_counter_finish(&counter, &count);
        if (r < 0)
                return r;
        r = classify(&c, maps, len, count, stack_pointers, n_threads);
        if (r < 0)
                return r;

        e = calloc(1, sizeof(Explain));
        if (!e)
                return -ENOMEM;
        e->map_count = count;
        e->threads = n_threads > UINT_MAX ? UINT_MAX : (unsigned) n_threads;
        e->thread_stacks = c.thread_stacks;
        e->thread_guards = c.thread_guards;
        e->alternating = c.alternating;
        for (size_t i = 0; i < c.n_maps; i++) {
                e->kind_mappings[c.maps[i].kind]++;
                e->kind_bytes[c.maps[i].kind] =
                        add_saturating(e->kind_bytes[c.maps[i].kind], explain_mapping_size(&c.maps[i]));
        }
        r = explain_build_groups(e, &c);
        if (r < 0)
                return r;
        e->verdict = explain_decide(e);
        *ret = TAKE_PTR(e);
        return 0;
}
