/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "groups.h"
#include "iommufd-uapi.h"
#include "netuse.h"
#include "ops.h"
#include "util.h"
#include "vfio.h"

/* ---- pure checks ---- */

static bool overlaps(uint64_t a, uint64_t a_last, uint64_t b, uint64_t b_last) {
        return a <= b_last && b <= a_last;
}

int vfio_check_map(const vfio_range *valid, size_t n_valid, const vfio_range *reserved, size_t n_reserved,
                   const vfio_mapping *maps, size_t n_maps, uint64_t page_sizes, uint64_t iova, uint64_t size,
                   sriov_error *err) {
        uint64_t min_page = page_sizes ? page_sizes & -page_sizes : 4096, last;
        bool inside = false;

        if (size == 0)
                return sriov_error_set(err, -EINVAL, "A mapping needs a size");
        if (iova % min_page || size % min_page)
                return sriov_error_set(err, -EINVAL,
                                       "IOVA 0x%" PRIx64 " and size 0x%" PRIx64 " must be multiples of the IOMMU page size 0x%" PRIx64,
                                       iova, size, min_page);
        if (iova + size < iova)
                return sriov_error_set(err, -ERANGE, "IOVA 0x%" PRIx64 " + 0x%" PRIx64 " overflows", iova, size);
        last = iova + size - 1;
        for (size_t i = 0; i < n_valid; i++)
                if (iova >= valid[i].start && last <= valid[i].last)
                        inside = true;
        if (!inside)
                return sriov_error_set(err, -ERANGE,
                                       "IOVA 0x%" PRIx64 "-0x%" PRIx64 " is outside the IOMMU's valid ranges", iova, last);
        for (size_t i = 0; i < n_reserved; i++)
                if (overlaps(iova, last, reserved[i].start, reserved[i].last))
                        return sriov_error_set(err, -EADDRINUSE,
                                               "IOVA 0x%" PRIx64 "-0x%" PRIx64 " overlaps the reserved region 0x%" PRIx64 "-0x%" PRIx64 " (%s)",
                                               iova, last, reserved[i].start, reserved[i].last, reserved[i].type);
        for (size_t i = 0; i < n_maps; i++)
                if (overlaps(iova, last, maps[i].iova, maps[i].iova + maps[i].size - 1))
                        return sriov_error_set(err, -EEXIST,
                                               "IOVA 0x%" PRIx64 "-0x%" PRIx64 " overlaps the mapping at 0x%" PRIx64,
                                               iova, last, maps[i].iova);
        return 0;
}

/* ---- sessions ---- */

vfio_session *vfio_session_free(vfio_session *s) {
        if (!s)
                return NULL;
        while (s->n_maps > 0) {
                vfio_mapping *m = &s->maps[s->n_maps - 1];
                (void) vfio_unmap(s, m->iova, m->size, NULL);
        }
        free(s->maps);
        free(s->valid);
        free(s->reserved);
        safe_close(s->device_fd);
        safe_close(s->group_fd);
        safe_close(s->iommu_fd);
        return mfree(s);
}

static int add_range(vfio_range **v, size_t *n, uint64_t start, uint64_t last, const char *type) {
        vfio_range *nv = realloc(*v, (*n + 1) * sizeof(**v));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = (vfio_range) { .start = start, .last = last };
        (void) snprintf(nv[*n].type, sizeof(nv[*n].type), "%s", strempty(type));
        (*n)++;
        return 0;
}

static int load_reserved(sriov_ctx *ctx, vfio_session *s) {
        _cleanup_free_ char *p = sysfs_group_path(ctx, s->group, "reserved_regions"), *text = NULL;
        iommu_region *regions = NULL;
        size_t n = 0;
        int r;

        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &text, NULL, 64 * 1024) < 0)
                return 0;
        r = iommu_parse_reserved_regions(text, &regions, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = add_range(&s->reserved, &s->n_reserved, regions[i].start, regions[i].end, regions[i].type);
                if (r < 0)
                        break;  /* and free the regions */
        }
        for (size_t i = 0; i < n; i++)
                free(regions[i].type);
        free(regions);
        return r;
}

static char *devnode(sriov_ctx *ctx, const char *rel) {
        return dev_path(ctx, rel);
}

