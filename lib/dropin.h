/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Drop-in directories as systemd merges them (conf-files.c): the *.conf files of several directories,
 * ordered by file name across all of them; a name in a directory of higher priority hides the same
 * name in the others; a symlink to /dev/null (any character device) or an empty file masks the name.
 * mapguardd.conf.d/ and sysctl.d/ are both read through this. */

#include <stddef.h>

typedef struct DropIn {
        char *name; /* the file name, e.g. "10-mapguard.conf" */
        char *path; /* the file to read (DIR/NAME), NULL when the name is masked */
} DropIn;

typedef struct DropInList {
        DropIn *files; /* sorted by name */
        size_t n;
} DropInList;

/* Collects the *.conf entries of DIRS (N_DIRS paths, highest priority first; a missing directory is
 * skipped) into *RET. Hidden names (a leading '.') are skipped; so is an entry that cannot be stat'ed
 * (a dangling or looping symlink), which masks nothing. An absolute symlink target is taken below ROOT
 * ("" or NULL for the real root), so that a fixture tree behaves as the host would. The path of an
 * entry that is not a regular file (a directory, a FIFO) is kept: the reader decides.
 * Returns 0, or -errno with *RET untouched and, when RET_FAILED_DIR is not NULL, the directory that
 * could not be opened or read in it (one of DIRS, not a copy): -ENOTDIR, -EACCES, ...; -ENOMEM. */
int dropin_list(const char *root, const char *const *dirs, size_t n_dirs, DropInList *ret,
                const char **ret_failed_dir);

/* Frees what L holds and empties it. */
void dropin_list_done(DropInList *l);
