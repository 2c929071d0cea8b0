/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `rescan` and `reload`: ask mapguardd to act (root only). VerbFunctions (verbs.h). Each returns 0 or
 * -errno (printed; -EACCES: access denied). With --json, an empty object on success. */
int verb_rescan(int argc, char *argv[], void *userdata);
int verb_reload(int argc, char *argv[], void *userdata);
