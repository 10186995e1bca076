/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "netuse.h"
#include "ops.h"
#include "passthrough.h"
#include "util.h"

int host_use_check(sriov_ctx *ctx, const pci_addr *dev, bool force, sriov_error *err) {
        _cleanup_strv_free_ char **reasons = NULL;
        char bdf[PCI_ADDR_STRLEN], buf[400] = "";
        size_t n = 0;
        int r;

        if (force)
                return 0;
        r = sriov_device_host_use(ctx, dev, 0, &reasons, err);
        if (r < 0)
                return r;
        if (!reasons)
                return 0;
        STRV_FOREACH(s, reasons)
                n += (size_t) snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
                                       s == reasons ? "" : "; ", *s);
        return sriov_error_set(err, -EADDRINUSE, "The host uses %s: %s. Force it only if you mean to cut that off",
                               pci_addr_format(dev, bdf), buf);
}

static bool is_bridge(sriov_ctx *ctx, const pci_addr *a) {
        unsigned class = 0;

        return sysfs_dev_read_uint(ctx, a, "class", 0, &class) >= 0 && (class >> 8) == 0x0604;
}

/* A member of the IOMMU group of bdf (not the device, not a bridge): 0 when
 * it is not in the way (no driver, or one that leaves DMA to VFIO), 1 when
 * it is a peer to pass through along (PASSTHROUGH_WHOLE_GROUP), or why the
 * group is not viable. */
static int check_group_member(sriov_ctx *ctx, const pci_addr *a, const char *name, const char *bdf, int gid,
                              unsigned flags, sriov_error *err) {
        _cleanup_free_ char *drv = NULL;
        unsigned numvfs = 0;
        int r;

        r = sysfs_dev_link_name(ctx, a, "driver", &drv);
        if (r == -ENOENT || (r >= 0 && driver_is_dma_managed(drv)))
                return 0;
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", name, strerror(-r));
        /* A PF cannot leave its driver without taking its VFs along: with
         * them in its group (no ACS), the group cannot be handed over while
         * VFs exist. */
        if (sysfs_dev_read_uint(ctx, a, "sriov_numvfs", 10, &numvfs) >= 0 && numvfs > 0)
                return sriov_error_set(err, -EXDEV,
                                       "IOMMU group %d of %s is not viable: it holds %s, an SR-IOV PF with %u VFs on %s; "
                                       "taking the PF from its driver would remove its VFs (PF and VFs are not isolated by ACS), "
                                       "so this group cannot be passed through while VFs exist",
                                       gid, bdf, name, numvfs, drv);
        if (!(flags & PASSTHROUGH_WHOLE_GROUP))
                return sriov_error_set(err, -EXDEV,
                                       "IOMMU group %d of %s is not viable: %s shares it and is bound to %s, a host driver; "
                                       "unbind it, bind it to vfio-pci too, or pass the whole group",
                                       gid, bdf, name, drv);
        r = host_use_check(ctx, a, flags & PASSTHROUGH_FORCE, err);
        if (r < 0)
                return r;
        return 1;
}

int passthrough_check(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, pci_addr **ret_peers, size_t *ret_n_peers,
                      int *ret_group, sriov_error *err) {
        _cleanup_free_ char *group = NULL, *gdir = NULL;
        _cleanup_free_ pci_addr *peers = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        char bdf[PCI_ADDR_STRLEN];
        struct dirent *de;
        size_t n = 0;
        int gid = -1, r;

        pci_addr_format(dev, bdf);
        r = sysfs_dev_link_name(ctx, dev, "iommu_group", &group);
        if (r == -ENOENT) {
                if (!(flags & PASSTHROUGH_ALLOW_NOIOMMU))
                        return sriov_error_set(err, -ENODATA,
                                               "%s has no IOMMU group: the host has no IOMMU enabled (boot with intel_iommu=on or amd_iommu=on); "
                                               "without one a device can reach all memory, so passthrough is refused unless the unsafe no-IOMMU mode is asked for",
                                               bdf);
                r = flags & PASSTHROUGH_DEVICE_CHECKED ? 0 : host_use_check(ctx, dev, flags & PASSTHROUGH_FORCE, err);
                if (r < 0)
                        return r;
                *ret_peers = NULL;
                *ret_n_peers = 0;
                *ret_group = -1;
                return 0;
        }
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the IOMMU group of %s: %s", bdf, strerror(-r));
        if (safe_atoi(group, 10, &gid) < 0 || gid < 0)
                return sriov_error_set(err, -EBADMSG, "Unexpected IOMMU group \"%s\" of %s", group, bdf);

        r = flags & PASSTHROUGH_DEVICE_CHECKED ? 0 : host_use_check(ctx, dev, flags & PASSTHROUGH_FORCE, err);
        if (r < 0)
                return r;

        gdir = sysfs_group_path(ctx, gid, "devices");
        if (!gdir)
                return -ENOMEM;
        d = opendir(gdir);
        if (!d)
                return sriov_error_set(err, negative_errno(), "Cannot list IOMMU group %d: %m", gid);
        while ((de = readdir(d))) {
                pci_addr a, *np;

                if (de->d_name[0] == '.')
                        continue;
                if (pci_addr_parse(de->d_name, &a) < 0)
                        return sriov_error_set(err, -EXDEV,
                                               "IOMMU group %d of %s is not viable: it holds %s, which is not a PCI function",
                                               gid, bdf, de->d_name);
                if (pci_addr_equal(&a, dev) || is_bridge(ctx, &a))
                        continue;
                r = check_group_member(ctx, &a, de->d_name, bdf, gid, flags, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                np = realloc(peers, (n + 1) * sizeof(*np));
                if (!np)
                        return -ENOMEM;
                peers = np;
                peers[n++] = a;
        }
        *ret_peers = TAKE_PTR(peers);
        *ret_n_peers = n;
        *ret_group = gid;
        return 0;
}
