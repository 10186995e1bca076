#!/bin/bash
# libsim-rtnl.so at the socket level, from Python (whose socket module calls
# libc like any C program): bind/autobind and port ids, getsockname,
# options, MSG_PEEK|MSG_TRUNC sizing, short reads, the kernel's source
# address, poll readiness and O_NONBLOCK, extended acks, dup, fork, many
# sockets from many threads; other sockets (NETLINK_KOBJECT_UEVENT, Unix)
# untouched; nothing at all without SRIOV_SIM_RTNL.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd python3 python3
. "$top_srcdir/tests/sim/rtnl-lib.sh"

work=$RTNL_WORK
sim_start_rtnl "$TOPO/x710.json"

cat >"$work/t.py" <<'PY'
import errno, os, select, socket, struct, sys, threading

NETLINK_ROUTE, NETLINK_KOBJECT_UEVENT, SOL_NETLINK = 0, 15, 270
NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK = 10, 11, 12
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP = 1, 2, 4, 0x300
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFLA_IFNAME = 3
failures = 0

def check(cond, what):
    global failures
    if not cond:
        print("FAIL:", what)
        failures += 1

def nlsock():
    return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)

def getlink(seq, flags=NLM_F_REQUEST, name=None, ifi_flags=0):
    attrs = b""
    if name:
        v = name.encode() + b"\0"
        attrs = struct.pack("HH", 4 + len(v), IFLA_IFNAME) + v
        attrs += b"\0" * (-len(attrs) % 4)
    body = struct.pack("BxHiII", 0, 0, 0, ifi_flags, 0) + attrs
    return struct.pack("IHHII", 16 + len(body), RTM_GETLINK, flags, seq, 0) + body

def messages(data):
    off = 0
    while off + 16 <= len(data):
        l, t, f, seq, pid = struct.unpack_from("IHHII", data, off)
        yield t, f, seq, pid, data[off + 16:off + l]
        off += (l + 3) & ~3

def dump_names(s, seq):
    s.send(getlink(seq, NLM_F_REQUEST | NLM_F_DUMP))
    names, done = [], False
    while not done:
        n = s.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
        data = s.recv(n)
        for t, f, sq, pid, body in messages(data):
            check(sq == seq, "dump: sequence number")
            if t == NLMSG_DONE:
                done = True
                break
            check(f & NLM_F_MULTI, "dump: NLM_F_MULTI")
            a = 16
            while a + 4 <= len(body):
                al, at = struct.unpack_from("HH", body, a)
                if at == IFLA_IFNAME:
                    names.append(body[a + 4:a + al].rstrip(b"\0").decode())
                a += (al + 3) & ~3
    return names

mode = sys.argv[1]
if mode == "host":
    # no SRIOV_SIM_RTNL: the kernel answers
    s = nlsock()
    s.bind((0, 0))
    names = dump_names(s, 1)
    check("lo" in names and "ens1f0" not in names, "without SRIOV_SIM_RTNL the host's links: %s" % names)
    sys.exit(1 if failures else 0)

s = nlsock()
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_RAW, "SO_TYPE")
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == NETLINK_ROUTE, "SO_PROTOCOL")
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_NETLINK, "SO_DOMAIN")
check(s.getsockname() == (0, 0), "getsockname before bind: %r" % (s.getsockname(),))
s.bind((0, 0))
check(s.getsockname()[0] == os.getpid(), "first autobind: the pid")
s2 = nlsock()
s2.bind((0, 0))
p2 = s2.getsockname()[0]
check(p2 != os.getpid() and p2 >= 1 << 31, "second autobind: a negative port id (%d)" % p2)
s3 = nlsock()
try:
    s3.bind((os.getpid(), 0))
    check(False, "bind to a taken port id")
except OSError as e:
    check(e.errno == errno.EADDRINUSE, "bind to a taken port id: %s" % e)
s.close()
s3.bind((os.getpid(), 0))                    # released by close(), at once
check(s3.getsockname()[0] == os.getpid(), "port id reused after close")
try:
    s3.bind((12345, 0))
    check(False, "rebind to another port id")
except OSError as e:
    check(e.errno == errno.EINVAL, "rebind to another port id: %s" % e)
s3.bind((os.getpid(), 0))                    # the same: fine
check(s3.getsockopt(SOL_NETLINK, NETLINK_EXT_ACK) == 0, "NETLINK_EXT_ACK off by default")
s3.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
check(s3.getsockopt(SOL_NETLINK, NETLINK_EXT_ACK) == 1, "NETLINK_EXT_ACK on")
try:
    s3.setsockopt(SOL_NETLINK, 99, 1)
    check(False, "unknown SOL_NETLINK option")
except OSError as e:
    check(e.errno == errno.ENOPROTOOPT, "unknown option: %s" % e)

