/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

/* VF traffic counters: the IFLA_VF_STATS nest of each IFLA_VF_INFO in the
 * PF's RTM_NEWLINK, asked for with RTEXT_FILTER_VF and without
 * RTEXT_FILTER_SKIP_STATS. The kernel (rtnl_fill_vfinfo()) always puts the
 * nest in, with zeros when the PF driver has no ndo_get_vf_stats (igb,
 * netdevsim, ixgbe in 6.1): zeros from such a driver are no counters, and
 * are reported as such (vf_stats_driver_reports()). */

enum {
        VF_STAT_RX_PACKETS,
        VF_STAT_TX_PACKETS,
        VF_STAT_RX_BYTES,
        VF_STAT_TX_BYTES,
        VF_STAT_BROADCAST,
        VF_STAT_MULTICAST,
        VF_STAT_RX_DROPPED,
        VF_STAT_TX_DROPPED,
        _VF_STAT_MAX,
};

typedef struct sriov_vf_stats {
        uint32_t vf;
        unsigned mask;                  /* 1 << VF_STAT_* of the counters the answer had; 0: no nest */
        uint64_t v[_VF_STAT_MAX];
} sriov_vf_stats;

/* "rx_packets", ... (the kernel's names), NULL past the end */
const char *vf_stat_name(unsigned i);

/* The counters of each IFLA_VF_INFO in an IFLA_VFINFO_LIST payload (pure;
 * fuzzed): one record per VF, in the kernel's order. */
int vf_stats_list_parse(const void *data, size_t len, sriov_vf_stats **ret, size_t *ret_n);

/* Does this PF driver fill the counters in (ndo_get_vf_stats, Linux 6.1–6.12)? */
bool vf_stats_driver_reports(const char *driver);

/* Are these counters the driver's? false: no nest, or zeros from a driver
 * that does not count (ret_why says which, for people). */
bool vf_stats_reported(const sriov_vf_stats *s, const char *pf_driver, const char **ret_why);

typedef struct sriov_link_stats {
        int ifindex;
        unsigned num_vf;                /* IFLA_NUM_VF */
        bool has_vfinfo;                /* an IFLA_VFINFO_LIST was there */
        sriov_vf_stats *vfs;
        size_t n_vfs;
} sriov_link_stats;

void sriov_link_stats_done(sriov_link_stats *s);
/* A whole RTM_NEWLINK message (pure; tested with canned messages). */
int vf_stats_msg_parse(const void *msg, size_t len, sriov_link_stats *ret);
/* The kernel: the PF netdev's VF counters, read now. */
int sriov_link_get_stats(const char *ifname, sriov_link_stats *ret, sriov_error *err);
