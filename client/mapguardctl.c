/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mapguardctl: the command line client of mapguardd. It only talks D-Bus (org.mapguard1); the one
 * exception is `tune --apply`, which writes the sysctl settings as root. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "client-bus.h"
#include "config.h"
#include "format.h"
#include "json.h"
#include "monitor.h"
#include "table.h"
#include "tune-verbs.h"
#include "tune.h"
#include "util.h"

/* `status` shows the units nearest the limit; `list` shows all. */
#define STATUS_UNITS_MAX 10

static bool arg_json = false;
static bool arg_legend = true;
static bool arg_apply = false;
static const char *arg_root = NULL;
static bool arg_color = false;
static size_t arg_columns = 0;

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void json_unit(JsonWriter *w, const UnitInfo *u) {
        json_begin_object(w);
        json_key_string(w, "unit", u->unit);
        json_key_string(w, "object_path", u->object_path);
        json_key_string(w, "level", u->level);
        json_key_uint(w, "processes", u->processes);
        json_key_uint(w, "worst_pid", u->worst_pid);
        json_key_uint(w, "map_count", u->map_count);
        json_key_uint(w, "headroom", u->headroom);
        json_end_object(w);
}

static int json_finish(JsonWriter *w) {
        int r = json_writer_finish(w);
        if (r < 0)
                fprintf(stderr, "Failed to write JSON to standard output: %s\n", strerror(-r));
        return r;
}

static int print_table(Table *t) {
        int r = table_print(t, stdout, arg_columns, arg_legend, arg_color);
        if (r < 0)
                fprintf(stderr, "Failed to print table: %s\n", strerror(-r));
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

        for (size_t i = 0; i < n_shown && r >= 0; i++) {
                const UnitInfo *u = units + i;
                char procs[16], pid[16] = "-", maps[16] = "-", headroom[FORMAT_HEADROOM_MAX] = "-";

                snprintf(procs, sizeof(procs), "%" PRIu32, u->processes);
                if (u->processes > 0) {
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
        }
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

static int verb_status(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        _cleanup_free_ char *version = NULL, *backend = NULL;
        ManagerInfo info;
        size_t n, shown;
        int r;

        r = manager_info_get(bus, &info);
        if (r != 0)
                return r;
        r = unit_list_get(bus, &reply, &units, &n);
        if (r != 0) {
                manager_info_done(&info);
                return r;
        }
        shown = n < STATUS_UNITS_MAX ? n : STATUS_UNITS_MAX;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "version", info.version);
                json_key_uint(&w, "max_map_count", info.max_map_count);
                json_key_uint(&w, "tuned_max_map_count", info.tuned_max_map_count);
                json_key_uint(&w, "warning_percent", info.warning_percent);
                json_key_uint(&w, "critical_percent", info.critical_percent);
                json_key_uint(&w, "scan_interval_usec", info.scan_interval_usec);
                json_key_uint(&w, "last_scan_usec", info.last_scan_usec);
                json_key(&w, "watched_units");
                json_begin_array(&w);
                for (char **s = info.watched_units; s && *s; s++)
                        json_string(&w, *s);
                json_end_array(&w);
                json_key_string(&w, "backend", info.backend);
                json_key(&w, "units");
                json_begin_array(&w);
                for (size_t i = 0; i < shown; i++)
                        json_unit(&w, units + i);
                json_end_array(&w);
                json_end_object(&w);
                manager_info_done(&info);
                return json_finish(&w);
        }

        char ts[FORMAT_TIMESTAMP_MAX], ago[FORMAT_TIMESPAN_MAX], span[FORMAT_TIMESPAN_MAX];
        version = format_sanitize(info.version ?: "");
        backend = format_sanitize(info.backend ?: "");
        if (!version || !backend) {
                manager_info_done(&info);
                return -ENOMEM;
        }

        printf("      Version: %s\n", version);
        printf("      Backend: %s\n", backend);
        printf("        Limit: %" PRIu32 " (vm.max_map_count)\n", info.max_map_count);
        if (info.tuned_max_map_count > info.max_map_count)
                /* The files ask for more than the kernel has: someone set it lower after boot, or the
                 * files were installed since. */
                printf("  Tuned limit: %" PRIu32 " (sysctl.d), %snot applied%s: run 'sysctl --system'\n",
                       info.tuned_max_map_count, arg_color ? ANSI_YELLOW : "", arg_color ? ANSI_NORMAL : "");
        else if (info.tuned_max_map_count > 0)
                printf("  Tuned limit: %" PRIu32 " (sysctl.d)\n", info.tuned_max_map_count);
        else
                printf("  Tuned limit: not set in sysctl.d\n");
        printf("   Thresholds: warning at %" PRIu32 "%% (%" PRIu64 " maps), critical at %" PRIu32
               "%% (%" PRIu64 " maps)\n",
               info.warning_percent, format_threshold(info.max_map_count, info.warning_percent),
               info.critical_percent, format_threshold(info.max_map_count, info.critical_percent));
        if (info.last_scan_usec > 0)
                printf("    Last scan: %s; %s\n", format_timestamp(ts, sizeof(ts), info.last_scan_usec),
                       format_ago(ago, sizeof(ago), now_realtime_usec(), info.last_scan_usec));
        else
                printf("    Last scan: never\n");
        printf("Scan interval: %s\n", format_timespan(span, sizeof(span), info.scan_interval_usec));
        /* WatchedUnits names every unit: the count here, the nearest ones in the table below. */
        printf("Watched units: %zu\n\n", strv_length(info.watched_units));

        r = print_units(units, shown, n, info.max_map_count);
        manager_info_done(&info);
        return r;
}

