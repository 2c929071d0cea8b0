/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `check`: a monitoring plugin (Nagios/Icinga convention). A VerbFunction (verbs.h) whose result is the
 * plugin state: returns CHECK_OK, CHECK_WARNING, CHECK_CRITICAL or CHECK_UNKNOWN (format.h), which main()
 * passes on as the exit status, with one line of text and perfdata (or one JSON document) on stdout. Every
 * failure to ask mapguardd (no bus, the daemon down or failed, a bad answer) is CHECK_UNKNOWN with the
 * reason on stdout, where a monitoring system reads it. Returns -ENOMEM only when even the line cannot be
 * formatted. */
int verb_check(int argc, char *argv[], void *userdata);
