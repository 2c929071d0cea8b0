/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The textfile export: Manager state -> Exposition -> TextfileDirectory/mapguard.prom. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exposition.h"
#include "fileio.h"
#include "log.h"
#include "manager-export.h"
#include "path-util.h"
#include "util.h"

#define EXPORT_FILE_NAME "mapguard.prom"

#define EXPORT_SOON_GAP_USEC (250 * USEC_PER_MSEC)

static void export_departed_free(ExportDeparted *d) {
        free(d->name);
}

/* Drops the departed units whose last hit left the window. */
static void export_departed_expire(ManagerExport *e, uint64_t now_realtime) {
        size_t j = 0;

        for (size_t i = 0; i < e->n_departed; i++) {
                if (now_realtime < e->departed[i].last_hit_usec + EXPORT_HIT_WINDOW_USEC)
                        e->departed[j++] = e->departed[i];
                else
                        export_departed_free(&e->departed[i]);
        }
        e->n_departed = j;
}

static const char *nonempty(const char *s) {
        return s && s[0] ? s : NULL;
}

static ExpositionUnit exposition_unit_of(const char *name, const UnitIdentity *id) {
        return (ExpositionUnit){
                .name = name,
                .k8s_namespace = nonempty(id->k8s_namespace),
                .k8s_pod = nonempty(id->k8s_pod),
                .k8s_container = nonempty(id->k8s_container),
                .pod_uid = nonempty(id->pod_uid),
                /* A container watched across restarts changes its id at each: not a label of its series. */
                .container_id = id->kind == UNIT_KIND_SYSTEM ? nonempty(id->container_id) : NULL,
        };
}

int manager_export_format(Manager *m, char **ret) {
        _cleanup_free_ ExpositionUnit *units = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        size_t n = 0;

        export_departed_expire(&m->export, now_usec(CLOCK_REALTIME));
        units = calloc(m->n_units + m->export.n_departed + 1, sizeof(ExpositionUnit));
        if (!units)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                const WatchedUnit *u = m->units[i];

                units[n] = exposition_unit_of(u->name, &u->identity);
                units[n].level = u->level;
                units[n].processes = (unsigned) u->n_procs;
                units[n].map_count = u->map_count;
                units[n].peak_map_count = u->peak_map_count;
                units[n].seconds_to_limit = u->seconds_to_limit;
                units[n].limit_hits = u->crash_loop.hits;
                units[n].limit_exits = u->crash_loop.exits;
                n++;
        }
        /* Gone, with recent hits: the counters as they were, no processes, level unknown. */
        for (size_t i = 0; i < m->export.n_departed; i++) {
                const ExportDeparted *d = &m->export.departed[i];

                units[n] = exposition_unit_of(d->name, &d->identity);
                units[n].level = LEVEL_UNKNOWN;
                units[n].peak_map_count = d->peak_map_count;
                units[n].seconds_to_limit = UINT64_MAX;
                units[n].limit_hits = d->limit_hits;
                units[n].limit_exits = d->limit_exits;
                n++;
        }

        Exposition e = {
                .version = PACKAGE_VERSION,
                .backend = backend_to_string(m->scan.backend),
                /* As the HitDetection property says it: hits are always counted, one way or the other. */
                .hit_detection = m->scan.hit_detection == HIT_DETECTION_CAUGHT ? "caught" : "observed",
                .max_map_count = m->limits.live,
                .tuned_max_map_count = m->limits.tuned,
                .last_scan_usec = m->scan.last_usec,
                .scan_duration_usec = m->scan.last_full_pass_usec > 0 && now >= m->scan.last_full_pass_usec
                        ? now - m->scan.last_full_pass_usec
                        : UINT64_MAX,
                .units = units,
                .n_units = n,
        };
        return exposition_format(&e, ret);
}

void manager_export_unit_departed(Manager *m, const WatchedUnit *u) {
        ManagerExport *e = &m->export;
        ExportDeparted *grown;
        char *name;

        if (u->crash_loop.last_hit_usec == 0 ||
            now_usec(CLOCK_REALTIME) >= u->crash_loop.last_hit_usec + EXPORT_HIT_WINDOW_USEC)
                return;
        manager_export_unit_back(m, u->name);
        name = strdup(u->name);
        grown = name ? reallocarray(e->departed, e->n_departed + 1, sizeof(ExportDeparted)) : NULL;
        if (!grown) {
                free(name);
                log_warning_errno(-ENOMEM, "Failed to keep the metrics of %s after it is gone: %m", u->name);
                return;
        }
        e->departed = grown;
        e->departed[e->n_departed++] = (ExportDeparted){
                .name = name,
                .identity = u->identity,
                .peak_map_count = u->peak_map_count,
                .limit_hits = u->crash_loop.hits,
                .limit_exits = u->crash_loop.exits,
                .last_hit_usec = u->crash_loop.last_hit_usec,
        };
        manager_export_soon(m);
}

