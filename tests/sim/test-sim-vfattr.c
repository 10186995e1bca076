/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/vfattr.c, unmodified, against sriov-sim's rtnetlink emulation: run by
 * sim-rtnl-vfattr.sh with LD_PRELOAD=libsim-rtnl.so, SRIOV_SIM_RTNL and
 * SIM_MNT set, on its topology (an i40e PF ens1f0, an igb 82576 PF
 * enp2s0f0, a 4.14-era igb PF enp3s0f0 that refuses a zero MAC; 4 VFs
 * each). Checks read-back, rollback when a later attribute fails, the
 * zero-MAC fallback, the PF-down refusal and bring-up, and many threads
 * at once (the daemon's lanes). */

#include <json-c/json.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>

#include "tests.h"
#include "util.h"
#include "vfattr.h"

static const char *mnt;

static int ctl(const char *fmt, ...) _printf_(1, 2);
static int ctl(const char *fmt, ...) {
        _cleanup_free_ char *path = strdup_printf("%s/.sim/ctl", mnt), *cmd = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (r < 0 || !path)
                return -ENOMEM;
        r = write_string_file(path, cmd);
        if (r < 0)
                fprintf(stderr, "ctl \"%s\": %s\n", cmd, strerror(-r));
        return r;
}

static char *sysfs_read(const char *fmt, ...) _printf_(1, 2);
static char *sysfs_read(const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        char *v = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&rel, fmt, ap) < 0)
                rel = NULL;
        va_end(ap);
        path = rel ? strdup_printf("%s/%s", mnt, rel) : NULL;
        if (!path || read_one_line_file(path, &v) < 0)
                return NULL;
        return v;
}

/* the simulator's view: .sim/state, device BDF, key */
static json_object *state;

static void state_load(void) {
        _cleanup_free_ char *path = strdup_printf("%s/.sim/state", mnt), *text = NULL;
        size_t size;

        json_object_put(state);
        state = NULL;
        if (path && read_full_file(path, &text, &size, 64 * 1024 * 1024) >= 0)
                state = json_tokener_parse(text);
        CHECK(state);
}

static json_object *state_dev(const char *bdf) {
        json_object *devs;

        if (!state || !json_object_object_get_ex(state, "devices", &devs))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(devs); i++) {
                json_object *d = json_object_array_get_idx(devs, i), *b;

                if (json_object_object_get_ex(d, "bdf", &b) && streq(json_object_get_string(b), bdf))
                        return d;
        }
        return NULL;
}

static bool netdev_up(const char *bdf) {
        json_object *d = state_dev(bdf), *nds, *up;

        if (!d || !json_object_object_get_ex(d, "netdevs", &nds) || json_object_array_length(nds) < 1 ||
            !json_object_object_get_ex(json_object_array_get_idx(nds, 0), "up", &up))
                return false;
        return json_object_get_boolean(up);
}

static const sriov_vf_config *vf_of(const sriov_link *l, uint32_t vf) {
        for (size_t i = 0; i < l->n_vfs; i++)
                if (l->vfs[i].vf == vf)
                        return &l->vfs[i];
        return NULL;
}

static void mac_parse_or_die(const char *s, uint8_t m[6]) {
        if (vf_mac_parse(s, m) < 0) {
                fprintf(stderr, "bad MAC %s\n", s);
                exit(EXIT_FAILURE);
        }
}

/* ---- reading a PF ---- */

