/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The declared configuration without a daemon: a valid document as the
 * parser reads it, every refusal with its FILE:LINE:COL, rules and pools of
 * a later file replacing an earlier one's, the VF count and per-VF settings
 * a rule asks for, and the small parsers shared with the D-Bus API. */

#include <errno.h>
#include <limits.h>

#include "conffile.h"
#include "tests.h"
#include "util.h"

static Config *config_new(void) {
        Config *c = calloc(1, sizeof(Config));

        if (!c)
                abort();
        c->n_ref = 1;
        return c;
}

/* ---- a valid document ---- */

static const char valid[] =
        "{\n"
        "  \"pfs\": [\n"
        "    {\n"
        "      \"match\": {\"interface\": \"ens1f0\"},\n"
        "      \"num_vfs\": 8,\n"
        "      \"autoprobe\": false,\n"
        "      \"vfs\": [\n"
        "        {\"range\": \"0-3\", \"driver\": \"vfio-pci\", \"mac_base\": \"02:00:00:00:01:fe\", "
        "\"vlan\": 100, \"qos\": 3},\n"
        "        {\"range\": \"4\", \"driver\": \"host\", \"mac\": \"02:00:00:00:02:00\", "
        "\"spoofchk\": false, \"trust\": true},\n"
        "        {\"range\": \"5-7\", \"min_tx_rate\": 100, \"max_tx_rate\": 1000, \"link_state\": \"disable\",\n"
        "         \"vlan\": 5, \"vlan_proto\": \"802.1ad\", \"query_rss\": true}\n"
        "      ]\n"
        "    },\n"
        "    {\"match\": {\"id\": \"8086:1572\", \"index\": 1}, \"num_vfs\": 0},\n"
        "    {\"match\": {\"bdf\": \"5e:00.0\"}, \"vfs\": [{\"range\": \"0\", \"driver\": \"iavf\"}]}\n"
        "  ],\n"
        "  \"pools\": [\n"
        "    {\"name\": \"vms\", \"select\": [\"ens1f0#0-3\", \"numa:0\"], \"driver\": \"vfio-pci\",\n"
        "     \"mac_base\": \"02:00:00:00:10:00\", \"vlan\": 42},\n"
        "    {\"name\": \"dpdk.fast-1\", \"select\": [\"8086:154c\"], \"trust\": true, \"reset\": \"never\"}\n"
        "  ]\n"
        "}\n";

static Config *parse_valid(void) {
        Config *c = config_new();
        ConfigErrors e = {};

        CHECK_INT(config_parse_text("valid.conf", valid, strlen(valid), c, &e), 0);
        CHECK(!e.messages);
        CHECK(!e.warnings);
        config_errors_done(&e);
        return c;
}

static void test_valid_pf_rules(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        char bdf[PCI_ADDR_STRLEN];

        CHECK_INT(c->n_pfs, 3);
        if (c->n_pfs != 3)
                return;
        CHECK_INT(c->pfs[0].match.kind, MATCH_INTERFACE);
        CHECK_STR(c->pfs[0].match.interface, "ens1f0");
        CHECK_INT(c->pfs[0].num_vfs, 8);
        CHECK_INT(c->pfs[0].autoprobe, 0);
        CHECK_STR(c->pfs[0].file, "valid.conf");
        CHECK_INT(c->pfs[0].pos.line, 3);
        CHECK_INT(c->pfs[0].pos.col, 5);
        CHECK_INT(c->pfs[0].num_vfs_pos.line, 5);
        CHECK_INT(c->pfs[0].num_vfs_pos.col, 18);
        CHECK_INT(c->pfs[1].match.kind, MATCH_ID);
        CHECK_INT(c->pfs[1].match.vendor, 0x8086);
        CHECK_INT(c->pfs[1].match.device, 0x1572);
        CHECK_INT(c->pfs[1].match.index, 1);
        CHECK_INT(c->pfs[1].num_vfs, 0);
        CHECK_INT(c->pfs[1].autoprobe, -1);
        CHECK_INT(c->pfs[1].n_ranges, 0);
        CHECK_INT(c->pfs[2].match.kind, MATCH_BDF);
        CHECK_STR(pci_addr_format(&c->pfs[2].match.bdf, bdf), "0000:5e:00.0");
        CHECK_INT(c->pfs[2].num_vfs, -1);
}