void manager_export_unit_back(Manager *m, const char *name) {
        ManagerExport *e = &m->export;

        for (size_t i = 0; i < e->n_departed; i++)
                if (streq(e->departed[i].name, name)) {
                        export_departed_free(&e->departed[i]);
                        e->departed[i] = e->departed[--e->n_departed];
                        return;
                }
}

static int on_export_soon(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_export_textfile(userdata);
        return 0;
}

void manager_export_soon(Manager *m) {
        ManagerExport *e = &m->export;
        uint64_t when = now_usec(CLOCK_MONOTONIC);
        int r;

        if (!m->event)
                return;
        if (e->last_write_usec > 0 && when < e->last_write_usec + EXPORT_SOON_GAP_USEC)
                when = e->last_write_usec + EXPORT_SOON_GAP_USEC;
        if (!e->soon) {
                r = sd_event_add_time(m->event, &e->soon, CLOCK_MONOTONIC, when, 0, on_export_soon, m);
                if (r < 0) {
                        log_debug_errno(r, "Failed to schedule a metrics write: %m");
                        return;
                }
                (void) sd_event_source_set_description(e->soon, "export-soon");
                return;
        }
        /* Already asked for: the earlier time stands. */
        if (sd_event_source_get_enabled(e->soon, NULL) > 0)
                return;
        (void) sd_event_source_set_time(e->soon, when);
        (void) sd_event_source_set_enabled(e->soon, SD_EVENT_ONESHOT);
}

static void textfile_export_unlink(ManagerExport *e) {
        if (!e->path)
                return;
        if (unlink(e->path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "Failed to remove %s: %m", e->path);
        free(e->path);
        e->path = NULL;
}

void manager_export_textfile(Manager *m) {
        ManagerExport *e = &m->export;
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        struct stat st;
        int r;

        if (!m->config || !m->config->textfile_directory) {
                textfile_export_unlink(e); /* turned off on reload */
                return;
        }
        /* Below the Manager's root, as every other system path: tests never write the host's directory. */
        dir = path_prefix_root(m->root, m->config->textfile_directory);
        if (!dir || asprintf(&path, "%s/" EXPORT_FILE_NAME, streq(dir, "/") ? "" : dir) < 0) {
                path = NULL;
                if (e->error != -ENOMEM)
                        log_warning_errno(-ENOMEM, "Failed to export metrics: %m");
                e->error = -ENOMEM;
                return;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                textfile_export_unlink(e);
                if (!streq_ptr(e->off_dir, dir)) {
                        log_info("%s does not exist, not exporting metrics (set [Export] "
                                 "TextfileDirectory= to node_exporter's textfile directory).",
                                 dir);
                        free(e->off_dir);
                        e->off_dir = TAKE_PTR(dir);
                }
                return;
        }
        if (e->off_dir) {
                log_info("%s exists now, exporting metrics to it.", dir);
                free(e->off_dir);
                e->off_dir = NULL;
        }

        r = manager_export_format(m, &text);
        if (r >= 0)
                r = write_file_atomic(path, text, 0644);
        if (r < 0) {
                if (r != e->error)
                        log_warning_errno(r,
                                          "Failed to write %s, node_exporter serves no current mapguard "
                                          "metrics: %m",
                                          path);
                e->error = r;
                return;
        }
        if (e->error != 0)
                log_info("Writing %s again.", path);
        e->error = 0;
        e->last_write_usec = now_usec(CLOCK_MONOTONIC);
        if (!streq_ptr(e->path, path))
                textfile_export_unlink(e); /* the directory changed on reload */
        free(e->path);
        e->path = TAKE_PTR(path);
}

void manager_export_remove(Manager *m) {
        ManagerExport *e = &m->export;

        textfile_export_unlink(e);
        free(e->off_dir);
        e->off_dir = NULL;
        e->error = 0;
}

void manager_export_done(Manager *m) {
        m->export.path = mfree(m->export.path);
        m->export.off_dir = mfree(m->export.off_dir);
        m->export.soon = sd_event_source_disable_unref(m->export.soon);
        for (size_t i = 0; i < m->export.n_departed; i++)
                export_departed_free(&m->export.departed[i]);
        m->export.departed = mfree(m->export.departed);
        m->export.n_departed = 0;
}
