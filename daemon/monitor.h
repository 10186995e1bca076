/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* uevents (libudev monitor on the pci and net subsystems) feed a coalescing,
 * level-triggered re-read: an event marks a device dirty, and one timer per
 * burst re-reads each dirty device (or PF family) once. Nothing runs while
 * no events arrive. */
int monitor_setup(Daemon *d);
void monitor_done(Daemon *d);
/* BDF of the PCI function a uevent's DEVPATH belongs to (the last path
 * component that is a PCI address). */
int devpath_to_pci_addr(const char *devpath, pci_addr *ret);
