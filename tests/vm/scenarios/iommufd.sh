# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# iommufd: on a kernel with CONFIG_IOMMUFD and the VFIO cdev, a VF bound to
# vfio-pci gets /dev/vfio/devices/vfioN beside its group node; opening it and
# binding it to /dev/iommu excludes the legacy group path and, like the
# group's device fd, makes the VF's removal wait.
#
# diff-skip: iommufd and the VFIO cdev are character devices and ioctls; what this shows of sysfs, vfio-hold shows too

[ -c /dev/iommu ] || skip "kernel $(uname -r) has no iommufd (/dev/iommu missing: CONFIG_IOMMUFD unset)"

NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME
expect dev_iommu "$(stat -c '%F' /dev/iommu)" "character special file"

sw "$P/sriov_drivers_autoprobe" 0 >/dev/null
expect enable2 "$(sw "$P/sriov_numvfs" 2)" ok
set -- $(vfs "$NVME")
VF0=$1
V=$PCI/devices/$VF0
sw "$V/driver_override" vfio-pci >/dev/null
uev_op probe ok "$PCI/drivers_probe" "$VF0"
G=$(grp "$VF0")
expect group_node "$([ -c "/dev/vfio/$G" ] && echo present || echo missing)" present
cdev=$(ls "$V/vfio-dev" 2>/dev/null | head -n 1)
expect_glob vfio_dev "$cdev" 'vfio[0-9]*'
expect cdev_node "$([ -c "/dev/vfio/devices/$cdev" ] && echo present || echo missing)" present
obs cdev_dev "$(rd "$V/vfio-dev/$cdev/dev" | cut -d: -f2)"
obs cdev_list "$(ls /dev/vfio/devices | tr '\n' ' ' | sed 's/ $//')"

# The cdev opened but not bound: the group can still be opened.
if hold cdev "$VF0" "$STATE/c.out"; then
        CHOLD=$HOLD_PID
        # Opening the cdev claims nothing yet: the group still opens.
        expect cdev_open.group_open "$(try_open group "$VF0")" held
        release "$CHOLD" || fail "cdev holder did not exit"
else
        fail "vfio-hold cdev: $(cat "$STATE/c.out")"
fi

# Bound to iommufd and attached to an IOAS: the legacy group is refused, the
# disable waits for the holder.
if hold iommufd "$VF0" "$STATE/i.out"; then
        IHOLD=$HOLD_PID
        expect bound.devid "$(sed -n 's/^devid=//p' "$STATE/i.out")" 1
        expect_glob bound.ioas "$(sed -n 's/^ioas=//p' "$STATE/i.out")" '[0-9]*'
        expect bound.group_open "$(try_open group "$VF0")" open_group:EBUSY
        # The cdev path allows one open device at a time: a second bind is EINVAL.
        expect bound.second_cdev_bind "$(try_open iommufd "$VF0")" bind_iommufd:EINVAL
        bg_write "$P/sriov_numvfs" 0 "$STATE/disable.result"
        expect bound.disable "$BG_RESULT" pending
        wpid=$WPID
        # As with the group's device fd: VF0 half removed, VF1 untouched; the
        # cdev node is already gone while the group node stays.
        expect bound.pending.virtfn_links "$(virtfn_links "$NVME")" virtfn1
        expect bound.pending.vf0_driver "$(drv "$VF0")" none
        expect bound.pending.cdev_node "$([ -c "/dev/vfio/devices/$cdev" ] && echo present || echo gone)" gone
        expect bound.pending.group_node "$([ -c "/dev/vfio/$G" ] && echo present || echo gone)" present
        release "$IHOLD" || fail "iommufd holder did not exit"
        wait_until 10 eval "! alive $wpid"
        expect bound.released.result "$(cat "$STATE/disable.result")" ok
        expect bound.released.numvfs "$(rd "$P/sriov_numvfs")" 0
        expect bound.released.cdev_node "$([ -e "/dev/vfio/devices/$cdev" ] && echo present || echo gone)" gone
else
        fail "vfio-hold iommufd: $(cat "$STATE/i.out")"
fi
