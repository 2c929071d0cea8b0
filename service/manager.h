/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

#include "cgroup-unit.h"
#include "cgroup.h"
#include "conf.h"
#include "crash-loop.h"
#include "explain.h"
#include "level-state.h"
#include "level.h"
#include "trend.h"
#include "unit-identity.h"
#include "util.h"

/* Our names on the bus (dbus/org.mapguard1.xml). */
#define BUS_MANAGER_PATH "/org/mapguard1"
#define BUS_MANAGER_INTERFACE "org.mapguard1.Manager"
#define BUS_UNIT_PREFIX "/org/mapguard1/unit"
#define BUS_UNIT_INTERFACE "org.mapguard1.Unit"

typedef struct Manager Manager;
typedef struct BpfCounter BpfCounter;

/* One process of a watched unit, as of its last read. */
typedef struct ProcState {
        pid_t pid;
        char comm[16];
        uint64_t start_time;
        uid_t owner; /* who may learn of it on the bus besides root (procfs.h's ProcSample.uid), read once
                      * when it is first seen; (uid_t) -1 when not known: no one but root */
        unsigned map_count;
        Level level;
        Trend trend;
        double growth_per_minute;  /* of the trend, computed once per read */
        uint64_t seconds_to_limit; /* at that growth; UINT64_MAX when not growing */
        uint64_t next_read_usec;   /* CLOCK_MONOTONIC: when the scheduler reads it next */
        bool seen;                 /* found in the unit's cgroup during the current pass */
        uint64_t seen_usec;        /* CLOCK_MONOTONIC of the last pass that found it */

        /* Its last limit hit (manager-hits.c): CLOCK_MONOTONIC, 0 = none; what failed; whether a read
         * found it at the limit already (counted once, when calls are not caught). */
        uint64_t last_hit_usec;
        char hit_syscall[16];
        bool observed_at_limit;
} ProcState;

/* A stop of a unit that someone asked for: its job, and when it was seen (CLOCK_MONOTONIC). */
typedef struct AskedStop {
        uint32_t job_id;
        uint64_t start_usec, end_usec;
} AskedStop;

/* What is watched: a systemd unit that matches the configured names/globs and has a control group, a unit
 * of a user's manager, or a Kubernetes container across the scopes kubelet restarts it in. */
typedef struct WatchedUnit {
        Manager *manager;
        char *name;            /* the name that survives restarts: identity.name */
        char *object_path;     /* ours: /org/mapguard1/unit/<encoded name> */
        char *cgroup;          /* its control group (systemd's ControlGroup, or below a user's manager),
                                * relative to the hierarchy; kept while it is held */
        uint64_t cgroup_id;    /* cgroup2 id of that directory (BPF backend), 0 when unknown */
        UnitIdentity identity; /* what it is (unit-identity.h): its kind, the systemd unit now, its user or
                                * its Kubernetes names */

        ProcState *procs;
        size_t n_procs;

        /* Aggregates over procs, recomputed after each pass; bus properties read them. */
        Level level;
        pid_t worst_pid;
        unsigned map_count;
        unsigned peak_map_count;
        unsigned headroom;
        double growth_per_minute;
        uint64_t seconds_to_limit;

        /* What its maps were when a process of it last went up to warning or critical and could be
         * explained (manager-announce.c): the verdict, while KNOWN. Recommend() reads it. */
        struct {
                bool known;
                ExplainVerdict verdict;
        } cause;

        int cgroup_error;       /* the last error reading its cgroup, logged when it changes */
        bool read_error_logged; /* a process could not be read (said once per unit) */

        /* Its limit hits, the exits they caused and its crash loop (manager-hits.c, manager-exits.c).
         * HELD: it hit the limit and has no control group now (systemd restarts it, or it sits failed):
         * kept in view, at level critical, until it runs again, is stopped or reset-failed. */
        CrashLoop crash_loop;
        bool held;
        uint64_t seen_usec; /* CLOCK_MONOTONIC of the last pass that found processes in it */
        /* The last stop of the unit that someone asked for (systemctl stop or restart: systemd showed the
         * unit deactivating with a job), CLOCK_MONOTONIC, from when that was seen to when its job was
         * removed (0: not yet); start 0: none seen. An exit within it is not the limit's doing. */
        AskedStop asked_stop;
        /* systemd's last word on the unit's main process: CLD_EXITED, CLD_KILLED or CLD_DUMPED in
         * code (0 while it runs), the exit status or signal, and the unit's Result. */
        struct {
                uint32_t pid; /* 0: not known (a user manager's journal entry names none) */
                int32_t code, status;
                char result[32];
                uint64_t usec; /* CLOCK_MONOTONIC when we learnt it */
        } main_exit;
        /* The last failure of an instance of it, for which catching limit hits is armed for the next
         * ones (manager-hits.c): its main process ended other than "exited 0" outside a stop someone
         * asked for (systemd's word, or its user manager's), or, for a container, it runs in a new
         * scope. */
        struct {
                uint64_t usec; /* CLOCK_MONOTONIC, 0 = none */
                char what[32]; /* "exited 1", "killed SIGSEGV"; "" for a container's new scope */
        } failure;
} WatchedUnit;

