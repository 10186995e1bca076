/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* Assignments outlive reboots and PF resets: a done assignment whose VF is
 * gone or was re-created is not ready; it is set up again on the VF of the
 * same PF and index (the VFs created first when nothing else creates them:
 * the count the PF had when the guest got it), with the guest's driver,
 * settings and node owner, and the IOMMU group checked again. It becomes
 * ready, or broken with why; AssignmentChanged tells the new group and
 * device nodes. */

/* Every not-ready assignment; done once each was tried (at start: before READY=1). */
int reestablish_all(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata);
/* The not-ready assignments of one PF (its driver came back, its VFs appeared). */
void reestablish_pf(Daemon *d, const char *pf);
