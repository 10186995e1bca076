/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The one place errno values and D-Bus error names meet. Registered with
 * sd_bus_error_add_map() in the daemon and in sriovctl, so that both sides
 * convert in the same way. */

#define SRIOVD_ERROR_INVALID_ARGUMENT   "org.sriovd.Error.InvalidArgument"
#define SRIOVD_ERROR_NO_SUCH_DEVICE     "org.sriovd.Error.NoSuchDevice"
#define SRIOVD_ERROR_NOT_SRIOV          "org.sriovd.Error.NotSRIOV"
#define SRIOVD_ERROR_OUT_OF_RANGE       "org.sriovd.Error.OutOfRange"
#define SRIOVD_ERROR_DEVICE_BUSY        "org.sriovd.Error.DeviceBusy"
#define SRIOVD_ERROR_NO_DRIVER          "org.sriovd.Error.NoDriver"
#define SRIOVD_ERROR_BIND_FAILED        "org.sriovd.Error.BindFailed"
#define SRIOVD_ERROR_VFS_ASSIGNED       "org.sriovd.Error.VFsAssigned"
#define SRIOVD_ERROR_TIMEOUT            "org.sriovd.Error.Timeout"
#define SRIOVD_ERROR_OPERATION_PENDING  "org.sriovd.Error.OperationPending"
#define SRIOVD_ERROR_ACCESS_DENIED      "org.sriovd.Error.AccessDenied"
#define SRIOVD_ERROR_INVALID_CONFIG     "org.sriovd.Error.InvalidConfig"
#define SRIOVD_ERROR_GROUP_NOT_VIABLE   "org.sriovd.Error.GroupNotViable"
#define SRIOVD_ERROR_DEVICE_IN_USE      "org.sriovd.Error.DeviceInUse"
#define SRIOVD_ERROR_NO_IOMMU           "org.sriovd.Error.NoIOMMU"
#define SRIOVD_ERROR_NOT_VFIO           "org.sriovd.Error.NotBoundToVFIO"
#define SRIOVD_ERROR_NOT_FOUND          "org.sriovd.Error.NotFound"
#define SRIOVD_ERROR_READ_ONLY          "org.sriovd.Error.ReadOnly"
#define SRIOVD_ERROR_POOL_EXHAUSTED     "org.sriovd.Error.PoolExhausted"
#define SRIOVD_ERROR_NOT_SUPPORTED      "org.sriovd.Error.NotSupported"
#define SRIOVD_ERROR_FAILED             "org.sriovd.Error.Failed"

extern const sd_bus_error_map sriovd_error_map[];

/* Register the map (idempotent). */
int sriovd_errors_register(void);

/* Fill e from a negative errno and a message (NULL: strerror). Returns r. */
int bus_error_from_errno(sd_bus_error *e, int r, const char *message);
/* Answer method call m (nothing when NULL) with the named error of r and
 * message (the errno's text when NULL). */
void bus_reply_errno(sd_bus_message *m, int r, const char *message);
