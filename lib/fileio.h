/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reading whole files from /proc, /sys and /etc, and writing files, retrying on EINTR. */

/* Reads FD until EOF or until SIZE - 1 bytes are in BUF, and NUL-terminates it. Returns the number of
 * bytes read (SIZE - 1 means the file may go on: callers that need all of it treat that as too long),
 * or -errno. */
ssize_t read_fd_small(int fd, char *buf, size_t size);

/* Reads all of FD into a malloc'd NUL-terminated buffer. Returns 0 with the buffer and its length
 * (which an embedded NUL makes differ from strlen()), or -errno; out-parameters untouched on failure. */
int read_fd_all(int fd, char **ret, size_t *ret_len);
/* The same, with at least MIN_ROOM bytes free for each read(): a /proc seq_file fills a read with as many
 * whole lines as fit, so more room means fewer reads of a large file. */
int read_fd_all_room(int fd, size_t min_room, char **ret, size_t *ret_len);

/* Writes all N bytes of BUF to FD. Returns 0 or -errno. */
int write_fd_all(int fd, const char *buf, size_t n);

/* Replaces PATH with TEXT at once: a new file in the same directory (mode MODE), synced, renamed over
 * PATH, and the directory synced, so that a crash leaves the old file or the new one, never a part.
 * The directory must exist. Returns 0, or -errno with the temporary file removed. */
int write_file_atomic(const char *path, const char *text, mode_t mode);
