/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <ctype.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>

#include "linkstate.h"
#include "rtnl-internal.h"
#include "util.h"
#include "vfattr.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

/* ---- parsers and names ---- */

int vf_mac_parse(const char *s, uint8_t ret[static 6]) {
        uint8_t m[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                const char *p = s + i * 3;
                unsigned v = 0;

                if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]))
                        return -EINVAL;
                if (i < 5 && p[2] != ':')
                        return -EINVAL;
                for (int k = 0; k < 2; k++)
                        v = v * 16 + (unsigned) (isdigit((unsigned char) p[k]) ? p[k] - '0'
                                                                              : tolower((unsigned char) p[k]) - 'a' + 10);
                m[i] = (uint8_t) v;
        }
        if (m[0] & 1)           /* multicast and broadcast cannot be a VF's address */
                return -EINVAL;
        memcpy(ret, m, 6);
        return 0;
}

char *vf_mac_format(const uint8_t mac[static 6], char buf[static 18]) {
        (void) snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}

bool vf_mac_is_zero(const uint8_t mac[static 6]) {
        static const uint8_t zero[6];

        return memcmp(mac, zero, 6) == 0;
}

int vf_vlan_parse(const char *s, uint16_t *ret) {
        unsigned v;

        if (safe_atou(s, 10, &v) < 0 || v > 4094)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int vf_qos_parse(const char *s, uint8_t *ret) {
        unsigned v;

        if (safe_atou(s, 10, &v) < 0 || v > 7)
                return -EINVAL;
        *ret = (uint8_t) v;
        return 0;
}

int vf_vlan_proto_parse(const char *s, uint16_t *ret) {
        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "802.1Q") == 0) {
                *ret = VF_VLAN_PROTO_8021Q;
                return 0;
        }
        if (strcasecmp(s, "802.1ad") == 0) {
                *ret = VF_VLAN_PROTO_8021AD;
                return 0;
        }
        return -EINVAL;
}

const char *vf_vlan_proto_name(uint16_t proto) {
        return proto == VF_VLAN_PROTO_8021AD ? "802.1ad" : proto == VF_VLAN_PROTO_8021Q ? "802.1Q" : "unknown";
}

static const char *const link_state_names[] = { "auto", "enable", "disable" };

int vf_link_state_parse(const char *s, uint8_t *ret) {
        for (size_t i = 0; s && i < ELEMENTSOF(link_state_names); i++)
                if (streq(s, link_state_names[i])) {
                        *ret = (uint8_t) i;
                        return 0;
                }
        return -EINVAL;
}

const char *vf_link_state_name(uint8_t state) {
        return state < ELEMENTSOF(link_state_names) ? link_state_names[state] : "unknown";
}

