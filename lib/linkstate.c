/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <net/if.h>
#include <netlink/msg.h>

#include "linkstate.h"
#include "rtnl-internal.h"
#include "util.h"

/* RTM_NEWLINK on the interface with IFF_UP set or cleared (administratively up or down). */
static int link_set_up(const char *ifname, bool up, sriov_error *err) {
        _cleanup_(rtnl_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_msg_freep) struct nl_msg *m = NULL;
        rtnl_call call = {};
        unsigned idx;
        int r;

        if (!ifname_is_valid(ifname))
                return sriov_error_set(err, -EINVAL, "Invalid interface name \"%.32s\"", strempty(ifname));
        idx = if_nametoindex(ifname);
        if (idx == 0)
                return sriov_error_set(err, -ENODEV, "No interface %s", ifname);
        r = rtnl_open(&s, &call);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot open an rtnetlink socket: %s", strerror(-r));
        m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_ACK);
        if (!m)
                return -ENOMEM;
        r = rtnl_append_ifinfo(m, (int) idx, up ? IFF_UP : 0, IFF_UP);
        if (r < 0)
                return r;
        r = rtnl_transact(s, m, &call);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot set %s %s: %s", ifname, up ? "up" : "down",
                                       call.message[0] ? call.message : strerror(-r));
        return 0;
}

int sriov_link_set_up(const char *ifname, sriov_error *err) {
        return link_set_up(ifname, true, err);
}

int sriov_link_set_down(const char *ifname, sriov_error *err) {
        return link_set_up(ifname, false, err);
}
