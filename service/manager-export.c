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

int manager_export_format(Manager *m, char **ret) {
        _cleanup_free_ ExpositionUnit *units = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        units = calloc(m->n_units ? m->n_units : 1, sizeof(ExpositionUnit));
        if (!units)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                const WatchedUnit *u = m->units[i];

                units[i] = (ExpositionUnit){
                        .name = u->name,
                        .pod_uid = u->identity.pod_uid[0] ? u->identity.pod_uid : NULL,
                        .container_id = u->identity.container_id[0] ? u->identity.container_id : NULL,
                        .level = u->level,
                        .processes = (unsigned) u->n_procs,
                        .map_count = u->map_count,
                        .peak_map_count = u->peak_map_count,
                        .seconds_to_limit = u->seconds_to_limit,
                        .limit_hits = u->crash_loop.hits,
                        .limit_exits = u->crash_loop.exits,
                };
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
                .n_units = m->n_units,
        };
        return exposition_format(&e, ret);
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
}