int vf_rate_parse(const char *s, uint32_t *ret) {
        unsigned v;

        /* Mbit/s; 10 Tbit/s is beyond any NIC */
        if (safe_atou(s, 10, &v) < 0 || v > 10000000)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *const attr_names[] = { "mac", "vlan", "rate", "spoofchk", "trust", "link_state", "query_rss" };

const char *vf_attr_name(unsigned attr) {
        for (size_t i = 0; i < ELEMENTSOF(attr_names); i++)
                if (attr == 1u << i)
                        return attr_names[i];
        return "unknown";
}

unsigned vf_config_diff(const sriov_vf_config *want, const sriov_vf_config *have) {
        unsigned d = 0, m = want->mask;

        if ((m & VF_ATTR_MAC) && (!(have->mask & VF_ATTR_MAC) || memcmp(want->mac, have->mac, 6) != 0))
                d |= VF_ATTR_MAC;
        if ((m & VF_ATTR_VLAN) && (!(have->mask & VF_ATTR_VLAN) || want->vlan != have->vlan ||
                                   want->qos != have->qos ||
                                   (want->vlan != 0 && want->vlan_proto != have->vlan_proto)))
                d |= VF_ATTR_VLAN;
        if ((m & VF_ATTR_RATE) && (!(have->mask & VF_ATTR_RATE) || want->min_tx_rate != have->min_tx_rate ||
                                   want->max_tx_rate != have->max_tx_rate))
                d |= VF_ATTR_RATE;
        if ((m & VF_ATTR_SPOOFCHK) && (!(have->mask & VF_ATTR_SPOOFCHK) || want->spoofchk != have->spoofchk))
                d |= VF_ATTR_SPOOFCHK;
        if ((m & VF_ATTR_TRUST) && (!(have->mask & VF_ATTR_TRUST) || want->trust != have->trust))
                d |= VF_ATTR_TRUST;
        if ((m & VF_ATTR_LINK_STATE) && (!(have->mask & VF_ATTR_LINK_STATE) || want->link_state != have->link_state))
                d |= VF_ATTR_LINK_STATE;
        if ((m & VF_ATTR_QUERY_RSS) && (!(have->mask & VF_ATTR_QUERY_RSS) || want->query_rss != have->query_rss))
                d |= VF_ATTR_QUERY_RSS;
        return d;
}

void vf_config_copy(sriov_vf_config *dst, const sriov_vf_config *src, unsigned mask) {
        mask &= src->mask;
        if (mask & VF_ATTR_MAC)
                memcpy(dst->mac, src->mac, 6);
        if (mask & VF_ATTR_VLAN) {
                dst->vlan = src->vlan;
                dst->qos = src->qos;
                dst->vlan_proto = src->vlan_proto;
        }
        if (mask & VF_ATTR_RATE) {
                dst->min_tx_rate = src->min_tx_rate;
                dst->max_tx_rate = src->max_tx_rate;
        }
        if (mask & VF_ATTR_SPOOFCHK)
                dst->spoofchk = src->spoofchk;
        if (mask & VF_ATTR_TRUST)
                dst->trust = src->trust;
        if (mask & VF_ATTR_LINK_STATE)
                dst->link_state = src->link_state;
        if (mask & VF_ATTR_QUERY_RSS)
                dst->query_rss = src->query_rss;
        dst->mask |= mask;
}

/* ---- attribute walking, bounds-checked ---- */

int attr_next(attr_iter *it, uint16_t *ret_type, const uint8_t **ret_data, size_t *ret_len) {
        struct nlattr h;
        size_t aligned;

        if (it->left < sizeof(h))
                return it->left == 0 ? 0 : -EBADMSG;
        memcpy(&h, it->p, sizeof(h));
        if (h.nla_len < sizeof(h) || h.nla_len > it->left)
                return -EBADMSG;
        *ret_type = h.nla_type & NLA_TYPE_MASK;
        *ret_data = it->p + NLA_HDRLEN;
        *ret_len = h.nla_len - NLA_HDRLEN;
        aligned = NLA_ALIGN(h.nla_len);
        if (aligned > it->left)
                aligned = it->left;
        it->p += aligned;
        it->left -= aligned;
        return 1;
}

int rtnl_link_msg_open(const void *msg, size_t len, bool dellink_ok, uint16_t *ret_type, struct ifinfomsg *ret_ifi,
                       attr_iter *ret_it) {
        struct nlmsghdr h;

        if (len < sizeof(h))
                return -EBADMSG;
        memcpy(&h, msg, sizeof(h));
        if (h.nlmsg_len < NLMSG_LENGTH(sizeof(*ret_ifi)) || h.nlmsg_len > len ||
            (h.nlmsg_type != RTM_NEWLINK && !(dellink_ok && h.nlmsg_type == RTM_DELLINK)))
                return -EBADMSG;
        memcpy(ret_ifi, (const uint8_t *) msg + NLMSG_HDRLEN, sizeof(*ret_ifi));
        ret_it->p = (const uint8_t *) msg + NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ret_ifi)));
        ret_it->left = h.nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ret_ifi)));
        *ret_type = h.nlmsg_type;
        return 0;
}

/* Each IFLA_VF_* struct starts with the VF number; payloads may be longer
 * than the struct we know (newer kernels), never shorter. */
#define GET_STRUCT(type, data, len, out)                \
        ({                                              \
                int _ok = (len) >= sizeof(type);        \
                if (_ok)                                \
                        memcpy(&(out), (data), sizeof(type)); \
                _ok;                                    \
        })

/* One parser per IFLA_VF_* attribute: each checks the length (and the
 * ranges), fills in what the kernel reports and returns 1 when the
 * attribute named the VF. */

static int parse_vf_mac(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_mac x;

        if (!GET_STRUCT(struct ifla_vf_mac, d, l, x))
                return -EBADMSG;
        c->vf = x.vf;
        memcpy(c->mac, x.mac, 6);
        c->mask |= VF_ATTR_MAC;
        return 1;
}

