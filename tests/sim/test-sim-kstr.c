/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulator's copies of the kernel parsers accept and refuse exactly
 * what the kernel's do (lib/kstrtox.c, vsscanf, sysfs_streq), and the uevent
 * filter hash matches systemd's. */

#include "sim.h"
#include "tests.h"

static int u16(const char *s) {
        uint16_t v;
        int r = kstrtou16(s, 0, &v);

        return r < 0 ? r : v;
}

static int b(const char *s) {
        bool v;
        int r = kstrtobool(s, &v);

        return r < 0 ? r : v;
}

int main(void) {
        unsigned long long v[7];

        /* kstrtou16(buf, 0, ...) as sriov_numvfs_store() calls it */
        CHECK_INT(u16("4"), 4);
        CHECK_INT(u16("4\n"), 4);
        CHECK_INT(u16("+4"), 4);
        CHECK_INT(u16("0x10"), 16);
        CHECK_INT(u16("010"), 8);
        CHECK_INT(u16("0"), 0);
        CHECK_INT(u16("65535"), 65535);
        CHECK_INT(u16("65536"), -ERANGE);
        CHECK_INT(u16("99999999999999999999999"), -ERANGE);
        CHECK_INT(u16("-1"), -EINVAL);
        CHECK_INT(u16(" 4"), -EINVAL);
        CHECK_INT(u16("4 "), -EINVAL);
        CHECK_INT(u16("4\n\n"), -EINVAL);
        CHECK_INT(u16(""), -EINVAL);
        CHECK_INT(u16("\n"), -EINVAL);
        CHECK_INT(u16("abc"), -EINVAL);
        CHECK_INT(u16("08"), -EINVAL);
        CHECK_INT(u16("0x"), -EINVAL);
        CHECK_INT(u16("++4"), -EINVAL);

        /* kstrtobool() */
        CHECK_INT(b("1"), 1);
        CHECK_INT(b("y"), 1);
        CHECK_INT(b("Yes"), 1);
        CHECK_INT(b("true"), 1);
        CHECK_INT(b("on"), 1);
        CHECK_INT(b("0"), 0);
        CHECK_INT(b("n"), 0);
        CHECK_INT(b("false"), 0);
        CHECK_INT(b("off"), 0);
        CHECK_INT(b("o"), -EINVAL);
        CHECK_INT(b(""), -EINVAL);
        CHECK_INT(b("2"), -EINVAL);
        CHECK_INT(b(" 1"), -EINVAL);

        /* vsscanf("%x %x ...") as new_id_store() does it */
        CHECK_INT(ksscanf_hex("8086 154c", v, 7), 2);
        CHECK_INT(v[0], 0x8086);
        CHECK_INT(v[1], 0x154c);
        CHECK_INT(ksscanf_hex("0x8086 0x154c\n", v, 7), 2);
        CHECK_INT(v[1], 0x154c);
        CHECK_INT(ksscanf_hex("8086:154c", v, 7), 1);
        CHECK_INT(ksscanf_hex("8086", v, 7), 1);
        CHECK_INT(ksscanf_hex("", v, 7), 0);
        CHECK_INT(ksscanf_hex("8086 154c ffffffff ffffffff 020000 ffff00 0", v, 7), 7);
        CHECK_INT(v[4], 0x020000);
        CHECK_INT(ksscanf_hex("8086 154c junk", v, 7), 2);

        /* sysfs_streq() */
        CHECK(sysfs_streq("0000:01:00.0", "0000:01:00.0\n"));
        CHECK(sysfs_streq("0000:01:00.0\n", "0000:01:00.0"));
        CHECK(!sysfs_streq("0000:01:00.0", "0000:01:00.0 "));
        CHECK(!sysfs_streq("0000:01:00.0", "0000:01:00.0\n\n"));
        CHECK(!sysfs_streq("0000:01:00.0", "01:00.0"));

        /* systemd's string_hash32("pci"), the BPF filter value of
         * `udevadm monitor --subsystem-match=pci`; computed with systemd's
         * MurmurHash2 (seed 0) */
        CHECK_INT(sim_murmur2("", 0, 0), 0);
        CHECK_INT(sim_murmur2("pci", 3, 0), 0x59163b92U);

        return test_failures ? 1 : 0;
}
