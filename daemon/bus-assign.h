/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "assign.h"
#include "bus-util.h"

/* The options of Assign, or (pool) the settings of CreatePool: the same VF
 * settings, with "mac_base" instead of "mac" and no per-request keys. */
int bus_read_vf_options(sd_bus_message *m, bool pool, AssignRequest *q, bool *ret_mac_is_base, ResetPolicy *ret_reset,
                        sd_bus_error *error);

/* AssignmentChanged (DaemonEvents.assignment_changed). */
void bus_assign_emit_change(Daemon *d, const StateAssignment *a, bool gone);
