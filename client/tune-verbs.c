/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl recommend` and `mapguardctl tune [--apply]`: the daemon's recommendation beside the live
 * and tuned limits, and applying it. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf() */
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "tune-verbs.h"
#include "tune.h"
#include "util.h"

/* Finishes a JSON document, saying on stderr when it could not be written. */
static int json_writer_finish_log(JsonWriter *w) {
        int r = json_writer_finish(w);
        if (r < 0)
                fprintf(stderr, "Failed to write JSON to standard output: %s\n", strerror(-r));
        return r;
}

static int call_recommend(sd_bus *bus, sd_bus_message **ret_reply, uint32_t *ret_value,
                          const char **ret_reason) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = manager_call(bus, "Recommend", &error, &reply, NULL);
        if (r < 0)
                return bus_error_log("get a recommendation", &error, r);
        r = sd_bus_message_read(reply, "us", ret_value, ret_reason);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the recommendation: %s\n", strerror(-r));
                return r;
        }
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

int tune_show_recommendation(sd_bus *bus, const TuneOptions *options) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *clean = NULL;
        const char *reason;
        uint32_t value;
        int r;

        r = call_recommend(bus, &reply, &value, &reason);
        if (r != 0)
                return r;

        if (options->json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_uint(&w, "value", value);
                json_key_string(&w, "reason", reason);
                json_end_object(&w);
                return json_writer_finish_log(&w);
        }
        clean = format_sanitize(reason);
        if (!clean)
                return -ENOMEM;
        printf("vm.max_map_count = %" PRIu32 "\n", value);
        format_wrap(stdout, clean, options->columns, 0);
        return 0;
}

static int tune_apply(const TuneOptions *options, uint32_t target, const ManagerInfo *info, uint32_t value,
                      const char *reason, bool *ret_live_updated) {
        _cleanup_free_ char *why = NULL, *file = NULL, *proc = NULL;
        int r;

        if (asprintf(&why,
                     "mapguardd recommended %" PRIu32 ": %s\n"
                     "The live limit was %" PRIu32 " and the sysctl.d files asked for %" PRIu32
                     "; the largest of the three is kept, so the limit is never lowered.",
                     value, reason, info->max_map_count, info->tuned_max_map_count) < 0) {
                why = NULL; /* asprintf() leaves it undefined on failure. */
                return -ENOMEM;
        }
        r = tune_path(options->root, TUNE_SYSCTL_FILE, &file);
        if (r >= 0)
                r = tune_path(options->root, TUNE_PROC_FILE, &proc);
        if (r < 0)
                return r;

        r = tune_write_sysctl_file(options->root, target, why, (uint64_t) time(NULL) * USEC_PER_SEC);
        if (r < 0) {
                fprintf(stderr, "Failed to write %s: %s\n", file, strerror(-r));
                return r;
        }
        if (!options->json)
                printf("Wrote %s: vm.max_map_count = %" PRIu32 "\n", file, target);

        if (target == info->max_map_count) {
                *ret_live_updated = false;
                if (!options->json)
                        printf("vm.max_map_count is already %" PRIu32
                               "; the running kernel needs no change.\n",
                               target);
                return 0;
        }

        r = tune_apply_live(options->root, target);
        if (r == -EROFS || r == -EACCES || r == -EPERM) {
                fprintf(stderr,
                        "Failed to apply it now: %s is %s (running in a container?). %s takes effect at the "
                        "next boot, or on the host with 'sysctl --system'.\n",
                        proc, r == -EROFS ? "on a read-only file system" : "not writable", file);
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "Failed to write %s: %s\n", proc, strerror(-r));
                return r;
        }
        *ret_live_updated = true;
        if (!options->json)
                printf("Raised vm.max_map_count from %" PRIu32 " to %" PRIu32 ".\n", info->max_map_count,
                       target);
        return 0;
}

int tune_show(sd_bus *bus, const TuneOptions *options) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *clean = NULL;
        ManagerInfo info;
        const char *reason;
        uint32_t value, target;
        bool live_updated = false;
        int r;

        r = manager_info_get(bus, &info);
        if (r != 0)
                return r;
        r = call_recommend(bus, &reply, &value, &reason);
        if (r != 0)
                goto finish;
        target = tune_target(info.max_map_count, info.tuned_max_map_count, value);

        if (options->apply) {
                r = tune_apply(options, target, &info, value, reason, &live_updated);
                if (r < 0)
                        goto finish;
        }

        if (options->json) {
                JsonWriter w;
                _cleanup_free_ char *file = NULL;

                if (options->apply && tune_path(options->root, TUNE_SYSCTL_FILE, &file) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_uint(&w, "max_map_count", info.max_map_count);
                json_key_uint(&w, "tuned_max_map_count", info.tuned_max_map_count);
                json_key_uint(&w, "value", value);
                json_key_string(&w, "reason", reason);
                json_key_uint(&w, "target", target);
                json_key_bool(&w, "applied", options->apply);
                json_key_string(&w, "file", file);
                json_key_bool(&w, "live_updated", live_updated);
                json_end_object(&w);
                r = json_writer_finish_log(&w);
                goto finish;
        }
        if (options->apply)
                goto finish;

        clean = format_sanitize(reason);
        if (!clean) {
                r = -ENOMEM;
                goto finish;
        }
        printf("    Live limit: %" PRIu32 " (vm.max_map_count)\n", info.max_map_count);
        if (info.tuned_max_map_count > 0)
                printf("   Tuned limit: %" PRIu32 " (sysctl.d)\n", info.tuned_max_map_count);
        else
                printf("   Tuned limit: not set in sysctl.d\n");
        printf("Recommendation: %" PRIu32 "\n%16s", value, "");
        format_wrap(stdout, clean, options->columns, 16);
        if (target > info.max_map_count || target > info.tuned_max_map_count)
                printf("      To apply: mapguardctl tune --apply (as root) sets %" PRIu32 " now and in %s\n",
                       target, TUNE_SYSCTL_FILE);
        else
                printf("      To apply: nothing to do, the limit already covers the recommendation\n");

finish:
        manager_info_done(&info);
        return r;
}
