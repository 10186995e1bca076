#!/bin/bash
# IOMMU groups as pci_device_group() forms them: a port without ACS shares
# its group with everything below it (VFs included), ACS-isolated functions
# and VFs get their own, ids are the lowest free ones; group attributes;
# a host without an IOMMU has no groups.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root

group_of() {
        basename "$(link_target "$(dev "$1")/iommu_group")"
}

sim_start "$TOPO/shared-group.json"
M=$SIM_ROOT
g=$(group_of 0000:02:08.0)
expect_eq "$(group_of 0000:03:00.0)" "$g" "PF below the port without ACS"
expect_eq "$(group_of 0000:03:00.1)" "$g" "second function below the port without ACS"
for d in 0000:00:01.0 0000:01:00.0 0000:02:09.0 0000:04:00.0; do
        [ "$(group_of $d)" != "$g" ] || fail "$d is in the shared group"
done
[ "$(group_of 0000:02:09.0)" != "$(group_of 0000:04:00.0)" ] || fail "ACS port and its endpoint share a group"
expect_write "$(dev 0000:03:00.0)/sriov_numvfs" 3 0
expect_eq "$(link_target "$(dev 0000:03:00.0)/virtfn1")" "../0000:03:10.2" "VF1 (offset 128, stride 2)"
for vf in 0000:03:10.0 0000:03:10.2 0000:03:10.4; do
        expect_eq "$(group_of $vf)" "$g" "VF $vf"
done
expect_eq "$(ls "$M/kernel/iommu_groups/$g/devices" | tr '\n' ' ')" \
        "0000:02:08.0 0000:03:00.0 0000:03:00.1 0000:03:10.0 0000:03:10.2 0000:03:10.4 " "shared group members"
expect_eq "$(rd "$M/kernel/iommu_groups/$g/type")" DMA-FQ "group type"
expect_eq "$(rd "$M/kernel/iommu_groups/$g/reserved_regions")" "0x00000000fee00000 0x00000000feefffff msi" reserved_regions
expect_write "$(dev 0000:03:00.0)/sriov_numvfs" 0 0
[ -d "$M/kernel/iommu_groups/$g" ] || fail "the shared group went with the VFs"
expect_eq "$(ls "$M/kernel/iommu_groups/$g/devices" | wc -l)" 3 "shared group after disable"
# the group type, as 6.1 changes it: one device only (EINVAL), no driver
# bound (EBUSY); DMA to DMA-FQ (a flush queue) whatever is bound
G4=$M/kernel/iommu_groups/$(group_of 0000:04:00.0)
expect_write "$G4/type" bogus EINVAL
expect_write "$G4/type" identity EBUSY
expect_write "$M/kernel/iommu_groups/$g/type" identity EINVAL
expect_write "$M/bus/pci/drivers/nvme/unbind" 0000:04:00.0 0
expect_write "$G4/type" "identity\n" 0
expect_eq "$(rd "$G4/type")" identity "group type after the change"
expect_write "$G4/type" DMA 0
expect_write "$M/bus/pci/drivers/nvme/bind" 0000:04:00.0 0
expect_write "$G4/type" DMA-FQ 0
expect_write "$G4/type" DMA EBUSY
sim_stop

# as 6.12 does ("kernel": "6.12", a topology over this one): refused (EPERM)
# while the group has a DMA owner: a driver using the DMA API or a VFIO
# user, not vfio-pci itself; groups of several devices are fine
over=$(mktemp /tmp/sim-groups-612.XXXXXX.json)
printf '{ "base": "%s", "kernel": "6.12" }\n' "$TOPO/shared-group.json" >"$over"
sim_start "$over"
rm -f "$over"
M=$SIM_ROOT
G4=$M/kernel/iommu_groups/$(group_of 0000:04:00.0)
expect_write "$G4/type" identity EPERM
expect_write "$M/kernel/iommu_groups/$(group_of 0000:02:08.0)/type" identity EPERM
expect_write "$M/bus/pci/drivers/nvme/unbind" 0000:04:00.0 0
expect_write "$(dev 0000:04:00.0)/driver_override" vfio-pci 0
expect_write "$M/bus/pci/drivers_probe" 0000:04:00.0 0
expect_write "$G4/type" identity 0
ctl hold 0000:04:00.0
expect_write "$G4/type" DMA EPERM
ctl release 0000:04:00.0
expect_write "$G4/type" DMA 0
expect_eq "$(rd "$G4/type")" DMA "group type on 6.12 with vfio-pci bound"
sim_stop

sim_start "$TOPO/x710.json"
expect_write "$(dev 0000:3b:00.0)/sriov_numvfs" 2 0
gs=$(for d in 0000:00:00.0 0000:3a:00.0 0000:3b:00.0 0000:3b:00.1 0000:3b:02.0 0000:3b:02.1; do group_of $d; done | sort -n | tr '\n' ' ')
expect_eq "$gs" "0 1 2 3 4 5 " "one group each, numbered in probe order"
sim_stop

sim_start "$TOPO/nvme.json"
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 4 0
expect_eq "$(link_target "$(dev 0000:01:00.0)/virtfn3")" "../0000:01:00.4" "NVMe VF3"
expect_eq "$(rd "$(dev 0000:01:00.4)/device")" 0x0010 "NVMe VF device id"
expect_eq "$(driver_of 0000:01:00.4)" nvme "NVMe VF driver"
[ "$(group_of 0000:01:00.1)" != "$(group_of 0000:01:00.2)" ] || fail "NVMe VFs share a group"
ctl assign 0000:01:00.2
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 0 EPERM    # pci_sriov_configure_simple()
sim_stop

sim_start "$TOPO/no-iommu.json"
M=$SIM_ROOT
expect_eq "$(ls "$M/kernel/iommu_groups" | wc -l)" 0 "groups without an IOMMU"
[ -e "$(dev 0000:01:00.0)/iommu_group" ] && fail "iommu_group link without an IOMMU"
expect_write "$(dev 0000:01:00.1)/sriov_numvfs" 2 0
expect_eq "$(link_target "$(dev 0000:01:00.1)/virtfn1")" "../0000:01:10.3" "82599 VF1 of PF1"
[ -e "$(dev 0000:01:10.3)/iommu_group" ] && fail "VF iommu_group link without an IOMMU"
expect_eq "$(state "d['iommu_groups']")" "[]" "groups in the state"
sim_stop
exit 0