static void test_link_get(void) {
        _cleanup_free_ char *idx = sysfs_read("class/net/ens1f0/ifindex"), *vmac = sysfs_read("class/net/ens1f0v0/address");
        sriov_link l = {};
        sriov_error err = {};
        const sriov_vf_config *v;
        uint8_t m[6];
        char b[18];

        CHECK_INT(sriov_link_get("ens1f0", &l, &err), 0);
        CHECK(idx && l.ifindex == atoi(idx));
        CHECK_INT(l.num_vf, 4);
        CHECK_INT(l.n_vfs, 4);
        v = vf_of(&l, 0);
        CHECK(v);
        if (v) {
                /* i40e: spoof checking on, trust off, link auto; no query_rss (reported as -1) */
                CHECK_INT(v->mask, VF_ATTR_ALL & ~VF_ATTR_QUERY_RSS);
                CHECK(v->spoofchk);
                CHECK(!v->trust);
                CHECK_INT(v->link_state, VF_LINK_STATE_AUTO);
                CHECK_INT(v->vlan, 0);
                CHECK_INT(v->vlan_proto, VF_VLAN_PROTO_8021Q);
                /* no administrative MAC: i40e reports the one iavf uses */
                CHECK(vmac);
                if (vmac) {
                        mac_parse_or_die(vmac, m);
                        CHECK_STR(vf_mac_format(v->mac, b), vmac);
                }
        }
        sriov_link_done(&l);

        /* errors as the kernel gives them */
        CHECK_INT(sriov_link_get("nosuch0", &l, &err), -ENODEV);
        CHECK_INT(sriov_link_get("ens1f0/x", &l, &err), -EINVAL);
}

/* ---- setting, read-back, the VF's net device follows (i40e resets the VF) ---- */

static void test_set_readback(void) {
        sriov_vf_config want = { .vf = 1, .mask = VF_ATTR_ALL & ~VF_ATTR_QUERY_RSS }, after = {};
        _cleanup_free_ char *vmac = NULL;
        sriov_error err = {};
        unsigned ignored = 99;
        bool zf = true;
        char b[18];

        CHECK_INT(ctl("netdev ens1f0 up"), 0);
        mac_parse_or_die("52:54:00:aa:bb:01", want.mac);
        want.vlan = 100;
        want.qos = 2;
        want.vlan_proto = VF_VLAN_PROTO_8021Q;
        want.max_tx_rate = 1000;
        want.spoofchk = false;
        want.trust = true;
        want.link_state = VF_LINK_STATE_ENABLE;
        CHECK_INT(sriov_vf_set("ens1f0", &want, 0, &after, &ignored, &zf, &err), 0);
        CHECK_INT(ignored, 0);
        CHECK(!zf);
        CHECK_STR(vf_mac_format(after.mac, b), "52:54:00:aa:bb:01");
        CHECK_INT(after.vlan, 100);
        CHECK_INT(after.qos, 2);
        CHECK_INT(after.max_tx_rate, 1000);
        CHECK_INT(after.min_tx_rate, 0);
        CHECK(!after.spoofchk);
        CHECK(after.trust);
        CHECK_INT(after.link_state, VF_LINK_STATE_ENABLE);
        CHECK_INT(vf_config_diff(&want, &after), 0);
        vmac = sysfs_read("class/net/ens1f0v1/address");
        CHECK_STR(vmac, "52:54:00:aa:bb:01");

        /* nothing to do: no request at all */
        CHECK_INT(sriov_vf_set("ens1f0", &want, 0, &after, &ignored, &zf, &err), 0);
        CHECK_INT(ignored, 0);
}

/* ---- a later attribute fails: the earlier ones are put back ---- */

