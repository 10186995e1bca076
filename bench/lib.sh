# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by bench/run and the workload files it sources (bringup.sh,
# scale.sh, dbus.sh). Everything runs as root inside private mount and
# network namespaces, with the kernel simulator mounted over /sys (an empty
# read-only tmpfs lies under it, so nothing can reach the host's sysfs).
#
# Set by bench/run before sourcing: SRCDIR BUILDDIR W (private work dir)
# OUT (results dir) REPS QUICK.

# ---- the latency model (docs/benchmarks.md, "Latency model") ---------------
# Milliseconds per simulated kernel operation, set with `.sim/ctl latency OP MS`
# on every simulator this suite starts. One table, used everywhere; override
# with bench/run --latency "OP=MS ...".
#   sriov_enable   100  drivers/pci/iov.c sriov_enable(): msleep(100) after VF Enable
#   sriov_disable 1000  drivers/pci/iov.c sriov_disable(): ssleep(1) after VF Enable is cleared
#   vf_create        5  pci_iov_add_virtfn() (~1.5 ms of PCI core work in dmesg
#                       timestamps: device setup, IOMMU group) plus the PF driver's
#                       per-VF setup, at the low end of what NICs take
#   vf_destroy       2  pci_iov_remove_virtfn(), device removal
#   probe            5  a driver's probe() as seen by the writer of bind/drivers_probe
#                       (vfio-pci: vfio device and group registration; iavf/mlx5:
#                       probe returns after a few ms, the rest is asynchronous)
#   unbind           5  a driver's remove() (vfio-pci: runtime-PM resume, unregister)
#   hotplug          0  not used here
LATENCY_MODEL=${LATENCY_MODEL:-"sriov_enable=100 sriov_disable=1000 vf_create=5 vf_destroy=2 probe=5 unbind=5 hotplug=0"}

