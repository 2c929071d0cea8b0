/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mapguardctl: the command line client of mapguardd. It only talks D-Bus (org.mapguard1); the one
 * exception is `tune --apply`, which writes the sysctl settings as root. This file holds the options, the
 * verb table and main(), the one place where results become exit codes; the verbs are in verbs-*.c. */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "client-bus.h"
#include "config.h"
#include "format.h"
#include "mapguardctl.h"
#include "timespan.h"
#include "tune.h"
#include "util.h"
#include "verbs-check.h"
#include "verbs-control.h"
#include "verbs-explain.h"
#include "verbs-metrics.h"
#include "verbs-monitor.h"
#include "verbs-pid.h"
#include "verbs-tune.h"
#include "verbs-units.h"
#include "verbs.h"

bool arg_json = false;
bool arg_legend = true;
bool arg_apply = false;
const char *arg_root = NULL;
bool arg_color = false;
size_t arg_columns = 0;
uint64_t arg_hit_window_usec = 15 * 60 * USEC_PER_SEC;

int acquire_bus_explain(sd_bus **bus, char *buf, size_t size) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *b = NULL;
        const char *address;
        int r;

        if (*bus)
                return 0;
        r = client_bus_connect(&b);
        if (r < 0) {
                address = getenv("MAPGUARD_BUS_ADDRESS");
                if (address)
                        snprintf(buf, size, "Failed to connect to the bus at %s ($MAPGUARD_BUS_ADDRESS): %s",
                                 address, strerror(-r));
                else
                        snprintf(buf, size, "Failed to connect to the system bus: %s", strerror(-r));
                return r;
        }
        r = client_bus_check(b, buf, size);
        if (r < 0)
                return r;
        *bus = TAKE_PTR(b);
        return 0;
}

int acquire_bus(sd_bus **bus) {
        char why[512];
        int r;

        r = acquire_bus_explain(bus, why, sizeof(why));
        if (r < 0)
                fprintf(stderr, "%s\n", why);
        return r;
}

int json_finish(JsonWriter *w) {
        int r = json_writer_finish(w);
        if (r < 0)
                fprintf(stderr, "Failed to write JSON to standard output: %s\n", strerror(-r));
        return r;
}

int print_table(const Table *t) {
        int r = table_print(t, stdout, arg_columns, arg_legend, arg_color);
        if (r < 0)
                fprintf(stderr, "Failed to print table: %s\n", strerror(-r));
        return r;
}

static const Verb verbs[] = {
        { "status", 1, 1, VERB_DEFAULT, verb_status, NULL },
        { "list", 1, 1, 0, verb_list, NULL },
        { "show", 2, 2, 0, verb_show, "UNIT" },
        { "pid", 2, 2, 0, verb_pid, "PID" },
        { "explain", 2, 2, 0, verb_explain, "PID or UNIT" },
        { "monitor", 1, 1, 0, verb_monitor, NULL },
        { "check", 1, 1, 0, verb_check, NULL },
        { "recommend", 1, 1, 0, verb_recommend, NULL },
        { "tune", 1, 1, VERB_APPLY, verb_tune, NULL },
        { "rescan", 1, 1, 0, verb_rescan, NULL },
        { "reload", 1, 1, 0, verb_reload, NULL },
        { "metrics", 1, 1, 0, verb_metrics, NULL },
        {},
};

static void help(void) {
        printf("%s [OPTIONS...] [VERB]\n\n"
               "Show how close the processes of systemd units are to vm.max_map_count.\n\n"
               "Verbs:\n"
               "  status             Limits, thresholds and the units nearest the limit (default)\n"
               "  list               All watched units\n"
               "  show UNIT          The processes of a unit\n"
               "  pid PID            One process, counted now\n"
               "  explain PID|UNIT   What the maps of a process (a unit's worst) are\n"
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
               "     --apply         With tune: write %s and set the limit\n"
               "     --hit-window=SPAN  With check: a limit hit this recent is CRITICAL (default 15min)\n\n"
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
        ARG_HIT_WINDOW,
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
                { "hit-window", required_argument, NULL, ARG_HIT_WINDOW },
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
                case ARG_HIT_WINDOW:
                        if (parse_timespan(optarg, &arg_hit_window_usec) < 0) {
                                fprintf(stderr,
                                        "--hit-window= needs a time span such as 30s, 15min or 2h, got "
                                        "'%s'.\n",
                                        optarg);
                                return -EINVAL;
                        }
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
        int r;

        /* Only the character type, so table widths follow the terminal's wide characters (wcwidth());
         * numbers keep the C locale's decimal point, which JSON needs. */
        (void) setlocale(LC_CTYPE, "");

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        arg_color = format_want_color(isatty(STDOUT_FILENO), getenv("NO_COLOR"), getenv("TERM"));
        arg_columns = format_columns(getenv("COLUMNS"), STDOUT_FILENO);

        r = dispatch_verb(argc - optind, argv + optind, verbs, arg_apply ? VERB_APPLY : 0, &bus);
        /* A verb returns its exit status (check's plugin state), or -errno: -EACCES is access denied. */
        if (r >= 0)
                return r;
        return r == -EACCES ? EXIT_NOPERMISSION : EXIT_FAILURE;
}
