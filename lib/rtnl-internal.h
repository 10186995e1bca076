/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rtnetlink plumbing shared by the lib/ files that talk to the kernel
 * (vfattr.c, netuse.c): libnl sockets and messages, the kernel's errno and
 * extended-ack message captured, bounds-checked attribute walking. */

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "vfattr.h"

typedef struct rtnl_call {
        int error;                      /* from NLMSG_ERROR */
        char message[256];              /* extended ack, if any */
        sriov_link *link;               /* RTM_GETLINK: parse into this */
        int parse_error;
        /* or, for dumps: called for every message */
        int (*on_message)(const struct nlmsghdr *h, void *userdata);
        void *userdata;
} rtnl_call;

int rtnl_open(struct nl_sock **ret, rtnl_call *call);
int rtnl_transact(struct nl_sock *s, struct nl_msg *m, rtnl_call *call);
int rtnl_append_ifinfo(struct nl_msg *m, int ifindex, unsigned flags, unsigned change);
/* RTM_GETLINK of IFNAME with EXT_MASK, answered into CALL; an error (set in
 * ERR, "Cannot read WHAT IFNAME") also when the answer does not parse or
 * names no interface (*IFINDEX, which CALL's parser fills, still <= 0). */
int rtnl_get_link(const char *ifname, uint32_t ext_mask, rtnl_call *call, const int *ifindex, const char *what,
                  sriov_error *err);
void rtnl_sock_freep(struct nl_sock **s);
void rtnl_msg_freep(struct nl_msg **m);

typedef struct attr_iter {
        const uint8_t *p;
        size_t left;
} attr_iter;

/* Next attribute: type (without the nested/byte-order flags), payload.
 * Returns 1, 0 at the end, -EBADMSG on a malformed attribute. */
int attr_next(attr_iter *it, uint16_t *ret_type, const uint8_t **ret_data, size_t *ret_len);
/* A link message of LEN bytes at MSG (RTM_NEWLINK; RTM_DELLINK too when
 * DELLINK_OK): its type, its ifinfomsg and an iterator over its attributes;
 * -EBADMSG when it is none or truncated. */
int rtnl_link_msg_open(const void *msg, size_t len, bool dellink_ok, uint16_t *ret_type, struct ifinfomsg *ret_ifi,
                       attr_iter *ret_it);
