/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsim-rtnl.so: LD_PRELOAD it with SRIOV_SIM_RTNL=/path/to/socket and the
 * process's NETLINK_ROUTE sockets talk to sriov-sim --rtnl instead of the
 * kernel (protocol in sim-rtnl-proto.h). Every other socket, NETLINK_
 * KOBJECT_UEVENT and D-Bus included, is left alone; without SRIOV_SIM_RTNL
 * nothing changes at all.
 *
 * What is emulated on such a socket, as af_netlink.c does it: bind() with a
 * port id or 0 (autobind; EADDRINUSE for a taken one, EINVAL when bound to
 * another), autobind on the first send or connect(), getsockname() and
 * getpeername(), SOL_NETLINK options (the ones that change answers go to
 * the simulator), SO_TYPE/SO_PROTOCOL/SO_DOMAIN, sendmsg() and friends
 * returning after the request was processed, recvmsg() and friends with
 * the kernel's source address (nl_pid 0), dup()/fcntl(F_DUPFD) copies.
 * poll/select/epoll, read(), O_NONBLOCK and MSG_PEEK/MSG_TRUNC/MSG_DONTWAIT
 * work on the data socket unchanged. if_nametoindex(), if_indextoname()
 * and if_nameindex() answer from the simulator too (glibc asks the kernel
 * through sockets of its own that cannot be interposed).
 *
 * Thread safety: a table of descriptors (one lock, held briefly), one lock
 * per socket around each control exchange. A descriptor closed behind the
 * shim's back (close_range, exec) is detected by its inode. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim-rtnl-proto.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#define N_OPTS 16

#define EXPORT __attribute__((visibility("default")))

/* glibc declares these only for _FORTIFY_SOURCE / large-file builds */
EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                              socklen_t *fromlen);
EXPORT int fcntl64(int fd, int cmd, ...);

typedef struct nlsock {
        unsigned ref;                   /* memory: table slots + calls in progress (atomic) */
        unsigned nfds;                  /* table slots (under table_lock) */
        int ctl;
        pid_t owner;                    /* a forked child's close() must not release the port */
        dev_t dev;
        ino_t ino;
        int type;
        pthread_mutex_t lock;           /* one control exchange at a time; the fields below */
        bool bound;
        uint32_t portid, groups, dst_pid;
        int opts[N_OPTS];               /* SOL_NETLINK values */
} nlsock;

