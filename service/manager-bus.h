/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager on the bus: connecting, and the D-Bus API (dbus/org.mapguard1.xml): the Manager object
 * and one object per watched unit, their properties and methods. The signals and PropertiesChanged go
 * out through manager-announce.h. */

#include <systemd/sd-bus.h>

#include "manager.h"

/* Connects to the system bus, registers our objects, subscribes to systemd's unit signals, lists the
 * matching units, requests org.mapguard1 and runs the first pass. Returns 0 or -errno (logged). */
int manager_connect_system(Manager *m);

/* Registers our objects and vtables on BUS (a private connection in tests). Returns 0 or -errno. */
int manager_attach_bus(Manager *m, sd_bus *bus);