/* The type1 IOMMU's info with its capability chain: IOVA ranges, DMA avail. */
static int container_info(vfio_session *s, sriov_error *err) {
        _cleanup_free_ struct vfio_iommu_type1_info *info = NULL;
        size_t sz = sizeof(*info);

        for (int attempt = 0; attempt < 2; attempt++) {
                struct vfio_iommu_type1_info *n = realloc(info, sz);

                if (!n)
                        return -ENOMEM;
                info = n;
                memset(info, 0, sz);
                info->argsz = (uint32_t) sz;
                if (ioctl(s->iommu_fd, VFIO_IOMMU_GET_INFO, info) < 0)
                        return sriov_error_set(err, negative_errno(), "VFIO_IOMMU_GET_INFO failed: %m");
                if (info->argsz <= sz)
                        break;
                sz = info->argsz;
        }
        s->page_sizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes : 4096;
        s->dma_avail = UINT32_MAX;
        if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset) {
                for (uint32_t off = info->cap_offset; off && off + sizeof(struct vfio_info_cap_header) <= sz;) {
                        struct vfio_info_cap_header *h = (void *) ((char *) info + off);

                        if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
                            off + sizeof(struct vfio_iommu_type1_info_cap_iova_range) <= sz) {
                                struct vfio_iommu_type1_info_cap_iova_range *c = (void *) h;

                                for (uint32_t i = 0; i < c->nr_iovas &&
                                     off + sizeof(*c) + (i + 1) * sizeof(c->iova_ranges[0]) <= sz; i++)
                                        if (add_range(&s->valid, &s->n_valid, c->iova_ranges[i].start,
                                                      c->iova_ranges[i].end, NULL) < 0)
                                                return -ENOMEM;
                        } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
                                   off + sizeof(struct vfio_iommu_type1_info_dma_avail) <= sz)
                                s->dma_avail = ((struct vfio_iommu_type1_info_dma_avail *) h)->avail;
                        if (h->next <= off)
                                break;
                        off = h->next;
                }
        }
        if (s->n_valid == 0 && add_range(&s->valid, &s->n_valid, 0, UINT64_MAX, NULL) < 0)
                return -ENOMEM;
        return 0;
}

/* A VFIO node of the function (the group node, or its cdev) could not be
 * opened, or bound: say what is wrong. EBUSY is another VFIO user (the
 * kernel gives a group to one container at a time, and a device to one
 * iommufd), named when it can be found in /proc. */
static int node_error(sriov_ctx *ctx, const pci_addr *dev, int group, const char *what, int r, sriov_error *err) {
        _cleanup_free_ vfio_holder *h = NULL;
        char bdf[PCI_ADDR_STRLEN];
        size_t n = 0;

        pci_addr_format(dev, bdf);
        switch (r) {
        case -EBUSY:
                if (sriov_vfio_holders(ctx, dev, &h, &n) >= 0 && n > 0)
                        return sriov_error_set(err, r, "%s: IOMMU group %d of %s is in use: process %d (%s) holds %s%s",
                                               what, group, bdf, (int) h[0].pid, h[0].comm, h[0].node,
                                               n > 1 ? " (and others)" : "");
                return sriov_error_set(err, r, "%s: IOMMU group %d of %s is in use by another VFIO user", what, group,
                                       bdf);
        case -ENOENT:
                return sriov_error_set(err, r, "%s does not exist: the kernel made no VFIO node for IOMMU group %d of %s",
                                       what, group, bdf);
        case -EACCES:
        case -EPERM:
                return sriov_error_set(err, r, "%s: permission denied", what);
        default:
                return sriov_error_set(err, r, "%s: %s", what, strerror(-r));
        }
}

