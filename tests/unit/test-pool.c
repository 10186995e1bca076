/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pools without a daemon: selectors as written (parsed strictly, with their
 * limits), which VFs of a host model made by hand (fake-host.h) a pool
 * holds, and which one a request gets: free, on the NUMA node the policy
 * asks for, the lowest address first, with its place in the pool. */

#include <errno.h>

#include "fake-host.h"
#include "pool.h"
#include "tests.h"
#include "util.h"

/* PF A (ens1f0, NUMA node 0) with VFs 0-3, PF B (ens2f0, node 1) with VFs 0
 * and 1, VF 1 of B of another device id; a VF of A that the model has not
 * linked to an index; a VF whose PF is not on the host; a bridge. Added out
 * of order: the host keeps them by address. */
static sriov_host *make_host(void) {
        sriov_host *h = fake_host_new();

        (void) fake_pf(h, "0000:5e:00.0", "ens2f0", 1);
        fake_vf(h, "0000:5e:02.1", "0000:5e:00.0", 1, "iavf", 1)->device = 0x1889;
        (void) fake_vf(h, "0000:5e:02.0", "0000:5e:00.0", 0, "iavf", 1);
        (void) fake_pf(h, "0000:3b:00.0", "ens1f0", 0);
        for (unsigned n = 0; n < 4; n++) {
                char bdf[PCI_ADDR_STRLEN];

                (void) snprintf(bdf, sizeof(bdf), "0000:3b:02.%u", n);
                (void) fake_vf(h, bdf, "0000:3b:00.0", (int) n, "iavf", 0);
        }
        (void) fake_vf(h, "0000:3b:03.0", "0000:3b:00.0", -1, NULL, 0);
        (void) fake_vf(h, "0000:af:02.0", "0000:af:00.0", 0, NULL, 1);
        (void) fake_bridge(h, "0000:00:01.0");
        return h;
}

static const sriov_device *dev(const sriov_host *h, const char *bdf) {
        pci_addr a;

        if (pci_addr_parse(bdf, &a) < 0)
                abort();
        return fake_check_alloc(sriov_host_find(h, &a));
}

/* "a b c" as a string list */
static char **words(const char *s) {
        _cleanup_free_ char *copy = strdup(s);
        char **l = NULL, *save = NULL;

        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                if (strv_extend(&l, w) < 0)
                        abort();
        return l;
}

/* ---- selector_parse ---- */

static void test_parse_interface(void) {
        Selector sel;

        CHECK_INT(selector_parse("ens1f0#0-3", &sel), 0);
        CHECK_INT(sel.kind, SEL_PF_INTERFACE);
        CHECK_STR(sel.interface, "ens1f0");
        CHECK_INT(sel.first, 0);
        CHECK_INT(sel.last, 3);
        /* without "#...": every VF of the PF */
        CHECK_INT(selector_parse("ens1f0", &sel), 0);
        CHECK_INT(sel.kind, SEL_PF_INTERFACE);
        CHECK_INT(sel.first, 0);
        CHECK_INT(sel.last, 65535);
        /* the longest interface name the kernel takes */
        CHECK_INT(selector_parse("abcdefghijklmno#7", &sel), 0);
        CHECK_STR(sel.interface, "abcdefghijklmno");
        CHECK_INT(sel.first, 7);
        CHECK_INT(sel.last, 7);
}

static void test_parse_bdf(void) {
        Selector sel;
        char bdf[PCI_ADDR_STRLEN];

        CHECK_INT(selector_parse("0000:3b:00.0#4-7", &sel), 0);
        CHECK_INT(sel.kind, SEL_PF_BDF);
        CHECK_STR(pci_addr_format(&sel.pf, bdf), "0000:3b:00.0");
        CHECK_INT(sel.first, 4);
        CHECK_INT(sel.last, 7);
        /* the short form is domain 0; no range: all VFs */
        CHECK_INT(selector_parse("5E:00.0", &sel), 0);
        CHECK_INT(sel.kind, SEL_PF_BDF);
        CHECK_STR(pci_addr_format(&sel.pf, bdf), "0000:5e:00.0");
        CHECK_INT(sel.last, 65535);
        CHECK_INT(selector_parse("3b:00.0#65535", &sel), 0);
        CHECK_INT(sel.first, 65535);
}

