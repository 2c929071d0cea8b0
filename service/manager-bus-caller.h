/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who calls, and what they may be told: the caller's uid as the bus vouches for it, the root-only
 * methods, and the privacy rule (org.mapguard1(5), PRIVACY) that every answer naming a process follows.
 * Used by manager-bus.c and manager-bus-unit.c; calls nothing of the Manager above manager-units.h. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "manager.h"
#include "procfs.h"

/* The caller's effective uid (its uid when the bus gives no effective one). Returns 0 or -errno. */
int manager_bus_sender_uid(sd_bus_message *message, uid_t *ret);

/* 0 when the caller is root, else an AccessDenied error that names WHAT (a method). */
int manager_bus_check_root(sd_bus_message *message, const char *what, sd_bus_error *error);

/* Who asks, for what they may learn of processes: root everything; another user the processes they
 * could see and read in /proc themselves, their own (ProcState.owner: dumpable, real = effective = saved
 * uid), whatever /proc's hidepid= is; a caller whose user the bus does not vouch for, none. Unit-level
 * figures (a unit's level, process count, map count and headroom) are for everyone, as systemd's unit
 * properties are. org.mapguard1(5), PRIVACY. */
typedef struct BusViewer {
        bool root;
        bool known;
        uid_t uid;
} BusViewer;

/* The caller of MESSAGE (NULL: no caller, who sees no process). */
BusViewer bus_viewer(sd_bus_message *message);
/* Whether V may learn of P: its pid, comm and count. */
bool bus_viewer_sees(const BusViewer *v, const ProcState *p);
/* U's worst process when V may learn of it; NULL otherwise, or when U has none now. */
const ProcState *bus_worst_proc(const BusViewer *v, const WatchedUnit *u);

/* Replies to MESSAGE with U's processes that its caller may learn of, as ListProcesses() answers. Returns
 * what sd_bus_send() returns, or -errno. */
int manager_bus_reply_processes(sd_bus_message *message, Manager *m, WatchedUnit *u);

/* Whether the caller of METHOD may ask about PID (GetProcess, ExplainProcess): root and the process's
 * owner only, decided before anything big of it is read; a thread's id is not a process. Returns 0 with
 * its identity in *RET, or a D-Bus error that names PID. */
int manager_bus_check_process(Manager *m, sd_bus_message *message, const char *method, uint32_t pid,
                              ProcSample *ret, sd_bus_error *error);
