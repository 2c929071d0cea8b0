/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `mapguardctl metrics`: the bus, then metrics_print(). */

#include "mapguardctl.h"
#include "metrics.h"
#include "verbs-metrics.h"

int verb_metrics(int argc, char *argv[], void *userdata) {
        sd_bus **bus = userdata;
        int r;

        r = acquire_bus(bus);
        if (r < 0)
                return r;
        return metrics_print(*bus);
}
