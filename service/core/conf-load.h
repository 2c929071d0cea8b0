/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Loading the Config from the files, as mapguardd.conf(5) describes them (where they are, how drop-ins
 * merge and mask, what each key takes). Pure logic: errors come back as "file:line: reason" strings for
 * the caller to log. */

#include "conf.h"

/* Loads CONFIG_DIR/mapguardd.conf, then the drop-ins *.conf of ROOT/usr/lib/mapguard/mapguardd.conf.d/,
 * ROOT/run/mapguard/mapguardd.conf.d/ and CONFIG_DIR/mapguardd.conf.d/, merged by file name (dropin.h),
 * in strcmp() order after the main file. CONFIG_DIR NULL means the first entry of the colon-separated
 * $CONFIGURATION_DIRECTORY when that is set and non-empty, else ROOT/etc/mapguard. ROOT NULL, "" or "/" is
 * the real root; ROOT is never prefixed to an explicit CONFIG_DIR or to $CONFIGURATION_DIRECTORY (both name
 * host paths already). Missing files or directories are fine (defaults). Each call parses into a fresh
 * Config: nothing is half-applied.
 *
 * Returns 0 and a new Config in *RET, or -errno (-EINVAL bad syntax or value, -EACCES unreadable,
 * -EISDIR/-ENOTDIR wrong file type, -EFBIG, -ENOMEM, other I/O errors) with *RET untouched and a malloc'd
 * "file:line: reason" in *RET_ERROR when RET_ERROR is non-NULL (NULL only on -ENOMEM). Line 0 means the
 * file as a whole (cannot open, is a directory). A cross-key error (WarningPercent >= CriticalPercent)
 * names the line of whichever key was assigned last, with the other's location in the reason. */
int config_load(const char *root, const char *config_dir, Config **ret, char **ret_error);
