/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated arrays of malloc'd strings, as systemd's strv: NULL counts as the empty list. */

#include <stdbool.h>
#include <stddef.h>

#define _cleanup_strv_free_ __attribute__((cleanup(strv_freep)))

/* Frees every string and the array. Accepts NULL; returns NULL. */
char **strv_free(char **l);
void strv_freep(char ***l);

/* Returns the number of strings in L. */
size_t strv_length(char *const *l);

/* Returns true when both lists hold the same strings in the same order. */
bool strv_equal(char *const *a, char *const *b);

/* Returns true when L holds S. */
bool strv_contains(char *const *l, const char *s);

/* Appends S to *L, taking ownership of S (freed on failure too). Returns 0 or -ENOMEM (*L untouched). */
int strv_consume(char ***l, char *s);

/* Splits S at blanks (spaces and tabs; runs of them and leading or trailing ones make no empty words)
 * into a new list. Returns 0 with the list in *RET (never NULL: an empty list for a blank S), or -ENOMEM. */
int strv_split_blanks(const char *s, char ***ret);
