/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sriov-sim --rtnl SOCKET: NETLINK_ROUTE as the kernel answers it, for the
 * simulated net devices, to processes that run with libsim-rtnl.so
 * (protocol: sim-rtnl-proto.h). Modelled on Linux 6.1:
 *   net/netlink/af_netlink.c  netlink_rcv_skb, netlink_ack, netlink_dump,
 *                             netlink_dump_done, netlink_autobind
 *   net/core/rtnetlink.c      rtnetlink_rcv_msg, rtnl_getlink,
 *                             rtnl_valid_getlink_req, rtnl_dump_ifinfo,
 *                             rtnl_valid_dump_ifinfo_req, rtnl_fill_ifinfo,
 *                             rtnl_fill_vf, rtnl_fill_vfinfo, rtnl_setlink,
 *                             __rtnl_newlink, do_setlink, do_setvfinfo,
 *                             rtnl_set_vf_rate, ifla_policy, ifla_vf_policy
 *   net/core/dev.c            dev_get_flags, dev_change_flags,
 *                             dev_set_mtu_ext, dev_change_name
 *   net/ipv4/devinet.c        inet_dump_ifaddr, inet_fill_ifaddr
 *   net/ipv6/addrconf.c       inet6_dump_addr, inet6_fill_ifaddr
 *   net/ipv4/fib_frontend.c   inet_dump_fib, ip_valid_fib_dump_req
 *   net/ipv4/fib_semantics.c  fib_dump_info
 *   net/ipv6/route.c          rt6_fill_node
 * Every request runs under rtnl_lock (one at a time), as in the kernel. */

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sim-rtnl-proto.h"
#include "sim-rtnl.h"
#include "util.h"

#define ETH_P_8021Q 0x8100
#define NLMSG_GOODSIZE 3776             /* SKB_WITH_OVERHEAD(PAGE_SIZE) on x86_64 */
#define MIN_MTU 68                      /* ETH_MIN_MTU */
#define NUM_QUEUES 8

/* ---- message building ---- */

typedef struct nlb {
        uint8_t *p;
        size_t len, cap;
        bool oom;
} nlb;

static size_t nlb_reserve(nlb *b, size_t n) {
        size_t off = b->len;

        if (b->oom)
                return 0;
        if (b->len + n > b->cap) {
                size_t c = MAX(b->cap * 2, b->len + n + 256);
                uint8_t *p = realloc(b->p, c);

                if (!p) {
                        b->oom = true;
                        return 0;
                }
                b->p = p;
                b->cap = c;
        }
        memset(b->p + off, 0, n);
        b->len += n;
        return off;
}

static void nlb_free(nlb *b) {
        free(b->p);
        *b = (nlb) {};
}

/* a message with its family header (zeroed), to be finished by msg_end */
static size_t msg_begin(nlb *b, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, size_t hdrlen) {
        size_t off = nlb_reserve(b, NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen));
        struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq, .nlmsg_pid = pid };

        if (!b->oom)
                memcpy(b->p + off, &h, sizeof(h));
        return off;
}

static void *msg_data(nlb *b, size_t msg) {
        return b->p + msg + NLMSG_HDRLEN;
}

static void msg_end(nlb *b, size_t msg) {
        uint32_t len = (uint32_t) (b->len - msg);

        if (!b->oom)
                memcpy(b->p + msg, &len, sizeof(len));
}

static void put(nlb *b, uint16_t type, const void *data, size_t len) {
        struct nlattr a = { .nla_len = (uint16_t) (NLA_HDRLEN + len), .nla_type = type };
        size_t off = nlb_reserve(b, NLA_ALIGN(NLA_HDRLEN + len));

        if (b->oom)
                return;
        memcpy(b->p + off, &a, sizeof(a));
        if (len)
                memcpy(b->p + off + NLA_HDRLEN, data, len);
}

static void put_u8(nlb *b, uint16_t type, uint8_t v) {
        put(b, type, &v, 1);
}

static void put_u32(nlb *b, uint16_t type, uint32_t v) {
        put(b, type, &v, 4);
}

static void put_u64(nlb *b, uint16_t type, uint64_t v) {
        put(b, type, &v, 8);            /* no IFLA_PAD: x86 has efficient unaligned access */
}

static void put_str(nlb *b, uint16_t type, const char *s) {
        put(b, type, s, strlen(s) + 1);
}

static size_t nest_begin(nlb *b, uint16_t type) {
        size_t off = b->len;

        put(b, type, NULL, 0);
        return off;
}

static void nest_end(nlb *b, size_t off) {
        uint16_t len = (uint16_t) (b->len - off);

        if (!b->oom)
                memcpy(b->p + off, &len, sizeof(len));
}

/* ---- what one request queues on the socket: datagrams (skbs) ---- */

typedef struct out {
        nlb *d;
        size_t n;
        bool oom;
} out;

static nlb *out_new(out *o) {
        nlb *a = realloc(o->d, (o->n + 1) * sizeof(*a));

        if (!a) {
                o->oom = true;
                return NULL;
        }
        o->d = a;
        o->d[o->n] = (nlb) {};
        return &o->d[o->n++];
}

static void out_free(out *o) {
        for (size_t i = 0; i < o->n; i++)
                nlb_free(&o->d[i]);
        free(o->d);
        *o = (out) {};
}

/* a dump: messages packed into skbs of at most `limit` bytes, as
 * netlink_dump() fills one skb per round */
typedef struct dump {
        out *o;
        nlb *cur;
        size_t limit;
        uint32_t seq, pid;
        uint16_t flags;                 /* NLM_F_MULTI | answer flags */
} dump;

static void dump_add(dump *d, const nlb *m) {
        if (m->oom) {
                d->o->oom = true;
                return;
        }
        if (!d->cur || (d->cur->len > 0 && d->cur->len + m->len > d->limit))
                d->cur = out_new(d->o);
        if (!d->cur)
                return;
        {
                size_t off = nlb_reserve(d->cur, m->len);

                if (!d->cur->oom)
                        memcpy(d->cur->p + off, m->p, m->len);
        }
}

/* ---- connections ---- */

typedef struct conn {
        sim_rtnl *r;
        int data, ctl;
        pid_t pid;
        uid_t uid;
        bool bound;
        uint32_t portid;
        bool ext_ack, cap_ack, strict;
        uint32_t groups;                /* joined multicast groups (bit n-1: group n); under subs_lock */
} conn;

typedef struct extack {
        const char *msg;
        bool has_off;
        uint32_t off;                   /* NLMSGERR_ATTR_OFFS: from the start of the request */
} extack;

static void set_err_attr(extack *e, const struct nlmsghdr *h, const void *attr, const char *msg) {
        e->msg = msg;
        e->has_off = true;
        e->off = (uint32_t) ((const uint8_t *) attr - (const uint8_t *) h);
}

/* netlink_ack() */
static void netlink_ack(conn *c, out *o, const struct nlmsghdr *h, int err, const extack *e) {
        nlb *b = out_new(o);
        size_t m, payload = h->nlmsg_len - NLMSG_HDRLEN;
        uint16_t flags = 0;
        struct nlmsgerr *em;

        if (!b)
                return;
        if (!(err && !c->cap_ack))
                flags |= NLM_F_CAPPED;
        if (c->ext_ack && e && (e->msg || (err && e->has_off)))
                flags |= NLM_F_ACK_TLVS;
        m = msg_begin(b, NLMSG_ERROR, flags, h->nlmsg_seq, c->portid, sizeof(struct nlmsgerr));
        if (!(flags & NLM_F_CAPPED))
                (void) nlb_reserve(b, NLMSG_ALIGN(payload));
        if (b->oom) {
                o->oom = true;
                return;
        }
        em = msg_data(b, m);
        em->error = err;
        memcpy(&em->msg, h, flags & NLM_F_CAPPED ? sizeof(*h) : h->nlmsg_len);
        if (flags & NLM_F_ACK_TLVS) {
                if (e->msg)
                        put_str(b, NLMSGERR_ATTR_MSG, e->msg);
                if (err && e->has_off)
                        put_u32(b, NLMSGERR_ATTR_OFFS, e->off);
        }
        msg_end(b, m);
}

/* netlink_dump_done(): NLMSG_DONE with the dump's result, in the last skb
 * when it fits */
static void dump_done(conn *c, dump *d, int err, const extack *e) {
        nlb m = {};
        size_t off;
        uint16_t flags = d->flags;

        if (c->ext_ack && e && e->msg)
                flags |= NLM_F_ACK_TLVS;
        off = msg_begin(&m, NLMSG_DONE, flags, d->seq, d->pid, sizeof(int));
        if (!m.oom)
                memcpy(msg_data(&m, off), &err, sizeof(err));
        if (flags & NLM_F_ACK_TLVS)
                put_str(&m, NLMSGERR_ATTR_MSG, e->msg);
        msg_end(&m, off);
        dump_add(d, &m);
        nlb_free(&m);
}

/* ---- attribute parsing ---- */

typedef struct attrs {
        const struct nlattr *a[IFLA_MAX + 1];
        size_t max;
} attrs;

static const void *nla_data_c(const struct nlattr *a) {
        return (const uint8_t *) a + NLA_HDRLEN;
}

static size_t nla_len_c(const struct nlattr *a) {
        return a->nla_len - NLA_HDRLEN;
}

/* nla_parse_deprecated(): the last of each type wins, unknown types are
 * ignored; a malformed stream ends parsing (the kernel stops at the first
 * attribute that does not fit and warns). Returns 0. */
