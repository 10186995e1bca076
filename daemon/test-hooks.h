/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hooks for the crash tests, built only with ./configure --enable-test-hooks
 * (make check builds and CI); an installed sriovd has none.
 *
 * crash_point(NAME): with SRIOVD_CRASH_AT=NAME[:N] in the environment the
 * process kills itself (SIGKILL) the N-th time it passes the point NAME.
 *
 * test_size_limit(NAME, DEFAULT): SRIOVD_TEST_<NAME>=N in the environment
 * makes a size limit N instead of DEFAULT, so that a test can reach it with
 * a host of the simulator's size. */
#include <stddef.h>

#ifdef ENABLE_TEST_HOOKS
void crash_point(const char *name);
size_t test_size_limit(const char *name, size_t dflt);
#else
static inline void crash_point(const char *name) {
        (void) name;
}
static inline size_t test_size_limit(const char *name, size_t dflt) {
        (void) name;
        return dflt;
}
#endif