static int parse_vf_vlan(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_vlan x;

        if (!GET_STRUCT(struct ifla_vf_vlan, d, l, x) || x.vlan > 4095 || x.qos > 7)
                return -EBADMSG;
        /* IFLA_VF_VLAN_LIST, when it came first, has the protocol too */
        if (!(c->mask & VF_ATTR_VLAN) || c->vlan_proto == 0) {
                c->vlan = (uint16_t) x.vlan;
                c->qos = (uint8_t) x.qos;
                c->vlan_proto = VF_VLAN_PROTO_8021Q;
                c->mask |= VF_ATTR_VLAN;
        }
        c->vf = x.vf;
        return 1;
}

static int parse_vf_vlan_list(const uint8_t *d, size_t l, sriov_vf_config *c) {
        attr_iter li = { d, l };
        uint16_t t2;
        const uint8_t *d2;
        size_t l2;
        int r;

        while ((r = attr_next(&li, &t2, &d2, &l2)) > 0) {
                struct ifla_vf_vlan_info x;

                if (t2 != IFLA_VF_VLAN_INFO)
                        continue;
                if (!GET_STRUCT(struct ifla_vf_vlan_info, d2, l2, x) || x.vlan > 4095 || x.qos > 7)
                        return -EBADMSG;
                /* the kernel reports at most one (MAX_VLAN_LIST_LEN) */
                c->vlan = (uint16_t) x.vlan;
                c->qos = (uint8_t) x.qos;
                c->vlan_proto = ntohs(x.vlan_proto) ?: VF_VLAN_PROTO_8021Q;
                c->mask |= VF_ATTR_VLAN;
                c->vf = x.vf;
                return 1;
        }
        return r;       /* < 0: malformed; 0: no VLAN in the list */
}

static int parse_vf_rate(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_rate x;

        if (!GET_STRUCT(struct ifla_vf_rate, d, l, x))
                return -EBADMSG;
        c->min_tx_rate = x.min_tx_rate;
        c->max_tx_rate = x.max_tx_rate;
        c->mask |= VF_ATTR_RATE;
        c->vf = x.vf;
        return 1;
}

/* the older attribute: a maximum only, when IFLA_VF_RATE did not come first */
static int parse_vf_tx_rate(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_tx_rate x;

        if (!GET_STRUCT(struct ifla_vf_tx_rate, d, l, x))
                return -EBADMSG;
        if (!(c->mask & VF_ATTR_RATE)) {
                c->max_tx_rate = x.rate;
                c->mask |= VF_ATTR_RATE;
        }
        c->vf = x.vf;
        return 1;
}

/* spoofchk, trust and query_rss: { vf, setting }, where (u32)-1 says the
 * driver does not report it */
static int vf_setting(uint32_t vf, uint32_t setting, unsigned attr, bool *field, sriov_vf_config *c) {
        if (setting != UINT32_MAX) {
                *field = setting != 0;
                c->mask |= attr;
        }
        c->vf = vf;
        return 1;
}

static int parse_vf_spoofchk(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_spoofchk x;

        if (!GET_STRUCT(struct ifla_vf_spoofchk, d, l, x))
                return -EBADMSG;
        return vf_setting(x.vf, x.setting, VF_ATTR_SPOOFCHK, &c->spoofchk, c);
}

static int parse_vf_trust(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_trust x;

        if (!GET_STRUCT(struct ifla_vf_trust, d, l, x))
                return -EBADMSG;
        return vf_setting(x.vf, x.setting, VF_ATTR_TRUST, &c->trust, c);
}

static int parse_vf_rss_query(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_rss_query_en x;

        if (!GET_STRUCT(struct ifla_vf_rss_query_en, d, l, x))
                return -EBADMSG;
        return vf_setting(x.vf, x.setting, VF_ATTR_QUERY_RSS, &c->query_rss, c);
}

static int parse_vf_link_state(const uint8_t *d, size_t l, sriov_vf_config *c) {
        struct ifla_vf_link_state x;

        if (!GET_STRUCT(struct ifla_vf_link_state, d, l, x) || x.link_state > VF_LINK_STATE_DISABLE)
                return -EBADMSG;
        c->link_state = (uint8_t) x.link_state;
        c->mask |= VF_ATTR_LINK_STATE;
        c->vf = x.vf;
        return 1;
}

