/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wire: what crosses a network interface, seen and made with a packet socket
 * (AF_PACKET), for the scenarios that check VF settings on the wire.
 *
 *   wire capture [-p] IFACE          one line per frame, until SIGTERM
 *   wire send IFACE SRCMAC DSTMAC SRCIP DSTIP COUNT TAG
 *                                    COUNT UDP datagrams to port 9 whose
 *                                    payload is TAG, from any source MAC
 *   wire respond IFACE VID IP        answer ARP requests and ICMP echo
 *                                    requests for IP tagged with VLAN VID,
 *                                    until SIGTERM
 *
 * capture prints "listening" once it is bound, then per frame:
 *   DIR SRCMAC > DSTMAC [vlan VID prio PCP] WHAT
 * DIR is "in" or "out" (sent by this host), WHAT one of
 *   arp who-has IP tell IP | arp reply IP is-at MAC
 *   icmp echo-request|echo-reply SRC > DST
 *   udp SRC:PORT > DST:PORT [tag TAG]
 *   ethertype 0xNNNN
 * A VLAN tag is read from the packet's auxiliary data when the NIC took it
 * off (receive VLAN offload), else from the frame itself. -p puts the
 * interface in promiscuous mode while it runs.
 *
 * respond replies from the interface's own MAC with the same VLAN tag, in
 * the frame (the packet socket sends what it is given): a peer on that VLAN
 * where the kernel has no VLAN device to answer (no 8021q).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void) sig; stop = 1; }

static int die(const char *what) {
        fprintf(stderr, "wire: %s: %s\n", what, strerror(errno));
        return 1;
}

static int parse_mac(const char *s, uint8_t m[6]) {
        unsigned v[6];
        char extra;

        if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
                return -1;
        for (int i = 0; i < 6; i++) {
                if (v[i] > 255)
                        return -1;
                m[i] = (uint8_t) v[i];
        }
        return 0;
}

static const char *mac_str(const uint8_t *m, char buf[18]) {
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        return buf;
}

static const char *ip_str(const uint8_t *p, char buf[16]) {
        snprintf(buf, 16, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
        return buf;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t) (v >> 8); p[1] = (uint8_t) v; }

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum) {
        for (; n > 1; p += 2, n -= 2)
                sum += get16(p);
        if (n)
                sum += (uint32_t) p[0] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

/* opens a packet socket bound to IFACE (ETH_P_ALL); ret_index, ret_mac */
static int open_iface(const char *iface, int *ret_index, uint8_t ret_mac[6]) {
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
        struct ifreq ifr = { 0 };
        int fd, on = 1;

        fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
        if (fd < 0)
                return -1;
        if (strlen(iface) >= sizeof(ifr.ifr_name)) {
                errno = ENAMETOOLONG;
                goto fail;
        }
        strcpy(ifr.ifr_name, iface);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
                goto fail;
        sll.sll_ifindex = ifr.ifr_ifindex;
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                goto fail;
        memcpy(ret_mac, ifr.ifr_hwaddr.sa_data, 6);
        if (bind(fd, (struct sockaddr *) &sll, sizeof(sll)) < 0)
                goto fail;
        if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) < 0)
                goto fail;
        *ret_index = sll.sll_ifindex;
        return fd;
fail:
        {
                int e = errno;
                close(fd);
                errno = e;
        }
        return -1;
}

static int set_promisc(int fd, int index) {
        struct packet_mreq mr = { .mr_ifindex = index, .mr_type = PACKET_MR_PROMISC };
        return setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
}

struct frame {
        uint8_t buf[65536];
        size_t len;
        int outgoing;
        int vlan;          /* -1: untagged */
        unsigned prio;
        size_t l3;         /* offset of the payload after any inline tag */
        uint16_t type;
};

/* receives one frame; 0, or -1 with errno (EINTR when signalled) */
static int receive(int fd, struct frame *f) {
        struct sockaddr_ll from;
        union {
                char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = { .iov_base = f->buf, .iov_len = sizeof(f->buf) };
        struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
        ssize_t n;

        n = recvmsg(fd, &msg, 0);
        if (n < 0)
                return -1;
        f->len = (size_t) n;
        f->outgoing = from.sll_pkttype == PACKET_OUTGOING;
        f->vlan = -1;
        f->prio = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                struct tpacket_auxdata aux;

                if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                        continue;
                memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                        f->vlan = aux.tp_vlan_tci & 0xfff;
                        f->prio = aux.tp_vlan_tci >> 13;
                }
        }
        if (f->len < 14) {
                f->type = 0;
                f->l3 = f->len;
                return 0;
        }
        f->type = get16(f->buf + 12);
        f->l3 = 14;
        if ((f->type == ETH_P_8021Q_ || f->type == ETH_P_8021AD_) && f->len >= 18 && f->vlan < 0) {
                f->vlan = get16(f->buf + 14) & 0xfff;
                f->prio = get16(f->buf + 14) >> 13;
                f->type = get16(f->buf + 16);
                f->l3 = 18;
        }
        return 0;
}

