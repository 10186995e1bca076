/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* org.sriovd.Manager1 at /org/sriovd/Manager1 (docs/dbus-api.md). */
int manager_bus_register(Daemon *d);
/* Re-read the host facts (IOMMU presence, VFIO nodes) and emit changes. */
void manager_update_host_facts(Daemon *d);