/* vm.max_map_count as the Manager last read it, and what it said about it. */
typedef struct ManagerLimits {
        unsigned live;  /* re-read on every pass; 0 before the first */
        unsigned tuned; /* from sysctl.d; 0 when no file sets it */
        /* The last errors reading them, logged when they change. */
        int live_error, tuned_error;
        /* The (live, tuned) pair of the last "live limit below the tuned one" entry: once per pair. */
        unsigned below_tuned_logged_live, below_tuned_logged_tuned;
} ManagerLimits;

/* The level store (level-state.h), kept across restarts in $RUNTIME_DIRECTORY (manager-levels.c). */
typedef struct ManagerLevels {
        char *path;       /* NULL without $RUNTIME_DIRECTORY */
        LevelState saved; /* what the previous instance left, until the first full pass has used it */
        bool dirty;       /* something kept changed since the file was written */
        int error;        /* the last error writing the file, logged when it changes */
} ManagerLevels;

/* How limit hits are found: failed calls caught in the kernel (BPF), or processes observed at the
 * limit by a read. */
typedef enum HitDetection {
        HIT_DETECTION_OBSERVED,
        HIT_DETECTION_CAUGHT,
} HitDetection;

/* How passes run (manager-scan.c). */
typedef struct ManagerScan {
        sd_event_source *timer;
        Backend backend; /* the one in use: BACKEND_BPF or BACKEND_PROCFS */
        BpfCounter *bpf;
        bool bpf_cgroups_dirty;
        uint64_t last_usec;           /* CLOCK_REALTIME µs of the last pass, 0 before */
        uint64_t last_full_pass_usec; /* CLOCK_MONOTONIC */
        unsigned peak_map_count;      /* highest map_count of any watched process since start */
        HitDetection hit_detection;
} ManagerScan;

/* A unit no longer watched that failed lately, or a container that went (manager-hits.c): if it comes
 * back within CRASH_LOOP_CLEAN_USEC, it comes back restarted after a failure. */
typedef struct HitsDeparted {
        char *name;
        uint64_t left_usec;    /* CLOCK_MONOTONIC */
        uint64_t failure_usec; /* its failure (WatchedUnit.failure), 0 = none: a container that went */
        char what[32];
} HitsDeparted;

/* Catching limit hits in the kernel (manager-hits.c): the limit-hit program, its ring buffer in the
 * loop, the bursts not announced yet, and when the program is armed. */
typedef struct ManagerHits {
        struct BpfHits *bpf;
        struct LimitHitBursts *bursts;
        sd_event_source *io, *timer;
        unsigned limit;   /* the limit the program was last given */
        uint64_t dropped; /* the program's count of hits lost to a full ring buffer, as last said */
        uint64_t dropped_told_usec; /* when that was said (CLOCK_MONOTONIC): at most once a minute */
        char *off_reason;           /* why hits are not caught (observed): for HitCatchingReason */

        /* Arming (manager_hits_sync(), on every pass): wanted while a trigger holds and for
         * DISARM_DELAY_USEC after the last one held. Computed also when nothing can be armed. */
        bool wanted;
        bool trigger_holds;         /* in the last pass */
        char *trigger;              /* the trigger that holds now, or held last (naming the unit); NULL */
        uint64_t trigger_usec;      /* CLOCK_MONOTONIC of the last pass a trigger held; 0 = never */
        uint64_t disarm_delay_usec; /* HITS_DISARM_DELAY_USEC; the tests set less */
        int arm_error;              /* the last failure to arm, logged when it changes */
        const char *catching;       /* HitCatching and HitCatchingReason as last announced */
        char *catching_reason;
        HitsDeparted *departed;
        size_t n_departed;
} ManagerHits;

/* A unit no longer watched whose limit hits are recent: its series stay in the metrics for the hit
 * window, so that increase() over that window sees the last hits of a container that lived seconds. */
