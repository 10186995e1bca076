/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host.h"

/* Pool selectors, as written in the configuration and over D-Bus:
 *   ens1f0#0-3        VFs 0-3 of the PF with that interface (no "#...": all its VFs)
 *   0000:3b:00.0#4-7  VFs 4-7 of the PF at that address
 *   8086:154c         every VF with that vendor:device id
 *   numa:1            only VFs on NUMA node 1
 * A pool holds the VFs any of its PF/id selectors name, restricted to the
 * NUMA nodes of its numa: selectors (numa: selectors alone: every VF there). */

typedef enum SelectorKind {
        SEL_PF_INTERFACE,
        SEL_PF_BDF,
        SEL_VF_ID,
        SEL_NUMA,
} SelectorKind;

typedef struct Selector {
        SelectorKind kind;
        char interface[16];
        pci_addr pf;
        unsigned first, last;           /* VF index range, inclusive */
        uint16_t vendor, device;
        int numa;
} Selector;

int selector_parse(const char *s, Selector *ret);
bool selector_matches(const Selector *sel, const sriov_device *vf);
/* selectors are pre-validated strings; invalid ones match nothing */
bool pool_contains(char * const *selectors, const sriov_device *vf);
