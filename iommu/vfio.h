/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "bdf.h"
#include "sysfs.h"

/* DMA remapping for a function bound to vfio-pci: a VFIO container with the
 * type1v2 IOMMU, or — where /dev/iommu and the device's VFIO cdev exist — an
 * iommufd IO address space. The session keeps the fds (device, group,
 * container or iommufd), knows the valid IOVA ranges and the group's reserved
 * regions, and maps/unmaps memfd-backed buffers at chosen IOVAs, refusing
 * misaligned requests, ranges outside the aperture, overlaps with reserved
 * regions and with existing mappings before the kernel sees them. */

typedef enum vfio_backend {
        VFIO_BACKEND_CONTAINER,
        VFIO_BACKEND_IOMMUFD,
} vfio_backend;

typedef struct vfio_range {
        uint64_t start, last;           /* inclusive */
        char type[24];                  /* reserved regions: "msi", "direct", ... */
} vfio_range;

typedef struct vfio_mapping {
        uint64_t iova, size;
        void *vaddr;
        int memfd;
} vfio_mapping;

typedef struct vfio_session {
        vfio_backend backend;
        int group;                      /* IOMMU group number */
        int device_fd;
        int group_fd;                   /* container backend */
        int iommu_fd;                   /* /dev/vfio/vfio or /dev/iommu */
        uint32_t ioas_id, devid;        /* iommufd */
        uint64_t page_sizes;            /* bitmap of supported IOMMU page sizes */
        uint32_t dma_avail;             /* mappings left (container), UINT32_MAX unknown */
        vfio_range *valid;              /* usable IOVA ranges */
        size_t n_valid;
        vfio_range *reserved;           /* the group's reserved regions */
        size_t n_reserved;
        vfio_mapping *maps;
        size_t n_maps;
} vfio_session;

enum {
        VFIO_OPEN_PREFER_IOMMUFD = 1 << 0,
        VFIO_OPEN_REQUIRE_IOMMUFD = 1 << 1,
        VFIO_OPEN_REQUIRE_CONTAINER = 1 << 2,
};

int vfio_session_open(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, vfio_session **ret, sriov_error *err);
/* A session around fds received from sriovd's OpenDevice (takes them):
 * container backend: device + group + container; iommufd: device + iommufd
 * with the IOAS id. Reads the IOMMU's facts like vfio_session_open(). */
int vfio_session_adopt(vfio_backend backend, int device_fd, int group_fd, int iommu_fd, uint32_t ioas_id,
                       vfio_session **ret, sriov_error *err);
vfio_session *vfio_session_free(vfio_session *s);        /* unmaps, closes */
DEFINE_TRIVIAL_CLEANUP_FUNC(vfio_session *, vfio_session_free);

/* Pure: may [iova, iova+size) be mapped? Returns 0 or -EINVAL (alignment),
 * -ERANGE (outside the valid ranges), -EADDRINUSE (reserved region),
 * -EEXIST (an existing mapping), with a sentence in err. */
int vfio_check_map(const vfio_range *valid, size_t n_valid, const vfio_range *reserved, size_t n_reserved,
                   const vfio_mapping *maps, size_t n_maps, uint64_t page_sizes, uint64_t iova, uint64_t size,
                   sriov_error *err);

/* Map a fresh memfd-backed buffer of size bytes at iova (read and write). */
int vfio_map(vfio_session *s, uint64_t iova, uint64_t size, sriov_error *err);
/* Unmap exactly a mapping made by vfio_map(). */
int vfio_unmap(vfio_session *s, uint64_t iova, uint64_t size, sriov_error *err);

typedef struct vfio_self_test {
        vfio_backend backend;
        int group;
        uint64_t page_sizes;
        uint32_t dma_avail;
        uint64_t iova, size;            /* what was mapped */
        bool remap_refused;             /* mapping it again was refused: the kernel knew the mapping */
        uint64_t unmapped;              /* bytes the unmap reported */
} vfio_self_test;

/* Map a 2 MiB buffer at the lowest suitable IOVA, check the kernel knows the
 * mapping (a second map of the same IOVA is refused), unmap it and check
 * what the kernel reports unmapped. */
int vfio_session_self_test(vfio_session *s, vfio_self_test *ret, sriov_error *err);

/* The device nodes a VMM needs for the function: /dev/vfio/GROUP and the
 * VFIO cdevs the kernel lists for it in sysfs (vfio-dev/vfioN; whether the
 * node exists depends on the kernel: 6.1 lists it without a cdev). */
int vfio_device_nodes(sriov_ctx *ctx, const pci_addr *dev, char ***ret);