static void test_valid_ranges(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        const ConfigVFRange *r;

        if (c->n_pfs < 1 || c->pfs[0].n_ranges != 3) {
                CHECK(!"three VF ranges");
                return;
        }
        r = c->pfs[0].ranges;
        CHECK_INT(r[0].first, 0);
        CHECK_INT(r[0].last, 3);
        CHECK_INT(r[0].driver_want, DRIVER_NAMED);
        CHECK_STR(r[0].driver, "vfio-pci");
        CHECK_INT(r[0].attrs.mask, VF_ATTR_MAC | VF_ATTR_VLAN);
        CHECK(r[0].mac_is_base);
        CHECK_INT(r[0].attrs.vlan, 100);
        CHECK_INT(r[0].attrs.qos, 3);
        CHECK_INT(r[0].attrs.vlan_proto, VF_VLAN_PROTO_8021Q);    /* the default */
        CHECK_INT(r[0].pos.line, 8);
        CHECK_INT(r[0].pos.col, 9);
        CHECK_INT(r[1].first, 4);
        CHECK_INT(r[1].last, 4);
        CHECK_INT(r[1].driver_want, DRIVER_HOST);
        CHECK(!r[1].driver);
        CHECK_INT(r[1].attrs.mask, VF_ATTR_MAC | VF_ATTR_SPOOFCHK | VF_ATTR_TRUST);
        CHECK(!r[1].mac_is_base);
        CHECK(!r[1].attrs.spoofchk);
        CHECK(r[1].attrs.trust);
        CHECK_INT(r[2].driver_want, DRIVER_UNSET);
        CHECK_INT(r[2].attrs.mask, VF_ATTR_RATE | VF_ATTR_LINK_STATE | VF_ATTR_VLAN | VF_ATTR_QUERY_RSS);
        CHECK_INT(r[2].attrs.min_tx_rate, 100);
        CHECK_INT(r[2].attrs.max_tx_rate, 1000);
        CHECK_INT(r[2].attrs.link_state, VF_LINK_STATE_DISABLE);
        CHECK_INT(r[2].attrs.vlan_proto, VF_VLAN_PROTO_8021AD);
        CHECK(r[2].attrs.query_rss);
}

static void test_valid_pools(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        const ConfigPool *p;

        CHECK_INT(c->n_pools, 2);
        if (c->n_pools != 2)
                return;
        p = &c->pools[0];
        CHECK_STR(p->name, "vms");
        CHECK(p->selectors && strv_length(p->selectors) == 2);
        CHECK_STR(p->selectors[0], "ens1f0#0-3");
        CHECK_STR(p->selectors[1], "numa:0");
        CHECK_INT(p->driver_want, DRIVER_NAMED);
        CHECK_STR(p->driver, "vfio-pci");
        CHECK(p->mac_is_base);
        CHECK_INT(p->attrs.mask, VF_ATTR_MAC | VF_ATTR_VLAN);
        CHECK_INT(p->attrs.mac[4], 0x10);
        CHECK_INT(p->attrs.vlan, 42);
        CHECK_INT(p->pos.line, 18);
        CHECK_INT(p->pos.col, 5);
        CHECK_INT(p->reset, RESET_AUTO);        /* the default */
        p = &c->pools[1];
        CHECK_STR(p->name, "dpdk.fast-1");
        CHECK_INT(p->driver_want, DRIVER_UNSET);
        CHECK(!p->mac_is_base);
        CHECK_INT(p->attrs.mask, VF_ATTR_TRUST);
        CHECK_INT(p->reset, RESET_NEVER);
}

/* ---- refusals ---- */

typedef struct Refusal {
        const char *text;
        const char *at;                 /* where the error is: the first occurrence of this in text */
        const char *message;
        /* a second error it causes (an invalid required value is also missing), else NULL */
        const char *also_at, *also;
} Refusal;

