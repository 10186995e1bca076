/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names of the D-Bus API (docs/dbus-api.md, sriovd-dbus(5)); shared by the
 * daemon and sriovctl. */

#define SRIOVD_BUS_NAME         "org.sriovd.Manager1"
#define SRIOVD_MANAGER_PATH     "/org/sriovd/Manager1"
#define SRIOVD_DEVICE_PREFIX    "/org/sriovd/Manager1/device"
#define SRIOVD_MANAGER_IFACE    "org.sriovd.Manager1"
#define SRIOVD_DEVICE_IFACE     "org.sriovd.Device1"
#define SRIOVD_PF_IFACE         "org.sriovd.PF1"
#define SRIOVD_VF_IFACE         "org.sriovd.VF1"

#define SRIOVD_ACTION_MANAGE    "org.sriovd.manage"
#define SRIOVD_ACTION_OPEN_DEVICE "org.sriovd.open-device"
