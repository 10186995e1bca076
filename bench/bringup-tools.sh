#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bring-up contestants other than sriovd, as an administrator would run
# them against /sys (the simulator, in bench/run's mount namespace):
#
#   bringup-tools.sh shell|shell-par|driverctl|dpdk N PF...
#
# Each enables N VFs on every PF (echo N > sriov_numvfs) and binds them all
# to vfio-pci; the PFs have sriov_drivers_autoprobe off, so the VFs come up
# unbound. It prints "ms=ELAPSED" for the work alone (the VF addresses are
# computed before the clock starts), so that bench/run can also run it under
# strace to count what it does.
#   shell      the plain sysfs sequence, serially: numvfs, then per VF
#              driver_override + drivers_probe (bash builtins only)
#   shell-par  the same, one background shell per PF (the parallel limit)
#   driverctl  numvfs, then `driverctl --nosave set-override VF vfio-pci` per VF
#   dpdk       numvfs, then one `dpdk-devbind.py -b vfio-pci VF...` for all
set -u
mode=$1 n=$2
shift 2
pfs=("$@")
DPDK_DEVBIND=${DPDK_DEVBIND:-dpdk-devbind.py}

declare -A vfs
all=
for pf in "${pfs[@]}"; do
        read -r off <"/sys/bus/pci/devices/$pf/sriov_offset"
        read -r stride <"/sys/bus/pci/devices/$pf/sriov_stride"
        rid=$((0x${pf:5:2} << 8 | 0x${pf:8:2} << 3 | ${pf:11:1}))
        list=
        for ((i = 0; i < n; i++)); do
                r=$((rid + off + i * stride))
                printf -v list '%s %s:%02x:%02x.%d' "$list" "${pf:0:4}" $((r >> 8)) $(((r >> 3) & 31)) $((r & 7))
        done
        vfs[$pf]=$list
        all+=$list
done

one_pf() {
        local pf=$1 v
        echo "$n" >"/sys/bus/pci/devices/$pf/sriov_numvfs" || return 1
        for v in ${vfs[$pf]}; do
                echo vfio-pci >"/sys/bus/pci/devices/$v/driver_override" || return 1
                echo "$v" >/sys/bus/pci/drivers_probe || return 1
        done
}

rc=0
t0=${EPOCHREALTIME/./}
case $mode in
shell)
        for pf in "${pfs[@]}"; do
                one_pf "$pf" || rc=1
        done
        ;;
shell-par)
        pids=()
        for pf in "${pfs[@]}"; do
                one_pf "$pf" &
                pids+=($!)
        done
        for p in "${pids[@]}"; do
                wait "$p" || rc=1
        done
        ;;
driverctl)
        for pf in "${pfs[@]}"; do
                echo "$n" >"/sys/bus/pci/devices/$pf/sriov_numvfs" || rc=1
        done
        for v in $all; do
                driverctl --nosave set-override "$v" vfio-pci || rc=1
        done
        ;;
dpdk)
        for pf in "${pfs[@]}"; do
                echo "$n" >"/sys/bus/pci/devices/$pf/sriov_numvfs" || rc=1
        done
        # shellcheck disable=SC2086 # one argument per VF
        "$DPDK_DEVBIND" -b vfio-pci $all || rc=1
        ;;
*)
        echo "unknown contestant $mode" >&2
        exit 2
        ;;
esac
t1=${EPOCHREALTIME/./}
d=$((t1 - t0))
printf 'ms=%d.%03d\n' $((d / 1000)) $((d % 1000))
exit $rc
