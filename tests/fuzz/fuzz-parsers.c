/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small strict parsers; the first byte picks one. Each must accept only
 * what it can format back the same way. */
#include "bdf.h"
#include "conffile.h"
#include "fuzz.h"
#include "groups.h"
#include "pool.h"
#include "vfattr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        if (size < 1 || size > 4096)
                return 0;
        s = malloc(size);
        if (!s)
                return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;

        switch (data[0] % 9) {
        case 0: {
                pci_addr a;
                char buf[PCI_ADDR_STRLEN];
                pci_addr b;

                if (pci_addr_parse(s, &a) >= 0) {
                        /* round trip */
                        if (pci_addr_parse(pci_addr_format(&a, buf), &b) < 0 || !pci_addr_equal(&a, &b))
                                abort();
                }
                break;
        }
        case 1: {
                uint8_t mac[6], mac2[6];
                char buf[18];

                if (vf_mac_parse(s, mac) >= 0) {
                        if (vf_mac_parse(vf_mac_format(mac, buf), mac2) < 0 || memcmp(mac, mac2, 6) != 0 || (mac[0] & 1))
                                abort();
                }
                break;
        }
        case 2: {
                unsigned f, l;

                if (parse_vf_range(s, &f, &l) >= 0 && (f > l || l > 65535))
                        abort();
                break;
        }
        case 3: {
                Selector sel;

                (void) selector_parse(s, &sel);
                break;
        }
        case 4:
                if (driver_name_is_valid(s) && (strchr(s, '/') || streq(s, "..") || streq(s, ".")))
                        abort();
                break;
        case 5:
                if (ifname_is_valid(s) && (strchr(s, '/') || strlen(s) > 15))
                        abort();
                break;
        case 6: {
                iommu_region *r = NULL;
                size_t n = 0;

                if (iommu_parse_reserved_regions(s, &r, &n) >= 0) {
                        for (size_t i = 0; i < n; i++) {
                                if (r[i].end < r[i].start)
                                        abort();
                                free(r[i].type);
                        }
                        free(r);
                }
                break;
        }
        case 7: {
                uint16_t v, d;

                (void) parse_pci_id_pair(s, &v, &d);
                break;
        }
        case 8: {
                uint16_t vlan;
                uint8_t q, ls;
                uint32_t rate;

                if (vf_vlan_parse(s, &vlan) >= 0 && vlan > 4094)
                        abort();
                if (vf_qos_parse(s, &q) >= 0 && q > 7)
                        abort();
                (void) vf_vlan_proto_parse(s, &vlan);
                (void) vf_link_state_parse(s, &ls);
                (void) vf_rate_parse(s, &rate);
                break;
        }
        }
        free(s);
        return 0;
}
