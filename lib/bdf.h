/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* A PCI function address. Parsed strictly: "DDDD:BB:DD.F" (domain of 4 to 8
 * hex digits, as VMD domains go beyond 0xffff) or the short "BB:DD.F" form
 * meaning domain 0. Device 0x00-0x1f, function 0-7, hex digits in either case.
 * Nothing else is accepted: no whitespace, no signs, no trailing characters. */
typedef struct pci_addr {
        uint32_t domain;
        uint8_t bus;
        uint8_t dev;
        uint8_t func;
} pci_addr;

/* "0000:01:00.0" with room for an 8-digit domain and the NUL */
#define PCI_ADDR_STRLEN 18

int pci_addr_parse(const char *s, pci_addr *ret);
/* formats canonically (lower case, 4-digit domain minimum); returns buf */
char *pci_addr_format(const pci_addr *a, char buf[static PCI_ADDR_STRLEN]);
int pci_addr_compare(const pci_addr *a, const pci_addr *b);
static inline bool pci_addr_equal(const pci_addr *a, const pci_addr *b) {
        return pci_addr_compare(a, b) == 0;
}
/* routing id arithmetic used by SR-IOV: VF n = PF + offset + n * stride */
uint32_t pci_addr_rid(const pci_addr *a);
void pci_addr_from_rid(uint32_t domain, uint32_t rid, pci_addr *ret);

/* Names that become one component of a sysfs path (driver names, netdev names,
 * attribute names). Rejects empty, ".", "..", anything with '/', control
 * characters, whitespace or more than max_len bytes. */
bool sysfs_name_is_valid(const char *s, size_t max_len);
/* A kernel driver name: [A-Za-z0-9_.-]{1,63}, not "." or "..". */
bool driver_name_is_valid(const char *s);
/* A network interface name as the kernel accepts it (dev_valid_name):
 * 1-15 bytes, no '/', ':', whitespace, not "." or "..". */
bool ifname_is_valid(const char *s);