static int get_max_map_count(sd_bus *bus, uint32_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "MaxMapCount", &error, 'u',
                                        ret);
        if (r < 0)
                return bus_error_log("read MaxMapCount", &error, r);
        return 0;
}

static int verb_list(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        uint32_t limit = 0;
        size_t n;
        int r;

        r = unit_list_get(bus, &reply, &units, &n);
        if (r != 0)
                return r;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++)
                        json_unit(&w, units + i);
                json_end_array(&w);
                return json_finish(&w);
        }

        r = get_max_map_count(bus, &limit);
        if (r != 0)
                return r;
        return print_units(units, n, n, limit);
}

static int verb_show(sd_bus *bus, char **args) {
        static const char *const headers[] = {
                "PID", "COMM", "LEVEL", "MAPS", "HEADROOM", "GROWTH", "LIMIT",
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProcessInfo *procs = NULL;
        _cleanup_free_ char *unit = NULL;
        size_t n = 0;
        uint32_t limit = 0;
        Table *t;
        int r;

        /* As systemctl does: "foo" means "foo.service". */
        if (!strchr(args[0], '.')) {
                if (asprintf(&unit, "%s.service", args[0]) < 0) {
                        unit = NULL; /* asprintf() leaves it undefined on failure. */
                        return -ENOMEM;
                }
        } else {
                unit = strdup(args[0]);
                if (!unit)
                        return -ENOMEM;
        }

        r = process_list_get(bus, unit, &reply, &procs, &n);
        if (r != 0)
                return r;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "unit", unit);
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
                json_end_object(&w);
                return json_finish(&w);
        }

        if (n == 0) {
                if (arg_legend)
                        printf("No processes in %s.\n", unit);
                return 0;
        }
        r = get_max_map_count(bus, &limit);
        if (r != 0)
                return r;

        t = table_new(headers, ELEMENTSOF(headers));
        if (!t)
                return -ENOMEM;
        (void) table_set_ellipsize_column(t, 1);
        (void) table_set_align(t, 0, TABLE_ALIGN_RIGHT);
        for (size_t c = 3; c < ELEMENTSOF(headers); c++)
                (void) table_set_align(t, c, TABLE_ALIGN_RIGHT);

        for (size_t i = 0; i < n && r >= 0; i++) {
                const ProcessInfo *p = procs + i;
                char pid[16], maps[16], headroom[FORMAT_HEADROOM_MAX], growth[FORMAT_GROWTH_MAX],
                        eta[FORMAT_TIME_TO_LIMIT_MAX];

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
                        r = table_add_cell(
                                t, format_headroom(headroom, sizeof(headroom), p->headroom, limit), NULL);
                if (r >= 0)
                        r = table_add_cell(t, format_growth(growth, sizeof(growth), p->growth_per_minute),
                                           NULL);
                if (r >= 0)
                        r = table_add_cell(t, format_time_to_limit(eta, sizeof(eta), p->seconds_to_limit),
                                           NULL);
        }
        if (r >= 0)
                r = print_table(t);
        table_free(t);
        if (r < 0)
                return r;
        if (arg_legend)
                printf("\n%zu process%s listed.\n", n, n == 1 ? "" : "es");
        return 0;
}

