/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>

#include "manager-bus-caller.h"
#include "max-map-count.h"
#include "util.h"

/* The caller's effective uid, as the bus (dbus-daemon) or the socket's peer (a direct connection)
 * vouches for it. Not augmented from /proc/PID of the sender: that pid could have been reused. */
int manager_bus_sender_uid(sd_bus_message *message, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, ret);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, ret);
        return r;
}

int manager_bus_check_root(sd_bus_message *message, const char *what, sd_bus_error *error) {
        uid_t uid;
        int r;

        r = manager_bus_sender_uid(message, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Could not determine the caller's user, so %s is refused.", what);
        if (uid != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root may call %s (caller has uid %u).", what, (unsigned) uid);
        return 0;
}

BusViewer bus_viewer(sd_bus_message *message) {
        BusViewer v = {};

        if (message && manager_bus_sender_uid(message, &v.uid) >= 0) {
                v.known = true;
                v.root = v.uid == 0;
        }
        return v;
}

bool bus_viewer_sees(const BusViewer *v, const ProcState *p) {
        return v->root || (v->known && p->owner != (uid_t) -1 && p->owner == v->uid);
}

/* U's worst process, when the viewer may learn of it; NULL otherwise, or when U has none now. */
const ProcState *bus_worst_proc(const BusViewer *v, const WatchedUnit *u) {
        for (size_t i = 0; i < u->n_procs; i++)
                if (u->procs[i].pid == u->worst_pid)
                        return bus_viewer_sees(v, &u->procs[i]) ? &u->procs[i] : NULL;
        return NULL;
}

static int append_process(sd_bus_message *reply, const Manager *m, const ProcState *p) {
        return sd_bus_message_append(reply, "(usuusdt)", (uint32_t) p->pid, p->comm, p->map_count,
                                     max_map_count_headroom(p->map_count, m->limits.live),
                                     level_to_string(p->level), p->growth_per_minute, p->seconds_to_limit);
}

/* U's processes that the caller may learn of (bus_viewer_sees()); the unit's Processes property counts all
 * of them. */
int manager_bus_reply_processes(sd_bus_message *message, Manager *m, WatchedUnit *u) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusViewer v = bus_viewer(message);
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(usuusdt)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < u->n_procs; i++) {
                if (!bus_viewer_sees(&v, &u->procs[i]))
                        continue;
                r = append_process(reply, m, &u->procs[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Whether the caller of METHOD may ask about PID, decided before anything big of it is read (a maps file
 * can be megabytes, and ExplainProcess tells its file names): root and the process's owner only, and a
 * thread's id is not a process. Returns 0 with its identity in *RET, or a D-Bus error that names PID. */
int manager_bus_check_process(Manager *m, sd_bus_message *message, const char *method, uint32_t pid,
                              ProcSample *ret, sd_bus_error *error) {
        ProcSample owner;
        uid_t caller;
        int r;

        if (pid == 0 || pid > INT_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%u is not a valid process ID.",
                                         pid);
        r = manager_bus_sender_uid(message, &caller);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Could not determine the caller's user, so %s is refused.", method);
        r = proc_sample_identity(m->root, (pid_t) pid, &owner);
        if (r == -ESRCH || r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No process with PID %u.", pid);
        if (r == -ENODATA)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Process %u has no memory maps (a kernel thread or a zombie).",
                                         pid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to read the identity of PID %u: %m", pid);
        /* The owner first: someone else's thread says nothing of the process it belongs to. */
        if (caller != 0 && caller != owner.uid)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root and the owner of process %u may query it.", pid);
        /* /proc/TID exists for every thread too; the maps are the process's. */
        if (owner.tgid > 0 && owner.tgid != (pid_t) pid)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%u is a thread of process %d, not a process: ask for %d.", pid,
                                         (int) owner.tgid, (int) owner.tgid);
        *ret = owner;
        return 0;
}
