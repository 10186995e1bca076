/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basics.h"

/* Key events with structured fields, so that `journalctl SRIOVD_GUEST=vm1`
 * tells a guest's whole story: a MESSAGE_ID per kind of event (documented
 * in systemd/sriovd.catalog) and the devices, guest and pool involved.
 * Sent to the journal (sd_journal_send) when stderr is the journal's
 * stream ($JOURNAL_STREAM names it, as systemd sets it for the service);
 * otherwise a plain log line, as log_full() writes it. */

typedef enum LogEventKind {
        EVENT_NUMVFS,                   /* a PF's VF count changed */
        EVENT_BIND,                     /* a function's driver changed */
        EVENT_ASSIGN,                   /* a VF was given to a guest */
        EVENT_RELEASE,                  /* a guest's VF was taken back */
        EVENT_RESET,                    /* a VF was reset between tenants, or quarantined */
        EVENT_DRIFT,                    /* a VF setting was changed behind sriovd's back */
        EVENT_ENFORCE,                  /* ... and put back as declared */
        EVENT_RECOVERY,                 /* recovery after a crash, an assignment set up again */
        EVENT_LINK,                     /* a PF's link went down or came up */
        _EVENT_MAX,
} LogEventKind;

typedef struct LogFields {
        const char *device;             /* SRIOVD_DEVICE= (a PCI address) */
        const char *pf;                 /* SRIOVD_PF= */
        const char *guest;              /* SRIOVD_GUEST= */
        const char *pool;               /* SRIOVD_POOL= */
} LogFields;

/* The MESSAGE_ID of a kind (32 hex digits). */
const char *log_event_id(LogEventKind kind);
void log_event(LogEventKind kind, int level, const LogFields *f, const char *fmt, ...) _printf_(4, 5);
