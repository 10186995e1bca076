/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger's file, without a daemon: a state written by sriovd 0.1 (format
 * 1, committed in data/state-v1.json) loads; format 2 round-trips field by
 * field; what is not a valid state, a regular file or a safe directory is
 * refused or set aside. */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "state.h"
#include "tests.h"
#include "util.h"

static char *fixture(const char *name) {
        const char *top = getenv("top_srcdir");

        return strdup_printf("%s/tests/unit/data/%s", top ?: "../..", name);
}

static State *parse_file(const char *name) {
        _cleanup_free_ char *path = fixture(name), *text = NULL;
        State *s = state_new_empty();

        CHECK_INT(read_regular_file(path, false, STATE_SIZE_MAX, &text, NULL), 0);
        CHECK_INT(state_parse_text(s, text), 0);
        return s;
}

/* what sriovd 0.1 wrote (tests/unit/data/state-v1.json) */
static void test_v1(void) {
        _cleanup_(state_freep) State *s = parse_file("state-v1.json");
        const StateAssignment *a;

        CHECK_INT(s->n_devices, 1);
        CHECK_STR(s->devices[0].bdf, "0000:3b:02.0");
        CHECK_STR(s->devices[0].prior_driver, "iavf");
        CHECK_INT(s->devices[0].origin, ORIGIN_API);
        CHECK_INT(s->devices[0].vf_index, -1);
        CHECK_INT(s->n_assignments, 2);
        a = state_find_assignment_by_vf(s, "0000:3b:02.1");
        CHECK(a != NULL);
        if (a) {
                CHECK_STR(a->guest, "vm1");
                CHECK_STR(a->owner, "local");           /* format 1 had no lease holder */
                CHECK_STR(a->pool, "vms");
                CHECK_STR(a->token, "t1");
                CHECK_INT(a->phase, ASSIGN_DONE);
                CHECK_INT(a->readiness, READY);
                CHECK(a->set_owner);                    /* format 1's "owner": the node owner */
                CHECK_INT(a->uid, 107);
                CHECK_INT(a->want.mask, VF_ATTR_MAC | VF_ATTR_VLAN);
                CHECK_INT(a->want.vlan, 42);
                CHECK_INT(a->prior.mask, VF_ATTR_MAC | VF_ATTR_VLAN);
                CHECK_STR(a->prior_driver, "iavf");
                CHECK_STR(a->pf_ifname, "ens1f0");
                CHECK_INT(a->vf_index, -1);
        }
        a = state_find_assignment_by_vf(s, "0000:3b:02.2");
        CHECK(a && !a->set_owner && !a->pool && a->want.mask == VF_ATTR_SPOOFCHK && !a->want.spoofchk);
        CHECK_INT(s->n_pools, 1);
        CHECK_STR(s->pools[0].name, "vms");
        CHECK(s->pools[0].mac_is_base);
        CHECK_INT(s->n_nodes, 1);
        CHECK_INT(s->nodes[0].mode, 0644);
        CHECK_STR(s->nodes[0].for_bdf, "0000:3b:02.0");
}