static void parse_attrs(const void *p, size_t len, size_t max, attrs *ret) {
        const uint8_t *q = p;

        memset(ret, 0, sizeof(*ret));
        ret->max = max;
        while (len >= NLA_HDRLEN) {
                const struct nlattr *a = (const struct nlattr *) q;
                uint16_t t = a->nla_type & NLA_TYPE_MASK;

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
                        break;
                if (t <= max)
                        ret->a[t] = a;
                if ((size_t) NLA_ALIGN(a->nla_len) >= len)
                        break;
                q += NLA_ALIGN(a->nla_len);
                len -= NLA_ALIGN(a->nla_len);
        }
}

/* ifla_policy for the attributes a request can carry here */
static int check_ifla_policy(const struct nlmsghdr *h, const attrs *tb, extack *e) {
        static const uint16_t u32s[] = {
                IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_TXQLEN, IFLA_WEIGHT, IFLA_NET_NS_PID, IFLA_NET_NS_FD,
                IFLA_EXT_MASK, IFLA_PROMISCUITY, IFLA_NUM_TX_QUEUES, IFLA_NUM_RX_QUEUES, IFLA_GSO_MAX_SEGS,
                IFLA_GSO_MAX_SIZE, IFLA_CARRIER_CHANGES, IFLA_LINK_NETNSID, IFLA_EVENT, IFLA_GROUP,
                IFLA_TARGET_NETNSID, IFLA_CARRIER_UP_COUNT, IFLA_CARRIER_DOWN_COUNT, IFLA_MIN_MTU, IFLA_MAX_MTU,
                IFLA_NEW_IFINDEX, IFLA_GRO_MAX_SIZE,
        };
        static const uint16_t u8s[] = { IFLA_CARRIER, IFLA_OPERSTATE, IFLA_LINKMODE, IFLA_PROTO_DOWN };
        static const uint16_t rejects[] = { IFLA_PERM_ADDRESS, IFLA_TSO_MAX_SIZE, IFLA_TSO_MAX_SEGS };
        const char *fail = "Attribute failed policy validation";

        for (size_t i = 0; i < ELEMENTSOF(u32s); i++)
                if (tb->a[u32s[i]] && nla_len_c(tb->a[u32s[i]]) < 4) {
                        set_err_attr(e, h, tb->a[u32s[i]], fail);
                        return -ERANGE;
                }
        for (size_t i = 0; i < ELEMENTSOF(u8s); i++)
                if (tb->a[u8s[i]] && nla_len_c(tb->a[u8s[i]]) < 1) {
                        set_err_attr(e, h, tb->a[u8s[i]], fail);
                        return -ERANGE;
                }
        for (size_t i = 0; i < ELEMENTSOF(rejects); i++)
                if (tb->a[rejects[i]]) {
                        set_err_attr(e, h, tb->a[rejects[i]], fail);
                        return -EINVAL;
                }
        for (uint16_t t = 0; t <= IFLA_MAX; t++) {
                const struct nlattr *a = tb->a[t];
                size_t max;

                if (!a || (t != IFLA_IFNAME && t != IFLA_ALT_IFNAME && t != IFLA_ADDRESS && t != IFLA_BROADCAST))
                        continue;
                max = t == IFLA_IFNAME ? IFNAMSIZ - 1 : t == IFLA_ALT_IFNAME ? ALTIFNAMSIZ - 1 : 32;
                if (t == IFLA_IFNAME || t == IFLA_ALT_IFNAME) {
                        size_t l = nla_len_c(a);

                        /* NLA_STRING: a trailing NUL does not count */
                        if (l > 0 && ((const char *) nla_data_c(a))[l - 1] == 0)
                                l--;
                        if (l > max) {
                                set_err_attr(e, h, a, fail);
                                return -ERANGE;
                        }
                } else if (nla_len_c(a) > max) {
                        set_err_attr(e, h, a, fail);
                        return -ERANGE;
                }
        }
        return 0;
}

static void nla_strscpy(char *dst, const struct nlattr *a, size_t size) {
        size_t l = strnlen(nla_data_c(a), nla_len_c(a));

        if (l >= size)
                l = size - 1;
        memcpy(dst, nla_data_c(a), l);
        dst[l] = 0;
}

static uint32_t nla_u32(const struct nlattr *a) {
        uint32_t v;

        memcpy(&v, nla_data_c(a), 4);
        return v;
}

/* ---- net devices (sim->lock held) ---- */

static int cmp_ifindex(const void *a, const void *b) {
        return (*(sim_netdev * const *) a)->ifindex - (*(sim_netdev * const *) b)->ifindex;
}

/* every registered net device, in ifindex order, referenced */
static sim_netdev **netdevs_snapshot(sim *s, size_t *ret_n) {
        sim_netdev **l = calloc(s->n_netdevs + 1, sizeof(*l));

        if (!l)
                return NULL;
        for (size_t i = 0; i < s->n_netdevs; i++)
                l[i] = sim_kobj_ref(s->netdevs[i]);
        qsort(l, s->n_netdevs, sizeof(*l), cmp_ifindex);
        *ret_n = s->n_netdevs;
        return l;
}

static void netdevs_free(sim_netdev **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                sim_kobj_unref(l[i]);
        free(l);
}

static sim_netdev *netdev_by_index(sim *s, int ifindex) {
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (s->netdevs[i]->ifindex == ifindex)
                        return s->netdevs[i];
        return NULL;
}

static sim_netdev *netdev_by_name(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (streq(s->netdevs[i]->name, name))
                        return s->netdevs[i];
        return NULL;
}

/* dev_get_flags(): IFF_UP|IFF_BROADCAST|IFF_MULTICAST, and RUNNING and
 * LOWER_UP while the carrier is there (up, with a link partner) */
static unsigned netdev_flags(const sim_netdev *nd) {
        unsigned f = IFF_BROADCAST | IFF_MULTICAST;

        if (nd->up)
                f |= IFF_UP;
        if (sim_netdev_carrier(nd))
                f |= IFF_RUNNING | IFF_LOWER_UP;
        return f;
}

/* dev->max_mtu: what the driver registered (the sysfs mtu store checks the same) */
static unsigned netdev_max_mtu(const sim_netdev *nd) {
        return nd->dev && nd->dev->driver ? nd->dev->driver->max_mtu : 9702;
}

/* dev_num_vf(dev->dev.parent) */
static unsigned netdev_num_vf(const sim_netdev *nd) {
        return nd->dev && nd->dev->sriov ? nd->dev->sriov->num_vfs : 0;
}

/* rtnl_fill_vfinfo(); stats: ndo_get_vf_stats()'s, zeros without one */
static void fill_vfinfo(nlb *b, const sim_vf_info *ivi, const uint64_t *stats, uint32_t ext_mask) {
        struct ifla_vf_mac mac = { .vf = ivi->vf };
        struct ifla_vf_broadcast brd = {};
        struct ifla_vf_vlan vlan = { .vf = ivi->vf, .vlan = ivi->vlan, .qos = ivi->qos };
        struct ifla_vf_rate rate = { .vf = ivi->vf, .min_tx_rate = ivi->min_tx_rate, .max_tx_rate = ivi->max_tx_rate };
        struct ifla_vf_tx_rate tx_rate = { .vf = ivi->vf, .rate = ivi->max_tx_rate };
        struct ifla_vf_spoofchk spoof = { .vf = ivi->vf, .setting = ivi->spoofchk };
        struct ifla_vf_link_state ls = { .vf = ivi->vf, .link_state = ivi->linkstate };
        struct ifla_vf_rss_query_en rss = { .vf = ivi->vf, .setting = ivi->rss_query_en };
        struct ifla_vf_trust trust = { .vf = ivi->vf, .setting = ivi->trusted };
        struct ifla_vf_vlan_info vi = { .vf = ivi->vf, .vlan = ivi->vlan, .qos = ivi->qos, .vlan_proto = ivi->vlan_proto };
        size_t vf, list, st;

        memcpy(mac.mac, ivi->mac, sizeof(mac.mac));
        memset(brd.broadcast, 0xff, 6);
        vf = nest_begin(b, IFLA_VF_INFO);
        put(b, IFLA_VF_MAC, &mac, sizeof(mac));
        put(b, IFLA_VF_BROADCAST, &brd, sizeof(brd));
        put(b, IFLA_VF_VLAN, &vlan, sizeof(vlan));
        put(b, IFLA_VF_RATE, &rate, sizeof(rate));
        put(b, IFLA_VF_TX_RATE, &tx_rate, sizeof(tx_rate));
        put(b, IFLA_VF_SPOOFCHK, &spoof, sizeof(spoof));
        put(b, IFLA_VF_LINK_STATE, &ls, sizeof(ls));
        put(b, IFLA_VF_RSS_QUERY_EN, &rss, sizeof(rss));
        put(b, IFLA_VF_TRUST, &trust, sizeof(trust));
        list = nest_begin(b, IFLA_VF_VLAN_LIST);
        put(b, IFLA_VF_VLAN_INFO, &vi, sizeof(vi));
        nest_end(b, list);
        if (!(ext_mask & RTEXT_FILTER_SKIP_STATS)) {
                /* the struct's order: 0-5, then 7-8 after IFLA_VF_STATS_PAD */
                st = nest_begin(b, IFLA_VF_STATS);
                for (uint16_t t = IFLA_VF_STATS_RX_PACKETS, i = 0; t <= IFLA_VF_STATS_TX_DROPPED; t++)
                        if (t != IFLA_VF_STATS_PAD)
                                put_u64(b, t, stats[i++]);
                nest_end(b, st);
        }
        nest_end(b, vf);
}

