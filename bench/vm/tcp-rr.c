/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcp-rr: TCP round-trip latency and bandwidth for one message size, the
 * two measurements of the guest network I/O paths in bench/vm (what
 * netperf's TCP_RR and TCP_STREAM measure, small enough to build static for
 * a busybox guest).
 *
 *   tcp-rr server PORT               serve until SIGTERM, one client at a time
 *   tcp-rr rr HOST PORT SIZE SECS    SIZE-byte request, SIZE-byte answer,
 *                                    again and again for SECS seconds
 *   tcp-rr stream HOST PORT SIZE SECS
 *                                    SIZE-byte writes for SECS seconds; the
 *                                    server says how much it read
 *
 * rr prints    "rr SIZE N MEAN_US MIN_US P50_US P99_US"
 * stream prints "stream SIZE BYTES USEC MBIT_S"
 * Both set TCP_NODELAY. The first message of a connection is a 12-byte
 * header: "RR  " or "ST  ", then SIZE (4 bytes, network order), then 4
 * bytes of zero.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (1 << 20)
#define MAX_SAMPLES 200000

static int die(const char *what) {
        fprintf(stderr, "tcp-rr: %s: %s\n", what, strerror(errno));
        return 1;
}

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int full(int fd, void *buf, size_t n, int writing) {
        char *p = buf;
        while (n) {
                ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                p += r;
                n -= (size_t) r;
        }
        return 0;
}

static void nodelay(int fd) {
        int on = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int serve(int c) {
        static char buf[MAX_SIZE];
        unsigned char hdr[12];
        uint32_t size;

        nodelay(c);
        if (full(c, hdr, sizeof(hdr), 0) < 0)
                return -1;
        size = (uint32_t) hdr[4] << 24 | (uint32_t) hdr[5] << 16 | (uint32_t) hdr[6] << 8 | hdr[7];
        if (size == 0 || size > MAX_SIZE)
                return -1;
        if (!memcmp(hdr, "RR  ", 4)) {
                while (full(c, buf, size, 0) == 0)
                        if (full(c, buf, size, 1) < 0)
                                break;
        } else if (!memcmp(hdr, "ST  ", 4)) {
                uint64_t total = 0;
                ssize_t r;
                unsigned char out[8];

                while ((r = read(c, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
                        if (r > 0)
                                total += (uint64_t) r;
                for (int i = 0; i < 8; i++)
                        out[i] = (unsigned char) (total >> (56 - 8 * i));
                (void) full(c, out, sizeof(out), 1);
        }
        return 0;
}

static int cmd_server(const char *port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(port)) };
        int s, on = 1;

        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return die("socket");
        (void) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(s, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(s, 4) < 0)
                return die("bind/listen");
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("listening\n");
        for (;;) {
                int c = accept(s, NULL, NULL);
                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        return die("accept");
                }
                (void) serve(c);
                close(c);
        }
}

static int connect_to(const char *host, const char *port, const char *mode, uint32_t size) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(port)) };
        unsigned char hdr[12] = { 0 };
        int s;

        if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
                fprintf(stderr, "tcp-rr: %s: not an IPv4 address\n", host);
                return -1;
        }
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *) &a, sizeof(a)) < 0) {
                die("connect");
                return -1;
        }
        nodelay(s);
        memcpy(hdr, mode, 4);
        hdr[4] = (unsigned char) (size >> 24);
        hdr[5] = (unsigned char) (size >> 16);
        hdr[6] = (unsigned char) (size >> 8);
        hdr[7] = (unsigned char) size;
        if (full(s, hdr, sizeof(hdr), 1) < 0) {
                die("write");
                return -1;
        }
        return s;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

static int cmd_rr(const char *host, const char *port, uint32_t size, unsigned secs) {
        static char buf[MAX_SIZE];
        static uint32_t sample[MAX_SAMPLES];
        uint64_t start, end, sum = 0;
        size_t n = 0;
        int s;

        s = connect_to(host, port, "RR  ", size);
        if (s < 0)
                return 1;
        memset(buf, 'r', size);
        start = now_us();
        end = start + (uint64_t) secs * 1000000;
        do {
                uint64_t t = now_us(), d;
                if (full(s, buf, size, 1) < 0 || full(s, buf, size, 0) < 0)
                        return die("round trip");
                d = now_us() - t;
                sample[n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t) d;
                sum += d;
        } while (n < MAX_SAMPLES && now_us() < end);
        close(s);
        qsort(sample, n, sizeof(sample[0]), cmp_u32);
        printf("rr %u %zu %llu %u %u %u\n", size, n, (unsigned long long) (sum / n), sample[0], sample[n / 2],
               sample[n - 1 - n / 100]);
        return 0;
}

static int cmd_stream(const char *host, const char *port, uint32_t size, unsigned secs) {
        static char buf[MAX_SIZE];
        unsigned char in[8];
        uint64_t start, end, total = 0, took;
        int s;

        s = connect_to(host, port, "ST  ", size);
        if (s < 0)
                return 1;
        memset(buf, 's', size);
        start = now_us();
        end = start + (uint64_t) secs * 1000000;
        do
                if (full(s, buf, size, 1) < 0)
                        return die("write");
        while (now_us() < end);
        shutdown(s, SHUT_WR);
        if (full(s, in, sizeof(in), 0) < 0)
                return die("the server's count");
        took = now_us() - start;
        for (int i = 0; i < 8; i++)
                total = total << 8 | in[i];
        close(s);
        printf("stream %u %llu %llu %.2f\n", size, (unsigned long long) total, (unsigned long long) took,
               (double) total * 8 / (double) took);
        return 0;
}

int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_IGN);
        if (argc == 3 && !strcmp(argv[1], "server"))
                return cmd_server(argv[2]);
        if (argc == 6 && (!strcmp(argv[1], "rr") || !strcmp(argv[1], "stream"))) {
                long size = atol(argv[4]), secs = atol(argv[5]);
                if (size < 1 || size > MAX_SIZE || secs < 1 || secs > 3600) {
                        fprintf(stderr, "tcp-rr: SIZE 1-%d, SECS 1-3600\n", MAX_SIZE);
                        return 2;
                }
                return (argv[1][0] == 'r' ? cmd_rr : cmd_stream)(argv[2], argv[3], (uint32_t) size, (unsigned) secs);
        }
        fprintf(stderr, "usage: tcp-rr server PORT | tcp-rr rr|stream HOST PORT SIZE SECS\n");
        return 2;
}
