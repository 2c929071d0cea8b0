/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Paths below a root directory: every reader of /proc, /sys, /etc, /run and /usr takes a ROOT, so
 * that tests run it on a fixture tree. */

/* Returns ROOT + PATH as a malloc'd string ("/", "" and NULL roots give PATH unchanged; trailing
 * slashes of ROOT are dropped), NULL when out of memory. PATH must be absolute. */
char *path_prefix_root(const char *root, const char *path);