static int parse_vf_attr(uint16_t type, const uint8_t *d, size_t l, sriov_vf_config *c) {
        switch (type) {
        case IFLA_VF_MAC:
                return parse_vf_mac(d, l, c);
        case IFLA_VF_VLAN:
                return parse_vf_vlan(d, l, c);
        case IFLA_VF_VLAN_LIST:
                return parse_vf_vlan_list(d, l, c);
        case IFLA_VF_RATE:
                return parse_vf_rate(d, l, c);
        case IFLA_VF_TX_RATE:
                return parse_vf_tx_rate(d, l, c);
        case IFLA_VF_SPOOFCHK:
                return parse_vf_spoofchk(d, l, c);
        case IFLA_VF_TRUST:
                return parse_vf_trust(d, l, c);
        case IFLA_VF_LINK_STATE:
                return parse_vf_link_state(d, l, c);
        case IFLA_VF_RSS_QUERY_EN:
                return parse_vf_rss_query(d, l, c);
        default:
                return 0;       /* stats, GUIDs, broadcast: not ours */
        }
}

static int parse_vf_info(const uint8_t *data, size_t len, sriov_vf_config *c) {
        attr_iter it = { data, len };
        bool have_vf = false;
        uint16_t type;
        const uint8_t *d;
        size_t l;
        int r;

        *c = (sriov_vf_config) {};
        while ((r = attr_next(&it, &type, &d, &l)) > 0) {
                r = parse_vf_attr(type, d, l, c);
                if (r < 0)
                        return r;
                if (r > 0)
                        have_vf = true;
        }
        if (r < 0)
                return r;
        return have_vf ? 0 : -EBADMSG;
}