/* rtnl_fill_ifinfo(), for the attributes a simulated net device has */
static void fill_link(sim_rtnl *r, nlb *b, sim_netdev *nd, uint16_t flags, uint32_t seq, uint32_t pid, uint32_t ext_mask) {
        static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        struct rtnl_link_stats64 st64 = {};
        struct rtnl_link_stats st = {};
        struct rtnl_link_ifmap map = {};
        struct ifinfomsg *ifi;
        size_t m, x;

        m = msg_begin(b, RTM_NEWLINK, flags, seq, pid, sizeof(struct ifinfomsg));
        if (b->oom)
                return;
        ifi = msg_data(b, m);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_type = ARPHRD_ETHER;
        ifi->ifi_index = nd->ifindex;
        ifi->ifi_flags = netdev_flags(nd);
        put_str(b, IFLA_IFNAME, nd->name);
        put_u32(b, IFLA_TXQLEN, 1000);
        put_u8(b, IFLA_OPERSTATE, sim_netdev_carrier(nd) ? IF_OPER_UP : IF_OPER_DOWN);
        put_u8(b, IFLA_LINKMODE, 0);
        put_u32(b, IFLA_MTU, nd->mtu);
        put_u32(b, IFLA_MIN_MTU, MIN_MTU);
        put_u32(b, IFLA_MAX_MTU, netdev_max_mtu(nd));
        put_u32(b, IFLA_GROUP, 0);
        put_u32(b, IFLA_PROMISCUITY, 0);
        put_u32(b, IFLA_NUM_TX_QUEUES, NUM_QUEUES);
        put_u32(b, IFLA_GSO_MAX_SEGS, 65535);
        put_u32(b, IFLA_GSO_MAX_SIZE, 65536);
        put_u32(b, IFLA_GRO_MAX_SIZE, 65536);
        put_u32(b, IFLA_TSO_MAX_SIZE, 65536);
        put_u32(b, IFLA_TSO_MAX_SEGS, 65535);
        put_u32(b, IFLA_NUM_RX_QUEUES, NUM_QUEUES);
        put_u8(b, IFLA_CARRIER, sim_netdev_carrier(nd));
        put_str(b, IFLA_QDISC, nd->up ? "mq" : "noop");
        put_u32(b, IFLA_CARRIER_CHANGES, 0);
        put_u32(b, IFLA_CARRIER_UP_COUNT, 0);
        put_u32(b, IFLA_CARRIER_DOWN_COUNT, 0);
        put_u8(b, IFLA_PROTO_DOWN, 0);
        put(b, IFLA_MAP, &map, sizeof(map));
        put(b, IFLA_ADDRESS, nd->mac, 6);
        put(b, IFLA_BROADCAST, bcast, 6);
        put(b, IFLA_STATS64, &st64, sizeof(st64));
        put(b, IFLA_STATS, &st, sizeof(st));
        /* rtnl_fill_vf(): PCI devices only, when asked for */
        if (nd->dev && (ext_mask & RTEXT_FILTER_VF)) {
                unsigned n = netdev_num_vf(nd);

                put_u32(b, IFLA_NUM_VF, n);
                if (sim_vf_model_find(r, nd->dev->driver)) {
                        x = nest_begin(b, IFLA_VFINFO_LIST);
                        for (unsigned i = 0; i < n; i++) {
                                uint64_t counters[SIM_VF_STATS];
                                sim_vf_info ivi;

                                if (sim_vf_get_config(r, nd->dev, i, &ivi) < 0)
                                        continue;
                                sim_vf_get_stats(r, nd->dev, i, counters);
                                fill_vfinfo(b, &ivi, counters, ext_mask);
                        }
                        nest_end(b, x);
                }
        }
        x = nest_begin(b, IFLA_XDP);
        put_u8(b, IFLA_XDP_ATTACHED, XDP_ATTACHED_NONE);
        nest_end(b, x);
        if (nd->dev) {
                put_str(b, IFLA_PARENT_DEV_NAME, nd->dev->name);
                put_str(b, IFLA_PARENT_DEV_BUS_NAME, "pci");
        }
        msg_end(b, m);
}

/* ---- RTM_GETLINK ---- */

/* rtnl_dev_get() / __dev_get_by_index() */
static sim_netdev *find_link(sim *s, const struct ifinfomsg *ifm, const attrs *tb) {
        char name[ALTIFNAMSIZ];

        if (ifm->ifi_index > 0)
                return netdev_by_index(s, ifm->ifi_index);
        if (tb->a[IFLA_IFNAME])
                nla_strscpy(name, tb->a[IFLA_IFNAME], IFNAMSIZ);
        else if (tb->a[IFLA_ALT_IFNAME])
                nla_strscpy(name, tb->a[IFLA_ALT_IFNAME], ALTIFNAMSIZ);
        else
                return NULL;
        return netdev_by_name(s, name);
}

static int getlink(conn *c, const struct nlmsghdr *h, out *o, extack *e) {
        sim *s = c->r->sim;
        struct ifinfomsg ifm;
        attrs tb;
        uint32_t ext_mask = 0;
        sim_netdev *nd;
        nlb *b;
        int r;

        /* rtnl_valid_getlink_req() */
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifm))) {
                e->msg = "Invalid header for get link";
                return -EINVAL;
        }
        memcpy(&ifm, NLMSG_DATA(h), sizeof(ifm));
        parse_attrs((const uint8_t *) h + NLMSG_SPACE(sizeof(ifm)), h->nlmsg_len - NLMSG_SPACE(sizeof(ifm)), IFLA_MAX,
                    &tb);
        if (c->strict) {
                if (ifm.__ifi_pad || ifm.ifi_type || ifm.ifi_flags || ifm.ifi_change) {
                        e->msg = "Invalid values in header for get link request";
                        return -EINVAL;
                }
        }
        r = check_ifla_policy(h, &tb, e);
        if (r < 0)
                return r;
        if (c->strict)
                for (uint16_t t = 0; t <= IFLA_MAX; t++)
                        if (tb.a[t] && t != IFLA_IFNAME && t != IFLA_ALT_IFNAME && t != IFLA_EXT_MASK &&
                            t != IFLA_TARGET_NETNSID) {
                                e->msg = "Unsupported attribute in get link request";
                                return -EINVAL;
                        }
        /* rtnl_ensure_unique_netns(tb, extack, true) */
        if (tb.a[IFLA_NET_NS_PID] || tb.a[IFLA_NET_NS_FD]) {
                e->msg = "specified netns attribute not supported";
                return -EOPNOTSUPP;
        }
        if (tb.a[IFLA_TARGET_NETNSID])
                return -EINVAL;         /* no other network namespaces with ids */
        if (tb.a[IFLA_EXT_MASK])
                ext_mask = nla_u32(tb.a[IFLA_EXT_MASK]);
        if (ifm.ifi_index <= 0 && !tb.a[IFLA_IFNAME] && !tb.a[IFLA_ALT_IFNAME])
                return -EINVAL;
        b = out_new(o);
        if (!b)
                return -ENOBUFS;
        sim_lock(s);
        sim_vf_state_gc(c->r);
        nd = find_link(s, &ifm, &tb);
        if (nd)
                fill_link(c->r, b, nd, 0, h->nlmsg_seq, c->portid, ext_mask);
        sim_unlock(s);
        if (!nd) {
                o->n--;
                nlb_free(b);
                return -ENODEV;
        }
        return b->oom ? -ENOBUFS : 0;
}

#define DUMP_STARTED 1                  /* netlink_dump_start()'s -EINTR: no ACK */

static void dump_init(dump *d, conn *c, out *o, const struct nlmsghdr *h) {
        *d = (dump) { .o = o, .limit = NLMSG_GOODSIZE, .seq = h->nlmsg_seq, .pid = c->portid, .flags = NLM_F_MULTI };
}

