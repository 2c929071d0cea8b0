/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl check`: GetHeadroom() and the thresholds fetched into a CheckInfo, judged by format_check(),
 * printed as the plugin line or JSON. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "strv.h"
#include "util.h"
#include "verbs-check.h"

/* What `check` asks mapguardd. The strings of headroom point into reply; release with check_info_done(). */
typedef struct CheckInfo {
        sd_bus_message *reply;
        Headroom headroom;
        uint32_t warning_percent;
        uint32_t critical_percent;
        char **watched_units; /* Read only when headroom names no unit. */
} CheckInfo;

static void check_info_done(CheckInfo *c) {
        c->reply = sd_bus_message_unref(c->reply);
        c->watched_units = strv_free(c->watched_units);
}

/* Fills *c from the bus. Returns 0, or -errno with the sentence that says why in why (nothing printed:
 * the caller reports it as UNKNOWN). */
static int check_info_get(sd_bus *bus, CheckInfo *c, char *why, size_t size) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Headroom *h = &c->headroom;
        int r;

        r = client_call_manager(bus, "GetHeadroom", &error, &c->reply, NULL);
        if (r < 0)
                return client_bus_error_explain("ask mapguardd for the headroom", &error, r, why, size);
        r = sd_bus_message_read(c->reply, "susuuus", &h->unit, &h->pid, &h->comm, &h->map_count,
                                &h->max_map_count, &h->headroom, &h->level);
        if (r < 0) {
                snprintf(why, size, "Failed to parse the answer of mapguardd: %s", strerror(-r));
                return r;
        }
        r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "WarningPercent", &error, 'u',
                                        &c->warning_percent);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "CriticalPercent",
                                                &error, 'u', &c->critical_percent);
        if (r < 0)
                return client_bus_error_explain("read the thresholds", &error, r, why, size);

        /* Without a unit in the answer, WatchedUnits tells "not scanned yet" from "nothing to scan". */
        if (!*h->unit) {
                r = sd_bus_get_property_strv(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "WatchedUnits", &error,
                                             &c->watched_units);
                if (r < 0)
                        return client_bus_error_explain("read the watched units", &error, r, why, size);
        }
        return 0;
}

/* Reports UNKNOWN with the reason. A monitoring system reads the plugin's standard output, so the reason
 * goes there, not to stderr. Returns CHECK_UNKNOWN. */
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

static int json_check(const CheckInfo *c, int code) {
        const Headroom *h = &c->headroom;
        JsonWriter w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_string(&w, "status", format_check_status(code));
        json_key_string(&w, "unit", h->unit);
        /* Another user's process is told to root only: pid 0, comm "" from the daemon. */
        json_key(&w, "pid");
        if (h->pid == 0)
                json_null(&w);
        else
                json_uint(&w, h->pid);
        json_key(&w, "comm");
        if (h->pid == 0)
                json_null(&w);
        else
                json_string(&w, h->comm);
        json_key_uint(&w, "map_count", h->map_count);
        json_key_uint(&w, "max_map_count", h->max_map_count);
        json_key_uint(&w, "headroom", h->headroom);
        json_key_string(&w, "level", h->level);
        json_key_uint(&w, "warning_percent", c->warning_percent);
        json_key_uint(&w, "critical_percent", c->critical_percent);
        json_end_object(&w);
        return json_writer_finish(&w);
}

/* The unit at the limit that makes `check` CRITICAL, if any: the most recent hit within the hit window,
 * else a unit held down at the limit (level critical without processes: systemd restarts it, or it sits
 * failed); and the first unit whose processes could not be read (level unknown with processes). */
typedef struct CheckHits {
        char *unit;
        UnitHits hits;
        bool held;
        char *stale_unit;
} CheckHits;

static void check_hits_done(CheckHits *w) {
        w->unit = mfree(w->unit);
        w->stale_unit = mfree(w->stale_unit);
        client_unit_hits_done(&w->hits);
}

static int check_hits_get(sd_bus *bus, uint64_t now, CheckHits *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ UnitInfo *units = NULL;
        size_t n = 0;
        int r;

        r = client_unit_list_get(bus, &reply, &units, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool held = streq(units[i].level, "critical") && units[i].processes == 0;
                UnitHits w = {};

                if (!ret->stale_unit && streq(units[i].level, "unknown") && units[i].processes > 0 &&
                    !(ret->stale_unit = strdup(units[i].unit)))
                        return -ENOMEM;
                r = client_unit_hits_get(bus, units[i].object_path, &w);
                if (r < 0)
                        return r;
                bool recent = w.last_limit_hit_usec > 0 && now >= w.last_limit_hit_usec &&
                        now - w.last_limit_hit_usec <= arg_hit_window_usec;
                if ((recent || held) &&
                    (!ret->unit || w.last_limit_hit_usec > ret->hits.last_limit_hit_usec)) {
                        check_hits_done(&(CheckHits){ .unit = ret->unit, .hits = ret->hits });
                        ret->unit = strdup(units[i].unit);
                        ret->hits = w;
                        ret->held = held && !recent;
                        if (!ret->unit)
                                return -ENOMEM;
                } else
                        client_unit_hits_done(&w);
        }
        return 0;
}

static int json_check_hits(const CheckHits *w, int code) {
        JsonWriter wr;

        json_writer_init(&wr, stdout);
        json_begin_object(&wr);
        json_key_string(&wr, "status", format_check_status(code));
        json_key_string(&wr, "unit", w->unit);
        json_key_string(&wr, "level", "critical");
        json_key_uint(&wr, "limit_hits", w->hits.limit_hits);
        json_key_uint(&wr, "limit_exits", w->hits.limit_exits);
        json_key_uint(&wr, "last_limit_hit_usec", w->hits.last_limit_hit_usec);
        json_key_string(&wr, "last_exit", w->hits.last_exit ?: "");
        json_end_object(&wr);
        return json_writer_finish(&wr);
}

static int print_check(const char *line) {
        printf("%s\n", line);
        return fflush(stdout) == 0 ? 0 : -EIO;
}

int verb_check(int argc, char *argv[], void *userdata) {
        _cleanup_(check_info_done) CheckInfo c = {};
        _cleanup_(check_hits_done) CheckHits hits = {};
        _cleanup_free_ char *line = NULL;
        sd_bus **bus = userdata;
        char why[1024];
        int r, code;

        r = acquire_bus_explain(bus, why, sizeof(why));
        if (r >= 0)
                r = check_info_get(*bus, &c, why, sizeof(why));
        if (r < 0)
                return check_unknown(why);

        code = format_check(&c.headroom, *c.headroom.unit || strv_length(c.watched_units) > 0,
                            c.warning_percent, c.critical_percent, &line);
        if (code < 0)
                return code;
        /* The plugin precedence: CRITICAL (a process at its level, or a unit at the limit), WARNING,
         * UNKNOWN (a unit whose processes could not be read), OK. */
        if (code != CHECK_CRITICAL) {
                uint64_t now = now_usec(CLOCK_REALTIME);

                r = check_hits_get(*bus, now, &hits);
                if (r < 0) {
                        snprintf(why, sizeof(why), "Failed to read the limit hits of the units: %s",
                                 strerror(-r));
                        return check_unknown(why);
                }
                if (hits.unit) {
                        line = mfree(line);
                        code = format_check_hits(hits.unit, now,
                                                 hits.held ? 0 : hits.hits.last_limit_hit_usec,
                                                 hits.hits.limit_hits, hits.hits.limit_exits, &line);
                } else if (code != CHECK_WARNING && hits.stale_unit) {
                        line = mfree(line);
                        code = format_check_stale(hits.stale_unit, &line);
                }
                if (code < 0)
                        return code;
        }
        if (arg_json && hits.unit)
                r = json_check_hits(&hits, code);
        else
                r = arg_json ? json_check(&c, code) : print_check(line);
        /* Output that did not reach the monitoring system says nothing: UNKNOWN, whatever it said. */
        return r < 0 ? CHECK_UNKNOWN : code;
}