static void describe(const struct frame *f, char *out, size_t size) {
        const uint8_t *p = f->buf + f->l3;
        size_t n = f->len - f->l3;
        char a[18], b[16], c[16];

        if (f->type == ETH_P_ARP && n >= 28 && get16(p + 6) == 1)
                snprintf(out, size, "arp who-has %s tell %s", ip_str(p + 24, b), ip_str(p + 14, c));
        else if (f->type == ETH_P_ARP && n >= 28 && get16(p + 6) == 2)
                snprintf(out, size, "arp reply %s is-at %s", ip_str(p + 14, b), mac_str(p + 8, a));
        else if (f->type == ETH_P_IP && n >= 20 && (p[0] >> 4) == 4) {
                size_t ihl = (size_t) (p[0] & 15) * 4;
                const uint8_t *l4 = p + ihl;

                if (p[9] == IPPROTO_ICMP && n >= ihl + 8 && (l4[0] == 8 || l4[0] == 0))
                        snprintf(out, size, "icmp %s %s > %s", l4[0] == 8 ? "echo-request" : "echo-reply",
                                 ip_str(p + 12, b), ip_str(p + 16, c));
                else if (p[9] == IPPROTO_UDP && n >= ihl + 8) {
                        size_t plen = n - ihl - 8, i;
                        char tag[64] = "";

                        for (i = 0; i < plen && i < sizeof(tag) - 1 && l4[8 + i] > ' ' && l4[8 + i] < 127; i++)
                                tag[i] = (char) l4[8 + i];
                        tag[i] = 0;
                        snprintf(out, size, "udp %s:%u > %s:%u%s%s", ip_str(p + 12, b), get16(l4), ip_str(p + 16, c),
                                 get16(l4 + 2), tag[0] ? " tag " : "", tag);
                } else
                        snprintf(out, size, "ip proto %u %s > %s", p[9], ip_str(p + 12, b), ip_str(p + 16, c));
        } else
                snprintf(out, size, "ethertype 0x%04x", f->type);
}

static int cmd_capture(int argc, char **argv) {
        static struct frame f;
        uint8_t mac[6];
        int fd, index, promisc = 0;
        char what[160], s[18], d[18];

        if (argc >= 1 && !strcmp(argv[0], "-p")) {
                promisc = 1;
                argc--, argv++;
        }
        if (argc != 1)
                return 2;
        fd = open_iface(argv[0], &index, mac);
        if (fd < 0)
                return die(argv[0]);
        if (promisc && set_promisc(fd, index) < 0)
                return die("PACKET_MR_PROMISC");
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("listening\n");
        while (!stop) {
                if (receive(fd, &f) < 0) {
                        if (errno == EINTR)
                                continue;
                        return die("recvmsg");
                }
                if (f.len < 14)
                        continue;
                describe(&f, what, sizeof(what));
                if (f.vlan >= 0)
                        printf("%s %s > %s vlan %d prio %u %s\n", f.outgoing ? "out" : "in", mac_str(f.buf + 6, s),
                               mac_str(f.buf, d), f.vlan, f.prio, what);
                else
                        printf("%s %s > %s %s\n", f.outgoing ? "out" : "in", mac_str(f.buf + 6, s), mac_str(f.buf, d),
                               what);
        }
        return 0;
}

static int cmd_send(int argc, char **argv) {
        uint8_t frame[128] = { 0 }, mac[6], *ip = frame + 14, *udp = frame + 34;
        struct in_addr src, dst;
        struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
        const char *tag;
        int fd, index, count;
        size_t plen, len;

        if (argc != 7)
                return 2;
        if (parse_mac(argv[1], frame + 6) < 0 || parse_mac(argv[2], frame) < 0 || inet_pton(AF_INET, argv[3], &src) != 1 ||
            inet_pton(AF_INET, argv[4], &dst) != 1 || (count = atoi(argv[5])) <= 0 || strlen(argv[6]) > 64) {
                fprintf(stderr, "wire send: bad arguments\n");
                return 2;
        }
        tag = argv[6];
        plen = strlen(tag);
        put16(frame + 12, ETH_P_IP);
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t) (20 + 8 + plen));
        ip[8] = 64;
        ip[9] = IPPROTO_UDP;
        memcpy(ip + 12, &src, 4);
        memcpy(ip + 16, &dst, 4);
        put16(ip + 10, csum(ip, 20, 0));
        put16(udp, 40000);
        put16(udp + 2, 9);
        put16(udp + 4, (uint16_t) (8 + plen));
        memcpy(udp + 8, tag, plen);     /* UDP checksum 0: none */
        len = 14 + 20 + 8 + plen;
        if (len < 60)
                len = 60;

        fd = open_iface(argv[0], &index, mac);
        if (fd < 0)
                return die(argv[0]);
        to.sll_ifindex = index;
        memcpy(to.sll_addr, frame, 6);
        for (int i = 0; i < count; i++)
                if (sendto(fd, frame, len, 0, (struct sockaddr *) &to, sizeof(to)) != (ssize_t) len)
                        return die("sendto");
        printf("sent %d\n", count);
        return 0;
}

