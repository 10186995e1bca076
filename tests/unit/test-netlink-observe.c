/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/vfstats.c and lib/linkmon.c with canned rtnetlink messages, laid out
 * as the kernel's rtnl_fill_ifinfo()/rtnl_fill_vfinfo() lay them out (the
 * simulator and the real kernels are in sim-rtnl-watch.sh and the VM's
 * sriovd-observe scenario). */

#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

#include "linkmon.h"
#include "tests.h"
#include "vfstats.h"

typedef struct Msg {
        uint8_t b[4096];
        size_t len;
} Msg;

static size_t put(Msg *m, uint16_t type, const void *data, size_t len) {
        struct nlattr a = { .nla_len = (uint16_t) (NLA_HDRLEN + len), .nla_type = type };
        size_t off = m->len;

        memcpy(m->b + off, &a, sizeof(a));
        if (len)
                memcpy(m->b + off + NLA_HDRLEN, data, len);
        m->len += NLA_ALIGN(NLA_HDRLEN + len);
        return off;
}

static void nest_end(Msg *m, size_t off) {
        uint16_t len = (uint16_t) (m->len - off);

        memcpy(m->b + off, &len, sizeof(len));
}

static void begin(Msg *m, uint16_t type, int ifindex, unsigned flags) {
        struct nlmsghdr h = { .nlmsg_type = type };
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_type = ARPHRD_ETHER, .ifi_index = ifindex,
                                 .ifi_flags = flags };

        memset(m, 0, sizeof(*m));
        memcpy(m->b, &h, sizeof(h));
        memcpy(m->b + NLMSG_HDRLEN, &ifi, sizeof(ifi));
        m->len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(ifi)));
}

static void end(Msg *m) {
        uint32_t len = (uint32_t) m->len;

        memcpy(m->b, &len, sizeof(len));
}

/* one IFLA_VF_INFO: MAC first (the VF number), then the stats nest with
 * counters base+0 .. base+7 (all eight, or only the first six: before 4.20) */
static void vf_info(Msg *m, uint32_t vf, uint64_t base, unsigned n_counters, bool with_stats) {
        struct ifla_vf_mac mac = { .vf = vf };
        struct ifla_vf_spoofchk sp = { .vf = vf, .setting = 1 };
        size_t info = put(m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0), st;
        static const uint16_t types[] = {
                IFLA_VF_STATS_RX_PACKETS, IFLA_VF_STATS_TX_PACKETS, IFLA_VF_STATS_RX_BYTES, IFLA_VF_STATS_TX_BYTES,
                IFLA_VF_STATS_BROADCAST,  IFLA_VF_STATS_MULTICAST,  IFLA_VF_STATS_RX_DROPPED, IFLA_VF_STATS_TX_DROPPED,
        };

        put(m, IFLA_VF_MAC, &mac, sizeof(mac));
        put(m, IFLA_VF_SPOOFCHK, &sp, sizeof(sp));
        if (with_stats) {
                st = put(m, IFLA_VF_STATS | NLA_F_NESTED, NULL, 0);
                for (unsigned i = 0; i < n_counters; i++) {
                        uint64_t v = base ? base + i : 0;       /* base 0: all zeros */

                        if (i == 6) /* the kernel's IFLA_VF_STATS_PAD sits here on some arches */
                                put(m, IFLA_VF_STATS_PAD, NULL, 0);
                        put(m, types[i], &v, sizeof(v));
                }
                nest_end(m, st);
        }
        nest_end(m, info);
}

static void test_stats(void) {
        sriov_link_stats s;
        uint32_t num = 3;
        const char *why;
        size_t list;
        Msg m;

        begin(&m, RTM_NEWLINK, 7, 0);
        put(&m, IFLA_IFNAME, "ens1f0", 7);
        put(&m, IFLA_NUM_VF, &num, 4);
        list = put(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        vf_info(&m, 0, 100, 8, true);
        vf_info(&m, 1, 0, 8, true);         /* zeros */
        vf_info(&m, 2, 0, 0, false);        /* no nest (RTEXT_FILTER_SKIP_STATS) */
        nest_end(&m, list);
        end(&m);
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), 0);
        CHECK_INT(s.ifindex, 7);
        CHECK_INT(s.num_vf, 3);
        CHECK(s.has_vfinfo);
        CHECK_INT(s.n_vfs, 3);
        CHECK_INT(s.vfs[0].vf, 0);
        CHECK_INT(s.vfs[0].mask, 0xff);
        CHECK_INT(s.vfs[0].v[VF_STAT_RX_PACKETS], 100);
        CHECK_INT(s.vfs[0].v[VF_STAT_TX_BYTES], 103);
        CHECK_INT(s.vfs[0].v[VF_STAT_TX_DROPPED], 107);
        /* counters from a driver that does not count: only non-zero ones are believed */
        CHECK(vf_stats_reported(&s.vfs[0], "igb", &why));
        CHECK(!vf_stats_reported(&s.vfs[1], "igb", &why));
        CHECK_STR(why, "the PF driver does not count VF traffic (the kernel sends zeros)");
        CHECK(vf_stats_reported(&s.vfs[1], "mlx5_core", &why));
        CHECK(!vf_stats_reported(&s.vfs[2], "mlx5_core", &why));
        CHECK_STR(why, "the kernel sent no VF statistics");
        CHECK_INT(s.vfs[2].mask, 0);
        sriov_link_stats_done(&s);

        /* before Linux 4.20: six counters */
        begin(&m, RTM_NEWLINK, 7, 0);
        list = put(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        vf_info(&m, 4, 1, 6, true);
        nest_end(&m, list);
        end(&m);
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), 0);
        CHECK_INT(s.vfs[0].mask, 0x3f);
        CHECK_INT(s.vfs[0].v[VF_STAT_MULTICAST], 6);
        sriov_link_stats_done(&s);
}

