# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# bench-bringup: workload 5 of bench/run (docs/benchmarks.md) on the real
# kernel in tests/vm/run's guest. Not a test and not in tests/vm/scenarios:
# bench/vm/run hands it to tests/vm/run in a scenario directory of its own.
#
# On the igb PF (7 VFs, igbvf for the host), every contestant does the
# same four steps, timed each and as a whole:
#   enable   7 VFs, autoprobe on (igbvf probes each)
#   bind     every VF to vfio-pci
#   restore  every VF back to igbvf
#   disable  0 VFs
# Contestants: the plain serial shell loop of sysfs writes (ash builtins),
# sriovd driven by its configuration (`sriovctl reload` of a file per step:
# what `sriovctl apply` does after the file was re-read), sriovd driven by
# its verbs, one call per step (enable, bind and restore naming every VF,
# disable), driverctl
# (with --nosave; the VF count by echo) and dpdk-devbind.py (one call per
# step for all VFs; the VF count by echo). The order rotates per
# repetition. Each run's result is checked (drivers after bind and
# restore, no VFs after disable); a wrong result is recorded, not timed.
#
# Output (KEY=VALUE in the transcript): bench.rep.N.CONTESTANT.STEP_ms and
# .total_ms, .ok, plus what was skipped and why.
#
# diff-skip: a benchmark, not a kernel rule
# vm-needs:

no_reference
IGB=$(igb_pf) || skip "no igb NIC (QEMU < 8)"
BENCH_REPS=${BENCH_REPS:-3}
B=/opt/sriovd/bin
[ -r "$B/bench.conf" ] && . "$B/bench.conf"
N=7
P=$PCI/devices/$IGB
CONF=$STATE/bench-sriovd.conf
PYHOME=/opt/sriovd/py
[ -r "$B/py.tar" ] && mkdir -p "$PYHOME" && tar -xf "$B/py.tar" -C "$PYHOME"

