/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hooks for the crash tests, built only with ./configure --enable-test-hooks
 * (make check builds and CI); an installed sriovd has none.
 *
 * crash_point(NAME): with SRIOVD_CRASH_AT=NAME[:N] in the environment the
 * process kills itself (SIGKILL) the N-th time it passes the point NAME. */
#ifdef ENABLE_TEST_HOOKS
void crash_point(const char *name);
#else
static inline void crash_point(const char *name) {
        (void) name;
}
#endif
