/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basics.h"

/* The plugin's log: one line per message on stderr with a syslog priority
 * prefix ("<6>"), which journald understands; %m is the error of r. */
void log_full(int level, const char *fmt, ...) _printf_(2, 3);
int log_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);
#define log_debug(...) log_full(7, __VA_ARGS__)
#define log_info(...) log_full(6, __VA_ARGS__)
#define log_notice(...) log_full(5, __VA_ARGS__)
#define log_warning(...) log_full(4, __VA_ARGS__)
#define log_error(...) log_full(3, __VA_ARGS__)
#define log_error_errno(r, ...) log_errno(3, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_errno(4, r, __VA_ARGS__)
#define log_debug_errno(r, ...) log_errno(7, r, __VA_ARGS__)
extern int log_max_level;
int log_level_from_string(const char *s);