static void test_parse_id_and_numa(void) {
        Selector sel;

        CHECK_INT(selector_parse("8086:154C", &sel), 0);
        CHECK_INT(sel.kind, SEL_VF_ID);
        CHECK_INT(sel.vendor, 0x8086);
        CHECK_INT(sel.device, 0x154c);
        CHECK_INT(selector_parse("numa:1", &sel), 0);
        CHECK_INT(sel.kind, SEL_NUMA);
        CHECK_INT(sel.numa, 1);
        CHECK_INT(selector_parse("numa:1023", &sel), 0);
        CHECK_INT(sel.numa, 1023);
        CHECK_INT(selector_parse("numa:0", &sel), 0);
        CHECK_INT(sel.numa, 0);
}

/* 64 characters are taken, 65 are not */
static void test_parse_length(void) {
        char s[80];
        Selector sel;

        (void) snprintf(s, sizeof(s), "ens1f0#%055d-2", 1);
        CHECK_INT(strlen(s), 64);
        CHECK_INT(selector_parse(s, &sel), 0);
        CHECK_INT(sel.first, 1);
        CHECK_INT(sel.last, 2);
        (void) snprintf(s, sizeof(s), "ens1f0#%056d-2", 1);
        CHECK_INT(strlen(s), 65);
        CHECK_INT(selector_parse(s, &sel), -EINVAL);
}

static void test_parse_invalid(void) {
        static const char *const bad[] = {
                "", "#0-3", "numa:", "numa:1024", "numa:-1", "numa:+1", "numa:1x", "numa: 1",
                "ens1f0#", "ens1f0#-", "ens1f0#3-1", "ens1f0#0-65536", "ens1f0#65536", "ens1f0#-3", "ens1f0#a",
                "ens1f0#0-3#4", "ens1f0#1 ", "0000:3b:00.0#x", "3b:00.0#2-1",
                "8086:154c#0-3",        /* an id has no VF indexes */
                "8086:154", "8086:154cd", "eth 0", "a/b", "..", "abcdefghijklmnop", "ens1f0:1#0",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Selector sel = { .kind = SEL_NUMA, .numa = 42 };

                if (selector_parse(bad[i], &sel) != -EINVAL) {
                        fprintf(stderr, "accepted selector \"%s\"\n", bad[i]);
                        test_failures++;
                }
                /* written only on success */
                CHECK_INT(sel.kind, SEL_NUMA);
                CHECK_INT(sel.numa, 42);
        }
}

/* ---- selector_matches, pool_contains ---- */

/* The host's devices that the selector list s holds, as "BDF BDF ...". */
static char *members(const sriov_host *h, const char *s) {
        _cleanup_strv_free_ char **sel = words(s);
        char *out = fake_check_alloc(strdup(""));

        for (size_t i = 0; i < h->n_devices; i++)
                if (pool_contains(sel, h->devices[i])) {
                        char *n = strdup_printf("%s%s%s", out, *out ? " " : "", h->devices[i]->bdf);

                        free(out);
                        out = fake_check_alloc(n);
                }
        return out;
}

static void test_matches_one(void) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        Selector sel;

        CHECK_INT(selector_parse("ens1f0#1-2", &sel), 0);
        CHECK(!selector_matches(&sel, dev(h, "0000:3b:02.0")));
        CHECK(selector_matches(&sel, dev(h, "0000:3b:02.1")));
        CHECK(selector_matches(&sel, dev(h, "0000:3b:02.2")));
        CHECK(!selector_matches(&sel, dev(h, "0000:3b:02.3")));
        CHECK(!selector_matches(&sel, dev(h, "0000:5e:02.1")));
        CHECK(!selector_matches(&sel, dev(h, "0000:3b:00.0")));         /* the PF is no VF of itself */
        CHECK_INT(selector_parse("8086:1572", &sel), 0);                /* the PFs' id */
        CHECK(!selector_matches(&sel, dev(h, "0000:3b:00.0")));
        CHECK_INT(selector_parse("numa:0", &sel), 0);
        CHECK(!selector_matches(&sel, dev(h, "0000:3b:00.0")));
        CHECK(selector_matches(&sel, dev(h, "0000:3b:02.0")));
        CHECK(!selector_matches(&sel, dev(h, "0000:5e:02.0")));
}

static void test_contains_sources(void) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *a = members(h, "ens1f0#1-2"), *b = members(h, "0000:5e:00.0#1"),
                *c = members(h, "8086:154c"), *d = members(h, "ens1f0#3 5e:00.0#0");

        CHECK_STR(a, "0000:3b:02.1 0000:3b:02.2");
        CHECK_STR(b, "0000:5e:02.1");
        /* by id: the unlinked VF and the one of a PF not on the host too */
        CHECK_STR(c, "0000:3b:02.0 0000:3b:02.1 0000:3b:02.2 0000:3b:02.3 0000:3b:03.0 0000:5e:02.0 0000:af:02.0");
        CHECK_STR(d, "0000:3b:02.3 0000:5e:02.0");
}

