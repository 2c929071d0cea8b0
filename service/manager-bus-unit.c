/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manager-bus-caller.h"
#include "manager-bus-unit.h"
#include "manager-units.h"
#include "strv.h"
#include "util.h"

static int property_get_unit_level(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        WatchedUnit *u = userdata;

        return sd_bus_message_append(reply, "s", level_to_string(u->level));
}

static int property_get_unit_processes(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        WatchedUnit *u = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) u->n_procs);
}

/* The worst process's pid to who may learn of it, else 0 (as for a unit without processes). Only
 * invalidated in PropertiesChanged, which goes to everyone: a caller Gets it, and is answered as itself. */
static int property_get_unit_worst_pid(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        BusViewer v = bus_viewer(sd_bus_get_current_message(bus));
        const ProcState *worst = bus_worst_proc(&v, userdata);

        return sd_bus_message_append(reply, "u", worst ? (uint32_t) worst->pid : 0);
}

static int property_get_unit_last_exit(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        WatchedUnit *u = userdata;

        return sd_bus_message_append(reply, "s", u->crash_loop.last_exit);
}

/* The identity's string properties, by name. */
static int property_get_unit_identity(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        const UnitIdentity *id = &((WatchedUnit *) userdata)->identity;
        const struct {
                const char *property, *value;
        } table[] = {
                { "Kind", unit_kind_to_string(id->kind) },
                { "SystemdUnit", id->unit },
                { "UserUnit", id->user_unit },
                { "KubernetesNamespace", id->k8s_namespace },
                { "KubernetesPod", id->k8s_pod },
                { "KubernetesContainer", id->k8s_container },
                { "PodUID", id->pod_uid },
                { "ContainerID", id->container_id },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(property, table[i].property))
                        return sd_bus_message_append(reply, "s", table[i].value ?: "");
        return -ENOENT;
}

static int property_get_unit_owner_uid(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        const UnitIdentity *id = &((WatchedUnit *) userdata)->identity;

        return sd_bus_message_append(reply, "u",
                                     id->kind == UNIT_KIND_USER ? (uint32_t) id->owner_uid : UINT32_MAX);
}

static int method_unit_list_processes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        WatchedUnit *u = userdata;

        return manager_bus_reply_processes(message, u->manager, u);
}

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(WatchedUnit, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Level", "s", property_get_unit_level, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Processes", "u", property_get_unit_processes, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("WorstPID", "u", property_get_unit_worst_pid, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("MapCount", "u", NULL, offsetof(WatchedUnit, map_count),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PeakMapCount", "u", NULL, offsetof(WatchedUnit, peak_map_count),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Headroom", "u", NULL, offsetof(WatchedUnit, headroom),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("GrowthPerMinute", "d", NULL, offsetof(WatchedUnit, growth_per_minute),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SecondsToLimit", "t", NULL, offsetof(WatchedUnit, seconds_to_limit),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LimitHits", "t", NULL, offsetof(WatchedUnit, crash_loop.hits),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LimitExits", "t", NULL, offsetof(WatchedUnit, crash_loop.exits),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastLimitHitUSec", "t", NULL, offsetof(WatchedUnit, crash_loop.last_hit_usec),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastExit", "s", property_get_unit_last_exit, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Kind", "s", property_get_unit_identity, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SystemdUnit", "s", property_get_unit_identity, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UserUnit", "s", property_get_unit_identity, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUID", "u", property_get_unit_owner_uid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KubernetesNamespace", "s", property_get_unit_identity, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KubernetesPod", "s", property_get_unit_identity, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KubernetesContainer", "s", property_get_unit_identity, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PodUID", "s", property_get_unit_identity, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ContainerID", "s", property_get_unit_identity, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(usuusdt)", processes),
                                method_unit_list_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int unit_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                            void **ret_found, sd_bus_error *error) {
        WatchedUnit *u = manager_find_unit_by_path(userdata, path);

        if (!u)
                return 0;
        *ret_found = u;
        return 1;
}

static int unit_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                                sd_bus_error *error) {
        Manager *m = userdata;
        char **nodes;

        nodes = calloc(m->n_units + 1, sizeof(char *));
        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                nodes[i] = strdup(m->units[i]->object_path);
                if (!nodes[i]) {
                        strv_free(nodes);
                        return -ENOMEM;
                }
        }
        *ret_nodes = nodes;
        return 0;
}

int manager_bus_unit_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, &m->slots.unit_objects, BUS_UNIT_PREFIX, BUS_UNIT_INTERFACE,
                                       unit_vtable, unit_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, &m->slots.unit_enumerator, BUS_UNIT_PREFIX,
                                          unit_node_enumerator, m);
}