/* builds the reply in OUT (tagged with VID) to the frame F; its length or 0 */
static size_t reply(const struct frame *f, const uint8_t mac[6], int vid, const uint8_t ip[4], uint8_t *out, size_t size) {
        const uint8_t *p = f->buf + f->l3;
        size_t n = f->len - f->l3, len;
        uint8_t *q = out + 18;

        if (size < 18 + 28)
                return 0;
        memcpy(out, f->buf + 6, 6);
        memcpy(out + 6, mac, 6);
        put16(out + 12, ETH_P_8021Q_);
        put16(out + 14, (uint16_t) vid);
        if (f->type == ETH_P_ARP && n >= 28 && get16(p + 6) == 1 && !memcmp(p + 24, ip, 4)) {
                put16(out + 16, ETH_P_ARP);
                memcpy(q, p, 6);                /* htype, ptype, hlen, plen */
                put16(q + 6, 2);
                memcpy(q + 8, mac, 6);
                memcpy(q + 14, ip, 4);
                memcpy(q + 18, p + 8, 10);      /* the asker's MAC and IP */
                len = 18 + 28;
        } else if (f->type == ETH_P_IP && n >= 28 && (p[0] >> 4) == 4 && p[9] == IPPROTO_ICMP && !memcmp(p + 16, ip, 4)) {
                size_t ihl = (size_t) (p[0] & 15) * 4, tot = get16(p + 2);

                if (tot > n || tot < ihl + 8 || p[ihl] != 8 || 18 + tot > size)
                        return 0;
                put16(out + 16, ETH_P_IP);
                memcpy(q, p, tot);
                memcpy(q + 12, p + 16, 4);
                memcpy(q + 16, p + 12, 4);
                q[8] = 64;
                put16(q + 10, 0);
                put16(q + 10, csum(q, ihl, 0));
                q[ihl] = 0;                     /* echo reply */
                put16(q + ihl + 2, 0);
                put16(q + ihl + 2, csum(q + ihl, tot - ihl, 0));
                len = 18 + tot;
        } else
                return 0;
        return len < 64 ? 64 : len;
}

static int cmd_respond(int argc, char **argv) {
        static struct frame f;
        static uint8_t out[65536];
        struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
        struct in_addr a;
        uint8_t mac[6], ip[4];
        int fd, index, vid;
        unsigned long answered = 0;

        if (argc != 3)
                return 2;
        vid = atoi(argv[1]);
        if (vid < 1 || vid > 4094 || inet_pton(AF_INET, argv[2], &a) != 1) {
                fprintf(stderr, "wire respond: bad arguments\n");
                return 2;
        }
        memcpy(ip, &a, 4);
        fd = open_iface(argv[0], &index, mac);
        if (fd < 0)
                return die(argv[0]);
        /* a VLAN nobody registered passes igb's VLAN filter only so */
        if (set_promisc(fd, index) < 0)
                return die("PACKET_MR_PROMISC");
        to.sll_ifindex = index;
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("listening\n");
        while (!stop) {
                size_t len;

                if (receive(fd, &f) < 0) {
                        if (errno == EINTR)
                                continue;
                        return die("recvmsg");
                }
                if (f.outgoing || f.vlan != vid)
                        continue;
                len = reply(&f, mac, vid, ip, out, sizeof(out));
                if (!len)
                        continue;
                memcpy(to.sll_addr, out, 6);
                if (sendto(fd, out, len, 0, (struct sockaddr *) &to, sizeof(to)) != (ssize_t) len)
                        return die("sendto");
                printf("answered %lu\n", ++answered);
        }
        return 0;
}

int main(int argc, char **argv) {
        struct sigaction sa = { .sa_handler = on_signal };
        int r = 2;

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (argc >= 2 && !strcmp(argv[1], "capture"))
                r = cmd_capture(argc - 2, argv + 2);
        else if (argc >= 2 && !strcmp(argv[1], "send"))
                r = cmd_send(argc - 2, argv + 2);
        else if (argc >= 2 && !strcmp(argv[1], "respond"))
                r = cmd_respond(argc - 2, argv + 2);
        if (r == 2)
                fprintf(stderr, "usage: wire capture [-p] IFACE | wire send IFACE SRCMAC DSTMAC SRCIP DSTIP COUNT TAG |"
                                " wire respond IFACE VID IP\n");
        return r;
}