static void test_contains_unknown_index(void) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *a = members(h, "ens1f0"), *b = members(h, "0000:af:00.0"), *c = members(h, "ens9f9");

        /* a VF without an index is in no range, not even "all" */
        CHECK_STR(a, "0000:3b:02.0 0000:3b:02.1 0000:3b:02.2 0000:3b:02.3");
        /* a PF that is not on the host: by address still, by interface not */
        CHECK_STR(b, "0000:af:02.0");
        CHECK_STR(c, "");
}

static void test_contains_numa(void) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *a = members(h, "numa:1"), *b = members(h, "ens1f0 ens2f0 numa:1"),
                *c = members(h, "ens1f0#0 numa:0 numa:1"), *d = members(h, "ens1f0 numa:1");

        /* numa: alone, every VF there; with sources, those of them there */
        CHECK_STR(a, "0000:5e:02.0 0000:5e:02.1 0000:af:02.0");
        CHECK_STR(b, "0000:5e:02.0 0000:5e:02.1");
        CHECK_STR(c, "0000:3b:02.0");
        CHECK_STR(d, "");
}

static void test_contains_invalid(void) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *a = members(h, "no/such ens1f0#0"), *b = members(h, "no/such"),
                *c = members(h, "numa:x ens2f0#1");

        /* an invalid selector matches nothing and restricts nothing */
        CHECK_STR(a, "0000:3b:02.0");
        CHECK_STR(b, "");
        CHECK_STR(c, "0000:5e:02.1");
        CHECK(!pool_contains(NULL, dev(h, "0000:3b:02.0")));
}

/* ---- pool_pick ---- */

/* userdata: the addresses taken, as a string list: assigned, or with a
 * prefix "q" quarantined, "p" pending */
static MemberUse use_of(const sriov_device *vf, void *userdata) {
        char q[PCI_ADDR_STRLEN + 1], pending[PCI_ADDR_STRLEN + 1];

        (void) snprintf(q, sizeof(q), "q%s", vf->bdf);
        (void) snprintf(pending, sizeof(pending), "p%s", vf->bdf);
        if (strv_contains(userdata, vf->bdf))
                return MEMBER_ASSIGNED;
        if (strv_contains(userdata, q))
                return MEMBER_QUARANTINED;
        return strv_contains(userdata, pending) ? MEMBER_PENDING : MEMBER_FREE;
}

typedef struct Pick {
        char bdf[PCI_ADDR_STRLEN];      /* "(none)" */
        size_t position;
        sriov_error error;
} Pick;

static Pick pick(const char *selectors, const char *taken, int numa, NumaPolicy policy) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_strv_free_ char **sel = words(selectors), **busy = words(taken);
        PoolView p = { .name = "vms", .selectors = sel };
        Pick r = { .bdf = "(none)", .position = 999 };
        const sriov_device *vf;

        vf = pool_pick(h, &p, numa, policy, use_of, busy, &r.position, &r.error);
        if (vf) {
                memcpy(r.bdf, vf->bdf, sizeof(r.bdf));
                CHECK_INT(r.error.error, 0);
        }
        return r;
}

static void test_pick_order(void) {
        Pick r = pick("ens1f0 ens2f0", "", -1, NUMA_ANY);

        CHECK_STR(r.bdf, "0000:3b:02.0");
        CHECK_INT(r.position, 0);
        /* the position counts the members taken before it */
        r = pick("ens1f0 ens2f0", "0000:3b:02.0", -1, NUMA_ANY);
        CHECK_STR(r.bdf, "0000:3b:02.1");
        CHECK_INT(r.position, 1);
        r = pick("ens1f0#3 ens2f0", "0000:3b:02.3", -1, NUMA_ANY);
        CHECK_STR(r.bdf, "0000:5e:02.0");
        CHECK_INT(r.position, 1);
        /* any node: the order alone */
        r = pick("ens1f0 ens2f0", "", 1, NUMA_ANY);
        CHECK_STR(r.bdf, "0000:3b:02.0");
}

