/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "ops.h"
#include "model.h"
#include "reconcile.h"

typedef struct RefreshWork {
        uint64_t trigger_seqnum;        /* newest uevent that asked for it; 0: unconditional */
        bool then_apply;
} RefreshWork;

static void refresh_execute(Job *j) {
        RefreshWork *w = j->payload;

        j->r = 0;
        /* a read since then saw it all */
        if (w->trigger_seqnum > 0 && lane_covered_seqnum(j->daemon, j->lane) >= w->trigger_seqnum)
                j->no_read_back = true;
}

static void refresh_complete(Job *j) {
        RefreshWork *w = j->payload;
        char bdf[PCI_ADDR_STRLEN];

        pci_addr_format(&j->addr, bdf);
        if (j->no_read_back)
                log_debug("Skipped re-reading %s: a newer read covers its events", bdf);
        else if (!j->held)
                log_debug("Re-read %s", bdf);
        if (w && w->then_apply)
                daemon_reapply(j->daemon, &j->addr, "it reappeared or its driver was bound again");
}

static const JobType refresh_job_type = {
        .name = "refresh",
        .execute = refresh_execute,
        .free = free,
        .read_back = true,
};

Job *daemon_refresh_job_new(Daemon *d, const pci_addr *a) {
        RefreshWork *w = calloc(1, sizeof(*w));
        Job *j = w ? job_new(d, &refresh_job_type, a, w) : NULL;

        if (!j)
                return NULL;
        j->complete = refresh_complete;
        j->background = true;           /* a read: the PF's changes queued go first */
        return j;
}

static void refresh_merge(Job *queued, const Job *j) {
        RefreshWork *q = queued->payload;
        const RefreshWork *w = j->payload;

        q->trigger_seqnum = w->trigger_seqnum && q->trigger_seqnum ? MAX(w->trigger_seqnum, q->trigger_seqnum) : 0;
        q->then_apply = q->then_apply || w->then_apply;
}

int model_refresh(Daemon *d, const pci_addr *a, uint64_t seqnum, bool then_apply) {
        Job *j = daemon_refresh_job_new(d, a);
        RefreshWork *w;

        if (!j)
                return -ENOMEM;
        w = j->payload;
        w->trigger_seqnum = seqnum;
        w->then_apply = then_apply;
        return lane_submit_coalesced(d, j, refresh_merge);
}

static void groups_execute(Job *j) {
        GroupsWork *w = j->payload;

        j->r = iommu_host_scan(j->daemon->ctx, NULL, &w->groups);
}

static void groups_free(void *p) {
        GroupsWork *w = p;

        iommu_host_free(w->groups);
        free(w);
}

static const JobType groups_job_type = {
        .name = "groups",
        .execute = groups_execute,
        .free = groups_free,
};

Job *model_groups_job_new(Daemon *d) {
        GroupsWork *w = calloc(1, sizeof(*w));

        return w ? job_new(d, &groups_job_type, &LANE_HOST_KEY, w) : NULL;
}

void model_update_host_facts(Daemon *d) {
        iommu_host *n = NULL;
        bool changed;
        int r;

        /* cheap: one readdir and a few stat()s; groups themselves are read on demand */
        r = iommu_host_scan_facts(d->ctx, &n);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the IOMMU facts: %m");
                return;
        }
        changed = !d->iommu || n->present != d->iommu->present || n->vfio_container != d->iommu->vfio_container ||
                n->vfio_cdev != d->iommu->vfio_cdev || n->iommufd != d->iommu->iommufd;
        iommu_host_free(d->iommu);
        d->iommu = n;
        if (changed)
                daemon_emit_manager_changed(d, "IOMMUPresent", "IOMMUHint", "VFIOContainer", "VFIOCdev", "IOMMUFD",
                                            NULL);
}