static int (*real_socket)(int, int, int);
static int (*real_close)(int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recv)(int, void *, size_t, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned, int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static unsigned (*real_if_nametoindex)(const char *);
static char *(*real_if_indextoname)(unsigned, char *);
static struct if_nameindex *(*real_if_nameindex)(void);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static const char *sim_path;            /* NULL: the shim does nothing */

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static nlsock **table;
static size_t table_size;
static unsigned n_socks;                /* atomic; 0: every fd is someone else's */

#define RESOLVE(name) real_##name = (__typeof__(real_##name)) dlsym(RTLD_NEXT, #name)

static void init(void) {
        const char *p;

        RESOLVE(socket);
        RESOLVE(close);
        RESOLVE(bind);
        RESOLVE(connect);
        RESOLVE(getsockname);
        RESOLVE(getpeername);
        RESOLVE(setsockopt);
        RESOLVE(getsockopt);
        RESOLVE(sendmsg);
        RESOLVE(sendto);
        RESOLVE(send);
        RESOLVE(write);
        RESOLVE(writev);
        RESOLVE(recvmsg);
        RESOLVE(recvfrom);
        RESOLVE(recv);
        RESOLVE(recvmmsg);
        RESOLVE(sendmmsg);
        RESOLVE(dup);
        RESOLVE(dup2);
        RESOLVE(dup3);
        RESOLVE(fcntl);
        RESOLVE(fcntl64);
        RESOLVE(if_nametoindex);
        RESOLVE(if_indextoname);
        RESOLVE(if_nameindex);
        if (!real_fcntl64)
                real_fcntl64 = real_fcntl;
        p = getenv("SRIOV_SIM_RTNL");
        if (p && *p && strlen(p) < sizeof(((struct sockaddr_un *) NULL)->sun_path))
                sim_path = strdup(p);
}

static inline void ensure_init(void) {
        (void) pthread_once(&init_once, init);
}

__attribute__((constructor)) static void shim_constructor(void) {
        ensure_init();
}

/* ---- the descriptor table ---- */

static nlsock *sock_ref(nlsock *s) {
        __atomic_add_fetch(&s->ref, 1, __ATOMIC_RELAXED);
        return s;
}

static void sock_unref(nlsock *s) {
        if (!s || __atomic_sub_fetch(&s->ref, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        if (s->ctl >= 0)
                (void) real_close(s->ctl);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* Put s at fd (taking a table reference); whatever was there is stale. */
static int table_set(int fd, nlsock *s) {
        nlsock *old = NULL;

        if (fd < 0)
                return -EBADF;
        pthread_mutex_lock(&table_lock);
        if ((size_t) fd >= table_size) {
                size_t n = table_size ? table_size : 64;
                nlsock **t;

                while (n <= (size_t) fd)
                        n *= 2;
                t = realloc(table, n * sizeof(*t));
                if (!t) {
                        pthread_mutex_unlock(&table_lock);
                        return -ENOMEM;
                }
                memset(t + table_size, 0, (n - table_size) * sizeof(*t));
                table = t;
                table_size = n;
        }
        old = table[fd];
        table[fd] = sock_ref(s);
        s->nfds++;
        if (old)
                old->nfds--;
        else
                __atomic_add_fetch(&n_socks, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&table_lock);
        sock_unref(old);
        return 0;
}

/* Take fd out of the table; returns the socket (with the table's reference)
 * and whether that was its last descriptor. */
static nlsock *table_take(int fd, bool *ret_last) {
        nlsock *s = NULL;

        if (fd < 0 || !__atomic_load_n(&n_socks, __ATOMIC_RELAXED))
                return NULL;
        pthread_mutex_lock(&table_lock);
        if ((size_t) fd < table_size && table[fd]) {
                s = table[fd];
                table[fd] = NULL;
                *ret_last = --s->nfds == 0;
                __atomic_sub_fetch(&n_socks, 1, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&table_lock);
        return s;
}

/* The socket behind fd, referenced, or NULL when fd is not an emulated
 * netlink socket (any more). */
static nlsock *lookup(int fd) {
        nlsock *s = NULL;
        struct stat st;
        bool last;

        if (fd < 0 || !__atomic_load_n(&n_socks, __ATOMIC_RELAXED))
                return NULL;
        pthread_mutex_lock(&table_lock);
        if ((size_t) fd < table_size && table[fd])
                s = sock_ref(table[fd]);
        pthread_mutex_unlock(&table_lock);
        if (!s)
                return NULL;
        if (fstat(fd, &st) >= 0 && st.st_dev == s->dev && st.st_ino == s->ino)
                return s;
        /* closed behind our back, the number reused: forget it */
        pthread_mutex_lock(&table_lock);
        if ((size_t) fd < table_size && table[fd] == s) {
                table[fd] = NULL;
                last = --s->nfds == 0;
                __atomic_sub_fetch(&n_socks, 1, __ATOMIC_RELAXED);
                pthread_mutex_unlock(&table_lock);
                (void) last;
                sock_unref(s);
        } else
                pthread_mutex_unlock(&table_lock);
        sock_unref(s);
        return NULL;
}

/* ---- control exchanges ---- */

static ssize_t read_reply(int ctl, sim_rtnl_reply *rep) {
        ssize_t n;

        do
                n = real_recv(ctl, rep, sizeof(*rep), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n != (ssize_t) sizeof(*rep) || rep->magic != SIM_RTNL_MAGIC)
                return -ECONNRESET;
        return n;
}

/* One request (with an optional payload), one reply; s->lock held. */
static int exchange(nlsock *s, uint32_t op, uint32_t arg, uint32_t arg2, const struct iovec *payload, int n_payload,
                    sim_rtnl_reply *ret) {
        sim_rtnl_req req = { SIM_RTNL_MAGIC, op, arg, arg2 };
        struct iovec iov[64];
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_payload < 0 || n_payload > (int) (sizeof(iov) / sizeof(iov[0])) - 1)
                return -EMSGSIZE;
        iov[0] = (struct iovec) { &req, sizeof(req) };
        for (int i = 0; i < n_payload; i++)
                iov[1 + i] = payload[i];
        m.msg_iovlen = 1 + (size_t) n_payload;
        n = real_sendmsg(s->ctl, &m, MSG_NOSIGNAL);
        if (n < 0)
                return errno == EPIPE || errno == ECONNRESET ? -ECONNREFUSED : -errno;
        n = read_reply(s->ctl, ret);
        if (n < 0)
                return n == -ECONNRESET || n == -EPIPE ? -ECONNREFUSED : (int) n;
        return 0;
}

static int do_bind(nlsock *s, uint32_t portid) {
        sim_rtnl_reply rep;
        int r;

        r = exchange(s, SIM_RTNL_BIND, portid, 0, NULL, 0, &rep);
        if (r < 0)
                return r;
        if (rep.result < 0)
                return rep.result;
        s->bound = true;
        s->portid = rep.portid;
        return 0;
}

static ssize_t ret_errno(ssize_t r) {
        if (r < 0) {
                errno = (int) -r;
                return -1;
        }
        return r;
}

/* the end of a wrapper: drop the reference, -errno to errno */
static int finish(nlsock *s, int r) {
        sock_unref(s);
        return (int) ret_errno(r);
}

/* ---- socket() ---- */

static void complain(const char *what, int err) {
        static bool told;

        if (!__atomic_exchange_n(&told, true, __ATOMIC_RELAXED))
                fprintf(stderr, "libsim-rtnl: %s %s: %s\n", what, sim_path, strerror(err));
}

static int sim_socket(int type) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        sim_rtnl_req hello = { SIM_RTNL_MAGIC, SIM_RTNL_HELLO, (uint32_t) getpid(), 0 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct iovec iov = { &hello, sizeof(hello) };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
        sim_rtnl_reply rep;
        struct cmsghdr *c;
        struct stat st;
        nlsock *s;
        int fd, sp[2], r, saved;

        fd = real_socket(AF_UNIX, SOCK_SEQPACKET | (type & SOCK_CLOEXEC), 0);
        if (fd < 0)
                return -1;
        strcpy(sa.sun_path, sim_path);
        if (real_connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                saved = errno;
                complain("cannot connect to", saved);
                (void) real_close(fd);
                errno = saved;
                return -1;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                saved = errno;
                (void) real_close(fd);
                errno = saved;
                return -1;
        }
        memset(cm.buf, 0, sizeof(cm.buf));
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sp[1], sizeof(int));
        do
                r = (int) real_sendmsg(fd, &m, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        saved = errno;
        (void) real_close(sp[1]);
        if (r < 0 || read_reply(sp[0], &rep) < 0 || rep.result < 0) {
                if (r >= 0)
                        saved = ECONNREFUSED;
                complain("no answer from", saved);
                (void) real_close(sp[0]);
                (void) real_close(fd);
                errno = saved;
                return -1;
        }
        if (fstat(fd, &st) < 0 || !(s = calloc(1, sizeof(*s)))) {
                (void) real_close(sp[0]);
                (void) real_close(fd);
                errno = ENOMEM;
                return -1;
        }
        s->ref = 1;
        s->ctl = sp[0];
        s->owner = getpid();
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->type = type & 0xf;
        pthread_mutex_init(&s->lock, NULL);
        if (type & SOCK_NONBLOCK)
                (void) real_fcntl(fd, F_SETFL, real_fcntl(fd, F_GETFL) | O_NONBLOCK);
        r = table_set(fd, s);
        sock_unref(s);
        if (r < 0) {
                (void) real_close(fd);
                errno = -r;
                return -1;
        }
        return fd;
}

EXPORT int socket(int domain, int type, int protocol) {
        ensure_init();
        if (sim_path && domain == AF_NETLINK && protocol == NETLINK_ROUTE &&
            ((type & 0xf) == SOCK_RAW || (type & 0xf) == SOCK_DGRAM))
                return sim_socket(type);
        return real_socket(domain, type, protocol);
}

/* ---- close and dup ---- */

/* A descriptor of s is gone (the table's reference is dropped here): the
 * last one releases the port id, as netlink_release() does, before close()
 * returns, so that the next bind() to it succeeds. */
static void released(nlsock *s, bool last) {
        if (last && s->owner == getpid()) {
                sim_rtnl_reply rep;

                pthread_mutex_lock(&s->lock);
                (void) exchange(s, SIM_RTNL_CLOSE, 0, 0, NULL, 0, &rep);
                pthread_mutex_unlock(&s->lock);
        }
        sock_unref(s);
}

EXPORT int close(int fd) {
        bool last = false;
        nlsock *s;
        int r;

        ensure_init();
        s = table_take(fd, &last);
        r = real_close(fd);
        if (s)
                released(s, last);
        return r;
}

/* dup() and friends returned newfd: the copy refers to the socket s (if
 * fd was one), whatever newfd was is closed; s's reference is dropped */
static int dup_done(nlsock *s, int fd, int newfd) {
        bool last = false;
        nlsock *gone;

        if (newfd >= 0 && newfd != fd) {
                gone = table_take(newfd, &last);
                if (gone)
                        released(gone, last);
                if (s)
                        (void) table_set(newfd, s);
        }
        sock_unref(s);
        return newfd;
}

EXPORT int dup(int fd) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        return dup_done(s, fd, real_dup(fd));
}

EXPORT int dup2(int fd, int fd2) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        return dup_done(s, fd, real_dup2(fd, fd2));
}

EXPORT int dup3(int fd, int fd2, int flags) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        return dup_done(s, fd, real_dup3(fd, fd2, flags));
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg) {
        nlsock *s;

        if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
                return real(fd, cmd, arg);
        s = lookup(fd);
        return dup_done(s, fd, real(fd, cmd, arg));
}

EXPORT int fcntl(int fd, int cmd, ...) {
        va_list ap;
        void *arg;

        ensure_init();
        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        return fcntl_common(real_fcntl, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...) {
        va_list ap;
        void *arg;

        ensure_init();
        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        return fcntl_common(real_fcntl64, fd, cmd, arg);
}

/* ---- multicast groups ---- */

/* Tell the simulator the groups joined now (s->lock held). netlink_bind()
 * and NETLINK_ADD_MEMBERSHIP bind the socket first. */
static int send_groups(nlsock *s) {
        sim_rtnl_reply rep;
        int r = 0;

        if (!s->bound)
                r = do_bind(s, 0);
        if (r >= 0)
                r = exchange(s, SIM_RTNL_GROUPS, s->groups, 0, NULL, 0, &rep);
        if (r >= 0 && rep.result < 0)
                r = rep.result;
        return r;
}

/* ---- addresses ---- */

static int check_nladdr(const struct sockaddr *a, socklen_t len) {
        if (!a || len < sizeof(struct sockaddr_nl) || a->sa_family != AF_NETLINK)
                return -EINVAL;
        return 0;
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len) {
        struct sockaddr_nl nl;
        nlsock *s;
        int r;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_bind(fd, addr, len);
        r = check_nladdr(addr, len);
        if (r >= 0) {
                memcpy(&nl, addr, sizeof(nl));
                pthread_mutex_lock(&s->lock);
                /* netlink_bind(): bound already: only the same port id */
                if (s->bound)
                        r = nl.nl_pid != s->portid ? -EINVAL : 0;
                else
                        r = do_bind(s, nl.nl_pid);
                if (r >= 0 && s->groups != nl.nl_groups) {
                        s->groups = nl.nl_groups;
                        r = send_groups(s);
                }
                pthread_mutex_unlock(&s->lock);
        }
        return finish(s, r);
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
        struct sockaddr_nl nl;
        nlsock *s;
        int r = 0;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_connect(fd, addr, len);
        /* netlink_connect(): AF_UNSPEC disconnects, else an AF_NETLINK
         * address; binds the socket if it is not */
        if (!addr || len < sizeof(sa_family_t))
                r = -EINVAL;
        else if (addr->sa_family == AF_UNSPEC) {
                pthread_mutex_lock(&s->lock);
                s->dst_pid = 0;
                pthread_mutex_unlock(&s->lock);
        } else if ((r = check_nladdr(addr, len)) >= 0) {
                memcpy(&nl, addr, sizeof(nl));
                pthread_mutex_lock(&s->lock);
                if (!s->bound)
                        r = do_bind(s, 0);
                if (r >= 0)
                        s->dst_pid = nl.nl_pid;
                pthread_mutex_unlock(&s->lock);
        }
        return finish(s, r);
}

static void put_nladdr(struct sockaddr *addr, socklen_t *len, uint32_t pid, uint32_t groups) {
        struct sockaddr_nl nl = { .nl_family = AF_NETLINK, .nl_pid = pid, .nl_groups = groups };

        if (!addr || !len)
                return;
        memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
        *len = sizeof(nl);
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_getsockname(fd, addr, len);
        pthread_mutex_lock(&s->lock);
        put_nladdr(addr, len, s->bound ? s->portid : 0, s->groups);
        pthread_mutex_unlock(&s->lock);
        sock_unref(s);
        return 0;
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_getpeername(fd, addr, len);
        pthread_mutex_lock(&s->lock);
        put_nladdr(addr, len, s->dst_pid, 0);
        pthread_mutex_unlock(&s->lock);
        sock_unref(s);
        return 0;
}

/* ---- options ---- */

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
        sim_rtnl_reply rep;
        nlsock *s;
        int v = 0, r = 0;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_setsockopt(fd, level, name, val, len);
        if (level != SOL_NETLINK) {
                sock_unref(s);
                return real_setsockopt(fd, level, name, val, len);
        }
        /* netlink_setsockopt() */
        if (len >= sizeof(int)) {
                if (!val)
                        r = -EFAULT;
                else
                        memcpy(&v, val, sizeof(int));
        }
        if (r == 0)
                switch (name) {
                case NETLINK_ADD_MEMBERSHIP:
                case NETLINK_DROP_MEMBERSHIP:
                        /* the simulator sends the notifications of the groups joined */
                        pthread_mutex_lock(&s->lock);
                        if (v > 0 && v <= 32) {
                                if (name == NETLINK_ADD_MEMBERSHIP)
                                        s->groups |= 1u << (v - 1);
                                else
                                        s->groups &= ~(1u << (v - 1));
                                r = send_groups(s);
                        }
                        pthread_mutex_unlock(&s->lock);
                        break;
                case NETLINK_PKTINFO:
                case NETLINK_BROADCAST_ERROR:
                case NETLINK_NO_ENOBUFS:
                case NETLINK_LISTEN_ALL_NSID:
                case NETLINK_CAP_ACK:
                case NETLINK_EXT_ACK:
                case NETLINK_GET_STRICT_CHK:
                        pthread_mutex_lock(&s->lock);
                        s->opts[name] = v != 0;
                        if (name == NETLINK_CAP_ACK || name == NETLINK_EXT_ACK || name == NETLINK_GET_STRICT_CHK) {
                                r = exchange(s, SIM_RTNL_SETOPT, (uint32_t) name, v != 0, NULL, 0, &rep);
                                if (r >= 0 && rep.result < 0)
                                        r = rep.result;
                        }
                        pthread_mutex_unlock(&s->lock);
                        break;
                default:
                        r = -ENOPROTOOPT;
                }
        return finish(s, r);
}

static int put_int(void *val, socklen_t *len, int v) {
        if (!val || !len)
                return -EFAULT;
        if (*len < sizeof(int))
                return -EINVAL;
        memcpy(val, &v, sizeof(int));
        *len = sizeof(int);
        return 0;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len) {
        nlsock *s;
        int r;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_getsockopt(fd, level, name, val, len);
        if (level == SOL_SOCKET && (name == SO_TYPE || name == SO_PROTOCOL || name == SO_DOMAIN))
                r = put_int(val, len, name == SO_TYPE ? s->type : name == SO_PROTOCOL ? NETLINK_ROUTE : AF_NETLINK);
        else if (level != SOL_NETLINK) {
                sock_unref(s);
                return real_getsockopt(fd, level, name, val, len);
        } else {
                pthread_mutex_lock(&s->lock);
                switch (name) {
                case NETLINK_PKTINFO:
                case NETLINK_BROADCAST_ERROR:
                case NETLINK_NO_ENOBUFS:
                case NETLINK_LISTEN_ALL_NSID:
                case NETLINK_CAP_ACK:
                case NETLINK_EXT_ACK:
                case NETLINK_GET_STRICT_CHK:
                        r = put_int(val, len, s->opts[name]);
                        break;
                case NETLINK_LIST_MEMBERSHIPS:
                        if (!val || !len)
                                r = -EFAULT;
                        else {
                                if (*len >= sizeof(uint32_t))
                                        memcpy(val, &s->groups, sizeof(uint32_t));
                                *len = sizeof(uint32_t);
                                r = 0;
                        }
                        break;
                default:
                        r = -ENOPROTOOPT;
                }
                pthread_mutex_unlock(&s->lock);
        }
        return finish(s, r);
}

/* ---- sending ---- */

/* netlink_sendmsg(): the destination (the kernel, port 0), autobind, then
 * the request is processed before the call returns. */
static ssize_t nl_send(nlsock *s, const struct iovec *iov, int iovcnt, const void *name, socklen_t namelen) {
        sim_rtnl_reply rep;
        struct sockaddr_nl dst = {};
        size_t len = 0;
        int r = 0;

        if (iovcnt < 0 || (iovcnt > 0 && !iov))
                return -EINVAL;
        for (int i = 0; i < iovcnt; i++)
                len += iov[i].iov_len;
        if (name && namelen) {
                if (namelen < sizeof(dst) || ((const struct sockaddr *) name)->sa_family != AF_NETLINK)
                        return -EINVAL;
                memcpy(&dst, name, sizeof(dst));
        }
        pthread_mutex_lock(&s->lock);
        if (!name || !namelen)
                dst.nl_pid = s->dst_pid;
        if (!s->bound)
                r = do_bind(s, 0);
        if (r >= 0 && dst.nl_pid != 0)
                r = -ECONNREFUSED;      /* no other user sockets here */
        if (r >= 0 && !dst.nl_groups) {
                struct iovec one;
                char *flat = NULL;

                if (iovcnt > 32) {
                        /* more pieces than one control datagram takes: flatten */
                        flat = malloc(len ? len : 1);
                        if (!flat)
                                r = -ENOMEM;
                        for (int i = 0, off = 0; flat && i < iovcnt; off += (int) iov[i].iov_len, i++)
                                memcpy(flat + off, iov[i].iov_base, iov[i].iov_len);
                        one = (struct iovec) { flat, len };
                        iov = &one;
                        iovcnt = 1;
                }
                if (r >= 0)
                        r = exchange(s, SIM_RTNL_SEND, 0, 0, iov, iovcnt, &rep);
                free(flat);
                if (r >= 0 && rep.result < 0)
                        r = rep.result;
        }
        pthread_mutex_unlock(&s->lock);
        return r < 0 ? r : (ssize_t) len;
}

/* nl_send() when fd is an emulated socket (true, *ret set) */
static bool emulated_send(int fd, const struct iovec *iov, int iovcnt, const void *name, socklen_t namelen,
                          ssize_t *ret) {
        nlsock *s;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return false;
        *ret = ret_errno(nl_send(s, iov, iovcnt, name, namelen));
        sock_unref(s);
        return true;
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
        ssize_t r;

        if (msg && emulated_send(fd, msg->msg_iov, (int) msg->msg_iovlen, msg->msg_name, msg->msg_namelen, &r))
                return r;
        return real_sendmsg(fd, msg, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) {
        struct iovec iov = { (void *) buf, len };
        ssize_t r;

        return emulated_send(fd, &iov, 1, to, tolen, &r) ? r : real_sendto(fd, buf, len, flags, to, tolen);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags) {
        struct iovec iov = { (void *) buf, len };
        ssize_t r;

        return emulated_send(fd, &iov, 1, NULL, 0, &r) ? r : real_send(fd, buf, len, flags);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len) {
        struct iovec iov = { (void *) buf, len };
        ssize_t r;

        return emulated_send(fd, &iov, 1, NULL, 0, &r) ? r : real_write(fd, buf, len);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
        ssize_t r;

        return emulated_send(fd, iov, iovcnt, NULL, 0, &r) ? r : real_writev(fd, iov, iovcnt);
}

EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags) {
        nlsock *s;
        unsigned i;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_sendmmsg(fd, v, n, flags);
        for (i = 0; i < n; i++) {
                ssize_t r = nl_send(s, v[i].msg_hdr.msg_iov, (int) v[i].msg_hdr.msg_iovlen, v[i].msg_hdr.msg_name,
                                    v[i].msg_hdr.msg_namelen);
                if (r < 0) {
                        sock_unref(s);
                        if (i > 0)
                                return (int) i;
                        errno = (int) -r;
                        return -1;
                }
                v[i].msg_len = (unsigned) r;
        }
        sock_unref(s);
        return (int) i;
}

/* ---- receiving ---- */

/* netlink_recvmsg(): the data socket carries the messages as they are; the
 * source is the kernel, no control messages. */
static ssize_t nl_recv(int fd, struct msghdr *msg, int flags) {
        struct msghdr m = *msg;
        ssize_t n;

        m.msg_name = NULL;
        m.msg_namelen = 0;
        m.msg_control = NULL;
        m.msg_controllen = 0;
        n = real_recvmsg(fd, &m, flags);
        if (n < 0)
                return n;
        msg->msg_flags = m.msg_flags;
        msg->msg_controllen = 0;
        if (msg->msg_name)
                put_nladdr(msg->msg_name, &msg->msg_namelen, 0, 0);
        else
                msg->msg_namelen = 0;
        return n;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
        nlsock *s;
        ssize_t r;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_recvmsg(fd, msg, flags);
        if (!msg) {
                sock_unref(s);
                errno = EFAULT;
                return -1;
        }
        r = nl_recv(fd, msg, flags);
        sock_unref(s);
        return r;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) {
        struct iovec iov = { buf, len };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        nlsock *s;
        ssize_t r;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_recvfrom(fd, buf, len, flags, from, fromlen);
        if (from && fromlen) {
                m.msg_name = from;
                m.msg_namelen = *fromlen;
        }
        r = nl_recv(fd, &m, flags);
        if (r >= 0 && from && fromlen)
                *fromlen = m.msg_namelen;
        sock_unref(s);
        return r;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags) {
        return recvfrom(fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags) {
        if (len > buflen)
                abort();
        return recv(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                              socklen_t *fromlen) {
        if (len > buflen)
                abort();
        return recvfrom(fd, buf, len, flags, from, fromlen);
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *timeout) {
        nlsock *s;
        unsigned i;

        ensure_init();
        s = lookup(fd);
        if (!s)
                return real_recvmmsg(fd, v, n, flags, timeout);
        for (i = 0; i < n; i++) {
                ssize_t r = nl_recv(fd, &v[i].msg_hdr, i == 0 ? flags & ~MSG_WAITFORONE
                                                              : (flags & MSG_WAITFORONE ? flags | MSG_DONTWAIT : flags));
                if (r < 0) {
                        int e = errno;

                        sock_unref(s);
                        if (i > 0)
                                return (int) i;
                        errno = e;
                        return -1;
                }
                v[i].msg_len = (unsigned) r;
        }
        sock_unref(s);
        return (int) i;
}

/* ---- interface names, as glibc's net/if.h functions give them ---- */

typedef struct link_name {
        unsigned index;
        char name[IF_NAMESIZE];
} link_name;

/* RTM_GETLINK: one interface by name or index, or all (dump). Returns the
 * number found or -errno. */
static int query_links(const char *name, unsigned index, link_name **ret) {
        struct {
                struct nlmsghdr h;
                struct ifinfomsg i;
                char attrs[64];
        } req = {};
        link_name *l = NULL;
        size_t n = 0;
        char *buf = NULL;
        bool dump = !name && !index, done = false;
        int fd, r = 0;

        req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
        req.h.nlmsg_type = RTM_GETLINK;
        req.h.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
        req.h.nlmsg_seq = 1;
        req.i.ifi_index = (int) index;
        if (name) {
                struct rtattr *a = (struct rtattr *) ((char *) &req + NLMSG_ALIGN(req.h.nlmsg_len));
                size_t nlen = strnlen(name, IF_NAMESIZE);

                if (nlen >= IF_NAMESIZE)
                        return -ENODEV;
                a->rta_type = IFLA_IFNAME;
                a->rta_len = (unsigned short) RTA_LENGTH(nlen + 1);
                memcpy(RTA_DATA(a), name, nlen);
                req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
        }
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
                r = -errno;
                goto out;
        }
        while (!done) {
                ssize_t len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
                struct nlmsghdr *h;

                if (len <= 0) {
                        r = len < 0 ? -errno : -ECONNRESET;
                        break;
                }
                free(buf);
                buf = malloc((size_t) len);
                if (!buf) {
                        r = -ENOMEM;
                        break;
                }
                len = recv(fd, buf, (size_t) len, 0);
                if (len <= 0) {
                        r = len < 0 ? -errno : -ECONNRESET;
                        break;
                }
                for (h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) len); h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_type == NLMSG_DONE) {
                                done = true;
                                break;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr *e = NLMSG_DATA(h);

                                r = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EBADMSG;
                                done = true;
                                break;
                        }
                        if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
                                struct ifinfomsg *ifi = NLMSG_DATA(h);
                                int alen = (int) IFLA_PAYLOAD(h);
                                link_name *nl = realloc(l, (n + 1) * sizeof(*l));

                                if (!nl) {
                                        r = -ENOMEM;
                                        done = true;
                                        break;
                                }
                                l = nl;
                                l[n] = (link_name) { .index = (unsigned) ifi->ifi_index };
                                for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
                                        if (a->rta_type == IFLA_IFNAME)
                                                (void) snprintf(l[n].name, sizeof(l[n].name), "%.*s",
                                                                (int) RTA_PAYLOAD(a), (char *) RTA_DATA(a));
                                n++;
                                if (!dump)
                                        done = true;
                        }
                }
        }
