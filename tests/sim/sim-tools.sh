#!/bin/bash
# Unmodified tools against the simulator mounted over /sys in a private
# mount namespace: lspci, driverctl, dpdk-devbind.py. kmod is replaced by
# tests/sim/modprobe-stub in that namespace (driverctl runs modprobe).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd lspci pciutils
require_cmd driverctl driverctl
require_cmd dpdk-devbind.py dpdk
require_cmd python3 python3
require_cmd ip iproute2
reexec_in_ns -m --propagation private
mount --bind "$top_srcdir/tests/sim/modprobe-stub" "$(readlink -f /sbin/modprobe)" ||
        skip "cannot replace kmod inside the mount namespace"
sim_start "$TOPO/x710.json" /sys
PF=/sys/bus/pci/devices/0000:3b:00.0
expect_write "$PF/sriov_numvfs" 2 0

# --- lspci ---
out=$(lspci -D 2>/dev/null)
for l in "0000:3a:00.0 PCI bridge: Intel Corporation Sky Lake-E PCI Express Root Port A" \
         "0000:3b:00.0 Ethernet controller: Intel Corporation Ethernet Controller X710 for 10GbE SFP+ (rev 02)" \
         "0000:3b:02.1 Ethernet controller: Intel Corporation Ethernet Virtual Function 700 Series (rev 02)"; do
        grep -qxF "$l" <<< "$out" || fail "lspci -D lacks '$l': $out"
done
expect_eq "$(wc -l <<< "$out")" 6 "lspci -D lines"
out=$(lspci -vvv -s 3b:00.0 2>/dev/null)
for l in "Single Root I/O Virtualization (SR-IOV)" "Initial VFs: 64, Total VFs: 64, Number of VFs: 2," \
         "IOVCtl:	Enable+ Migration- Interrupt- MSE+" "VF offset: 16, stride: 1, Device ID: 154c" \
         "Kernel driver in use: i40e" "IOMMU group: " "Physical Slot: 1" "Express (v2) Endpoint" \
         "Subsystem: Intel Corporation Ethernet Converged Network Adapter X710-2" "Access Control Services"; do
        grep -qF "$l" <<< "$out" || fail "lspci -vvv lacks '$l'"
done
out=$(lspci -vmmnnk -s 0000:3b:02.0 2>/dev/null)
for l in "Device:	Ethernet Virtual Function 700 Series [154c]" "Class:	Ethernet controller [0200]" \
         "Driver:	iavf" "NUMANode:	0"; do
        grep -qxF "$l" <<< "$out" || fail "lspci -vmmnnk lacks '$l': $out"
done
grep -qF "Bus: primary=3a, secondary=3b, subordinate=3b" <<<"$(lspci -vvv -s 3a:00.0 2>/dev/null)" ||
        fail "lspci shows no bus numbers for the root port"

# --- driverctl: set-override binds vfio-pci, unset-override gives the VF back ---
echo "rmmod vfio-pci" > /sys/.sim/ctl
driverctl --nosave set-override 0000:3b:02.0 vfio-pci || fail "driverctl set-override failed"
expect_eq "$(driver_of 0000:3b:02.0)" vfio-pci "after driverctl set-override"
expect_eq "$(rd /sys/bus/pci/devices/0000:3b:02.0/driver_override)" vfio-pci "override after set-override"
[ -d /sys/module/vfio_pci ] || fail "driverctl did not load vfio-pci through modprobe"
grep -qxF "0000:3b:02.0 vfio-pci" <<<"$(driverctl list-overrides)" || fail "driverctl list-overrides: $(driverctl list-overrides)"
driverctl --nosave unset-override 0000:3b:02.0 || fail "driverctl unset-override failed"
expect_eq "$(driver_of 0000:3b:02.0)" iavf "after driverctl unset-override"
expect_eq "$(rd /sys/bus/pci/devices/0000:3b:02.0/driver_override)" "(null)" "override after unset-override"

# --- dpdk-devbind.py ---
out=$(dpdk-devbind.py --status-dev net 2>&1) || fail "dpdk-devbind.py --status failed: $out"
grep -qF "0000:3b:00.0 'Ethernet Controller X710 for 10GbE SFP+ 1572' if=ens1f0 drv=i40e unused=vfio-pci" <<< "$out" ||
        fail "dpdk-devbind.py --status: $out"
grep -qF "0000:3b:02.1 'Ethernet Virtual Function 700 Series 154c' if=ens1f0v1 drv=iavf unused=vfio-pci" <<< "$out" ||
        fail "dpdk-devbind.py --status (VF): $out"
out=$(dpdk-devbind.py -b vfio-pci 0000:3b:02.1 2>&1) || fail "dpdk-devbind.py -b vfio-pci failed: $out"
expect_eq "$(driver_of 0000:3b:02.1)" vfio-pci "after dpdk-devbind.py -b vfio-pci"
expect_eq "$(rd /sys/bus/pci/devices/0000:3b:02.1/driver_override)" "(null)" "dpdk-devbind clears the override with \\0"
grep -q 'driver_override "\\x00" 0$' /sys/.sim/log || fail "the \\0 write is not in the log"
grep -qF "0000:3b:02.1 'Ethernet Virtual Function 700 Series 154c' drv=vfio-pci" <<<"$(dpdk-devbind.py --status-dev net 2>&1)" ||
        fail "dpdk-devbind.py --status after the bind: $(dpdk-devbind.py --status-dev net 2>&1)"
out=$(dpdk-devbind.py -b iavf 0000:3b:02.1 2>&1) || fail "dpdk-devbind.py -b iavf failed: $out"
expect_eq "$(driver_of 0000:3b:02.1)" iavf "after dpdk-devbind.py -b iavf"
sim_stop
exit 0
