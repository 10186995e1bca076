/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Synthesized PCI configuration space, enough for `lspci -vvv` to decode a
 * plausible device: a type 0 (endpoint) or type 1 (bridge) header, a
 * capability list (Power Management, MSI-X for endpoints, PCI Express) and
 * PCIe extended capabilities from 0x100 (ARI for SR-IOV functions, ACS
 * where the function has it, SR-IOV for PFs). Register layouts are from
 * include/uapi/linux/pci_regs.h and the SR-IOV 1.1 specification.
 * A VF reads 0xffff in its Vendor and Device ID registers (SR-IOV 1.1,
 * 3.4.1.1/3.4.1.2); sysfs shows the real ids. */

#include "sim.h"

#define CFG_SPACE_SIZE 256
#define CFG_SPACE_EXP_SIZE 4096

static void put8(uint8_t *c, size_t off, uint8_t v) {
        c[off] = v;
}

static void put16(uint8_t *c, size_t off, uint16_t v) {
        c[off] = (uint8_t) v;
        c[off + 1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *c, size_t off, uint32_t v) {
        put16(c, off, (uint16_t) v);
        put16(c, off + 2, (uint16_t) (v >> 16));
}

size_t sim_config_size(const sim_device *d) {
        return d->type == SIM_PCI_CONVENTIONAL ? CFG_SPACE_SIZE : CFG_SPACE_EXP_SIZE;
}

const char *sim_link_speed_string(unsigned speed) {
        switch (speed) {
        case 1: return "2.5 GT/s PCIe";
        case 2: return "5.0 GT/s PCIe";
        case 3: return "8.0 GT/s PCIe";
        case 4: return "16.0 GT/s PCIe";
        case 5: return "32.0 GT/s PCIe";
        case 6: return "64.0 GT/s PCIe";
        default: return "Unknown";
        }
}

static bool is_port(const sim_device *d) {
        return d->type == SIM_PCIE_ROOT_PORT || d->type == SIM_PCIE_DOWNSTREAM;
}

static size_t ext_cap(uint8_t *c, size_t *next_ptr, size_t off, uint16_t id, uint8_t ver) {
        if (*next_ptr)
                put16(c, *next_ptr + 2, (uint16_t) (((c[*next_ptr + 2] | (c[*next_ptr + 3] << 8)) & 0xf) |
                                                    (off << 4)));
        put16(c, off, id);
        put16(c, off + 2, ver);
        *next_ptr = off;
        return off;
}

void sim_config_build(const sim_device *d, uint8_t *c, size_t size) {
        bool bridge = sim_device_is_bridge(d), pcie = d->type != SIM_PCI_CONVENTIONAL;
        size_t cap;

        memset(c, 0, size);

        /* common header */
        put16(c, 0x00, d->physfn ? 0xffff : d->vendor);
        put16(c, 0x02, d->physfn ? 0xffff : d->device);
        put16(c, 0x04, d->command);                     /* Memory Space, Bus Master */
        put16(c, 0x06, 0x0010);                          /* Capabilities List */
        put8(c, 0x08, d->revision);
        put8(c, 0x09, (uint8_t) d->class);
        put8(c, 0x0a, (uint8_t) (d->class >> 8));
        put8(c, 0x0b, (uint8_t) (d->class >> 16));
        put8(c, 0x0c, 0x10);                             /* cache line size */
        put8(c, 0x0e, (uint8_t) ((bridge ? 0x01 : 0x00) | (d->multifunction ? 0x80 : 0x00)));
        put8(c, 0x34, 0x40);                             /* Capabilities Pointer */
        if (bridge) {
                put8(c, 0x18, d->addr.bus);
                put8(c, 0x19, d->secondary);
                put8(c, 0x1a, d->subordinate);
                put8(c, 0x1c, 0xf0);                     /* I/O window closed */
                put16(c, 0x20, 0xfff0);                  /* memory window closed */
                put16(c, 0x24, 0xfff1);                  /* prefetchable window closed, 64-bit */
                put16(c, 0x26, 0x0001);
                put8(c, 0x3d, 0x01);
                put16(c, 0x3e, 0x0010);                  /* Bridge Control: SERR# */
        } else {
                if (!d->physfn && d->bar0_size) {
                        put32(c, 0x10, (uint32_t) d->bar0 | 0xc);   /* 64-bit prefetchable */
                        put32(c, 0x14, (uint32_t) (d->bar0 >> 32));
                }
                put16(c, 0x2c, d->subvendor);
                put16(c, 0x2e, d->subdevice);
                if (!d->physfn) {
                        put8(c, 0x3c, (uint8_t) d->irq);
                        put8(c, 0x3d, 0x01);             /* INTA# */
                }
        }

        /* 0x40: Power Management, version 3 */
        put8(c, 0x40, 0x01);
        put8(c, 0x41, bridge || !pcie ? (pcie ? 0x70 : 0x00) : 0x50);
        put16(c, 0x42, 0x0003);
        put16(c, 0x44, 0x0008);                          /* D0, No_Soft_Reset */

        if (!bridge && pcie) {
                /* 0x50: MSI-X, table and PBA in BAR0 */
                put8(c, 0x50, 0x11);
                put8(c, 0x51, 0x70);
                put16(c, 0x52, d->physfn ? 0x0004 : 0x003f);
                put32(c, 0x54, 0x00000000);
                put32(c, 0x58, 0x00001000);
        }
        if (!pcie)
                return;

        /* 0x70: PCI Express, version 2 */
        cap = 0x70;
        put8(c, cap, 0x10);
        put8(c, cap + 1, 0x00);
        put16(c, cap + 2, (uint16_t) (0x0002 | (sim_device_pcie_cap_type(d) << 4) | (is_port(d) && d->slot ? 0x0100 : 0)));
        put32(c, cap + 0x04, 0x00008001 | (bridge ? 0 : 0x10000000u));      /* MPS 256, RBER, FLR */
        put16(c, cap + 0x08, 0x2020);                                        /* MPS 256, MRRS 512 */
        put32(c, cap + 0x0c, (uint32_t) (d->link_speed | (d->link_width << 4) |
                                         (is_port(d) ? 0x00100000u : 0) |     /* DLL Link Active Reporting */
                                         (is_port(d) ? (uint32_t) d->addr.dev << 24 : 0)));
        put16(c, cap + 0x12, (uint16_t) (d->link_speed | (d->link_width << 4) | (is_port(d) ? 0x2000 : 0)));
        if (is_port(d) && d->slot) {
                unsigned n = 0;

                for (const char *p = d->slot; *p >= '0' && *p <= '9'; p++)
                        n = n * 10 + (unsigned) (*p - '0');
                put32(c, cap + 0x14, (n & 0x1fff) << 19);
                put16(c, cap + 0x1a, 0x0040);                                /* Presence Detect */
        }
        put32(c, cap + 0x24, 0x0000000f | (is_port(d) ? 0x20 : 0));         /* timeouts, ARI Forwarding */
        put16(c, cap + 0x28, is_port(d) ? 0x0020 : 0);                       /* ARI Forwarding Enable */
        put32(c, cap + 0x2c, (1u << (d->link_speed + 1)) - 2);                     /* supported speeds vector */
        put16(c, cap + 0x30, (uint16_t) d->link_speed);

        /* extended capabilities */
        {
                size_t next = 0, off = 0x100;

                if (d->sriov || d->physfn) {
                        /* Alternative Routing-ID Interpretation */
                        ext_cap(c, &next, off, 0x000e, 1);
                        off += 8;
                }
                if (d->acs) {
                        ext_cap(c, &next, off, 0x000d, 1);
                        put16(c, off + 4, 0x001f);       /* SV TB RR CR UF */
                        put16(c, off + 6, 0x001d);       /* SV RR CR UF enabled (REQ_ACS_FLAGS) */
                        off += 8;
                }
                if (d->sriov) {
                        const sim_sriov *iov = d->sriov;
                        uint64_t vfbar = 0x3a0000000000ULL + ((uint64_t) pci_addr_rid(&d->addr) << 28);

                        off = (off + 0x3f) & ~(size_t) 0x3f;
                        ext_cap(c, &next, off, 0x0010, 1);
                        put32(c, off + 0x04, 0x00000000);        /* SR-IOV Capabilities */
                        put16(c, off + 0x08, iov->ctrl);
                        put16(c, off + 0x0c, iov->total);        /* InitialVFs */
                        put16(c, off + 0x0e, iov->total);        /* TotalVFs */
                        put16(c, off + 0x10, iov->numvfs_reg);   /* NumVFs */
                        put8(c, off + 0x12, (uint8_t) pci_addr_rid(&d->addr)); /* Function Dependency Link */
                        put16(c, off + 0x14, iov->offset);
                        put16(c, off + 0x16, iov->stride);
                        put16(c, off + 0x1a, iov->vf_device);
                        put32(c, off + 0x1c, 0x00000553);        /* Supported Page Sizes */
                        put32(c, off + 0x20, 0x00000001);        /* System Page Size: 4 KiB */
                        put32(c, off + 0x24, (uint32_t) vfbar | 0xc);
                        put32(c, off + 0x28, (uint32_t) (vfbar >> 32));
                }
        }
}
