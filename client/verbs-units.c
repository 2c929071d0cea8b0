/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl status`, `list` and `show UNIT`: fetched into structs by client-bus.c, printed here as text
 * (print_*) or JSON (json_*). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "strv.h"
#include "table.h"
#include "util.h"
#include "verbs-units.h"

/* `status` shows the units nearest the limit; `list` shows all. */
#define STATUS_UNITS_MAX 10

static void json_unit(JsonWriter *w, const UnitInfo *u) {
        json_begin_object(w);
        json_key_string(w, "unit", u->unit);
        json_key_string(w, "object_path", u->object_path);
        json_key_string(w, "level", u->level);
        json_key_uint(w, "processes", u->processes);
        /* 0: none now, or another user's (told to root only). */
        json_key(w, "worst_pid");
        if (u->worst_pid == 0)
                json_null(w);
        else
                json_uint(w, u->worst_pid);
        json_key_uint(w, "map_count", u->map_count);
        json_key_uint(w, "headroom", u->headroom);
        json_end_object(w);
}

static void json_units(JsonWriter *w, const UnitInfo *units, size_t n) {
        json_begin_array(w);
        for (size_t i = 0; i < n; i++)
                json_unit(w, units + i);
        json_end_array(w);
}

/* Adds one row of the units table. Returns 0 or -ENOMEM. */
static int table_add_unit(Table *t, const UnitInfo *u, uint32_t limit) {
        char procs[16], pid[16] = "-", maps[16] = "-", headroom[FORMAT_HEADROOM_MAX] = "-";
        int r;

        snprintf(procs, sizeof(procs), "%" PRIu32, u->processes);
        if (u->processes > 0) {
                /* 0: another user's, which the daemon tells root only. */
                if (u->worst_pid != 0)
                        snprintf(pid, sizeof(pid), "%" PRIu32, u->worst_pid);
                snprintf(maps, sizeof(maps), "%" PRIu32, u->map_count);
                format_headroom(headroom, sizeof(headroom), u->headroom, limit);
        }
        r = table_add_cell(t, u->unit, NULL);
        if (r >= 0)
                r = table_add_cell(t, u->level, format_level_color(u->level));
        if (r >= 0)
                r = table_add_cell(t, procs, NULL);
        if (r >= 0)
                r = table_add_cell(t, pid, NULL);
        if (r >= 0)
                r = table_add_cell(t, maps, NULL);
        if (r >= 0)
                r = table_add_cell(t, headroom, NULL);
        return r;
}

/* The units table of `status` and `list`: n_shown of n units (already sorted). */
static int print_units(const UnitInfo *units, size_t n_shown, size_t n, uint32_t limit) {
        static const char *const headers[] = { "UNIT", "LEVEL", "PROCS", "PID", "MAPS", "HEADROOM" };
        Table *t;
        int r = 0;

        if (n_shown == 0) {
                if (arg_legend)
                        printf("No units watched: no loaded unit matches Units= (see mapguardd.conf(5)).\n");
                return 0;
        }

        t = table_new(headers, ELEMENTSOF(headers));
        if (!t)
                return -ENOMEM;
        (void) table_set_ellipsize_column(t, 0);
        for (size_t c = 2; c < ELEMENTSOF(headers); c++)
                (void) table_set_align(t, c, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n_shown && r >= 0; i++)
                r = table_add_unit(t, units + i, limit);
        if (r >= 0)
                r = print_table(t);
        table_free(t);
        if (r < 0)
                return r;

        if (arg_legend) {
                if (n_shown < n)
                        printf("\n%zu of %zu units listed, nearest the limit first; "
                               "'mapguardctl list' shows all.\n",
                               n_shown, n);
                else
                        printf("\n%zu unit%s listed.\n", n, n == 1 ? "" : "s");
        }
        return 0;
}

static int json_status(const ManagerInfo *info, const UnitInfo *units, size_t n_shown) {
        JsonWriter w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_string(&w, "version", info->version);
        json_key_uint(&w, "max_map_count", info->max_map_count);
        json_key_uint(&w, "tuned_max_map_count", info->tuned_max_map_count);
        json_key_uint(&w, "warning_percent", info->warning_percent);
        json_key_uint(&w, "critical_percent", info->critical_percent);
        json_key_uint(&w, "scan_interval_usec", info->scan_interval_usec);
        json_key_uint(&w, "last_scan_usec", info->last_scan_usec);
        json_key(&w, "watched_units");
        json_begin_array(&w);
        for (char **s = info->watched_units; s && *s; s++)
                json_string(&w, *s);
        json_end_array(&w);
        json_key_string(&w, "backend", info->backend);
        if (info->hit_detection)
                json_key_string(&w, "hit_detection", info->hit_detection);
        if (info->hit_catching) {
                json_key_string(&w, "hit_catching", info->hit_catching);
                json_key_string(&w, "hit_catching_reason", info->hit_catching_reason ?: "");
        }
        json_key(&w, "units");
        json_units(&w, units, n_shown);
        json_end_object(&w);
        return json_finish(&w);
}

/* Whether catching limit hits is armed now, and why, after "limit hits caught in the kernel": " (armed:
 * ingester.service at warning)", " (idle: ...)", " (always armed)"; "" when the daemon does not say, or
 * does not catch. Returns a new string, or NULL when out of memory. */
static char *format_hit_catching(const ManagerInfo *info) {
        _cleanup_free_ char *catching = NULL, *reason = NULL;
        char *s;

        if (!info->hit_catching || streq(info->hit_catching, "off"))
                return strdup("");
        if (streq(info->hit_catching, "always"))
                return strdup(" (always armed)");
        catching = format_sanitize(info->hit_catching);
        reason = format_sanitize(info->hit_catching_reason ?: "");
        if (!catching || !reason)
                return NULL;
        if (asprintf(&s, " (%s%s%s)", catching, reason[0] ? ": " : "", reason) < 0)
                return NULL;
        return s;
}

/* The lines above the units table of `status`. Returns 0 or -ENOMEM. */
static int print_manager_info(const ManagerInfo *info) {
        _cleanup_free_ char *version = format_sanitize(info->version ?: ""),
                            *backend = format_sanitize(info->backend ?: ""),
                            *catching = format_hit_catching(info);
        char ts[FORMAT_TIMESTAMP_MAX], ago[FORMAT_TIMESPAN_MAX], span[FORMAT_TIMESPAN_MAX];

        if (!version || !backend || !catching)
                return -ENOMEM;
        printf("      Version: %s\n", version);
        if (info->hit_detection)
                /* How limit hits are known: failed calls caught in the kernel, or a read at the limit; and
                 * whether the program that catches them is armed now, and why. */
                printf("      Backend: %s, limit hits %s%s\n", backend,
                       streq(info->hit_detection, "caught") ? "caught in the kernel" : "observed by reads",
                       catching);
        else
                printf("      Backend: %s\n", backend);
        printf("        Limit: %" PRIu32 " (vm.max_map_count)\n", info->max_map_count);
        if (info->tuned_max_map_count > info->max_map_count)
                /* The files ask for more than the kernel has: someone set it lower after boot, or the
                 * files were installed since. */
                printf("  Tuned limit: %" PRIu32 " (sysctl.d), %snot applied%s: run 'sysctl --system'\n",
                       info->tuned_max_map_count, arg_color ? ANSI_YELLOW : "",
                       arg_color ? ANSI_NORMAL : "");
        else if (info->tuned_max_map_count > 0)
                printf("  Tuned limit: %" PRIu32 " (sysctl.d)\n", info->tuned_max_map_count);
        else
                printf("  Tuned limit: not set in sysctl.d\n");
        printf("   Thresholds: warning at %" PRIu32 "%% (%" PRIu64 " maps), critical at %" PRIu32
               "%% (%" PRIu64 " maps)\n",
               info->warning_percent, format_threshold(info->max_map_count, info->warning_percent),
               info->critical_percent, format_threshold(info->max_map_count, info->critical_percent));
        if (info->last_scan_usec > 0)
                printf("    Last scan: %s; %s\n", format_timestamp(ts, sizeof(ts), info->last_scan_usec),
                       format_ago(ago, sizeof(ago), now_usec(CLOCK_REALTIME), info->last_scan_usec));
        else
                printf("    Last scan: never\n");
        printf("Scan interval: %s\n", format_timespan(span, sizeof(span), info->scan_interval_usec));
        /* WatchedUnits names every unit: the count here, the nearest ones in the table below. */
        printf("Watched units: %zu\n\n", strv_length(info->watched_units));
        return 0;
}

int verb_status(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        sd_bus **bus = userdata;
        ManagerInfo info;
        size_t n, shown;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        r = client_manager_info_get(*bus, &info);
        if (r < 0)
                return r;
        r = client_unit_list_get(*bus, &reply, &units, &n);
        if (r >= 0) {
                shown = n < STATUS_UNITS_MAX ? n : STATUS_UNITS_MAX;
                if (arg_json)
                        r = json_status(&info, units, shown);
                else {
                        r = print_manager_info(&info);
                        if (r >= 0)
                                r = print_units(units, shown, n, info.max_map_count);
                }
        }
        client_manager_info_done(&info);
        return r;
}

static int get_max_map_count(sd_bus *bus, uint32_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "MaxMapCount", &error, 'u',
                                        ret);
        if (r < 0)
                return client_bus_error_log("read MaxMapCount", &error, r);
        return 0;
}

int verb_list(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        sd_bus **bus = userdata;
        uint32_t limit = 0;
        size_t n;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        r = client_unit_list_get(*bus, &reply, &units, &n);
        if (r < 0)
                return r;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_units(&w, units, n);
                return json_finish(&w);
        }

        r = get_max_map_count(*bus, &limit);
        if (r < 0)
                return r;
        return print_units(units, n, n, limit);
}

static int json_processes(const char *unit, const UnitIdentityInfo *id, const UnitHits *hits,
                          const ProcessInfo *procs, size_t n, uint32_t not_shown) {
        JsonWriter w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_string(&w, "unit", unit);
        /* What it is, as the unit object's properties say it (snake_case of their names). */
        if (id && *id->kind) {
                json_key_string(&w, "kind", id->kind);
                json_key_string(&w, "systemd_unit", id->systemd_unit);
                if (*id->user_unit) {
                        json_key_string(&w, "user_unit", id->user_unit);
                        json_key_uint(&w, "owner_uid", id->owner_uid);
                }
                if (*id->k8s_namespace) {
                        json_key_string(&w, "kubernetes_namespace", id->k8s_namespace);
                        json_key_string(&w, "kubernetes_pod", id->k8s_pod);
                        json_key_string(&w, "kubernetes_container", id->k8s_container);
                }
        }
        if (hits) {
                json_key_uint(&w, "limit_hits", hits->limit_hits);
                json_key_uint(&w, "limit_exits", hits->limit_exits);
                json_key_uint(&w, "last_limit_hit_usec", hits->last_limit_hit_usec);
                json_key_string(&w, "last_exit", hits->last_exit ?: "");
        }
        json_key(&w, "processes");
        json_begin_array(&w);
        for (size_t i = 0; i < n; i++) {
                json_begin_object(&w);
                json_key_uint(&w, "pid", procs[i].pid);
                json_key_string(&w, "comm", procs[i].comm);
                json_key_uint(&w, "map_count", procs[i].map_count);
                json_key_uint(&w, "headroom", procs[i].headroom);
                json_key_string(&w, "level", procs[i].level);
                json_key_double(&w, "growth_per_minute", procs[i].growth_per_minute);
                json_key(&w, "seconds_to_limit");
                if (procs[i].seconds_to_limit == UINT64_MAX)
                        json_null(&w);
                else
                        json_uint(&w, procs[i].seconds_to_limit);
                json_end_object(&w);
        }
        json_end_array(&w);
        /* Other users' processes, which the daemon lists to root and their owner only. */
        json_key_uint(&w, "processes_not_shown", not_shown);
        json_end_object(&w);
        return json_finish(&w);
}

/* Adds one row of the processes table. Returns 0 or -ENOMEM. */
static int table_add_process(Table *t, const ProcessInfo *p, uint32_t limit) {
        char pid[16], maps[16], headroom[FORMAT_HEADROOM_MAX], growth[FORMAT_GROWTH_MAX],
                eta[FORMAT_TIME_TO_LIMIT_MAX];
        int r;

        snprintf(pid, sizeof(pid), "%" PRIu32, p->pid);
        snprintf(maps, sizeof(maps), "%" PRIu32, p->map_count);
        r = table_add_cell(t, pid, NULL);
        if (r >= 0)
                r = table_add_cell(t, p->comm, NULL);
        if (r >= 0)
                r = table_add_cell(t, p->level, format_level_color(p->level));
        if (r >= 0)
                r = table_add_cell(t, maps, NULL);
        if (r >= 0)
                r = table_add_cell(t, format_headroom(headroom, sizeof(headroom), p->headroom, limit), NULL);
        if (r >= 0)
                r = table_add_cell(t, format_growth(growth, sizeof(growth), p->growth_per_minute), NULL);
        if (r >= 0)
                r = table_add_cell(t, format_time_to_limit(eta, sizeof(eta), p->seconds_to_limit), NULL);
        return r;
}

/* The processes table of `show` (n > 0, already sorted), with its footer. */
static int print_processes(const ProcessInfo *procs, size_t n, uint32_t limit) {
        static const char *const headers[] = {
                "PID", "COMM", "LEVEL", "MAPS", "HEADROOM", "GROWTH", "LIMIT",
        };
        Table *t;
        int r = 0;

        t = table_new(headers, ELEMENTSOF(headers));
        if (!t)
                return -ENOMEM;
        (void) table_set_ellipsize_column(t, 1);
        (void) table_set_align(t, 0, TABLE_ALIGN_RIGHT);
        for (size_t c = 3; c < ELEMENTSOF(headers); c++)
                (void) table_set_align(t, c, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = table_add_process(t, procs + i, limit);
        if (r >= 0)
                r = print_table(t);
        table_free(t);
        if (r < 0)
                return r;
        if (arg_legend)
                printf("\n%zu process%s listed.\n", n, n == 1 ? "" : "es");
        return 0;
}

int unit_name_from_arg(const char *arg, char **ret) {
        char *unit;

        if (!*arg) {
                /* The daemon's own sentence for it, before anything is asked. */
                fprintf(stderr, "The unit name is empty.\n");
                return -EINVAL;
        }
        /* A watched name with a slash (a user's unit, a Kubernetes container) is taken as it is. */
        if (strchr(arg, '.') || strchr(arg, '/'))
                unit = strdup(arg);
        else if (asprintf(&unit, "%s.service", arg) < 0)
                unit = NULL; /* asprintf() leaves it undefined on failure. */
        if (!unit)
                return -ENOMEM;
        *ret = unit;
        return 0;
}

/* What `show` says a unit is, when it is not a plain system unit: whose, and as which systemd unit now. */
static void print_identity(const UnitIdentityInfo *id) {
        _cleanup_free_ char *name = format_sanitize(id->name), *unit = format_sanitize(id->systemd_unit),
                            *user_unit = format_sanitize(id->user_unit),
                            *ns = format_sanitize(id->k8s_namespace), *pod = format_sanitize(id->k8s_pod),
                            *container = format_sanitize(id->k8s_container);

        if (!name || !unit || !user_unit || !ns || !pod || !container)
                return;
        if (streq(id->kind, "user"))
                printf("%s: %s of user %" PRIu32 "'s manager (%s).\n", name, user_unit, id->owner_uid, unit);
        else if (streq(id->kind, "container"))
                printf("%s: Kubernetes container %s of pod %s/%s%s%s.\n", name, container, ns, pod,
                       *unit ? ", now " : "", unit);
        else if (streq(id->kind, "pod"))
                printf("%s: a container of a Kubernetes pod whose names are not known%s%s.\n", name,
                       *unit ? ", now " : "", unit);
        else
                return;
        if (arg_legend)
                printf("\n");
}

/* What `show` says of UNIT at the limit: nothing when it never hit the limit. */
static void print_hits(const char *unit, const UnitHits *w, size_t n_procs) {
        char ago[FORMAT_TIMESPAN_MAX + 8];

        if (w->limit_hits == 0 && w->limit_exits == 0)
                return;
        if (n_procs == 0)
                printf("No processes in %s now: it hit the memory map limit, and systemd restarts it or it "
                       "sits failed.\n",
                       unit);
        printf("%sLimit hits: %" PRIu64 ", the last %s; exits at the limit: %" PRIu64 "%s%s.\n",
               n_procs > 0 && arg_legend ? "\n" : "", w->limit_hits,
               format_ago(ago, sizeof(ago), now_usec(CLOCK_REALTIME), w->last_limit_hit_usec),
               w->limit_exits, *w->last_exit ? ", the last " : "", w->last_exit);
}

int verb_show(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(client_unit_hits_done) UnitHits hits = {};
        _cleanup_(client_unit_identity_done) UnitIdentityInfo id = { .owner_uid = UINT32_MAX };
        _cleanup_free_ ProcessInfo *procs = NULL;
        _cleanup_free_ char *arg = NULL, *path = NULL;
        const char *unit;
        sd_bus **bus = userdata;
        uint32_t limit = 0, total = 0;
        size_t n = 0;
        int r;

        r = unit_name_from_arg(argv[1], &arg);
        if (r < 0)
                return r;
        r = acquire_bus(bus);
        if (r < 0)
                return r;
        /* The unit by any of its names (grow.service of user@1001.service/grow.service, a container's
         * scope). */
        r = client_unit_path_get(*bus, arg, &path);
        if (r < 0)
                return r;
        r = client_unit_identity_get(*bus, path, &id);
        if (r < 0)
                return r;
        unit = *id.name ? id.name : arg;
        r = client_process_list_get(*bus, unit, &reply, &procs, &n);
        if (r < 0)
                return r;
        r = client_unit_hits_get(*bus, path, &hits);
        if (r < 0)
                return r;
        /* The daemon lists another user's processes to root only; the unit's count is everyone's. */
        if (sd_bus_get_property_trivial(*bus, BUS_NAME, path, BUS_UNIT, "Processes", NULL, 'u', &total) <
                    0 ||
            total < n)
                total = (uint32_t) n;

        if (arg_json)
                return json_processes(unit, &id, &hits, procs, n, total - (uint32_t) n);
        print_identity(&id);
        if (total == 0 && hits.limit_hits == 0 && hits.limit_exits == 0) {
                if (arg_legend)
                        printf("No processes in %s.\n", unit);
                return 0;
        }
        if (n > 0) {
                r = get_max_map_count(*bus, &limit);
                if (r < 0)
                        return r;
                r = print_processes(procs, n, limit);
                if (r < 0)
                        return r;
        }
        if (total > n)
                printf("%s%" PRIu32
                       " process%s of other users not shown: mapguardd lists a process to root and "
                       "its owner only.\n",
                       n > 0 && arg_legend ? "\n" : "", total - (uint32_t) n, total - n == 1 ? "" : "es");
        print_hits(unit, &hits, total);
        return 0;
}
