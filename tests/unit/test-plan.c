/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Planning a PF's rule without a daemon: plan_pf() reads sysfs through an
 * sriov_ctx rooted at a small fake tree (fake-sysfs.h: bus/pci/devices/BDF
 * with uevent, sriov_*, driver_override, net/, and the physfn, virtfnN and
 * driver links), and the steps it plans are checked: the VF count and
 * autoprobe, each VF's driver, nothing when the host already matches, VFs
 * that guests hold left alone, and what it refuses. VF attributes need the
 * PF's link over rtnetlink: only what needs no VF on a real link is
 * planned here (no interface; "lo", which reports no VFs). */

#include <errno.h>

#include "fake-sysfs.h"

static void test_nothing_to_do(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 3, 0, NULL);
        add_vf(&t, 0, "vfio-pci", "vfio-pci");
        add_vf(&t, 1, "vfio-pci", NULL);
        add_vf(&t, 2, "iavf", NULL);
        plan(&t, "\"num_vfs\": 3, \"autoprobe\": false, \"vfs\": [{\"range\": \"0-1\", \"driver\": \"vfio-pci\"}, "
             "{\"range\": \"2\", \"driver\": \"host\"}]", NULL, &p);
        CHECK_STEPS(&p, "");
        CHECK_INT(p.n_failed, 0);
        plan_done(&p);
        /* a rule that declares nothing */
        plan(&t, "", NULL, &p);
        CHECK_STEPS(&p, "");
        tree_end(&t);
}

static void test_create_vfs(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 0, 1, NULL);
        plan(&t, "\"num_vfs\": 3, \"autoprobe\": false, \"vfs\": [{\"range\": \"0-1\", \"driver\": \"vfio-pci\"}, "
             "{\"range\": \"2\", \"driver\": \"host\"}]", NULL, &p);
        /* the VFs are not there yet: their steps come once they are */
        CHECK_STEPS(&p, "numvfs " PF ": VFs 0 -> 3, driver autoprobe off\n"
                    "driver VF 0 of " PF ": driver -> vfio-pci\n"
                    "driver VF 1 of " PF ": driver -> vfio-pci\n"
                    "driver VF 2 of " PF ": driver -> the host driver\n");
        CHECK_INT(p.n_failed, 0);
        if (p.n_steps == 4) {
                CHECK(p.steps[0].has_addr);
                CHECK_INT(p.steps[0].count, 3);
                CHECK_INT(p.steps[0].autoprobe, 0);
                CHECK_INT(p.steps[0].result, 0);
                CHECK(!p.steps[1].has_addr);
        }
        tree_end(&t);
}

/* a count change re-creates the VFs: the ones there now get no steps */
static void test_change_count(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 2, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        add_vf(&t, 1, "iavf", NULL);
        plan(&t, "\"num_vfs\": 1, \"vfs\": [{\"range\": \"0\", \"driver\": \"vfio-pci\"}]", NULL, &p);
        CHECK_STEPS(&p, "numvfs " PF ": VFs 2 -> 1\n"
                    "driver VF 0 of " PF ": driver -> vfio-pci\n");
        if (p.n_steps > 0) {
                CHECK_INT(p.steps[0].count, 1);
                CHECK_INT(p.steps[0].autoprobe, -1);
        }
        tree_end(&t);
}

static void test_autoprobe(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 1, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        /* the count as it is: autoprobe alone, and the VFs' own steps */
        plan(&t, "\"autoprobe\": false, \"vfs\": [{\"range\": \"0\", \"driver\": \"vfio-pci\"}]", NULL, &p);
        CHECK_STEPS(&p, "numvfs " PF ": driver autoprobe on -> off\n"
                    "driver 0000:3b:02.0: driver iavf -> vfio-pci\n");
        if (p.n_steps > 0) {
                CHECK_INT(p.steps[0].count, 1);
                CHECK_INT(p.steps[0].autoprobe, 0);
        }
        plan_done(&p);
        plan(&t, "\"autoprobe\": true", NULL, &p);
        CHECK_STEPS(&p, "");
        tree_end(&t);
        /* a kernel without the attribute: nothing to plan for it */
        tree_begin(&t);
        add_pf(&t, 0, -1, NULL);
        plan_done(&p);
        plan(&t, "\"autoprobe\": false", NULL, &p);
        CHECK_STEPS(&p, "");
        tree_end(&t);
}

