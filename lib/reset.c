/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "reset.h"
#include "util.h"

bool sriov_reset_supported(sriov_ctx *ctx, const pci_addr *dev, char **ret_method) {
        _cleanup_free_ char *methods = NULL;

        if (ret_method)
                *ret_method = NULL;
        if (!sysfs_dev_exists(ctx, dev, "reset"))
                return false;
        /* "flr bus" -> "flr": the one the kernel tries first */
        if (ret_method && sysfs_dev_read(ctx, dev, "reset_method", &methods) >= 0) {
                strstrip(methods);
                methods[strcspn(methods, " ")] = 0;
                if (!isempty(methods))
                        *ret_method = strdup(methods);
        }
        return true;
}

int sriov_reset(sriov_ctx *ctx, const pci_addr *dev, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        int r;

        pci_addr_format(dev, bdf);
        if (!sysfs_dev_exists(ctx, dev, "reset"))
                return sriov_error_set(err, -EOPNOTSUPP, "%s has no reset method", bdf);
        r = sysfs_dev_write(ctx, dev, "reset", "1");
        if (r < 0)
                return sriov_error_set(err, r, "Resetting %s failed: %s", bdf, strerror(-r));
        return 0;
}