# a dump: sizing with MSG_PEEK|MSG_TRUNC, the kernel as the source
check(dump_names(s3, 7) == ["ens1f0", "ens1f1"], "dump names")
s3.send(getlink(8, name="ens1f0"))
n = s3.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
check(n > 100, "MSG_PEEK|MSG_TRUNC: the datagram's size (%d)" % n)
data, anc, flags, addr = s3.recvmsg(10)
check(len(data) == 10 and flags & socket.MSG_TRUNC, "a short read is truncated")
check(addr == (0, 0), "source address: the kernel, %r" % (addr,))
# without NLM_F_ACK nothing else comes; nonblocking: EAGAIN
s3.setblocking(False)
try:
    s3.recv(100)
    check(False, "nothing queued after the answer")
except BlockingIOError:
    pass
s3.setblocking(True)
# the answer is there when send() returns, as the kernel processes in sendmsg
s3.send(getlink(9, NLM_F_REQUEST | NLM_F_ACK, name="ens1f1"))
r, _, _ = select.select([s3], [], [], 0)
check(r == [s3], "readable right after send()")
t1 = [m[0] for m in messages(s3.recv(65536))]
t2 = [m[0] for m in messages(s3.recv(65536))]
check(t1 == [RTM_NEWLINK] and t2 == [NLMSG_ERROR], "answer, then the ACK in its own datagram: %r %r" % (t1, t2))

# an error with an extended ack: the request echoed unless NETLINK_CAP_ACK
s3.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
req = getlink(10, name="ens1f0", ifi_flags=1)
s3.send(req)
t, f, seq, pid, body = next(messages(s3.recv(65536)))
err = struct.unpack_from("i", body)[0]
check(t == NLMSG_ERROR and err == -errno.EINVAL, "strict get link: EINVAL (%d)" % err)
check(pid == os.getpid() and seq == 10, "error: port id and sequence")
check(f & NLM_F_ACK_TLVS and not f & NLM_F_CAPPED, "error flags %#x" % f)
check(body[4:4 + len(req)] == req, "the request echoed")
check(b"Invalid values in header for get link request\0" in body, "extended ack message")
s3.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
s3.send(req)
t, f, seq, pid, body = next(messages(s3.recv(65536)))
check(f & NLM_F_CAPPED and body[4:20] == req[:16] and struct.unpack_from("HH", body, 20)[1] == 1,
      "NETLINK_CAP_ACK: only the request's header, then the TLVs")

# dup(), fork()
d = socket.socket(fileno=os.dup(s3.fileno()))
d.send(getlink(11, name="ens1f0"))
check(next(messages(s3.recv(65536)))[0] == RTM_NEWLINK, "send on a dup, receive on the original")
pid = os.fork()
if pid == 0:
    d.close()
    s3.close()
    os._exit(0)
os.waitpid(pid, 0)
d.send(getlink(12, name="ens1f0"))
check(next(messages(d.recv(65536)))[0] == RTM_NEWLINK, "the parent's socket after the child closed its copies")
d.close()
s3.send(getlink(13, name="ens1f0"))
check(next(messages(s3.recv(65536)))[0] == RTM_NEWLINK, "the original after closing the dup")

# other sockets are the kernel's
u = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
check(u.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == NETLINK_KOBJECT_UEVENT, "uevent socket")
u.bind((0, 0))
check(u.getsockname()[0] != 0, "uevent socket bound by the kernel")
a, b = socket.socketpair()
a.send(b"x")
check(b.recv(1) == b"x", "Unix sockets")

# many sockets from many threads
def worker(i):
    for k in range(30):
        socks = [nlsock() for _ in range(4)]
        for j, x in enumerate(socks):
            x.send(getlink(k, name="ens1f%d" % (j % 2)))
            if next(messages(x.recv(65536)))[0] != RTM_NEWLINK:
                check(False, "thread %d: answer" % i)
        for x in socks:
            x.close()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
many = [nlsock() for _ in range(300)]
for x in many:
    x.bind((0, 0))
check(len({x.getsockname()[0] for x in many}) == 300, "300 sockets, 300 port ids")
for x in many:
    x.close()
sys.exit(1 if failures else 0)
PY

SRIOV_SIM_RTNL="$work/rtnl.sock" LD_PRELOAD="$SHIM" python3 "$work/t.py" sim || fail "the shim under Python"
LD_PRELOAD="$SHIM" python3 "$work/t.py" host || fail "the shim without SRIOV_SIM_RTNL"
# the simulator gone: the socket cannot be had, with a reason
sim_stop
out=$(SRIOV_SIM_RTNL="$work/rtnl.sock" LD_PRELOAD="$SHIM" python3 -c '
import socket
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
except OSError as e:
    print(e.errno)' 2>&1)
grep -q "libsim-rtnl: cannot connect to $work/rtnl.sock" <<<"$out" || fail "no word about the missing simulator: $out"
echo "PASS: the shim"