/* rtnl_dump_ifinfo() */
static int dump_links(conn *c, const struct nlmsghdr *h, out *o) {
        sim *s = c->r->sim;
        extack e = {};
        dump d;
        attrs tb;
        uint32_t ext_mask = 0;
        sim_netdev **l;
        size_t n = 0;
        int err = 0;

        dump_init(&d, c, o, h);
        if (c->strict) {
                struct ifinfomsg ifm;

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifm))) {
                        e.msg = "Invalid header for link dump";
                        err = -EINVAL;
                        goto done;
                }
                memcpy(&ifm, NLMSG_DATA(h), sizeof(ifm));
                if (ifm.__ifi_pad || ifm.ifi_type || ifm.ifi_flags || ifm.ifi_change) {
                        e.msg = "Invalid values in header for link dump request";
                        err = -EINVAL;
                        goto done;
                }
                if (ifm.ifi_index) {
                        e.msg = "Filter by device index not supported for link dumps";
                        err = -EINVAL;
                        goto done;
                }
        }
        {
                /* before v3.9 iproute2 sent an rtgenmsg: shorter than ifinfomsg */
                size_t hl = h->nlmsg_len - NLMSG_HDRLEN < sizeof(struct ifinfomsg) ? sizeof(struct rtgenmsg)
                                                                                   : sizeof(struct ifinfomsg);

                if (h->nlmsg_len >= NLMSG_SPACE(hl))
                        parse_attrs((const uint8_t *) h + NLMSG_SPACE(hl), h->nlmsg_len - NLMSG_SPACE(hl), IFLA_MAX, &tb);
                else
                        memset(&tb, 0, sizeof(tb));
        }
        for (uint16_t t = 0; t <= IFLA_MAX; t++) {
                if (!tb.a[t])
                        continue;
                switch (t) {
                case IFLA_EXT_MASK:
                        if (nla_len_c(tb.a[t]) >= 4)
                                ext_mask = nla_u32(tb.a[t]);
                        break;
                case IFLA_MASTER:
                        /* no simulated device has a master */
                        if (nla_len_c(tb.a[t]) >= 4 && nla_u32(tb.a[t]))
                                d.flags |= NLM_F_DUMP_FILTERED;
                        break;
                case IFLA_LINKINFO:
                        d.flags |= NLM_F_DUMP_FILTERED;
                        break;
                case IFLA_TARGET_NETNSID:
                        e.msg = "Invalid target network namespace id";
                        err = -EINVAL;
                        goto done;
                default:
                        if (c->strict) {
                                e.msg = "Unsupported attribute in link dump request";
                                err = -EINVAL;
                                goto done;
                        }
                }
        }
        sim_lock(s);
        sim_vf_state_gc(c->r);
        l = netdevs_snapshot(s, &n);
        for (size_t i = 0; l && i < n; i++) {
                nlb m = {};

                /* a master or kind filter matches nothing here */
                if (d.flags & NLM_F_DUMP_FILTERED)
                        break;
                fill_link(c->r, &m, l[i], d.flags, d.seq, d.pid, ext_mask);
                d.limit = MAX(d.limit, m.len);
                dump_add(&d, &m);
                nlb_free(&m);
        }
        sim_unlock(s);
        netdevs_free(l, n);
        if (!l)
                err = -ENOBUFS;
done:
        dump_done(c, &d, err, &e);
        return DUMP_STARTED;
}

/* ---- RTM_SETLINK / RTM_NEWLINK ---- */

static const uint16_t vf_policy_len[IFLA_VF_MAX + 1] = {
        [IFLA_VF_MAC] = sizeof(struct ifla_vf_mac),
        [IFLA_VF_VLAN] = sizeof(struct ifla_vf_vlan),
        [IFLA_VF_TX_RATE] = sizeof(struct ifla_vf_tx_rate),
        [IFLA_VF_SPOOFCHK] = sizeof(struct ifla_vf_spoofchk),
        [IFLA_VF_RATE] = sizeof(struct ifla_vf_rate),
        [IFLA_VF_LINK_STATE] = sizeof(struct ifla_vf_link_state),
        [IFLA_VF_RSS_QUERY_EN] = sizeof(struct ifla_vf_rss_query_en),
        [IFLA_VF_TRUST] = sizeof(struct ifla_vf_trust),
        [IFLA_VF_IB_NODE_GUID] = sizeof(struct ifla_vf_guid),
        [IFLA_VF_IB_PORT_GUID] = sizeof(struct ifla_vf_guid),
};

static int ndo(conn *c, sim_netdev *nd, sim_vf_req q) {
        return sim_vf_ndo_set(c->r, nd, &q);
}

/* do_setvfinfo(): the attributes of one IFLA_VF_INFO, in the kernel's
 * order, up to the first failure */
static int do_setvfinfo(conn *c, sim_netdev *nd, const attrs *vt) {
        static const struct {
                uint16_t type;
                sim_vf_op op;
        } settings[] = {
                { IFLA_VF_SPOOFCHK, SIM_VF_SPOOFCHK },
                { IFLA_VF_LINK_STATE, SIM_VF_LINK_STATE },
                { IFLA_VF_RSS_QUERY_EN, SIM_VF_QUERY_RSS },
                { IFLA_VF_TRUST, SIM_VF_TRUST },
        };
        int err = -EINVAL;

        if (vt->a[IFLA_VF_MAC]) {
                struct ifla_vf_mac x;

                memcpy(&x, nla_data_c(vt->a[IFLA_VF_MAC]), sizeof(x));
                if (x.vf >= INT32_MAX)
                        return -EINVAL;
                sim_vf_req q = { .op = SIM_VF_MAC, .vf = x.vf };
                memcpy(q.mac, x.mac, 6);
                err = ndo(c, nd, q);
                if (err < 0)
                        return err;
        }
        if (vt->a[IFLA_VF_VLAN]) {
                struct ifla_vf_vlan x;

                memcpy(&x, nla_data_c(vt->a[IFLA_VF_VLAN]), sizeof(x));
                if (x.vf >= INT32_MAX)
                        return -EINVAL;
                /* ndo_set_vf_vlan() takes a u16 vlan and a u8 qos */
                err = ndo(c, nd, (sim_vf_req) { .op = SIM_VF_VLAN, .vf = x.vf, .vlan = (uint16_t) x.vlan,
                                                .qos = (uint8_t) x.qos, .vlan_proto = ETH_P_8021Q });
                if (err < 0)
                        return err;
        }
        if (vt->a[IFLA_VF_VLAN_LIST]) {
                const struct nlattr *list = vt->a[IFLA_VF_VLAN_LIST];
                const uint8_t *p = nla_data_c(list);
                size_t left = nla_len_c(list), n = 0;
                struct ifla_vf_vlan_info first = {};

                if (!sim_vf_model_find(c->r, nd->dev ? nd->dev->driver : NULL))
                        return -EOPNOTSUPP;
                while (left >= NLA_HDRLEN) {
                        const struct nlattr *a = (const struct nlattr *) p;

                        if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
                                break;
                        if ((a->nla_type & NLA_TYPE_MASK) != IFLA_VF_VLAN_INFO || nla_len_c(a) < NLA_HDRLEN ||
                            nla_len_c(a) < sizeof(first))
                                return -EINVAL;
                        if (n >= 1)     /* MAX_VLAN_LIST_LEN */
                                return -EOPNOTSUPP;
                        memcpy(&first, nla_data_c(a), sizeof(first));
                        n++;
                        if ((size_t) NLA_ALIGN(a->nla_len) >= left)
                                break;
                        p += NLA_ALIGN(a->nla_len);
                        left -= NLA_ALIGN(a->nla_len);
                }
                if (n == 0)
                        return -EINVAL;
                if (first.vf >= INT32_MAX)
                        return -EINVAL;
                err = ndo(c, nd, (sim_vf_req) { .op = SIM_VF_VLAN, .vf = first.vf, .vlan = (uint16_t) first.vlan,
                                                .qos = (uint8_t) first.qos, .vlan_proto = ntohs(first.vlan_proto) });
                if (err < 0)
                        return err;
        }
        if (vt->a[IFLA_VF_TX_RATE]) {
                struct ifla_vf_tx_rate x;
                sim_vf_info ivf = {};

                memcpy(&x, nla_data_c(vt->a[IFLA_VF_TX_RATE]), sizeof(x));
                if (x.vf >= INT32_MAX)
                        return -EINVAL;
                /* ndo_get_vf_config() for the current minimum */
                sim_lock(c->r->sim);
                err = nd->dev && sim_vf_model_find(c->r, nd->dev->driver) ? sim_vf_get_config(c->r, nd->dev, x.vf, &ivf)
                                                                            : -EOPNOTSUPP;
                sim_unlock(c->r->sim);
                if (err < 0)
                        return err;
                /* rtnl_set_vf_rate() */
                if (x.rate && (int) x.rate < (int) ivf.min_tx_rate)
                        return -EINVAL;
                err = ndo(c, nd, (sim_vf_req) { .op = SIM_VF_RATE, .vf = x.vf, .min_rate = ivf.min_tx_rate,
                                                .max_rate = x.rate });
                if (err < 0)
                        return err;
        }
        if (vt->a[IFLA_VF_RATE]) {
                struct ifla_vf_rate x;

                memcpy(&x, nla_data_c(vt->a[IFLA_VF_RATE]), sizeof(x));
                if (x.vf >= INT32_MAX)
                        return -EINVAL;
                /* rtnl_set_vf_rate(): no ndo_set_vf_rate comes first */
                sim_lock(c->r->sim);
                {
                        const sim_vf_model *m = nd->dev ? sim_vf_model_find(c->r, nd->dev->driver) : NULL;

                        err = m && m->rate ? 0 : -EOPNOTSUPP;
                }
                sim_unlock(c->r->sim);
                if (err < 0)
                        return err;
                if (x.max_tx_rate && (int) x.max_tx_rate < (int) x.min_tx_rate)
                        return -EINVAL;
                err = ndo(c, nd, (sim_vf_req) { .op = SIM_VF_RATE, .vf = x.vf, .min_rate = x.min_tx_rate,
                                                .max_rate = x.max_tx_rate });
                if (err < 0)
                        return err;
        }
        /* ifla_vf_spoofchk, _link_state, _rss_query_en, _trust: { vf, setting } */
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                uint32_t x[2];

                if (!vt->a[settings[i].type])
                        continue;
                memcpy(x, nla_data_c(vt->a[settings[i].type]), sizeof(x));
                if (x[0] >= INT32_MAX)
                        return -EINVAL;
                err = ndo(c, nd, (sim_vf_req) { .op = settings[i].op, .vf = x[0], .setting = x[1] });
                if (err < 0)
                        return err;
        }
        if (vt->a[IFLA_VF_IB_NODE_GUID] || vt->a[IFLA_VF_IB_PORT_GUID])
                return -EOPNOTSUPP;     /* no ndo_set_vf_guid: Ethernet */
        return err;
}

