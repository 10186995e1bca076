/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What recovery decides at start, without a daemon: a ledger (state text)
 * against a host model made by hand (fake-host.h). Every record is checked
 * as the API would check it (a VF of its PF, at its index, of its PF's
 * generation, never a bridge) before anything acts on it; then the phase
 * of the record says what is done. */

#include "fake-host.h"
#include "recovery.h"
#include "tests.h"
#include "util.h"

#define PF_A "0000:3b:00.0"     /* generation 2 in the ledger */
#define PF_B "0000:5e:00.0"
#define BRIDGE "0000:00:01.0"

/* PF A (ens1f0) with VF 0 on iavf, VF 1 on vfio-pci, VF 2 unbound and a
 * function at 02.3 that the model has not linked to an index yet; PF B
 * with its VF 0; a bridge. */
static sriov_host *make_host(void) {
        sriov_host *h = fake_host_new();

        (void) fake_bridge(h, BRIDGE);
        (void) fake_pf(h, PF_A, "ens1f0", 0);
        (void) fake_vf(h, "0000:3b:02.0", PF_A, 0, "iavf", 0);
        (void) fake_vf(h, "0000:3b:02.1", PF_A, 1, "vfio-pci", 0);
        (void) fake_vf(h, "0000:3b:02.2", PF_A, 2, NULL, 0);
        (void) fake_vf(h, "0000:3b:02.3", PF_A, -1, "vfio-pci", 0);
        (void) fake_pf(h, PF_B, "ens2f0", 1);
        (void) fake_vf(h, "0000:5e:02.0", PF_B, 0, "iavf", 1);
        return h;
}

static State *parse(const char *text) {
        State *s = state_new_empty();

        CHECK(s != NULL);
        if (s && state_parse_text(s, text) < 0) {
                fprintf(stderr, "not a valid state: %s\n", text);
                test_failures++;
                s = state_free(s);
        }
        return s;
}

/* ---- binding records ---- */

/* The decision on one binding record {fields} of the device at bdf. */
static const char *device_decision(const char *bdf, const char *fields) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *text = strdup_printf("{\"version\": 2, \"pfs\": {\"" PF_A "\": {\"generation\": 2}}, "
                                                  "\"devices\": {\"%s\": {%s}}}", bdf, fields);
        _cleanup_(state_freep) State *s = parse(text);

        if (!s || s->n_devices != 1)
                return "(no record)";
        return recovery_action_name(recovery_decide_device(s, 0, h));
}

#define VF1_OF_A "\"pf\": \"" PF_A "\", \"vf_index\": 1, \"generation\": 2"

static void test_device_gone(void) {
        CHECK_STR(device_decision("0000:3b:02.7", "\"pending\": true, " VF1_OF_A), "forget-binding");
        CHECK_STR(device_decision("0000:af:00.0", "\"prior_driver\": \"ixgbe\""), "forget-binding");
}

static void test_device_bridge(void) {
        /* pending or not, with an identity or without: never acted on */
        CHECK_STR(device_decision(BRIDGE, "\"prior_driver\": \"pcieport\", \"pending\": true"), "set-aside");
        CHECK_STR(device_decision(BRIDGE, "\"prior_driver\": \"pcieport\""), "set-aside");
        CHECK_STR(device_decision(BRIDGE, "\"pending\": true, " VF1_OF_A), "set-aside");
}

static void test_device_other_pf(void) {
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"pf\": \"" PF_B "\", \"vf_index\": 1"),
                  "set-aside");
        /* a PF named as a VF (of itself) */
        CHECK_STR(device_decision(PF_A, "\"pending\": true, \"pf\": \"" PF_A "\", \"vf_index\": 0"), "set-aside");
}

static void test_device_other_index(void) {
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"pf\": \"" PF_A "\", \"vf_index\": 5, "
                                  "\"generation\": 2"), "set-aside");
        /* an index unknown on either side is no contradiction */
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"pf\": \"" PF_A "\", \"vf_index\": -1, "
                                  "\"generation\": 2"), "restore-binding");
        CHECK_STR(device_decision("0000:3b:02.3", "\"pending\": true, \"pf\": \"" PF_A "\", \"vf_index\": 3, "
                                  "\"generation\": 2"), "restore-binding");
}

