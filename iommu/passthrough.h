/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bdf.h"
#include "sysfs.h"

/* Before a function is handed to user space (bound to vfio-pci or another
 * driver that leaves DMA to user space), its IOMMU group is checked, fresh
 * from sysfs:
 *   - the host has an IOMMU (the function has a group), unless the unsafe
 *     no-IOMMU mode is explicitly asked for;
 *   - every other endpoint of the group is unbound or bound to a
 *     driver_managed_dma driver (bridges do not count); with whole_group,
 *     those bound to host drivers are returned to be bound too;
 *   - neither the function nor those peers are in use by the host (an
 *     interface up, with an address or a route; a block device), unless forced.
 * A refusal names the device in the way and why. */

enum {
        PASSTHROUGH_WHOLE_GROUP = 1 << 0,
        PASSTHROUGH_FORCE = 1 << 1,             /* take devices the host uses */
        PASSTHROUGH_ALLOW_NOIOMMU = 1 << 2,
        PASSTHROUGH_DEVICE_CHECKED = 1 << 3,    /* the caller checked the function's own use just before
                                                 * (safety_before_unbind()): only the group is checked */
};

/* Returns 0 with *ret_peers (the other endpoints to bind along, may be NULL)
 * and the group number (-1 without IOMMU), or:
 *   -ENODATA   no IOMMU group (no IOMMU)
 *   -EXDEV     the group is not viable
 *   -EADDRINUSE the host uses the function or a peer */
int passthrough_check(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, pci_addr **ret_peers, size_t *ret_n_peers,
                      int *ret_group, sriov_error *err);

/* The same host-use rule for taking any function from its driver. */
int host_use_check(sriov_ctx *ctx, const pci_addr *dev, bool force, sriov_error *err);