/* the IFLA_VFINFO_LIST loop of do_setlink(); *modified: an IFLA_VF_INFO
 * was applied (status |= DO_SETLINK_NOTIFY), even if a later one failed */
static int set_vfinfo_list(conn *c, sim_netdev *nd, const struct nlattr *list, bool *modified) {
        const uint8_t *p = nla_data_c(list);
        size_t left = nla_len_c(list);

        while (left >= NLA_HDRLEN) {
                const struct nlattr *a = (const struct nlattr *) p;
                attrs vt;
                int err;

                if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
                        break;
                if ((a->nla_type & NLA_TYPE_MASK) != IFLA_VF_INFO || nla_len_c(a) < NLA_HDRLEN)
                        return -EINVAL;
                /* nla_parse_nested_deprecated(vfinfo, IFLA_VF_MAX, attr, ifla_vf_policy, NULL) */
                parse_attrs(nla_data_c(a), nla_len_c(a), IFLA_VF_MAX, &vt);
                for (uint16_t t = 0; t <= IFLA_VF_MAX; t++) {
                        if (!vt.a[t])
                                continue;
                        if (t == IFLA_VF_BROADCAST)
                                return -EINVAL;         /* NLA_REJECT */
                        if (nla_len_c(vt.a[t]) < vf_policy_len[t])
                                return -ERANGE;
                }
                err = do_setvfinfo(c, nd, &vt);
                if (err < 0)
                        return err;
                *modified = true;
                if ((size_t) NLA_ALIGN(a->nla_len) >= left)
                        break;
                p += NLA_ALIGN(a->nla_len);
                left -= NLA_ALIGN(a->nla_len);
        }
        return 0;
}

static void log_link(sim *s, const char *ifname, const char *what, const char *value, int result) {
        char path[64];

        (void) snprintf(path, sizeof(path), "rtnl/%s/%s", ifname, what);
        sim_log_write(s, path, value, strlen(value), result);
}

/* do_setlink(): the attributes in the kernel's order, up to the first
 * failure (what was done stays done) */
static int do_setlink(conn *c, const struct nlmsghdr *h, sim_netdev *nd, const struct ifinfomsg *ifm, const attrs *tb,
                      extack *e) {
        static const uint16_t unsupported[] = {
                IFLA_NET_NS_PID, IFLA_NET_NS_FD, IFLA_TARGET_NETNSID, IFLA_MAP, IFLA_GROUP, IFLA_IFALIAS,
                IFLA_BROADCAST, IFLA_MASTER, IFLA_CARRIER, IFLA_TXQLEN, IFLA_GSO_MAX_SIZE, IFLA_GSO_MAX_SEGS,
                IFLA_GRO_MAX_SIZE, IFLA_OPERSTATE, IFLA_LINKMODE, IFLA_VF_PORTS, IFLA_PORT_SELF, IFLA_AF_SPEC,
                IFLA_PROTO_DOWN, IFLA_PROTO_DOWN_REASON, IFLA_XDP,
        };
        sim *s = c->r->sim;
        char ifname[IFNAMSIZ] = "", cur[IFNAMSIZ];
        int err;

        /* not emulated: refused before anything changes (README) */
        for (size_t i = 0; i < ELEMENTSOF(unsupported); i++)
                if (tb->a[unsupported[i]]) {
                        set_err_attr(e, h, tb->a[unsupported[i]], "sriov-sim: this link attribute is not emulated");
                        return -EOPNOTSUPP;
                }
        /* validate_linkmsg() */
        if (tb->a[IFLA_ADDRESS] && nla_len_c(tb->a[IFLA_ADDRESS]) < 6)
                return -EINVAL;
        if (tb->a[IFLA_IFNAME])
                nla_strscpy(ifname, tb->a[IFLA_IFNAME], IFNAMSIZ);
        sim_lock(s);
        (void) snprintf(cur, sizeof(cur), "%s", nd->name);
        sim_unlock(s);

        if (tb->a[IFLA_ADDRESS]) {
                const uint8_t *a = nla_data_c(tb->a[IFLA_ADDRESS]);
                char v[18];

                (void) snprintf(v, sizeof(v), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
                /* eth_prepare_mac_addr_change(): a unicast, non-zero address */
                err = (a[0] & 1) || !memcmp(a, (uint8_t[6]) {}, 6) ? -EADDRNOTAVAIL : 0;
                if (err == 0) {
                        sim_lock(s);
                        memcpy(nd->mac, a, 6);
                        sim_rtnl_notify_link(nd, false);        /* NETDEV_CHANGEADDR */
                        sim_unlock(s);
                }
                log_link(s, cur, "address", v, err);
                if (err < 0)
                        return err;
        }
        if (tb->a[IFLA_MTU]) {
                uint32_t mtu = nla_u32(tb->a[IFLA_MTU]), max;
                char v[16];

                /* dev_set_mtu_ext() / dev_validate_mtu() */
                sim_lock(s);
                max = netdev_max_mtu(nd);
                sim_unlock(s);
                err = 0;
                if (mtu < MIN_MTU) {
                        e->msg = "mtu less than device minimum";
                        err = -EINVAL;
                } else if (mtu > max) {
                        e->msg = "mtu greater than device maximum";
                        err = -EINVAL;
                } else {
                        sim_lock(s);
                        if (nd->mtu != mtu) {
                                nd->mtu = mtu;
                                sim_rtnl_notify_link(nd, false);        /* NETDEV_CHANGEMTU */
                        }
                        sim_unlock(s);
                }
                (void) snprintf(v, sizeof(v), "%u", mtu);
                log_link(s, cur, "mtu", v, err);
                if (err < 0)
                        return err;
        }
        /* an index and a name: a rename */
        if (ifm->ifi_index > 0 && ifname[0] && !streq(ifname, cur)) {
                err = sim_netdev_rename(s, cur, ifname);
                log_link(s, cur, "ifname", ifname, err);
                if (err < 0)
                        return err;
                (void) snprintf(cur, sizeof(cur), "%s", ifname);
        }
        if (ifm->ifi_flags || ifm->ifi_change) {
                /* rtnl_dev_combine_flags(): ifi_change 0 means all; then
                 * dev_change_flags() opens or closes the device */
                unsigned flags = ifm->ifi_flags;
                bool up, changed;

                sim_lock(s);
                if (ifm->ifi_change)
                        flags = (flags & ifm->ifi_change) | (netdev_flags(nd) & ~ifm->ifi_change);
                up = flags & IFF_UP;
                changed = up != nd->up;
                nd->up = up;
                if (changed)
                        sim_rtnl_notify_flags(nd);
                sim_unlock(s);
                if (changed)
                        log_link(s, cur, "flags", up ? "up" : "down", 0);
        }
        if (tb->a[IFLA_VFINFO_LIST]) {
                bool modified = false;

                err = set_vfinfo_list(c, nd, tb->a[IFLA_VFINFO_LIST], &modified);
                /* errout: netdev_state_change() for what was done */
                if (modified) {
                        sim_lock(s);
                        if (nd->dev)
                                sim_rtnl_notify_link(nd, false);
                        sim_unlock(s);
                }
                if (err < 0)
                        return err;
        }
        return 0;
}

static int setlink(conn *c, const struct nlmsghdr *h, extack *e, bool newlink) {
        sim *s = c->r->sim;
        struct ifinfomsg ifm;
        sim_netdev *nd;
        attrs tb;
        int err;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifm)))
                return -EINVAL;
        memcpy(&ifm, NLMSG_DATA(h), sizeof(ifm));
        parse_attrs((const uint8_t *) h + NLMSG_SPACE(sizeof(ifm)), h->nlmsg_len - NLMSG_SPACE(sizeof(ifm)), IFLA_MAX,
                    &tb);
        err = check_ifla_policy(h, &tb, e);
        if (err < 0)
                return err;
        /* rtnl_ensure_unique_netns(tb, extack, false) */
        if ((tb.a[IFLA_TARGET_NETNSID] && (tb.a[IFLA_NET_NS_PID] || tb.a[IFLA_NET_NS_FD])) ||
            (tb.a[IFLA_NET_NS_PID] && tb.a[IFLA_NET_NS_FD])) {
                e->msg = "multiple netns identifying attributes specified";
                return -EINVAL;
        }
        if (newlink && ifm.ifi_index < 0) {
                e->msg = "ifindex can't be negative";
                return -EINVAL;
        }
        if (!newlink && ifm.ifi_index <= 0 && !tb.a[IFLA_IFNAME] && !tb.a[IFLA_ALT_IFNAME])
                return -EINVAL;
        sim_lock(s);
        nd = find_link(s, &ifm, &tb);
        if (nd)
                sim_kobj_ref(nd);
        sim_unlock(s);
        if (!nd) {
                if (!newlink || !(h->nlmsg_flags & NLM_F_CREATE))
                        return -ENODEV;
                /* __rtnl_newlink(): no rtnl_link_ops to create links with here */
                e->msg = "Unknown device type";
                return -EOPNOTSUPP;
        }
        if (newlink) {
                err = 0;
                if (h->nlmsg_flags & NLM_F_EXCL)
                        err = -EEXIST;
                else if (h->nlmsg_flags & NLM_F_REPLACE)
                        err = -EOPNOTSUPP;
                else if (tb.a[IFLA_LINKINFO])
                        err = -EOPNOTSUPP;      /* no rtnl_link_ops on PCI devices */
                if (err < 0) {
                        sim_kobj_unref(nd);
                        return err;
                }
        }
        err = nd->dev ? do_setlink(c, h, nd, &ifm, &tb, e) : -ENODEV;
        sim_kobj_unref(nd);
        return err;
}

