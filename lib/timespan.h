/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Parses a time span as systemd writes them (systemd.time(7)): one or more "<number>[.<fraction>][ ]<unit>"
 * components, optionally separated by blanks, added up ("1min 30s", "2h30min", "1.5s"); a number without
 * a unit is seconds. Units: us usec µs, ms msec, s sec second(s), m min minute(s), h hr hour(s), d day(s),
 * w week(s). Returns 0 with the µs in *ret, -EINVAL on a syntax error (also NULL, an empty or a negative
 * span, an unknown unit), -ERANGE when it does not fit in 64 bits. Used by mapguardd.conf's IntervalSec=
 * and mapguardctl's --hit-window=. */
int parse_timespan(const char *s, uint64_t *ret);
