/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <stdarg.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "netuse.h"
#include "rtnl-internal.h"
#include "util.h"

typedef struct ifinfo {
        int ifindex;
        char name[IFNAMSIZ];
        unsigned n_addresses, n_routes;
        char first_address[INET6_ADDRSTRLEN + 8];
        char first_route[INET6_ADDRSTRLEN + 16];
} ifinfo;

typedef struct usage_scan {
        ifinfo *ifs;
        size_t n_ifs;
} usage_scan;

static ifinfo *find_if(usage_scan *u, int ifindex) {
        for (size_t i = 0; i < u->n_ifs; i++)
                if (u->ifs[i].ifindex == ifindex)
                        return &u->ifs[i];
        return NULL;
}

static void format_addr(int family, const uint8_t *d, size_t l, unsigned prefix, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN] = "?";

        if ((family == AF_INET && l >= 4) || (family == AF_INET6 && l >= 16))
                (void) inet_ntop(family, d, a, sizeof(a));
        (void) snprintf(buf, size, "%s/%u", a, prefix);
}

static int on_addr(const struct nlmsghdr *h, void *userdata) {
        usage_scan *u = userdata;
        struct ifaddrmsg ifa;
        attr_iter it;
        uint16_t type;
        const uint8_t *d;
        size_t l;
        ifinfo *i;

        if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifa)))
                return 0;
        memcpy(&ifa, NLMSG_DATA(h), sizeof(ifa));
        i = find_if(u, (int) ifa.ifa_index);
        if (!i)
                return 0;
        /* link-local IPv6 comes with being up; "up" is reported already */
        it = (attr_iter) { (const uint8_t *) NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(ifa)),
                           h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(ifa))) };
        while (attr_next(&it, &type, &d, &l) > 0)
                if (type == IFA_ADDRESS || type == IFA_LOCAL) {
                        if (ifa.ifa_family == AF_INET6 && l >= 2 && d[0] == 0xfe && (d[1] & 0xc0) == 0x80)
                                return 0;
                        if (i->n_addresses++ == 0)
                                format_addr(ifa.ifa_family, d, l, ifa.ifa_prefixlen, i->first_address,
                                            sizeof(i->first_address));
                        return 0;
                }
        return 0;
}

static int on_route(const struct nlmsghdr *h, void *userdata) {
        usage_scan *u = userdata;
        struct rtmsg rt;
        attr_iter it;
        uint16_t type;
        const uint8_t *d;
        size_t l;
        const uint8_t *dst = NULL;
        size_t dst_len = 0;
        int oif = 0;
        uint32_t table;
        ifinfo *i;

        if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(rt)))
                return 0;
        memcpy(&rt, NLMSG_DATA(h), sizeof(rt));
        table = rt.rtm_table;
        /* the host's routing: main table (and friends), not local/broadcast */
        if (rt.rtm_type != RTN_UNICAST)
                return 0;
        it = (attr_iter) { (const uint8_t *) NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(rt)),
                           h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(rt))) };
        while (attr_next(&it, &type, &d, &l) > 0) {
                if (type == RTA_OIF && l >= 4)
                        memcpy(&oif, d, 4);
                else if (type == RTA_DST) {
                        dst = d;
                        dst_len = l;
                } else if (type == RTA_TABLE && l >= 4)
                        memcpy(&table, d, 4);
        }
        if (table == RT_TABLE_LOCAL)
                return 0;
        /* IPv6 link-local prefix routes come with being up as well */
        if (rt.rtm_family == AF_INET6 && dst && dst_len >= 2 && dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80)
                return 0;
        i = find_if(u, oif);
        if (!i)
                return 0;
        if (i->n_routes++ == 0) {
                if (dst)
                        format_addr(rt.rtm_family, dst, dst_len, rt.rtm_dst_len, i->first_route, sizeof(i->first_route));
                else
                        (void) snprintf(i->first_route, sizeof(i->first_route), "default");
        }
        return 0;
}