/* No Linux process ID is above this: kernel/pid_max can be raised to 2^22 (PID_MAX_LIMIT), no further. */
#define PID_MAX_LIMIT 4194304

/* Returns 0, -EINVAL when s is not a positive decimal number, or -ERANGE when it is above PID_MAX_LIMIT. */
static int parse_pid(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        errno = 0;
        if (s[0] < '0' || s[0] > '9')
                return -EINVAL;
        v = strtoull(s, &end, 10);
        if (*end != '\0' || (errno != 0 && errno != ERANGE) || (errno == 0 && v == 0))
                return -EINVAL;
        if (errno == ERANGE || v > PID_MAX_LIMIT)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* Parses `pid`'s argument, saying what is wrong with it. */
static int pid_arg(const char *arg, uint32_t *ret) {
        int r = parse_pid(arg, ret);

        if (r == -ERANGE)
                fprintf(stderr, "Invalid process ID '%s': out of range, Linux process IDs go up to %d.\n",
                        arg, PID_MAX_LIMIT);
        else if (r < 0)
                fprintf(stderr, "Invalid process ID '%s': expected a positive number.\n", arg);
        return r;
}

static int verify_pid(char **args) {
        uint32_t pid;

        return pid_arg(args[0], &pid);
}

static int verb_pid(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *unit, *comm, *level;
        uint32_t pid, map_count, max_map_count, headroom;
        int r;

        r = pid_arg(args[0], &pid);
        if (r < 0)
                return r;
        r = manager_call(bus, "GetProcess", &error, &reply, "u", pid);
        if (r < 0)
                return bus_error_log("look up the process", &error, r);
        r = sd_bus_message_read(reply, "ssuuus", &unit, &comm, &map_count, &max_map_count, &headroom,
                                &level);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the answer about pid %" PRIu32 ": %s\n", pid, strerror(-r));
                return r;
        }

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_uint(&w, "pid", pid);
                json_key_string(&w, "unit", unit);
                json_key_string(&w, "comm", comm);
                json_key_uint(&w, "map_count", map_count);
                json_key_uint(&w, "max_map_count", max_map_count);
                json_key_uint(&w, "headroom", headroom);
                json_key_string(&w, "level", level);
                json_end_object(&w);
                return json_finish(&w);
        }

        _cleanup_free_ char *u = format_sanitize(unit), *c = format_sanitize(comm),
                            *l = format_sanitize(level);
        char hr[FORMAT_HEADROOM_MAX];
        const char *color = arg_color ? format_level_color(level) : NULL;
        if (!u || !c || !l)
                return -ENOMEM;
        printf("     PID: %" PRIu32 " (%s)\n", pid, c);
        printf("    Unit: %s\n", *u ? u : "none (not in a watched unit)");
        printf("    Maps: %" PRIu32 " of %" PRIu32 "\n", map_count, max_map_count);
        printf("Headroom: %s\n", format_headroom(hr, sizeof(hr), headroom, max_map_count));
        printf("   Level: %s%s%s\n", color ?: "", l, color ? ANSI_NORMAL : "");
        return 0;
}

static int verb_monitor(sd_bus *bus, char **args) {
        MonitorOptions options = {
                .json = arg_json,
                .legend = arg_legend,
                .color = arg_color,
        };

        return monitor_run(bus, &options);
}

/* Reports `check`'s UNKNOWN with the reason. A monitoring system reads the plugin's standard output, so
 * the reason goes there, not to stderr. Returns CHECK_UNKNOWN. */
static int check_unknown(const char *why) {
        _cleanup_free_ char *clean = NULL;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "status", "UNKNOWN");
                json_key_string(&w, "reason", why);
                json_end_object(&w);
                (void) json_writer_finish(&w);
                return CHECK_UNKNOWN;
        }
        /* The reason may quote the daemon or the bus; a '|' or a newline in it must not forge perfdata. */
        clean = format_check_sanitize(why);
        printf("MAPGUARD UNKNOWN - %s\n", clean ?: "out of memory");
        return CHECK_UNKNOWN;
}

