/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "utf8.h"
#include "util.h"

/* A label value: \ " and newline escaped, as 0.0.4 asks; anything that is not UTF-8 as '?'. */
static int write_label_value(FILE *f, const char *value) {
        _cleanup_free_ char *s = strdup(value ? value : "");

        if (!s)
                return -ENOMEM;
        utf8_make_valid(s);
        for (const char *p = s; *p; p++)
                switch (*p) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*p, f);
                }
        return 0;
}

static void write_family(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Opens a unit sample: NAME{unit="...",namespace="...",...,container_id="..." -- the caller closes it. */
static int write_unit_labels(FILE *f, const char *name, const ExpositionUnit *u) {
        const struct {
                const char *label, *value;
        } labels[] = {
                { "unit", u->name },       { "namespace", u->k8s_namespace },
                { "pod", u->k8s_pod },     { "container", u->k8s_container },
                { "pod_uid", u->pod_uid }, { "container_id", u->container_id },
        };
        int r;

        fprintf(f, "%s{", name);
        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                if (i > 0 && !labels[i].value)
                        continue;
                fprintf(f, "%s%s=\"", i > 0 ? "," : "", labels[i].label);
                r = write_label_value(f, labels[i].value);
                if (r < 0)
                        return r;
                fputc('"', f);
        }
        return 0;
}

typedef enum UnitValue {
        UNIT_MAP_COUNT,
        UNIT_PEAK,
        UNIT_PROCESSES,
        UNIT_SECONDS_TO_LIMIT,
        UNIT_LIMIT_HITS,
        UNIT_LIMIT_EXITS,
} UnitValue;

static const struct {
        const char *name, *type, *help;
} unit_families[] = {
        [UNIT_MAP_COUNT] = { "mapguard_unit_memory_map_areas", "gauge",
                             "Memory map areas (VMAs, the kernel's map_count) of the unit's process with "
                             "the "
                             "least headroom." },
        [UNIT_PEAK] = { "mapguard_unit_memory_map_areas_peak", "gauge",
                        "Highest map_count of any process of the unit since mapguardd started." },
        [UNIT_PROCESSES] = { "mapguard_unit_processes", "gauge",
                             "Processes of the unit that mapguardd reads." },
        [UNIT_SECONDS_TO_LIMIT] = { "mapguard_unit_seconds_to_limit", "gauge",
                                    "Seconds until the unit's fastest-growing process reaches "
                                    "vm.max_map_count at its observed growth; absent when not growing." },
        [UNIT_LIMIT_HITS] = { "mapguard_unit_limit_hits_total", "counter",
                              "Mapping calls of the unit's processes that failed at vm.max_map_count (or "
                              "processes observed at it)." },
        [UNIT_LIMIT_EXITS] = { "mapguard_unit_limit_exits_total", "counter",
                               "Exits of the unit's processes attributed to vm.max_map_count." },
};

/* Returns false when the unit has no sample in this family. */
static bool unit_value(const ExpositionUnit *u, UnitValue v, uint64_t *ret) {
        switch (v) {
        case UNIT_MAP_COUNT:
                *ret = u->map_count;
                return true;
        case UNIT_PEAK:
                *ret = u->peak_map_count;
                return true;
        case UNIT_PROCESSES:
                *ret = u->processes;
                return true;
        case UNIT_SECONDS_TO_LIMIT:
                *ret = u->seconds_to_limit;
                return u->seconds_to_limit != UINT64_MAX;
        case UNIT_LIMIT_HITS:
                *ret = u->limit_hits;
                return true;
        case UNIT_LIMIT_EXITS:
                *ret = u->limit_exits;
                return true;
        }
        return false;
}

static int write_unit_family(FILE *f, const Exposition *e, UnitValue v) {
        bool header = false;
        uint64_t value;
        int r;

        for (size_t i = 0; i < e->n_units; i++) {
                if (!unit_value(&e->units[i], v, &value))
                        continue;
                if (!header)
                        write_family(f, unit_families[v].name, unit_families[v].type, unit_families[v].help);
                header = true;
                r = write_unit_labels(f, unit_families[v].name, &e->units[i]);
                if (r < 0)
                        return r;
                fprintf(f, "} %" PRIu64 "\n", value);
        }
        return 0;
}

static int write_unit_levels(FILE *f, const Exposition *e) {
        int r;

        if (e->n_units == 0)
                return 0;
        write_family(f, "mapguard_unit_level", "gauge",
                     "1 for the unit's current level (that of its worst process), 0 for the other three.");
        for (size_t i = 0; i < e->n_units; i++)
                for (Level l = LEVEL_UNKNOWN; l < _LEVEL_MAX; l++) {
                        r = write_unit_labels(f, "mapguard_unit_level", &e->units[i]);
                        if (r < 0)
                                return r;
                        fprintf(f, ",level=\"%s\"} %d\n", level_to_string(l), e->units[i].level == l);
                }
        return 0;
}

/* µs as seconds with all six decimals: no rounding through a double. */
static void write_seconds(FILE *f, uint64_t usec) {
        fprintf(f, "%" PRIu64 ".%06" PRIu64 "\n", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
}

static int write_manager(FILE *f, const Exposition *e) {
        int r;

        if (e->max_map_count > 0) {
                write_family(f, "mapguard_memory_map_areas_limit", "gauge",
                             "The live vm.max_map_count: the most memory map areas a process may have.");
                fprintf(f, "mapguard_memory_map_areas_limit %u\n", e->max_map_count);
        }
        if (e->tuned_max_map_count > 0) {
                write_family(f, "mapguard_memory_map_areas_limit_tuned", "gauge",
                             "The vm.max_map_count that the installed sysctl.d files ask for.");
                fprintf(f, "mapguard_memory_map_areas_limit_tuned %u\n", e->tuned_max_map_count);
        }
        if (e->scan_duration_usec != UINT64_MAX) {
                write_family(f, "mapguard_scan_duration_seconds", "gauge",
                             "How long mapguardd's last full pass over the watched units took.");
                fputs("mapguard_scan_duration_seconds ", f);
                write_seconds(f, e->scan_duration_usec);
        }
        if (e->last_scan_usec > 0) {
                write_family(f, "mapguard_last_scan_timestamp_seconds", "gauge",
                             "When mapguardd last read the watched units, in seconds since the epoch.");
                fputs("mapguard_last_scan_timestamp_seconds ", f);
                write_seconds(f, e->last_scan_usec);
        }

        write_family(
                f, "mapguard_build_info", "gauge",
                "Always 1: the mapguardd version, how it reads map counts and how it detects limit hits.");
        fputs("mapguard_build_info{version=\"", f);
        r = write_label_value(f, e->version);
        if (r < 0)
                return r;
        fputs("\",backend=\"", f);
        r = write_label_value(f, e->backend);
        if (r < 0)
                return r;
        fputs("\",hit_detection=\"", f);
        r = write_label_value(f, e->hit_detection ? e->hit_detection : "none");
        if (r < 0)
                return r;
        fputs("\"} 1\n", f);
        return 0;
}

int exposition_format(const Exposition *e, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        assert(e);
        assert(ret);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        r = write_manager(f, e);
        for (UnitValue v = UNIT_MAP_COUNT; r >= 0 && v <= UNIT_SECONDS_TO_LIMIT; v++)
                r = write_unit_family(f, e, v);
        if (r >= 0)
                r = write_unit_levels(f, e);
        if (r >= 0 && e->hit_detection) {
                r = write_unit_family(f, e, UNIT_LIMIT_HITS);
                if (r >= 0)
                        r = write_unit_family(f, e, UNIT_LIMIT_EXITS);
        }
        /* A memstream reports running out of memory at the latest when it is closed. */
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                r = r < 0 ? r : -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}
