/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `status`, `list` and `show UNIT`: the Manager's properties and the watched units, nearest the limit
 * first, and the processes of one unit. VerbFunctions (verbs.h): userdata is main()'s sd_bus **. Each
 * returns 0 or -errno (printed; -EACCES: access denied). */

int verb_status(int argc, char *argv[], void *userdata);
int verb_list(int argc, char *argv[], void *userdata);
int verb_show(int argc, char *argv[], void *userdata);

/* Returns the unit `show` asks for: arg itself, or as systemctl does, arg with ".service" appended when it
 * has no suffix ("foo" means "foo.service"), malloc'd in *ret. Returns 0, -EINVAL when arg is empty (said
 * on stderr: the daemon would be asked for ".service"), or -ENOMEM. */
int unit_name_from_arg(const char *arg, char **ret);
