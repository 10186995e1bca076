/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A host model made by hand, as sriov_host_scan() leaves one: the devices
 * sorted by address (sriov_host_find() bisects), each VF linked to its PF
 * (physfn, vf_index, pf), everything owned by the host, so that
 * sriov_host_free() frees it all. No sysfs behind it: for the functions
 * that decide from the model alone. Out of memory aborts the test. */

#include <stdlib.h>
#include <string.h>

#include "host.h"

static inline void *fake_check_alloc(void *p) {
        if (!p)
                abort();
        return p;
}

static inline sriov_host *fake_host_new(void) {
        return fake_check_alloc(calloc(1, sizeof(sriov_host)));
}

/* A function at bdf, put in its place in the host's order. */
static inline sriov_device *fake_device(sriov_host *h, const char *bdf) {
        sriov_device *d = fake_check_alloc(calloc(1, sizeof(*d)));
        size_t i;

        if (pci_addr_parse(bdf, &d->addr) < 0)
                abort();
        pci_addr_format(&d->addr, d->bdf);
        d->numa_node = -1;
        d->iommu_group = -1;
        d->vf_index = -1;
        d->vendor = 0x8086;
        d->class = 0x020000;
        h->devices = fake_check_alloc(realloc(h->devices, (h->n_devices + 1) * sizeof(*h->devices)));
        for (i = h->n_devices; i > 0 && pci_addr_compare(&h->devices[i - 1]->addr, &d->addr) > 0; i--)
                h->devices[i] = h->devices[i - 1];
        h->devices[i] = d;
        h->n_devices++;
        return d;
}

/* A PF with a network interface (ifname may be NULL) on a NUMA node. */
static inline sriov_device *fake_pf(sriov_host *h, const char *bdf, const char *ifname, int numa) {
        sriov_device *d = fake_device(h, bdf);

        d->device = 0x1572;
        d->driver = fake_check_alloc(strdup("i40e"));
        d->numa_node = numa;
        d->is_pf = true;
        d->sriov = (sriov_pf_info) { .total_vfs = 64, .offset = 16, .stride = 1, .vf_device = 0x154c,
                                     .autoprobe = 1 };
        if (ifname && strv_extend(&d->netdevs, ifname) < 0)
                abort();
        return d;
}

/* VF index of the PF at pf (which need not be on the host), bound to driver
 * (NULL: unbound). */
static inline sriov_device *fake_vf(sriov_host *h, const char *bdf, const char *pf, int index, const char *driver,
                                    int numa) {
        sriov_device *d = fake_device(h, bdf);

        d->device = 0x154c;
        d->numa_node = numa;
        d->is_vf = true;
        if (pci_addr_parse(pf, &d->physfn) < 0)
                abort();
        d->vf_index = index;
        d->pf = sriov_host_find(h, &d->physfn);
        if (d->pf)
                d->pf->sriov.num_vfs++;
        if (driver)
                d->driver = fake_check_alloc(strdup(driver));
        return d;
}

static inline sriov_device *fake_bridge(sriov_host *h, const char *bdf) {
        sriov_device *d = fake_device(h, bdf);

        d->device = 0x2030;
        d->class = 0x060400;
        d->driver = fake_check_alloc(strdup("pcieport"));
        d->is_bridge = true;
        return d;
}