static int verb_check(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **watched = NULL;
        _cleanup_free_ char *line = NULL;
        char why[1024];
        Headroom h = {};
        uint32_t warning = 0, critical = 0;
        int r, code;

        r = manager_call(bus, "GetHeadroom", &error, &reply, NULL);
        if (r < 0) {
                (void) bus_error_explain("ask mapguardd for the headroom", &error, r, why, sizeof(why));
                goto unknown;
        }
        r = sd_bus_message_read(reply, "susuuus", &h.unit, &h.pid, &h.comm, &h.map_count, &h.max_map_count,
                                &h.headroom, &h.level);
        if (r < 0) {
                snprintf(why, sizeof(why), "Failed to parse the answer of mapguardd: %s", strerror(-r));
                goto unknown;
        }
        r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "WarningPercent", &error, 'u',
                                        &warning);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "CriticalPercent",
                                                &error, 'u', &critical);
        if (r < 0) {
                (void) bus_error_explain("read the thresholds", &error, r, why, sizeof(why));
                goto unknown;
        }

        /* Without a unit in the answer, WatchedUnits tells "not scanned yet" from "nothing to scan". */
        if (!*h.unit) {
                r = sd_bus_get_property_strv(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "WatchedUnits", &error,
                                             &watched);
                if (r < 0) {
                        (void) bus_error_explain("read the watched units", &error, r, why, sizeof(why));
                        goto unknown;
                }
        }

        code = format_check(&h, *h.unit || strv_length(watched) > 0, warning, critical, &line);
        if (code < 0)
                return code;

        if (arg_json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "status", format_check_status(code));
                json_key_string(&w, "unit", h.unit);
                json_key_uint(&w, "pid", h.pid);
                json_key_string(&w, "comm", h.comm);
                json_key_uint(&w, "map_count", h.map_count);
                json_key_uint(&w, "max_map_count", h.max_map_count);
                json_key_uint(&w, "headroom", h.headroom);
                json_key_string(&w, "level", h.level);
                json_key_uint(&w, "warning_percent", warning);
                json_key_uint(&w, "critical_percent", critical);
                json_end_object(&w);
                r = json_writer_finish(&w);
        } else {
                printf("%s\n", line);
                r = fflush(stdout) == 0 ? 0 : -EIO;
        }
        return r < 0 ? CHECK_UNKNOWN : code;

unknown:
        return check_unknown(why);
}

static int verb_recommend(sd_bus *bus, char **args) {
        TuneOptions options = {
                .json = arg_json,
                .columns = arg_columns,
        };

        return tune_show_recommendation(bus, &options);
}

static int verb_tune(sd_bus *bus, char **args) {
        TuneOptions options = {
                .json = arg_json,
                .apply = arg_apply,
                .root = arg_root,
                .columns = arg_columns,
        };

        return tune_show(bus, &options);
}

static int verb_simple_call(sd_bus *bus, const char *method, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = manager_call(bus, method, &error, NULL, NULL);
        if (r < 0)
                return bus_error_log(action, &error, r);
        if (arg_json) {
                /* One document per call, even when there is nothing to say. */
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_end_object(&w);
                return json_finish(&w);
        }
        return 0;
}

static int verb_rescan(sd_bus *bus, char **args) {
        return verb_simple_call(bus, "Rescan", "rescan");
}

static int verb_reload(sd_bus *bus, char **args) {
        return verb_simple_call(bus, "Reload", "reload the configuration");
}

typedef struct Verb {
        const char *name;
        unsigned n_args; /* Exactly this many arguments after the verb. */
        const char *args_help;
        int (*dispatch)(sd_bus *bus, char **args);
        /* Checks the arguments before the bus is asked anything: a typo is not the daemon's business. */
        int (*verify)(char **args);
} Verb;

static const Verb verbs[] = {
        { "status", 0, NULL, verb_status, NULL },       { "list", 0, NULL, verb_list, NULL },
        { "show", 1, "UNIT", verb_show, NULL },         { "pid", 1, "PID", verb_pid, verify_pid },
        { "monitor", 0, NULL, verb_monitor, NULL },     { "check", 0, NULL, verb_check, NULL },
        { "recommend", 0, NULL, verb_recommend, NULL }, { "tune", 0, NULL, verb_tune, NULL },
        { "rescan", 0, NULL, verb_rescan, NULL },       { "reload", 0, NULL, verb_reload, NULL },
};

