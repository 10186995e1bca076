/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The VFIO side of the manager (docs/dbus-api.md):
 *   OpenDevice(s device, a{sv} options) -> (a{sh} fds, a{sv} info)
 *       DMA remapping set up (VFIO container with type1v2, or iommufd IOAS)
 *       and the fds passed to the caller: "device", and "group" + "container"
 *       or "iommufd". Polkit action org.sriovd.open-device.
 *   DmaCheck(s device, a{sv} options) -> a{sv} report
 *       map a buffer, see that the kernel has it, unmap; the IOMMU's facts.
 *   SetDeviceOwner(s device, u uid, u gid) -> as nodes
 *   ResetDeviceOwner(s device) -> as nodes
 *       hand /dev/vfio/GROUP (and the device's cdev) to a VMM's user, and back. */
int vfio_method_open_device(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vfio_method_dma_check(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vfio_method_set_owner(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vfio_method_reset_owner(sd_bus_message *m, void *userdata, sd_bus_error *error);
