/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "conf-load.h"
#include "conf.h"
#include "config.h"
#include "log.h"
#include "manager-bus.h"
#include "manager-export.h"
#include "manager.h"
#include "util.h"

static const char *arg_config_dir = NULL;
static const char *arg_root = "";
static bool arg_check_config = false;

static void help(void) {
        printf("Usage: mapguardd [OPTIONS...]\n\n"
               "Watches the memory-map counts of the processes of systemd units against vm.max_map_count,\n"
               "warns in the journal before the limit, and answers on D-Bus as org.mapguard1.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --config-dir=DIR    Read mapguardd.conf and mapguardd.conf.d/ from DIR\n"
               "                         (default: $CONFIGURATION_DIRECTORY, else /etc/mapguard)\n"
               "     --check-config      Load and validate the configuration, print it, and exit\n"
               "     --log-level=LEVEL   debug, info (default), notice, warning, err\n"
               "     --root=DIR          Read /proc, /sys and /etc below DIR (for tests)\n\n"
               "See mapguardd(8) and mapguardd.conf(5).\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG_DIR, ARG_CHECK_CONFIG, ARG_LOG_LEVEL, ARG_ROOT };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, ARG_VERSION },
                                                 { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                                                 { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                                                 { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                                                 { "root", required_argument, NULL, ARG_ROOT },
                                                 {} };
        int c, p;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("mapguardd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CONFIG_DIR:
                        arg_config_dir = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_LOG_LEVEL:
                        p = log_priority_from_string(optarg);
                        if (p < 0) {
                                fprintf(stderr,
                                        "mapguardd: invalid --log-level=%s (use debug, info, notice, "
                                        "warning or err)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        log_set_max_priority(p);
                        break;
                case ARG_ROOT:
                        arg_root = streq(optarg, "/") ? "" : optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }

        if (optind < argc) {
                fprintf(stderr, "mapguardd: takes no positional arguments (got \"%s\").\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *error = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = config_load(arg_root, arg_config_dir, &config, &error);
        if (r < 0) {
                log_error("Failed to load the configuration: %s", error ? error : strerror(-r));
                /* Not from the check that ExecReload= runs: only the main process may notify. */
                if (!arg_check_config)
                        (void) sd_notifyf(false, "STATUS=Bad configuration: %s",
                                          error ? error : strerror(-r));
                return EXIT_FAILURE;
        }
        if (arg_check_config) {
                r = config_dump(config, stdout);
                if (r < 0) {
                        log_error_errno(r, "Failed to print the configuration: %m");
                        return EXIT_FAILURE;
                }
                return EXIT_SUCCESS;
        }

        r = manager_new(arg_root, arg_config_dir, config, &m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the manager: %m");
                return EXIT_FAILURE;
        }
        config = NULL; /* the Manager owns it now */

        r = manager_connect_system(m);
        if (r < 0)
                return EXIT_FAILURE;

        log_info("mapguardd %s watching %zu units, limit %u, backend %s.", PACKAGE_VERSION, m->n_units,
                 m->limits.live, backend_to_string(m->scan.backend));
        r = manager_run(m);
        if (r == 0)
                manager_export_remove(m);
        return r != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
