/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What mapguardctl's verbs (verbs-*.c) share: the options of the command line, the bus connection, and
 * the two ways output can fail. Each verb is a VerbFunction (verbs.h) whose userdata is the sd_bus ** of
 * main(), filled by acquire_bus() on first use. */

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "json.h"
#include "table.h"

extern bool arg_json;
extern bool arg_legend;
extern bool arg_apply;
extern const char *arg_root;
extern bool arg_color;
extern size_t arg_columns;
extern uint64_t arg_hit_window_usec; /* check: a hit this recent is CRITICAL */

/* Connects to mapguardd's bus once (*bus is kept for the next call) and makes sure, without activating
 * anything, that a call is worth making (client_bus_check()). Returns 0, or -errno with the sentence that
 * says why in buf: the connection failed, or mapguardd has failed or is stopped and not enabled
 * (-EHOSTDOWN). Prints nothing: `check` reports it on stdout. */
int acquire_bus_explain(sd_bus **bus, char *buf, size_t size);

/* acquire_bus_explain(), the sentence printed to stderr. Returns 0 or -errno. */
int acquire_bus(sd_bus **bus);

/* Finishes a JSON document, saying on stderr when it could not be written. Returns 0 or -errno. */
int json_finish(JsonWriter *w);

/* Prints t with the command line's width, legend and colour, saying on stderr when it fails. Returns 0 or
 * -errno. */
int print_table(const Table *t);
