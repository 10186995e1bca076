/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "bus.h"
#include "device-view.h"
#include "output.h"
#include "util.h"

#define FIELD(name, sig, member) BUS_FIELD(Device, name, sig, member)

static const BusField device_fields[] = {
        FIELD("Address", "s", address),
        FIELD("Kind", "s", kind),
        FIELD("VendorId", "q", vendor_id),
        FIELD("DeviceId", "q", device_id),
        FIELD("SubsystemVendorId", "q", subsystem_vendor_id),
        FIELD("SubsystemDeviceId", "q", subsystem_device_id),
        FIELD("Class", "u", class),
        FIELD("VendorName", "s", vendor_name),
        FIELD("DeviceName", "s", device_name),
        FIELD("ClassName", "s", class_name),
        FIELD("Driver", "s", driver),
        FIELD("DriverOverride", "s", driver_override),
        FIELD("PriorDriver", "s", prior_driver),
        FIELD("NUMANode", "i", numa_node),
        FIELD("IOMMUGroup", "i", iommu_group),
        FIELD("NetDevs", "as", netdevs),
        FIELD("Parent", "s", parent),
        FIELD("Pending", "s", pending),
        FIELD("TotalVFs", "u", total_vfs),
        FIELD("NumVFs", "u", num_vfs),
        FIELD("VFOffset", "u", vf_offset),
        FIELD("VFStride", "u", vf_stride),
        FIELD("VFDeviceId", "q", vf_device_id),
        FIELD("DriversAutoprobe", "b", drivers_autoprobe),
        FIELD("ConfigSpaceConsistent", "b", config_space_consistent),
        FIELD("ConfigSpaceMismatch", "s", config_space_mismatch),
        FIELD("PhysFnAddress", "s", physfn),
        FIELD("VFIndex", "i", vf_index),
        FIELD("Guest", "s", guest),
        FIELD("Quarantine", "s", quarantine),
        FIELD("Interface", "s", interface),
        FIELD("Carrier", "b", carrier),
        FIELD("OperState", "s", operstate),
        FIELD("Speed", "i", speed),
        FIELD("LinkType", "s", link_type),
        FIELD("RDMADevice", "s", rdma_device),
        FIELD("Healthy", "b", healthy),
        FIELD("HealthReason", "s", health_reason),
};

