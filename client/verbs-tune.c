/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl recommend` and `mapguardctl tune [--apply]`: the daemon's recommendation beside the live
 * and tuned limits, and applying it. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "tune.h"
#include "util.h"
#include "verbs-tune.h"

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

        r = client_call_manager(bus, "Recommend", &error, &reply, NULL);
        if (r < 0)
                return client_bus_error_log("get a recommendation", &error, r);
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
        if (r < 0)
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

/* A file that root cannot write (read-only, a container's /proc/sys) is not "run as root": -EACCES, which
 * main() maps to EXIT_NOPERMISSION, is kept for that. Returns r, with -EACCES as -EPERM. */
static int not_denied(int r) {
        return r == -EACCES ? -EPERM : r;
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

/* Sets the live value (proc) to target, unless it is already there (live), saying what it did. Returns 0,
 * or -errno (printed): the file was written all the same. */
static int tune_apply_now(const TuneOptions *options, uint32_t target, uint32_t live, const char *file,
                          const char *proc, TuneResult *res) {
        int r;

        if (target == live) {
                if (!options->json)
                        printf("vm.max_map_count is already %" PRIu32
                               "; the running kernel needs no change.\n",
                               target);
                return 0;
        }
        r = tune_apply_live(options->root, target);
        if (r == -EROFS || r == -EACCES || r == -EPERM)
                fprintf(stderr,
                        "Failed to apply it now: %s is %s (running in a container?). %s takes effect at the "
                        "next boot, or on the host with 'sysctl --system'.\n",
                        proc, r == -EROFS ? "on a read-only file system" : "not writable", file);
        else if (r < 0)
                fprintf(stderr, "Failed to write %s: %s\n", proc, strerror(-r));
        else {
                res->live_updated = true;
                if (!options->json)
                        printf("Raised vm.max_map_count from %" PRIu32 " to %" PRIu32 ".\n", live, target);
        }
        return r;
}

/* Writes the sysctl.d file, reads the sysctl.d files back as the boot will, and writes the live value.
 * Returns 0; -EEXIST when another file overrides ours at boot (printed); or -errno (printed), -EROFS etc.
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
                return not_denied(r);
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

        r = tune_apply_now(options, target, info->max_map_count, file, proc, res);

        /* Last, so that it is what the user reads. */
        if (res->overridden)
                log_overridden(&res->boot, file, target);
        if (r < 0)
                return not_denied(r);
        if (r_boot < 0)
                return not_denied(r_boot);
        return res->overridden ? -EEXIST : 0;
}

/* What `tune` shows: the Manager's properties (the tuned value as the sysctl.d files say now), the
 * recommendation, the target, and what --apply did. Release with tune_state_done(). */
typedef struct TuneState {
        ManagerInfo info;
        sd_bus_message *reply; /* Recommend()'s answer, which reason points into. */
        uint32_t value;
        const char *reason;
        uint32_t target;
        TuneResult res;
} TuneState;

static void tune_state_done(TuneState *t) {
        tune_boot_done(&t->res.boot);
        client_manager_info_done(&t->info);
        t->reply = sd_bus_message_unref(t->reply);
}

/* Fills *t: properties, the sysctl.d files of options->root, the recommendation, and the target. Returns
 * 0 or -errno (printed). */
static int tune_state_get(sd_bus *bus, const TuneOptions *options, TuneState *t) {
        int r;

        r = client_manager_info_get(bus, &t->info);
        if (r < 0)
                return r;
        /* The daemon reads the sysctl.d files once per pass; an admin who just edited one (and runs tune
         * --apply right after) must not get a target below it, nor be told to lower their file to it. So
         * the files are read here, now, and everything below (shown, JSON, target) uses that value. */
        t->info.tuned_max_map_count = tune_read_tuned(options->root, t->info.tuned_max_map_count);
        r = call_recommend(bus, &t->reply, &t->value, &t->reason);
        if (r < 0)
                return r;
        t->target = tune_target(t->info.max_map_count, t->info.tuned_max_map_count, t->value);
        return 0;
}

/* The preview writes nothing, but must not promise what --apply cannot keep: a file read after ours would
 * undo it at the next boot, and the admin is to hear it before applying. The preview only informs, so its
 * failure to read the files is said and not returned. */
static void tune_preview_boot(const TuneOptions *options, TuneState *t) {
        int k = tune_check_boot(options->root, t->target, false, &t->res.boot);

        if (k < 0)
                fprintf(stderr,
                        "Failed to read the sysctl.d files, cannot tell whether one overrides %s at boot: "
                        "%s\n",
                        TUNE_SYSCTL_FILE, strerror(-k));
        t->res.overridden = k > 0;
}

static int json_tune(const TuneOptions *options, const TuneState *t) {
        _cleanup_free_ char *file = NULL;
        JsonWriter w;

        if (options->apply && tune_path(options->root, TUNE_SYSCTL_FILE, &file) < 0)
                return -ENOMEM;
        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_uint(&w, "max_map_count", t->info.max_map_count);
        json_key_uint(&w, "tuned_max_map_count", t->info.tuned_max_map_count);
        json_key_uint(&w, "value", t->value);
        json_key_string(&w, "reason", t->reason);
        json_key_uint(&w, "target", t->target);
        json_key_bool(&w, "applied", options->apply);
        json_key_string(&w, "file", file);
        json_key_bool(&w, "live_updated", t->res.live_updated);
        json_key(&w, "overridden_by");
        if (t->res.overridden) {
                json_begin_object(&w);
                json_key_string(&w, "file", t->res.boot.source);
                json_key_string(&w, "link_to", t->res.boot.target);
                json_key(&w, "value");
                if (t->res.boot.valid)
                        json_uint(&w, t->res.boot.value);
                else
                        json_null(&w);
                json_end_object(&w);
        } else
                json_null(&w);
        json_end_object(&w);
        return json_writer_finish_log(&w);
}

/* The preview's "At boot:" line: which later file would undo --apply. Returns 0 or -ENOMEM. */
static int print_tune_overridden(const TuneOptions *options, const TuneState *t) {
        _cleanup_free_ char *file = NULL, *text = NULL, *clean = NULL;
        int r;

        r = tune_path(options->root, TUNE_SYSCTL_FILE, &file);
        if (r < 0)
                return r;
        text = overridden_text(&t->res.boot, file, t->target, false);
        clean = text ? format_sanitize(text) : NULL;
        if (!clean)
                return -ENOMEM;
        printf("%16s", "At boot: ");
        format_wrap(stdout, clean, options->columns, 16);
        return 0;
}

/* The preview as text. Returns 0 or -ENOMEM. */
static int print_tune(const TuneOptions *options, const TuneState *t) {
        _cleanup_free_ char *clean = format_sanitize(t->reason);
        const ManagerInfo *info = &t->info;

        if (!clean)
                return -ENOMEM;
        printf("    Live limit: %" PRIu32 " (vm.max_map_count)\n", info->max_map_count);
        if (info->tuned_max_map_count > 0)
                printf("   Tuned limit: %" PRIu32 " (sysctl.d)\n", info->tuned_max_map_count);
        else
                printf("   Tuned limit: not set in sysctl.d\n");
        printf("Recommendation: %" PRIu32 "\n%16s", t->value, "");
        format_wrap(stdout, clean, options->columns, 16);
        if (t->target > info->max_map_count || t->target > info->tuned_max_map_count)
                printf("      To apply: mapguardctl tune --apply (as root) sets %" PRIu32 " now and in %s\n",
                       t->target, TUNE_SYSCTL_FILE);
        else
                printf("      To apply: nothing to do, the limit already covers the recommendation\n");
        if (t->res.overridden)
                return print_tune_overridden(options, t);
        return 0;
}

int tune_show(sd_bus *bus, const TuneOptions *options) {
        _cleanup_(tune_state_done) TuneState t = {};
        int r, k;

        r = tune_state_get(bus, options, &t);
        if (r < 0)
                return r;
        if (options->apply) {
                r = tune_apply(options, t.target, &t.info, t.value, t.reason, &t.res);
                /* Once the file is written, the JSON document says so even when a later step failed. */
                if (r < 0 && !(options->json && t.res.file_written))
                        return r;
        } else
                tune_preview_boot(options, &t);

        if (options->json) {
                k = json_tune(options, &t);
                /* The first failure decides the exit code: tune --apply's, else the writer's. */
                return r < 0 ? r : k;
        }
        /* tune --apply said what it did as it went. */
        return options->apply ? r : print_tune(options, &t);
}

int verb_recommend(int argc, char *argv[], void *userdata) {
        TuneOptions options = {
                .json = arg_json,
                .columns = arg_columns,
        };
        sd_bus **bus = userdata;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        return tune_show_recommendation(*bus, &options);
}

int verb_tune(int argc, char *argv[], void *userdata) {
        TuneOptions options = {
                .json = arg_json,
                .apply = arg_apply,
                .root = arg_root,
                .columns = arg_columns,
        };
        sd_bus **bus = userdata;
        int r;

        if (arg_apply && geteuid() != 0) {
                fprintf(stderr, "tune --apply changes a kernel setting and writes to /etc; run as root.\n");
                return -EACCES;
        }
        r = acquire_bus(bus);
        if (r < 0)
                return r;
        return tune_show(*bus, &options);
}
