/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"

/* Keeping the model (d->host) in step with the kernel: re-reads of a device
 * or a PF family, queued by uevents and after late kernel writes, coalesced
 * per lane; and reads of the whole host's IOMMU groups. */

/* Queue a re-read of a device (or of the whole lane when a is the lane's
 * key), unless one is queued already. seqnum: of the newest uevent that asks
 * for it (0: unconditional); then_apply: apply the declared configuration to
 * the PF afterwards (it reappeared, or its driver came back). */
int model_refresh(Daemon *d, const pci_addr *a, uint64_t seqnum, bool then_apply);

/* Reading every IOMMU group (host-wide: queued in the LANE_HOST_KEY lane).
 * The job's payload is a GroupsWork; read it in the job's completion. */
typedef struct GroupsWork {
        iommu_host *groups;
} GroupsWork;
Job *model_groups_job_new(Daemon *d);

/* Re-read the host facts (IOMMU presence, VFIO nodes) and tell what changed. */
void model_update_host_facts(Daemon *d);