static void test_device_older_generation(void) {
        /* the PF's VFs were re-created since: the record is of another device */
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"pf\": \"" PF_A "\", \"vf_index\": 1, "
                                  "\"generation\": 1"), "forget-binding");
        /* a PF the ledger has no record of is at generation 0 */
        CHECK_STR(device_decision("0000:5e:02.0", "\"pending\": true, \"pf\": \"" PF_B "\", \"vf_index\": 0, "
                                  "\"generation\": 0"), "restore-binding");
}

static void test_device_pending(void) {
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"origin\": \"api\", " VF1_OF_A),
                  "restore-binding");
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"origin\": \"config\", " VF1_OF_A),
                  "settle-binding");
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": true, \"origin\": \"peer\", " VF1_OF_A),
                  "restore-binding");
        /* a function that is no VF has no identity to check */
        CHECK_STR(device_decision(PF_B, "\"prior_driver\": \"i40e\", \"pending\": true"), "restore-binding");
}

static void test_device_settled(void) {
        CHECK_STR(device_decision("0000:3b:02.1", "\"prior_driver\": \"iavf\", " VF1_OF_A), "nothing");
        CHECK_STR(device_decision("0000:3b:02.1", "\"pending\": false, \"origin\": \"config\", " VF1_OF_A),
                  "nothing");
        CHECK_STR(device_decision(PF_B, "\"prior_driver\": \"i40e\""), "nothing");
}

/* ---- PF records ---- */

static const char *pf_decision(const char *bdf, const char *fields) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *text = strdup_printf("{\"version\": 2, \"devices\": {}, \"pfs\": {\"%s\": {%s}}}", bdf,
                                                  fields);
        _cleanup_(state_freep) State *s = parse(text);

        if (!s || s->n_pfs != 1)
                return "(no record)";
        return recovery_action_name(recovery_decide_pf(s, 0, h));
}

#define NUMVFS_PENDING "\"generation\": 3, \"numvfs_pending\": true, \"prior_numvfs\": 4, \"target_numvfs\": 8"

static void test_pf_numvfs_pending(void) {
        CHECK_STR(pf_decision(PF_A, NUMVFS_PENDING), "restore-numvfs");
        CHECK_STR(pf_decision("0000:af:00.0", NUMVFS_PENDING), "forget-binding");
        /* a VF, a bridge at the address: not the PF the change was for */
        CHECK_STR(pf_decision("0000:3b:02.0", NUMVFS_PENDING), "forget-binding");
        CHECK_STR(pf_decision(BRIDGE, NUMVFS_PENDING), "forget-binding");
}

static void test_pf_settled(void) {
        CHECK_STR(pf_decision(PF_A, "\"generation\": 3"), "nothing");
        CHECK_STR(pf_decision(PF_A, "\"generation\": 3, \"numvfs_pending\": false, \"prior_numvfs\": 4"), "nothing");
        CHECK_STR(pf_decision("0000:af:00.0", "\"generation\": 3"), "nothing");
}

/* ---- assignments ---- */

/* The decision on one assignment of the VF at vf, recorded as of pf, {fields}. */
static const char *assignment_decision(const char *vf, const char *pf, const char *fields) {
        _cleanup_(sriov_host_freep) sriov_host *h = make_host();
        _cleanup_free_ char *text = strdup_printf("{\"version\": 2, \"devices\": {}, "
                                                  "\"pfs\": {\"" PF_A "\": {\"generation\": 2}}, "
                                                  "\"assignments\": [{\"guest\": \"vm1\", \"vf\": \"%s\", "
                                                  "\"pf\": \"%s\", %s}]}", vf, pf, fields);
        _cleanup_(state_freep) State *s = parse(text);

        if (!s || s->n_assignments != 1)
                return "(no record)";
        return recovery_action_name(recovery_decide_assignment(s, 0, h));
}

/* VF 1 of PF A, on the driver the guest got, at the PF's generation */
#define INTACT "\"driver\": \"vfio-pci\", \"vf_index\": 1, \"generation\": 2"

static void test_assignment_reserved(void) {
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"reserved\", " INTACT), "drop");
        CHECK_STR(assignment_decision("0000:3b:02.7", PF_A, "\"phase\": \"reserved\", \"vf_index\": 7"), "drop");
}

static void test_assignment_prepared(void) {
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"prepared\", " INTACT), "roll-back");
        /* its VF is gone: nothing left to put back */
        CHECK_STR(assignment_decision("0000:3b:02.7", PF_A, "\"phase\": \"prepared\", \"vf_index\": 7"), "drop");
}

