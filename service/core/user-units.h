/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The units of a user's manager (systemd --user below user@UID.service), found in its control-group
 * tree as systemd's cg_path_get_user_unit() names them: below the manager, slices (app.slice,
 * app-foo.slice, at any depth) are skipped and the first other component is a unit (grow.service,
 * app-game-1234.scope, init.scope: the manager itself). The tree is delegated: its user may create
 * directories in it, make them unreadable or make very many, so the walk is bounded and says what it
 * could not read. Pure logic: no logging. */

#include <stddef.h>

#include "unit-name.h"

#define USER_UNITS_DEPTH_MAX 16     /* slices below the manager descended into */
#define USER_UNITS_DIRS_MAX 4096    /* directories opened in one walk */
#define USER_UNITS_ENTRIES_MAX 4096 /* entries (files included) read of one directory */
#define USER_UNITS_MAX 512          /* units listed */

typedef enum UserUnitsBound {
        USER_UNITS_BOUND_DEPTH = 1 << 0,   /* a slice deeper than USER_UNITS_DEPTH_MAX was not entered */
        USER_UNITS_BOUND_DIRS = 1 << 1,    /* the walk stopped after USER_UNITS_DIRS_MAX directories */
        USER_UNITS_BOUND_ENTRIES = 1 << 2, /* a directory was read only up to USER_UNITS_ENTRIES_MAX */
        USER_UNITS_BOUND_UNITS = 1 << 3,   /* the walk stopped at USER_UNITS_MAX units */
} UserUnitsBound;

typedef struct UserUnit {
        char name[UNIT_NAME_MAX]; /* the unit's name, unescaped: "grow.service" */
        char *cgroup;             /* its control-group path: MANAGER_CGROUP/app.slice/grow.service */
} UserUnit;

typedef struct UserUnits {
        UserUnit *units; /* sorted by name */
        size_t n;
        unsigned bounds_hit; /* UserUnitsBound flags: what was left unread; 0 when nothing */
        size_t n_skipped;    /* directories below the manager that could not be read (mode 000, ...) */
        char *skipped_path;  /* the first of them, as a control-group path; NULL when none */
        int skipped_error;   /* its -errno */
} UserUnits;

/* Frees what U holds and zeroes it. Accepts NULL. */
void user_units_done(UserUnits *u);

/* Lists the units below the user manager whose control group is MANAGER_CGROUP (".../user@1001.service",
 * relative to the hierarchy HIERARCHY_DIR, see cgroup_find_hierarchy()) that hold processes: their
 * cgroup.events says "populated 1", or, where that file cannot be read (cgroup v1's name=systemd), some
 * cgroup.procs at or below them lists a process. Only slices are descended into, at most
 * USER_UNITS_DEPTH_MAX deep; directories are opened with O_NOFOLLOW|O_DIRECTORY and never on another
 * mount; a component that is neither a slice nor a unit name is passed over, as are its contents. A
 * name found twice (only a user's own mkdir can do that) is listed once, with the path that sorts first.
 * A directory that vanished meanwhile is passed over silently; one that cannot be read is counted in
 * n_skipped; a bound hit is said in bounds_hit, and the units found until then are listed.
 *
 * Returns 0 and *RET (free it with user_units_done()); -EINVAL when an argument is NULL, or
 * MANAGER_CGROUP is not absolute, holds "..", or does not end in the unit user@UID.service; -ENOENT
 * when the manager's control group is not there; -EACCES (or other -errno of open()) when it cannot be
 * opened; -ENOMEM. *RET untouched on failure. */
int user_units_list(const char *hierarchy_dir, const char *manager_cgroup, UserUnits *ret);
