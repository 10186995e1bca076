/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "basics.h"
#include "bus-errors.h"

/* errno -> name; each errno appears once, so the mapping is a bijection on
 * these names and sd-bus converts back the same way in clients. */
const sd_bus_error_map sriovd_error_map[] = {
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NO_SUCH_DEVICE, ENODEV),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NOT_SRIOV, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_OUT_OF_RANGE, ERANGE),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_DEVICE_BUSY, EBUSY),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NO_DRIVER, ENOENT),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_BIND_FAILED, ENXIO),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_VFS_ASSIGNED, EPERM),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_TIMEOUT, ETIMEDOUT),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_OPERATION_PENDING, EINPROGRESS),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_ACCESS_DENIED, EACCES),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_INVALID_CONFIG, EBADMSG),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_GROUP_NOT_VIABLE, EXDEV),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_DEVICE_IN_USE, EADDRINUSE),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NO_IOMMU, ENODATA),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NOT_VFIO, EBADFD),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NOT_FOUND, ESRCH),                 /* no such guest, pool or assignment */
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_READ_ONLY, EROFS),                 /* declared in the configuration files */
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_POOL_EXHAUSTED, ENOSPC),
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_NOT_SUPPORTED, EPROTONOSUPPORT),   /* the kernel lacks an interface */
        SD_BUS_ERROR_MAP(SRIOVD_ERROR_FAILED, EIO),
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

int bus_error_from_errno(sd_bus_error *e, int r, const char *message) {
        int err = r < 0 ? -r : r;

        for (const sd_bus_error_map *m = sriovd_error_map; m->code != 0 && m->name; m++)
                if (m->code == err)
                        return sd_bus_error_set(e, m->name, message ?: strerror(err));
        /* sriovd's own allocation failures carry no message; the kernel's
         * ENOMEM (a driver that cannot allocate) is a failed operation */
        if (err == ENOMEM && !message)
                return sd_bus_error_set_errno(e, -ENOMEM);
        if (err == EBADR)
                return sd_bus_error_set(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                        message ?: "Interactive authorization required");
        (void) sd_bus_error_setf(e, SRIOVD_ERROR_FAILED, "%s", message ?: strerror(err));
        return -err;
}

void bus_reply_errno(sd_bus_message *m, int r, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (!m)
                return;
        (void) bus_error_from_errno(&e, r, message);
        (void) sd_bus_reply_method_error(m, &e);
}
