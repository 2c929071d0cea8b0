/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mapguardctl's side of the D-Bus API (dbus/org.mapguard1.xml): connecting, calling the Manager,
 * reading its answers into plain structs, and turning bus errors into sentences. Functions that fail print
 * why to stderr (the client's only log) and return -errno: -EACCES means access denied (run as root), which
 * main() maps to EXIT_NOPERMISSION; no other failure is returned as -EACCES. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#define BUS_NAME "org.mapguard1"
#define BUS_PATH "/org/mapguard1"
#define BUS_MANAGER "org.mapguard1.Manager"
#define BUS_UNIT "org.mapguard1.Unit"
/* The daemon's unit, and the alias bus activation starts (it exists only while the unit is enabled). */
#define DAEMON_UNIT "mapguardd.service"
#define BUS_ACTIVATION_UNIT "dbus-org.mapguard1.service"

/* How long a method call may take. */
#define BUS_CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)

/* LSB's "user had insufficient privilege", as systemctl returns it. */
#define EXIT_NOPERMISSION 4

/* What the Manager's properties say. Owns its strings: release with client_manager_info_done(). */
typedef struct ManagerInfo {
        char *version;
        char *backend;
        char *hit_detection; /* "caught" or "observed"; NULL from a daemon without limit hits */
        char *hit_catching;  /* "off", "idle", "armed", "always"; NULL from a daemon that does not arm */
        char *hit_catching_reason;
        uint32_t max_map_count;
        uint32_t tuned_max_map_count;
        uint32_t warning_percent;
        uint32_t critical_percent;
        uint64_t scan_interval_usec;
        uint64_t last_scan_usec;
        char **watched_units;
} ManagerInfo;

/* One row of ListUnits(); strings point into the reply message. */
typedef struct UnitInfo {
        const char *unit;
        const char *object_path;
        const char *level;
        uint32_t processes;
        uint32_t worst_pid;
        uint32_t map_count;
        uint32_t headroom;
} UnitInfo;

/* What a unit object says of its limit hits. Owns last_exit: release with client_unit_hits_done(). */
typedef struct UnitHits {
        uint64_t limit_hits;
        uint64_t limit_exits;
        uint64_t last_limit_hit_usec; /* CLOCK_REALTIME, 0 = none */
        char *last_exit;              /* "exited 1", ...; "" = none seen */
} UnitHits;

/* One row of ListProcesses(); strings point into the reply message. */
typedef struct ProcessInfo {
        uint32_t pid;
        const char *comm;
        uint32_t map_count;
        uint32_t headroom;
        const char *level;
        double growth_per_minute;
        uint64_t seconds_to_limit;
} ProcessInfo;

/* Connects to the system bus, or to $MAPGUARD_BUS_ADDRESS when set (a private bus for tests). Returns 0 or
 * -errno; prints nothing (`check` reports it on stdout, everything else on stderr). */
int client_bus_connect(sd_bus **ret);

/* Before the first call: when nobody owns org.mapguard1, asks systemd about mapguardd.service rather than
 * letting bus activation start a unit that has failed (that call would only time out). Returns 0 to go on
 * (running, startable by activation, or no systemd to ask), or -EHOSTDOWN with a sentence in buf: the daemon
 * has failed (see its status and journal), or it is stopped and not enabled, so no call starts it. Never
 * activates anything itself. */
int client_bus_check(sd_bus *bus, char *buf, size_t size);

/* Puts a sentence about a failed call (action: "list the watched units") into buf. Returns -EACCES for
 * access denied, else r (-EIO when r is >= 0, -EACCES or -EPERM: only a denial reads as one). "Not
 * running" (no owner and activation failed) says how to start the daemon; InvalidArgs passes the daemon's
 * sentence on. */
int client_bus_error_explain(const char *action, const sd_bus_error *e, int r, char *buf, size_t size);

/* Prints client_bus_error_explain()'s sentence to stderr. Returns what client_bus_error_explain() returns.
 */
int client_bus_error_log(const char *action, const sd_bus_error *e, int r);

/* Calls a Manager method with the arguments described by types (NULL: none). Returns sd_bus_call()'s
 * result, with the error in *error. */
int client_call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **ret_reply,
                        const char *types, ...);

/* Reads all Manager properties with one GetAll call. Unknown properties are skipped. Returns 0 or -errno
 * (printed). */
int client_manager_info_get(sd_bus *bus, ManagerInfo *ret);
void client_manager_info_done(ManagerInfo *info);

/* ListUnits(), sorted nearest the limit first (units without processes last). The rows point into
 * *ret_reply, which the caller unrefs after them; *ret_units is malloc'd. */
int client_unit_list_get(sd_bus *bus, sd_bus_message **ret_reply, UnitInfo **ret_units, size_t *ret_n);

/* Reads LimitHits, LimitExits, LastLimitHitUSec and LastExit of the unit object at OBJECT_PATH. Returns 0
 * or -errno (logged to stderr). */
int client_unit_hits_get(sd_bus *bus, const char *object_path, UnitHits *ret);
void client_unit_hits_done(UnitHits *w);

/* What a unit object says it is (all strings owned, "" when the daemon has no such property): release with
 * client_unit_identity_done(). */
typedef struct UnitIdentityInfo {
        char *name;         /* the watched name */
        char *kind;         /* "system", "user", "container", "pod", "monitor" */
        char *systemd_unit; /* the systemd unit now (a container's scope, a user's manager) */
        char *user_unit;
        uint32_t owner_uid; /* UINT32_MAX: none */
        char *k8s_namespace, *k8s_pod, *k8s_container;
} UnitIdentityInfo;

/* The object path of the watched unit NAME (any of its names: its own, a user's unit's, a container's
 * scope), by GetUnit(); from a daemon without GetUnit, the path NAME's object would have. Returns 0 and a
 * malloc'd path, or -errno (printed; -EINVAL with the daemon's sentence for an unknown or ambiguous name).
 */
int client_unit_path_get(sd_bus *bus, const char *name, char **ret_path);

/* Reads what the unit object at OBJECT_PATH says it is. Returns 0 or -errno (printed). */
int client_unit_identity_get(sd_bus *bus, const char *object_path, UnitIdentityInfo *ret);
void client_unit_identity_done(UnitIdentityInfo *i);

/* ListProcesses(unit), sorted nearest the limit first; ownership as for client_unit_list_get(). */
int client_process_list_get(sd_bus *bus, const char *unit, sd_bus_message **ret_reply,
                            ProcessInfo **ret_procs, size_t *ret_n);