static int dump(int type, int family, usage_scan *u, int (*cb)(const struct nlmsghdr *, void *)) {
        _cleanup_(rtnl_sock_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_msg_freep) struct nl_msg *m = NULL;
        rtnl_call call = { .on_message = cb, .userdata = u };
        struct rtgenmsg g = { .rtgen_family = (unsigned char) family };
        int r;

        r = rtnl_open(&s, &call);
        if (r < 0)
                return r;
        m = nlmsg_alloc_simple(type, NLM_F_DUMP);
        if (!m || nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        r = rtnl_transact(s, m, &call);
        if (r < 0)
                return r;
        return call.parse_error;
}

static int add_reason(char ***l, const char *fmt, ...) _printf_(2, 3);
static int add_reason(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s)
                return -ENOMEM;
        return strv_push(l, s);
}

/* Block devices below the function (nvme/nvme0/nvme0n1, virtio0/block/vda, host0/.../sda). */
static int find_block(const char *dir, unsigned depth, char ***reasons) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (depth > 5)
                return 0;
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *sub = NULL, *link = NULL;
                struct stat st;

                if (de->d_name[0] == '.' || streq(de->d_name, "subsystem") || streq(de->d_name, "driver") ||
                    streq(de->d_name, "physfn") || strneq(de->d_name, "virtfn", 6) || streq(de->d_name, "iommu_group") ||
                    streq(de->d_name, "firmware_node") || streq(de->d_name, "device") || streq(de->d_name, "port"))
                        continue;
                /* sysfs says what each entry is: no lstat() of every attribute */
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                p = strdup_printf("%s/%s", dir, de->d_name);
                if (!p)
                        return -ENOMEM;
                if (de->d_type == DT_UNKNOWN && (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
                        continue;
                sub = strdup_printf("%s/subsystem", p);
                if (!sub)
                        return -ENOMEM;
                if (readlink_basename(sub, &link) >= 0 && streq(link, "block")) {
                        r = add_reason(reasons, "it serves the block device %s", de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = find_block(p, depth + 1, reasons);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void usage_scan_done(usage_scan *u) {
        u->ifs = mfree(u->ifs);
        u->n_ifs = 0;
}

/* flags and ifindex of an interface; 0 when unreadable */
static void read_interface(sriov_ctx *ctx, const char *name, unsigned *ret_flags, unsigned *ret_ifindex) {
        _cleanup_free_ char *fp = sysfs_net_path(ctx, name, "flags");
        _cleanup_free_ char *ip = sysfs_net_path(ctx, name, "ifindex");
        _cleanup_free_ char *s = NULL;

        *ret_flags = *ret_ifindex = 0;
        if (fp && read_one_line_file(fp, &s) >= 0)
                (void) safe_atou(strstrip(s), 16, ret_flags);
        s = mfree(s);
        if (ip && read_one_line_file(ip, &s) >= 0)
                (void) safe_atou(strstrip(s), 10, ret_ifindex);
}

/* The interfaces of the function into u; one that is up is a reason */
/* A port of a bridge or bond, or the lower device of a VLAN or macvlan. */
static int add_stacking_reasons(sriov_ctx *ctx, const char *name, char ***reasons) {
        _cleanup_free_ char *dir = sysfs_net_path(ctx, name, NULL), *master = NULL, *link = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!dir || !(link = strdup_printf("%s/master", dir)))
                return -ENOMEM;
        if (readlink_basename(link, &master) >= 0)
                return add_reason(reasons, "its interface %s is a port of %s", name, master);
        d = opendir(dir);
        while (d && (de = readdir(d)))
                if (strneq(de->d_name, "upper_", strlen("upper_")))
                        return add_reason(reasons, "its interface %s carries %s", name, de->d_name + strlen("upper_"));
        return 0;
}

static int scan_interfaces(sriov_ctx *ctx, const char *netdir, unsigned flags, usage_scan *u, char ***reasons) {
        _cleanup_closedir_ DIR *d = opendir(netdir);
        struct dirent *de;
        int r;

        while (d && (de = readdir(d))) {
                unsigned ifflags, idx;
                ifinfo *n;

                if (de->d_name[0] == '.' || !ifname_is_valid(de->d_name))
                        continue;
                n = realloc(u->ifs, (u->n_ifs + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                u->ifs = n;
                n = &u->ifs[u->n_ifs++];
                *n = (ifinfo) {};
                memcpy(n->name, de->d_name, strnlen(de->d_name, IFNAMSIZ - 1)); /* valid: at most 15 */
                read_interface(ctx, de->d_name, &ifflags, &idx);
                n->ifindex = (int) idx;
                if ((ifflags & IFF_UP) && !(flags & SRIOV_HOST_USE_NOT_UP)) {
                        r = add_reason(reasons, "its interface %s is up", n->name);
                        if (r < 0)
                                return r;
                }
                r = add_stacking_reasons(ctx, n->name, reasons);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_addresses_and_routes(usage_scan *u) {
        int r;

        r = dump(RTM_GETADDR, AF_UNSPEC, u, on_addr);
        if (r < 0)
                return r;
        return dump(RTM_GETROUTE, AF_UNSPEC, u, on_route);
}

/* An address on an interface, or a route through it, is a reason */
static int add_address_reasons(const usage_scan *u, char ***reasons) {
        int r;

        for (size_t i = 0; i < u->n_ifs; i++) {
                const ifinfo *f = &u->ifs[i];

                if (f->n_addresses) {
                        r = add_reason(reasons, "its interface %s has the address %s%s", f->name, f->first_address,
                                       f->n_addresses > 1 ? " (and more)" : "");
                        if (r < 0)
                                return r;
                }
                if (f->n_routes) {
                        r = add_reason(reasons, "the route %s goes through its interface %s", f->first_route, f->name);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int sriov_device_host_use(sriov_ctx *ctx, const pci_addr *dev, unsigned flags, char ***ret_reasons,
                          sriov_error *err) {
        _cleanup_strv_free_ char **reasons = NULL;
        _cleanup_free_ char *netdir = sysfs_dev_path(ctx, dev, "net"), *devdir = sysfs_dev_path(ctx, dev, NULL);
        _cleanup_(usage_scan_done) usage_scan u = {};
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (!netdir || !devdir)
                return -ENOMEM;
        pci_addr_format(dev, bdf);
        r = scan_interfaces(ctx, netdir, flags, &u, &reasons);
        if (r < 0)
                return r;
        if (u.n_ifs > 0) {
                r = dump_addresses_and_routes(&u);
                if (r < 0)
                        return sriov_error_set(err, r, "Cannot read the addresses and routes of %s's interfaces: %s",
                                               bdf, strerror(-r));
                r = add_address_reasons(&u, &reasons);
                if (r < 0)
                        return r;
        }
        r = find_block(devdir, 0, &reasons);
        if (r < 0)
                return r;
        if (ret_reasons)
                *ret_reasons = TAKE_PTR(reasons);
        return 0;
}

/* The function's VFIO nodes: /dev/vfio/GROUP (and the group's number) and
 * /dev/vfio/devices/vfioN (vfio-dev/vfioN in sysfs), each NULL when absent. */
static int vfio_nodes(sriov_ctx *ctx, const pci_addr *dev, char **ret_group, char **ret_gnode, char **ret_cnode) {
        _cleanup_free_ char *group = NULL, *gnode = NULL, *cnode = NULL, *vdir = NULL, *gpath = NULL;
        _cleanup_closedir_ DIR *vd = NULL;
        struct dirent *de;

        if (sysfs_dev_link_name(ctx, dev, "iommu_group", &group) >= 0) {
                gpath = strdup_printf("vfio/%s", group);
                if (!gpath)
                        return -ENOMEM;
                gnode = dev_path(ctx, gpath);
                if (!gnode)
                        return -ENOMEM;
        }
        vdir = sysfs_dev_path(ctx, dev, "vfio-dev");
        vd = vdir ? opendir(vdir) : NULL;
        while (vd && (de = readdir(vd)))
                if (strneq(de->d_name, "vfio", 4)) {
                        _cleanup_free_ char *rel = strdup_printf("vfio/devices/%s", de->d_name);

                        free(cnode);
                        cnode = rel ? dev_path(ctx, rel) : NULL;
                        if (!cnode)
                                return -ENOMEM;
                }
        *ret_group = TAKE_PTR(group);
        *ret_gnode = TAKE_PTR(gnode);
        *ret_cnode = TAKE_PTR(cnode);
        return 0;
}

/* Every process with GNODE or CNODE (either may be NULL) among its open
 * files, from PROC/PID/fd: one readlink per open fd of every process. */
static int scan_holders(sriov_ctx *ctx, const char *gnode, const char *cnode, vfio_holder **ret, size_t *ret_n) {
        _cleanup_free_ vfio_holder *v = NULL;
        _cleanup_closedir_ DIR *proc = NULL;
        struct dirent *de;
        size_t n = 0;

        if (!gnode && !cnode) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        proc = opendir(sriov_ctx_proc_root(ctx));
        if (!proc)
                return negative_errno();
        while ((de = readdir(proc))) {
                _cleanup_free_ char *fddir = NULL;
                _cleanup_closedir_ DIR *fds = NULL;
                struct dirent *fe;
                unsigned pid;

                if (safe_atou(de->d_name, 10, &pid) < 0)
                        continue;
                fddir = strdup_printf("%s/%s/fd", sriov_ctx_proc_root(ctx), de->d_name);
                if (!fddir)
                        return -ENOMEM;
                fds = opendir(fddir);
                if (!fds)
                        continue;       /* gone, or not ours to look at */
                while ((fe = readdir(fds))) {
                        _cleanup_free_ char *lp = NULL, *target = NULL;
                        const char *node;
                        vfio_holder *nv;

                        if (fe->d_name[0] == '.')
                                continue;
                        lp = strdup_printf("%s/%s", fddir, fe->d_name);
                        if (!lp)
                                return -ENOMEM;
                        if (readlink_malloc(lp, &target) < 0)
                                continue;
                        node = gnode && streq(target, gnode) ? gnode : cnode && streq(target, cnode) ? cnode : NULL;
                        if (!node)
                                continue;
                        nv = realloc(v, (n + 1) * sizeof(*v));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        v[n] = (vfio_holder) { .pid = (pid_t) pid };
                        (void) snprintf(v[n].node, sizeof(v[n].node), "%s", node);
                        {
                                _cleanup_free_ char *cp = strdup_printf("%s/%s/comm", sriov_ctx_proc_root(ctx), de->d_name);
                                _cleanup_free_ char *comm = NULL;

                                if (cp && read_one_line_file(cp, &comm) >= 0)
                                        (void) snprintf(v[n].comm, sizeof(v[n].comm), "%s", comm);
                        }
                        n++;
                        break;  /* one line per process */
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int sriov_vfio_holders(sriov_ctx *ctx, const pci_addr *dev, vfio_holder **ret, size_t *ret_n) {
        _cleanup_free_ char *group = NULL, *gnode = NULL, *cnode = NULL;
        int r;

        r = vfio_nodes(ctx, dev, &group, &gnode, &cnode);
        if (r < 0)
                return r;
        return scan_holders(ctx, gnode, cnode, ret, ret_n);
}

/* The major number the running kernel gave VFIO groups ("vfio" among the
 * character devices of /proc/devices). Always the real /proc, not the
 * context's proc root: it decides whether a node may be opened, and only
 * the running kernel can say what a device number is. */
static int read_vfio_group_major(unsigned *ret) {
        _cleanup_free_ char *text = NULL;
        bool chr = false;
        int r;

        r = read_full_file("/proc/devices", &text, NULL, 64 * 1024);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char name[32];
                unsigned major;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (streq(line, "Character devices:"))
                        chr = true;
                else if (streq(line, "Block devices:"))
                        chr = false;
                else if (chr && sscanf(line, " %u %31s", &major, name) == 2 && streq(name, "vfio")) {
                        *ret = major;
                        return 0;
                }
        }
        return -ENOENT;
}

/* Ask the kernel whether anybody holds the group node GNODE of IOMMU group
 * GROUP: the legacy group node is exclusive (vfio_group_fops_open():
 * another open file of the group -> EBUSY; on kernels with the VFIO cdev
 * also a device bound to an iommufd through its cdev, cdev_device_open_cnt).
 * A device fd keeps its group file open, so a VMM holding only the device
 * is seen too. Returns 0 (nobody holds it: opened and closed), 1 (EBUSY:
 * held), or a negative errno when the answer must come from elsewhere:
 * no such node, not a character device (a test tree's regular file, a
 * FIFO: never opened), a device number that is not this group's (checked
 * against sysfs class/vfio/GROUP/dev and the kernel's "vfio" major before
 * the open, and with fstat() after it), or another open error (EACCES,
 * ENODEV, EPERM for noiommu groups without CAP_SYS_RAWIO).
 *
 * The one cost: for the microseconds the node is open here, another opener
 * of the group (a VMM starting, a BIND_IOMMUFD through the cdev) gets
 * EBUSY. sriovd asks only about a function it is about to take from
 * vfio-pci or to hand out (Release, Bind, a VF count change, verify's
 * drift check), i.e. one that nobody should be starting to use; a VMM that
 * races it would have been refused or cut off by that very operation. */
/* Whether maj is the VFIO groups' major: read once, and again when it
 * differs (vfio loaded anew gets a major of its own). */
static int is_vfio_group_major(unsigned maj) {
        static unsigned known;  /* 0: not read yet (0 is no character major) */
        unsigned now = __atomic_load_n(&known, __ATOMIC_RELAXED);
        int r;

        if (now != maj) {
                r = read_vfio_group_major(&now);
                if (r < 0)
                        return r;
                __atomic_store_n(&known, now, __ATOMIC_RELAXED);
        }
        return now == maj;
}

static int vfio_group_test_open(sriov_ctx *ctx, const char *group, const char *gnode) {
        _cleanup_free_ char *rel = NULL, *cls = NULL, *devno = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned maj, min;
        struct stat st;
        int r;

        if (stat(gnode, &st) < 0)
                return negative_errno();
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        rel = strdup_printf("class/vfio/%s/dev", group);
        cls = rel ? sysfs_path(ctx, rel) : NULL;
        if (!cls)
                return -ENOMEM;
        r = read_one_line_file(cls, &devno);
        if (r < 0)
                return r;
        if (sscanf(devno, "%u:%u", &maj, &min) != 2 || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
                return -ENXIO;
        r = is_vfio_group_major(maj);
        if (r <= 0)
                return r < 0 ? r : -ENXIO;
        fd = open(gnode, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return errno == EBUSY ? 1 : negative_errno();
        /* the node replaced between stat() and open(): not what was checked */
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
                return -ENXIO;
        return 0;
}

int sriov_vfio_held(sriov_ctx *ctx, const pci_addr *dev, vfio_use *ret) {
        _cleanup_free_ char *group = NULL, *gnode = NULL, *cnode = NULL;
        _cleanup_free_ vfio_holder *h = NULL;
        vfio_use u = {};
        size_t n = 0;
        int r, t = -ENOENT;

        r = vfio_nodes(ctx, dev, &group, &gnode, &cnode);
        if (r < 0)
                return r;
        if (gnode)
                t = vfio_group_test_open(ctx, group, gnode);
        if (t == 1) {
                /* held: the scan only names the holder */
                r = scan_holders(ctx, gnode, cnode, &h, &n);
                if (r < 0)
                        return r;
                u.scanned = true;
                /* nobody seen: it let go meanwhile, or is out of sight
                 * (another PID namespace); the kernel says which */
                if (n == 0)
                        t = vfio_group_test_open(ctx, group, gnode);
                if (t == 1) {
                        u.held = u.group_busy = true;
                        (void) snprintf(u.group_node, sizeof(u.group_node), "%s", gnode);
                }
        }
        if (t == 0)
                u.group_free = true;
        /* Nobody holds the group. The cdev is not exclusive, and opening it
         * does not block the group until the device is bound to an iommufd
         * (vfio_df_ioctl_bind_iommufd() -> vfio_device_block_group()); an
         * opened, unbound cdev still holds the device (its registration),
         * so where there is a cdev only /proc can tell. (6.1 lists the
         * device under vfio-dev in sysfs but makes no cdev node: nothing
         * to open there.) */
        if (t == 0 && cnode && access(cnode, F_OK) < 0 && errno == ENOENT)
                cnode = mfree(cnode);
        if (t != 1 && (cnode || (t != 0 && gnode))) {
                r = scan_holders(ctx, t == 0 ? NULL : gnode, cnode, &h, &n);
                if (r < 0)
                        return r;
                u.scanned = true;
                u.held = n > 0;
        }
        if (n > 0)
                u.first = h[0];
        u.n = n;
        *ret = u;
        return 0;
}
