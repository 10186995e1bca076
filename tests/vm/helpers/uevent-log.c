/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uevent-log: prints every kernel uevent (NETLINK_KOBJECT_UEVENT, the kernel's
 * own multicast group, as udevd would see it before any rule runs), one line
 * each, flushed at once:
 *
 *   SEQNUM ACTION SUBSYSTEM DEVPATH [DRIVER=x] [DEVNAME=x] [INTERFACE=x] ...
 *
 * The guest scenarios bracket an operation with /sys/kernel/uevent_seqnum and
 * pick the lines in between. A first line "# listening" says the socket is
 * bound; "# overrun" says the kernel dropped events (the receive buffer is
 * made large so that this should not happen).
 *
 * With -u it listens to udevd's group instead (2: what udevd re-broadcasts,
 * a "libudev" monitor header followed by the properties) and prints the same
 * lines: that is how the kernel simulator (tests/sim/sriov-sim --uevents)
 * sends its events, in a network namespace of its own (tests/vm/diff-sim).
 * The kernel's own events (group 1) are then not received at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* systemd's monitor_netlink_header (sd-device/device-monitor.c) */
struct udev_header {
        char prefix[8];                 /* "libudev" */
        uint32_t magic;                 /* 0xfeedcafe, network order */
        uint32_t header_size;
        uint32_t properties_off;
        uint32_t properties_len;
        uint32_t filter[4];
};

/* Properties worth recording beyond the four fixed fields. */
static const char *const extra_keys[] = {
        "DRIVER", "DEVNAME", "INTERFACE", "DEVTYPE", "PCI_ID", "MAJOR", "MINOR", NULL,
};

static const char *prop(const char *buf, size_t len, const char *key) {
        size_t kl = strlen(key);

        for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
                if (strncmp(buf + i, key, kl) == 0 && buf[i + kl] == '=')
                        return buf + i + kl + 1;
        return NULL;
}

int main(int argc, char *argv[]) {
        static char buf[16384];
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = 1, /* kernel events */
        };
        int sz = 8 * 1024 * 1024;
        int fd, udev = 0;

        if (argc == 2 && strcmp(argv[1], "-u") == 0) {
                udev = 1;
                sa.nl_groups = 2;       /* udevd's re-broadcasts */
        } else if (argc != 1) {
                fputs("usage: uevent-log [-u]\n", stderr);
                return 2;
        }

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
                perror("uevent-log: socket");
                return 1;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("uevent-log: bind");
                return 1;
        }

        setvbuf(stdout, NULL, _IOLBF, 0);
        puts("# listening");

        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) {
                                puts("# overrun");
                                continue;
                        }
                        perror("uevent-log: recv");
                        return 1;
                }
                buf[n] = '\0';

                const char *p;
                size_t plen;
                if (udev) {
                        /* monitor header, then KEY=VALUE\0... */
                        struct udev_header h;

                        if ((size_t) n < sizeof(h))
                                continue;
                        memcpy(&h, buf, sizeof(h));
                        if (memcmp(h.prefix, "libudev", 8) != 0 || ntohl(h.magic) != 0xfeedcafe ||
                            h.properties_off > (size_t) n || h.properties_len > (size_t) n - h.properties_off)
                                continue;
                        p = buf + h.properties_off;
                        plen = h.properties_len;
                } else {
                        /* "ACTION@DEVPATH\0KEY=VALUE\0..." */
                        size_t hl = strlen(buf) + 1;
                        if (hl >= (size_t) n || !strchr(buf, '@'))
                                continue;
                        p = buf + hl;
                        plen = (size_t) n - hl;
                }
                const char *seq = prop(p, plen, "SEQNUM");
                const char *action = prop(p, plen, "ACTION");
                const char *subsys = prop(p, plen, "SUBSYSTEM");
                const char *devpath = prop(p, plen, "DEVPATH");

                printf("%s %s %s %s", seq ?: "?", action ?: "?", subsys ?: "-", devpath ?: "?");
                for (const char *const *k = extra_keys; *k; k++) {
                        const char *v = prop(p, plen, *k);
                        if (v)
                                printf(" %s=%s", *k, v);
                }
                putchar('\n');
        }
}