int device_read(sd_bus_message *m, Device *ret) {
        Device d = {
                .address = "", .path = "", .kind = "", .vendor_name = "", .device_name = "", .class_name = "",
                .driver = "", .driver_override = "", .prior_driver = "", .parent = "", .pending = "",
                .config_space_mismatch = "", .physfn = "", .guest = "", .quarantine = "",
                .numa_node = -1, .iommu_group = -1, .vf_index = -1,
                .interface = "", .operstate = "", .link_type = "", .rdma_device = "", .speed = -1,
                .healthy = -1, .health_reason = "",
        };
        int r;

        r = sd_bus_message_read_basic(m, 'o', &d.path);
        if (r < 0)
                return r;
        r = bus_read_fields(m, device_fields, ELEMENTSOF(device_fields), &d);
        if (r < 0) {
                device_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void device_done(Device *d) {
        d->netdevs = strv_free(d->netdevs);
}

int device_list_read(sd_bus_message *reply, DeviceList *ret) {
        _cleanup_(device_list_done) DeviceList l = { .reply = sd_bus_message_ref(reply) };
        size_t n_alloc = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(soa{sv})");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'r', "soa{sv}")) > 0) {
                const char *address;

                if (l.n >= n_alloc) {
                        size_t n = MAX(64u, n_alloc * 2);
                        Device *p = realloc(l.devices, n * sizeof(Device));

                        if (!p)
                                return -ENOMEM;
                        l.devices = p;
                        n_alloc = n;
                }
                r = sd_bus_message_read_basic(reply, 's', &address);
                if (r < 0)
                        return r;
                r = device_read(reply, &l.devices[l.n]);
                if (r < 0)
                        return r;
                l.n++;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = l;
        l = (DeviceList) {};
        return 0;
}

void device_list_done(DeviceList *l) {
        for (size_t i = 0; i < l->n; i++)
                device_done(&l->devices[i]);
        free(l->devices);
        sd_bus_message_unref(l->reply);
        *l = (DeviceList) {};
}

char *device_name(const Device *d) {
        if (isempty(d->vendor_name))
                return strdup_printf("%04x:%04x", d->vendor_id, d->device_id);
        if (isempty(d->device_name))
                return strdup_printf("%s Device %04x", d->vendor_name, d->device_id);
        return strdup_printf("%s %s", d->vendor_name, d->device_name);
}

/* "up, 10000 Mbit/s", "no carrier", "down" */
static char *link_text(const Device *d) {
        if (isempty(d->interface))
                return NULL;
        if (d->carrier > 0 && d->speed > 0)
                return strdup_printf("up, %d Mbit/s", d->speed);
        return strdup(d->carrier > 0 ? "up" : "down");
}

static void print_pf_link(const Device *d) {
        print_string(PRINT_ANY, "interface", NULL, d->interface);
        print_bool(PRINT_JSON, "carrier", NULL, d->carrier > 0);
        print_string(PRINT_JSON, "operstate", NULL, d->operstate);
        print_int_or_null(PRINT_JSON, "speed", NULL, d->speed);
        print_string(PRINT_ANY, "link_type", NULL, d->link_type);
        print_string(PRINT_ANY, "rdma_device", NULL, d->rdma_device);
        print_text_take("link", link_text(d));
        if (!isempty(d->interface))
                print_text_take("health", d->carrier > 0 ? strdup("link up") : strdup("LINK DOWN"));
}

static void print_vf_health(const Device *d) {
        if (d->healthy < 0)
                return;
        print_bool(PRINT_JSON, "healthy", NULL, d->healthy);
        print_string(PRINT_JSON, "health_reason", NULL, d->health_reason);
        print_string(PRINT_TEXT, "health", NULL, d->healthy ? "ok" : d->health_reason);
        print_string(PRINT_TEXT, "health_reason", NULL, d->healthy ? "healthy" : d->health_reason);
}

void device_print(const Device *d, const char *address_fmt) {
        _cleanup_free_ char *name = device_name(d);

        print_string(PRINT_ANY, "address", address_fmt, d->address);
        print_string(PRINT_JSON, "path", NULL, d->path);
        print_string(PRINT_ANY, "kind", NULL, d->kind);
        print_string(PRINT_TEXT, "name", NULL, name);
        print_string(PRINT_JSON, "vendor", NULL, d->vendor_name);
        print_string(PRINT_JSON, "device", NULL, d->device_name);
        print_hex(PRINT_JSON, "vendor_id", NULL, d->vendor_id, 4);
        print_hex(PRINT_JSON, "device_id", NULL, d->device_id, 4);
        print_hex(PRINT_JSON, "subsystem_vendor_id", NULL, d->subsystem_vendor_id, 4);
        print_hex(PRINT_JSON, "subsystem_device_id", NULL, d->subsystem_device_id, 4);
        print_text_take("ids", strdup_printf("%04x:%04x (subsystem %04x:%04x)", d->vendor_id, d->device_id,
                                        d->subsystem_vendor_id, d->subsystem_device_id));
        print_hex(PRINT_JSON, "class", NULL, d->class, 6);
        print_string(PRINT_JSON, "class_name", NULL, d->class_name);
        print_text_take("class_text",
                   strdup_printf("%s%s[%06x]", d->class_name, isempty(d->class_name) ? "" : " ", d->class));
        print_string(PRINT_ANY, "driver", NULL, d->driver);
        print_string(PRINT_ANY, "driver_override", NULL, d->driver_override);
        print_string(PRINT_ANY, "prior_driver", NULL, d->prior_driver);
        print_strv(PRINT_ANY, "netdevs", NULL, d->netdevs, ",");
        print_int_or_null(PRINT_ANY, "numa_node", NULL, d->numa_node);
        print_int_or_null(PRINT_ANY, "iommu_group", NULL, d->iommu_group);
        print_string(PRINT_ANY, "parent", NULL, d->parent);
        print_string(PRINT_ANY, "pending", NULL, d->pending);
        if (device_is_pf(d)) {
                print_uint(PRINT_JSON, "num_vfs", NULL, d->num_vfs);
                print_uint(PRINT_JSON, "total_vfs", NULL, d->total_vfs);
                print_text_take("vfs", strdup_printf("%u/%u", d->num_vfs, d->total_vfs));
                print_uint(PRINT_JSON, "vf_offset", NULL, d->vf_offset);
                print_uint(PRINT_JSON, "vf_stride", NULL, d->vf_stride);
                print_text_take("routing", strdup_printf("offset %u, stride %u", d->vf_offset, d->vf_stride));
                print_hex(PRINT_ANY, "vf_device_id", NULL, d->vf_device_id, 4);
                print_bool(PRINT_ANY, "drivers_autoprobe", NULL, d->drivers_autoprobe);
                print_bool(PRINT_JSON, "config_space_consistent", NULL, d->config_space_consistent);
                print_string(PRINT_JSON, "config_space_mismatch", NULL, d->config_space_mismatch);
                print_string(PRINT_TEXT, "config_space",
                             d->config_space_consistent ? "consistent with sysfs" : "INCONSISTENT: %s",
                             isempty(d->config_space_mismatch) ? "unreadable" : d->config_space_mismatch);
                print_pf_link(d);
        }
        if (device_is_vf(d)) {
                print_string(PRINT_ANY, "physfn", NULL, d->physfn);
                print_int_or_null(PRINT_ANY, "vf_index", NULL, d->vf_index);
                print_string(PRINT_ANY, "guest", NULL, d->guest);
                print_string(PRINT_ANY, "quarantine", NULL, d->quarantine);
                if (!isempty(d->guest))
                        print_string(PRINT_TEXT, "use", "guest %s", d->guest);
                else if (!isempty(d->quarantine))
                        print_string(PRINT_TEXT, "use", NULL, "quarantined");
                print_vf_health(d);
        }
}
