/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl monitor`: LevelChanged and LimitHit signals printed as they come, until SIGINT or SIGTERM. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "util.h"
#include "verbs-monitor.h"

static int on_level_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const MonitorOptions *options = userdata;
        const char *unit, *comm, *old_level, *new_level;
        uint32_t pid, map_count, max_map_count;
        int r;

        r = sd_bus_message_read(m, "susssuu", &unit, &pid, &comm, &old_level, &new_level, &map_count,
                                &max_map_count);
        if (r < 0) {
                /* A malformed signal is the sender's bug; keep monitoring the well-formed ones. */
                fprintf(stderr, "Ignoring a malformed LevelChanged signal: %s\n", strerror(-r));
                return 0;
        }

        if (options->json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "unit", unit);
                json_key_uint(&w, "pid", pid);
                json_key_string(&w, "comm", comm);
                json_key_string(&w, "old_level", old_level);
                json_key_string(&w, "new_level", new_level);
                json_key_uint(&w, "map_count", map_count);
                json_key_uint(&w, "max_map_count", max_map_count);
                json_end_object(&w);
                r = json_writer_finish(&w);
        } else {
                _cleanup_free_ char *u = format_sanitize(unit), *c = format_sanitize(comm),
                                    *o = format_sanitize(old_level), *n = format_sanitize(new_level);
                const char *color = options->color ? format_level_color(new_level) : NULL;
                char ts[FORMAT_TIMESTAMP_MAX];

                if (!u || !c || !o || !n)
                        return -ENOMEM;
                printf("%s %s pid %" PRIu32 " (%s): %s -> %s%s%s, %" PRIu32 "/%" PRIu32 " maps\n",
                       format_timestamp(ts, sizeof(ts), (uint64_t) time(NULL) * USEC_PER_SEC), u, pid, c, o,
                       color ?: "", n, color ? ANSI_NORMAL : "", map_count, max_map_count);
                /* Each change must reach a pipe (a log collector) as it happens, not at exit. */
                r = fflush(stdout) == 0 ? 0 : -errno;
        }
        if (r < 0)
                return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), EXIT_FAILURE);
        return 0;
}

/* LimitHit: a burst of mapping calls of a watched process failed at the limit (syscall "" when a read
 * found it there). */
static int on_limit_hit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const MonitorOptions *options = userdata;
        const char *unit, *comm, *syscall;
        uint32_t pid, map_count, max_map_count;
        int r;

        r = sd_bus_message_read(m, "sussuu", &unit, &pid, &comm, &syscall, &map_count, &max_map_count);
        if (r < 0) {
                fprintf(stderr, "Ignoring a malformed LimitHit signal: %s\n", strerror(-r));
                return 0;
        }
        if (options->json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "event", "limit_hit");
                json_key_string(&w, "unit", unit);
                json_key_uint(&w, "pid", pid);
                json_key_string(&w, "comm", comm);
                json_key_string(&w, "syscall", syscall);
                json_key_uint(&w, "map_count", map_count);
                json_key_uint(&w, "max_map_count", max_map_count);
                json_end_object(&w);
                r = json_writer_finish(&w);
        } else {
                _cleanup_free_ char *u = format_sanitize(unit), *c = format_sanitize(comm),
                                    *sc = format_sanitize(syscall);
                char ts[FORMAT_TIMESTAMP_MAX];

                if (!u || !c || !sc)
                        return -ENOMEM;
                printf("%s %s pid %" PRIu32 " (%s): LIMIT HIT%s%s%s, %" PRIu32 "/%" PRIu32 " maps\n",
                       format_timestamp(ts, sizeof(ts), (uint64_t) time(NULL) * USEC_PER_SEC), u, pid, c,
                       *sc ? ": " : " (observed)", sc, *sc ? "() failed" : "", map_count, max_map_count);
                r = fflush(stdout) == 0 ? 0 : -errno;
        }
        if (r < 0)
                return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), EXIT_FAILURE);
        return 0;
}

int monitor_run(sd_bus *bus, const MonitorOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL, *hit_slot = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *version = NULL;
        sigset_t mask;
        int r, code;

        /* Signals are taken by sd-event, so they must not be delivered the classic way. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = sd_event_default(&e);
        if (r < 0)
                goto fail;
        /* A NULL handler makes sd-event exit the loop with code 0: an interrupt is the normal end. */
        r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r < 0)
                goto fail;

        /* Subscribe first, then ask for the version: the daemon is known to run (or was activated by the
         * call) when the first line appears, and no change after that line can be missed. */
        r = sd_bus_match_signal(bus, &slot, BUS_NAME, BUS_PATH, BUS_MANAGER, "LevelChanged",
                                on_level_changed, (void *) options);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &hit_slot, BUS_NAME, BUS_PATH, BUS_MANAGER, "LimitHit",
                                        on_limit_hit, (void *) options);
        if (r < 0) {
                fprintf(stderr, "Failed to subscribe to LevelChanged and LimitHit: %s\n", strerror(-r));
                return r;
        }
        r = sd_bus_get_property_string(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "Version", &error, &version);
        if (r < 0)
                return client_bus_error_log("reach mapguardd", &error, r);
        if (options->legend) {
                _cleanup_free_ char *v = format_sanitize(version);
                fprintf(stderr, "Monitoring level changes of mapguardd %s. Press Ctrl+C to stop.\n",
                        v ?: "");
        }

        r = sd_event_loop(e);
        if (r < 0)
                goto fail;
        code = r;
        if (code != 0)
                fprintf(stderr, "Stopped monitoring: %s\n",
                        sd_bus_is_open(bus) > 0 ? "cannot write to standard output"
                                                : "the bus connection closed");
        return code == 0 ? 0 : -EIO;

fail:
        fprintf(stderr, "Failed to set up the event loop: %s\n", strerror(-r));
        return r;
}

int verb_monitor(int argc, char *argv[], void *userdata) {
        MonitorOptions options = {
                .json = arg_json,
                .legend = arg_legend,
                .color = arg_color,
        };
        sd_bus **bus = userdata;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        return monitor_run(*bus, &options);
}