static void help(void) {
        printf("%s [OPTIONS...] [VERB]\n\n"
               "Show how close the processes of systemd units are to vm.max_map_count.\n\n"
               "Verbs:\n"
               "  status             Limits, thresholds and the units nearest the limit (default)\n"
               "  list               All watched units\n"
               "  show UNIT          The processes of a unit\n"
               "  pid PID            One process, counted now\n"
               "  monitor            Print level changes as they happen\n"
               "  check              Monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n"
               "  recommend          A vm.max_map_count for the observed peaks, and its cost\n"
               "  tune [--apply]     Compare the recommendation with the limits; --apply sets it\n"
               "  rescan             Scan now (root)\n"
               "  reload             Reload the configuration (root)\n\n"
               "Options:\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "     --json          Print JSON\n"
               "     --no-legend     Omit headers and footers\n"
               "     --no-pager      Accepted for compatibility; output is never paged\n"
               "     --apply         With tune: write %s and set the limit\n\n"
               "See mapguardctl(1).\n",
               program_invocation_short_name, TUNE_SYSCTL_FILE);
}

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_PAGER,
        ARG_APPLY,
        ARG_ROOT,
};

/* Returns 1 to go on with the verb at argv[optind], 0 to exit successfully (help, version), or -EINVAL. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "apply", no_argument, NULL, ARG_APPLY },
                /* Hidden, for tests: where tune finds /etc (and tune --apply /proc). */
                { "root", required_argument, NULL, ARG_ROOT },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("mapguardctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_NO_PAGER:
                        break;
                case ARG_APPLY:
                        arg_apply = true;
                        break;
                case ARG_ROOT:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "--root= needs an absolute path, got '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_root = optarg;
                        break;
                case '?':
                        /* getopt_long() has said what was wrong. */
                        return -EINVAL;
                default:
                        fprintf(stderr, "Unhandled option '%c'.\n", c);
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const Verb *verb = NULL;
        const char *name;
        int r, n_args;

        /* Only the character type, so table widths follow the terminal's wide characters (wcwidth());
         * numbers keep the C locale's decimal point, which JSON needs. */
        (void) setlocale(LC_CTYPE, "");

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        name = optind < argc ? argv[optind] : "status";
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        verb = verbs + i;
        if (!verb) {
                fprintf(stderr, "Unknown verb '%s'. See '%s --help'.\n", name,
                        program_invocation_short_name);
                return EXIT_FAILURE;
        }
        n_args = optind < argc ? argc - optind - 1 : 0;
        if ((unsigned) n_args != verb->n_args) {
                if (verb->n_args == 0)
                        fprintf(stderr, "'%s' takes no arguments.\n", verb->name);
                else if ((unsigned) n_args < verb->n_args)
                        fprintf(stderr, "'%s' needs %s.\n", verb->name, verb->args_help);
                else
                        /* The first one too many: "show a b" is often a unit name with a blank. */
                        fprintf(stderr, "'%s' takes only %s; extra argument '%s'.\n", verb->name,
                                verb->args_help, argv[optind + 1 + verb->n_args]);
                return EXIT_FAILURE;
        }
        if (verb->verify && verb->verify(argv + optind + 1) < 0)
                return EXIT_FAILURE;
        if (arg_apply && verb->dispatch != verb_tune) {
                fprintf(stderr, "--apply only goes with 'tune'.\n");
                return EXIT_FAILURE;
        }
        if (arg_apply && geteuid() != 0) {
                fprintf(stderr, "tune --apply changes a kernel setting and writes to /etc; run as root.\n");
                return EXIT_NOPERMISSION;
        }

        arg_color = format_want_color(isatty(STDOUT_FILENO), getenv("NO_COLOR"), getenv("TERM"));
        arg_columns = format_columns(getenv("COLUMNS"), STDOUT_FILENO);

        r = bus_connect_mapguard(&bus);
        if (r < 0) {
                const char *address = getenv("MAPGUARD_BUS_ADDRESS");
                char why[512];

                if (address)
                        snprintf(why, sizeof(why),
                                 "Failed to connect to the bus at %s ($MAPGUARD_BUS_ADDRESS): %s", address,
                                 strerror(-r));
                else
                        snprintf(why, sizeof(why), "Failed to connect to the system bus: %s", strerror(-r));
                if (verb->dispatch == verb_check)
                        return check_unknown(why);
                fprintf(stderr, "%s\n", why);
                return EXIT_FAILURE;
        }

        {
                char why[512];

                r = bus_check_mapguard(bus, why, sizeof(why));
                if (r > 0) {
                        if (verb->dispatch == verb_check)
                                return check_unknown(why);
                        fprintf(stderr, "%s\n", why);
                        return r;
                }
        }

        r = verb->dispatch(bus, argv + optind + 1);
        return r < 0 ? EXIT_FAILURE : r;
}
