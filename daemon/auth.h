/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"

/* Authorization of mutating calls: root always; anyone else through polkit
 * (org.freedesktop.PolicyKit1.Authority.CheckAuthorization on the system bus
 * name of the caller, interactive when the caller allows it); nobody else
 * when polkit is not there. */

/* r: 1 authorized; -EACCES denied; -EBADR polkit would need interaction the
 * caller did not allow. message: explanation for a denial. */
typedef void (*auth_done_t)(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata);

/* Starts the check; calls done exactly once (possibly before returning).
 * Returns a negative errno if it could not even start (done not called). */
int auth_check(Daemon *d, sd_bus_message *m, const char *action, auth_done_t done, void *userdata);

/* The caller's uid (effective when known), for logging and checks. */
int auth_caller_uid(sd_bus_message *m, uid_t *ret);