int vf_info_list_parse(const void *data, size_t len, sriov_vf_config **ret, size_t *ret_n) {
        _cleanup_free_ sriov_vf_config *v = NULL;
        attr_iter it = { data, len };
        size_t n = 0;
        uint16_t type;
        const uint8_t *d;
        size_t l;
        int r;

        while ((r = attr_next(&it, &type, &d, &l)) > 0) {
                sriov_vf_config c, *nv;

                if (type != IFLA_VF_INFO)
                        continue;
                r = parse_vf_info(d, l, &c);
                if (r < 0)
                        return r;
                /* one record per VF number */
                for (size_t i = 0; i < n; i++)
                        if (v[i].vf == c.vf)
                                return -EBADMSG;
                if (n >= 65536)
                        return -E2BIG;
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n++] = c;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

void sriov_link_done(sriov_link *l) {
        free(l->vfs);
        *l = (sriov_link) { .ifindex = 0 };
}

int vf_link_msg_parse(const void *msg, size_t len, sriov_link *ret) {
        struct ifinfomsg ifi;
        sriov_link l = {};
        attr_iter it;
        uint16_t type;
        const uint8_t *d;
        size_t al;
        int r;

        r = rtnl_link_msg_open(msg, len, false, &type, &ifi, &it);
        if (r < 0)
                return r;
        l.ifindex = ifi.ifi_index;
        l.flags = ifi.ifi_flags;
        while ((r = attr_next(&it, &type, &d, &al)) > 0) {
                if (type == IFLA_NUM_VF && al >= 4)
                        memcpy(&l.num_vf, d, 4);
                else if (type == IFLA_VFINFO_LIST) {
                        free(l.vfs);
                        l.vfs = NULL;
                        r = vf_info_list_parse(d, al, &l.vfs, &l.n_vfs);
                        if (r < 0) {
                                sriov_link_done(&l);
                                return r;
                        }
                }
        }
        if (r < 0) {
                sriov_link_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

/* ---- the kernel ---- */

static int on_valid(struct nl_msg *m, void *arg) {
        rtnl_call *c = arg;
        struct nlmsghdr *h = nlmsg_hdr(m);

        if (c->on_message) {
                int r = c->on_message(h, c->userdata);
                if (r < 0 && c->parse_error == 0)
                        c->parse_error = r;
                return NL_OK;
        }
        if (c->link && h->nlmsg_type == RTM_NEWLINK) {
                sriov_link_done(c->link);
                c->parse_error = vf_link_msg_parse(h, h->nlmsg_len, c->link);
        }
        return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg) {
        rtnl_call *c = arg;
        struct nlmsghdr *h = (struct nlmsghdr *) ((uint8_t *) e - NLMSG_HDRLEN);

        c->error = e->error;
        /* NLMSGERR_ATTR_MSG (extended ack) after the echoed request header */
        if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
                size_t off = sizeof(*e);
                attr_iter it;
                uint16_t type;
                const uint8_t *d;
                size_t l;

                if (!(h->nlmsg_flags & NLM_F_CAPPED))
                        off += e->msg.nlmsg_len - sizeof(e->msg);
                if (NLMSG_HDRLEN + off < h->nlmsg_len) {
                        it.p = (const uint8_t *) e + off;
                        it.left = h->nlmsg_len - NLMSG_HDRLEN - off;
                        while (attr_next(&it, &type, &d, &l) > 0)
                                if (type == 1 /* NLMSGERR_ATTR_MSG */ && l > 0)
                                        (void) snprintf(c->message, sizeof(c->message), "%.*s",
                                                        (int) strnlen((const char *) d, l), (const char *) d);
                }
        }
        return NL_STOP;
}

static int on_ack(struct nl_msg *m, void *arg) {
        return NL_STOP;
}

void rtnl_sock_freep(struct nl_sock **s) {
        if (*s)
                nl_socket_free(*s);
}

void rtnl_msg_freep(struct nl_msg **m) {
        if (*m)
                nlmsg_free(*m);
}

int rtnl_open(struct nl_sock **ret, rtnl_call *call) {
        struct nl_sock *s = nl_socket_alloc();
        int one = 1;

        if (!s)
                return -ENOMEM;
        if (nl_connect(s, NETLINK_ROUTE) < 0) {
                nl_socket_free(s);
                return -EIO;
        }
        (void) setsockopt(nl_socket_get_fd(s), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, on_valid, call);
        nl_socket_modify_cb(s, NL_CB_ACK, NL_CB_CUSTOM, on_ack, call);
        nl_socket_modify_err_cb(s, NL_CB_CUSTOM, on_error, call);
        *ret = s;
        return 0;
}

/* Send m and read until the kernel's answer; returns the kernel's errno. */
int rtnl_transact(struct nl_sock *s, struct nl_msg *m, rtnl_call *call) {
        int r;

        r = nl_send_auto(s, m);
        if (r < 0)
                return -EIO;
        r = nl_recvmsgs_default(s);
        if (call->error < 0)
                return call->error;
        if (r < 0)
                return -EIO;
        return 0;
}

int rtnl_append_ifinfo(struct nl_msg *m, int ifindex, unsigned flags, unsigned change) {
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
                .ifi_flags = flags,
                .ifi_change = change,
        };

        return nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ? -ENOMEM : 0;
}

int rtnl_get_link(const char *ifname, uint32_t ext_mask, rtnl_call *call, const int *ifindex, const char *what,
                  sriov_error *err) {
        _cleanup_(rtnl_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_msg_freep) struct nl_msg *m = NULL;
        int r;

        if (!ifname_is_valid(ifname))
                return sriov_error_set(err, -EINVAL, "Invalid interface name \"%.32s\"", strempty(ifname));
        r = rtnl_open(&s, call);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot open an rtnetlink socket: %s", strerror(-r));
        m = nlmsg_alloc_simple(RTM_GETLINK, 0);
        if (!m || rtnl_append_ifinfo(m, 0, 0, 0) < 0 || nla_put_string(m, IFLA_IFNAME, ifname) < 0 ||
            nla_put_u32(m, IFLA_EXT_MASK, ext_mask) < 0)
                return -ENOMEM;
        r = rtnl_transact(s, m, call);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read %s%s: %s", what, ifname,
                                       call->message[0] ? call->message : strerror(-r));
        if (call->parse_error < 0 || *ifindex <= 0)
                return sriov_error_set(err, -EBADMSG, "Malformed answer from the kernel about %s", ifname);
        return 0;
}