static void test_rollback(void) {
        sriov_link before = {}, now = {};
        sriov_vf_config want = {}, old;
        sriov_error err = {};
        const sriov_vf_config *v;
        char b1[18], b2[18];

        /* the kernel refuses the VLAN (802.1ad on i40e): the MAC set just
         * before goes back to the administrative one VF 1 had */
        CHECK_INT(sriov_link_get("ens1f0", &before, &err), 0);
        v = vf_of(&before, 1);
        CHECK(v);
        if (!v)
                return;
        old = *v;
        want = (sriov_vf_config) { .vf = 1, .mask = VF_ATTR_MAC | VF_ATTR_VLAN, .vlan = 5,
                                   .vlan_proto = VF_VLAN_PROTO_8021AD };
        mac_parse_or_die("52:54:00:aa:bb:99", want.mac);
        CHECK_INT(sriov_vf_set("ens1f0", &want, 0, NULL, NULL, NULL, &err), -EPROTONOSUPPORT);
        CHECK(strstr(err.message, "vlan"));
        CHECK_INT(sriov_link_get("ens1f0", &now, &err), 0);
        v = vf_of(&now, 1);
        CHECK(v);
        if (v) {
                CHECK_STR(vf_mac_format(v->mac, b1), vf_mac_format(old.mac, b2));
                CHECK_INT(v->vlan, old.vlan);
                CHECK_INT(v->qos, old.qos);
        }
        sriov_link_done(&now);
        sriov_link_done(&before);

        /* an injected driver failure on trust, the fifth of five: rate,
         * VLAN and MAC go back, newest first */
        CHECK_INT(sriov_link_get("ens1f0", &before, &err), 0);
        v = vf_of(&before, 2);
        CHECK(v);
        if (!v)
                return;
        old = *v;
        CHECK_INT(ctl("fail vf_set ens1f0/trust EIO"), 0);
        want = (sriov_vf_config) { .vf = 2, .mask = VF_ATTR_MAC | VF_ATTR_VLAN | VF_ATTR_RATE | VF_ATTR_SPOOFCHK |
                                   VF_ATTR_TRUST, .vlan = 7, .qos = 1, .vlan_proto = VF_VLAN_PROTO_8021Q,
                                   .max_tx_rate = 2500, .spoofchk = true, .trust = true };
        mac_parse_or_die("52:54:00:aa:bb:02", want.mac);
        CHECK_INT(sriov_vf_set("ens1f0", &want, 0, NULL, NULL, NULL, &err), -EIO);
        CHECK(strstr(err.message, "trust"));
        CHECK_INT(sriov_link_get("ens1f0", &now, &err), 0);
        v = vf_of(&now, 2);
        CHECK(v);
        if (v) {
                CHECK_STR(vf_mac_format(v->mac, b1), vf_mac_format(old.mac, b2));
                CHECK_INT(v->vlan, old.vlan);
                CHECK_INT(v->qos, old.qos);
                CHECK_INT(v->max_tx_rate, old.max_tx_rate);
                CHECK_INT(v->spoofchk, old.spoofchk);   /* unchanged: it was on already */
                CHECK_INT(v->trust, old.trust);
        }
        sriov_link_done(&now);
        sriov_link_done(&before);
        /* the rule is used up */
        CHECK_INT(ctl("clear vf_set"), 0);
}

/* ---- a zero MAC ---- */

static void test_zero_mac(void) {
        sriov_vf_config want = { .vf = 0, .mask = VF_ATTR_MAC }, after = {};
        sriov_error err = {};
        unsigned ignored = 99;
        bool zf = true;
        char b[18];

        CHECK_INT(ctl("netdev enp2s0f0 up"), 0);
        CHECK_INT(ctl("netdev enp3s0f0 up"), 0);
        /* igb since 4.18: zero drops the administrative MAC */
        mac_parse_or_die("52:54:00:cc:00:01", want.mac);
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, &zf, &err), 0);
        CHECK_STR(vf_mac_format(after.mac, b), "52:54:00:cc:00:01");
        memset(want.mac, 0, 6);
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, &zf, &err), 0);
        CHECK(!zf);
        CHECK_INT(ignored, 0);
        CHECK_STR(vf_mac_format(after.mac, b), "00:00:00:00:00:00");

        /* igb before 4.18 refuses 00:00:00:00:00:00 (EINVAL): the library
         * writes 02:00:00:00:00:00 instead and says so */
        mac_parse_or_die("52:54:00:cc:00:02", want.mac);
        CHECK_INT(sriov_vf_set("enp3s0f0", &want, 0, &after, &ignored, &zf, &err), 0);
        memset(want.mac, 0, 6);
        CHECK_INT(sriov_vf_set("enp3s0f0", &want, 0, &after, &ignored, &zf, &err), 0);
        CHECK(zf);
        CHECK_STR(vf_mac_format(after.mac, b), "02:00:00:00:00:00");
}

