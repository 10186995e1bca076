/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal test harness: each check reports file:line and the values on
 * failure; main() returns the number of failures (automake: 0 = PASS). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned test_failures;

#define CHECK(cond)                                                             \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
                        test_failures++;                                        \
                }                                                               \
        } while (0)

#define CHECK_INT(a, b)                                                         \
        do {                                                                    \
                long long _a = (long long) (a), _b = (long long) (b);           \
                if (_a != _b) {                                                 \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                                #a, _a, #b, _b);                                \
                        test_failures++;                                        \
                }                                                               \
        } while (0)

#define CHECK_STR(a, b)                                                         \
        do {                                                                    \
                const char *_a = (a), *_b = (b);                                \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                        \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                                #a, _a ? _a : "(null)", _b ? _b : "(null)");    \
                        test_failures++;                                        \
                }                                                               \
        } while (0)

#define TEST_MAIN_END()                                                         \
        do {                                                                    \
                if (test_failures)                                              \
                        fprintf(stderr, "%u check(s) failed\n", test_failures); \
                return test_failures ? 1 : 0;                                   \
        } while (0)
