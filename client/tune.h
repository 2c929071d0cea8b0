/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `mapguardctl tune --apply`: the only place the client touches the file system. Every path is taken
 * relative to a root directory (NULL or "/" for the real one) so the tests run it on a scratch tree. */

#include <stdbool.h>
#include <stdint.h>

#define TUNE_SYSCTL_FILE "/etc/sysctl.d/90-mapguard-tuned.conf"
#define TUNE_PROC_FILE "/proc/sys/vm/max_map_count"

/* The kernel stores vm.max_map_count in an int. */
#define TUNE_VALUE_MAX UINT32_C(2147483647)

/* Returns the value tune --apply sets: the largest of the live limit, the value the sysctl.d files ask
 * for and the recommendation, so applying never lowers the limit. */
uint32_t tune_target(uint32_t live, uint32_t tuned, uint32_t recommended);

/* Returns the vm.max_map_count the sysctl.d files of ROOT ask for at this moment
 * (max_map_count_read_tuned()): 0 when none sets it or the setting that counts is one the kernel refuses
 * (the kernel's default stays, as the daemon's TunedMaxMapCount says too); `fallback` (that property) only
 * when the files cannot be read. The property is as old as the daemon's last pass: a file written since
 * would be missed, and tune --apply would write less than it asks for. */
uint32_t tune_read_tuned(const char *root, uint32_t fallback);

/* Returns root + path in *ret_path (malloc'd); root NULL or "/" means path itself. 0 or -ENOMEM. */
int tune_path(const char *root, const char *path, char **ret_path);

/* Atomically replaces ROOT/etc/sysctl.d/90-mapguard-tuned.conf (a temporary file in the same directory,
 * fsync'ed, then renamed) with "vm.max_map_count = value" under a comment header of `#` lines: who wrote
 * it, when (realtime_usec, CLOCK_REALTIME µs) and `why` (may span lines; control characters are replaced).
 * Creates the sysctl.d directory when missing. Returns 0, -ERANGE when value exceeds TUNE_VALUE_MAX, or
 * the -errno of the failed step (nothing is left behind then). */
int tune_write_sysctl_file(const char *root, uint32_t value, const char *why, uint64_t realtime_usec);

/* Writes value to ROOT/proc/sys/vm/max_map_count. Returns 0, -ERANGE when value exceeds TUNE_VALUE_MAX,
 * or -errno of open()/write(): -EROFS when /proc/sys is mounted read-only (a container), -EACCES/-EPERM
 * without the privilege, -ENOENT when the file does not exist. */
int tune_apply_live(const char *root, uint32_t value);

/* What the sysctl.d files ask for at boot, once tune --apply has written its file. */
typedef struct TuneBoot {
        /* The file whose vm.max_map_count counts (ROOT prefixed, as systemd-sysctl reads it: a link in a
         * sysctl.d directory is named, not its target); NULL when none sets it. */
        char *source;
        /* When source is a symbolic link, the file it leads to (Debian's 99-sysctl.conf: /etc/sysctl.conf),
         * where the line is to be edited; else NULL. */
        char *target;
        /* Whether value is set: false when the setting that counts is one the kernel refuses (or refuses
         * with "-", which leaves nothing set): the kernel's default stays. */
        bool valid;
        uint32_t value;
} TuneBoot;

void tune_boot_done(TuneBoot *b);

/* Reads the sysctl.d files of ROOT merged as systemd-sysctl does at boot (max_map_count_read_tuned() of the
 * daemon's core) to tell whether the boot sets value once TUNE_SYSCTL_FILE holds it: a file whose name sorts
 * later (as 99-sysctl.conf) overrides it. `written` says tune --apply has just written value there. When
 * not (the preview), nothing is written and the files are judged as if it were: a setting that counts now
 * but sorts at or before ours (10-mapguard.conf, an older 90-mapguard-tuned.conf, or one of that name in
 * /run or /usr/lib, which ours masks) would give way to ours. Returns 0 when the boot sets value; 1 when
 * something else wins, described in *ret (free with tune_boot_done()); -errno when the files cannot be read
 * (*ret untouched then). */
int tune_check_boot(const char *root, uint32_t value, bool written, TuneBoot *ret);
