/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl recommend` and `mapguardctl tune [--apply]`: the daemon's recommendation beside the live
 * and tuned limits, and applying it. */

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

/* What tune --apply did, for the summary and the JSON document. */
typedef struct TuneResult {
        bool file_written;
        bool live_updated;
        bool overridden; /* boot says what the sysctl.d files set at boot instead of ours. */
        TuneBoot boot;
} TuneResult;

/* Returns the sentences that say another sysctl.d file decides vm.max_map_count at boot, and how to fix
 * it: once tune --apply wrote target to file (`written`), or in the preview, before anything is written.
 * NULL when out of memory. */
static char *overridden_text(const TuneBoot *boot, const char *file, uint32_t target, bool written) {
        const char *edit = boot->target ?: boot->source;
        _cleanup_free_ char *link = NULL, *sets = NULL, *outcome = NULL;
        char *text;

        if (!boot->source) {
                /* max_map_count_read_tuned() names the file whenever ours was read; here it was not. */
                if (asprintf(&text,
                             "The sysctl.d files do not set vm.max_map_count at boot although %s does. "
                             "Check: systemd-analyze cat-config sysctl.d",
                             file) < 0)
                        return NULL;
                return text;
        }
        /* asprintf() leaves the pointer undefined on failure: reset it for the cleanup. */
        if (boot->target && asprintf(&link, " (a link to %s)", boot->target) < 0) {
                link = NULL;
                return NULL;
        }
        if (boot->valid) {
                if (asprintf(&sets, "= %" PRIu32, boot->value) < 0) {
                        sets = NULL;
                        return NULL;
                }
                if (asprintf(&outcome,
                             written ? "the limit will be %" PRIu32 ", not %" PRIu32
                                     : "--apply alone would not last past a reboot, the limit would then be "
                                       "%" PRIu32 ", not %" PRIu32,
                             boot->value, target) < 0) {
                        outcome = NULL;
                        return NULL;
                }
        } else {
                sets = strdup("to a value the kernel refuses");
                outcome = strdup(written ? "the setting fails and the kernel's default stays"
                                         : "--apply alone would not last past a reboot, the setting would "
                                           "fail and the kernel's default stay");
                if (!sets || !outcome)
                        return NULL;
        }
        if (asprintf(&text,
                     "%s%s sets vm.max_map_count %s and is read after %s at boot, so it %s: %s. Remove that "
                     "line from %s, or set %" PRIu32 " there.",
                     boot->source, link ?: "", sets, file, written ? "overrides it" : "would override it",
                     outcome, edit, target) < 0)
                return NULL;
        return text;
}

/* Says on stderr that another sysctl.d file decides vm.max_map_count at boot, and how to fix it. */
static void log_overridden(const TuneBoot *boot, const char *file, uint32_t target) {
        _cleanup_free_ char *text = overridden_text(boot, file, target, true);

        if (!text)
                fprintf(stderr,
                        "Another sysctl.d file overrides %s at boot. "
                        "Check: systemd-analyze cat-config sysctl.d\n",
                        file);
        else
                fprintf(stderr, "%s\n", text);
}

/* Writes the sysctl.d file, reads the sysctl.d files back as the boot will, and writes the live value.
 * Returns 0; EXIT_FAILURE when another file overrides ours at boot; or -errno (printed), -EROFS etc.
 * when only the live value could not be written. *res says what was done in every case. */
static int tune_apply(const TuneOptions *options, uint32_t target, const ManagerInfo *info, uint32_t value,
                      const char *reason, TuneResult *res) {
        _cleanup_free_ char *why = NULL, *file = NULL, *proc = NULL;
        int r, r_boot;

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
        res->file_written = true;
        if (!options->json)
                printf("Wrote %s: vm.max_map_count = %" PRIu32 "\n", file, target);

        /* A file whose name sorts later (Debian's 99-sysctl.conf, the /etc/sysctl.conf that guides tell
         * users to edit) wins at boot: writing ours is not enough, the user must hear of it. */
        r_boot = tune_check_boot(options->root, target, true, &res->boot);
        if (r_boot < 0)
                fprintf(stderr, "Failed to read the sysctl.d files back: %s\n", strerror(-r_boot));
        res->overridden = r_boot > 0;

        if (target == info->max_map_count) {
                if (!options->json)
                        printf("vm.max_map_count is already %" PRIu32
                               "; the running kernel needs no change.\n",
                               target);
                r = 0;
        } else {
                r = tune_apply_live(options->root, target);
                if (r == -EROFS || r == -EACCES || r == -EPERM)
                        fprintf(stderr,
                                "Failed to apply it now: %s is %s (running in a container?). %s takes "
                                "effect at the next boot, or on the host with 'sysctl --system'.\n",
                                proc, r == -EROFS ? "on a read-only file system" : "not writable", file);
                else if (r < 0)
                        fprintf(stderr, "Failed to write %s: %s\n", proc, strerror(-r));
                else {
                        res->live_updated = true;
                        if (!options->json)
                                printf("Raised vm.max_map_count from %" PRIu32 " to %" PRIu32 ".\n",
                                       info->max_map_count, target);
                }
        }

        /* Last, so that it is what the user reads. */
        if (res->overridden)
                log_overridden(&res->boot, file, target);
        if (r < 0)
                return r;
        if (r_boot < 0)
                return r_boot;
        return res->overridden ? EXIT_FAILURE : 0;
}

int tune_show(sd_bus *bus, const TuneOptions *options) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *clean = NULL;
        TuneResult res = {};
        ManagerInfo info;
        const char *reason;
        uint32_t value, target;
        int r;

        r = manager_info_get(bus, &info);
        if (r != 0)
                return r;
        /* The daemon reads the sysctl.d files once per pass; an admin who just edited one (and runs tune
         * --apply right after) must not get a target below it, nor be told to lower their file to it. So
         * the files are read here, now, and everything below (shown, JSON, target) uses that value. */
        info.tuned_max_map_count = tune_read_tuned(options->root, info.tuned_max_map_count);
        r = call_recommend(bus, &reply, &value, &reason);
        if (r != 0)
                goto finish;
        target = tune_target(info.max_map_count, info.tuned_max_map_count, value);

        if (options->apply) {
                r = tune_apply(options, target, &info, value, reason, &res);
                /* Once the file is written, the JSON document says so even when a later step failed. */
                if (r != 0 && !(options->json && res.file_written))
                        goto finish;
        } else {
                /* The preview writes nothing, but must not promise what --apply cannot keep: a file read
                 * after ours would undo it at the next boot, and the admin is to hear it before applying.
                 * The preview only informs, so its exit code stays 0 either way. */
                int k = tune_check_boot(options->root, target, false, &res.boot);
                if (k < 0)
                        fprintf(stderr,
                                "Failed to read the sysctl.d files, cannot tell whether one overrides %s at "
                                "boot: %s\n",
                                TUNE_SYSCTL_FILE, strerror(-k));
                res.overridden = k > 0;
        }

        if (options->json) {
                JsonWriter w;
                _cleanup_free_ char *file = NULL;
                int k;

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
                json_key_bool(&w, "live_updated", res.live_updated);
                json_key(&w, "overridden_by");
                if (res.overridden) {
                        json_begin_object(&w);
                        json_key_string(&w, "file", res.boot.source);
                        json_key_string(&w, "link_to", res.boot.target);
                        json_key(&w, "value");
                        if (res.boot.valid)
                                json_uint(&w, res.boot.value);
                        else
                                json_null(&w);
                        json_end_object(&w);
                } else
                        json_null(&w);
                json_end_object(&w);
                k = json_writer_finish_log(&w);
                /* The first failure decides the exit code: tune --apply's, else the writer's. */
                if (r == 0)
                        r = k;
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
        if (res.overridden) {
                _cleanup_free_ char *file = NULL, *text = NULL, *clean_text = NULL;

                r = tune_path(options->root, TUNE_SYSCTL_FILE, &file);
                if (r < 0)
                        goto finish;
                text = overridden_text(&res.boot, file, target, false);
                clean_text = text ? format_sanitize(text) : NULL;
                if (!clean_text) {
                        r = -ENOMEM;
                        goto finish;
                }
                printf("%16s", "At boot: ");
                format_wrap(stdout, clean_text, options->columns, 16);
        }

finish:
        tune_boot_done(&res.boot);
        manager_info_done(&info);
        return r;
}