typedef struct ExportDeparted {
        char *name;
        UnitIdentity identity;
        unsigned peak_map_count;
        uint64_t limit_hits, limit_exits;
        uint64_t last_hit_usec; /* CLOCK_REALTIME */
} ExportDeparted;

/* What the textfile export remembers between passes (manager-export.c). */
typedef struct ManagerExport {
        char *path;            /* the file we last wrote, NULL when none: removed on stop or when it moves */
        char *off_dir;         /* the directory we said was missing, so that it is said once */
        int error;             /* the last write error, logged when it changes */
        sd_event_source *soon; /* a write asked for now (a hit, an exit), not after the next pass */
        uint64_t last_write_usec; /* CLOCK_MONOTONIC */
        ExportDeparted *departed;
        size_t n_departed;
} ManagerExport;

/* A user's systemd manager (user@UID.service): its units are found in its control group at each full pass
 * (manager-watch.c), and watched each on its own. */
typedef struct UserManager {
        char *name;         /* user@UID.service */
        char *cgroup;       /* its ControlGroup */
        uint64_t cgroup_id; /* its cgroup2 id, 0 until read: the BPF programs' catch-all for units of it
                             * not listed yet (manager_sync_bpf_cgroups()) */
        uid_t uid;
        int error;       /* the last error listing its units, logged when it changes */
        unsigned bounds; /* the walk's last bounds hit (UserUnitsBound), logged when they change */
} UserManager;

/* Our registrations on the bus; each is dropped (unref'd) on its own. */
typedef struct ManagerSlots {
        sd_bus_slot *manager_object, *unit_objects, *unit_enumerator, *object_manager; /* manager-bus*.c */
        sd_bus_slot *unit_removed, *job_removed, *unit_properties_changed,
                *service_properties_changed; /* manager-watch.c */
        sd_bus_slot *disconnected;           /* manager.c */
} ManagerSlots;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        Config *config;
        char *root;       /* prefix for /proc, /sys, /etc reads: "" in production, a fixture in tests */
        char *config_dir; /* NULL: $CONFIGURATION_DIRECTORY or /etc/mapguard */
        char *hierarchy;  /* where ControlGroup paths live, e.g. /sys/fs/cgroup/unified */
        CgroupLayout cgroup_layout; /* of that hierarchy, when there is one */

        WatchedUnit **units; /* sorted by name */
        size_t n_units;
        UserManager *user_managers;
        size_t n_user_managers;
        bool watch_user_units_now; /* a user's unit starts: look for users' units at the next pass */
        bool watching_systemd;     /* subscribed to systemd's signals */

        sd_event_source *sigterm_source, *sigint_source, *sighup_source;
        ManagerSlots slots;
        ManagerScan scan;
        ManagerLimits limits;
        ManagerLevels levels;
        ManagerHits hits;
        ManagerExport export;
        /* Following what users' managers log of their units (manager-user-log.c). */
        struct {
                sd_journal *journal;
                sd_event_source *source;
                int error; /* the last error opening it, logged when it changes */
        } user_log;
        struct PendingExit *pending_exits; /* exits waiting for systemd's view (manager-exits.c) */
};

/* The Manager's lifecycle (manager.c). Its parts, each in manager-<part>.c, call one way, from the top:
 *   manager-bus.c (the D-Bus API: connecting, the Manager object; manager-bus-unit.c the unit objects,
 *   manager-bus-caller.c who calls and what they may be told) -> manager.c (loop, signals, reload) ->
 *   manager-systemd.c (talking to
 *   systemd) -> manager-watch.c (what its reports mean for the watched units) -> manager-scan.c (a
 *   pass) -> manager-levels.c (levels kept across restarts), manager-exits.c (exits after a hit),
 *   manager-hits.c (limit hits) -> manager-announce.c (the journal, the bus signals) ->
 *   manager-export.c, journal.c -> manager-units.c (the set of watched units, and finding units and
 *   processes in it). */

/* Creates a Manager with its event loop and signal handlers; ROOT and CONFIG_DIR as above. Takes
 * ownership of CONFIG. Returns 0 or -errno. */
int manager_new(const char *root, const char *config_dir, Config *config, Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/* Re-reads the config; on failure keeps the old one and returns -errno with *ret_error set to
 * "file:line: reason" (malloc'd). */
int manager_reload(Manager *m, char **ret_error);

/* Runs the event loop until SIGTERM/SIGINT (returns 0) or the loss of the bus connection (returns
 * EXIT_FAILURE). Returns -errno when the loop fails. */
int manager_run(Manager *m);
