/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bdf.h"
#include "sysfs.h"

/* What must hold before a function is taken from its driver, checked fresh
 * from the kernel on the worker right before the write:
 *   - no process has its VFIO node open (the write would block in the
 *     kernel until it lets go: a guest is using it);
 *   - the host does not use it (interface up / address / route, block device).
 * force skips both. */
int safety_before_unbind(sriov_ctx *ctx, const pci_addr *dev, bool force, sriov_error *err);

/* The same for every VF a VF-count change removes (all current VFs unless
 * the PF has none: the kernel changes a non-zero count through 0). */
int safety_before_numvfs(sriov_ctx *ctx, const pci_addr *pf, unsigned count, bool force, sriov_error *err);
