/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "sriovd-api.h"

/* Fill e from a negative errno and a message (NULL: strerror). Returns r. */
int bus_error_from_errno(sd_bus_error *e, int r, const char *message);
/* Answer method call m (nothing when NULL) with the named error of r and
 * message (the errno's text when NULL). */
void bus_reply_errno(sd_bus_message *m, int r, const char *message);
