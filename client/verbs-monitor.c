/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl monitor`: LevelChanged and LimitHit signals printed as they come, until SIGINT or SIGTERM;
 * for a user other than root, who does not receive them, the units' level changes and hits. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

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

/* What a caller other than root follows: the bus policy gives LevelChanged and LimitHit, which name a
 * process, to root only; everyone gets the units' PropertiesChanged, and from their Level, MapCount and
 * LimitHits the same events, without which process. */
typedef struct UnitSeen {
        char *path, *name, *level;
        uint32_t map_count;
        uint64_t limit_hits;
} UnitSeen;

typedef struct UnitMonitor {
        const MonitorOptions *options;
        uint32_t max_map_count;
        UnitSeen *units;
        size_t n, allocated;
} UnitMonitor;

static void unit_monitor_done(UnitMonitor *um) {
        for (size_t i = 0; i < um->n; i++) {
                free(um->units[i].path);
                free(um->units[i].name);
                free(um->units[i].level);
        }
        free(um->units);
}

/* The unit at PATH as last seen, or, new to us, as it is now (its name and hits asked for, its level not
 * known yet). Returns NULL when out of memory or when the unit cannot be asked about (gone again). */
static UnitSeen *unit_monitor_find(UnitMonitor *um, sd_bus *bus, const char *path, const char *name,
                                   const char *level, uint32_t map_count) {
        _cleanup_(client_unit_identity_done) UnitIdentityInfo id = { .owner_uid = UINT32_MAX };
        _cleanup_(client_unit_hits_done) UnitHits hits = {};
        UnitSeen *u;

        for (size_t i = 0; i < um->n; i++)
                if (streq(um->units[i].path, path))
                        return &um->units[i];
        if (!name) {
                if (client_unit_identity_get(bus, path, &id) < 0)
                        return NULL;
                name = id.name;
        }
        if (client_unit_hits_get(bus, path, &hits) < 0 ||
            ARRAY_RESERVE(um->units, um->allocated, um->n, 16) < 0)
                return NULL;
        u = &um->units[um->n];
        *u = (UnitSeen){ .path = strdup(path),
                         .name = strdup(name),
                         .level = strdup(level ?: "unknown"),
                         .map_count = map_count,
                         .limit_hits = hits.limit_hits };
        if (!u->path || !u->name || !u->level) {
                free(u->path);
                free(u->name);
                free(u->level);
                return NULL;
        }
        um->n++;
        return u;
}

static int print_unit_level(const UnitMonitor *um, const UnitSeen *u, const char *old_level) {
        const MonitorOptions *options = um->options;

        if (options->json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "unit", u->name);
                json_key_string(&w, "old_level", old_level);
                json_key_string(&w, "new_level", u->level);
                json_key_uint(&w, "map_count", u->map_count);
                json_key_uint(&w, "max_map_count", um->max_map_count);
                json_end_object(&w);
                return json_writer_finish(&w);
        }
        _cleanup_free_ char *name = format_sanitize(u->name), *o = format_sanitize(old_level),
                            *n = format_sanitize(u->level);
        const char *color = options->color ? format_level_color(u->level) : NULL;
        char ts[FORMAT_TIMESTAMP_MAX];

        if (!name || !o || !n)
                return -ENOMEM;
        printf("%s %s: %s -> %s%s%s, %" PRIu32 "/%" PRIu32 " maps\n",
               format_timestamp(ts, sizeof(ts), (uint64_t) time(NULL) * USEC_PER_SEC), name, o, color ?: "",
               n, color ? ANSI_NORMAL : "", u->map_count, um->max_map_count);
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int print_unit_hit(const UnitMonitor *um, const UnitSeen *u) {
        if (um->options->json) {
                JsonWriter w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key_string(&w, "event", "limit_hit");
                json_key_string(&w, "unit", u->name);
                json_key_uint(&w, "limit_hits", u->limit_hits);
                json_key_uint(&w, "map_count", u->map_count);
                json_key_uint(&w, "max_map_count", um->max_map_count);
                json_end_object(&w);
                return json_writer_finish(&w);
        }
        _cleanup_free_ char *name = format_sanitize(u->name);
        char ts[FORMAT_TIMESTAMP_MAX];

        if (!name)
                return -ENOMEM;
        printf("%s %s: LIMIT HIT (%" PRIu64 " in all), %" PRIu32 "/%" PRIu32 " maps\n",
               format_timestamp(ts, sizeof(ts), (uint64_t) time(NULL) * USEC_PER_SEC), name, u->limit_hits,
               u->map_count, um->max_map_count);
        return fflush(stdout) == 0 ? 0 : -errno;
}

/* PropertiesChanged of a unit object: a level change, and hits, printed as they come. */
static int on_unit_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitMonitor *um = userdata;
        const char *interface, *property, *level = NULL;
        uint32_t map_count = 0;
        uint64_t limit_hits = 0;
        bool have_count = false, have_hits = false;
        UnitSeen *u;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || !streq(interface, BUS_UNIT))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0) {
                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(m, "s", &property);
                if (r >= 0 && streq(property, "Level"))
                        r = sd_bus_message_read(m, "v", "s", &level);
                else if (r >= 0 && streq(property, "MapCount")) {
                        r = sd_bus_message_read(m, "v", "u", &map_count);
                        have_count = true;
                } else if (r >= 0 && streq(property, "LimitHits")) {
                        r = sd_bus_message_read(m, "v", "t", &limit_hits);
                        have_hits = true;
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0) {
                fprintf(stderr, "Ignoring a malformed PropertiesChanged signal: %s\n", strerror(-r));
                return 0;
        }

        u = unit_monitor_find(um, sd_bus_message_get_bus(m), sd_bus_message_get_path(m), NULL, NULL, 0);
        if (!u)
                return 0; /* gone already, or out of memory: the next change tells */
        if (have_count)
                u->map_count = map_count;
        if (level && !streq(level, u->level)) {
                _cleanup_free_ char *old = u->level;

                u->level = strdup(level);
                if (!u->level) {
                        u->level = TAKE_PTR(old);
                        return 0;
                }
                r = print_unit_level(um, u, old);
                if (r < 0)
                        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), EXIT_FAILURE);
        }
        if (have_hits && limit_hits > u->limit_hits) {
                u->limit_hits = limit_hits;
                r = print_unit_hit(um, u);
                if (r < 0)
                        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), EXIT_FAILURE);
        } else if (have_hits)
                u->limit_hits = limit_hits;
        return 0;
}

/* Subscribes to the units' PropertiesChanged, then learns where each unit is now, so that the first change
 * printed has the level it changed from. Returns 0 or -errno (printed). */
static int unit_monitor_start(sd_bus *bus, UnitMonitor *um, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(client_manager_info_done) ManagerInfo info = {};
        _cleanup_free_ UnitInfo *units = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_match_signal(bus, ret_slot, BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_unit_properties_changed, um);
        if (r < 0) {
                fprintf(stderr, "Failed to subscribe to the units' PropertiesChanged: %s\n", strerror(-r));
                return r;
        }
        r = client_manager_info_get(bus, &info);
        if (r < 0)
                return r;
        um->max_map_count = info.max_map_count;
        r = client_unit_list_get(bus, &reply, &units, &n);
        if (r < 0)
                return r;
        /* One that is gone meanwhile (said on stderr) is learnt of again at its next change. */
        for (size_t i = 0; i < n; i++)
                (void) unit_monitor_find(um, bus, units[i].object_path, units[i].unit, units[i].level,
                                         units[i].map_count);
        return 0;
}

int monitor_run(sd_bus *bus, const MonitorOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL, *hit_slot = NULL;
        _cleanup_(unit_monitor_done) UnitMonitor um = { .options = options };
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
        if (options->units) {
                r = unit_monitor_start(bus, &um, &slot);
                if (r < 0)
                        return r;
        } else {
                r = sd_bus_match_signal(bus, &slot, BUS_NAME, BUS_PATH, BUS_MANAGER, "LevelChanged",
                                        on_level_changed, (void *) options);
                if (r >= 0)
                        r = sd_bus_match_signal(bus, &hit_slot, BUS_NAME, BUS_PATH, BUS_MANAGER, "LimitHit",
                                                on_limit_hit, (void *) options);
                if (r < 0) {
                        fprintf(stderr, "Failed to subscribe to LevelChanged and LimitHit: %s\n",
                                strerror(-r));
                        return r;
                }
        }
        r = sd_bus_get_property_string(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "Version", &error, &version);
        if (r < 0)
                return client_bus_error_log("reach mapguardd", &error, r);
        if (options->legend) {
                _cleanup_free_ char *v = format_sanitize(version);
                fprintf(stderr, "Monitoring level changes of mapguardd %s%s. Press Ctrl+C to stop.\n",
                        v ?: "", options->units ? " (units only: which process is told to root alone)" : "");
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
                /* The bus policy gives the signals that name a process to root only. */
                .units = geteuid() != 0,
        };
        sd_bus **bus = userdata;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        return monitor_run(*bus, &options);
}
