/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"
#include "vfio.h"

/* The work of OpenDevice and DmaCheck on the device's lane: a VFIO session
 * (DMA remapping set up), and for DmaCheck its self-test. */
typedef struct VfioWork {
        unsigned flags;                 /* VFIO_OPEN_* */
        vfio_session *session;          /* OpenDevice: handed over */
        vfio_self_test self_test;       /* DmaCheck */
        vfio_range *valid, *reserved;   /* DmaCheck: the session's ranges */
        size_t n_valid, n_reserved;
} VfioWork;

extern const JobType open_device_job_type, dma_check_job_type;

/* Hand the device's VFIO nodes (/dev/vfio/GROUP, its cdev) to uid:gid, the
 * first change of each recorded in the state; with reset, give them back
 * as recorded. *ret_changed: the nodes changed. */
int vfio_nodes_owner(Daemon *d, const sriov_device *dev, bool reset, uid_t uid, gid_t gid, char ***ret_changed,
                     sriov_error *e);