static void test_stats_malformed(void) {
        sriov_link_stats s;
        uint32_t short_counter = 5;
        size_t list, info, st;
        Msg m;

        /* the same VF twice */
        begin(&m, RTM_NEWLINK, 7, 0);
        list = put(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        vf_info(&m, 1, 0, 8, true);
        vf_info(&m, 1, 0, 8, true);
        nest_end(&m, list);
        end(&m);
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), -EBADMSG);

        /* a counter shorter than 64 bits */
        begin(&m, RTM_NEWLINK, 7, 0);
        list = put(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        info = put(&m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0);
        put(&m, IFLA_VF_MAC, &(struct ifla_vf_mac) { .vf = 0 }, sizeof(struct ifla_vf_mac));
        st = put(&m, IFLA_VF_STATS | NLA_F_NESTED, NULL, 0);
        put(&m, IFLA_VF_STATS_RX_BYTES, &short_counter, sizeof(short_counter));
        nest_end(&m, st);
        nest_end(&m, info);
        nest_end(&m, list);
        end(&m);
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), -EBADMSG);

        /* an IFLA_VF_INFO without a VF number */
        begin(&m, RTM_NEWLINK, 7, 0);
        list = put(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        info = put(&m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0);
        nest_end(&m, info);
        nest_end(&m, list);
        end(&m);
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), -EBADMSG);

        /* cut short, and not a link message */
        CHECK_INT(vf_stats_msg_parse(m.b, 10, &s), -EBADMSG);
        ((struct nlmsghdr *) m.b)->nlmsg_type = RTM_NEWADDR;
        CHECK_INT(vf_stats_msg_parse(m.b, m.len, &s), -EBADMSG);
}

static void test_link_info(void) {
        sriov_link_info l;
        uint8_t carrier = 0, oper = IF_OPER_DOWN;
        Msg m;

        /* a notification: up, without a carrier (no VF information) */
        begin(&m, RTM_NEWLINK, 9, IFF_UP | IFF_BROADCAST);
        put(&m, IFLA_IFNAME, "enp2s0f0", 9);
        put(&m, IFLA_OPERSTATE, &oper, 1);
        put(&m, IFLA_CARRIER, &carrier, 1);
        end(&m);
        CHECK_INT(sriov_link_info_parse(m.b, m.len, &l), 0);
        CHECK_INT(l.ifindex, 9);
        CHECK_STR(l.ifname, "enp2s0f0");
        CHECK(l.flags & IFF_UP);
        CHECK_INT(l.carrier, 0);
        CHECK_STR(sriov_operstate_name(l.operstate), "down");
        CHECK_STR(sriov_link_type_name(l.type), "ethernet");
        CHECK(!l.deleted);

        /* gone; an old kernel without IFLA_CARRIER */
        begin(&m, RTM_DELLINK, 9, 0);
        put(&m, IFLA_IFNAME, "enp2s0f0", 9);
        end(&m);
        CHECK_INT(sriov_link_info_parse(m.b, m.len, &l), 0);
        CHECK(l.deleted);
        CHECK_INT(l.carrier, -1);
        CHECK_INT(l.operstate, -1);
        CHECK_STR(sriov_operstate_name(l.operstate), "unknown");

        /* an interface name without its NUL, at the attribute's end */
        begin(&m, RTM_NEWLINK, 9, 0);
        put(&m, IFLA_IFNAME, "ib0", 3);
        ((struct ifinfomsg *) (m.b + NLMSG_HDRLEN))->ifi_type = ARPHRD_INFINIBAND;
        end(&m);
        CHECK_INT(sriov_link_info_parse(m.b, m.len, &l), 0);
        CHECK_STR(l.ifname, "ib0");
        CHECK_STR(sriov_link_type_name(l.type), "infiniband");

        /* an attribute longer than the message; no index */
        begin(&m, RTM_NEWLINK, 9, 0);
        put(&m, IFLA_IFNAME, "x", 2);
        end(&m);
        CHECK_INT(sriov_link_info_parse(m.b, m.len - 4, &l), -EBADMSG);
        begin(&m, RTM_NEWLINK, 0, 0);
        end(&m);
        CHECK_INT(sriov_link_info_parse(m.b, m.len, &l), -EBADMSG);
}

int main(void) {
        test_stats();
        test_stats_malformed();
        test_link_info();
        for (unsigned i = 0; i < _VF_STAT_MAX; i++)
                CHECK(vf_stat_name(i) != NULL);
        CHECK(vf_stat_name(_VF_STAT_MAX) == NULL);
        TEST_MAIN_END();
}