static int dellink(conn *c, const struct nlmsghdr *h) {
        struct ifinfomsg ifm;
        sim_netdev *nd;
        attrs tb;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifm)))
                return -EINVAL;
        memcpy(&ifm, NLMSG_DATA(h), sizeof(ifm));
        parse_attrs((const uint8_t *) h + NLMSG_SPACE(sizeof(ifm)), h->nlmsg_len - NLMSG_SPACE(sizeof(ifm)), IFLA_MAX,
                    &tb);
        if (ifm.ifi_index <= 0 && !tb.a[IFLA_IFNAME] && !tb.a[IFLA_ALT_IFNAME])
                return -EINVAL;
        sim_lock(c->r->sim);
        nd = find_link(c->r->sim, &ifm, &tb);
        sim_unlock(c->r->sim);
        /* rtnl_delete_link(): physical devices have no dellink */
        return nd ? -EOPNOTSUPP : -ENODEV;
}

/* ---- addresses ---- */

static bool in_v4_host(const sim_ipaddr *a) {
        return a->family == AF_INET && a->addr[0] == 127;
}

static void fill_addr(nlb *b, const sim_netdev *nd, const sim_ipaddr *a, uint16_t flags, uint32_t seq, uint32_t pid) {
        struct ifa_cacheinfo ci = { .ifa_prefered = UINT32_MAX, .ifa_valid = UINT32_MAX };
        struct ifaddrmsg *ifa;
        size_t m = msg_begin(b, RTM_NEWADDR, flags, seq, pid, sizeof(struct ifaddrmsg));
        size_t alen = a->family == AF_INET ? 4 : 16;

        if (b->oom)
                return;
        ifa = msg_data(b, m);
        ifa->ifa_family = a->family;
        ifa->ifa_prefixlen = a->prefix;
        ifa->ifa_flags = IFA_F_PERMANENT;
        ifa->ifa_scope = in_v4_host(a) ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) nd->ifindex;
        if (a->family == AF_INET) {
                /* inet_fill_ifaddr() */
                put(b, IFA_ADDRESS, a->addr, 4);
                put(b, IFA_LOCAL, a->addr, 4);
                if (a->prefix <= 30) {
                        uint8_t brd[4];
                        uint32_t v, mask = a->prefix ? htonl(~0u << (32 - a->prefix)) : 0;

                        memcpy(&v, a->addr, 4);
                        v |= ~mask;
                        memcpy(brd, &v, 4);
                        put(b, IFA_BROADCAST, brd, 4);
                }
                put_str(b, IFA_LABEL, nd->name);
                put_u32(b, IFA_FLAGS, IFA_F_PERMANENT);
                put(b, IFA_CACHEINFO, &ci, sizeof(ci));
        } else {
                /* inet6_fill_ifaddr() */
                put(b, IFA_ADDRESS, a->addr, alen);
                put(b, IFA_CACHEINFO, &ci, sizeof(ci));
                put_u32(b, IFA_FLAGS, IFA_F_PERMANENT);
        }
        msg_end(b, m);
}

/* inet_dump_ifaddr() / inet6_dump_addr(), one family */
static int dump_addrs_family(conn *c, const struct nlmsghdr *h, dump *d, unsigned char family, extack *e) {
        sim *s = c->r->sim;
        int ifindex = 0;
        sim_netdev **l;
        size_t n = 0;
        bool found = false;

        if (c->strict) {
                /* inet_valid_dump_ifaddr_req() */
                const char *pfx = family == AF_INET ? "ipv4: " : "";
                static char msg[3][80];
                struct ifaddrmsg ifm;
                attrs tb;

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifm))) {
                        (void) snprintf(msg[0], sizeof(msg[0]), "%sInvalid header for address dump request", pfx);
                        e->msg = msg[0];
                        return -EINVAL;
                }
                memcpy(&ifm, NLMSG_DATA(h), sizeof(ifm));
                if (ifm.ifa_prefixlen || ifm.ifa_flags || ifm.ifa_scope) {
                        (void) snprintf(msg[1], sizeof(msg[1]), "%sInvalid values in header for address dump request", pfx);
                        e->msg = msg[1];
                        return -EINVAL;
                }
                ifindex = (int) ifm.ifa_index;
                if (ifindex)
                        d->flags |= NLM_F_DUMP_FILTERED;
                parse_attrs((const uint8_t *) h + NLMSG_SPACE(sizeof(ifm)), h->nlmsg_len - NLMSG_SPACE(sizeof(ifm)),
                            IFA_MAX, &tb);
                for (uint16_t t = 0; t <= IFA_MAX; t++)
                        if (tb.a[t] && t != IFA_TARGET_NETNSID) {
                                (void) snprintf(msg[2], sizeof(msg[2]), "%sUnsupported attribute in dump request", pfx);
                                e->msg = msg[2];
                                return -EINVAL;
                        }
        }
        sim_lock(s);
        l = netdevs_snapshot(s, &n);
        for (size_t i = 0; l && i < n; i++) {
                sim_ipconf *ip;

                if (ifindex && l[i]->ifindex != ifindex)
                        continue;
                found = true;
                ip = sim_netdev_ipconf(c->r, l[i]);
                for (size_t k = 0; ip && k < ip->n_addrs; k++) {
                        nlb m = {};

                        if (ip->addrs[k].family != family)
                                continue;
                        /* addrconf_ifdown(): IPv6 addresses go with the link */
                        if (family == AF_INET6 && !l[i]->up)
                                continue;
                        fill_addr(&m, l[i], &ip->addrs[k], d->flags, d->seq, d->pid);
                        dump_add(d, &m);
                        nlb_free(&m);
                }
        }
        sim_unlock(s);
        netdevs_free(l, n);
        if (!l)
                return -ENOBUFS;
        if (ifindex && !found)
                return -ENODEV;
        return 0;
}

/* ---- routes ---- */

typedef struct route_filter {
        uint32_t table;                 /* 0: all */
        int oif;
        uint8_t protocol, type;
} route_filter;

/* one route as fib_dump_info() / rt6_fill_node() put it */
typedef struct route_rec {
        uint8_t table, protocol, scope, type, dst_len;
        uint8_t dst[16], prefsrc[16], gw[16];
        bool has_prefsrc, has_gw, metric_set;
        uint32_t metric;
        int oif;
} route_rec;

/* the order of a fib walk: tables main then local (hash order), within a
 * table the IPv4 trie by key, longer prefixes first on one key; IPv6 by
 * address with the default route last */
static int cmp_route(const void *pa, const void *pb) {
        const route_rec *a = pa, *b = pb;
        int r;

        if (a->table != b->table)
                return a->table == RT_TABLE_MAIN ? -1 : 1;
        r = memcmp(a->dst, b->dst, 16);
        if (r)
                return r;
        return (int) b->dst_len - (int) a->dst_len;
}

static int cmp_route6(const void *pa, const void *pb) {
        const route_rec *a = pa, *b = pb;

        if (a->table == b->table && (a->dst_len == 0) != (b->dst_len == 0))
                return a->dst_len == 0 ? 1 : -1;
        return cmp_route(pa, pb);
}

