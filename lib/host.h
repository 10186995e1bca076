/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <json-c/json.h>

#include "bdf.h"
#include "sysfs.h"

/* The host model: every PCI function under the sysfs root, with the SR-IOV
 * relations between PFs and VFs. Built by sriov_host_scan(); a device can be
 * re-read on its own with sriov_host_refresh() (the daemon does this per uevent). */

typedef struct sriov_pf_info {
        unsigned total_vfs;
        unsigned num_vfs;
        unsigned offset;
        unsigned stride;
        uint16_t vf_device;
        int autoprobe;                  /* -1 when the attribute is missing */

        /* The SR-IOV extended capability as read from config space through
         * libpci, when config space is readable. */
        bool cap_read;                  /* config space beyond 0x100 was readable */
        bool cap_present;
        unsigned cap_total_vfs;
        unsigned cap_num_vfs;
        unsigned cap_offset;
        unsigned cap_stride;
        uint16_t cap_vf_device;
        bool cap_vf_enable;
        char *cap_mismatch;             /* NULL when sysfs and config space agree */
} sriov_pf_info;

typedef struct sriov_device sriov_device;

struct sriov_device {
        pci_addr addr;
        char bdf[PCI_ADDR_STRLEN];

        uint16_t vendor, device;
        uint16_t subsystem_vendor, subsystem_device;
        uint32_t class;                 /* 24 bit: base, sub, prog-if */
        char *vendor_name;              /* from pci.ids; NULL when unknown */
        char *device_name;
        char *class_name;

        char *driver;                   /* NULL when unbound */
        char *driver_override;          /* NULL when unset */
        int numa_node;                  /* -1 when unknown */
        int iommu_group;                /* -1 without an IOMMU */
        char **netdevs;                 /* sorted, may be NULL */
        char *parent;                   /* BDF of the upstream bridge, NULL at the root bus */

        bool is_bridge;
        bool is_pf;
        sriov_pf_info sriov;            /* when is_pf */

        bool is_vf;
        pci_addr physfn;                /* when is_vf */
        int vf_index;                   /* -1 until linked to its PF */
        sriov_device *pf;               /* resolved link, may be NULL if the PF vanished */

        sriov_device **vfs;             /* when is_pf: indexed by VF number, n_vfs = num_vfs */
        size_t n_vfs;

        uint64_t seqnum;                /* the read reflects every uevent up to this (the kernel's
                                         * uevent_seqnum before it); 0: unknown. Not compared. */
};

typedef struct sriov_host {
        sriov_ctx *ctx;                 /* not owned */
        sriov_device **devices;         /* sorted by address */
        size_t n_devices;
} sriov_host;

int sriov_host_scan(sriov_ctx *ctx, sriov_host **ret);
sriov_host *sriov_host_free(sriov_host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(sriov_host *, sriov_host_free);

sriov_device *sriov_host_find(const sriov_host *h, const pci_addr *a);
sriov_device *sriov_host_find_netdev(const sriov_host *h, const char *ifname);

/* A fresh read of one device and, when it is a PF, of the VFs its virtfnN
 * links list. Loading touches only sysfs and the context (safe from a worker
 * thread); merging changes the model (owner's thread only). */
typedef struct sriov_family {
        pci_addr addr;
        uint64_t seqnum;                /* kernel/uevent_seqnum before the read */
        sriov_device *dev;              /* NULL: the device is gone */
        sriov_device **vfs;
        size_t n_vfs;
} sriov_family;

/* vfs are the VFs found, packed: each has its vf_index (its virtfnN) */
int sriov_family_load(sriov_ctx *ctx, const pci_addr *a, sriov_family **ret);
/* The VF of that index, NULL when it is not there. */
const sriov_device *sriov_family_vf(const sriov_family *f, unsigned index);
sriov_family *sriov_family_free(sriov_family *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(sriov_family *, sriov_family_free);

typedef enum sriov_change {
        SRIOV_DEVICE_ADDED,
        SRIOV_DEVICE_REMOVED,
        SRIOV_DEVICE_CHANGED,
} sriov_change;

/* Called for each device the merge adds, removes (before it is freed) or
 * changes; for a change, old is the previous snapshot (else NULL). */
typedef void (*sriov_change_cb)(sriov_host *h, sriov_change change, const sriov_device *d, const sriov_device *old,
                                void *userdata);

/* Merge a family into the model: the device is replaced (or removed), and for
 * a PF its VFs become exactly those loaded. Consumes f. */
int sriov_host_merge(sriov_host *h, sriov_family *f, sriov_change_cb cb, void *userdata);

/* load + merge, on the calling thread */
int sriov_host_refresh(sriov_host *h, const pci_addr *a, bool *ret_changed);

/* Read a single device from sysfs. */
int sriov_device_load(sriov_ctx *ctx, const pci_addr *a, sriov_device **ret);
sriov_device *sriov_device_free(sriov_device *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(sriov_device *, sriov_device_free);
/* Do two snapshots of a device differ in anything reported? */
bool sriov_device_equal(const sriov_device *a, const sriov_device *b);

/* Resolve a user-supplied device reference: a BDF (long or short form) or a
 * network interface name of a PCI function. */
int sriov_host_resolve(const sriov_host *h, const char *ref, sriov_device **ret, sriov_error *err);

/* JSON: one device / the whole host, in the documented format (docs/json.md). */
int sriov_device_to_json(const sriov_device *d, json_object **ret);
int sriov_host_to_json(const sriov_host *h, json_object **ret);

/* Name lookups from pci.ids through libpci; thread-safe. The answers are
 * remembered per ids, so a long-running process can drop libpci's parsed
 * pci.ids (~2 MB) once the host is read: sriov_ctx_drop_pci_ids(); a
 * lookup of new ids later loads it again. */
int pci_names_lookup(sriov_ctx *ctx, uint16_t vendor, uint16_t device, uint32_t class,
                     char **ret_vendor, char **ret_device, char **ret_class);
void sriov_ctx_drop_pci_ids(sriov_ctx *ctx);
/* Whether a lookup of these ids is answered from what was remembered. A
 * PF's load remembers the names of its VFs too (their device id is the
 * PF's sriov_vf_device), so that enabling VFs later loads no pci.ids. */
bool pci_names_remembered(sriov_ctx *ctx, uint16_t vendor, uint16_t device, uint32_t class);
/* Read the SR-IOV capability of a PF from config space through libpci. */
int pci_read_sriov_cap(sriov_ctx *ctx, const pci_addr *a, sriov_pf_info *info);