static void test_vf_drivers(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 5, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        add_vf(&t, 1, NULL, NULL);
        add_vf(&t, 2, "vfio-pci", NULL);                /* "host": the kernel's own choice, not vfio-pci */
        add_vf(&t, 3, "iavf", "iavf");                  /* nor one an override forced */
        add_vf(&t, 4, "iavf", NULL);                    /* no range covers it */
        plan(&t, "\"vfs\": [{\"range\": \"0-1\", \"driver\": \"vfio-pci\"}, "
             "{\"range\": \"2-3\", \"driver\": \"host\"}]", NULL, &p);
        CHECK_STEPS(&p, "driver 0000:3b:02.0: driver iavf -> vfio-pci\n"
                    "driver 0000:3b:02.1: driver (none) -> vfio-pci\n"
                    "driver 0000:3b:02.2: driver vfio-pci -> the host driver\n"
                    "driver 0000:3b:02.3: driver iavf -> the host driver\n");
        CHECK_INT(p.n_failed, 0);
        if (p.n_steps == 4) {
                /* what it has now: what RestoreDriver puts back */
                CHECK_INT(p.steps[0].want, DRIVER_NAMED);
                CHECK_STR(p.steps[0].driver, "vfio-pci");
                CHECK_STR(p.steps[0].prior_driver, "iavf");
                CHECK(!p.steps[0].prior_override);
                CHECK(p.steps[0].has_addr);
                CHECK(!p.steps[1].prior_driver);
                CHECK_INT(p.steps[2].want, DRIVER_HOST);
                CHECK(!p.steps[2].driver);
                CHECK_STR(p.steps[2].prior_driver, "vfio-pci");
                CHECK(!p.steps[2].prior_override);
                CHECK_STR(p.steps[3].prior_driver, "iavf");
                CHECK_STR(p.steps[3].prior_override, "iavf");
        }
        tree_end(&t);
}

static void test_assigned_left_alone(void) {
        _cleanup_strv_free_ char **assigned = NULL;
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        CHECK_INT(strv_extend(&assigned, "0000:3b:02.0"), 0);
        CHECK_INT(strv_extend(&assigned, "vm1"), 0);
        tree_begin(&t);
        add_pf(&t, 2, 1, NULL);
        add_vf(&t, 0, "vfio-pci", "vfio-pci");
        add_vf(&t, 1, "vfio-pci", "vfio-pci");
        plan(&t, "\"num_vfs\": 2, \"vfs\": [{\"range\": \"0-1\", \"driver\": \"iavf\"}]", assigned, &p);
        CHECK_STEPS(&p, "driver 0000:3b:02.1: driver vfio-pci -> iavf\n");
        CHECK_INT(p.n_failed, 0);
        tree_end(&t);
}