# milliseconds since boot, from the monotonic clock (busybox date has no
# reliable %N; /proc/uptime is in centiseconds)
now_ms() {
        _u=$(cut -d' ' -f1 /proc/uptime)
        echo $((${_u%.*} * 1000 + 1${_u#*.} * 10 - 1000))
}
if [ -x "$B/monotonic-ms" ]; then
        now_ms() { "$B/monotonic-ms"; }
fi

vf_list() { vfs "$IGB"; }

all_on() {      # all_on DRIVER: every VF of the PF is bound to DRIVER
        _n=0
        for _v in $(vf_list); do
                [ "$(drv "$_v")" = "$1" ] || return 1
                _n=$((_n + 1))
        done
        [ "$_n" = "$N" ]
}

# ---- the contestants: one function per step --------------------------------

shell_enable() { echo "$N" >"$P/sriov_numvfs"; }
shell_bind() {
        for v in $(vf_list); do
                echo vfio-pci >"$PCI/devices/$v/driver_override" || return 1
                [ -e "$PCI/devices/$v/driver" ] && { echo "$v" >"$PCI/devices/$v/driver/unbind" || return 1; }
                echo "$v" >"$PCI/drivers_probe" || return 1
        done
}
shell_restore() {
        for v in $(vf_list); do
                echo >"$PCI/devices/$v/driver_override" || return 1
                [ -e "$PCI/devices/$v/driver" ] && { echo "$v" >"$PCI/devices/$v/driver/unbind" || return 1; }
                echo "$v" >"$PCI/drivers_probe" || return 1
        done
}
shell_disable() { echo 0 >"$P/sriov_numvfs"; }

# sriovd through its configuration: the file, then `sriovctl reload`
conf_write() {  # conf_write NUM_VFS [DRIVER]
        if [ -n "${2:-}" ]; then
                printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": %d, "vfs": [ { "range": "0-%d", "driver": "%s" } ] } ] }\n' \
                        "$IGB" "$1" $(($1 - 1)) "$2" >"$CONF"
        else
                printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": %d } ] }\n' "$IGB" "$1" >"$CONF"
        fi
}
reload() { sriovctl --timeout 300 reload >>"$STATE/bench-sriovctl.out" 2>&1; }
sriovd_enable() { conf_write "$N" && reload; }
sriovd_bind() { conf_write "$N" vfio-pci && reload; }
sriovd_restore() { conf_write "$N" host && reload; }
sriovd_disable() { conf_write 0 && reload; }

# sriovd through its verbs, one call per step: bind and restore name every
# VF (BindDevices, RestoreDrivers)
verbs_enable() { sriovctl enable "$IGB" "$N" >>"$STATE/bench-sriovctl.out" 2>&1; }
# shellcheck disable=SC2046 # one argument per VF
verbs_bind() { sriovctl bind $(vf_list) vfio-pci >>"$STATE/bench-sriovctl.out" 2>&1; }
# shellcheck disable=SC2046
verbs_restore() { sriovctl restore $(vf_list) >>"$STATE/bench-sriovctl.out" 2>&1; }
verbs_disable() { sriovctl disable "$IGB" >>"$STATE/bench-sriovctl.out" 2>&1; }

driverctl_enable() { shell_enable; }
driverctl_bind() {
        for v in $(vf_list); do
                bash "$B/driverctl" --nosave set-override "$v" vfio-pci 2>>"$STATE/bench-tools.err" || return 1
        done
}
driverctl_restore() {
        for v in $(vf_list); do
                bash "$B/driverctl" --nosave unset-override "$v" 2>>"$STATE/bench-tools.err" || return 1
        done
}
driverctl_disable() { shell_disable; }

dpdk_enable() { shell_enable; }
# shellcheck disable=SC2046 # one argument per VF
dpdk_bind() { PYTHONHOME=$PYHOME "$B/python3" -S "$B/dpdk-devbind.py" -b vfio-pci $(vf_list) >>"$STATE/bench-tools.err" 2>&1; }
# shellcheck disable=SC2046
dpdk_restore() { PYTHONHOME=$PYHOME "$B/python3" -S "$B/dpdk-devbind.py" -b igbvf $(vf_list) >>"$STATE/bench-tools.err" 2>&1; }
dpdk_disable() { shell_disable; }

# ---- what can run here -----------------------------------------------------

available() {   # available CONTESTANT: prints why not, if not
        case $1 in
        sriovd|verbs)
                command -v sriovd >/dev/null && command -v sriovctl >/dev/null || echo "sriovd and sriovctl were not carried into the guest"
                ;;
        driverctl)
                [ -r "$B/driverctl" ] && command -v bash >/dev/null || echo "driverctl or bash was not carried into the guest"
                ;;
        dpdk)
                [ -x "$B/python3" ] && [ -r "$B/dpdk-devbind.py" ] && [ -e "$PYHOME/lib" ] && command -v lspci >/dev/null ||
                        echo "dpdk-devbind.py, python3 or lspci was not carried into the guest"
                ;;
        esac
}

# driverctl runs /sbin/modprobe -q vfio-pci before every override (it
# looks for /sys/module/vfio-pci, with a dash); the modules are loaded
# already and the guest has no modules.dep for busybox's modprobe
if [ -r "$B/driverctl" ]; then
        rm -f /sbin/modprobe
        printf '#!/bin/sh\nexit 0\n' >/sbin/modprobe
        chmod 755 /sbin/modprobe
fi

CONTESTANTS="shell sriovd verbs driverctl dpdk"
RUN=
for c in $CONTESTANTS; do
        why=$(available "$c")
        if [ -n "$why" ]; then
                obs "bench.skip.$c" "$why"
        else
                RUN="$RUN $c"
        fi
done
obs bench.vfs "$N"
obs bench.reps "$BENCH_REPS"
obs bench.contestants "$RUN"

bsay() { echo "$*" >/dev/console 2>/dev/null; }

