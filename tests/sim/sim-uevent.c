/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Uevents, as udevd re-broadcasts them to libudev/sd-device monitors:
 * NETLINK_KOBJECT_UEVENT, multicast group 2 ("udev"), a monitor_netlink_header
 * followed by NUL-separated KEY=value properties. Layout, magic and filter
 * hashes follow systemd v252 src/libsystemd/sd-device/device-monitor.c
 * (device_monitor_send_device(), string_hash32() = MurmurHash2 with seed 0,
 * string_bloom64()); receivers attach a BPF filter that compares
 * filter_subsystem_hash, so a wrong hash means the event is dropped.
 *
 * Every event is also appended to .sim/uevents ("SEQNUM ACTION SUBSYSTEM
 * DEVPATH [KEY=value...]"), with or without --uevents, so tests can check
 * the order without a netlink listener. */

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sim.h"
#include "util.h"

#define UDEV_MONITOR_MAGIC 0xfeedcafeU
#define MONITOR_GROUP_UDEV 2U

typedef struct monitor_netlink_header {
        char prefix[8];                 /* "libudev" */
        unsigned magic;                 /* network order */
        unsigned header_size;
        unsigned properties_off;
        unsigned properties_len;
        unsigned filter_subsystem_hash; /* network order */
        unsigned filter_devtype_hash;
        unsigned filter_tag_bloom_hi;
        unsigned filter_tag_bloom_lo;
} monitor_netlink_header;

/* MurmurHash2 by Austin Appleby, as systemd ships it (native-endian reads) */
uint32_t sim_murmur2(const void *key, size_t len, uint32_t seed) {
        const uint32_t m = 0x5bd1e995;
        const unsigned char *data = key;
        uint32_t h = seed ^ (uint32_t) len;

        while (len >= 4) {
                uint32_t k;

                memcpy(&k, data, 4);
                k *= m;
                k ^= k >> 24;
                k *= m;
                h *= m;
                h ^= k;
                data += 4;
                len -= 4;
        }
        switch (len) {
        case 3:
                h ^= (uint32_t) data[2] << 16;
                __attribute__((fallthrough));
        case 2:
                h ^= (uint32_t) data[1] << 8;
                __attribute__((fallthrough));
        case 1:
                h ^= data[0];
                h *= m;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
}

static uint32_t string_hash32(const char *s) {
        return sim_murmur2(s, strlen(s), 0);
}

static uint64_t string_bloom64(const char *s) {
        uint32_t hash = string_hash32(s);
        uint64_t bits = 0;

        bits |= UINT64_C(1) << (hash & 63);
        bits |= UINT64_C(1) << ((hash >> 6) & 63);
        bits |= UINT64_C(1) << ((hash >> 12) & 63);
        bits |= UINT64_C(1) << ((hash >> 18) & 63);
        return bits;
}

int sim_uevent_open(sim *s) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int fd;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = negative_errno();

                safe_close(fd);
                return r;
        }
        s->uevent_fd = fd;
        return 0;
}

