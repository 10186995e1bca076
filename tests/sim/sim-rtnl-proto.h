/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wire between libsim-rtnl.so (the preload shim) and sriov-sim --rtnl.
 *
 * A NETLINK_ROUTE socket of the process becomes two Unix SOCK_SEQPACKET
 * sockets:
 *   - the data socket, connected to the simulator's listening socket. Its
 *     fd is the one the process holds. The simulator writes every message
 *     the kernel would queue on the netlink socket to it, one datagram per
 *     skb, so that recvmsg() (MSG_PEEK, MSG_TRUNC, short buffers), poll()
 *     and read() work on it unchanged. The process writes one datagram to
 *     it, ever: HELLO, carrying the control socket (SCM_RIGHTS).
 *   - the control socket (a socketpair; the shim keeps one end, hidden):
 *     one request, one reply. SEND carries what sendmsg() carried; the
 *     reply comes after everything the request caused is queued on the
 *     data socket, so that sendmsg() returns once the "kernel" has
 *     processed the request, as netlink_sendmsg() does.
 * The simulator keeps the netlink socket's state that changes its answers:
 * the port id (unique among the connected sockets, as in a network
 * namespace), NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK,
 * and the multicast groups joined: the simulator queues its notifications
 * (RTNLGRP_LINK) on the data socket of every connection in the group. */

#include <stdint.h>

#define SIM_RTNL_MAGIC 0x6c6e7472u     /* "rtnl" */

enum {
        SIM_RTNL_HELLO = 1,     /* arg: the client's pid (the first autobind port id) */
        SIM_RTNL_BIND,          /* arg: port id asked for, 0: pick one; reply: portid */
        SIM_RTNL_SETOPT,        /* arg: NETLINK_* option (SOL_NETLINK), arg2: its value */
        SIM_RTNL_SEND,          /* payload follows; reply: result = bytes or -errno */
        SIM_RTNL_CLOSE,         /* the last fd is being closed: release the port id */
        SIM_RTNL_GROUPS,        /* arg: the multicast groups joined (bit n-1: group n), after every change */
};

typedef struct sim_rtnl_req {
        uint32_t magic;
        uint32_t op;
        uint32_t arg;
        uint32_t arg2;
} sim_rtnl_req;

typedef struct sim_rtnl_reply {
        uint32_t magic;
        int32_t result;         /* >= 0 or -errno */
        uint32_t portid;
        uint32_t pad;
} sim_rtnl_reply;