static void fill(State *s) {
        StateAssignment *a;
        StatePF *p;

        CHECK_INT(state_record_prior(s, "0000:3b:02.3", "iavf", "vfio-pci"), 1);
        s->devices[0].origin = ORIGIN_CONFIG;
        s->devices[0].pending = true;
        snprintf(s->devices[0].pf, sizeof(s->devices[0].pf), "0000:3b:00.0");
        s->devices[0].vf_index = 3;
        s->devices[0].generation = 7;
        p = state_find_pf(s, "0000:3b:00.0", true);
        *p = (StatePF) { .bdf = "0000:3b:00.0", .generation = 7, .numvfs_pending = true, .prior_numvfs = 2,
                         .prior_autoprobe = 1, .target_numvfs = 8 };
        a = state_add_assignment(s);
        snprintf(a->guest, sizeof(a->guest), "pod-1");
        snprintf(a->owner, sizeof(a->owner), "kubernetes");
        snprintf(a->vf, sizeof(a->vf), "0000:3b:02.1");
        snprintf(a->pf, sizeof(a->pf), "0000:3b:00.0");
        a->vf_index = 1;
        a->generation = 7;
        a->pf_numvfs = 8;
        a->phase = ASSIGN_DONE;
        CHECK(state_assignment_set_readiness(a, NOT_READY, "the VF is gone (PF reset)"));
        CHECK(!state_assignment_set_readiness(a, NOT_READY, "the VF is gone (PF reset)"));
        a->driver = strdup("vfio-pci");
        a->reset = RESET_ALWAYS;
        a->pf_link_was_down = true;
        a->set_owner = true;
        a->uid = 1000;
        a->gid = 1001;
        a->want = (sriov_vf_config) { .mask = VF_ATTR_VLAN, .vlan = 100, .qos = 3, .vlan_proto = VF_VLAN_PROTO_8021AD };
        CHECK_INT(state_add_quarantine(s, "0000:3b:02.5", "0000:3b:00.0", 5, 7, "FLR failed: Input/output error"), 1);
        CHECK_INT(state_record_node(s, "/dev/vfio/12", 0, 0, 0600, "0000:3b:02.1"), 1);
}

static void test_round_trip(void) {
        _cleanup_(state_freep) State *s = state_new_empty(), *t = state_new_empty();
        _cleanup_free_ char *text = NULL, *again = NULL;
        const StateAssignment *a;

        fill(s);
        CHECK_INT(state_format(s, &text), 0);
        CHECK_INT(state_parse_text(t, text), 0);
        CHECK_INT(state_format(t, &again), 0);
        CHECK_STR(again, text);
        CHECK_INT(t->devices[0].origin, ORIGIN_CONFIG);
        CHECK(t->devices[0].pending);
        CHECK_INT(t->devices[0].generation, 7);
        CHECK_INT(t->pfs[0].target_numvfs, 8);
        CHECK_INT(t->pfs[0].prior_autoprobe, 1);
        a = &t->assignments[0];
        CHECK_STR(a->owner, "kubernetes");
        CHECK_INT(a->readiness, NOT_READY);
        CHECK_STR(a->reason, "the VF is gone (PF reset)");
        CHECK_INT(a->reset, RESET_ALWAYS);
        CHECK(a->pf_link_was_down);
        CHECK_INT(a->want.vlan_proto, VF_VLAN_PROTO_8021AD);
        CHECK_INT(a->gid, 1001);
        CHECK_STR(t->quarantine[0].reason, "FLR failed: Input/output error");
}

static void test_refused(void) {
        static const char *const bad[] = {
                "",
                "[]",
                "{\"version\": 3, \"devices\": {}}",
                "{\"version\": 2}",
                "{\"version\": 2, \"devices\": {\"3a:00.0x\": {}}}",
                /* a NUL inside a name cuts it: never taken */
                "{\"version\": 2, \"devices\": {\"0000:3b:02.0\": {\"prior_driver\": \"vfio-pci\\u0000/../x\"}}}",
                "{\"version\": 2, \"devices\": {}, \"assignments\": [{\"guest\": \"a\", \"vf\": \"0000:3b:02.0\", "
                        "\"pf\": \"0000:3b:00.0\", \"phase\": \"done\"}, {\"guest\": \"b\", \"vf\": \"0000:3b:02.0\", "
                        "\"pf\": \"0000:3b:00.0\", \"phase\": \"done\"}]}",   /* two guests, one VF */
                "{\"version\": 2, \"devices\": {}, \"assignments\": [{\"guest\": \"a\", \"vf\": \"0000:3b:02.0\", "
                        "\"pf\": \"0000:3b:00.0\", \"phase\": \"gone\"}]}",
                "{\"version\": 2, \"devices\": {}, \"nodes\": {\"relative\": {\"uid\": 0, \"gid\": 0, \"mode\": 420, "
                        "\"for\": \"0000:3b:02.0\"}}}",
                "{\"version\": 2, \"devices\": {}, \"pfs\": {\"0000:3b:00.0\": {\"generation\": -1}}}",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_(state_freep) State *s = state_new_empty();

                if (state_parse_text(s, bad[i]) != -EBADMSG) {
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                        test_failures++;
                }
        }
}

