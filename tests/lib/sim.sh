# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel simulator (tests/sim/sriov-sim), started, stopped and read one
# way for everything that uses it: the integration tests
# (tests/lib/harness.sh), the simulator's own tests (tests/sim/lib.sh), the
# benchmarks (bench/lib.sh), the differential check (tests/vm/diff-sim) and
# tools/demo. Sourced (bash); nothing here exits: the callers decide.
#
# SIM_ROOT is where the simulated host is mounted (a directory, or /sys in a
# private mount namespace), SIM_PID its process, SIM_RTNL its rtnetlink
# socket (empty without one).

SIM_ROOT=${SIM_ROOT:-}
SIM_PID=${SIM_PID:-}
SIM_RTNL=${SIM_RTNL:-}

# sim_spawn SRIOV-SIM TOPOLOGY MOUNTPOINT LOG [sriov-sim options...]: mount a
# simulated host at MOUNTPOINT (the simulator in the background, its output
# appended to LOG) and wait, 10 s at most, until it serves .sim/state. Sets
# SIM_ROOT, SIM_PID and, with --rtnl SOCKET among the options, SIM_RTNL.
# Status 1 when the simulator stopped or was not up in time (LOG says why).
sim_spawn() {
        local bin=$1 topo=$2 mnt=$3 log=$4 i
        shift 4
        SIM_RTNL=
        for ((i = 1; i < $#; i++)); do
                [ "${!i}" = --rtnl ] && { i=$((i + 1)); SIM_RTNL=${!i}; }
        done
        SIM_ROOT=$mnt
        "$bin" "$topo" "$mnt" "$@" >>"$log" 2>&1 &
        SIM_PID=$!
        for ((i = 0; i < 200; i++)); do
                [ -e "$mnt/.sim/state" ] && return 0
                kill -0 "$SIM_PID" 2>/dev/null || return 1
                sleep 0.05
        done
        return 1
}

# sim_mounted [MOUNTPOINT]: the simulator is (still) mounted there
sim_mounted() {
        awk -v m="${1:-$SIM_ROOT}" '$5 == m && $0 ~ / - fuse\.sriov-sim / { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# pid_alive PID: running and not a zombie (also for processes that are not
# this shell's children)
pid_alive() {
        local s
        [ -r "/proc/$1/stat" ] || return 1
        read -r s <"/proc/$1/stat" 2>/dev/null || return 1
        s=${s##*) }
        [ "${s%% *}" != Z ]
}
pid_gone() { ! pid_alive "$1"; }

# stop_pids PID...: SIGTERM, up to STOP_SECONDS (5) to go, then SIGKILL (a
# process stuck on a blocked simulated write must not hang anyone); reaps
# those that are children. Always status 0.
stop_pids() {
        local p i alive
        for p in "$@"; do kill "$p" 2>/dev/null || :; done
        for ((i = 0; i < ${STOP_SECONDS:-5} * 20; i++)); do
                alive=0
                for p in "$@"; do pid_alive "$p" && alive=1; done
                [ $alive = 0 ] && break
                sleep 0.05
        done
        for p in "$@"; do pid_alive "$p" && { kill -9 "$p" 2>/dev/null || :; }; done
        for p in "$@"; do wait "$p" 2>/dev/null || :; done
        return 0
}

# sim_stop_all: the simulator stopped (SIGTERM, bounded) and its mount gone
# (lazily, should it hang); nothing to do when none runs. Status 0.
sim_stop_all() {
        [ -z "$SIM_PID" ] || stop_pids "$SIM_PID"
        SIM_PID=
        if [ -n "$SIM_ROOT" ] && sim_mounted "$SIM_ROOT"; then
                fusermount3 -u "$SIM_ROOT" 2>/dev/null || umount -l "$SIM_ROOT" 2>/dev/null || :
        fi
        return 0
}

sim_ctl() { echo "$*" >"$SIM_ROOT/.sim/ctl"; }
sim_state() { cat "$SIM_ROOT/.sim/state"; }

# driver_of BDF: the driver a function is bound to, "none" when unbound
driver_of() {
        local l
        l=$(readlink "$SIM_ROOT/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return 0; }
        echo "${l##*/}"
}

# sim_env SHIM: the environment (as env(1) arguments, one a line) that
# points a process's rtnetlink sockets at the simulator's SIM_RTNL through
# the preload shim (tests/sim/README.md, "rtnetlink"); nothing without
# a socket or a shim
sim_env() {
        [ -n "$SIM_RTNL" ] && [ -e "$1" ] || return 0
        printf '%s\n' "SRIOV_SIM_RTNL=$SIM_RTNL" "LD_PRELOAD=$1${LD_PRELOAD:+:$LD_PRELOAD}" \
                "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}
