/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "fileio.h"
#include "level-state.h"
#include "util.h"

/* The first line: what the file is and its format's version. Then, one per line:
 *     below-tuned LIVE TUNED
 *     process PID START_TIME LEVEL MAP_COUNT UNIT COMM
 *     hits UNIT HITS EXITS LAST_HIT_USEC LAST_EXIT
 * COMM and LAST_EXIT run to the end of the line (they may hold spaces; LAST_EXIT may be empty), escaped
 * (escape.h): a newline in a process's name cannot cut its line in two, and a restarted daemon gets the
 * name back as it was. Earlier builds wrote a "hits" line as "wall": both are read, so that an upgrade's
 * restart keeps the counters. */
#define LEVEL_STATE_HEADER "mapguardd state 1\n"

int level_state_save(const char *path, const LevelState *s) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        if (!path || !s || (!s->levels && s->n_levels > 0) || (!s->hits && s->n_hits > 0))
                return -EINVAL;
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fputs(LEVEL_STATE_HEADER, f);
        if (s->below_tuned_live > 0 || s->below_tuned_tuned > 0)
                fprintf(f, "below-tuned %u %u\n", s->below_tuned_live, s->below_tuned_tuned);
        for (size_t i = 0; i < s->n_levels; i++) {
                const SavedLevel *l = &s->levels[i];
                char comm[4 * sizeof(l->comm)]; /* room for every byte escaped: never cut */

                escape_printable_buf(comm, sizeof(comm), l->comm, ESCAPE_REVERSIBLE);
                fprintf(f, "process %" PRIi32 " %" PRIu64 " %s %u %s %s\n", (int32_t) l->pid, l->start_time,
                        level_to_string(l->level) ?: "unknown", l->map_count, l->unit[0] ? l->unit : "-",
                        comm);
        }
        for (size_t i = 0; i < s->n_hits; i++) {
                const SavedHits *w = &s->hits[i];
                char last_exit[4 * sizeof(w->last_exit)];

                if (!w->unit[0] || strchr(w->unit, ' '))
                        continue;
                escape_printable_buf(last_exit, sizeof(last_exit), w->last_exit, ESCAPE_REVERSIBLE);
                fprintf(f, "hits %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", w->unit, w->hits, w->exits,
                        w->last_hit_usec, last_exit);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, text, 0600);
}

static int saved_level_compare(const void *a, const void *b) {
        const SavedLevel *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A COMM or LAST_EXIT field into BUF of SIZE bytes, unescaped. A file of an older mapguardd holds the text
 * as it is ('?' for control characters): when it is no escape, it is taken as it is. Returns 0, -EBADMSG
 * when it does not fit, -ENOMEM. */
static int field_unescape(const char *text, char *buf, size_t size) {
        _cleanup_free_ char *raw = NULL;
        const char *v = text;
        int r;

        r = unescape_printable(text, &raw);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                v = raw;
        if (strlen(v) >= size)
                return -EBADMSG;
        memcpy(buf, v, strlen(v) + 1);
        return 0;
}

/* One "process ..." line (after the keyword) into *RET. Returns 0 or -EBADMSG. */
static int parse_process(const char *line, SavedLevel *ret) {
        char level[16], unit[256], comm[sizeof(ret->comm)];
        long long pid;
        unsigned long long start_time;
        unsigned map_count;
        int consumed = -1;
        Level l;

        if (sscanf(line, "%lld %llu %15s %u %255s %n", &pid, &start_time, level, &map_count, unit,
                   &consumed) != 5 ||
            consumed < 0 || pid <= 0 || pid > INT32_MAX)
                return -EBADMSG;
        l = level_from_string(level);
        if (l < LEVEL_WARNING)
                return -EBADMSG; /* only warning and critical are kept */
        if (field_unescape(line + consumed, comm, sizeof(comm)) < 0)
                return -EBADMSG;
        *ret = (SavedLevel){
                .pid = (pid_t) pid, .start_time = start_time, .level = l, .map_count = map_count
        };
        snprintf(ret->unit, sizeof(ret->unit), "%s", streq(unit, "-") ? "" : unit);
        snprintf(ret->comm, sizeof(ret->comm), "%s", comm);
        return 0;
}

/* One "hits ..." line (after the keyword) into *RET. Returns 0 or -EBADMSG. */
static int parse_hits(const char *line, SavedHits *ret) {
        unsigned long long hits, exits, last_hit;
        char unit[256], last_exit[sizeof(ret->last_exit)];
        int consumed = -1;

        if (sscanf(line, "%255s %llu %llu %llu%n", unit, &hits, &exits, &last_hit, &consumed) != 4 ||
            consumed < 0)
                return -EBADMSG;
        line += consumed;
        if (*line == ' ')
                line++;
        else if (*line != '\0')
                return -EBADMSG;
        if (field_unescape(line, last_exit, sizeof(last_exit)) < 0)
                return -EBADMSG;
        *ret = (SavedHits){ .hits = hits, .exits = exits, .last_hit_usec = last_hit };
        snprintf(ret->unit, sizeof(ret->unit), "%s", unit);
        snprintf(ret->last_exit, sizeof(ret->last_exit), "%s", last_exit);
        return 0;
}

int level_state_load(const char *path, LevelState *ret, unsigned *ret_bad_line) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        if (!path || !ret || !ret_bad_line)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        r = read_fd_all(fd, &buf, &len);
        if (r < 0)
                return r;
        return level_state_parse(buf, len, ret, ret_bad_line);
}