static void test_assignment_releasing(void) {
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"releasing\", " INTACT), "finish-release");
        CHECK_STR(assignment_decision("0000:3b:02.7", PF_A, "\"phase\": \"releasing\", \"vf_index\": 7"),
                  "finish-release");
}

static void test_assignment_done_intact(void) {
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"readiness\": \"ready\", " INTACT),
                  "nothing");
        /* a record from before identities (format 1): no index, generation 0 */
        CHECK_STR(assignment_decision("0000:5e:02.0", PF_B, "\"phase\": \"done\", \"driver\": \"iavf\""), "nothing");
}

static void test_assignment_done_broken(void) {
        /* a broken one stays as it is, whatever became of its VF */
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"readiness\": \"broken\", " INTACT),
                  "nothing");
        CHECK_STR(assignment_decision("0000:3b:02.7", PF_A, "\"phase\": \"done\", \"readiness\": \"broken\", "
                                      "\"driver\": \"vfio-pci\", \"vf_index\": 7, \"generation\": 1"), "nothing");
}

static void test_assignment_done_not_ready(void) {
        /* the VF is gone */
        CHECK_STR(assignment_decision("0000:3b:02.7", PF_A, "\"phase\": \"done\", \"driver\": \"vfio-pci\", "
                                      "\"vf_index\": 7, \"generation\": 2"), "not-ready");
        /* on another driver, on none, or the record names none */
        CHECK_STR(assignment_decision("0000:3b:02.0", PF_A, "\"phase\": \"done\", \"driver\": \"vfio-pci\", "
                                      "\"vf_index\": 0, \"generation\": 2"), "not-ready");
        CHECK_STR(assignment_decision("0000:3b:02.2", PF_A, "\"phase\": \"done\", \"driver\": \"vfio-pci\", "
                                      "\"vf_index\": 2, \"generation\": 2"), "not-ready");
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"vf_index\": 1, \"generation\": 2"),
                  "not-ready");
        /* set up on an older generation of the PF's VFs */
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"driver\": \"vfio-pci\", "
                                      "\"vf_index\": 1, \"generation\": 1"), "not-ready");
        /* intact, but not ready when the daemon stopped: set up again */
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"readiness\": \"not-ready\", "
                                      INTACT), "not-ready");
}

static void test_assignment_not_its_vf(void) {
        /* another PF's VF, another index, a PF or a bridge at the address:
         * whatever the phase, set aside */
        CHECK_STR(assignment_decision("0000:5e:02.0", PF_A, "\"phase\": \"done\", \"driver\": \"iavf\", "
                                      "\"vf_index\": 0, \"generation\": 2"), "set-aside");
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_A, "\"phase\": \"done\", \"driver\": \"vfio-pci\", "
                                      "\"vf_index\": 4, \"generation\": 2"), "set-aside");
        CHECK_STR(assignment_decision(PF_B, PF_A, "\"phase\": \"releasing\""), "set-aside");
        CHECK_STR(assignment_decision(BRIDGE, PF_A, "\"phase\": \"prepared\""), "set-aside");
        CHECK_STR(assignment_decision("0000:3b:02.1", PF_B, "\"phase\": \"reserved\", \"vf_index\": 1"), "set-aside");
        /* a function that is no VF has no PF, not even one at 0000:00:00.0 */
        CHECK_STR(assignment_decision(PF_B, "0000:00:00.0", "\"phase\": \"done\", \"driver\": \"i40e\""), "set-aside");
}

static void test_action_names(void) {
        CHECK_STR(recovery_action_name(RECOVER_NOTHING), "nothing");
        CHECK_STR(recovery_action_name(RECOVER_NOT_READY), "not-ready");
        CHECK_STR(recovery_action_name((RecoveryAction) 99), "?");
}

int main(void) {
        test_device_gone();
        test_device_bridge();
        test_device_other_pf();
        test_device_other_index();
        test_device_older_generation();
        test_device_pending();
        test_device_settled();
        test_pf_numvfs_pending();
        test_pf_settled();
        test_assignment_reserved();
        test_assignment_prepared();
        test_assignment_releasing();
        test_assignment_done_intact();
        test_assignment_done_broken();
        test_assignment_done_not_ready();
        test_assignment_not_its_vf();
        test_action_names();
        TEST_MAIN_END();
}