static void uevent_send(sim *s, const char *subsystem, const char *tag, const sim_buf *props) {
        struct sockaddr_nl dst = { .nl_family = AF_NETLINK, .nl_groups = MONITOR_GROUP_UDEV };
        monitor_netlink_header h = {
                .prefix = "libudev",
                .magic = htonl(UDEV_MONITOR_MAGIC),
                .header_size = sizeof(h),
                .properties_off = sizeof(h),
                .properties_len = (unsigned) props->len,
                .filter_subsystem_hash = htonl(string_hash32(subsystem)),
        };
        struct iovec iov[2] = {
                { .iov_base = &h, .iov_len = sizeof(h) },
                { .iov_base = props->data, .iov_len = props->len },
        };
        struct msghdr msg = {
                .msg_name = &dst,
                .msg_namelen = sizeof(dst),
                .msg_iov = iov,
                .msg_iovlen = 2,
        };

        if (tag) {
                uint64_t bloom = string_bloom64(tag);

                h.filter_tag_bloom_hi = htonl((uint32_t) (bloom >> 32));
                h.filter_tag_bloom_lo = htonl((uint32_t) bloom);
        }
        /* ECONNREFUSED: nobody listens; EAGAIN/ENOBUFS: a listener's queue is
         * full. Both drop the event, as for udevd. */
        (void) sendmsg(s->uevent_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static const char *env_get(const sim_buf *env, const char *key) {
        size_t l = strlen(key);

        for (size_t i = 0; env && env->data && i < env->len; i += strlen(env->data + i) + 1)
                if (strneq(env->data + i, key, l) && env->data[i + l] == '=')
                        return env->data + i + l + 1;
        return NULL;
}

void sim_uevent_emit(sim *s, const char *action, const sim_node *dir, const char *subsystem, const sim_buf *env) {
        static const char *const logged[] = { "DRIVER", "INTERFACE", "DEVPATH_OLD" };
        _cleanup_free_ char *devpath = NULL;
        const char *tag = streq(subsystem, "net") ? "systemd" : NULL;
        sim_buf props = {};
        char b[64];
        uint64_t seq;

        if (!s->booted)
                return;
        devpath = sim_devpath(dir);
        if (!devpath)
                return;
        seq = ++s->seqnum;

        (void) sim_buf_printf(&props, "ACTION=%s", action);
        (void) sim_buf_put(&props, "", 1);
        (void) sim_buf_printf(&props, "DEVPATH=%s", devpath);
        (void) sim_buf_put(&props, "", 1);
        (void) sim_buf_printf(&props, "SUBSYSTEM=%s", subsystem);
        (void) sim_buf_put(&props, "", 1);
        if (env && env->data)
                (void) sim_buf_put(&props, env->data, env->len);
        (void) snprintf(b, sizeof(b), "SEQNUM=%llu", (unsigned long long) seq);
        (void) sim_buf_put(&props, b, strlen(b) + 1);
        /* added by udevd */
        (void) snprintf(b, sizeof(b), "USEC_INITIALIZED=%llu", (unsigned long long) now_usec());
        (void) sim_buf_put(&props, b, strlen(b) + 1);
        if (tag) {
                (void) sim_buf_printf(&props, "TAGS=:%s:", tag);
                (void) sim_buf_put(&props, "", 1);
                (void) sim_buf_printf(&props, "CURRENT_TAGS=:%s:", tag);
                (void) sim_buf_put(&props, "", 1);
        }

        (void) sim_buf_printf(&s->uevent_log, "%llu %s %s %s", (unsigned long long) seq, action, subsystem, devpath);
        for (size_t i = 0; i < ELEMENTSOF(logged); i++) {
                const char *v = env_get(env, logged[i]);

                if (v)
                        (void) sim_buf_printf(&s->uevent_log, " %s=%s", logged[i], v);
        }
        (void) sim_buf_put(&s->uevent_log, "\n", 1);

        if (s->uevent_fd >= 0 && !props.oom)
                uevent_send(s, subsystem, tag, &props);
        sim_buf_free(&props);
}

void sim_uevent_device(sim_device *d, const char *action) {
        sim_buf env = {};

        if (!d->dir)
                return;
        sim_device_uevent_env(d, &env);
        sim_uevent_emit(d->sim, action, d->dir, "pci", &env);
        sim_buf_free(&env);
}

/* netdev_uevent(): INTERFACE and IFINDEX; a rename is a KOBJ_MOVE with
 * DEVPATH_OLD (kobject_rename()) */
void sim_uevent_netdev(sim_netdev *nd, const char *action, const char *devpath_old) {
        sim_buf env = {};

        if (!nd->dir)
                return;
        if (devpath_old) {
                (void) sim_buf_printf(&env, "DEVPATH_OLD=%s", devpath_old);
                (void) sim_buf_put(&env, "", 1);
        }
        (void) sim_buf_printf(&env, "INTERFACE=%s", nd->name);
        (void) sim_buf_put(&env, "", 1);
        (void) sim_buf_printf(&env, "IFINDEX=%d", nd->ifindex);
        (void) sim_buf_put(&env, "", 1);
        sim_uevent_emit(nd->sim, action, nd->dir, "net", &env);
        sim_buf_free(&env);
}
