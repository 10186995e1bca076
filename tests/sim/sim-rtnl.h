/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The rtnetlink emulation's insides, shared by sim-rtnl.c (the server, the
 * messages) and sim-rtnl-model.c (the per-driver VF models, the per-VF
 * state, addresses and routes). The rest of the simulator sees only the
 * few functions declared in sim.h.
 *
 * Locking: r->rtnl_lock is rtnl_lock(): every request runs under it, as
 * rtnetlink_rcv_msg() runs doit/dumpit under rtnl_mutex, and it is taken
 * before sim->lock. The VF state and the address tables are model fields:
 * read and written under sim->lock (so .sim/state can show them). */

#include <linux/if_link.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/* struct ifla_vf_stats: rx/tx packets, rx/tx bytes, broadcast, multicast, rx/tx dropped */
#define SIM_VF_STATS 8

/* What one driver's ndo_set_vf_* do ("vf_ops" in the topology's driver). */
typedef struct sim_vf_model {
        char *driver;
        bool mac, vlan, rate, spoofchk, trust, link_state, query_rss;   /* implemented */
        bool mac_zero_einval;           /* "zero": "einval" (else "clear": drops the administrative MAC) */
        bool mac_netdev_reset;          /* "netdev": "reset" (VF reset, its driver takes the MAC now) or "probe" */
        bool mac_report_vf;             /* "report": "vf" (without an administrative MAC the VF driver's own) or "admin" */
        bool vlan_8021ad;               /* "proto" lists 802.1ad */
        bool vlan_proto_first;          /* the protocol is checked before the range */
        bool rate_min;                  /* min_tx_rate supported (else EINVAL when non-zero) */
        bool rate_link_up;              /* EINVAL while the PF's link is down */
        unsigned rate_max;              /* Mbit/s above which EINVAL (link speed); 0: unchecked */
        unsigned rate_floor;            /* 0 < max_tx_rate <= floor: EINVAL */
        bool spoofchk_default;
        bool query_rss_default;
        bool link_state_invalid_auto;   /* an unknown link state means auto (else EINVAL) */
        bool ivi_memset;                /* get_vf_config zeroes ifla_vf_info: vlan_proto 0, query_rss 0 */
        bool stats;                     /* ndo_get_vf_stats: the VF's counters (else the kernel sends zeros) */
} sim_vf_model;

/* One VF as its PF driver keeps it (reset when the VF goes away). */
typedef struct sim_vf_state {
        sim_device *vf;                 /* referenced: the pointer stays unique */
        uint8_t mac[6];                 /* what get_vf_config reports */
        bool mac_admin;                 /* pf_set_mac */
        uint16_t vlan;
        uint8_t qos;
        uint16_t vlan_proto;            /* host order */
        uint32_t min_rate, max_rate;
        bool spoofchk, trust, query_rss;
        uint8_t link_state;             /* IFLA_VF_LINK_STATE_* */
        uint64_t stats[SIM_VF_STATS];   /* the traffic ("traffic" in .sim/ctl), as the hardware counts it */
} sim_vf_state;

typedef struct sim_ipaddr {
        unsigned char family;
        uint8_t addr[16];
        uint8_t prefix;
} sim_ipaddr;

typedef struct sim_iproute {
        unsigned char family;
        uint8_t dst[16];
        uint8_t dst_len;
        bool gw_set, metric_set;
        uint8_t gw[16];
        uint32_t metric;
} sim_iproute;

typedef struct sim_ipconf {
        sim_ipaddr *addrs;
        size_t n_addrs;
        sim_iproute *routes;
        size_t n_routes;
} sim_ipconf;

/* topology: what the host configures on a device's net device */
typedef struct sim_topo_ip {
        char bdf[PCI_ADDR_STRLEN];
        sim_ipconf conf;
} sim_topo_ip;

/* a registered net device's addresses and routes (gone with it) */
typedef struct sim_netdev_ip {
        sim_netdev *nd;                 /* referenced */
        sim_ipconf conf;
} sim_netdev_ip;

struct sim_rtnl {
        sim *sim;
        pthread_mutex_t rtnl_lock;
        sim_vf_model **models;
        size_t n_models;
        sim_topo_ip *topo_ip;
        size_t n_topo_ip;
        /* under sim->lock */
        sim_vf_state **vfs;
        size_t n_vfs;
        sim_netdev_ip **ips;
        size_t n_ips;
        bool probe_hook;                /* sim_rtnl_netdev_registered() has been called */
        /* the server */
        int listen_fd;
        char *path;
        pthread_mutex_t ports_lock;
        uint32_t *ports;
        size_t n_ports;
        int32_t rover;
        /* the connections that joined a multicast group (under subs_lock,
         * taken after sim->lock) */
        pthread_mutex_t subs_lock;
        struct conn **subs;
        size_t n_subs;
};

sim_rtnl *sim_rtnl_get(sim *s);

/* sim-rtnl-model.c; sim->lock held unless said otherwise */
const sim_vf_model *sim_vf_model_find(const sim_rtnl *r, const sim_driver *drv);
sim_device *sim_vf_find(const sim_device *pf, uint32_t vf);     /* present VF n, or NULL */
sim_vf_state *sim_vf_state_get(sim_rtnl *r, sim_device *vf);    /* NULL: out of memory */
void sim_vf_state_gc(sim_rtnl *r);
/* ndo_get_vf_config(): 0, or -errno and the VF is left out of the list */
typedef struct sim_vf_info {            /* the kernel's struct ifla_vf_info */
        uint32_t vf;
        uint8_t mac[32];
        uint32_t vlan, qos;
        uint16_t vlan_proto;            /* network order */
        uint32_t spoofchk, linkstate, min_tx_rate, max_tx_rate, rss_query_en, trusted;
} sim_vf_info;
int sim_vf_get_config(sim_rtnl *r, sim_device *pf, uint32_t vf, sim_vf_info *ret);
/* ndo_get_vf_stats(): the counters, or zeros (as rtnl_fill_vfinfo()'s
 * memset) when the driver has none */
void sim_vf_get_stats(sim_rtnl *r, sim_device *pf, uint32_t vf, uint64_t ret[static SIM_VF_STATS]);
sim_ipconf *sim_netdev_ipconf(sim_rtnl *r, sim_netdev *nd);     /* NULL: none / out of memory */

/* One ndo_set_vf_* call, from do_setvfinfo(); rtnl_lock held, sim->lock
 * not (the latency model sleeps in here). */
typedef enum sim_vf_op {
        SIM_VF_MAC,
        SIM_VF_VLAN,
        SIM_VF_RATE,
        SIM_VF_SPOOFCHK,
        SIM_VF_TRUST,
        SIM_VF_LINK_STATE,
        SIM_VF_QUERY_RSS,
} sim_vf_op;

typedef struct sim_vf_req {
        sim_vf_op op;
        uint32_t vf;
        uint8_t mac[6];
        uint32_t vlan, qos;
        uint16_t vlan_proto;            /* host order */
        uint32_t min_rate, max_rate;
        uint32_t setting;               /* spoofchk, trust, link state, query_rss */
} sim_vf_req;

int sim_vf_ndo_set(sim_rtnl *r, sim_netdev *pf_nd, const sim_vf_req *req);
