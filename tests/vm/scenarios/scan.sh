# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# scan: what an lspci-like enumeration from sysfs sees: every PCI function
# with its ids, class, driver, IOMMU group and NUMA node; for SR-IOV PFs the
# SR-IOV capability as sysfs shows it.
#
# diff-exclude: igb.netdev.num_vf -- rtnetlink (ip link): the simulator serves sysfs only
# diff-exclude: vfio.container iommufd -- /dev/vfio/vfio and /dev/iommu: character devices, which the simulator cannot create
# diff-exclude: nvme.ctrl -- the NVMe controller's class device (nvme/nvme0) is the nvme driver's, not modelled

for d in "$PCI"/devices/*; do
        b=$(basename "$d")
        obs "dev.$b" "id=$(pci_id "$b") class=$(rd "$d/class") driver=$(drv "$b") group=$(grp "$b") numa_node=$(rd "$d/numa_node") subsys=$(rd "$d/subsystem_vendor" | sed 's/^0x//'):$(rd "$d/subsystem_device" | sed 's/^0x//')"
done

# scan_pf ROLE BDF TOTAL OFFSET STRIDE VF_DEVICE DRIVER
scan_pf() {
        p=$PCI/devices/$2
        expect "$1.totalvfs" "$(rd "$p/sriov_totalvfs")" "$3"
        expect "$1.numvfs" "$(rd "$p/sriov_numvfs")" 0
        expect "$1.offset" "$(rd "$p/sriov_offset")" "$4"
        expect "$1.stride" "$(rd "$p/sriov_stride")" "$5"
        expect "$1.vf_device" "$(rd "$p/sriov_vf_device")" "$6"
        expect "$1.autoprobe" "$(rd "$p/sriov_drivers_autoprobe")" 1
        expect "$1.driver" "$(drv "$2")" "$7"
        expect "$1.driver_override" "$(rd "$p/driver_override")" "(null)"
        expect_glob "$1.group" "$(grp "$2")" '[0-9]*'
        expect "$1.numa_node" "$(rd "$p/numa_node")" -1
        expect "$1.physfn" "$(link_name "$p/physfn")" none
        expect "$1.virtfn_links" "$(virtfn_links "$2")" ""
        expect "$1.config_vendor" "$(cfg_word "$2" 0)" "$(rd "$p/vendor")"
        # A PF's config file is as long as its config space (PCIe: 4 KiB).
        expect "$1.config_size" "$(stat -c %s "$p/config")" 4096
        obs "$1.sriov_files" "$(cd "$p" && ls -d sriov_* | tr '\n' ' ' | sed 's/ $//')"
}

NVME=$(nvme_pf) || fail "no NVMe SR-IOV PF (1b36:0010) found"
if [ -n "$NVME" ]; then
        expect nvme.bdf "$NVME" 0000:01:00.0
        expect nvme.class "$(rd "$PCI/devices/$NVME/class")" 0x010802
        # QEMU: sriov_max_vfs=4, VFs right after the PF, same device id
        # (sriov_vf_device is printed with %x, no padding).
        scan_pf nvme "$NVME" 4 1 1 10 nvme
        expect nvme.ctrl "$(ls "$PCI/devices/$NVME/nvme" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" nvme0
fi

if need_igb; then
        expect igb.bdf "$IGB" 0000:02:00.0
        expect igb.class "$(rd "$PCI/devices/$IGB/class")" 0x020000
        # The igb driver caps the 82576's 8 VFs at 7; VFs start at +0x80, stride 2.
        scan_pf igb "$IGB" 7 128 2 10ca igb
        nd=$(ls "$PCI/devices/$IGB/net" 2>/dev/null | head -n 1)
        expect_ne igb.netdev "${nd:-none}" none
        [ -n "$nd" ] && obs igb.netdev.carrier "$(rd "/sys/class/net/$nd/carrier")"
        # The netlink view of the PF: no VFs yet.
        [ -n "$nd" ] && expect igb.netdev.num_vf "$($IP -d link show "$nd" | grep -c ' vf ')" 0
else
        obs igb absent
fi

# IOMMU: VT-d is on, so every function has a group.
expect iommu.groups_present "$([ -d /sys/kernel/iommu_groups/0 ] && echo yes || echo no)" yes
expect vfio.container "$([ -c /dev/vfio/vfio ] && echo yes || echo no)" yes
obs iommufd "$([ -c /dev/iommu ] && echo yes || echo no)"
