/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fixture trees for the tests: paths below a root, whole files, symlinks, and removal. Each function
 * asserts with cmocka, so a failure fails the test that called it. */

#include <stddef.h>
#include <stdint.h>

/* Returns ROOT + "/" + REL as a malloc'd string (one slash between them whatever REL starts with; a
 * NULL or empty ROOT gives REL itself). */
char *testfs_path(const char *root, const char *rel);

/* Creates the directories above PATH (mode 0755), those that exist already being fine. */
void testfs_mkdir_parents(const char *path);

/* Creates the directory ROOT/REL and those above it (mode 0755); returns its path, malloc'd. */
char *testfs_mkdir_p(const char *root, const char *rel);

/* Writes LEN bytes of DATA (SIZE_MAX: strlen(DATA)) to ROOT/REL, mode 0644, creating its directories. */
void testfs_write(const char *root, const char *rel, const char *data, size_t len);

/* testfs_write() of a string. */
void testfs_write_str(const char *root, const char *rel, const char *text);

/* Makes ROOT/REL a symlink to TARGET, creating its directories. */
void testfs_symlink(const char *root, const char *rel, const char *target);

/* Returns a new directory "/tmp/PREFIX-XXXXXX" of mode 0755 (world-traversable, for tests that drop
 * privileges), malloc'd. */
char *testfs_mkdtemp(const char *prefix);

/* Removes PATH and everything below it, without following symlinks and without a shell. A missing
 * PATH is fine. */
void testfs_rm_rf(const char *path);
