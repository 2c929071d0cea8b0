/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "table.h"
#include "util.h"

typedef struct TableCell {
        char *text; /* Sanitized. */
        const char *color;
} TableCell;

typedef struct TableColumn {
        char *header;
        TableAlign align;
} TableColumn;

struct Table {
        TableColumn *columns;
        size_t n_columns;
        TableCell *cells;
        size_t n_cells, n_allocated;
        size_t ellipsize_column; /* n_columns: none. */
};

Table *table_new(const char *const *headers, size_t n_columns) {
        Table *t;

        if (n_columns == 0)
                return NULL;
        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->columns = calloc(n_columns, sizeof(TableColumn));
        if (!t->columns)
                return table_free(t);
        t->n_columns = n_columns;
        t->ellipsize_column = n_columns;
        for (size_t i = 0; i < n_columns; i++) {
                t->columns[i].header = format_sanitize(headers[i]);
                if (!t->columns[i].header)
                        return table_free(t);
        }
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        if (t->columns)
                for (size_t i = 0; i < t->n_columns; i++)
                        free(t->columns[i].header);
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->columns);
        free(t->cells);
        free(t);
        return NULL;
}

int table_set_align(Table *t, size_t column, TableAlign align) {
        if (column >= t->n_columns)
                return -EINVAL;
        t->columns[column].align = align;
        return 0;
}

int table_set_ellipsize_column(Table *t, size_t column) {
        if (column >= t->n_columns)
                return -EINVAL;
        t->ellipsize_column = column;
        return 0;
}

int table_add_cell(Table *t, const char *text, const char *color) {
        char *s;

        if (ARRAY_RESERVE(t->cells, t->n_allocated, t->n_cells, t->n_columns * 8) < 0)
                return -ENOMEM;
        s = format_sanitize(text ?: "");
        if (!s)
                return -ENOMEM;
        t->cells[t->n_cells++] = (TableCell){ .text = s, .color = color };
        return 0;
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_columns;
}

/* Returns the length in bytes of the longest start of s that takes at most n cells; a wide character
 * that would straddle the limit is left out whole, combining marks stay with their character. */
static size_t head_bytes(const char *s, size_t n) {
        size_t i = 0, w = 0;

        while (s[i]) {
                size_t len, cw = format_char_width(s + i, &len);
                if (w + cw > n)
                        break;
                w += cw;
                i += len;
        }
        return i;
}

/* Returns the offset of the longest end of s that takes at most n cells and does not start with a
 * combining mark (which would lose its character). */
static size_t tail_start(const char *s, size_t n) {
        size_t i = 0, rest = format_width(s);

        while (s[i]) {
                size_t len, cw = format_char_width(s + i, &len);
                if (rest <= n && cw > 0)
                        break;
                rest -= cw;
                i += len;
        }
        return i;
}

char *table_ellipsize(const char *text, size_t width) {
        size_t w = format_width(text), head, tail;
        char *out;

        if (w <= width)
                return strdup(text);
        if (width <= 3)
                return strndup(text, head_bytes(text, width));

        /* The end of a unit name (instance, ".service") tells units apart as often as the start does.
         * With wide characters the result may be a cell short of width; the caller pads. */
        head = head_bytes(text, (width - 3 + 1) / 2);
        tail = tail_start(text, (width - 3) / 2);

        out = malloc(head + 3 + strlen(text + tail) + 1);
        if (!out)
                return NULL;
        memcpy(out, text, head);
        memcpy(out + head, "...", 3);
        strcpy(out + head + 3, text + tail);
        return out;
}

static int table_print_cell(const Table *t, FILE *f, size_t column, const char *text, const char *color,
                            size_t width, bool last) {
        _cleanup_free_ char *shortened = NULL;
        size_t w = format_width(text), pad;

        if (w > width) {
                shortened = table_ellipsize(text, width);
                if (!shortened)
                        return -ENOMEM;
                text = shortened;
                w = format_width(text);
        }
        pad = width - w;

        if (t->columns[column].align == TABLE_ALIGN_RIGHT)
                fprintf(f, "%*s", (int) pad, "");
        if (color)
                fprintf(f, "%s%s%s", color, text, ANSI_NORMAL);
        else
                fputs(text, f);
        /* No trailing blanks at the end of a line. */
        if (t->columns[column].align == TABLE_ALIGN_LEFT && !last)
                fprintf(f, "%*s", (int) pad, "");
        if (!last)
                fprintf(f, "%*s", TABLE_GAP, "");
        return 0;
}

int table_print(const Table *t, FILE *f, size_t width, bool legend, bool color) {
        _cleanup_free_ size_t *widths = NULL;
        size_t total = 0;
        int r;

        if (t->n_cells % t->n_columns != 0)
                return -EINVAL;

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;
        for (size_t c = 0; c < t->n_columns; c++) {
                if (legend)
                        widths[c] = format_width(t->columns[c].header);
                for (size_t i = c; i < t->n_cells; i += t->n_columns) {
                        size_t w = format_width(t->cells[i].text);
                        if (w > widths[c])
                                widths[c] = w;
                }
                total += widths[c] + (c > 0 ? TABLE_GAP : 0);
        }

        if (width > 0 && total > width && t->ellipsize_column < t->n_columns) {
                size_t e = t->ellipsize_column, excess = total - width, min = TABLE_ELLIPSIZE_MIN;

                if (legend && format_width(t->columns[e].header) > min)
                        min = format_width(t->columns[e].header);
                if (widths[e] > min)
                        widths[e] = widths[e] - min > excess ? widths[e] - excess : min;
        }

        if (legend) {
                /* Underlined like systemctl's legend, which needs no separator line. */
                if (color)
                        fputs(ANSI_UNDERLINE, f);
                for (size_t c = 0; c < t->n_columns; c++) {
                        r = table_print_cell(t, f, c, t->columns[c].header, NULL, widths[c],
                                             c + 1 == t->n_columns);
                        if (r < 0)
                                return r;
                }
                if (color)
                        fputs(ANSI_NORMAL, f);
                fputc('\n', f);
        }

        for (size_t row = 0; row < t->n_cells; row += t->n_columns) {
                const TableCell *cells = t->cells + row;
                size_t last = t->n_columns - 1;

                /* Empty cells at the end of a row would only print blanks. */
                while (last > 0 && !*cells[last].text)
                        last--;
                for (size_t c = 0; c <= last; c++) {
                        r = table_print_cell(t, f, c, cells[c].text, color ? cells[c].color : NULL,
                                             widths[c], c == last);
                        if (r < 0)
                                return r;
                }
                fputc('\n', f);
        }

        if (ferror(f))
                return -EIO;
        return 0;
}
