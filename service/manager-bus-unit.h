/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The unit objects on the bus (/org/mapguard1/unit/NAME, interface org.mapguard1.Unit): their properties
 * and ListProcesses(), found by path, enumerated for introspection and GetManagedObjects(). */

#include "manager.h"

/* Registers the unit objects (a fallback vtable and a node enumerator) on m->bus. Returns 0 or -errno. */
int manager_bus_unit_register(Manager *m);