lat() {         # lat OP: milliseconds of OP in the model
        local kv
        for kv in $LATENCY_MODEL; do
                [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
        done
        echo 0
}

# ---- output -------------------------------------------------------------------
say() { printf '%s\n' "$*" >&2; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# rec JSON: one raw measurement, a JSON object, for report.py
rec() { printf '%s\n' "$1" >>"$W/results.jsonl"; }
# jstr STRING: a JSON string literal
jstr() {
        local s=${1//\\/\\\\}
        s=${s//\"/\\\"}
        s=${s//$'\n'/ }
        s=${s//$'\t'/ }
        printf '"%s"' "$s"
}

# monotonic-enough microseconds without a fork (bash 5)
now_us() { NOW_US=${EPOCHREALTIME/./}; }
# ms_since T0_US: milliseconds since T0, with a fraction
ms_since() {
        now_us
        local d=$((NOW_US - $1))
        printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

# ---- processes, the simulator, the bus: tests/lib/sim.sh, tests/lib/bus.sh -------
# shellcheck source=tests/lib/sim.sh
. "$SRCDIR/tests/lib/sim.sh"
# shellcheck source=tests/lib/bus.sh
. "$SRCDIR/tests/lib/bus.sh"
# a reply may wait for a whole bring-up
MGR_TIMEOUT=900

# stop_pid PID [SECONDS]: SIGTERM, bounded wait (10 s), then SIGKILL; also
# for processes that are not our children (the daemon, started through
# sriovd-bench ready). Nothing to do for an empty PID or one that is gone.
stop_pid() {
        [ -n "$1" ] || return 0
        pid_alive "$1" || return 0
        STOP_SECONDS=${2:-10} stop_pids "$1"
        return 0
}

# cpu_ticks PID: utime+stime of the whole process (exited threads included)
cpu_ticks() {
        local s
        read -r s <"/proc/$1/stat" || { echo 0; return; }
        s=${s##*) }
        # fields after the comm: state(3) ... utime(14) stime(15) -> 12th and 13th here
        # shellcheck disable=SC2086 # split into fields
        set -- $s
        echo $((${12} + ${13}))
}
CLK_TCK=$(getconf CLK_TCK)

# wait_cpu_quiet PID: until the process used no CPU for a whole second (bounded, 120 s)
wait_cpu_quiet() {
        local a b i
        a=$(cpu_ticks "$1")
        for ((i = 0; i < 120; i++)); do
                sleep 1
                b=$(cpu_ticks "$1")
                [ "$a" = "$b" ] && return 0
                a=$b
        done
        return 1
}

# ctx_switches PID: voluntary + involuntary context switches of all its threads
ctx_switches() {
        cat /proc/"$1"/task/*/status 2>/dev/null |
                awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ---- the simulator over /sys ----------------------------------------------------
# sim_up TOPOLOGY [sriov-sim options]: mount a fresh simulated host over /sys
# and apply the latency model
sim_up() {
        local topo=$1 kv
        shift
        sim_down
        sim_spawn "$SIM" "$topo" /sys "$W/sim.log" "$@" ||
                die "the simulator did not come up: $(tail -n 5 "$W/sim.log")"
        for kv in $LATENCY_MODEL; do
                echo "latency ${kv%%=*} ${kv#*=}" >/sys/.sim/ctl || die "cannot set latency $kv"
        done
}

sim_down() { sim_stop_all; }

# (sim_state, tests/lib/sim.sh: the simulator's view of the host, for
# correctness checks)

# vf_bdfs PF N: the addresses VFs 0..N-1 of PF get (routing-id arithmetic
# from sriov_offset/sriov_stride, no process per VF)
vf_bdfs() {
        local pf=$1 n=$2 off stride b d f rid i r out=
        read -r off <"/sys/bus/pci/devices/$pf/sriov_offset"
        read -r stride <"/sys/bus/pci/devices/$pf/sriov_stride"
        b=${pf:5:2}
        d=${pf:8:2}
        f=${pf:11:1}
        rid=$((0x$b << 8 | 0x$d << 3 | f))
        for ((i = 0; i < n; i++)); do
                r=$((rid + off + i * stride))
                printf -v out '%s %s:%02x:%02x.%d' "$out" "${pf:0:4}" $((r >> 8)) $(((r >> 3) & 31)) $((r & 7))
        done
        echo "$out"
}

# ---- a private system bus ---------------------------------------------------------
bus_up() { bus_spawn "$W" "$W/bus.log" || die "dbus-daemon did not start: $(tail -n 5 "$W/bus.log")"; }
bus_down() {
        stop_pid "$BUS_PID" 5
        BUS_PID=
}

# ---- sriovd ---------------------------------------------------------------------
DAEMON_PID=
DAEMON_READY_MS=
DAEMON_LOG=
DAEMON_N=0

# daemon_up NAME [sriovd options]: start sriovd on the simulator (its
# rtnetlink through the simulator's shim, as in tests/lib/harness.sh) with
# NOTIFY_SOCKET; returns once it sent READY=1 (the declared configuration
# applied, State=running). Configuration: $W/sriovd.conf and $W/conf.d.
daemon_up() {
        local name=$1 json e
        shift
        DAEMON_N=$((DAEMON_N + 1))
        DAEMON_LOG="$W/sriovd-$name.log"
        # DAEMON_STATE: a state directory to start from (a restart's), else a new one
        DAEMON_STATE_DIR=${DAEMON_STATE:-$W/state-$DAEMON_N}
        mkdir -p "$DAEMON_STATE_DIR" "$W/conf.d"
        chmod 0700 "$DAEMON_STATE_DIR"
        [ -f "$W/sriovd.conf" ] || echo '{}' >"$W/sriovd.conf"
        mapfile -t e < <(sim_env "$SIM_SHIM")
        json=$(env "${e[@]}" "$BENCH" ready -t 900 -- \
                "$SRIOVD" --sysfs-root /sys --state-dir "$DAEMON_STATE_DIR" --cdi-dir "$W/cdi-$DAEMON_N" --config "$W/sriovd.conf" \
                --config-dir "$W/conf.d" "$@" 2>>"$DAEMON_LOG") ||
                die "sriovd did not become ready: $(tail -n 5 "$DAEMON_LOG")"
        DAEMON_PID=$(jfield "$json" pid)
        DAEMON_READY_MS=$(jfield "$json" ready_ms)
}
daemon_down() {
        stop_pid "$DAEMON_PID" 15
        DAEMON_PID=
}

# jfield JSON KEY: a top-level number or string of a one-line JSON object
jfield() {
        local j=$1 k=$2 v
        v=${j#*\"$k\": }
        [ "$v" = "$j" ] && return 1
        v=${v%%[,\}]*}
        v=${v#\"}
        echo "${v%\"}"
}

# ---- statistics (integers and decimals as text; sorting with sort -g) ---------
# median VALUES...
median() {
        printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
