/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <signal.h>
#include <stdio.h>

#include "test-hooks.h"
#include "util.h"

#ifdef ENABLE_TEST_HOOKS
void crash_point(const char *name) {
        static unsigned hits;
        const char *env = getenv("SRIOVD_CRASH_AT");
        size_t n;
        unsigned want = 1;

        if (!env)
                return;
        n = strcspn(env, ":");
        if (strlen(name) != n || !strneq(env, name, n))
                return;
        if (env[n] == ':' && safe_atou(env + n + 1, 10, &want) < 0)
                want = 1;
        if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == want) {
                fprintf(stderr, "crash point %s reached: killing myself\n", name);
                raise(SIGKILL);
        }
}

size_t test_size_limit(const char *name, size_t dflt) {
        char var[64];
        const char *env;
        unsigned v;

        (void) snprintf(var, sizeof(var), "SRIOVD_TEST_%s", name);
        env = getenv(var);
        if (!env || safe_atou(env, 10, &v) < 0)
                return dflt;
        return v;
}
#endif