int level_state_parse(char *buf, size_t len, LevelState *ret, unsigned *ret_bad_line) {
        _cleanup_free_ SavedLevel *levels = NULL;
        _cleanup_free_ SavedHits *hits = NULL;
        size_t n = 0, allocated = 0, n_hits = 0, allocated_hits = 0;
        unsigned line_no = 1, bad_line = 0, live = 0, tuned = 0;
        char *line, *next;
        bool has_nul;

        if (!buf || buf[len] != '\0' || !ret || !ret_bad_line)
                return -EINVAL;
        if (strncmp(buf, LEVEL_STATE_HEADER, strlen(LEVEL_STATE_HEADER)) != 0)
                return -EBADMSG;
        has_nul = strlen(buf) != len; /* before the lines are cut apart */

        for (line = buf + strlen(LEVEL_STATE_HEADER); *line; line = next) {
                SavedLevel l;
                SavedHits w;
                int consumed = -1;

                line_no++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                else
                        next = line + strlen(line); /* a last line without a newline (a hand edit) */

                if (strncmp(line, "process ", 8) == 0 && parse_process(line + 8, &l) >= 0) {
                        if (ARRAY_RESERVE(levels, allocated, n, 16) < 0)
                                return -ENOMEM;
                        levels[n++] = l;
                } else if ((strncmp(line, "hits ", 5) == 0 || strncmp(line, "wall ", 5) == 0) &&
                           parse_hits(line + 5, &w) >= 0) {
                        if (ARRAY_RESERVE(hits, allocated_hits, n_hits, 8) < 0)
                                return -ENOMEM;
                        hits[n_hits++] = w;
                } else if (sscanf(line, "below-tuned %u %u%n", &live, &tuned, &consumed) == 2 &&
                           line[consumed] == '\0')
                        continue;
                else if (bad_line == 0)
                        bad_line = line_no;
        }

        /* A NUL byte ended the text early: the line it is on is bad, and what follows is not read. */
        if (has_nul && bad_line == 0)
                bad_line = line_no;

        if (n > 0)
                qsort(levels, n, sizeof(SavedLevel), saved_level_compare);
        *ret = (LevelState){
                .levels = TAKE_PTR(levels),
                .n_levels = n,
                .hits = TAKE_PTR(hits),
                .n_hits = n_hits,
                .below_tuned_live = live,
                .below_tuned_tuned = tuned,
        };
        *ret_bad_line = bad_line;
        return 0;
}

void level_state_done(LevelState *s) {
        free(s->levels);
        free(s->hits);
        *s = (LevelState){};
}

SavedLevel *level_state_find(const LevelState *s, pid_t pid) {
        SavedLevel key = { .pid = pid };

        if (!s || !s->levels || s->n_levels == 0)
                return NULL;
        return bsearch(&key, s->levels, s->n_levels, sizeof(SavedLevel), saved_level_compare);
}

SavedHits *level_state_find_hits(const LevelState *s, const char *unit) {
        if (!s || !unit)
                return NULL;
        for (size_t i = 0; i < s->n_hits; i++)
                if (streq(s->hits[i].unit, unit))
                        return &s->hits[i];
        return NULL;
}
