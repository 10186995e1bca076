/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reading a file that must be a file: configuration and state. Opened
 * without blocking (a FIFO in its place never hangs the reader) and, with
 * nofollow, without following a symlink in its place; checked with fstat
 * (a regular file of at most max_size bytes) before anything is read.
 * Errors: -ENOENT, -EISDIR (a directory), -ELOOP (a symlink, with nofollow),
 * -EBADF (a FIFO, socket or device), -EFBIG (larger than max_size), or the
 * errno of open/read. *ret is NUL-terminated; *ret_size without the NUL. */
int read_regular_file(const char *path, bool nofollow, size_t max_size, char **ret, size_t *ret_size);

/* What a failure of read_regular_file() means, for people. */
const char *read_regular_file_error(int r);

/* Make the parent directories of path that are missing, with mode. */
int mkdir_parents(const char *path, mode_t mode);
