/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bus-util.h"
#include "jsonw.h"

/* The per-device objects (bus-device.c). */
int bus_device_path(const sriov_device *dev, char **ret);
/* The merged properties (a{sv}) of a device, for ListDevices and GetDevice. */
int bus_device_append_properties(sd_bus_message *m, Daemon *d, const sriov_device *dev);
/* One device as a JSON object (the keys of `sriovctl list --json`). */
int bus_device_describe(JsonW *w, Daemon *d, const sriov_device *dev);
/* Signals for a change of the model (DaemonEvents.device_changed). */
void bus_device_emit_change(Daemon *d, sriov_change change, const sriov_device *dev);

/* The options of Bind and BindDevices: keep_override (default: for drivers
 * that manage DMA), force, whole_group, allow_unsafe_noiommu. */
typedef struct BindOptions {
        int keep, force, whole_group, noiommu;
} BindOptions;
int bus_read_bind_options(sd_bus_message *m, BindOptions *ret, sd_bus_error *error);
/* The bind job for them (keep_override not given: for drivers that manage DMA). */
Job *bus_bind_job_new(Daemon *d, const pci_addr *a, const char *driver, const BindOptions *o);

/* The binding methods, with the device resolved (the manager's take a device argument). */
int bus_device_bind(Daemon *d, sd_bus_message *m, const sriov_device *dev, const char *driver, sd_bus_error *error);
int bus_device_unbind(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error);
int bus_device_restore(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error);
int bus_device_set_numvfs(Daemon *d, sd_bus_message *m, const sriov_device *dev, unsigned count,
                          sd_bus_error *error);