/* "test.conf:LINE:COL: message", the position being that of at in text */
static char *located(const char *text, const char *at, const char *message) {
        const char *p = strstr(text, at);
        unsigned line = 1, col = 1;

        if (!p)
                abort();
        for (const char *c = text; c < p; c++)
                if (*c == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        return strdup_printf("test.conf:%u:%u: %s", line, col, message);
}

/* Each text is refused with exactly its message(s), at their places. */
static void check_refusals(const Refusal *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_(config_freep) Config *c = config_new();
                _cleanup_free_ char *want = located(t[i].text, t[i].at, t[i].message);
                _cleanup_free_ char *also = t[i].also ? located(t[i].text, t[i].also_at, t[i].also) : NULL;
                ConfigErrors e = {};

                CHECK_INT(config_parse_text("test.conf", t[i].text, strlen(t[i].text), c, &e), -EINVAL);
                if (!e.messages || strv_length(e.messages) != (also ? 2 : 1) || !streq(e.messages[0], want) ||
                    (also && !streq(e.messages[1], also))) {
                        fprintf(stderr, "%s\n  expected: %s%s%s\n", t[i].text, want, also ? "\n  and: " : "",
                                strempty(also));
                        STRV_FOREACH(m, e.messages)
                                fprintf(stderr, "  got: %s\n", *m);
                        test_failures++;
                }
                config_errors_done(&e);
        }
}

#define PF(rest) "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\"}" rest "}]}"
#define RANGE(rest) PF(", \"vfs\": [{\"range\": \"0\", " rest "}]")

