/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "log.h"
#include "netuse.h"
#include "ops.h"
#include "passthrough.h"
#include "safety.h"
#include "util.h"

int safety_before_unbind(sriov_ctx *ctx, const pci_addr *dev, bool force, sriov_error *err) {
        _cleanup_free_ char *drv = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (force)
                return 0;
        pci_addr_format(dev, bdf);
        r = sysfs_dev_link_name(ctx, dev, "driver", &drv);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        if (driver_is_vfio(drv)) {
                vfio_use u;

                r = sriov_vfio_held(ctx, dev, &u);
                if (r < 0)
                        return sriov_error_set(err, r, "Cannot look for users of %s: %s", bdf, strerror(-r));
                log_debug("VFIO users of %s: %s%s", bdf,
                          u.group_free ? "the group node opened, nobody holds it" :
                          u.group_busy ? "the kernel says the group node is held" : "no answer from the group node",
                          u.scanned ? "; /proc scanned" : ", no /proc scan");
                if (u.held && u.n > 0)
                        return sriov_error_set(err, -EBUSY,
                                               "%s is in use: process %d (%s) holds %s%s; stop it first (the kernel would wait for it)",
                                               bdf, (int) u.first.pid, u.first.comm, u.first.node, u.n > 1 ? " (and others)" : "");
                if (u.held)
                        return sriov_error_set(err, -EBUSY,
                                               "%s is in use: %s is held by a process sriovd cannot name (the kernel refuses to open it; in another PID namespace, or holding only a device fd); stop it first (the kernel would wait for it)",
                                               bdf, u.group_node);
                return 0;
        }
        return host_use_check(ctx, dev, false, err);
}

int safety_before_numvfs(sriov_ctx *ctx, const pci_addr *pf, unsigned count, bool force, sriov_error *err) {
        unsigned cur = 0;
        int r;

        if (force)
                return 0;
        if (sysfs_dev_read_uint(ctx, pf, "sriov_numvfs", 10, &cur) < 0 || cur == 0 || cur == count)
                return 0;
        for (unsigned n = 0; n < cur; n++) {
                _cleanup_free_ char *name = NULL;
                char link[32];
                pci_addr vf;

                (void) snprintf(link, sizeof(link), "virtfn%u", n);
                if (sysfs_dev_link_name(ctx, pf, link, &name) < 0 || pci_addr_parse(name, &vf) < 0)
                        continue;
                r = safety_before_unbind(ctx, &vf, false, err);
                if (r < 0) {
                        char bdf[PCI_ADDR_STRLEN];

                        /* say that it is the VF count change that is refused */
                        if (err)
                                (void) snprintf(err->message + strlen(err->message),
                                                sizeof(err->message) - strlen(err->message),
                                                " — changing the VF count of %s removes VF %u", pci_addr_format(pf, bdf), n);
                        return r;
                }
        }
        return 0;
}
