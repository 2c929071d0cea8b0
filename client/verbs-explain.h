/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The most groups the table of `explain` shows; --json gives all that the daemon answered. */
#define EXPLAIN_TABLE_ROWS 10

/* `explain PID|UNIT`: what the maps of a process are, by ExplainProcess(); a unit (anything that is not a
 * number, named as `show` takes it) stands for its worst process, as the daemon's WorstPID: the highest
 * level, then the most maps, then the lowest pid. A VerbFunction (verbs.h): a PID is checked before the bus
 * is asked anything. Returns 0 or -errno (printed; -EACCES: access denied). */
int verb_explain(int argc, char *argv[], void *userdata);