out:
        free(buf);
        (void) close(fd);
        if (r < 0) {
                free(l);
                return r;
        }
        *ret = l;
        return (int) n;
}

EXPORT unsigned if_nametoindex(const char *name) {
        link_name *l = NULL;
        unsigned idx = 0;
        int r;

        ensure_init();
        if (!sim_path)
                return real_if_nametoindex(name);
        if (!name)
                return 0;
        r = query_links(name, 0, &l);
        if (r > 0)
                idx = l[0].index;
        else
                errno = r < 0 ? -r : ENODEV;
        free(l);
        return idx;
}

EXPORT char *if_indextoname(unsigned index, char buf[IF_NAMESIZE]) {
        link_name *l = NULL;
        char *ret = NULL;
        int r;

        ensure_init();
        if (!sim_path)
                return real_if_indextoname(index, buf);
        r = index > 0 && index <= INT32_MAX ? query_links(NULL, index, &l) : -ENXIO;
        if (r > 0) {
                (void) snprintf(buf, IF_NAMESIZE, "%s", l[0].name);
                ret = buf;
        } else
                errno = r == -ENODEV || r == 0 ? ENXIO : -r;
        free(l);
        return ret;
}

EXPORT struct if_nameindex *if_nameindex(void) {
        struct if_nameindex *v;
        link_name *l = NULL;
        int r;

        ensure_init();
        if (!sim_path)
                return real_if_nameindex();
        r = query_links(NULL, 0, &l);
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        v = calloc((size_t) r + 1, sizeof(*v));
        for (int i = 0; v && i < r; i++) {
                v[i].if_index = l[i].index;
                v[i].if_name = strdup(l[i].name);
                if (!v[i].if_name) {
                        if_freenameindex(v);
                        v = NULL;
                }
        }
        free(l);
        if (!v)
                errno = ENOMEM;
        return v;
}
