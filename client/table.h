/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Aligned text tables in the manner of systemctl list-units: a header row (the legend), cells padded to
 * the widest in each column, one column that is ellipsized first when the terminal is too narrow, and a
 * colour per cell that takes no room. Cell text is sanitized for the terminal when it is added. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The gap between two columns. */
#define TABLE_GAP 2
/* An ellipsized column keeps at least this many cells (or its header's width, if wider). */
#define TABLE_ELLIPSIZE_MIN 8

typedef struct Table Table;

typedef enum TableAlign {
        TABLE_ALIGN_LEFT,
        TABLE_ALIGN_RIGHT,
} TableAlign;

/* Returns a table with n_columns > 0 columns named by headers[0..n_columns-1] (copied), or NULL when out
 * of memory. */
Table *table_new(const char *const *headers, size_t n_columns);

/* Accepts NULL and returns NULL. */
Table *table_free(Table *t);

/* Returns 0, or -EINVAL when column is out of range. */
int table_set_align(Table *t, size_t column, TableAlign align);

/* Marks the column that loses width first when lines would be wider than the terminal. Returns 0 or
 * -EINVAL when column is out of range. */
int table_set_ellipsize_column(Table *t, size_t column);

/* Appends a cell, filling rows left to right; color (an ANSI sequence or NULL) is used only when the
 * table is printed with colour. Returns 0 or -ENOMEM. */
int table_add_cell(Table *t, const char *text, const char *color);

/* Returns the number of complete rows added. */
size_t table_rows(const Table *t);

/* Writes the table to f: the header row unless legend is false, then the rows. width is the terminal's
 * (0: unlimited); when the natural width exceeds it, the ellipsize column shrinks down to its minimum,
 * cutting names in the middle with "...". Returns 0, -EINVAL when the last row is incomplete, -ENOMEM, or
 * -EIO when writing failed. */
int table_print(const Table *t, FILE *f, size_t width, bool legend, bool color);

/* Returns text shortened to at most width cells, its middle replaced by "..." (start and end of a unit
 * name are what tells units apart); a copy of text when it fits. NULL when out of memory. */
char *table_ellipsize(const char *text, size_t width);
