/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "state.h"

/* CDI (Container Device Interface) specs of the assigned VFs: one JSON file
 * per VF in the configured directory (--cdi-dir, /run/cdi by default), of
 * kind sriovd.io/vf, so that a CDI-aware runtime injects an assigned VF's
 * VFIO nodes by name (sriovd.io/vf=0000-3b-02.2). A spec exists exactly
 * while the VF's assignment is done and ready: it is written once the
 * assignment is on disk as done and before Assign answers, removed as soon
 * as a release is recorded, and the directory is brought in line with the
 * ledger when sriovd is ready after a start (a crash leaves nothing behind
 * and loses nothing). Files are replaced atomically (rename). */

#define CDI_KIND "sriovd.io/vf"

/* Bring a's spec in line with its state (gone: it was released); a failure
 * is logged: the VF works without its spec, only not by CDI name. */
void cdi_update(Daemon *d, const StateAssignment *a, bool gone);
/* Every spec in line with the ledger: written for the ready assignments,
 * removed for every other VF. */
void cdi_sync_all(Daemon *d);
/* The CDI name of the VF's device ("sriovd.io/vf=0000-3b-02.2"), NULL when
 * it has no spec now (or out of memory). */
char *cdi_device_name(Daemon *d, const char *vf);