static void test_syntax(void) {
        static const Refusal t[] = {
                { "{\"pfs\": [}", "}", "unexpected character" },
                { "{\"pfs\": [], \"pfs\": []}", "\"pfs\": []}", "duplicate key" },
                { "{\"pfs\": []} x", "x", "unexpected character" },
                { "{\n  \"pools\": [\n    {\"name\": \"a\",}\n  ]\n}", "}\n ", "unexpected character" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_type_errors(void) {
        static const Refusal t[] = {
                { "[]", "[", "\"the document\" must be an object, not an array" },
                { "{\"pfs\": {}}", "{}", "\"pfs\" must be an array, not an object" },
                { "{\"pools\": [1]}", "1", "\"pools[]\" must be an object, not an integer" },
                { PF(", \"num_vfs\": \"8\""), "\"8\"", "\"num_vfs\" must be an integer, not a string" },
                { PF(", \"autoprobe\": 1"), "1}", "\"autoprobe\" must be a boolean, not an integer" },
                { PF(", \"vfs\": {}"), "{}", "\"vfs\" must be an array, not an object" },
                { RANGE("\"vlan\": 1.5"), "1.5", "\"vlan\" must be an integer, not a number" },
                { RANGE("\"trust\": \"yes\""), "\"yes\"", "\"trust\" must be a boolean, not a string" },
                { RANGE("\"mac\": null"), "null", "\"mac\" must be a string, not null" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": \"ens1f0\"}]}", "\"ens1f0\"",
                  "\"select\" must be an array, not a string", "{\"name\"", "a pool needs \"select\"" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": [7]}]}", "7",
                  "\"select[]\" must be a string, not an integer",
                  "{\"name\"", "a pool needs \"select\"" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_unknown_keys(void) {
        static const Refusal t[] = {
                { "{\"pf\": []}", "\"pf\"", "unknown key \"pf\" in the top level" },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\", \"idx\": 1}}]}", "\"idx\"",
                  "unknown key \"idx\" in \"match\"" },
                { PF(", \"numvfs\": 4"), "\"numvfs\"", "unknown key \"numvfs\" in a PF rule" },
                { RANGE("\"speed\": 1"), "\"speed\"", "unknown key \"speed\" in a VF range" },
                /* a pool's MAC is a base, never one address for all */
                { "{\"pools\": [{\"name\": \"a\", \"select\": [\"ens1f0\"], \"mac\": \"02:00:00:00:00:01\"}]}",
                  "\"mac\"",
                  "unknown key \"mac\" in a pool" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_out_of_range(void) {
        static const Refusal t[] = {
                { PF(", \"num_vfs\": 65536"), "65536", "\"num_vfs\" must be between 0 and 65535" },
                { PF(", \"num_vfs\": -1"), "-1", "\"num_vfs\" must be between 0 and 65535" },
                { "{\"pfs\": [{\"match\": {\"id\": \"8086:1572\", \"index\": 256}}]}", "256",
                  "\"index\" must be between 0 and 255" },
                { RANGE("\"vlan\": 4095"), "4095", "\"vlan\" must be between 0 and 4094" },
                { RANGE("\"vlan\": 1, \"qos\": 8"), "8", "\"qos\" must be between 0 and 7" },
                { RANGE("\"max_tx_rate\": 10000001"), "10000001", "\"max_tx_rate\" must be between 0 and 10000000" },
                { RANGE("\"min_tx_rate\": 99999999999999999999"), "99999999999999999999",
                  "\"min_tx_rate\" must be between 0 and 10000000" },
                { PF(", \"vfs\": [{\"range\": \"0-65536\"}]"), "\"0-65536\"",
                  "invalid VF range \"0-65536\": expected N or N-M", "{\"range\"", "a VF range needs \"range\"" },
                { PF(", \"vfs\": [{\"range\": \"3-1\"}]"), "\"3-1\"", "invalid VF range \"3-1\": expected N or N-M",
                  "{\"range\"", "a VF range needs \"range\"" },
                { PF(", \"num_vfs\": 4, \"vfs\": [{\"range\": \"2-4\"}]"), "{\"range\"",
                  "VF range 2-4 goes beyond \"num_vfs\" 4" },
                { RANGE("\"vlan\": 0, \"qos\": 2"), "{\"range\"", "\"qos\" needs a non-zero \"vlan\"" },
                { RANGE("\"min_tx_rate\": 200, \"max_tx_rate\": 100"), "{\"range\"",
                  "\"min_tx_rate\" exceeds \"max_tx_rate\"" },
                { RANGE("\"vlan_proto\": \"802.1x\""), "\"802.1x\"",
                  "\"vlan_proto\" must be \"802.1Q\" or \"802.1ad\"" },
                { RANGE("\"link_state\": \"up\""), "\"up\"",
                  "\"link_state\" must be \"auto\", \"enable\" or \"disable\"" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": [\"ens1f0\"], \"reset\": \"sometimes\"}]}", "\"some",
                  "invalid reset policy \"sometimes\": auto, always or never" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_overlaps_and_duplicates(void) {
        static const Refusal t[] = {
                { PF(", \"vfs\": [{\"range\": \"0-2\"}, {\"range\": \"2-4\"}]"), "{\"range\": \"2-4\"",
                  "VF range 2-4 overlaps 0-2 of the same rule" },
                { PF(", \"vfs\": [{\"range\": \"1-5\"}, {\"range\": \"7\"}, {\"range\": \"0\"}, {\"range\": \"3\"}]"),
                  "{\"range\": \"3\"", "VF range 3-3 overlaps 1-5 of the same rule" },
                /* the same PF by its long and short address */
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\"}},\n {\"match\": {\"bdf\": \"0000:3b:00.0\"}}]}",
                  "{\"match\": {\"bdf\": \"0000", "a PF rule with the same match is at line 1" },
                { "{\"pools\": [{\"name\": \"vms\", \"select\": [\"ens1f0\"]}, "
                  "{\"name\": \"vms\", \"select\": [\"ens2f0\"]}]}",
                  "{\"name\": \"vms\", \"select\": [\"ens2f0\"]", "pool \"vms\" is defined twice" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_invalid_macs(void) {
        static const Refusal t[] = {
                { RANGE("\"mac\": \"02:00:00:00:00\""), "\"02:",
                  "invalid MAC address \"02:00:00:00:00\": expected xx:xx:xx:xx:xx:xx, unicast" },
                { RANGE("\"mac\": \"01:00:00:00:00:01\""), "\"01:",
                  "invalid MAC address \"01:00:00:00:00:01\": expected xx:xx:xx:xx:xx:xx, unicast" },
                { RANGE("\"mac\": \"02:00:00:00:00:0g\""), "\"02:",
                  "invalid MAC address \"02:00:00:00:00:0g\": expected xx:xx:xx:xx:xx:xx, unicast" },
                { RANGE("\"mac\": \"02-00-00-00-00-01\""), "\"02-",
                  "invalid MAC address \"02-00-00-00-00-01\": expected xx:xx:xx:xx:xx:xx, unicast" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": [\"ens1f0\"], \"mac_base\": \"ff:ff:ff:ff:ff:ff\"}]}",
                  "\"ff:",
                  "invalid MAC address \"ff:ff:ff:ff:ff:ff\": expected xx:xx:xx:xx:xx:xx, unicast" },
                { RANGE("\"mac\": \"02:00:00:00:00:01\", \"mac_base\": \"02:00:00:00:00:02\""), "\"02:00:00:00:00:02",
                  "\"mac\" and \"mac_base\" exclude each other" },
                { PF(", \"vfs\": [{\"range\": \"4-5\", \"mac\": \"02:00:00:00:00:03\"}]"), "\"02:",
                  "\"mac\" on a range of 2 VFs would give them one address; use \"mac_base\"" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

static void test_invalid_names(void) {
        static const Refusal t[] = {
                { "{\"pfs\": [{}]}", "{}", "a PF rule needs \"match\"" },
                { "{\"pfs\": [{\"match\": {}}]}", "{}",
                  "\"match\" needs exactly one of \"bdf\", \"interface\" or \"id\"" },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\", \"interface\": \"ens1f0\"}}]}", "{\"bdf\"",
                  "\"match\" needs exactly one of \"bdf\", \"interface\" or \"id\"" },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\", \"index\": 0}}]}", "\"index\"",
                  "\"index\" goes with \"id\" only" },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\", \"id\": \"8086:1572\", \"index\": 0}}]}", "\"index\"",
                  "\"index\" goes with \"id\" only", "{\"bdf\"",
                  "\"match\" needs exactly one of \"bdf\", \"interface\" or \"id\"" },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0 \"}}]}", "\"3b",
                  "invalid PCI address \"3b:00.0 \": expected DDDD:BB:DD.F or BB:DD.F" },
                { "{\"pfs\": [{\"match\": {\"interface\": \"ens1f0/..\"}}]}", "\"ens",
                  "invalid interface name \"ens1f0/..\"" },
                { "{\"pfs\": [{\"match\": {\"interface\": \"abcdefghijklmnop\"}}]}", "\"abc",
                  "invalid interface name \"abcdefghijklmnop\"" },
                { "{\"pfs\": [{\"match\": {\"id\": \"8086:15720\"}}]}", "\"8086",
                  "invalid PCI id \"8086:15720\": expected vvvv:dddd in hex" },
                { RANGE("\"driver\": \"../vfio\""), "\"../", "invalid driver name \"../vfio\"" },
                { PF(", \"vfs\": [{\"driver\": \"iavf\"}]"), "{\"driver\"", "a VF range needs \"range\"" },
                { "{\"pools\": [{\"name\": \"a b\", \"select\": [\"ens1f0\"]}]}", "\"a b\"",
                  "invalid pool name \"a b\": letters, digits, '-', '_', '.'", "{\"name\"", "a pool needs \"name\"" },
                { "{\"pools\": [{\"select\": [\"ens1f0\"]}]}", "{\"select\"", "a pool needs \"name\"" },
                { "{\"pools\": [{\"name\": \"a\"}]}", "{\"name\"", "a pool needs \"select\"" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": [\"ens1f0#9-1\"]}]}", "\"ens1f0#",
                  "invalid selector \"ens1f0#9-1\": expected IFNAME#N-M, DDDD:BB:DD.F#N-M, vvvv:dddd or numa:N",
                  "{\"name\"", "a pool needs \"select\"" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": []}]}", "[]", "\"select\" is empty",
                  "{\"name\"", "a pool needs \"select\"" },
                { "{\"pools\": [{\"name\": \"a\", \"select\": [\"ens1f0\"], \"driver\": \"host\"}]}", "\"host\"",
                  "a pool hands VFs over: \"driver\" must name the driver (\"vfio-pci\", or a VF driver such as "
                  "\"iavf\"), not \"host\"" },
        };

        check_refusals(t, ELEMENTSOF(t));
}

#define NUL_REFUSED "a NUL character (or \"\\u0000\"): no name may hold one"

/* A NUL in a string ("\u0000") would cut it for C: "vfio-pci\u0000/../x"
 * read as "vfio-pci", the selector "ens1f0\u0000#0" (VF 0) as every VF of
 * ens1f0. Refused wherever it is, at the escape. */
static void test_nul_escaped(void) {
        static const Refusal t[] = {
                { RANGE("\"driver\": \"vfio-pci\\u0000/../x\""), "\\u0000", NUL_REFUSED },
                { "{\"pools\": [{\"name\": \"vms\", \"select\": [\"ens1f0\"], \"driver\": \"vfio-pci\\u0000x\"}]}",
                  "\\u0000", NUL_REFUSED },
                { "{\"pfs\": [{\"match\": {\"interface\": \"ens1f0\\u0000x\"}}]}", "\\u0000", NUL_REFUSED },
                { "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\\u0000x\"}}]}", "\\u0000", NUL_REFUSED },
                { "{\"pfs\": [{\"match\": {\"id\": \"8086:1572\\u0000\"}}]}", "\\u0000", NUL_REFUSED },
                { PF(", \"vfs\": [{\"range\": \"0\\u0000-9\"}]"), "\\u0000", NUL_REFUSED },
                { RANGE("\"mac\": \"02:00:00:00:00:01\\u0000\""), "\\u0000", NUL_REFUSED },
                { "{\"pools\": [{\"name\": \"vms\\u0000x\", \"select\": [\"ens1f0\"]}]}", "\\u0000", NUL_REFUSED },
                { "{\"pools\": [{\"name\": \"vms\", \"select\": [\"ens1f0\\u0000#0\"]}]}", "\\u0000", NUL_REFUSED },
                /* in a key, too */
                { "{\"pfs\\u0000\": []}", "\\u0000", NUL_REFUSED },
        };

        check_refusals(t, ELEMENTSOF(t));
}

/* A NUL byte in the file itself. */
static void test_nul_byte(void) {
        static const char text[] = "{\"pfs\": [\n{\"match\": {\"interface\": \"ens1f0\0x\"}}]}";
        _cleanup_(config_freep) Config *c = config_new();
        ConfigErrors e = {};

        CHECK_INT(config_parse_text("test.conf", text, sizeof(text) - 1, c, &e), -EINVAL);
        CHECK(e.messages && strv_length(e.messages) == 1);
        if (e.messages)
                CHECK_STR(e.messages[0], "test.conf:2:32: " NUL_REFUSED);
        CHECK_INT(c->n_pfs, 0);
        config_errors_done(&e);
}

/* ---- several files ---- */

static void parse_as(Config *c, const char *file, const char *text, int expected) {
        ConfigErrors e = {};

        CHECK_INT(config_parse_text(file, text, strlen(text), c, &e), expected);
        config_errors_done(&e);
}

/* a later file's rule with the same match, or pool of the same name, replaces the earlier one */
static void test_later_file_replaces(void) {
        _cleanup_(config_freep) Config *c = config_new();

        parse_as(c, "a.conf", "{\"pfs\": [{\"match\": {\"interface\": \"ens1f0\"}, \"num_vfs\": 4},"
                 " {\"match\": {\"id\": \"8086:1572\"}, \"num_vfs\": 2}],"
                 " \"pools\": [{\"name\": \"vms\", \"select\": [\"ens1f0\"]}]}", 0);
        parse_as(c, "b.conf", "{\"pfs\": [{\"match\": {\"interface\": \"ens1f0\"}, \"autoprobe\": true},"
                 " {\"match\": {\"id\": \"8086:1572\", \"index\": 0}, \"num_vfs\": 1}],"
                 " \"pools\": [{\"name\": \"vms\", \"select\": [\"ens2f0#1\"]}]}", 0);
        CHECK_INT(c->n_pfs, 3);
        if (c->n_pfs == 3) {
                /* replaced as a whole: b.conf's rule has no num_vfs */
                CHECK_STR(c->pfs[0].file, "b.conf");
                CHECK_INT(c->pfs[0].num_vfs, -1);
                CHECK_INT(c->pfs[0].autoprobe, 1);
                /* an id with an index is another match than the id alone */
                CHECK_STR(c->pfs[1].file, "a.conf");
                CHECK_INT(c->pfs[1].num_vfs, 2);
                CHECK_INT(c->pfs[2].match.index, 0);
        }
        CHECK_INT(c->n_pools, 1);
        if (c->n_pools == 1) {
                CHECK_STR(c->pools[0].file, "b.conf");
                CHECK_STR(c->pools[0].selectors[0], "ens2f0#1");
        }
}

/* ---- what a rule asks for ---- */

static void test_wanted_vfs(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        sriov_device pf = { .is_pf = true, .sriov = { .total_vfs = 64, .num_vfs = 5 } };

        if (c->n_pfs != 3)
                return;
        CHECK_INT(config_wanted_vfs(&c->pfs[0], &pf), 8);
        CHECK_INT(config_wanted_vfs(&c->pfs[1], &pf), 0);
        /* not declared: what the PF has */
        CHECK_INT(config_wanted_vfs(&c->pfs[2], &pf), 5);
}

static void test_vf_settings(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        DriverWant want = DRIVER_UNSET;
        const char *driver = NULL;
        sriov_vf_config a = {};
        char mac[18];

        if (c->n_pfs != 3)
                return;
        CHECK(config_vf_settings(&c->pfs[0], 0, &want, &driver, &a));
        CHECK_INT(want, DRIVER_NAMED);
        CHECK_STR(driver, "vfio-pci");
        CHECK_INT(a.vf, 0);
        CHECK_INT(a.mask, VF_ATTR_MAC | VF_ATTR_VLAN);
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:00:00:01:fe");
        CHECK_INT(a.vlan, 100);
        /* the base plus the VF's place in its range, carried across octets */
        CHECK(config_vf_settings(&c->pfs[0], 2, &want, &driver, &a));
        CHECK_INT(a.vf, 2);
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:00:00:02:00");
        CHECK(config_vf_settings(&c->pfs[0], 3, &want, &driver, &a));
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:00:00:02:01");
        /* "mac": the address as written */
        CHECK(config_vf_settings(&c->pfs[0], 4, &want, &driver, &a));
        CHECK_INT(want, DRIVER_HOST);
        CHECK(!driver);
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:00:00:02:00");
        CHECK(config_vf_settings(&c->pfs[0], 7, &want, &driver, &a));
        CHECK_INT(want, DRIVER_UNSET);
        CHECK_INT(a.vf, 7);
        CHECK_INT(a.mask, VF_ATTR_RATE | VF_ATTR_LINK_STATE | VF_ATTR_VLAN | VF_ATTR_QUERY_RSS);
}

static void test_vf_settings_uncovered(void) {
        _cleanup_(config_freep) Config *c = parse_valid();
        DriverWant want = DRIVER_NAMED;
        const char *driver = "x";
        sriov_vf_config a = { .vf = 99 };

        if (c->n_pfs != 3)
                return;
        CHECK(!config_vf_settings(&c->pfs[0], 8, &want, &driver, &a));
        CHECK(!config_vf_settings(&c->pfs[1], 0, &want, &driver, &a));
        /* written only when a range covers the VF */
        CHECK_INT(want, DRIVER_NAMED);
        CHECK_STR(driver, "x");
        CHECK_INT(a.vf, 99);
}

static void test_mac_base_carry(void) {
        static const char text[] = "{\"pfs\": [{\"match\": {\"bdf\": \"3b:00.0\"}, \"vfs\": "
                "[{\"range\": \"10-300\", \"mac_base\": \"02:00:00:ff:ff:ff\"}]}]}";
        _cleanup_(config_freep) Config *c = config_new();
        DriverWant want;
        const char *driver;
        sriov_vf_config a;
        char mac[18];

        parse_as(c, "test.conf", text, 0);
        if (c->n_pfs != 1)
                return;
        CHECK(config_vf_settings(&c->pfs[0], 10, &want, &driver, &a));
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:00:ff:ff:ff");
        CHECK(config_vf_settings(&c->pfs[0], 11, &want, &driver, &a));
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:01:00:00:00");
        CHECK(config_vf_settings(&c->pfs[0], 300, &want, &driver, &a));
        CHECK_STR(vf_mac_format(a.mac, mac), "02:00:01:00:01:21");
        CHECK(!config_vf_settings(&c->pfs[0], 9, &want, &driver, &a));
}

/* ---- the shared parsers ---- */

static void test_parse_vf_range(void) {
        static const char *const bad[] = {
                "", "-", "1-", "-1", "a", " 1", "1 ", "+1", "1-+2", "3-2", "65536", "0-65536", "1-2-3", "0x1",
                "99999999999999999999",
        };
        unsigned f = 0, l = 0;

        CHECK_INT(parse_vf_range("7", &f, &l), 0);
        CHECK_INT(f, 7);
        CHECK_INT(l, 7);
        CHECK_INT(parse_vf_range("0-65535", &f, &l), 0);
        CHECK_INT(f, 0);
        CHECK_INT(l, 65535);
        CHECK_INT(parse_vf_range("4-4", &f, &l), 0);
        CHECK_INT(f, 4);
        CHECK_INT(l, 4);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                f = l = 12345;
                if (parse_vf_range(bad[i], &f, &l) != -EINVAL) {
                        fprintf(stderr, "accepted VF range \"%s\"\n", bad[i]);
                        test_failures++;
                }
                CHECK(f == 12345 && l == 12345);
        }
        CHECK_INT(parse_vf_range(NULL, &f, &l), -EINVAL);
}

static void test_parse_pci_id_pair(void) {
        static const char *const bad[] = {
                "", "8086", "8086:", ":154c", "8086:154", "808:154c", "80861:154c", "8086:154cd", "8086-154c",
                "8086:154g", "808g:154c", " 808:154c", "+808:154c", "8086:-54c", "8086:154c:0", "0x86:154c",
                "8086:0x4c",
        };
        uint16_t v = 0, d = 0;

        CHECK_INT(parse_pci_id_pair("8086:154c", &v, &d), 0);
        CHECK_INT(v, 0x8086);
        CHECK_INT(d, 0x154c);
        CHECK_INT(parse_pci_id_pair("FFFF:0000", &v, &d), 0);
        CHECK_INT(v, 0xffff);
        CHECK_INT(d, 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = d = 0x4242;
                if (parse_pci_id_pair(bad[i], &v, &d) != -EINVAL) {
                        fprintf(stderr, "accepted PCI id \"%s\"\n", bad[i]);
                        test_failures++;
                }
                CHECK(v == 0x4242 && d == 0x4242);
        }
}

/* A rule of 65535 single-VF ranges: checked in n log n (a pairwise check
 * took seconds), and one overlap among them found, at its range. */
static char *many_ranges(unsigned n, unsigned overlap_at) {
        size_t size = 128 + (size_t) n * 24, len;
        char *text = malloc(size);

        if (!text)
                return NULL;
        len = (size_t) snprintf(text, size, "{\"pfs\": [{\"match\": {\"interface\": \"ens1f0\"}, \"vfs\": [");
        for (unsigned i = 0; i < n; i++)
                len += (size_t) snprintf(text + len, size - len, "%s{\"range\": \"%u\"}", i ? "," : "",
                                         i == overlap_at ? 7 : i);
        (void) snprintf(text + len, size - len, "]}]}");
        return text;
}

static void test_many_ranges(void) {
        _cleanup_free_ char *fine = many_ranges(65535, UINT_MAX), *overlap = many_ranges(65535, 65534);
        ConfigErrors e = {};

        CHECK(fine && overlap);
        if (!fine || !overlap)
                return;
        {
                _cleanup_(config_freep) Config *c = config_new();

                CHECK_INT(config_parse_text("many.conf", fine, strlen(fine), c, &e), 0);
                CHECK_INT(c->n_pfs, 1);
        }
        config_errors_done(&e);
        {
                _cleanup_(config_freep) Config *c = config_new();

                CHECK_INT(config_parse_text("many.conf", overlap, strlen(overlap), c, &e), -EINVAL);
                CHECK(e.messages && strstr(e.messages[0], "VF range 7-7 overlaps 7-7 of the same rule"));
        }
        config_errors_done(&e);
}

int main(void) {
        test_valid_pf_rules();
        test_valid_ranges();
        test_valid_pools();
        test_syntax();
        test_type_errors();
        test_unknown_keys();
        test_out_of_range();
        test_overlaps_and_duplicates();
        test_many_ranges();
        test_invalid_macs();
        test_invalid_names();
        test_nul_escaped();
        test_nul_byte();
        test_later_file_replaces();
        test_wanted_vfs();
        test_vf_settings();
        test_vf_settings_uncovered();
        test_mac_base_carry();
        test_parse_vf_range();
        test_parse_pci_id_pair();
        TEST_MAIN_END();
}
