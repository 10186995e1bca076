/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "basics.h"

/* The kernel's EPROBE_DEFER (517) is not in libc. */
#define EPROBE_DEFER_COMPAT 517

/* Small string, number and file helpers. All return 0/positive on success
 * and a negative errno on failure; ret_ parameters are written only on
 * success. */

char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
char *strstrip(char *s);                /* in place: trailing whitespace */
bool string_is_printable(const char *s, size_t max_len);

int safe_atou(const char *s, int base, unsigned *ret);
int safe_atoi(const char *s, int base, int *ret);
int safe_atou64(const char *s, int base, uint64_t *ret);
int parse_boolean(const char *s);       /* 1, 0 or -EINVAL */

/* Read a whole small file (sysfs attribute, /proc file). Trailing newline
 * removed. -ENOENT etc. as the kernel says. */
int read_one_line_file(const char *path, char **ret);
int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max_size);

/* write(2) the whole buffer in one call; a short write is -EIO. */
int write_string_file(const char *path, const char *s);
int write_buffer_file(const char *path, const void *buf, size_t len);

/* Atomic replace: temp file, fsync, rename, fsync of the directory. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* readlink(2) into a fresh string; the basename of the link target. */
int readlink_malloc(const char *path, char **ret);
int readlink_basename(const char *path, char **ret);

uint64_t now_usec(void);                /* CLOCK_MONOTONIC */
void sleep_usec(uint64_t usec);

const char *errno_name(int err);        /* "EBUSY", without the sign */
int errno_from_name(const char *name);  /* "EBUSY" -> EBUSY, -EINVAL if unknown */
