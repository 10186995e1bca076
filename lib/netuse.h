/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "bdf.h"
#include "sysfs.h"

/* Is the host using a PCI function? Taking a function from its driver
 * (rebinding it, disabling the VF it is) cuts off whatever the host does with
 * it, so sriovd refuses unless forced when:
 *   - one of its network interfaces is up, is a port of another (a bridge,
 *     a bond: sysfs "master") or under one (a VLAN: "upper_*"), carries an
 *     address, or a route leaves through it (rtnetlink RTM_GETADDR /
 *     RTM_GETROUTE dumps);
 *   - it serves a block device (class block below the function in sysfs).
 * Each finding is one sentence in *ret_reasons (NULL when unused).
 * SRIOV_HOST_USE_NOT_UP: being up is no use by itself (sriovd brought the
 * link up and asks whether the host took to it since). */
enum {
        SRIOV_HOST_USE_NOT_UP = 1 << 0,
};
int sriov_device_host_use(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, char ***ret_reasons,
                          sriov_error *err);

/* Processes that hold a VFIO node of the function open (/dev/vfio/GROUP or
 * its cdev /dev/vfio/devices/vfioN), from /proc/PID/fd. A write that removes
 * or unbinds such a function blocks in the kernel until they let go. */
typedef struct vfio_holder {
        pid_t pid;
        char comm[32];
        char node[64];
} vfio_holder;
int sriov_vfio_holders(sriov_ctx *ctx, const pci_addr *dev, vfio_holder **ret, size_t *ret_n);
