/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "basics.h"

/* One PCI function as sriovd describes it (org.sriovd.Device1 + PF1/VF1,
 * merged, as ListDevices and GetDevice return them). Strings point into the
 * reply message that was read, which must outlive the Device; "" when the
 * daemon did not say. */
typedef struct Device {
        const char *address, *path, *kind;
        uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
        uint32_t class;
        const char *vendor_name, *device_name, *class_name;
        const char *driver, *driver_override, *prior_driver, *parent, *pending;
        int32_t numa_node, iommu_group;         /* -1: unknown */
        char **netdevs;
        /* PF */
        uint32_t total_vfs, num_vfs, vf_offset, vf_stride;
        uint16_t vf_device_id;
        int drivers_autoprobe, config_space_consistent;
        const char *config_space_mismatch;
        const char *interface, *operstate, *link_type, *rdma_device;  /* the PF's link */
        int carrier;
        int32_t speed;                          /* Mbit/s, -1: unknown */
        /* VF */
        const char *physfn;
        int32_t vf_index;                       /* -1: unknown */
        const char *guest, *quarantine;         /* who holds it; why no guest may */
        int healthy;                            /* -1: not said (an older daemon) */
        const char *health_reason;
} Device;

typedef struct DeviceList {
        sd_bus_message *reply;                  /* owns the strings */
        Device *devices;
        size_t n;
} DeviceList;

static inline bool device_is_pf(const Device *d) {
        return streq(d->kind, "pf");
}
static inline bool device_is_vf(const Device *d) {
        return streq(d->kind, "vf");
}

/* path NULL: from a GetDevice reply, positioned at (o a{sv}) */
int device_read(sd_bus_message *m, Device *ret);
void device_done(Device *d);

/* ListDevices' reply, a(soa{sv}); takes a reference to reply */
int device_list_read(sd_bus_message *reply, DeviceList *ret);
void device_list_done(DeviceList *l);

/* "Intel Corporation Ethernet Controller X710", like lspci; NULL on OOM */
char *device_name(const Device *d);

/* Emits every property of d under stable keys (sriovctl(8) lists them),
 * plus text-only cells: "name", "ids", "class_text", "vfs" ("n/total"),
 * "routing", "config_space", "use" (a VF's guest or quarantine), "link" (a PF's),
 * "health" (a PF's link or a VF's health, short). address_fmt: the text format of the address
 * (list indents VFs). */
void device_print(const Device *d, const char *address_fmt);
