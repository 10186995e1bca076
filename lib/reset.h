/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "bdf.h"
#include "sysfs.h"

/* Function-level reset through sysfs: the kernel picks the first of the
 * device's reset methods (flr, af_flr, pm, bus, ...; reset_method lists
 * them on kernels >= 5.15) and has no `reset` attribute for a device
 * without one. */

/* Whether the device can be reset, and how (NULL when the kernel does not
 * say: an older kernel with a `reset` attribute). */
bool sriov_reset_supported(sriov_ctx *ctx, const pci_addr *dev, char **ret_method);
/* Reset it: -EOPNOTSUPP when it has no reset method. */
int sriov_reset(sriov_ctx *ctx, const pci_addr *dev, sriov_error *err);
