/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"
#include "util.h"

static const char *const event_ids[_EVENT_MAX] = {
        [EVENT_NUMVFS] = "aa120cc74ef14c1c90b3f00c06a4d9a6",
        [EVENT_BIND] = "a1b5dacd8ea44c86882d02c87968aff4",
        [EVENT_ASSIGN] = "848ed89cfe1e43d9be45bc4e0ea07c1b",
        [EVENT_RELEASE] = "abf9291246094f36a47e57bdecd82fcf",
        [EVENT_RESET] = "5968b2fd00224e0dbf800a3c0a3a674e",
        [EVENT_DRIFT] = "209039ea98df4b40b067d04f8badda1d",
        [EVENT_ENFORCE] = "d7562c8f02e04e15b99021157306f02a",
        [EVENT_RECOVERY] = "57ed664d5dc343a5a4f8c1986de185cd",
        [EVENT_LINK] = "cce168e6e1d743288444aa3bd1930e39",
};

const char *log_event_id(LogEventKind kind) {
        return kind < _EVENT_MAX ? event_ids[kind] : NULL;
}

/* stderr is the journal's stream when $JOURNAL_STREAM is its "dev:inode" */
static bool stderr_is_journal(void) {
        static int cached = -1;
        unsigned long long dev, ino;
        struct stat st;
        const char *e;

        if (cached >= 0)
                return cached;
        e = getenv("JOURNAL_STREAM");
        cached = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                 st.st_dev == dev && st.st_ino == ino;
        return cached;
}

#define FIELD_MAX 6

static size_t add_field(struct iovec *iov, char **bufs, size_t n, const char *name, const char *value) {
        if (isempty(value) || n >= FIELD_MAX)
                return n;
        bufs[n] = strdup_printf("%s=%s", name, value);
        if (!bufs[n])
                return n;
        iov[n] = (struct iovec) { bufs[n], strlen(bufs[n]) };
        return n + 1;
}

static int send_journal(LogEventKind kind, int level, const LogFields *f, const char *message) {
        struct iovec iov[FIELD_MAX + 3];
        char *bufs[FIELD_MAX] = {}, prio[16], *msg = strdup_printf("MESSAGE=%s", message);
        size_t n = 0;
        int r;

        if (!msg)
                return -ENOMEM;
        (void) snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        n = add_field(iov, bufs, n, "MESSAGE_ID", log_event_id(kind));
        n = add_field(iov, bufs, n, "SRIOVD_DEVICE", f ? f->device : NULL);
        n = add_field(iov, bufs, n, "SRIOVD_PF", f ? f->pf : NULL);
        n = add_field(iov, bufs, n, "SRIOVD_GUEST", f ? f->guest : NULL);
        n = add_field(iov, bufs, n, "SRIOVD_POOL", f ? f->pool : NULL);
        iov[n++] = (struct iovec) { msg, strlen(msg) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        iov[n++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=sriovd", strlen("SYSLOG_IDENTIFIER=sriovd") };
        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < FIELD_MAX; i++)
                free(bufs[i]);
        free(msg);
        return r;
}

void log_event(LogEventKind kind, int level, const LogFields *f, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int n;

        if (level > log_max_level)
                return;
        va_start(ap, fmt);
        n = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if (stderr_is_journal() && send_journal(kind, level, f, message) >= 0)
                return;
        log_full(level, "%s", message);
}
