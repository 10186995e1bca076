/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "host.h"

/* IOMMU discovery: is there an IOMMU, which user-space interfaces exist
 * (VFIO container, VFIO cdev, iommufd), the groups with their members and
 * reserved regions, and whether each group can be handed to user space. */

typedef struct iommu_region {
        uint64_t start, end;            /* inclusive */
        char *type;                     /* "msi", "direct", "reserved", "direct-relaxable" */
} iommu_region;

typedef struct iommu_group {
        int id;
        char *type;                     /* "DMA", "DMA-FQ", "identity", ...; NULL if unreadable */
        char **members;                 /* device names (BDFs for PCI), sorted */
        iommu_region *regions;
        size_t n_regions;
        bool viable;
        char *reason;                   /* why not viable; NULL when viable */
} iommu_group;

typedef struct iommu_host {
        bool present;                   /* the kernel has IOMMU groups */
        bool vfio_container;            /* /dev/vfio/vfio */
        bool vfio_cdev;                 /* /dev/vfio/devices/ */
        bool iommufd;                   /* /dev/iommu */
        bool noiommu_mode;              /* vfio's enable_unsafe_noiommu_mode is on */
        iommu_group *groups;            /* sorted by id */
        size_t n_groups;
} iommu_host;

#define IOMMU_NO_GROUPS_HINT \
        "the kernel has no IOMMU groups: enable VT-d / AMD-Vi in the firmware and boot with " \
        "intel_iommu=on (Intel; AMD enables its IOMMU by default) and iommu=pt"

/* Read the groups (members, type, reserved regions) and the host facts.
 * Touches sysfs and /dev only, so it may run on any thread. With host, the
 * viability of each group is computed as well (see iommu_host_update_viability). */
int iommu_host_scan(sriov_ctx *ctx, const sriov_host *host, iommu_host **ret);
/* Only the host facts (present, VFIO nodes, no-IOMMU mode): cheap. */
int iommu_host_scan_facts(sriov_ctx *ctx, iommu_host **ret);
/* (Re)compute every group's viability from the host model. */
int iommu_host_update_viability(iommu_host *h, const sriov_host *host);
iommu_host *iommu_host_free(iommu_host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(iommu_host *, iommu_host_free);

const iommu_group *iommu_host_find_group(const iommu_host *h, int id);

/* Viability of a group for handing to user space: every endpoint unbound or
 * bound to a driver_managed_dma driver (vfio-pci, pci-stub, pcieport, ...);
 * bridges are allowed. assume_vfio (optional) names a member to treat as
 * bound to vfio-pci already (the device about to be bound). On false,
 * *ret_reason (optional) says which device stands in the way and why. */
bool iommu_group_viable(const iommu_group *g, const sriov_host *host, const char *assume_vfio, char **ret_reason);

int iommu_parse_reserved_regions(const char *text, iommu_region **ret, size_t *ret_n);

int iommu_host_to_json(const iommu_host *h, json_object **ret);
int iommu_group_to_json(const iommu_group *g, json_object **ret);
