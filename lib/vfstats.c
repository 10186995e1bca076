/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "rtnl-internal.h"
#include "util.h"
#include "vfstats.h"

static const char *const stat_names[_VF_STAT_MAX] = {
        [VF_STAT_RX_PACKETS] = "rx_packets", [VF_STAT_TX_PACKETS] = "tx_packets",
        [VF_STAT_RX_BYTES] = "rx_bytes",     [VF_STAT_TX_BYTES] = "tx_bytes",
        [VF_STAT_BROADCAST] = "broadcast",   [VF_STAT_MULTICAST] = "multicast",
        [VF_STAT_RX_DROPPED] = "rx_dropped", [VF_STAT_TX_DROPPED] = "tx_dropped",
};

const char *vf_stat_name(unsigned i) {
        return i < _VF_STAT_MAX ? stat_names[i] : NULL;
}

/* IFLA_VF_STATS_* → VF_STAT_* (the uapi numbers, IFLA_VF_STATS_PAD between) */
static int stat_index(uint16_t type) {
        switch (type) {
        case IFLA_VF_STATS_RX_PACKETS:
                return VF_STAT_RX_PACKETS;
        case IFLA_VF_STATS_TX_PACKETS:
                return VF_STAT_TX_PACKETS;
        case IFLA_VF_STATS_RX_BYTES:
                return VF_STAT_RX_BYTES;
        case IFLA_VF_STATS_TX_BYTES:
                return VF_STAT_TX_BYTES;
        case IFLA_VF_STATS_BROADCAST:
                return VF_STAT_BROADCAST;
        case IFLA_VF_STATS_MULTICAST:
                return VF_STAT_MULTICAST;
        case IFLA_VF_STATS_RX_DROPPED:
                return VF_STAT_RX_DROPPED;
        case IFLA_VF_STATS_TX_DROPPED:
                return VF_STAT_TX_DROPPED;
        default:
                return -1;      /* IFLA_VF_STATS_PAD, newer counters */
        }
}

static int parse_stats_nest(const uint8_t *data, size_t len, sriov_vf_stats *s) {
        attr_iter it = { data, len };
        const uint8_t *d;
        uint16_t type;
        size_t l;
        int r, i;

        while ((r = attr_next(&it, &type, &d, &l)) > 0) {
                i = stat_index(type);
                if (i < 0)
                        continue;
                if (l < sizeof(uint64_t))
                        return -EBADMSG;
                memcpy(&s->v[i], d, sizeof(uint64_t));
                s->mask |= 1u << i;
        }
        return r;
}

/* One IFLA_VF_INFO: the VF number comes with IFLA_VF_MAC, which the kernel
 * always puts first. */
static int parse_info(const uint8_t *data, size_t len, sriov_vf_stats *s) {
        attr_iter it = { data, len };
        bool have_vf = false;
        const uint8_t *d;
        uint16_t type;
        size_t l;
        int r;

        *s = (sriov_vf_stats) {};
        while ((r = attr_next(&it, &type, &d, &l)) > 0) {
                if (type == IFLA_VF_MAC) {
                        if (l < sizeof(struct ifla_vf_mac))
                                return -EBADMSG;
                        memcpy(&s->vf, d, sizeof(uint32_t));
                        have_vf = true;
                } else if (type == IFLA_VF_STATS) {
                        r = parse_stats_nest(d, l, s);
                        if (r < 0)
                                return r;
                }
        }
        if (r < 0)
                return r;
        return have_vf ? 0 : -EBADMSG;
}

static int append(sriov_vf_stats **v, size_t *n, const sriov_vf_stats *s) {
        sriov_vf_stats *nv;

        for (size_t i = 0; i < *n; i++)
                if ((*v)[i].vf == s->vf)
                        return -EBADMSG;        /* one record per VF */
        if (*n >= 65536)
                return -E2BIG;
        if ((*n & (*n - 1)) == 0) {             /* grow at powers of two */
                nv = realloc(*v, MAX(*n * 2, 8u) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                *v = nv;
        }
        (*v)[(*n)++] = *s;
        return 0;
}

int vf_stats_list_parse(const void *data, size_t len, sriov_vf_stats **ret, size_t *ret_n) {
        _cleanup_free_ sriov_vf_stats *v = NULL;
        attr_iter it = { data, len };
        const uint8_t *d;
        uint16_t type;
        size_t l, n = 0;
        int r;

        while ((r = attr_next(&it, &type, &d, &l)) > 0) {
                sriov_vf_stats s;

                if (type != IFLA_VF_INFO)
                        continue;
                r = parse_info(d, l, &s);
                if (r < 0)
                        return r;
                r = append(&v, &n, &s);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The PF drivers of Linux 6.1–6.12 with ndo_get_vf_stats. */
static const char *const counting_drivers[] = {
        "mlx5_core", "i40e", "ice", "ionic", "liquidio", "enic", "bnxt_en", "octeontx2-pf",
};

bool vf_stats_driver_reports(const char *driver) {
        for (size_t i = 0; driver && i < ELEMENTSOF(counting_drivers); i++)
                if (streq(driver, counting_drivers[i]))
                        return true;
        return false;
}

bool vf_stats_reported(const sriov_vf_stats *s, const char *pf_driver, const char **ret_why) {
        bool nonzero = false;

        if (!s || s->mask == 0) {
                *ret_why = "the kernel sent no VF statistics";
                return false;
        }
        for (size_t i = 0; i < _VF_STAT_MAX; i++)
                nonzero = nonzero || s->v[i] != 0;
        if (nonzero || vf_stats_driver_reports(pf_driver)) {
                *ret_why = NULL;
                return true;
        }
        *ret_why = "the PF driver does not count VF traffic (the kernel sends zeros)";
        return false;
}

void sriov_link_stats_done(sriov_link_stats *s) {
        free(s->vfs);
        *s = (sriov_link_stats) {};
}

int vf_stats_msg_parse(const void *msg, size_t len, sriov_link_stats *ret) {
        sriov_link_stats s = {};
        struct ifinfomsg ifi;
        const uint8_t *d;
        attr_iter it;
        uint16_t type;
        size_t al;
        int r;

        r = rtnl_link_msg_open(msg, len, false, &type, &ifi, &it);
        if (r < 0)
                return r;
        s.ifindex = ifi.ifi_index;
        while ((r = attr_next(&it, &type, &d, &al)) > 0) {
                if (type == IFLA_NUM_VF && al >= 4)
                        memcpy(&s.num_vf, d, 4);
                if (type != IFLA_VFINFO_LIST)
                        continue;
                free(s.vfs);
                s.vfs = NULL;
                s.has_vfinfo = true;
                r = vf_stats_list_parse(d, al, &s.vfs, &s.n_vfs);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                sriov_link_stats_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static int on_link(const struct nlmsghdr *h, void *userdata) {
        sriov_link_stats *s = userdata;

        if (h->nlmsg_type != RTM_NEWLINK)
                return 0;
        sriov_link_stats_done(s);
        return vf_stats_msg_parse(h, h->nlmsg_len, s);
}

int sriov_link_get_stats(const char *ifname, sriov_link_stats *ret, sriov_error *err) {
        sriov_link_stats st = {};
        rtnl_call call = { .on_message = on_link, .userdata = &st };
        int r;

        r = rtnl_get_link(ifname, RTEXT_FILTER_VF, &call, &st.ifindex, "the VF statistics of ", err);
        if (r < 0) {
                sriov_link_stats_done(&st);
                return r;
        }
        *ret = st;
        return 0;
}
