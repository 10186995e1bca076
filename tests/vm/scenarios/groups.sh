# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# groups: IOMMU groups under emulated VT-d: membership of every function,
# the group's type and reserved_regions files, the groups of VFs as they come
# and go, and the IOVA space the VFIO type1 IOMMU reports for a VF.
#
# diff-exclude: vfio.api_version vfio.type1v2 vfio.viable vfio.pgsizes vfio.iova_ranges vfio.iova_msi_hole vfio.dma_avail vfio.num_regions vfio.num_irqs vfio.device_flags -- VFIO ioctls (container, type1 IOMMU, device info): the simulator has no /dev/vfio

# group_files KEY GROUP: type, reserved_regions (lines joined with ';'), members.
group_files() {
        _g=/sys/kernel/iommu_groups/$2
        obs "$1.type" "$(rd "$_g/type")"
        obs "$1.reserved_regions" "$(tr '\n' ';' <"$_g/reserved_regions" | sed 's/;$//')"
        obs "$1.devices" "$(ls "$_g/devices" | tr '\n' ' ' | sed 's/ $//')"
}

# Every group at boot.
ngroups=0
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
        group_files "boot.group$g" "$g"
        ngroups=$((ngroups + 1))
done
obs boot.ngroups "$ngroups"

# Every function is in a group; a function behind a PCIe root port is alone
# in it (ACS-less root ports still isolate under VT-d: one device per port).
for d in "$PCI"/devices/*; do
        b=$(basename "$d")
        g=$(grp "$b")
        expect_ne "boot.$b.group" "$g" none
done

NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
G=$(grp "$NVME")
expect nvme_pf.group_size "$(ls "/sys/kernel/iommu_groups/$G/devices" | wc -l)" 1
expect nvme_pf.type "$(rd "/sys/kernel/iommu_groups/$G/type")" identity
# The interrupt (MSI) window is always reserved on VT-d.
expect_glob nvme_pf.reserved_msi "$(cat "/sys/kernel/iommu_groups/$G/reserved_regions")" '*0x00000000fee00000 0x00000000feefffff msi*'
if need_igb; then
        GI=$(grp "$IGB")
        expect igb_pf.group_size "$(ls "/sys/kernel/iommu_groups/$GI/devices" | wc -l)" 1
        expect igb_pf.type "$(rd "/sys/kernel/iommu_groups/$GI/type")" identity
        expect_ne igb_pf.group_differs "$GI" "$G"
fi

# VFs get new groups as they are created; numbers freed by a disable are reused.
P=$PCI/devices/$NVME
sw "$P/sriov_drivers_autoprobe" 0 >/dev/null
before=$(ls /sys/kernel/iommu_groups | wc -l)
expect vf.enable2 "$(sw "$P/sriov_numvfs" 2)" ok
set -- $(vfs "$NVME")
VF0=$1 VF1=$2
expect vf.ngroups_after_enable "$(ls /sys/kernel/iommu_groups | wc -l)" $((before + 2))
for v in $VF0 $VF1; do
        g=$(grp "$v")
        obs "vf.$v.group" "$g"
        group_files "vf.$v.group_files" "$g"
        expect "vf.$v.group_size" "$(ls "/sys/kernel/iommu_groups/$g/devices" | wc -l)" 1
        expect "vf.$v.type" "$(rd "/sys/kernel/iommu_groups/$g/type")" identity
        expect_glob "vf.$v.reserved_msi" "$(cat "/sys/kernel/iommu_groups/$g/reserved_regions")" '*0x00000000fee00000 0x00000000feefffff msi*'
done
g0=$(grp "$VF0") g1=$(grp "$VF1")
expect vf.disable "$(sw "$P/sriov_numvfs" 0)" ok
expect vf.ngroups_after_disable "$(ls /sys/kernel/iommu_groups | wc -l)" "$before"
expect vf.group_dir_gone "$([ -d "/sys/kernel/iommu_groups/$g0" ] && echo present || echo gone)" gone
expect vf.reenable2 "$(sw "$P/sriov_numvfs" 2)" ok
set -- $(vfs "$NVME")
expect vf.reenable.vf0_group_reused "$(grp "$1")" "$g0"
expect vf.reenable.vf1_group_reused "$(grp "$2")" "$g1"

# A VF on vfio-pci, opened the legacy way: what the type1 IOMMU offers.
VF0=$1
sw "$PCI/devices/$VF0/driver_override" vfio-pci >/dev/null
expect vfio.probe "$(sw "$PCI/drivers_probe" "$VF0")" ok
g=$(grp "$VF0")
obs vfio.bound.type "$(rd "/sys/kernel/iommu_groups/$g/type")"
if hold device "$VF0" "$STATE/hold.out"; then
        expect vfio.api_version "$(sed -n 's/^api_version=//p' "$STATE/hold.out")" 0
        expect vfio.type1v2 "$(sed -n 's/^type1v2=//p' "$STATE/hold.out")" 1
        expect vfio.viable "$(sed -n 's/^viable=//p' "$STATE/hold.out")" 1
        obs vfio.pgsizes "$(sed -n 's/^iommu_pgsizes=//p' "$STATE/hold.out")"
        ranges=$(sed -n 's/^iommu_iova_range[0-9]*=//p' "$STATE/hold.out" | tr '\n' ' ' | sed 's/ $//')
        obs vfio.iova_ranges "$ranges"
        # The MSI window is carved out of the usable IOVA space.
        expect_glob vfio.iova_msi_hole "$ranges" '0x0-0xfedfffff 0xfef00000-0x*'
        obs vfio.dma_avail "$(sed -n 's/^iommu_dma_avail=//p' "$STATE/hold.out")"
        obs vfio.num_regions "$(sed -n 's/^num_regions=//p' "$STATE/hold.out")"
        obs vfio.num_irqs "$(sed -n 's/^num_irqs=//p' "$STATE/hold.out")"
        obs vfio.device_flags "$(sed -n 's/^device_flags=//p' "$STATE/hold.out")"
        obs vfio.held.type "$(rd "/sys/kernel/iommu_groups/$g/type")"
        release "$HOLD_PID" || fail "vfio-hold did not exit"
else
        fail "vfio-hold device $VF0: $(cat "$STATE/hold.out")"
fi
sw "$PCI/drivers/vfio-pci/unbind" "$VF0" >/dev/null
sw "$PCI/devices/$VF0/driver_override" '\n' >/dev/null
expect vf.final_disable "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