static int add_route(route_rec **v, size_t *n, const route_rec *r) {
        route_rec *a = realloc(*v, (*n + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        *v = a;
        a[(*n)++] = *r;
        return 0;
}

static void fill_route(nlb *b, const dump *d, unsigned char family, const route_rec *r) {
        size_t alen = family == AF_INET ? 4 : 16, m = msg_begin(b, RTM_NEWROUTE, d->flags, d->seq, d->pid, sizeof(struct rtmsg));
        struct rtmsg *rt;

        if (b->oom)
                return;
        rt = msg_data(b, m);
        rt->rtm_family = family;
        rt->rtm_dst_len = r->dst_len;
        rt->rtm_table = r->table;
        rt->rtm_protocol = r->protocol;
        rt->rtm_scope = r->scope;
        rt->rtm_type = r->type;
        put_u32(b, RTA_TABLE, r->table);
        if (r->dst_len)
                put(b, RTA_DST, r->dst, alen);
        if (r->metric_set)
                put_u32(b, RTA_PRIORITY, r->metric);
        if (r->has_prefsrc)
                put(b, RTA_PREFSRC, r->prefsrc, alen);
        if (r->has_gw)
                put(b, RTA_GATEWAY, r->gw, alen);
        put_u32(b, RTA_OIF, (uint32_t) r->oif);
        if (family == AF_INET6)
                put_u8(b, RTA_PREF, 0);         /* ICMPV6_ROUTER_PREF_MEDIUM */
        msg_end(b, m);
}

static bool route_pass(const route_filter *f, const route_rec *r) {
        return (!f->table || f->table == r->table) && (!f->protocol || f->protocol == r->protocol) &&
               (!f->type || f->type == r->type) && (!f->oif || f->oif == r->oif);
}

/* the routes of one family that the kernel derives from the addresses of
 * the links that are up (fib_add_ifaddr(), addrconf_prefix_route(), the
 * local routes) plus the configured ones; a down link has none
 * (fib_disable_ip(), rt6_disable_ip()) */
static int dump_routes_family(conn *c, dump *d, unsigned char family, const route_filter *f) {
        sim *s = c->r->sim;
        route_rec *v = NULL;
        sim_netdev **l;
        size_t n = 0, nv = 0;
        int err = 0;

        sim_lock(s);
        l = netdevs_snapshot(s, &n);
        for (size_t i = 0; l && err >= 0 && i < n; i++) {
                sim_ipconf *ip;

                if (!l[i]->up || !(ip = sim_netdev_ipconf(c->r, l[i])))
                        continue;
                for (size_t k = 0; err >= 0 && k < ip->n_addrs; k++) {
                        const sim_ipaddr *a = &ip->addrs[k];
                        route_rec r = { .oif = l[i]->ifindex, .protocol = RTPROT_KERNEL, .type = RTN_UNICAST };

                        if (a->family != family)
                                continue;
                        if (a->prefix < (family == AF_INET ? 32 : 128)) {
                                r.table = RT_TABLE_MAIN;
                                r.dst_len = a->prefix;
                                memcpy(r.dst, a->addr, 16);
                                for (unsigned bit = a->prefix; bit < 128; bit++)
                                        r.dst[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
                                if (family == AF_INET) {
                                        r.scope = RT_SCOPE_LINK;
                                        r.has_prefsrc = true;
                                        memcpy(r.prefsrc, a->addr, 16);
                                } else {
                                        r.metric_set = true;
                                        r.metric = 256;
                                }
                                if (route_pass(f, &r))
                                        err = add_route(&v, &nv, &r);
                        }
                        r = (route_rec) { .oif = l[i]->ifindex, .protocol = RTPROT_KERNEL, .type = RTN_LOCAL,
                                          .table = RT_TABLE_LOCAL, .dst_len = family == AF_INET ? 32 : 128 };
                        memcpy(r.dst, a->addr, 16);
                        if (family == AF_INET) {
                                r.scope = RT_SCOPE_HOST;
                                r.has_prefsrc = true;
                                memcpy(r.prefsrc, a->addr, 16);
                        } else
                                r.metric_set = true;
                        if (err >= 0 && route_pass(f, &r))
                                err = add_route(&v, &nv, &r);
                }
                for (size_t k = 0; err >= 0 && k < ip->n_routes; k++) {
                        const sim_iproute *rt = &ip->routes[k];
                        route_rec r = { .oif = l[i]->ifindex, .protocol = RTPROT_BOOT, .type = RTN_UNICAST,
                                        .table = RT_TABLE_MAIN, .dst_len = rt->dst_len, .has_gw = rt->gw_set,
                                        .metric_set = rt->metric_set || family == AF_INET6,
                                        .metric = rt->metric_set ? rt->metric : 1024 };

                        if (rt->family != family)
                                continue;
                        r.scope = family == AF_INET && !rt->gw_set ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
                        memcpy(r.dst, rt->dst, 16);
                        memcpy(r.gw, rt->gw, 16);
                        if (route_pass(f, &r))
                                err = add_route(&v, &nv, &r);
                }
        }
        sim_unlock(s);
        netdevs_free(l, n);
        if (v)
                qsort(v, nv, sizeof(*v), family == AF_INET ? cmp_route : cmp_route6);
        for (size_t i = 0; err >= 0 && i < nv; i++) {
                nlb m = {};

                fill_route(&m, d, family, &v[i]);
                dump_add(d, &m);
                nlb_free(&m);
        }
        free(v);
        if (!l)
                return -ENOBUFS;
        return err < 0 ? -ENOBUFS : 0;
}

/* ip_valid_fib_dump_req() (strict) and the legacy header */
static int route_filter_parse(conn *c, const struct nlmsghdr *h, route_filter *f, dump *d, extack *e) {
        struct rtmsg rtm;
        attrs tb;

        *f = (route_filter) {};
        if (!c->strict)
                return 0;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtm))) {
                e->msg = "Invalid header for FIB dump request";
                return -EINVAL;
        }
        memcpy(&rtm, NLMSG_DATA(h), sizeof(rtm));
        if (rtm.rtm_dst_len || rtm.rtm_src_len || rtm.rtm_tos || rtm.rtm_scope) {
                e->msg = "Invalid values in header for FIB dump request";
                return -EINVAL;
        }
        if (rtm.rtm_flags & ~(RTM_F_CLONED | RTM_F_PREFIX)) {
                e->msg = "Invalid flags for FIB dump request";
                return -EINVAL;
        }
        f->table = rtm.rtm_table;
        f->protocol = rtm.rtm_protocol;
        f->type = rtm.rtm_type;
        parse_attrs((const uint8_t *) h + NLMSG_SPACE(sizeof(rtm)), h->nlmsg_len - NLMSG_SPACE(sizeof(rtm)), RTA_MAX, &tb);
        for (uint16_t t = 0; t <= RTA_MAX; t++) {
                if (!tb.a[t])
                        continue;
                if (nla_len_c(tb.a[t]) < 4) {
                        e->msg = "Invalid attribute in FIB dump request";
                        return -EINVAL;
                }
                switch (t) {
                case RTA_TABLE:
                        f->table = nla_u32(tb.a[t]);
                        break;
                case RTA_OIF:
                        f->oif = (int) nla_u32(tb.a[t]);
                        if (f->oif) {
                                bool found;

                                sim_lock(c->r->sim);
                                found = netdev_by_index(c->r->sim, f->oif);
                                sim_unlock(c->r->sim);
                                if (!found)
                                        return -ENODEV;
                        }
                        break;
                default:
                        e->msg = "Unsupported attribute in dump request";
                        return -EINVAL;
                }
        }
        if (f->table || f->protocol || f->type || f->oif)
                d->flags |= NLM_F_DUMP_FILTERED;
        if (rtm.rtm_flags & RTM_F_CLONED)
                f->table = UINT32_MAX;  /* only the route cache: nothing here */
        return 0;
}

/* RTM_GETADDR / RTM_GETROUTE dumps: AF_UNSPEC walks every family that has
 * a dumpit (rtnl_dump_all()), IPv4 first */
static int dump_inet(conn *c, const struct nlmsghdr *h, out *o, uint16_t type) {
        unsigned char family = 0;
        extack e = {};
        route_filter f = {};
        dump d;
        int err = 0;

        dump_init(&d, c, o, h);
        if (h->nlmsg_len >= NLMSG_LENGTH(1))
                family = *(const unsigned char *) NLMSG_DATA(h);
        if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
                dump_done(c, &d, 0, NULL);
                return DUMP_STARTED;
        }
        if (type == RTM_GETROUTE)
                err = route_filter_parse(c, h, &f, &d, &e);
        for (int k = 0; err >= 0 && k < 2; k++) {
                unsigned char fam = k == 0 ? AF_INET : AF_INET6;

                if (family != AF_UNSPEC && family != fam)
                        continue;
                err = type == RTM_GETADDR ? dump_addrs_family(c, h, &d, fam, &e) : dump_routes_family(c, &d, fam, &f);
        }
        dump_done(c, &d, err, &e);
        return DUMP_STARTED;
}

/* ---- rtnetlink_rcv_msg() ---- */

static int rtnetlink_rcv_msg(conn *c, const struct nlmsghdr *h, out *o, extack *e) {
        int type = h->nlmsg_type, kind;

        if (type > RTM_MAX)
                return -EOPNOTSUPP;
        /* all the messages must have at least 1 byte length */
        if (h->nlmsg_len < NLMSG_LENGTH(1))
                return 0;
        kind = (type - RTM_BASE) & 3;   /* NEW, DEL, GET, SET */
        if (kind != 2 && c->uid != 0)
                return -EPERM;          /* CAP_NET_ADMIN */
        if (kind == 2 && (h->nlmsg_flags & NLM_F_DUMP)) {
                dump d;

                switch (type) {
                case RTM_GETLINK:
                        return dump_links(c, h, o);
                case RTM_GETADDR:
                case RTM_GETROUTE:
                        return dump_inet(c, h, o, (uint16_t) type);
                case RTM_GETNEIGH:
                case RTM_GETRULE:
                case RTM_GETQDISC:
                case RTM_GETTCLASS:
                case RTM_GETTFILTER:
                case RTM_GETNETCONF:
                case RTM_GETNSID:
                        /* registered in the kernel; nothing of it is simulated */
                        dump_init(&d, c, o, h);
                        dump_done(c, &d, 0, NULL);
                        return DUMP_STARTED;
                default:
                        return -EOPNOTSUPP;
                }
        }
        switch (type) {
        case RTM_GETLINK:
                return getlink(c, h, o, e);
        case RTM_SETLINK:
                return setlink(c, h, e, false);
        case RTM_NEWLINK:
                return setlink(c, h, e, true);
        case RTM_DELLINK:
                return dellink(c, h);
        default:
                return -EOPNOTSUPP;
        }
}

/* netlink_rcv_skb(): every message of the datagram, an ACK where asked for
 * or on error */
static void netlink_rcv(conn *c, const uint8_t *p, size_t len, out *o) {
        while (len >= NLMSG_HDRLEN) {
                struct nlmsghdr h;
                const struct nlmsghdr *hp = (const struct nlmsghdr *) p;
                extack e = {};
                size_t msglen;
                int err = 0;

                memcpy(&h, p, sizeof(h));
                if (h.nlmsg_len < NLMSG_HDRLEN || len < h.nlmsg_len)
                        return;
                if ((h.nlmsg_flags & NLM_F_REQUEST) && h.nlmsg_type >= NLMSG_MIN_TYPE) {
                        /* doit and dumpit run under rtnl_mutex */
                        pthread_mutex_lock(&c->r->rtnl_lock);
                        err = rtnetlink_rcv_msg(c, hp, o, &e);
                        pthread_mutex_unlock(&c->r->rtnl_lock);
                }
                if (err != DUMP_STARTED && ((h.nlmsg_flags & NLM_F_ACK) || err))
                        netlink_ack(c, o, hp, err, &e);
                msglen = NLMSG_ALIGN(h.nlmsg_len);
                if (msglen > len)
                        msglen = len;
                p += msglen;
                len -= msglen;
        }
}