int sriov_link_get(const char *ifname, sriov_link *ret, sriov_error *err) {
        sriov_link l = {};
        rtnl_call call = { .link = &l };
        int r;

        r = rtnl_get_link(ifname, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, &call, &l.ifindex, "interface ", err);
        if (r < 0) {
                sriov_link_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}


/* One IFLA_VF_INFO carrying exactly one attribute of c. */
static int put_one(struct nl_msg *m, const sriov_vf_config *c, unsigned attr) {
        struct nlattr *list, *info;
        int r = 0;

        list = nla_nest_start(m, IFLA_VFINFO_LIST);
        info = list ? nla_nest_start(m, IFLA_VF_INFO) : NULL;
        if (!info)
                return -ENOMEM;
        switch (attr) {
        case VF_ATTR_MAC: {
                struct ifla_vf_mac x = { .vf = c->vf };
                memcpy(x.mac, c->mac, 6);
                r = nla_put(m, IFLA_VF_MAC, sizeof(x), &x);
                break;
        }
        case VF_ATTR_VLAN: {
                struct nlattr *vl = nla_nest_start(m, IFLA_VF_VLAN_LIST);
                /* clearing the VLAN: 802.1Q, whatever protocol was in use
                 * (802.1Q-only drivers refuse anything else, even for 0) */
                struct ifla_vf_vlan_info x = {
                        .vf = c->vf, .vlan = c->vlan, .qos = c->qos,
                        .vlan_proto = htons(c->vlan && c->vlan_proto ? c->vlan_proto : VF_VLAN_PROTO_8021Q),
                };
                if (!vl)
                        return -ENOMEM;
                r = nla_put(m, IFLA_VF_VLAN_INFO, sizeof(x), &x);
                nla_nest_end(m, vl);
                break;
        }
        case VF_ATTR_RATE: {
                struct ifla_vf_rate x = { .vf = c->vf, .min_tx_rate = c->min_tx_rate, .max_tx_rate = c->max_tx_rate };
                r = nla_put(m, IFLA_VF_RATE, sizeof(x), &x);
                break;
        }
        case VF_ATTR_SPOOFCHK: {
                struct ifla_vf_spoofchk x = { .vf = c->vf, .setting = c->spoofchk };
                r = nla_put(m, IFLA_VF_SPOOFCHK, sizeof(x), &x);
                break;
        }
        case VF_ATTR_TRUST: {
                struct ifla_vf_trust x = { .vf = c->vf, .setting = c->trust };
                r = nla_put(m, IFLA_VF_TRUST, sizeof(x), &x);
                break;
        }
        case VF_ATTR_LINK_STATE: {
                struct ifla_vf_link_state x = { .vf = c->vf, .link_state = c->link_state };
                r = nla_put(m, IFLA_VF_LINK_STATE, sizeof(x), &x);
                break;
        }
        case VF_ATTR_QUERY_RSS: {
                struct ifla_vf_rss_query_en x = { .vf = c->vf, .setting = c->query_rss };
                r = nla_put(m, IFLA_VF_RSS_QUERY_EN, sizeof(x), &x);
                break;
        }
        default:
                return -EINVAL;
        }
        if (r < 0)
                return -ENOMEM;
        nla_nest_end(m, info);
        nla_nest_end(m, list);
        return 0;
}

static int set_one(int ifindex, const sriov_vf_config *c, unsigned attr, char *msg, size_t msg_size) {
        _cleanup_(rtnl_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_msg_freep) struct nl_msg *m = NULL;
        rtnl_call call = {};
        int r;

        r = rtnl_open(&s, &call);
        if (r < 0)
                return r;
        m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK);
        if (!m || rtnl_append_ifinfo(m, ifindex, 0, 0) < 0)
                return -ENOMEM;
        r = put_one(m, c, attr);
        if (r < 0)
                return r;
        r = rtnl_transact(s, m, &call);
        if (r < 0 && msg)
                (void) snprintf(msg, msg_size, "%s", call.message[0] ? call.message : strerror(-r));
        return r;
}

static const sriov_vf_config *find_vf(const sriov_link *l, uint32_t vf) {
        for (size_t i = 0; i < l->n_vfs; i++)
                if (l->vfs[i].vf == vf)
                        return &l->vfs[i];
        return NULL;
}

static const unsigned set_order[] = {
        VF_ATTR_MAC,            /* first: on some drivers a MAC change resets the VF */
        VF_ATTR_VLAN, VF_ATTR_RATE, VF_ATTR_SPOOFCHK, VF_ATTR_TRUST, VF_ATTR_LINK_STATE, VF_ATTR_QUERY_RSS,
};

