/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include "linkmon.h"
#include "rtnl-internal.h"
#include "util.h"

#define LINKMON_BUFFER (64 * 1024)
#define LINKMON_RCVBUF (4 * 1024 * 1024)      /* a VF count change on a big PF is a burst */

static void info_attr(sriov_link_info *l, uint16_t type, const uint8_t *d, size_t len) {
        switch (type) {
        case IFLA_IFNAME:
                (void) snprintf(l->ifname, sizeof(l->ifname), "%.*s", (int) strnlen((const char *) d, len),
                                (const char *) d);
                break;
        case IFLA_CARRIER:
                if (len >= 1)
                        l->carrier = d[0] != 0;
                break;
        case IFLA_OPERSTATE:
                if (len >= 1)
                        l->operstate = d[0];
                break;
        }
}

int sriov_link_info_parse(const void *msg, size_t len, sriov_link_info *ret) {
        sriov_link_info l = { .carrier = -1, .operstate = -1 };
        struct ifinfomsg ifi;
        const uint8_t *d;
        attr_iter it;
        uint16_t type;
        size_t al;
        int r;

        r = rtnl_link_msg_open(msg, len, true, &type, &ifi, &it);
        if (r < 0)
                return r;
        l.ifindex = ifi.ifi_index;
        l.type = ifi.ifi_type;
        l.flags = ifi.ifi_flags;
        l.deleted = type == RTM_DELLINK;
        while ((r = attr_next(&it, &type, &d, &al)) > 0)
                info_attr(&l, type, d, al);
        if (r < 0)
                return r;
        if (l.ifindex <= 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

const char *sriov_operstate_name(int operstate) {
        static const char *const names[] = {
                [IF_OPER_UNKNOWN] = "unknown", [IF_OPER_NOTPRESENT] = "notpresent", [IF_OPER_DOWN] = "down",
                [IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown", [IF_OPER_TESTING] = "testing",
                [IF_OPER_DORMANT] = "dormant", [IF_OPER_UP] = "up",
        };

        return operstate >= 0 && (size_t) operstate < ELEMENTSOF(names) ? names[operstate] : "unknown";
}

const char *sriov_link_type_name(unsigned short type) {
        return type == ARPHRD_ETHER ? "ethernet" : type == ARPHRD_INFINIBAND ? "infiniband" : "other";
}

static int on_info(const struct nlmsghdr *h, void *userdata) {
        if (h->nlmsg_type != RTM_NEWLINK)
                return 0;
        return sriov_link_info_parse(h, h->nlmsg_len, userdata);
}

int sriov_link_info_get(const char *ifname, sriov_link_info *ret, sriov_error *err) {
        sriov_link_info l = {};
        rtnl_call call = { .on_message = on_info, .userdata = &l };
        int r;

        r = rtnl_get_link(ifname, RTEXT_FILTER_SKIP_STATS, &call, &l.ifindex, "interface ", err);
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}

int sriov_netdev_speed(const sriov_ctx *c, const char *ifname, int *ret_mbps) {
        _cleanup_free_ char *path = sysfs_net_path(c, ifname, "speed"), *s = NULL;
        int r, v;

        if (!path)
                return errno > 0 ? -errno : -ENOMEM;
        r = read_one_line_file(path, &s);
        if (r == -EINVAL) {             /* speed_show(): not running */
                *ret_mbps = -1;
                return 0;
        }
        if (r < 0)
                return r;
        r = safe_atoi(strstrip(s), 10, &v);
        if (r < 0)
                return r;
        *ret_mbps = v > 0 ? v : -1;     /* SPEED_UNKNOWN is -1 */
        return 0;
}

int sriov_device_rdma(const sriov_ctx *c, const pci_addr *a, char **ret_name) {
        _cleanup_free_ char *path = sysfs_dev_path(c, a, "infiniband");
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;

        if (!path)
                return errno > 0 ? -errno : -ENOMEM;
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(dir)))
                if (de->d_name[0] != '.') {
                        *ret_name = strdup(de->d_name);
                        return *ret_name ? 1 : -ENOMEM;
                }
        return 0;
}

/* ---- the subscription ---- */

struct sriov_linkmon {
        int fd;
        uint8_t *buf;
};

sriov_linkmon *sriov_linkmon_free(sriov_linkmon *m) {
        if (!m)
                return NULL;
        safe_close(m->fd);
        free(m->buf);
        return mfree(m);
}

/* Order: socket → receive buffer → bind (port id from the kernel) → join RTNLGRP_LINK. */
int sriov_linkmon_open(sriov_linkmon **ret) {
        _cleanup_(sriov_linkmon_freep) sriov_linkmon *m = calloc(1, sizeof(*m));
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int group = RTNLGRP_LINK, size = LINKMON_RCVBUF;

        if (!m)
                return -ENOMEM;
        m->fd = -EBADF;
        m->buf = malloc(LINKMON_BUFFER);
        if (!m->buf)
                return -ENOMEM;
        m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (m->fd < 0)
                return -errno;
        if (setsockopt(m->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(m->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (setsockopt(m->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
                return -errno;
        *ret = TAKE_PTR(m);
        return 0;
}

int sriov_linkmon_fd(const sriov_linkmon *m) {
        return m->fd;
}

/* The messages of one datagram. */
static void dispatch(const uint8_t *p, size_t len, sriov_linkmon_cb cb, void *userdata) {
        while (len >= NLMSG_HDRLEN) {
                struct nlmsghdr h;
                sriov_link_info l;
                size_t step;

                memcpy(&h, p, sizeof(h));
                if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
                        return;
                if (sriov_link_info_parse(p, h.nlmsg_len, &l) >= 0)
                        cb(&l, userdata);
                step = MIN((size_t) NLMSG_ALIGN(h.nlmsg_len), len);
                p += step;
                len -= step;
        }
}

int sriov_linkmon_read(sriov_linkmon *m, sriov_linkmon_cb cb, void *userdata) {
        for (;;) {
                struct sockaddr_nl from = {};
                struct iovec iov = { m->buf, LINKMON_BUFFER };
                struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(m->fd, &mh, MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0)
                        return 0;
                /* only the kernel's, never another process' */
                if (from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
                        continue;
                dispatch(m->buf, (size_t) n, cb, userdata);
        }
}
