/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "sriovd-api.h"

#define ERRORS(X)                                                                       \
        X(SRIOVD_ERROR_INVALID_ARGUMENT, EINVAL, EXIT_INVALID)                          \
        X(SRIOVD_ERROR_NO_SUCH_DEVICE, ENODEV, EXIT_NO_DEVICE)                          \
        X(SRIOVD_ERROR_NOT_SRIOV, EOPNOTSUPP, EXIT_INVALID)                             \
        X(SRIOVD_ERROR_OUT_OF_RANGE, ERANGE, EXIT_INVALID)                              \
        X(SRIOVD_ERROR_DEVICE_BUSY, EBUSY, EXIT_BUSY)                                   \
        X(SRIOVD_ERROR_NO_DRIVER, ENOENT, EXIT_FAIL)                                    \
        X(SRIOVD_ERROR_BIND_FAILED, ENXIO, EXIT_FAIL)                                   \
        X(SRIOVD_ERROR_VFS_ASSIGNED, EPERM, EXIT_BUSY)                                  \
        X(SRIOVD_ERROR_TIMEOUT, ETIMEDOUT, EXIT_BUSY)                                   \
        X(SRIOVD_ERROR_OPERATION_PENDING, EINPROGRESS, EXIT_BUSY)                       \
        X(SRIOVD_ERROR_ACCESS_DENIED, EACCES, EXIT_DENIED)                              \
        X(SRIOVD_ERROR_INVALID_CONFIG, EBADMSG, EXIT_INVALID)                           \
        X(SRIOVD_ERROR_GROUP_NOT_VIABLE, EXDEV, EXIT_BUSY)                              \
        X(SRIOVD_ERROR_DEVICE_IN_USE, EADDRINUSE, EXIT_BUSY)                            \
        X(SRIOVD_ERROR_NO_IOMMU, ENODATA, EXIT_FAIL)                                    \
        X(SRIOVD_ERROR_NOT_VFIO, EBADFD, EXIT_INVALID)                                  \
        X(SRIOVD_ERROR_NOT_FOUND, ESRCH, EXIT_NO_DEVICE)    /* no such guest, pool or assignment */ \
        X(SRIOVD_ERROR_READ_ONLY, EROFS, EXIT_INVALID)      /* declared in the configuration files */ \
        X(SRIOVD_ERROR_POOL_EXHAUSTED, ENOSPC, EXIT_EXHAUSTED)                          \
        X(SRIOVD_ERROR_NOT_SUPPORTED, EPROTONOSUPPORT, EXIT_NOT_SUPPORTED) /* the kernel lacks an interface */ \
        X(SRIOVD_ERROR_STATE_UNAVAILABLE, EDQUOT, EXIT_STATE) /* the state could not be written: nothing changed */ \
        X(SRIOVD_ERROR_LIMITS_EXCEEDED, EUSERS, EXIT_BUSY)  /* a caller's share, or a size the bus or sriovd allows */ \
        X(SRIOVD_ERROR_FAILED, EIO, EXIT_FAIL)

#define ROW(name, err, status) { name, err, status },
const SriovdError sriovd_errors[] = {
        ERRORS(ROW)
        { NULL, 0, 0 }
};

#define MAP(name, err, status) SD_BUS_ERROR_MAP(name, err),
const sd_bus_error_map sriovd_error_map[] = {
        ERRORS(MAP)
        SD_BUS_ERROR_MAP_END
};

int sriovd_errors_register(void) {
        static int registered;
        int r;

        if (registered)
                return 0;
        r = sd_bus_error_add_map(sriovd_error_map);
        if (r < 0)
                return r;
        registered = 1;
        return 0;
}

const SriovdError *sriovd_error_find(const char *name) {
        for (const SriovdError *e = sriovd_errors; name && e->name; e++)
                if (strcmp(e->name, name) == 0)
                        return e;
        return NULL;
}