/* the state directory and its file as the daemon finds them */
static void test_files(void) {
        char dir[] = "/tmp/test-state.XXXXXX";
        _cleanup_free_ char *sub = NULL, *file = NULL;
        _cleanup_free_ char *reason = NULL;
        State *s = NULL;

        CHECK(mkdtemp(dir) != NULL);
        sub = strdup_printf("%s/a/b/state", dir);
        file = strdup_printf("%s/state.json", sub);

        /* made when missing, parents too, 0700 */
        CHECK_INT(state_load(sub, &s, &reason), 0);
        CHECK(s && s->n_assignments == 0);
        s = state_free(s);
        {
                struct stat st;

                CHECK_INT(stat(sub, &st), 0);
                CHECK_INT(st.st_mode & 07777, 0700);
        }
        /* writable by others: refused, with why */
        CHECK_INT(chmod(sub, 0777), 0);
        CHECK_INT(state_load(sub, &s, &reason), -EPERM);
        CHECK(reason && strstr(reason, "writable by everyone"));
        reason = mfree(reason);
        CHECK_INT(chmod(sub, 0700), 0);

        /* a FIFO where the file should be: set aside, never a hang */
        CHECK_INT(mkfifo(file, 0600), 0);
        CHECK_INT(state_load(sub, &s, &reason), 0);
        CHECK(s && s->corrupt_saved_as && s->corrupt_reason && strstr(s->corrupt_reason, "FIFO"));
        s = state_free(s);
        /* a directory in its place, too */
        CHECK_INT(mkdir(file, 0700), 0);
        CHECK_INT(state_load(sub, &s, &reason), 0);
        CHECK(s && s->corrupt_saved_as && strstr(s->corrupt_reason, "directory"));
        s = state_free(s);
        /* what it saves, it loads */
        CHECK_INT(state_load(sub, &s, &reason), 0);
        fill(s);
        CHECK_INT(state_save(s), 0);
        s = state_free(s);
        CHECK_INT(state_load(sub, &s, &reason), 0);
        CHECK(s && !s->corrupt_saved_as && s->n_assignments == 1 && s->n_quarantine == 1);
        s = state_free(s);
        {
                _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", dir);

                CHECK_INT(system(cmd), 0);
        }
}

/* A ledger of 100k assignments: one guest per VF is checked over all of
 * them (a duplicate at the very end is found) in n log n — with a pairwise
 * check this test would take minutes. */
static char *many_assignments(size_t n, bool duplicate) {
        size_t size = 64 + n * 256, len;
        char *text = malloc(size);

        if (!text)
                return NULL;
        len = (size_t) snprintf(text, size, "{\"version\": 2, \"devices\": {}, \"assignments\": [");
        for (size_t i = 0; i < n; i++) {
                size_t vf = duplicate && i == n - 1 ? 0 : i;

                len += (size_t) snprintf(text + len, size - len,
                                         "%s{\"guest\": \"g%zu\", \"owner\": \"local\", \"vf\": \"%04zx:%02zx:%02zx.%zu\", "
                                         "\"phase\": \"done\", \"readiness\": \"ready\", \"driver\": \"vfio-pci\", "
                                         "\"pf\": \"0000:3b:00.0\", \"vf_index\": 0, \"generation\": 1}",
                                         i ? "," : "", i, vf >> 16, (vf >> 8) & 0xff, (vf >> 3) & 0x1f, vf & 7);
        }
        (void) snprintf(text + len, size - len, "]}");
        return text;
}

static void test_many(void) {
        for (int duplicate = 0; duplicate <= 1; duplicate++) {
                _cleanup_(state_freep) State *s = state_new_empty();
                _cleanup_free_ char *text = many_assignments(100000, duplicate);

                CHECK(text != NULL);
                if (!text)
                        return;
                CHECK_INT(state_parse_text(s, text), duplicate ? -EBADMSG : 0);
                if (!duplicate)
                        CHECK_INT(s->n_assignments, 100000);
        }
}

int main(void) {
        test_v1();
        test_round_trip();
        test_refused();
        test_files();
        test_many();
        TEST_MAIN_END();
}
