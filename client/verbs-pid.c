/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl pid PID`: GetProcess() fetched into a struct, printed as text or JSON. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-bus.h"
#include "format.h"
#include "json.h"
#include "mapguardctl.h"
#include "util.h"
#include "verbs-pid.h"

/* GetProcess()'s answer; strings point into the reply message. */
typedef struct PidInfo {
        uint32_t pid;
        const char *unit;
        const char *comm;
        uint32_t map_count;
        uint32_t max_map_count;
        uint32_t headroom;
        const char *level;
} PidInfo;

int parse_pid(const char *s, uint32_t *ret) {
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

/* Calls GetProcess(info->pid) and fills the rest of *info, its strings in *ret_reply. Returns 0 or -errno
 * (printed). */
static int pid_info_get(sd_bus *bus, PidInfo *info, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = client_call_manager(bus, "GetProcess", &error, &reply, "u", info->pid);
        if (r < 0)
                return client_bus_error_log("look up the process", &error, r);
        r = sd_bus_message_read(reply, "ssuuus", &info->unit, &info->comm, &info->map_count,
                                &info->max_map_count, &info->headroom, &info->level);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the answer about pid %" PRIu32 ": %s\n", info->pid,
                        strerror(-r));
                return r;
        }
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int json_pid(const PidInfo *p) {
        JsonWriter w;

        json_writer_init(&w, stdout);
        json_begin_object(&w);
        json_key_uint(&w, "pid", p->pid);
        json_key_string(&w, "unit", p->unit);
        json_key_string(&w, "comm", p->comm);
        json_key_uint(&w, "map_count", p->map_count);
        json_key_uint(&w, "max_map_count", p->max_map_count);
        json_key_uint(&w, "headroom", p->headroom);
        json_key_string(&w, "level", p->level);
        json_end_object(&w);
        return json_finish(&w);
}

static int print_pid(const PidInfo *p) {
        _cleanup_free_ char *u = format_sanitize(p->unit), *c = format_sanitize(p->comm),
                            *l = format_sanitize(p->level);
        const char *color = arg_color ? format_level_color(p->level) : NULL;
        char hr[FORMAT_HEADROOM_MAX];

        if (!u || !c || !l)
                return -ENOMEM;
        printf("     PID: %" PRIu32 " (%s)\n", p->pid, c);
        printf("    Unit: %s\n", *u ? u : "none (not in a watched unit)");
        printf("    Maps: %" PRIu32 " of %" PRIu32 "\n", p->map_count, p->max_map_count);
        printf("Headroom: %s\n", format_headroom(hr, sizeof(hr), p->headroom, p->max_map_count));
        printf("   Level: %s%s%s\n", color ?: "", l, color ? ANSI_NORMAL : "");
        return 0;
}

int verb_pid(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus **bus = userdata;
        PidInfo info = {};
        int r;

        /* A typo is not the daemon's business: said before the bus is tried. */
        r = pid_arg(argv[1], &info.pid);
        if (r < 0)
                return r;
        r = acquire_bus(bus);
        if (r < 0)
                return r;
        r = pid_info_get(*bus, &info, &reply);
        if (r < 0)
                return r;
        return arg_json ? json_pid(&info) : print_pid(&info);
}
