/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl explain PID|UNIT`: ExplainProcess() fetched into a struct, printed as a table of the top
 * groups with the verdict and the advice, or as JSON. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "table.h"
#include "util.h"
#include "verbs-explain.h"
#include "verbs-pid.h"
#include "verbs-units.h"

/* One group of ExplainProcess()'s answer; strings point into the reply message. */
typedef struct GroupInfo {
        const char *kind;
        const char *source;
        uint64_t mappings;
        uint64_t bytes;
} GroupInfo;

/* ExplainProcess()'s answer; strings point into the reply message, groups is malloc'd. */
typedef struct ExplainInfo {
        uint32_t pid;
        uint32_t map_count;
        GroupInfo *groups;
        size_t n_groups;
        const char *verdict;
        const char *advice;
} ExplainInfo;

static void explain_info_done(ExplainInfo *info) {
        info->groups = mfree(info->groups);
}

static int read_groups(sd_bus_message *reply, ExplainInfo *info) {
        size_t allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sstt)");
        for (;;) {
                GroupInfo g;

                if (r < 0)
                        return r;
                r = sd_bus_message_read(reply, "(sstt)", &g.kind, &g.source, &g.mappings, &g.bytes);
                if (r <= 0)
                        break;
                r = ARRAY_RESERVE(info->groups, allocated, info->n_groups, 16);
                if (r >= 0)
                        info->groups[info->n_groups++] = g;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

/* Calls ExplainProcess(info->pid) and fills the rest of *info, its strings in *ret_reply. Returns 0 or
 * -errno (printed). */
static int explain_info_get(sd_bus *bus, ExplainInfo *info, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char action[64];
        int r;

        r = client_call_manager(bus, "ExplainProcess", &error, &reply, "u", info->pid);
        if (r < 0) {
                snprintf(action, sizeof(action), "explain process %" PRIu32, info->pid);
                return client_bus_error_log(action, &error, r);
        }
        r = sd_bus_message_read(reply, "u", &info->map_count);
        if (r >= 0)
                r = read_groups(reply, info);
        if (r >= 0)
                r = sd_bus_message_read(reply, "ss", &info->verdict, &info->advice);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the explanation of pid %" PRIu32 ": %s\n", info->pid,
                        strerror(-r));
                return r;
        }
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* The daemon's WorstPID rule: the higher level, then the more maps, then the lower pid. */
static bool process_is_worse(const ProcessInfo *a, const ProcessInfo *b) {
        if (format_level_rank(a->level) != format_level_rank(b->level))
                return format_level_rank(a->level) > format_level_rank(b->level);
        if (a->map_count != b->map_count)
                return a->map_count > b->map_count;
        return a->pid < b->pid;
}

/* The worst process of UNIT, in *RET. Returns 0 or -errno (printed). */
static int unit_worst_pid(sd_bus *bus, const char *unit, uint32_t *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProcessInfo *procs = NULL;
        _cleanup_free_ char *shown = NULL;
        const ProcessInfo *worst = NULL;
        size_t n = 0;
        int r;

        /* The daemon finds a unit by any of its names, and says why it cannot. */
        r = client_process_list_get(bus, unit, &reply, &procs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!worst || process_is_worse(&procs[i], worst))
                        worst = &procs[i];
        if (!worst) {
                shown = format_sanitize(unit);
                fprintf(stderr, "No processes in %s to explain.\n", shown ?: unit);
                return -ESRCH;
        }
        *ret = worst->pid;
        return 0;
}

static int json_explain(const ExplainInfo *e) {
        JsonWriter w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_uint(&w, "pid", e->pid);
        json_key_uint(&w, "map_count", e->map_count);
        json_key(&w, "groups");
        json_begin_array(&w);
        for (size_t i = 0; i < e->n_groups; i++) {
                json_begin_object(&w);
                json_key_string(&w, "kind", e->groups[i].kind);
                json_key_string(&w, "source", e->groups[i].source);
                json_key_uint(&w, "mappings", e->groups[i].mappings);
                json_key_uint(&w, "bytes", e->groups[i].bytes);
                json_end_object(&w);
        }
        json_end_array(&w);
        json_key_string(&w, "verdict", e->verdict);
        json_key_string(&w, "advice", e->advice);
        json_end_object(&w);
        return json_finish(&w);
}

/* Adds one row of the groups table. Returns 0 or -ENOMEM. */
static int table_add_group(Table *t, const GroupInfo *g, uint32_t map_count) {
        char maps[24], size[FORMAT_BYTES_MAX], share[16];
        int r;

        snprintf(maps, sizeof(maps), "%" PRIu64, g->mappings);
        snprintf(share, sizeof(share), "%.1f%%",
                 map_count > 0 ? (double) g->mappings * 100.0 / map_count : 0.0);
        r = table_add_cell(t, g->kind, NULL);
        if (r >= 0)
                /* The anonymous group has no source. Cells are sanitized as they are added. */
                r = table_add_cell(t, *g->source ? g->source : "-", NULL);
        if (r >= 0)
                r = table_add_cell(t, maps, NULL);
        if (r >= 0)
                r = table_add_cell(t, format_bytes(size, sizeof(size), g->bytes), NULL);
        if (r >= 0)
                r = table_add_cell(t, share, NULL);
        return r;
}

static int print_groups(const ExplainInfo *e) {
        static const char *const headers[] = { "KIND", "SOURCE", "MAPS", "SIZE", "%" };
        size_t shown = e->n_groups < EXPLAIN_TABLE_ROWS ? e->n_groups : EXPLAIN_TABLE_ROWS;
        uint64_t rest = 0;
        Table *t;
        int r = 0;

        t = table_new(headers, ELEMENTSOF(headers));
        if (!t)
                return -ENOMEM;
        (void) table_set_ellipsize_column(t, 1);
        for (size_t c = 2; c < ELEMENTSOF(headers); c++)
                (void) table_set_align(t, c, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < shown && r >= 0; i++)
                r = table_add_group(t, &e->groups[i], e->map_count);
        if (r >= 0)
                r = print_table(t);
        table_free(t);
        if (r < 0)
                return r;
        for (size_t i = shown; i < e->n_groups; i++)
                rest += e->groups[i].mappings;
        if (arg_legend && shown < e->n_groups)
                printf("\n%zu more group%s: %" PRIu64 " map%s; --json lists all.\n", e->n_groups - shown,
                       e->n_groups - shown == 1 ? "" : "s", rest, rest == 1 ? "" : "s");
        return 0;
}

static int print_explain(const ExplainInfo *e, const char *unit) {
        _cleanup_free_ char *verdict = format_sanitize(e->verdict), *advice = format_sanitize(e->advice),
                            *u = unit ? format_sanitize(unit) : NULL;
        int r;

        if (!verdict || !advice || (unit && !u))
                return -ENOMEM;
        if (arg_legend) {
                if (u)
                        printf("Process %" PRIu32 ", the worst of %s: %" PRIu32 " maps.\n\n", e->pid, u,
                               e->map_count);
                else
                        printf("Process %" PRIu32 ": %" PRIu32 " maps.\n\n", e->pid, e->map_count);
        }
        r = print_groups(e);
        if (r < 0)
                return r;
        printf("\nVerdict: %s\n Advice: ", verdict);
        format_wrap(stdout, advice, arg_columns, strlen(" Advice: "));
        return 0;
}

int verb_explain(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(explain_info_done) ExplainInfo info = {};
        _cleanup_free_ char *unit = NULL;
        const char *arg = argv[1];
        sd_bus **bus = userdata;
        int r;

        /* A number is a pid; anything else names a unit. What is wrong with either is said before the bus
         * is tried. */
        if (arg[0] >= '0' && arg[0] <= '9') {
                r = parse_pid(arg, &info.pid);
                if (r == -ERANGE)
                        fprintf(stderr,
                                "Invalid process ID '%s': out of range, Linux process IDs go up to %d.\n",
                                arg, PID_MAX_LIMIT);
                else if (r < 0)
                        fprintf(stderr, "Invalid process ID '%s': expected a positive number.\n", arg);
        } else
                r = unit_name_from_arg(arg, &unit);
        if (r < 0)
                return r;
        r = acquire_bus(bus);
        if (r < 0)
                return r;
        if (unit) {
                r = unit_worst_pid(*bus, unit, &info.pid);
                if (r < 0)
                        return r;
        }
        r = explain_info_get(*bus, &info, &reply);
        if (r < 0)
                return r;
        return arg_json ? json_explain(&info) : print_explain(&info, unit);
}
