/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <time.h>

#include "plog.h"

int log_max_level = 6;

int log_level_from_string(const char *s) {
        static const char *const names[] = { "err", "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i + 3;
        return -EINVAL;
}

static void vlog(int level, int r, const char *fmt, va_list ap) {
        char line[2048];
        int saved = errno;

        if (level > log_max_level)
                return;
        errno = r < 0 ? -r : r;
        (void) vsnprintf(line, sizeof(line), fmt, ap);
        fprintf(stderr, "<%d>%s\n", level, line);
        errno = saved;
}

void log_full(int level, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(level, 0, fmt, ap);
        va_end(ap);
}

int log_errno(int level, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(level, r, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}
