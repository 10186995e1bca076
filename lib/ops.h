/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bdf.h"
#include "sysfs.h"

/* The kernel operations, each idempotent, bounded in time by the context's
 * timeout, and explained in sriov_error on failure. None logs. */

/* Enable count VFs on a PF (0 disables). autoprobe: -1 leaves
 * sriov_drivers_autoprobe alone, 0/1 sets it before VFs are created.
 * *ret_enabled (optional) gets the count the driver actually enabled, which
 * a driver may make smaller than asked; the call still succeeds then. */
int sriov_set_numvfs(sriov_ctx *ctx, const pci_addr *pf, unsigned count, int autoprobe,
                     unsigned *ret_enabled, sriov_error *err);

enum {
        /* keep driver_override pointing at the new driver after binding, so
         * that a later re-probe (driver reload, PF reset) does not hand the
         * device back to a host driver */
        SRIOV_BIND_KEEP_OVERRIDE = 1 << 0,
};

/* Bind a function to driver. *ret_prior_driver and *ret_prior_override
 * (optional) get what was there before (NULL = unbound / unset), for
 * sriov_restore_driver(). Returns 0 if nothing had to change, 1 if it did. */
int sriov_bind(sriov_ctx *ctx, const pci_addr *dev, const char *driver, unsigned flags,
               char **ret_prior_driver, char **ret_prior_override, sriov_error *err);

/* Unbind a function from whatever driver has it. Returns 0 if it was already
 * unbound, 1 otherwise. */
int sriov_unbind(sriov_ctx *ctx, const pci_addr *dev, char **ret_prior_driver, sriov_error *err);

/* Put back what sriov_bind() found: prior_driver bound (or the function
 * left unbound when NULL) and driver_override set to prior_override (or
 * cleared when NULL). */
int sriov_restore_driver(sriov_ctx *ctx, const pci_addr *dev, const char *prior_driver,
                         const char *prior_override, sriov_error *err);

/* Let the kernel choose: clear driver_override, unbind the current driver,
 * drivers_probe. *ret_driver (optional) gets what bound (NULL: none). */
int sriov_reprobe(sriov_ctx *ctx, const pci_addr *dev, char **ret_driver, sriov_error *err);

/* Is this driver loaded (bus/pci/drivers/NAME exists)? */
bool sriov_driver_loaded(sriov_ctx *ctx, const char *driver);
/* Drivers that let the IOMMU be handed to user space (the kernel's
 * driver_managed_dma): vfio-pci and its variants, pci-stub, pcieport. */
bool driver_is_dma_managed(const char *driver);
/* vfio-pci and its vendor variants: the drivers that make /dev/vfio nodes. */
bool driver_is_vfio(const char *driver);