/* ---- the PF is down ---- */

static void test_pf_down(void) {
        sriov_vf_config want = { .vf = 1, .mask = VF_ATTR_RATE, .max_tx_rate = 500 }, after = {};
        _cleanup_free_ char *oper = NULL;
        sriov_error err = {};
        unsigned ignored = 99;

        CHECK_INT(ctl("netdev enp2s0f0 down"), 0);
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, NULL, &err), -ENETDOWN);
        state_load();
        CHECK(!netdev_up("0000:02:00.0"));
        /* allowed to bring it up: RTM_NEWLINK IFF_UP, then igb takes the
         * rate (it refuses rates while the link is down) */
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, SRIOV_VF_BRING_PF_UP, &after, &ignored, NULL, &err), 0);
        CHECK_INT(after.max_tx_rate, 500);
        CHECK_INT(ignored, 0);
        state_load();
        CHECK(netdev_up("0000:02:00.0"));
        oper = sysfs_read("class/net/enp2s0f0/operstate");
        CHECK_STR(oper, "up");
        /* igb: max only */
        want.min_tx_rate = 100;
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, NULL, &err), -EINVAL);
        /* link state: igb has no ndo_set_vf_link_state */
        want = (sriov_vf_config) { .vf = 1, .mask = VF_ATTR_LINK_STATE, .link_state = VF_LINK_STATE_DISABLE };
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, NULL, &err), -EPROTONOSUPPORT);  /* the kernel says EOPNOTSUPP */
        /* no such VF */
        want = (sriov_vf_config) { .vf = 6, .mask = VF_ATTR_TRUST, .trust = true };
        CHECK_INT(sriov_vf_set("enp2s0f0", &want, 0, &after, &ignored, NULL, &err), -ERANGE);
}

/* ---- threads: every lane of the daemon talks rtnetlink at once ---- */

#define N_THREADS 8
#define N_ROUNDS 25

static unsigned thread_failures;

static void *thread_main(void *arg) {
        unsigned id = (unsigned) (uintptr_t) arg;

        for (unsigned i = 0; i < N_ROUNDS; i++) {
                sriov_vf_config want = { .vf = id % 4, .mask = VF_ATTR_SPOOFCHK | VF_ATTR_TRUST }, after = {};
                sriov_error err = {};
                sriov_link l = {};
                unsigned ignored = 0;

                want.spoofchk = (i + id) % 2;
                want.trust = (i + id) % 3 == 0;
                if (sriov_link_get("ens1f0", &l, &err) < 0 || l.n_vfs != 4)
                        __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
                sriov_link_done(&l);
                /* two threads share each VF: a lost race shows up as
                 * "ignored", never as an error */
                if (sriov_vf_set("ens1f0", &want, 0, &after, &ignored, NULL, &err) < 0) {
                        fprintf(stderr, "thread %u: %s\n", id, err.message);
                        __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
                }
                if (if_nametoindex("ens1f0") == 0)
                        __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
        }
        return NULL;
}

static void test_threads(void) {
        pthread_t t[N_THREADS];

        for (unsigned i = 0; i < N_THREADS; i++)
                CHECK_INT(pthread_create(&t[i], NULL, thread_main, (void *) (uintptr_t) i), 0);
        for (unsigned i = 0; i < N_THREADS; i++)
                pthread_join(t[i], NULL);
        CHECK_INT(thread_failures, 0);
}

int main(void) {
        mnt = getenv("SIM_MNT");
        if (!mnt || !getenv("SRIOV_SIM_RTNL") || !getenv("LD_PRELOAD")) {
                fprintf(stderr, "run by sim-rtnl-vfattr.sh (SIM_MNT, SRIOV_SIM_RTNL, LD_PRELOAD)\n");
                return 77;
        }
        test_link_get();
        test_set_readback();
        test_rollback();
        test_zero_mac();
        test_pf_down();
        test_threads();
        json_object_put(state);
        return test_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
