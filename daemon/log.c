/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int log_max_level = 6;

static void log_prefix(int level) {
        static int journal = -1;

        if (journal < 0)
                journal = getenv("JOURNAL_STREAM") != NULL;
        if (journal)
                fprintf(stderr, "<%d>", level);
}

void log_full(int level, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        if (level > log_max_level)
                return;
        log_prefix(level);
        va_start(ap, fmt);
        errno = saved;
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
}

int log_errno(int level, int r, const char *fmt, ...) {
        va_list ap;

        if (level > log_max_level)
                return r;
        log_prefix(level);
        va_start(ap, fmt);
        errno = r < 0 ? -r : r;         /* for %m */
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return r;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}