/* Put back the attributes of done that come before set_order[i], newest first. */
static int put_back(int ifindex, const sriov_vf_config *old, unsigned done, size_t i) {
        int r;

        for (size_t k = i; k-- > 0;) {
                if (!(done & set_order[k]))
                        continue;
                r = set_one(ifindex, old, set_order[k], NULL, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One RTM_SETLINK per attribute of todo, MAC first; on a failure, put back
 * (to old) the attributes already changed. *w ends as what was set: a zero
 * MAC the driver refused becomes 02:00:00:00:00:00 (*zero_fallback). */
static int set_attrs(const char *pf_ifname, int ifindex, sriov_vf_config *w, const sriov_vf_config *old,
                     unsigned todo, unsigned *ret_done, bool *zero_fallback, sriov_error *err) {
        unsigned done = 0;
        char msg[256] = "";
        int r;

        for (size_t i = 0; i < ELEMENTSOF(set_order); i++) {
                unsigned a = set_order[i];

                if (!(todo & a))
                        continue;
                r = set_one(ifindex, w, a, msg, sizeof(msg));
                if (r == -EINVAL && a == VF_ATTR_MAC && vf_mac_is_zero(w->mac)) {
                        /* clearing: drivers that refuse 00:00:00:00:00:00 take
                         * the locally administered all-but-zero address */
                        static const uint8_t cleared[6] = { 0x02, 0, 0, 0, 0, 0 };

                        memcpy(w->mac, cleared, 6);
                        r = set_one(ifindex, w, a, msg, sizeof(msg));
                        *zero_fallback = r >= 0;
                }
                if (r < 0) {
                        /* put back what this call changed */
                        int rb = put_back(ifindex, old, done, i);

                        /* the driver has no such VF operation: not supported,
                         * not "not SR-IOV" */
                        if (r == -EOPNOTSUPP)
                                r = -EPROTONOSUPPORT;
                        return sriov_error_set(err, r, "Cannot set %s of VF %u on %s: %s%s", vf_attr_name(a), w->vf,
                                               pf_ifname, msg,
                                               rb < 0 ? " (and putting back the earlier attributes failed too)" : "");
                }
                done |= a;
        }
        *ret_done = done;
        return 0;
}

/* Order: read the PF (up? the VF's current values) → bring the PF up if
 * allowed → one RTM_SETLINK per changed attribute, MAC first → on a failure,
 * put back the attributes already changed, newest first → read back and
 * compare. */
int sriov_vf_set(const char *pf_ifname, const sriov_vf_config *want, unsigned flags,
                 sriov_vf_config *ret_after, unsigned *ret_ignored, bool *ret_zero_mac_fallback,
                 sriov_error *err) {
        _cleanup_(sriov_link_done) sriov_link before = {}, after = {};
        const sriov_vf_config *cur, *now;
        sriov_vf_config old, w = *want;
        unsigned todo, done = 0, ignored;
        bool zero_fallback = false;
        int r;

        r = sriov_link_get(pf_ifname, &before, err);
        if (r < 0)
                return r;
        cur = find_vf(&before, want->vf);
        if (!cur)
                return sriov_error_set(err, -ERANGE, "%s has no VF %u (the kernel reports %u VFs)", pf_ifname,
                                       want->vf, before.num_vf);
        old = *cur;
        todo = vf_config_diff(want, cur);
        if (todo && !(before.flags & IFF_UP)) {
                if (!(flags & SRIOV_VF_BRING_PF_UP))
                        return sriov_error_set(err, -ENETDOWN,
                                               "%s is down; VF attributes need the PF up (many drivers refuse them otherwise)",
                                               pf_ifname);
                r = sriov_link_set_up(pf_ifname, err);
                if (r < 0)
                        return r;
        }

        r = set_attrs(pf_ifname, before.ifindex, &w, &old, todo, &done, &zero_fallback, err);
        if (r < 0)
                return r;

        r = sriov_link_get(pf_ifname, &after, err);
        if (r < 0)
                return r;
        now = find_vf(&after, want->vf);
        if (!now)
                return sriov_error_set(err, -ENODEV, "VF %u of %s vanished while it was configured", want->vf,
                                       pf_ifname);
        ignored = vf_config_diff(&w, now) & done;
        if (ret_after)
                *ret_after = *now;
        if (ret_ignored)
                *ret_ignored = ignored;
        if (ret_zero_mac_fallback)
                *ret_zero_mac_fallback = zero_fallback;
        return 0;
}
