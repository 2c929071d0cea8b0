/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct MonitorOptions {
        bool json;   /* One JSON object per line instead of text. */
        bool legend; /* Say on stderr when the subscription stands. */
        bool color;  /* Colour the new level. */
        bool units; /* Follow the units' PropertiesChanged (Level, MapCount, LimitHits), not LevelChanged and
                     * LimitHit: which process is not said. What a user other than root receives. */
} MonitorOptions;

/* Subscribes to LevelChanged and LimitHit of org.mapguard1 (or the units' changes), checks that the daemon
 * answers (activating it if need be), then prints each signal on its own line, flushed, until SIGINT or
 * SIGTERM. The "Monitoring ..." line on stderr (with options->legend) comes after the subscription, so no
 * change after it can be missed. Returns 0 after a signal, or -errno (printed) when setting up failed, the
 * bus closed or stdout broke
 * (-EACCES: access denied). */
int monitor_run(sd_bus *bus, const MonitorOptions *options);

/* The verb `monitor` (a VerbFunction, verbs.h; userdata is main()'s sd_bus **): monitor_run() with the
 * command line's options. Returns what it returns. */
int verb_monitor(int argc, char *argv[], void *userdata);