/* ---- port ids (netlink_insert / netlink_autobind) ---- */

static bool port_taken(sim_rtnl *r, uint32_t port) {
        for (size_t i = 0; i < r->n_ports; i++)
                if (r->ports[i] == port)
                        return true;
        return false;
}

static int port_bind(conn *c, uint32_t want) {
        sim_rtnl *r = c->r;
        uint32_t *a, port = want;
        int err = 0;

        pthread_mutex_lock(&r->ports_lock);
        if (c->bound)
                err = want == c->portid || want == 0 ? 0 : -EINVAL;
        else if (want != 0 && port_taken(r, want))
                err = -EADDRINUSE;
        else {
                if (want == 0) {
                        /* the process id first, then negative numbers */
                        port = (uint32_t) c->pid;
                        while (port == 0 || port_taken(r, port))
                                port = (uint32_t) r->rover--;
                }
                a = realloc(r->ports, (r->n_ports + 1) * sizeof(*a));
                if (!a)
                        err = -ENOMEM;
                else {
                        r->ports = a;
                        r->ports[r->n_ports++] = port;
                        c->portid = port;
                        c->bound = true;
                }
        }
        pthread_mutex_unlock(&r->ports_lock);
        return err;
}

static void port_release(conn *c) {
        sim_rtnl *r = c->r;

        pthread_mutex_lock(&r->ports_lock);
        for (size_t i = 0; c->bound && i < r->n_ports; i++)
                if (r->ports[i] == c->portid) {
                        r->ports[i] = r->ports[--r->n_ports];
                        break;
                }
        c->bound = false;
        pthread_mutex_unlock(&r->ports_lock);
}

/* ---- multicast: link notifications ---- */

static void subs_set(conn *c, uint32_t groups) {
        sim_rtnl *r = c->r;
        bool listed = false;

        pthread_mutex_lock(&r->subs_lock);
        for (size_t i = 0; i < r->n_subs; i++)
                if (r->subs[i] == c) {
                        listed = true;
                        if (groups == 0)
                                r->subs[i] = r->subs[--r->n_subs];
                        break;
                }
        if (!listed && groups != 0) {
                conn **a = realloc(r->subs, (r->n_subs + 1) * sizeof(*a));

                if (a) {
                        r->subs = a;
                        r->subs[r->n_subs++] = c;
                }
        }
        c->groups = groups;
        pthread_mutex_unlock(&r->subs_lock);
}

/* rtmsg_ifinfo() → rtnl_notify(): the message, without VF information
 * (ext_filter_mask 0), to every socket in RTNLGRP_LINK, the sender's too.
 * A socket whose queue is full loses it (the kernel then reports ENOBUFS
 * on its next receive: not modelled, the queues are large). */
void sim_rtnl_notify_link(sim_netdev *nd, bool deleted) {
        sim_rtnl *r = nd->sim->rtnl;
        nlb b = {};

        if (!r)
                return;
        pthread_mutex_lock(&r->subs_lock);
        if (r->n_subs > 0) {
                fill_link(r, &b, nd, 0, 0, 0, 0);
                if (!b.oom && deleted)
                        ((struct nlmsghdr *) b.p)->nlmsg_type = RTM_DELLINK;
                for (size_t i = 0; !b.oom && i < r->n_subs; i++)
                        if (r->subs[i]->groups & (1u << (RTNLGRP_LINK - 1)))
                                (void) send(r->subs[i]->data, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        pthread_mutex_unlock(&r->subs_lock);
        nlb_free(&b);
}

void sim_rtnl_notify_flags(sim_netdev *nd) {
        if (nd->up && !nd->no_link) {
                nd->negotiating = true;
                sim_rtnl_notify_link(nd, false);
                nd->negotiating = false;
        }
        sim_rtnl_notify_link(nd, false);
}

/* ---- the connection loop ---- */

static int reply(conn *c, int result) {
        sim_rtnl_reply rep = { .magic = SIM_RTNL_MAGIC, .result = result, .portid = c->portid };

        return send(c->ctl, &rep, sizeof(rep), MSG_NOSIGNAL) == (ssize_t) sizeof(rep) ? 0 : -errno;
}

static int hello(conn *c) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        sim_rtnl_req req;
        struct iovec iov = { &req, sizeof(req) };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        ssize_t n;

        n = recvmsg(c->data, &m, MSG_CMSG_CLOEXEC);
        if (n != (ssize_t) sizeof(req) || req.magic != SIM_RTNL_MAGIC || req.op != SIM_RTNL_HELLO)
                return -EPROTO;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&c->ctl, CMSG_DATA(h), sizeof(int));
        if (c->ctl < 0)
                return -EPROTO;
        c->pid = (pid_t) req.arg;
        c->uid = getsockopt(c->data, SOL_SOCKET, SO_PEERCRED, &cred, &cl) >= 0 ? cred.uid : (uid_t) -1;
        return reply(c, 0);
}

/* queue what the request produced, in order; a client that went away
 * loses it, as a closed netlink socket does */
static void deliver(conn *c, out *o) {
        for (size_t i = 0; i < o->n; i++)
                (void) send(c->data, o->d[i].p, o->d[i].len, MSG_NOSIGNAL);
}

static void *conn_thread(void *userdata) {
        conn *c = userdata;
        uint8_t *buf = NULL;
        size_t cap = 0;

        if (hello(c) < 0)
                goto out;
        sim_writer = c->pid;
        for (;;) {
                sim_rtnl_req req;
                ssize_t n = recv(c->ctl, NULL, 0, MSG_PEEK | MSG_TRUNC);
                int result = 0;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < (ssize_t) sizeof(req))
                        break;
                if ((size_t) n > cap) {
                        uint8_t *nb = realloc(buf, (size_t) n);

                        if (!nb)
                                break;
                        buf = nb;
                        cap = (size_t) n;
                }
                n = recv(c->ctl, buf, (size_t) n, 0);
                if (n < (ssize_t) sizeof(req))
                        break;
                memcpy(&req, buf, sizeof(req));
                if (req.magic != SIM_RTNL_MAGIC)
                        break;
                switch (req.op) {
                case SIM_RTNL_BIND:
                        result = port_bind(c, req.arg);
                        break;
                case SIM_RTNL_SETOPT:
                        if (req.arg == NETLINK_EXT_ACK)
                                c->ext_ack = req.arg2;
                        else if (req.arg == NETLINK_CAP_ACK)
                                c->cap_ack = req.arg2;
                        else if (req.arg == NETLINK_GET_STRICT_CHK)
                                c->strict = req.arg2;
                        break;
                case SIM_RTNL_SEND: {
                        out o = {};

                        if (!c->bound)
                                result = port_bind(c, 0);
                        if (result >= 0) {
                                netlink_rcv(c, buf + sizeof(req), (size_t) n - sizeof(req), &o);
                                deliver(c, &o);
                                result = (int) ((size_t) n - sizeof(req));
                        }
                        out_free(&o);
                        break;
                }
                case SIM_RTNL_GROUPS:
                        subs_set(c, req.arg);
                        break;
                case SIM_RTNL_CLOSE:
                        subs_set(c, 0);
                        port_release(c);
                        break;
                default:
                        result = -EINVAL;
                }
                if (reply(c, result) < 0)
                        break;
        }
out:
        subs_set(c, 0);
        port_release(c);
        free(buf);
        safe_close(c->ctl);
        safe_close(c->data);
        free(c);
        return NULL;
}

static void *accept_thread(void *userdata) {
        sim_rtnl *r = userdata;

        for (;;) {
                pthread_attr_t attr;
                pthread_t t;
                conn *c;
                int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                int sndbuf = 8 * 1024 * 1024;

                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
                            errno == ENOBUFS || errno == ENOMEM) {
                                if (errno != EINTR && errno != ECONNABORTED)
                                        sleep_usec(10000);
                                continue;
                        }
                        return NULL;
                }
                /* a dump of many VFs must not wait for the reader */
                if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
                        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
                c = calloc(1, sizeof(*c));
                if (!c) {
                        safe_close(fd);
                        continue;
                }
                *c = (conn) { .r = r, .data = fd, .ctl = -EBADF };
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                if (pthread_create(&t, &attr, conn_thread, c) != 0) {
                        safe_close(fd);
                        free(c);
                }
                pthread_attr_destroy(&attr);
        }
}

int sim_rtnl_start(sim *s, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        sim_rtnl *r = sim_rtnl_get(s);
        pthread_t t;
        struct stat st;
        int fd, e;

        if (!r)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        /* a socket left by an earlier run goes; anything else stays */
        if (lstat(path, &st) >= 0 && S_ISSOCK(st.st_mode))
                (void) unlink(path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 256) < 0) {
                e = negative_errno();
                safe_close(fd);
                return e;
        }
        r->listen_fd = fd;
        r->path = strdup(path);
        e = pthread_create(&t, NULL, accept_thread, r);
        if (e != 0) {
                safe_close(fd);
                r->listen_fd = -EBADF;
                return -e;
        }
        (void) pthread_detach(t);
        return 0;
}
