/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bdf.h"
#include "tests.h"

static void good(const char *in, const char *canonical) {
        pci_addr a;
        char buf[PCI_ADDR_STRLEN];

        CHECK_INT(pci_addr_parse(in, &a), 0);
        CHECK_STR(pci_addr_format(&a, buf), canonical);
}

static void bad(const char *in) {
        pci_addr a = { .domain = 0x1234, .bus = 0x56 };

        if (pci_addr_parse(in, &a) != -EINVAL) {
                fprintf(stderr, "accepted bad BDF \"%s\"\n", in);
                test_failures++;
        }
        /* ret_ parameters are untouched on failure */
        CHECK_INT(a.domain, 0x1234);
        CHECK_INT(a.bus, 0x56);
}

int main(void) {
        pci_addr a, b;

        good("0000:01:00.0", "0000:01:00.0");
        good("0000:3B:02.7", "0000:3b:02.7");
        good("3b:1f.7", "0000:3b:1f.7");
        good("ffff:ff:1f.7", "ffff:ff:1f.7");
        good("10000:00:00.0", "10000:00:00.0");        /* VMD domain */
        good("abcdef01:00:00.1", "abcdef01:00:00.1");

        bad("");
        bad("0000:01:00");
        bad("0000:01:00.8");                           /* function > 7 */
        bad("0000:01:20.0");                           /* device > 0x1f */
        bad("000:01:00.0");                            /* short domain */
        bad("123456789:01:00.0");                      /* long domain */
        bad("0000:1:00.0");
        bad("0000:001:00.0");
        bad("0000:01:0.0");
        bad("0000:01:00.00");
        bad(" 0000:01:00.0");
        bad("0000:01:00.0 ");
        bad("0000:01:00.0\n");
        bad("+000:01:00.0");
        bad("0000:01:00.0/..");
        bad("../0000:01:00.0");
        bad("0000:01:00.0/../../../etc");
        bad("0000:0g:00.0");
        bad("0000::01:00.0");
        bad("0000:01:00:0");
        bad("01.00.0");
        bad("0x00:01:00.0");

        CHECK_INT(pci_addr_parse("0000:3b:00.0", &a), 0);
        CHECK_INT(pci_addr_parse("0000:3b:02.0", &b), 0);
        CHECK(pci_addr_compare(&a, &b) < 0);
        CHECK(pci_addr_compare(&b, &a) > 0);
        CHECK(pci_addr_equal(&a, &a));
        /* VF 0 of a PF at 3b:00.0 with offset 16, stride 1 */
        {
                pci_addr vf;
                char buf[PCI_ADDR_STRLEN];

                pci_addr_from_rid(a.domain, pci_addr_rid(&a) + 16, &vf);
                CHECK_STR(pci_addr_format(&vf, buf), "0000:3b:02.0");
                /* the routing id carries into the next bus */
                pci_addr_from_rid(0, pci_addr_rid(&a) + 0x100 + 3, &vf);
                CHECK_STR(pci_addr_format(&vf, buf), "0000:3c:00.3");
        }

        CHECK(driver_name_is_valid("vfio-pci"));
        CHECK(driver_name_is_valid("mlx5_core"));
        CHECK(!driver_name_is_valid(""));
        CHECK(!driver_name_is_valid("."));
        CHECK(!driver_name_is_valid(".."));
        CHECK(!driver_name_is_valid("../vfio-pci"));
        CHECK(!driver_name_is_valid("vfio/pci"));
        CHECK(!driver_name_is_valid("vfio pci"));
        CHECK(!driver_name_is_valid("vfio\npci"));
        CHECK(!driver_name_is_valid("a123456789012345678901234567890123456789012345678901234567890123"));

        CHECK(ifname_is_valid("ens1f0"));
        CHECK(ifname_is_valid("ens1f0v127"));
        CHECK(!ifname_is_valid("a23456789012345x"));   /* 16 bytes */
        CHECK(!ifname_is_valid(".."));
        CHECK(!ifname_is_valid("eth0/../x"));
        CHECK(!ifname_is_valid("eth0:1"));
        CHECK(!ifname_is_valid("eth 0"));

        CHECK(sysfs_name_is_valid("sriov_numvfs", 255));
        CHECK(!sysfs_name_is_valid("..", 255));
        CHECK(!sysfs_name_is_valid("a/b", 255));
        CHECK(!sysfs_name_is_valid("a\x7f", 255));
        TEST_MAIN_END();
}
