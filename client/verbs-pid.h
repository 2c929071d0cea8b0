/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* No Linux process ID is above this: kernel/pid_max can be raised to 2^22 (PID_MAX_LIMIT), no further. */
#define PID_MAX_LIMIT 4194304

/* `pid PID`: one process, counted on demand by GetProcess(). A VerbFunction (verbs.h): the argument is
 * checked before the bus is asked anything. Returns 0 or -errno (printed; -EACCES: access denied). */
int verb_pid(int argc, char *argv[], void *userdata);

/* Returns 0, -EINVAL when s is not a positive decimal number, or -ERANGE when it is above PID_MAX_LIMIT. */
int parse_pid(const char *s, uint32_t *ret);
