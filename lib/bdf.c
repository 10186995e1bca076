/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "basics.h"
#include "bdf.h"

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parse exactly n hex digits (n_min..n_max) ending at a delimiter. */
static int parse_hex(const char **p, unsigned n_min, unsigned n_max, char delim, uint32_t *ret) {
        const char *s = *p;
        uint32_t v = 0;
        unsigned n = 0;

        while (*s && *s != delim) {
                int h = hexval(*s);
                if (h < 0 || n >= n_max)
                        return -EINVAL;
                v = (v << 4) | (uint32_t) h;
                n++;
                s++;
        }
        if (n < n_min || *s != delim)
                return -EINVAL;
        *ret = v;
        *p = delim ? s + 1 : s;
        return 0;
}

int pci_addr_parse(const char *s, pci_addr *ret) {
        uint32_t dom = 0, bus, dev, fn;
        const char *p = s;
        unsigned colons = 0;

        if (!s)
                return -EINVAL;
        for (const char *c = s; *c; c++)
                if (*c == ':')
                        colons++;
        if (colons == 2) {
                if (parse_hex(&p, 4, 8, ':', &dom) < 0)
                        return -EINVAL;
        } else if (colons != 1)
                return -EINVAL;

        if (parse_hex(&p, 2, 2, ':', &bus) < 0 ||
            parse_hex(&p, 2, 2, '.', &dev) < 0 ||
            parse_hex(&p, 1, 1, 0, &fn) < 0)
                return -EINVAL;
        if (dev > 0x1f || fn > 7)
                return -EINVAL;

        *ret = (pci_addr) { .domain = dom, .bus = (uint8_t) bus, .dev = (uint8_t) dev, .func = (uint8_t) fn };
        return 0;
}

char *pci_addr_format(const pci_addr *a, char buf[static PCI_ADDR_STRLEN]) {
        (void) snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->func);
        return buf;
}

int pci_addr_compare(const pci_addr *a, const pci_addr *b) {
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->dev != b->dev)
                return a->dev < b->dev ? -1 : 1;
        if (a->func != b->func)
                return a->func < b->func ? -1 : 1;
        return 0;
}

uint32_t pci_addr_rid(const pci_addr *a) {
        return ((uint32_t) a->bus << 8) | ((uint32_t) a->dev << 3) | a->func;
}

void pci_addr_from_rid(uint32_t domain, uint32_t rid, pci_addr *ret) {
        *ret = (pci_addr) {
                .domain = domain,
                .bus = (uint8_t) ((rid >> 8) & 0xff),
                .dev = (uint8_t) ((rid >> 3) & 0x1f),
                .func = (uint8_t) (rid & 0x7),
        };
}

bool sysfs_name_is_valid(const char *s, size_t max_len) {
        size_t n;

        if (isempty(s))
                return false;
        n = strnlen(s, max_len + 1);
        if (n > max_len)
                return false;
        if (streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *c = s; *c; c++)
                if (*c == '/' || (unsigned char) *c <= 0x20 || (unsigned char) *c >= 0x7f)
                        return false;
        return true;
}

bool driver_name_is_valid(const char *s) {
        if (!sysfs_name_is_valid(s, 63))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && *c != '_' && *c != '-' && *c != '.')
                        return false;
        return true;
}

bool ifname_is_valid(const char *s) {
        if (!sysfs_name_is_valid(s, 15))
                return false;
        for (const char *c = s; *c; c++)
                if (*c == ':' || *c == '%')
                        return false;
        return true;
}
