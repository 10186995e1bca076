/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What assign.c (Assign, its rollback) and assign-release.c (Release,
 * Reconcile, a release left over from before a restart) share. */

#include "assign.h"

/* A job's error message, NULL when it set none. */
const char *assign_job_message(const Job *j);
/* The end of a release job of a batch (Release, Reconcile). */
void assign_release_done(Job *j);
/* The kernel holds a write of j past the timeout: the release (or the
 * rollback) runs as the lane's intent once it is done. */
void assign_release_when_kernel_done(Daemon *d, Job *j, bool rollback);
