/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

/* A network interface's link as rtnetlink tells it (RTM_NEWLINK and
 * RTM_DELLINK, answers and notifications alike), and the kernel's link
 * notifications (RTNLGRP_LINK) as they happen: a socket to poll, nothing
 * that runs while nothing changes. A notification has no VF settings
 * (rtmsg_ifinfo() fills without RTEXT_FILTER_VF): a change of a VF's
 * settings arrives as an RTM_NEWLINK of its PF (do_setlink() →
 * netdev_state_change()), to be read with sriov_link_get(). */

typedef struct sriov_link_info {
        int ifindex;
        char ifname[16];                /* IFNAMSIZ */
        unsigned short type;            /* ARPHRD_* */
        unsigned flags;                 /* IFF_* */
        int carrier;                    /* IFLA_CARRIER: 1, 0; -1 when absent */
        int operstate;                  /* IF_OPER_*; -1 when absent */
        bool deleted;                   /* RTM_DELLINK */
} sriov_link_info;

/* One RTM_NEWLINK or RTM_DELLINK (pure; canned messages in the tests). */
int sriov_link_info_parse(const void *msg, size_t len, sriov_link_info *ret);
/* "up", "down", "lowerlayerdown", ... (RFC 2863, as iproute2 names them) */
const char *sriov_operstate_name(int operstate);
/* "ethernet", "infiniband", or "other" */
const char *sriov_link_type_name(unsigned short type);

/* The interface now (RTM_GETLINK by name, without VF information). */
int sriov_link_info_get(const char *ifname, sriov_link_info *ret, sriov_error *err);

/* The link's speed in Mbit/s from sysfs (class/net/IF/speed): -1 when the
 * kernel does not know it (the interface is down: EINVAL; no link: -1). */
int sriov_netdev_speed(const sriov_ctx *c, const char *ifname, int *ret_mbps);
/* The RDMA device of a PCI function (its infiniband/ directory), if any:
 * 1 with its name, 0 without. */
int sriov_device_rdma(const sriov_ctx *c, const pci_addr *a, char **ret_name);

/* The subscription. */
typedef struct sriov_linkmon sriov_linkmon;
int sriov_linkmon_open(sriov_linkmon **ret);
sriov_linkmon *sriov_linkmon_free(sriov_linkmon *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(sriov_linkmon *, sriov_linkmon_free);
int sriov_linkmon_fd(const sriov_linkmon *m);
/* Everything queued, one call of cb per link message, without blocking.
 * -ENOBUFS: the kernel dropped notifications (the socket overran): what
 * was read is delivered, and the caller reads every link it cares about
 * again. */
typedef void (*sriov_linkmon_cb)(const sriov_link_info *l, void *userdata);
int sriov_linkmon_read(sriov_linkmon *m, sriov_linkmon_cb cb, void *userdata);
