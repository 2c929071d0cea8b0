/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `mapguardctl metrics`: the exposition of metrics.h, as a verb of the table in mapguardctl.c. */

/* VerbFunction (verbs.h), userdata the sd_bus ** of mapguardctl.h. Returns 0, -errno (said on stderr) or
 * EXIT_NOPERMISSION. --json does not apply: the exposition is its own machine-readable format. */
int verb_metrics(int argc, char *argv[], void *userdata);
