/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl rescan` and `reload`: one Manager call each, nothing to show but failure. */

#include <stdio.h>

#include "client-bus.h"
#include "json.h"
#include "mapguardctl.h"
#include "util.h"
#include "verbs-control.h"

static int control_call(sd_bus **bus, const char *method, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        r = client_call_manager(*bus, method, &error, NULL, NULL);
        if (r < 0)
                return client_bus_error_log(action, &error, r);
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

int verb_rescan(int argc, char *argv[], void *userdata) {
        return control_call(userdata, "Rescan", "rescan");
}

int verb_reload(int argc, char *argv[], void *userdata) {
        return control_call(userdata, "Reload", "reload the configuration");
}
