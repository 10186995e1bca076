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

/* Does a process hold a VFIO node of the function? Asked of the kernel
 * first: the group node /dev/vfio/GROUP opens only when nobody has it open
 * (see vfio_group_test_open() in netuse.c for what that proves, and its
 * one cost). /proc is scanned only to name a holder the kernel reported,
 * and where the kernel cannot answer: no group node, not a character
 * device of the kernel's VFIO group major (test trees, the simulator), an
 * open error other than EBUSY, or a VFIO cdev (opening it is not
 * exclusive, and does not block the group until the device is bound;
 * 6.1 lists vfio-dev in sysfs but makes no cdev node: nothing to hold).
 *   held        somebody holds it
 *   group_busy  the kernel refused the group node with EBUSY (twice, when
 *               the scan found nobody): held by a process out of sight
 *               when n == 0 (another PID namespace)
 *   group_free  the group node opened: nobody held the group
 *   scanned     /proc was scanned
 *   first, n    the processes seen holding a node, the first of them */
typedef struct vfio_use {
        bool held, group_busy, group_free, scanned;
        char group_node[64];
        vfio_holder first;
        size_t n;
} vfio_use;
int sriov_vfio_held(sriov_ctx *ctx, const pci_addr *dev, vfio_use *ret);
