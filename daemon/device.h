/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"
#include "jsonw.h"

/* The per-device D-Bus objects: org.sriovd.Device1 on every PCI function,
 * org.sriovd.PF1 on PFs and org.sriovd.VF1 on VFs, found through fallback
 * vtables under /org/sriovd/Manager1/device/ (sd_bus_path_encode'd
 * addresses) and listed by a node enumerator. One property table serves the
 * vtables and ListDevices. */

int device_bus_register(Daemon *d);
int device_object_path(const sriov_device *dev, char **ret);

/* Append the merged properties (a{sv}) of a device to m. */
int device_append_properties(sd_bus_message *m, Daemon *d, const sriov_device *dev);

/* One device as a JSON object (the keys of `sriovctl list --json`). */
int device_describe(JsonW *w, Daemon *d, const sriov_device *dev);

/* Signals for a change of the model. */
void device_emit_change(Daemon *d, sriov_change change, const sriov_device *dev);

/* Method implementations shared with the Manager (device already resolved). */
int device_start_bind(Daemon *d, sd_bus_message *m, const sriov_device *dev, const char *driver, sd_bus_error *error);
int device_start_unbind(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error);
int device_start_restore(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error);
int device_start_set_numvfs(Daemon *d, sd_bus_message *m, const sriov_device *dev, unsigned count, sd_bus_error *error);

/* Reads the a{sv} options of the message at its current position. */
typedef struct BusOption {
        const char *name;
        char type;                      /* 'b', 's', 'u' */
        void *value;                    /* int* for 'b', const char** for 's', unsigned* for 'u' */
        bool *seen;                     /* optional */
} BusOption;
int bus_read_options(sd_bus_message *m, const BusOption *table, sd_bus_error *error);

/* The device an argument names (BDF or interface), or a named error. */
int daemon_resolve_device(Daemon *d, const char *ref, const sriov_device **ret, sd_bus_error *error);
