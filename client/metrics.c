/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-bus.h"
#include "exposition.h"
#include "metrics.h"
#include "util.h"

#define BUS_UNIT "org.mapguard1.Unit"

/* What ListUnits() does not say about a unit: its object's properties. */
typedef struct UnitExtra {
        uint32_t peak_map_count;
        uint64_t seconds_to_limit;
        uint64_t limit_hits, limit_exits;
        /* NULL: none ("" on the bus, or a daemon without them) */
        char *kind, *k8s_namespace, *k8s_pod, *k8s_container, *pod_uid, *container_id;
} UnitExtra;

static void unit_extra_done(UnitExtra *x) {
        x->kind = mfree(x->kind);
        x->k8s_namespace = mfree(x->k8s_namespace);
        x->k8s_pod = mfree(x->k8s_pod);
        x->k8s_container = mfree(x->k8s_container);
        x->pod_uid = mfree(x->pod_uid);
        x->container_id = mfree(x->container_id);
}

/* A string property that is there only when not empty. Returns 0 or -errno. */
static int read_optional_string(sd_bus_message *reply, char **ret) {
        const char *s;
        int r;

        r = sd_bus_message_read(reply, "v", "s", &s);
        if (r < 0 || s[0] == '\0')
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int unit_extra_read(sd_bus *bus, const UnitInfo *u, UnitExtra *x) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, u->object_path, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &reply, "s", BUS_UNIT);
        if (r < 0)
                return client_bus_error_log("read the properties of a watched unit", &error, r);

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0) {
                const char *name;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "PeakMapCount"))
                        r = sd_bus_message_read(reply, "v", "u", &x->peak_map_count);
                else if (streq(name, "SecondsToLimit"))
                        r = sd_bus_message_read(reply, "v", "t", &x->seconds_to_limit);
                else if (streq(name, "LimitHits"))
                        r = sd_bus_message_read(reply, "v", "t", &x->limit_hits);
                else if (streq(name, "LimitExits"))
                        r = sd_bus_message_read(reply, "v", "t", &x->limit_exits);
                else if (streq(name, "Kind"))
                        r = read_optional_string(reply, &x->kind);
                else if (streq(name, "KubernetesNamespace"))
                        r = read_optional_string(reply, &x->k8s_namespace);
                else if (streq(name, "KubernetesPod"))
                        r = read_optional_string(reply, &x->k8s_pod);
                else if (streq(name, "KubernetesContainer"))
                        r = read_optional_string(reply, &x->k8s_container);
                else if (streq(name, "PodUID"))
                        r = read_optional_string(reply, &x->pod_uid);
                else if (streq(name, "ContainerID"))
                        r = read_optional_string(reply, &x->container_id);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the properties of %s: %s\n", u->unit, strerror(-r));
                return r;
        }
        return 0;
}

/* "caught" or "observed" from a mapguardd that detects limit hits; NULL from one that does not. */
static char *manager_hit_detection(sd_bus *bus) {
        char *s = NULL;

        if (sd_bus_get_property_string(bus, BUS_NAME, BUS_PATH, BUS_MANAGER, "HitDetection", NULL, &s) < 0)
                return NULL;
        return s;
}

/* By name, as the daemon keeps them (and so writes its file). */
static int unit_info_name_compare(const void *a, const void *b) {
        return strcmp(((const UnitInfo *) a)->unit, ((const UnitInfo *) b)->unit);
}

int metrics_get(sd_bus *bus, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL;
        _cleanup_free_ UnitInfo *infos = NULL;
        _cleanup_free_ UnitExtra *extras = NULL;
        _cleanup_free_ ExpositionUnit *units = NULL;
        _cleanup_free_ char *hit_detection = NULL;
        ManagerInfo info = {};
        size_t n = 0;
        int r;

        r = client_manager_info_get(bus, &info);
        if (r != 0)
                return r;
        r = client_unit_list_get(bus, &list, &infos, &n);
        if (r != 0)
                goto finish;
        if (n > 0)
                qsort(infos, n, sizeof(UnitInfo), unit_info_name_compare);
        hit_detection = manager_hit_detection(bus);

        extras = calloc(n ? n : 1, sizeof(UnitExtra));
        units = calloc(n ? n : 1, sizeof(ExpositionUnit));
        if (!extras || !units) {
                r = -ENOMEM;
                fprintf(stderr, "Failed to format the metrics: %s\n", strerror(ENOMEM));
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                Level level = level_from_string(infos[i].level);

                extras[i].seconds_to_limit = UINT64_MAX;
                r = unit_extra_read(bus, &infos[i], &extras[i]);
                if (r != 0)
                        goto finish;
                units[i] = (ExpositionUnit){
                        .name = infos[i].unit,
                        .k8s_namespace = extras[i].k8s_namespace,
                        .k8s_pod = extras[i].k8s_pod,
                        .k8s_container = extras[i].k8s_container,
                        .pod_uid = extras[i].pod_uid,
                        /* As the daemon's file: only a unit watched by its scope has the id as a label. */
                        .container_id = !extras[i].kind || streq(extras[i].kind, "system")
                                ? extras[i].container_id
                                : NULL,
                        .level = level < 0 ? LEVEL_UNKNOWN : level,
                        .processes = infos[i].processes,
                        .map_count = infos[i].map_count,
                        .peak_map_count = extras[i].peak_map_count,
                        .seconds_to_limit = extras[i].seconds_to_limit,
                        .limit_hits = extras[i].limit_hits,
                        .limit_exits = extras[i].limit_exits,
                };
        }

        Exposition e = {
                .version = info.version,
                .backend = info.backend,
                .hit_detection = hit_detection,
                .max_map_count = info.max_map_count,
                .tuned_max_map_count = info.tuned_max_map_count,
                .last_scan_usec = info.last_scan_usec,
                .scan_duration_usec = UINT64_MAX, /* not in the D-Bus API */
                .units = units,
                .n_units = n,
        };
        r = exposition_format(&e, ret);
        if (r < 0)
                fprintf(stderr, "Failed to format the metrics: %s\n", strerror(-r));

finish:
        for (size_t i = 0; extras && i < n; i++)
                unit_extra_done(&extras[i]);
        client_manager_info_done(&info);
        return r;
}

int metrics_print(sd_bus *bus) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = metrics_get(bus, &text);
        if (r != 0)
                return r;
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
                r = errno > 0 ? -errno : -EIO;
                fprintf(stderr, "Failed to print the metrics: %s\n", strerror(-r));
                return r;
        }
        return 0;
}
