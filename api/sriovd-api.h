/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The bus contract between sriovd and its clients (docs/dbus-api.md,
 * sriovd-dbus(5)): names, polkit actions, errors, and the exit status
 * sriovctl gives each error (sriovctl(8)). The daemon and sriovctl both
 * include this file and link api/libsriovd-api.a; nothing else passes
 * between them. */

#define SRIOVD_BUS_NAME         "org.sriovd.Manager1"
#define SRIOVD_MANAGER_PATH     "/org/sriovd/Manager1"
#define SRIOVD_DEVICE_PREFIX    "/org/sriovd/Manager1/device"
#define SRIOVD_MANAGER_IFACE    "org.sriovd.Manager1"
#define SRIOVD_DEVICE_IFACE     "org.sriovd.Device1"
#define SRIOVD_PF_IFACE         "org.sriovd.PF1"
#define SRIOVD_VF_IFACE         "org.sriovd.VF1"

#define SRIOVD_ACTION_MANAGE    "org.sriovd.manage"
#define SRIOVD_ACTION_OPEN_DEVICE "org.sriovd.open-device"
#define SRIOVD_ACTION_ASSIGN    "org.sriovd.assign"     /* Assign, Release, Reconcile (implied by manage) */

/* Exit status of sriovctl; documented in sriovctl(8), keep them stable. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,          /* anything else */
        EXIT_USAGE = 2,         /* bad command line; no call was made */
        EXIT_NOT_RUNNING = 3,   /* sriovd is not running, or the bus cannot be reached */
        EXIT_DENIED = 4,        /* not authorized */
        EXIT_NO_DEVICE = 5,     /* no such PCI function, interface, pool or assignment */
        EXIT_INVALID = 6,       /* the daemon rejected an argument */
        EXIT_BUSY = 7,          /* device busy, operation pending, timeout */
        EXIT_PARTIAL = 8,       /* done in part: fewer VFs than asked, failed steps, ignored settings */
        EXIT_EXHAUSTED = 9,     /* no free VF: the pool is used up, or has none on the NUMA node */
        EXIT_NOT_SUPPORTED = 10, /* the device, driver or kernel cannot do it */
        EXIT_STATE = 11,        /* sriovd cannot record the change (its state directory is full or read-only): none was made */
        EXIT_DIFFERS = 12,      /* verify: the ledger and the host differ */
};

/* sriovd's errors. Each is named after the errno of the failure (one errno
 * per name, so sd-bus converts both ways alike on both sides), and each has
 * the exit status sriovctl answers it with unless a method says otherwise
 * (cli/bus.c). */
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
#define SRIOVD_ERROR_STATE_UNAVAILABLE  "org.sriovd.Error.StateUnavailable"
#define SRIOVD_ERROR_LIMITS_EXCEEDED    "org.sriovd.Error.LimitsExceeded"
#define SRIOVD_ERROR_FAILED             "org.sriovd.Error.Failed"

typedef struct SriovdError {
        const char *name;
        int errno_value;
        int exit_status;
} SriovdError;

/* Every error above, once; ends with a NULL name. */
extern const SriovdError sriovd_errors[];
/* The same as an sd-bus map (errno <-> name). */
extern const sd_bus_error_map sriovd_error_map[];

/* Register the map with sd-bus (idempotent). */
int sriovd_errors_register(void);
/* The row of a D-Bus error name, NULL if it is not sriovd's. */
const SriovdError *sriovd_error_find(const char *name);
