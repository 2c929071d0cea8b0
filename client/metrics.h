/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `mapguardctl metrics`: the Prometheus exposition that mapguardd writes for node_exporter, rebuilt from
 * the D-Bus API and printed through the same writer (service/core/exposition.h). */

#include <systemd/sd-bus.h>

/* Fetches the Manager's properties, ListUnits() and each unit's object, and formats them. A unit's
 * control group (for the Kubernetes labels) is asked of systemd on the same bus; without an answer the
 * unit simply has no such labels. The limit-hit families appear when mapguardd has the HitDetection
 * property. mapguard_scan_duration_seconds is left out: the API does not carry it. Returns 0 with the
 * malloc'd text in *RET, or what a verb returns (-errno, or EXIT_NOPERMISSION), the reason printed to
 * stderr. */
int metrics_get(sd_bus *bus, char **ret);

/* metrics_get(), printed to stdout. Returns 0, -errno or EXIT_NOPERMISSION (as metrics_get()). */
int metrics_print(sd_bus *bus);
