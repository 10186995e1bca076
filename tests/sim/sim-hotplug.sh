#!/bin/bash
# Surprise removal (ctl remove, the device's "remove" attribute) takes the
# device, its VFs, net devices and IOMMU groups; ctl add and bus rescan
# bring topology devices back in their initial state, probed like the
# kernel probes a new device.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
sim_start "$TOPO/x710.json"
M=$SIM_ROOT
PF=$(dev 0000:3b:00.0)
initial=$(rd "$M/.sim/state")

expect_write "$PF/sriov_numvfs" 2 0
expect_write "$PF/driver_override" i40e 0
g=$(basename "$(link_target "$PF/iommu_group")")
gvf=$(basename "$(link_target "$(dev 0000:3b:02.0)/iommu_group")")
ctl remove 0000:3b:00.0
for p in bus/pci/devices/0000:3b:00.0 bus/pci/devices/0000:3b:02.0 devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0 \
         class/net/ens1f0 class/net/ens1f0v0 "kernel/iommu_groups/$g" "kernel/iommu_groups/$gvf" bus/pci/drivers/i40e/0000:3b:00.0; do
        [ -e "$M/$p" ] || [ -L "$M/$p" ] && fail "$p left after removal"
done
[ -e "$(dev 0000:3b:00.1)" ] || fail "the other function went too"
# VFs go first (the PF driver disables SR-IOV on remove), then the PF
expect_eq "$(grep -c ' remove pci ' "$M/.sim/uevents")" 3 "remove uevents"
expect_eq "$(tail -2 "$M/.sim/uevents" | awk '{ n = split($4, p, "/"); printf "%s:%s ", $2, p[n] }')" \
        "unbind:0000:3b:00.0 remove:0000:3b:00.0 " "last events of the removal"
expect_write "$M/.sim/ctl" "remove 0000:3b:00.0" ENODEV
expect_write "$M/.sim/ctl" "add 0000:3b:02.0" ENODEV   # VFs come from SR-IOV only
ctl add 0000:3b:00.0
expect_write "$M/.sim/ctl" "add 0000:3b:00.0" EEXIST
expect_eq "$(driver_of 0000:3b:00.0)" i40e "PF probed again after add"
expect_eq "$(rd "$PF/driver_override")" "(null)" "override is gone with the device"
expect_eq "$(rd "$PF/sriov_numvfs")" 0 "numvfs after add"
[ -e "$M/class/net/ens1f0" ] || fail "PF netdev after add"
expect_eq "$(basename "$(link_target "$PF/iommu_group")")" "$g" "the lowest free group id again"
grep -q ' bind pci .*0000:3b:00.0 DRIVER=i40e' <<<"$(tail -2 "$M/.sim/uevents")" || fail "no bind uevent after add"
expect_eq "$(rd "$M/.sim/state" | grep -v ifindex)" "$(echo "$initial" | grep -v ifindex)" "state after remove+add"

# the device's own "remove" attribute; a whole port; bus/pci/rescan
expect_write "$(dev 0000:3b:00.1)/remove" 0 0
[ -e "$(dev 0000:3b:00.1)" ] || fail "remove 0 removed"
expect_write "$(dev 0000:3b:00.1)/remove" x EINVAL
expect_write "$(dev 0000:3b:00.1)/remove" 1 0
[ -e "$(dev 0000:3b:00.1)" ] && fail "the remove attribute did not remove"
ctl remove 0000:3a:00.0
expect_eq "$(ls "$M/bus/pci/devices")" 0000:00:00.0 "devices after removing the root port"
[ -d "$M/bus/pci/slots/1" ] && fail "slot left with its port"
expect_write "$M/.sim/ctl" "add 0000:3b:00.0" ENODEV   # its parent is missing
expect_write "$M/bus/pci/rescan" x EINVAL
expect_write "$M/bus/pci/rescan" 1 0
expect_eq "$(ls "$M/bus/pci/devices" | wc -l)" 4 "devices after rescan"
expect_eq "$(rd "$M/.sim/state" | grep -v ifindex)" "$(echo "$initial" | grep -v ifindex)" "state after rescan"

# a held VFIO device blocks its own surprise removal until released
expect_write "$PF/sriov_numvfs" 1 0
expect_write "$(dev 0000:3b:02.0)/driver_override" vfio-pci 0
expect_write "$M/bus/pci/drivers/iavf/unbind" 0000:3b:02.0 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.0 0
ctl hold 0000:3b:02.0
sim-write "$M/.sim/ctl" "remove 0000:3b:00.0" > /dev/null &
w=$!
expect_blocked $w "removal of a PF whose VF is held"
ctl release 0000:3b:02.0
wait $w || fail "the removal ended with status $?"
[ -e "$PF" ] && fail "PF left after the removal completed"
sim_stop
exit 0