# sriovd runs (untimed start, fresh state, no rules) for its contestants
# only: the others do not share the guest's two CPUs with it
start_daemon() {
        rm -rf "$STATE/bench-state"
        mkdir -p "$STATE/bench-state" "$STATE/bench-conf.d"
        echo '{}' >"$CONF"
        # the kernel's uevents: the guest has no udevd
        start_sriovd --uevent-source kernel --state-dir "$STATE/bench-state" --config "$CONF" \
                --config-dir "$STATE/bench-conf.d" || { fail "sriovd did not start"; return 1; }
        wait_until 60 sh -c 'sriovctl status >/dev/null 2>&1'
}

# the fixed cost of one sriovctl call (a process, its D-Bus connection and
# one round trip): the fastest of 5 `sriovctl status`, untimed otherwise
cli_floor() {   # cli_floor REP
        _best=
        for _i in 1 2 3 4 5; do
                _a=$(now_ms)
                sriovctl status >/dev/null 2>&1 || return 0
                _d=$(($(now_ms) - _a))
                [ -z "$_best" ] || [ "$_d" -lt "$_best" ] && _best=$_d
        done
        obs "bench.clifloor.$1" "$_best"
}

run_one() {     # run_one REP CONTESTANT
        _c=$2 _ok=ok
        case $_c in sriovd|verbs) start_daemon || { obs "bench.rep.$1.$_c.ok" "sriovd did not start"; return; } ;; esac
        [ "$_c" = sriovd ] && cli_floor "$1"
        _t0=$(now_ms)
        for _s in enable bind restore disable; do
                _a=$(now_ms)
                if ! "${_c}_$_s"; then
                        _ok="$_s failed"
                        break
                fi
                _b=$(now_ms)
                obs "bench.rep.$1.$_c.${_s}_ms" $((_b - _a))
                case $_s in
                enable) [ "$(cat "$P/sriov_numvfs")" = "$N" ] && wait_until 20 all_on igbvf || _ok="enable: $(cat "$P/sriov_numvfs") VFs, not all on igbvf" ;;
                bind) all_on vfio-pci || _ok="bind: not all VFs on vfio-pci" ;;
                restore) all_on igbvf || _ok="restore: not all VFs on igbvf" ;;
                disable) [ "$(cat "$P/sriov_numvfs")" = 0 ] || _ok="disable: $(cat "$P/sriov_numvfs") VFs left" ;;
                esac
                [ "$_ok" = ok ] || break
                # the checks are not part of the contestant's time
                _t0=$((_t0 + $(now_ms) - _b))
        done
        obs "bench.rep.$1.$_c.total_ms" $(($(now_ms) - _t0))
        obs "bench.rep.$1.$_c.ok" "$_ok"
        # whatever happened, the next one starts from no VFs and autoprobe on
        if [ "$_ok" != ok ]; then
                cp "$STATE/bench-sriovctl.out" "$RESULTS/$NAME.sriovctl.out" 2>/dev/null
                cp "$STATE/bench-tools.err" "$RESULTS/$NAME.tools.err" 2>/dev/null
                for v in $(vf_list); do echo >"$PCI/devices/$v/driver_override" 2>/dev/null; done
                echo 0 >"$P/sriov_numvfs" 2>/dev/null
                echo 1 >"$P/sriov_drivers_autoprobe" 2>/dev/null
        fi
        case $_c in sriovd|verbs) stop_sriovd ;; esac
}

rep=1
while [ "$rep" -le "$BENCH_REPS" ]; do
        # rotate the order
        set -- $RUN
        i=1
        while [ "$i" -lt "$rep" ]; do
                _first=$1
                shift
                set -- "$@" "$_first"
                i=$((i + 1))
        done
        for c in "$@"; do
                run_one "$rep" "$c"
                bsay "bench rep $rep $c: $(sed -n "s/^bench\.rep\.$rep\.$c\.total_ms=//p" "$T") ms"
        done
        rep=$((rep + 1))
done
cp "$STATE/bench-sriovctl.out" "$RESULTS/$NAME.sriovctl.out" 2>/dev/null
cp "$STATE/bench-tools.err" "$RESULTS/$NAME.tools.err" 2>/dev/null
:
