# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced after lib.sh by the rtnetlink tests (sim-rtnl*.sh): the shim, a
# private work directory (RTNL_WORK, with the simulator's socket), and ip(8)
# run through the shim.

SHIM="$top_builddir/tests/sim/libsim-rtnl.so"
[ -f "$SHIM" ] || skip "libsim-rtnl.so is not built (make check builds it)"
RTNL_WORK=$(mktemp -d /tmp/sim-rtnl.XXXXXX)
RTNL_SOCK="$RTNL_WORK/rtnl.sock"
on_exit 'sim_cleanup; rm -rf "$RTNL_WORK"'

EINVAL="RTNETLINK answers: Invalid argument"
EOPNOTSUPP="RTNETLINK answers: Operation not supported"
EPROTONOSUPPORT="RTNETLINK answers: Protocol not supported"

# sim_start_rtnl TOPOLOGY: a simulator answering rtnetlink on RTNL_SOCK
sim_start_rtnl() {
        sim_start "$1" "" -- --rtnl "$RTNL_SOCK"
        on_exit 'sim_cleanup; rm -rf "$RTNL_WORK"'     # sim_start sets its own
}

ipr() {
        SRIOV_SIM_RTNL="$RTNL_SOCK" LD_PRELOAD="$SHIM" ip "$@"
}

# expect_ip PATTERN ARGS...: ip ARGS succeeds and prints a line matching PATTERN
expect_ip() {
        local pat="$1" out
        shift
        out=$(ipr "$@" 2>&1) || fail "ip $*: failed: $out"
        grep -qE -- "$pat" <<<"$out" || fail "ip $*: no line matching '$pat' in:
$out"
}

expect_ip_ok() {
        local out
        out=$(ipr "$@" 2>&1) || fail "ip $*: $out"
}

# expect_ip_err MESSAGE ARGS...: ip ARGS fails, saying MESSAGE
expect_ip_err() {
        local msg="$1" out
        shift
        if out=$(ipr "$@" 2>&1); then
                fail "ip $* succeeded, expected '$msg'"
        fi
        grep -qF -- "$msg" <<<"$out" || fail "ip $*: expected '$msg', got: $out"
}

# vf_line IFNAME N: the "vf N" line of ip link show, without the indent
vf_line() {
        ipr link show dev "$1" | grep -E "^ +vf $2 " | sed 's/^ *//' || fail "no line for VF $2 of $1"
}
