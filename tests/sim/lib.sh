# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the simulator tests (tests/sim/*.sh). Each test mounts its own
# simulator in a fresh directory and always takes it down again (trap).
# Functions fail the test at once (exit 1) with a message on stderr. Tests
# run in strict mode (set -euo pipefail): a command that fails unexpectedly
# ends the test too, and says which (tests/lib/strict.sh).

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PATH="$top_builddir/tests/sim:$PATH"
TOPO="$top_srcdir/tests/sim/topologies"
source "$top_srcdir/tests/lib/strict.sh"
source "$top_srcdir/tests/lib/sim.sh"
source "$top_srcdir/tests/lib/users.sh"
SIM_OWN_MNT=
SIM_ERR=

skip() {
        echo "SKIP: $*"
        exit 77
}

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

require_root() {
        [ "$(id -u)" = 0 ] || skip "needs root (FUSE mount with allow_other, sysfs modes)"
        [ -c /dev/fuse ] || skip "/dev/fuse is missing"
        command -v sriov-sim >/dev/null || skip "sriov-sim is not built (--disable-simulator?)"
}

# require_cmd COMMAND PACKAGE
require_cmd() {
        command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (Debian package $2)"
}

# re-run this test inside private namespaces: reexec_in_ns -m|-n ...
reexec_in_ns() {
        local var
        var="SIM_IN_NS_$(printf '%s' "$*" | tr -c 'A-Za-z0-9' _)"
        if [ -z "${!var:-}" ]; then
                command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
                unshare "$@" true 2>/dev/null || skip "unshare $* is not permitted here"
                export "$var=1"
                exec unshare "$@" bash "$0"
        fi
        # never trust the variable alone: an inherited one must not let the
        # test mount over the host's /sys or rewire its network
        local ns
        for ns in mnt:-m net:-n; do
                case " $* " in *" ${ns#*:} "*)
                        [ "$(readlink /proc/self/ns/"${ns%%:*}")" != "$(readlink /proc/1/ns/"${ns%%:*}")" ] ||
                                { echo "FAIL: still in PID 1's ${ns%%:*} namespace" >&2; exit 99; }
                esac
        done
}

sim_cleanup() {
        sim_stop_all
        if [ -n "$SIM_OWN_MNT" ]; then
                rmdir "$SIM_OWN_MNT" 2>/dev/null || :
        fi
        if [ -n "$SIM_ERR" ]; then
                rm -f "$SIM_ERR"
        fi
        return 0
}

# sim_start TOPOLOGY.json [MOUNTPOINT] [-- sriov-sim options]
sim_start() {
        local topo="$1" mnt="${2:-}"
        shift
        [ $# -gt 0 ] && shift
        [ "${1:-}" = "--" ] && shift
        if [ -z "$mnt" ]; then
                mnt=$(mktemp -d /tmp/sriov-sim.XXXXXX)
                SIM_OWN_MNT="$mnt"
        fi
        SIM_ERR=$(mktemp /tmp/sriov-sim-err.XXXXXX)
        on_exit sim_cleanup
        sim_spawn sriov-sim "$topo" "$mnt" "$SIM_ERR" "$@" && return 0
        cat "$SIM_ERR" >&2
        fail "sriov-sim did not come up on $mnt"
}

# stop it the way a user would, and check that it went cleanly
sim_stop() {
        local rc=0
        kill -TERM "$SIM_PID"
        wait "$SIM_PID" || rc=$?
        [ "$rc" = 0 ] || fail "sriov-sim exited with $rc after SIGTERM"
        ! sim_mounted "$SIM_ROOT" || fail "$SIM_ROOT is still mounted after SIGTERM"
        SIM_PID=
        sim_cleanup
        SIM_OWN_MNT=
        SIM_ERR=
}

dev() {
        echo "$SIM_ROOT/bus/pci/devices/$1"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
        [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_write PATH VALUE RESULT: one write(2), RESULT is 0 or the errno name
expect_write() {
        local r
        r=$(sim-write "$1" "$2")
        [ "$r" = "$3" ] || fail "write '$2' to ${1#"$SIM_ROOT"/}: got $r, expected $3"
}

ctl() {
        expect_write "$SIM_ROOT/.sim/ctl" "$*" 0
}

rd() {
        cat "$1" 2>/dev/null || fail "cannot read ${1#"$SIM_ROOT"/}"
}

link_target() {
        readlink "$1" || fail "${1#"$SIM_ROOT"/} is not a link"
}

# state EXPR: evaluate a python expression over the JSON state dump (d), e.g.
#   state "dev('0000:3b:00.0')['driver']"
state() {
        python3 - "$1" "$SIM_ROOT/.sim/state" <<'EOF'
import json, sys
d = json.load(open(sys.argv[2]))
def dev(bdf):
    for x in d["devices"]:
        if x["bdf"] == bdf:
            return x
    return None
v = eval(sys.argv[1])
print(json.dumps(v) if not isinstance(v, str) else v)
EOF
}

# expect_blocked PID [WHAT]: the process's request reached the simulator,
# which holds it: waits (10 s at most) until the process sleeps in the
# kernel on the simulator's answer; fails if it ends instead. Called again
# later (before the release), it checks that it is still held.
expect_blocked() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = request_wait_answer ] && return 0
                pid_alive "$1" || fail "${2:-the operation} returned although it should block"
                sleep 0.05
        done
        fail "${2:-the operation} is not waiting for the simulator after 10 s"
}

# wait_state EXPR VALUE [WHAT]: waits (10 s at most) until the state EXPR
# (see state) is VALUE: that a blocked request reached the simulator
# (expect_blocked) does not say how far the simulator got with it.
wait_state() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ "$(state "$1")" = "$2" ] && return 0
                sleep 0.05
        done
        fail "${3:-$1} is not $2 after 10 s: $(state "$1")"
}

# milliseconds on a monotonic-enough clock
now_ms() {
        echo $(($(date +%s%N) / 1000000))
}
