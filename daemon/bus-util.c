/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "basics.h"
#include "bus-util.h"

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