/* a count change would destroy the guest's VF: refused, even in a dry run */
static void test_count_change_refused(void) {
        _cleanup_strv_free_ char **assigned = NULL;
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        CHECK_INT(strv_extend(&assigned, "0000:3b:02.1"), 0);
        CHECK_INT(strv_extend(&assigned, "vm1"), 0);
        tree_begin(&t);
        add_pf(&t, 2, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        add_vf(&t, 1, "vfio-pci", "vfio-pci");
        plan(&t, "\"num_vfs\": 4", assigned, &p);
        CHECK_STEPS(&p, "numvfs " PF ": VFs 2 -> 4\n");
        CHECK_INT(p.n_failed, 1);
        if (p.n_steps == 1) {
                CHECK_INT(p.steps[0].result, -EPERM);
                CHECK_STR(p.steps[0].error, "VF 0000:3b:02.1 is assigned to guest vm1, and changing the VF count would "
                          "destroy it: release the PF's VFs first");
        }
        plan_done(&p);
        /* autoprobe alone destroys nothing */
        plan(&t, "\"num_vfs\": 2, \"autoprobe\": false", assigned, &p);
        CHECK_STEPS(&p, "numvfs " PF ": driver autoprobe on -> off\n");
        CHECK_INT(p.n_failed, 0);
        tree_end(&t);
}

/* the address is a VF, or nothing: no plan but an error */
static void test_not_a_pf(void) {
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        _cleanup_(plan_done) Plan p = {};
        static const char rule[] = "{\"pfs\": [{\"match\": {\"bdf\": \"3b:02.0\"}, \"num_vfs\": 2}]}";
        ConfigErrors e = {};
        pci_addr a;
        Tree t;

        must(c, "calloc");
        c->n_ref = 1;
        CHECK_INT(config_parse_text("test.conf", rule, strlen(rule), c, &e), 0);
        config_errors_done(&e);
        tree_begin(&t);
        add_pf(&t, 1, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        CHECK_INT(pci_addr_parse("0000:3b:02.0", &a), 0);
        CHECK_INT(plan_pf(t.ctx, &c->pfs[0], &a, NULL, &p, NULL), 0);
        CHECK_STEPS(&p, "error 0000:3b:02.0: not an SR-IOV PF (any more)\n");
        CHECK_INT(p.n_failed, 1);
        plan_done(&p);
        CHECK_INT(pci_addr_parse("0000:af:00.0", &a), 0);
        CHECK_INT(plan_pf(t.ctx, &c->pfs[0], &a, NULL, &p, NULL), 0);
        CHECK_STEPS(&p, "error 0000:af:00.0: not an SR-IOV PF (any more)\n");
        CHECK_INT(p.n_failed, 1);
        tree_end(&t);
}

/* VF attributes without an interface to set them on: an error, the drivers still planned */
static void test_attrs_without_interface(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 1, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        plan(&t, "\"vfs\": [{\"range\": \"0\", \"driver\": \"vfio-pci\", \"vlan\": 10}]", NULL, &p);
        CHECK_STEPS(&p, "error " PF ": VF attributes are declared, but " PF " has no network interface\n"
                    "driver 0000:3b:02.0: driver iavf -> vfio-pci\n");
        CHECK_INT(p.n_failed, 1);
        tree_end(&t);
}

/* an interface that is there (lo, in every network namespace) but reports no VFs */
static void test_attrs_vf_not_reported(void) {
        _cleanup_(plan_done) Plan p = {};
        Tree t;

        tree_begin(&t);
        add_pf(&t, 2, 1, "lo");
        add_vf(&t, 0, "iavf", NULL);
        add_vf(&t, 1, "iavf", NULL);
        plan(&t, "\"vfs\": [{\"range\": \"1\", \"spoofchk\": false}]", NULL, &p);
        CHECK_STEPS(&p, "error 0000:3b:02.1: lo does not report VF 1\n");
        CHECK_INT(p.n_failed, 1);
        plan_done(&p);
        /* no attributes declared: the link is not read */
        plan(&t, "\"vfs\": [{\"range\": \"1\", \"driver\": \"iavf\"}]", NULL, &p);
        CHECK_STEPS(&p, "");
        CHECK_INT(p.n_failed, 0);
        plan_done(&p);
        /* VFs to be made: their attributes once they are */
        plan(&t, "\"num_vfs\": 3, \"vfs\": [{\"range\": \"2\", \"spoofchk\": false}]", NULL, &p);
        CHECK_STEPS(&p, "numvfs " PF ": VFs 2 -> 3\n"
                    "attributes VF 2 of " PF ": attributes as declared\n");
        CHECK_INT(p.n_failed, 0);
        tree_end(&t);
}

/* A PF whose VF in the middle is missing from sysfs while sriov_numvfs
 * still counts it: its virtfnN link is gone, or dangles because the VF
 * itself is being removed (the kernel removes a PF's VFs from index 0 up
 * before sriov_numvfs reads 0; "echo 1 > .../remove" on a VF). The VFs
 * after it are still planned as themselves (sriov_family_load() packs the
 * VFs it finds; plan_vfs() looks each up by its index). */
static void check_gap(bool dangling) {
        _cleanup_(plan_done) Plan p = {};
        _cleanup_free_ char *s = NULL;
        Tree t;

        tree_begin(&t);
        add_pf(&t, 4, 1, NULL);
        add_vf(&t, 0, "iavf", NULL);
        add_vf(&t, 1, "iavf", NULL);
        add_vf(&t, 3, "iavf", NULL);
        if (dangling)
                put_link(&t, PF, "virtfn2", "../0000:3b:02.2");
        plan(&t, "\"vfs\": [{\"range\": \"2\", \"driver\": \"vfio-pci\"}, {\"range\": \"3\", \"driver\": \"iavf\"}]",
             NULL, &p);
        s = steps(&p);
        /* VF 3 is as declared: no step for it; VF 2 is planned as missing, or not at all */
        if (!streq(s, "") && !streq(s, "driver VF 2 of " PF ": driver -> vfio-pci\n")) {
                fprintf(stderr, "VF 2 %s: planned\n%s", dangling ? "dangling" : "without a link", s);
                test_failures++;
        }
        tree_end(&t);
}

static void test_vf_missing_in_the_middle(void) {
        check_gap(false);
        check_gap(true);
}

/* Loading a PF remembers the names its VFs will have: enabling them after
 * pci.ids was dropped (the daemon does once the host is read) does not
 * load it again, in the middle of the VF count change. */
static void test_vf_names_remembered(void) {
        _cleanup_(sriov_device_freep) sriov_device *d = NULL;
        pci_addr a;
        Tree t;

        tree_begin(&t);
        add_pf(&t, 0, 1, NULL);
        CHECK_INT(pci_addr_parse(PF, &a), 0);
        CHECK(!pci_names_remembered(t.ctx, 0x8086, 0x154c, 0x020000));
        CHECK_INT(sriov_device_load(t.ctx, &a, &d), 0);
        sriov_ctx_drop_pci_ids(t.ctx);
        CHECK(pci_names_remembered(t.ctx, 0x8086, 0x1572, 0x020000));
        CHECK(pci_names_remembered(t.ctx, 0x8086, 0x154c, 0x020000));
        tree_end(&t);
}

int main(void) {
        test_nothing_to_do();
        test_create_vfs();
        test_change_count();
        test_autoprobe();
        test_vf_drivers();
        test_assigned_left_alone();
        test_count_change_refused();
        test_not_a_pf();
        test_attrs_without_interface();
        test_attrs_vf_not_reported();
        test_vf_missing_in_the_middle();
        test_vf_names_remembered();
        TEST_MAIN_END();
}