static int open_container(sriov_ctx *ctx, const pci_addr *dev, vfio_session *s, sriov_error *err) {
        _cleanup_free_ char *cpath = devnode(ctx, "vfio/vfio"), *gpath = NULL;
        struct vfio_group_status st = { .argsz = sizeof(st) };
        char bdf[PCI_ADDR_STRLEN], gname[16];

        pci_addr_format(dev, bdf);
        (void) snprintf(gname, sizeof(gname), "vfio/%d", s->group);
        gpath = devnode(ctx, gname);
        if (!cpath || !gpath)
                return -ENOMEM;
        s->iommu_fd = open(cpath, O_RDWR | O_CLOEXEC);
        if (s->iommu_fd < 0 && errno == ENOENT)
                return sriov_error_set(err, -EPROTONOSUPPORT, "%s does not exist: the kernel has no VFIO container "
                                       "(modprobe vfio-pci; or use iommufd)", cpath);
        if (s->iommu_fd < 0)
                return sriov_error_set(err, negative_errno(), "Cannot open %s: %m", cpath);
        if (ioctl(s->iommu_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
                return sriov_error_set(err, -EPROTO, "Unknown VFIO API version");
        if (ioctl(s->iommu_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
                return sriov_error_set(err, -EPROTONOSUPPORT, "The VFIO container does not offer the type1v2 IOMMU");
        s->group_fd = open(gpath, O_RDWR | O_CLOEXEC);
        if (s->group_fd < 0) {
                _cleanup_free_ char *what = strdup_printf("Cannot open %s", gpath);

                return what ? node_error(ctx, dev, s->group, what, negative_errno(), err) : -ENOMEM;
        }
        if (ioctl(s->group_fd, VFIO_GROUP_GET_STATUS, &st) < 0)
                return sriov_error_set(err, negative_errno(), "VFIO_GROUP_GET_STATUS failed: %m");
        if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
                return sriov_error_set(err, -EXDEV,
                                       "IOMMU group %d is not viable: another device in it is bound to a host driver", s->group);
        if (ioctl(s->group_fd, VFIO_GROUP_SET_CONTAINER, &s->iommu_fd) < 0)
                return sriov_error_set(err, negative_errno(), "VFIO_GROUP_SET_CONTAINER failed: %m");
        if (ioctl(s->iommu_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
                return sriov_error_set(err, negative_errno(), "VFIO_SET_IOMMU(type1v2) failed: %m");
        s->device_fd = ioctl(s->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
        if (s->device_fd < 0) {
                int r = negative_errno();
                s->device_fd = -EBADF;
                return sriov_error_set(err, r, "VFIO_GROUP_GET_DEVICE_FD(%s) failed: %s", bdf, strerror(-r));
        }
        (void) fcntl(s->device_fd, F_SETFD, FD_CLOEXEC);
        s->backend = VFIO_BACKEND_CONTAINER;
        return container_info(s, err);
}

/* The function's VFIO cdev: vfio-dev/vfioN in sysfs, /dev/vfio/devices/vfioN. */
static int find_cdev(sriov_ctx *ctx, const pci_addr *dev, char **ret) {
        _cleanup_free_ char *dir = sysfs_dev_path(ctx, dev, "vfio-dev");
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return -ENOENT;
        while ((de = readdir(d)))
                if (strneq(de->d_name, "vfio", 4)) {
                        _cleanup_free_ char *rel = strdup_printf("vfio/devices/%s", de->d_name);
                        if (!rel)
                                return -ENOMEM;
                        *ret = devnode(ctx, rel);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

static int iommufd_ranges(vfio_session *s, sriov_error *err);

static int open_iommufd(sriov_ctx *ctx, const pci_addr *dev, vfio_session *s, sriov_error *err) {
        _cleanup_free_ char *ipath = devnode(ctx, "iommu"), *cdev = NULL;
        struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
        struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
        struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
        int r;

        if (!ipath)
                return -ENOMEM;
        r = find_cdev(ctx, dev, &cdev);
        if (r < 0)
                return sriov_error_set(err, r, "The function has no VFIO cdev (kernel without CONFIG_VFIO_DEVICE_CDEV?)");
        s->iommu_fd = open(ipath, O_RDWR | O_CLOEXEC);
        if (s->iommu_fd < 0)
                return sriov_error_set(err, negative_errno(), "Cannot open %s: %m", ipath);
        s->device_fd = open(cdev, O_RDWR | O_CLOEXEC);
        if (s->device_fd < 0) {
                _cleanup_free_ char *what = strdup_printf("Cannot open %s", cdev);

                return what ? node_error(ctx, dev, s->group, what, negative_errno(), err) : -ENOMEM;
        }
        bind.iommufd = s->iommu_fd;
        if (ioctl(s->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0)
                return node_error(ctx, dev, s->group, "VFIO_DEVICE_BIND_IOMMUFD failed", negative_errno(), err);
        s->devid = bind.out_devid;
        if (ioctl(s->iommu_fd, IOMMU_IOAS_ALLOC, &alloc) < 0)
                return sriov_error_set(err, negative_errno(), "IOMMU_IOAS_ALLOC failed: %m");
        s->ioas_id = alloc.out_ioas_id;
        attach.pt_id = s->ioas_id;
        if (ioctl(s->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0)
                return sriov_error_set(err, negative_errno(), "VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: %m");
        s->backend = VFIO_BACKEND_IOMMUFD;
        return iommufd_ranges(s, err);
}

/* the valid ranges, after the attach narrowed them */
static int iommufd_ranges(vfio_session *s, sriov_error *err) {
        struct iommu_ioas_iova_ranges q = { .size = sizeof(q) };
        struct iommu_iova_range *ranges = NULL;
        int r;

        q.ioas_id = s->ioas_id;
        if (ioctl(s->iommu_fd, IOMMU_IOAS_IOVA_RANGES, &q) < 0 && errno != EMSGSIZE)
                return sriov_error_set(err, negative_errno(), "IOMMU_IOAS_IOVA_RANGES failed: %m");
        if (q.num_iovas > 4096)
                return sriov_error_set(err, -E2BIG, "The kernel reports %u IOVA ranges", q.num_iovas);
        ranges = calloc(MAX(q.num_iovas, 1u), sizeof(*ranges));
        if (!ranges)
                return -ENOMEM;
        q.allowed_iovas = (uintptr_t) ranges;
        if (ioctl(s->iommu_fd, IOMMU_IOAS_IOVA_RANGES, &q) < 0) {
                r = negative_errno();
                free(ranges);
                return sriov_error_set(err, r, "IOMMU_IOAS_IOVA_RANGES failed: %s", strerror(-r));
        }
        for (uint32_t i = 0; i < q.num_iovas; i++)
                if (add_range(&s->valid, &s->n_valid, ranges[i].start, ranges[i].last, NULL) < 0) {
                        free(ranges);
                        return -ENOMEM;
                }
        free(ranges);
        s->page_sizes = q.out_iova_alignment ? q.out_iova_alignment : 4096;
        s->dma_avail = UINT32_MAX;
        return 0;
}

int vfio_session_adopt(vfio_backend backend, int device_fd, int group_fd, int iommu_fd, uint32_t ioas_id,
                       vfio_session **ret, sriov_error *err) {
        _cleanup_(vfio_session_freep) vfio_session *s = calloc(1, sizeof(vfio_session));
        int r;

        if (!s) {
                safe_close(device_fd);
                safe_close(group_fd);
                safe_close(iommu_fd);
                return -ENOMEM;
        }
        s->backend = backend;
        s->device_fd = device_fd;
        s->group_fd = group_fd;
        s->iommu_fd = iommu_fd;
        s->ioas_id = ioas_id;
        s->group = -1;
        r = backend == VFIO_BACKEND_CONTAINER ? container_info(s, err) : iommufd_ranges(s, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int vfio_session_open(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, vfio_session **ret, sriov_error *err) {
        _cleanup_(vfio_session_freep) vfio_session *s = NULL;
        _cleanup_free_ char *group = NULL, *iommu = devnode(ctx, "iommu");
        char bdf[PCI_ADDR_STRLEN], *cdev = NULL;
        bool iommufd;
        struct stat st;
        int r;

        pci_addr_format(dev, bdf);
        s = calloc(1, sizeof(*s));
        if (!s || !iommu)
                return -ENOMEM;
        s->device_fd = s->group_fd = s->iommu_fd = -EBADF;

        r = sysfs_dev_link_name(ctx, dev, "driver", &group);
        if (r < 0 || !driver_is_vfio(group))
                return sriov_error_set(err, -EBADFD, "%s is not bound to vfio-pci (%s)", bdf, r < 0 ? "unbound" : group);
        group = mfree(group);
        r = sysfs_dev_link_name(ctx, dev, "iommu_group", &group);
        if (r < 0 || safe_atoi(group, 10, &s->group) < 0)
                return sriov_error_set(err, -ENODATA, "%s has no IOMMU group", bdf);
        r = load_reserved(ctx, s);
        if (r < 0)
                return r;

        iommufd = stat(iommu, &st) >= 0 && S_ISCHR(st.st_mode) && find_cdev(ctx, dev, &cdev) >= 0;
        free(cdev);
        if ((flags & VFIO_OPEN_REQUIRE_IOMMUFD) && !iommufd)
                return sriov_error_set(err, -EPROTONOSUPPORT, "iommufd is not available for %s (no /dev/iommu or no VFIO cdev)", bdf);
        if (iommufd && (flags & (VFIO_OPEN_PREFER_IOMMUFD | VFIO_OPEN_REQUIRE_IOMMUFD)) &&
            !(flags & VFIO_OPEN_REQUIRE_CONTAINER))
                r = open_iommufd(ctx, dev, s, err);
        else
                r = open_container(ctx, dev, s, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int vfio_map(vfio_session *s, uint64_t iova, uint64_t size, sriov_error *err) {
        _cleanup_close_ int fd = -EBADF;
        vfio_mapping *n;
        void *p;
        int r;

        r = vfio_check_map(s->valid, s->n_valid, s->reserved, s->n_reserved, s->maps, s->n_maps, s->page_sizes, iova,
                           size, err);
        if (r < 0)
                return r;
        /* room for the record first: a kernel mapping we could not track would leak */
        n = realloc(s->maps, (s->n_maps + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->maps = n;
        if (size > SIZE_MAX)
                return sriov_error_set(err, -EFBIG, "Mapping too large");
        fd = memfd_create("sriovd-dma", MFD_CLOEXEC);
        if (fd < 0)
                return sriov_error_set(err, negative_errno(), "memfd_create failed: %m");
        if (ftruncate(fd, (off_t) size) < 0)
                return sriov_error_set(err, negative_errno(), "Cannot size the DMA buffer: %m");
        p = mmap(NULL, (size_t) size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return sriov_error_set(err, negative_errno(), "Cannot map the DMA buffer: %m");

        if (s->backend == VFIO_BACKEND_CONTAINER) {
                struct vfio_iommu_type1_dma_map m = {
                        .argsz = sizeof(m),
                        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                        .vaddr = (uintptr_t) p,
                        .iova = iova,
                        .size = size,
                };
                r = ioctl(s->iommu_fd, VFIO_IOMMU_MAP_DMA, &m) < 0 ? negative_errno() : 0;
        } else {
                struct iommu_ioas_map m = {
                        .size = sizeof(m),
                        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
                        .ioas_id = s->ioas_id,
                        .user_va = (uintptr_t) p,
                        .length = size,
                        .iova = iova,
                };
                r = ioctl(s->iommu_fd, IOMMU_IOAS_MAP, &m) < 0 ? negative_errno() : 0;
        }
        if (r < 0) {
                (void) munmap(p, (size_t) size);
                return sriov_error_set(err, r, "The kernel refused to map 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64 ": %s%s",
                                       size, iova, strerror(-r),
                                       r == -ENOMEM ? " (locked memory limit? RLIMIT_MEMLOCK / CAP_IPC_LOCK)" : "");
        }
        s->maps[s->n_maps++] = (vfio_mapping) { .iova = iova, .size = size, .vaddr = p, .memfd = TAKE_FD(fd) };
        return 0;
}

static int kernel_unmap(vfio_session *s, uint64_t iova, uint64_t size, uint64_t *ret_unmapped) {
        if (s->backend == VFIO_BACKEND_CONTAINER) {
                struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

                if (ioctl(s->iommu_fd, VFIO_IOMMU_UNMAP_DMA, &u) < 0)
                        return negative_errno();
                *ret_unmapped = u.size;
        } else {
                struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = s->ioas_id, .iova = iova, .length = size };

                if (ioctl(s->iommu_fd, IOMMU_IOAS_UNMAP, &u) < 0)
                        return negative_errno();
                *ret_unmapped = u.length;
        }
        return 0;
}

int vfio_unmap(vfio_session *s, uint64_t iova, uint64_t size, sriov_error *err) {
        uint64_t unmapped = 0;
        size_t i;
        int r;

        for (i = 0; i < s->n_maps; i++)
                if (s->maps[i].iova == iova && s->maps[i].size == size)
                        break;
        if (i == s->n_maps)
                return sriov_error_set(err, -ENOENT, "No mapping of 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64, size, iova);
        r = kernel_unmap(s, iova, size, &unmapped);
        if (r < 0)
                return sriov_error_set(err, r, "The kernel refused to unmap IOVA 0x%" PRIx64 ": %s", iova, strerror(-r));
        (void) munmap(s->maps[i].vaddr, (size_t) s->maps[i].size);
        safe_close(s->maps[i].memfd);
        memmove(s->maps + i, s->maps + i + 1, (s->n_maps - i - 1) * sizeof(*s->maps));
        s->n_maps--;
        if (unmapped != size)
                return sriov_error_set(err, -EIO, "The kernel unmapped 0x%" PRIx64 " bytes, not 0x%" PRIx64, unmapped, size);
        return 0;
}

int vfio_session_self_test(vfio_session *s, vfio_self_test *ret, sriov_error *err) {
        const uint64_t size = 2 * 1024 * 1024;
        uint64_t iova = UINT64_MAX, unmapped = 0;
        vfio_self_test t = { .backend = s->backend, .group = s->group, .page_sizes = s->page_sizes,
                             .dma_avail = s->dma_avail, .size = size };
        int r;

        /* the lowest 2 MiB-aligned IOVA that passes every check */
        for (size_t i = 0; i < s->n_valid && iova == UINT64_MAX; i++)
                for (uint64_t a = (s->valid[i].start + size - 1) & ~(size - 1);
                     a >= s->valid[i].start && a + size - 1 <= s->valid[i].last && a + size > a; a += size)
                        if (vfio_check_map(s->valid, s->n_valid, s->reserved, s->n_reserved, s->maps, s->n_maps,
                                           s->page_sizes, a, size, NULL) >= 0) {
                                iova = a;
                                break;
                        }
        if (iova == UINT64_MAX)
                return sriov_error_set(err, -ENOSPC, "No free 2 MiB of IOVA space for the self-test");
        t.iova = iova;
        r = vfio_map(s, iova, size, err);
        if (r < 0)
                return r;
        /* the kernel knows the mapping: mapping the same IOVA again is refused */
        if (s->backend == VFIO_BACKEND_CONTAINER) {
                struct vfio_iommu_type1_dma_map m = {
                        .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ,
                        .vaddr = (uintptr_t) s->maps[s->n_maps - 1].vaddr, .iova = iova, .size = size,
                };
                t.remap_refused = ioctl(s->iommu_fd, VFIO_IOMMU_MAP_DMA, &m) < 0 && errno == EEXIST;
        } else {
                struct iommu_ioas_map m = {
                        .size = sizeof(m), .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
                        .ioas_id = s->ioas_id, .user_va = (uintptr_t) s->maps[s->n_maps - 1].vaddr,
                        .length = size, .iova = iova,
                };
                t.remap_refused = ioctl(s->iommu_fd, IOMMU_IOAS_MAP, &m) < 0 && errno == EEXIST;
        }
        r = kernel_unmap(s, iova, size, &unmapped);
        if (r < 0)
                return sriov_error_set(err, r, "The kernel refused to unmap the self-test buffer: %s", strerror(-r));
        t.unmapped = unmapped;
        (void) munmap(s->maps[s->n_maps - 1].vaddr, (size_t) size);
        safe_close(s->maps[s->n_maps - 1].memfd);
        s->n_maps--;
        if (!t.remap_refused)
                return sriov_error_set(err, -EIO, "The kernel accepted a second mapping at IOVA 0x%" PRIx64 ": the first was not in place", iova);
        if (unmapped != size)
                return sriov_error_set(err, -EIO, "The kernel unmapped 0x%" PRIx64 " bytes of the 0x%" PRIx64 " mapped", unmapped, size);
        *ret = t;
        return 0;
}

/* ---- the nodes a VMM opens ---- */

int vfio_device_nodes(sriov_ctx *ctx, const pci_addr *vf, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *group = NULL, *vdir = sysfs_dev_path(ctx, vf, "vfio-dev");
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char rel[64];
        int r;

        if (sysfs_dev_link_name(ctx, vf, "iommu_group", &group) >= 0 && strlen(group) < 16) {
                (void) snprintf(rel, sizeof(rel), "vfio/%s", group);
                r = strv_push(&l, dev_path(ctx, rel));
                if (r < 0)
                        return r;
        }
        d = vdir ? opendir(vdir) : NULL;
        while (d && (de = readdir(d)))
                if (strneq(de->d_name, "vfio", 4) && strlen(de->d_name) < 32) {
                        (void) snprintf(rel, sizeof(rel), "vfio/devices/%s", de->d_name);
                        r = strv_push(&l, dev_path(ctx, rel));
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(l);
        return 0;
}
