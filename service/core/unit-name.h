/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* systemd's rules for unit names and for the unit a control-group path belongs to (its
 * cg_path_get_unit() and cg_path_get_user_unit()), for paths a delegated user may have made up. Pure
 * logic: no I/O. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The longest unit name systemd accepts is 255 bytes; this is its size with the NUL. */
#define UNIT_NAME_MAX 256

/* Returns true when NAME (LEN bytes, no NUL needed) is the name of a unit that can run, as systemd's
 * unit_name_is_valid(UNIT_NAME_PLAIN|UNIT_NAME_INSTANCE) says: at most 255 bytes; before the last dot
 * at least one of [A-Za-z0-9:_.\-@], not starting with '@', and an '@' must have an instance after it
 * ("getty@tty1.service"; the template "getty@.service" is refused); after the last dot a unit type
 * (service, socket, target, device, mount, automount, swap, timer, path, slice, scope). */
bool unit_name_is_valid(const char *name, size_t len);

/* Returns true when the control-group path component COMPONENT (LEN bytes) names a slice, as systemd's
 * skip_slices(): unescaped (a leading '_' dropped), a valid unit name of type slice without an '@'. */
bool unit_name_component_is_slice(const char *component, size_t len);

/* Writes to BUF the unit name that the control-group path component COMPONENT (LEN bytes) stands
 * for: systemd escapes a unit's directory name that could clash with the kernel's files with a leading
 * '_' ("_cpu.x.service" is cpu.x.service), and this undoes it as cg_unescape() does. Returns true when
 * the result is a valid unit name that is not a slice (BUF then holds it), false otherwise (BUF
 * untouched). */
bool unit_name_from_component(const char *component, size_t len, char buf[static UNIT_NAME_MAX]);

/* Returns true when NAME is "user@UID.service" (the system unit of a user's manager) with UID in
 * canonical decimal (no sign, no leading zero but "0" itself) and a valid uid (not (uid_t) -1, not
 * 65535, the 16-bit -1), and writes UID to *RET_UID (when not NULL); false otherwise (*RET_UID
 * untouched). */
bool unit_name_is_user_manager(const char *name, uid_t *ret_uid);

/* The unit of the control-group path PATH, as systemd's cg_path_get_unit(): leading slices are skipped,
 * the next component is the unit (unescaped; it must be a valid unit name and not a slice), and what is
 * below it belongs to it. "/system.slice/foo.service/sub" is foo.service. Returns 0, the name in BUF
 * and (when RET_REST is not NULL) where the rest of PATH after the unit's component starts; -ENXIO when
 * PATH holds no unit (only slices, the root, or a component after the slices that is no unit name);
 * -EINVAL on NULL arguments. BUF and *RET_REST untouched on failure. */
int unit_name_of_cgroup_path(const char *path, char buf[static UNIT_NAME_MAX], const char **ret_rest);

/* The user unit of the control-group path PATH, as systemd's cg_path_get_user_unit() for a user
 * manager: the unit of PATH must be user@UID.service (written to MANAGER), and the unit of the rest
 * below it (slices skipped again: app.slice/grow.service, app.slice/app-foo.slice/x.service) is the user
 * unit (written to UNIT); init.scope is the manager itself. Unlike systemd, a session scope
 * (user-1000.slice/session-3.scope) never holds a user unit here: it is a system unit. Returns 0;
 * -ENXIO when PATH is not below a user manager or holds no unit below it; -EINVAL on NULL arguments.
 * MANAGER and UNIT untouched on failure. */
int unit_name_user_unit_of_cgroup_path(const char *path, char manager[static UNIT_NAME_MAX],
                                       char unit[static UNIT_NAME_MAX]);