static void test_pick_required(void) {
        Pick r = pick("ens1f0 ens2f0", "", 1, NUMA_REQUIRED);

        CHECK_STR(r.bdf, "0000:5e:02.0");
        CHECK_INT(r.position, 4);
        r = pick("ens1f0 ens2f0", "0000:5e:02.0 0000:5e:02.1", 1, NUMA_REQUIRED);
        CHECK_STR(r.bdf, "(none)");
        CHECK_INT(r.position, 999);
        CHECK_INT(r.error.error, -ENOSPC);
        CHECK_STR(r.error.message, "Pool vms has 4 free VFs, none on NUMA node 1 (policy: required)");
        /* no node asked for: every node is it */
        r = pick("ens1f0 ens2f0", "0000:3b:02.0", -1, NUMA_REQUIRED);
        CHECK_STR(r.bdf, "0000:3b:02.1");
        CHECK_INT(r.position, 1);
}

static void test_pick_preferred(void) {
        /* on the node, though later in the order */
        Pick r = pick("ens1f0 ens2f0", "", 1, NUMA_PREFERRED);

        CHECK_STR(r.bdf, "0000:5e:02.0");
        CHECK_INT(r.position, 4);
        r = pick("ens1f0 ens2f0", "0000:5e:02.0", 1, NUMA_PREFERRED);
        CHECK_STR(r.bdf, "0000:5e:02.1");
        CHECK_INT(r.position, 5);
        /* else another node's, the first in order */
        r = pick("ens1f0 ens2f0", "0000:5e:02.0 0000:5e:02.1", 1, NUMA_PREFERRED);
        CHECK_STR(r.bdf, "0000:3b:02.0");
        CHECK_INT(r.position, 0);
        r = pick("ens1f0 ens2f0", "", 0, NUMA_PREFERRED);
        CHECK_STR(r.bdf, "0000:3b:02.0");
        r = pick("ens1f0 ens2f0", "", -1, NUMA_PREFERRED);
        CHECK_STR(r.bdf, "0000:3b:02.0");
}

static void test_pick_exhausted(void) {
        Pick r = pick("ens2f0", "0000:5e:02.0 0000:5e:02.1", -1, NUMA_ANY);

        CHECK_STR(r.bdf, "(none)");
        CHECK_INT(r.position, 999);
        CHECK_INT(r.error.error, -ENOSPC);
        CHECK_STR(r.error.message, "Pool vms is exhausted: all 2 VFs are assigned");
        /* not all assigned: what holds each (a quarantined VF is not assigned) */
        r = pick("ens2f0", "0000:5e:02.0 q0000:5e:02.1", -1, NUMA_ANY);
        CHECK_STR(r.bdf, "(none)");
        CHECK_INT(r.error.error, -ENOSPC);
        CHECK_STR(r.error.message,
                  "Pool vms is exhausted: of its 2 VFs, 1 assigned, 1 quarantined (their reset between guests failed)");
        r = pick("ens2f0#1", "q0000:5e:02.1", -1, NUMA_ANY);
        CHECK_STR(r.error.message, "Pool vms is exhausted: of its 1 VFs, 1 quarantined (their reset between guests failed)");
        r = pick("ens2f0", "p0000:5e:02.0 q0000:5e:02.1", -1, NUMA_ANY);
        CHECK_STR(r.error.message, "Pool vms is exhausted: of its 2 VFs, 1 quarantined (their reset between guests failed), "
                  "1 waiting for a kernel write on their PF");
        r = pick("ens9f9", "", -1, NUMA_ANY);
        CHECK_STR(r.bdf, "(none)");
        CHECK_INT(r.error.error, -ENOSPC);
        CHECK_STR(r.error.message, "Pool vms has no VFs on this host (are VFs enabled?)");
}

static void test_pool_driver(void) {
        PoolView p = { .name = "vms", .driver_want = DRIVER_NAMED, .driver = "iavf" };

        CHECK_STR(pool_driver(&p), "iavf");
        p.driver_want = DRIVER_UNSET;
        CHECK_STR(pool_driver(&p), "vfio-pci");
        p = (PoolView) { .name = "vms", .driver_want = DRIVER_NAMED };
        CHECK_STR(pool_driver(&p), "vfio-pci");
        CHECK_STR(pool_driver(NULL), "vfio-pci");
}

int main(void) {
        test_parse_interface();
        test_parse_bdf();
        test_parse_id_and_numa();
        test_parse_length();
        test_parse_invalid();
        test_matches_one();
        test_contains_sources();
        test_contains_unknown_index();
        test_contains_numa();
        test_contains_invalid();
        test_pick_order();
        test_pick_required();
        test_pick_preferred();
        test_pick_exhausted();
        test_pool_driver();
        TEST_MAIN_END();
}
