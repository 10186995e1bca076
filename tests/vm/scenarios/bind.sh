# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# bind: moving VFs between drivers through sysfs: driver_override +
# drivers_probe to vfio-pci, the errors of bind/unbind/drivers_probe, how
# driver_override is cleared, new_id/remove_id, and giving a VF back to the
# driver it had.
#
# diff-exclude: probe.vfio.dev_vfio_group probe.vfio.dev_vfio_list unbind.vfio.dev_vfio_group -- /dev/vfio nodes: character devices, which the simulator cannot create
# diff-exclude: restore.nvme.ctrl_state *.nvme_state -- NVMe controller state (firmware, the nvme driver's nvme/nvmeN class devices): not modelled

NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME
expect setup.autoprobe0 "$(sw "$P/sriov_drivers_autoprobe" 0)" ok
expect setup.enable2 "$(sw "$P/sriov_numvfs" 2)" ok
set -- $(vfs "$NVME")
VF0=$1 VF1=$2
V0=$PCI/devices/$VF0 V1=$PCI/devices/$VF1
obs setup.vfs "$VF0 $VF1"
VFID=$(pci_id "$VF0" | tr ':' ' ')
obs setup.vf_id "$VFID"

# -- to vfio-pci: driver_override, then drivers_probe.
expect override.initial "$(rd "$V0/driver_override")" "(null)"
expect override.set "$(sw "$V0/driver_override" vfio-pci)" ok
expect override.read "$(rd "$V0/driver_override")" vfio-pci
uev_op probe.vfio ok "$PCI/drivers_probe" "$VF0"
expect probe.vfio.driver "$(drv "$VF0")" vfio-pci
G0=$(grp "$VF0")
expect probe.vfio.dev_vfio_group "$([ -c "/dev/vfio/$G0" ] && echo chardev || echo missing)" chardev
expect probe.vfio.dev_vfio_list "$(ls /dev/vfio | grep -v '^vfio$' | grep -v '^devices$' | tr '\n' ' ' | sed 's/ $//')" "$G0"
# vfio-pci leaves the function in D3hot while no user has it open.
obs probe.vfio.power_state "$(rd "$V0/power_state")"

# -- errors of bind/unbind/drivers_probe.
expect bind.already_bound_same "$(sw "$PCI/drivers/vfio-pci/bind" "$VF0")" EBUSY
expect bind.override_mismatch "$(sw "$PCI/drivers/nvme/bind" "$VF0")" ENODEV
expect unbind.wrong_driver "$(sw "$PCI/drivers/nvme/unbind" "$VF0")" ENODEV
expect bind.unknown_bdf "$(sw "$PCI/drivers/vfio-pci/bind" 0000:ff:1f.7)" ENODEV
expect bind.garbage "$(sw "$PCI/drivers/vfio-pci/bind" garbage)" ENODEV
expect bind.trailing_newline "$(sw "$PCI/drivers/vfio-pci/bind" "$VF0\n")" EBUSY
expect unbind.unknown_bdf "$(sw "$PCI/drivers/vfio-pci/unbind" 0000:ff:1f.7)" ENODEV
expect probe.unknown_bdf "$(sw "$PCI/drivers_probe" 0000:ff:1f.7)" ENODEV
expect probe.already_bound "$(sw "$PCI/drivers_probe" "$VF0")" ok
expect probe.already_bound.driver "$(drv "$VF0")" vfio-pci

# -- drivers_probe with no matching driver: succeeds, binds nothing.
expect override.nosuch "$(sw "$V1/driver_override" no-such-driver)" ok
uev_op probe.nomatch ok "$PCI/drivers_probe" "$VF1"
expect probe.nomatch.driver "$(drv "$VF1")" none
expect bind.nomatch_override "$(sw "$PCI/drivers/nvme/bind" "$VF1")" ENODEV

# -- clearing driver_override: a zero-length write, "\n", "\0" (what
# Python's dpdk-devbind writes), and the newline a shell echo adds.
expect override.clear_empty "$(sw "$V1/driver_override" '')" ok
obs override.after_empty "$(rd "$V1/driver_override")"
expect override.clear_nl "$(sw "$V1/driver_override" '\n')" ok
expect override.after_nl "$(rd "$V1/driver_override")" "(null)"
sw "$V1/driver_override" x >/dev/null
expect override.clear_nul "$(sw "$V1/driver_override" '\0')" ok
expect override.after_nul "$(rd "$V1/driver_override")" "(null)"
expect override.set_nl "$(sw "$V1/driver_override" 'vfio-pci\n')" ok
expect override.after_set_nl "$(rd "$V1/driver_override")" vfio-pci
expect override.set_two_lines "$(sw "$V1/driver_override" 'a\nb')" ok
expect override.after_two_lines "$(rd "$V1/driver_override")" a
expect override.long "$(sw "$V1/driver_override" "$(printf '%04096d' 0)")" EINVAL
obs override.after_long "$(rd "$V1/driver_override")"
sw "$V1/driver_override" '\n' >/dev/null

# -- unbind from vfio-pci: the group's /dev/vfio node goes with the last device.
uev_op unbind.vfio ok "$PCI/drivers/vfio-pci/unbind" "$VF0"
expect unbind.vfio.driver "$(drv "$VF0")" none
expect unbind.vfio.dev_vfio_group "$([ -e "/dev/vfio/$G0" ] && echo present || echo gone)" gone
expect unbind.vfio.override_kept "$(rd "$V0/driver_override")" vfio-pci
# With the override still set, a plain probe goes back to vfio-pci.
expect reprobe.vfio "$(sw "$PCI/drivers_probe" "$VF0")" ok
expect reprobe.vfio.driver "$(drv "$VF0")" vfio-pci
expect reprobe.unbind "$(sw "$PCI/drivers/vfio-pci/unbind" "$VF0")" ok
# vfio-pci's bind file honours the override too; nvme's refuses.
expect bind.vfio_direct "$(sw "$PCI/drivers/vfio-pci/bind" "$VF0")" ok
expect bind.vfio_direct.driver "$(drv "$VF0")" vfio-pci
sw "$PCI/drivers/vfio-pci/unbind" "$VF0" >/dev/null
sw "$V0/driver_override" '\n' >/dev/null
# Without an override, vfio-pci's bind file refuses a device it has no id for.
expect bind.vfio_no_override "$(sw "$PCI/drivers/vfio-pci/bind" "$VF0")" ENODEV

# -- new_id / remove_id on vfio-pci. A dynamic id binds every unbound
# matching device that may be probed at once; a VF may be probed only with
# an override or when its PF's sriov_drivers_autoprobe is 1 (here it is 0).
expect newid.vf0_driver_before "$(drv "$VF0")" none
expect newid.vf1_driver_before "$(drv "$VF1")" none
uev_op newid.add ok "$PCI/drivers/vfio-pci/new_id" "$VFID"
expect newid.vf0_driver "$(drv "$VF0")" none
expect newid.vf1_driver "$(drv "$VF1")" none
expect newid.pf_driver "$(drv "$NVME")" nvme
expect newid.again "$(sw "$PCI/drivers/vfio-pci/new_id" "$VFID")" EEXIST
expect newid.one_field "$(sw "$PCI/drivers/vfio-pci/new_id" 1b36)" EINVAL
expect newid.garbage "$(sw "$PCI/drivers/vfio-pci/new_id" zzzz)" EINVAL
expect newid.bad_driver_data "$(sw "$PCI/drivers/vfio-pci/new_id" '1b36 1234 ffffffff ffffffff 0 0 5')" EINVAL
# nvme's static table already has QEMU's NVMe id.
expect newid.nvme_static "$(sw "$PCI/drivers/nvme/new_id" "$VFID")" EEXIST
# Even with the id, a VF whose PF has autoprobe off cannot be probed: not by
# drivers_probe, not through the driver's bind file (pci_device_probe says
# ENODEV). Only driver_override gets past that.
expect newid.probe_autoprobe0 "$(sw "$PCI/drivers_probe" "$VF0")" ok
expect newid.probe_autoprobe0.driver "$(drv "$VF0")" none
expect newid.bind_autoprobe0 "$(sw "$PCI/drivers/vfio-pci/bind" "$VF0")" ENODEV
expect newid.bind_autoprobe0.driver "$(drv "$VF0")" none
expect removeid.ok "$(sw "$PCI/drivers/vfio-pci/remove_id" "$VFID")" ok
expect removeid.again "$(sw "$PCI/drivers/vfio-pci/remove_id" "$VFID")" ENODEV
expect removeid.garbage "$(sw "$PCI/drivers/vfio-pci/remove_id" zz)" EINVAL
# With autoprobe on, new_id binds both unbound VFs at once.
expect newid.autoprobe1 "$(sw "$P/sriov_drivers_autoprobe" 1)" ok
uev_op newid.add_autoprobe1 ok "$PCI/drivers/vfio-pci/new_id" "$VFID"
expect newid.autoprobe1.vf0_driver "$(drv "$VF0")" vfio-pci
expect newid.autoprobe1.vf1_driver "$(drv "$VF1")" vfio-pci
expect newid.autoprobe1.pf_driver "$(drv "$NVME")" nvme
expect removeid.autoprobe1 "$(sw "$PCI/drivers/vfio-pci/remove_id" "$VFID")" ok
# Removing the id does not unbind what it bound.
expect removeid.vf0_driver "$(drv "$VF0")" vfio-pci
expect removeid.vf1_driver "$(drv "$VF1")" vfio-pci
sw "$PCI/drivers/vfio-pci/unbind" "$VF0" >/dev/null
sw "$PCI/drivers/vfio-pci/unbind" "$VF1" >/dev/null
expect teardown.disable "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
expect teardown.autoprobe0 "$(sw "$P/sriov_drivers_autoprobe" 0)" ok

# -- giving a VF back to the driver it had: driver_override -> unbind ->
# drivers_probe; then clear the override -> unbind -> drivers_probe.
# restore_on KEY PF HOSTDRV: the PF's first VF, bound to HOSTDRV by autoprobe.
restore_on() {
        R=$1 PF=$2 HOSTDRV=$3
        PP=$PCI/devices/$PF
        V=$(vfs "$PF")
        VP=$PCI/devices/$V
        wait_until 30 sh -c "[ -L $VP/driver ]"
        expect "$R.prior_driver" "$(drv "$V")" "$HOSTDRV"
        uev_begin
        expect "$R.to_vfio.override" "$(sw "$VP/driver_override" vfio-pci)" ok
        expect "$R.to_vfio.unbind" "$(sw "$VP/driver/unbind" "$V")" ok
        expect "$R.to_vfio.probe" "$(sw "$PCI/drivers_probe" "$V")" ok
        uev_record "$R.to_vfio.uevent" "$([ "$HOSTDRV" = nvme ] && echo bydev)"
        expect "$R.to_vfio.driver" "$(drv "$V")" vfio-pci
        expect "$R.to_vfio.net" "$(ls "$VP/net" 2>/dev/null | wc -l)" 0
        expect "$R.to_vfio.nvme_state" "$(nvme_state "$V")" none
        uev_begin
        expect "$R.back.clear" "$(sw "$VP/driver_override" '\n')" ok
        expect "$R.back.still_vfio" "$(drv "$V")" vfio-pci
        expect "$R.back.unbind" "$(sw "$VP/driver/unbind" "$V")" ok
        expect "$R.back.probe" "$(sw "$PCI/drivers_probe" "$V")" ok
        wait_until 30 sh -c "[ -L $VP/driver ]"
        restored "$V"
        uev_record "$R.back.uevent" "$([ "$HOSTDRV" = nvme ] && echo bydev)"
        expect "$R.back.driver" "$(drv "$V")" "$HOSTDRV"
        expect "$R.back.nvme_state" "$(nvme_state "$V")" "$([ "$HOSTDRV" = nvme ] && echo live || echo none)"
        expect "$R.disable" "$(sw_t 30000 "$PP/sriov_numvfs" 0)" ok
}

# NVMe: the VF must be online before nvme can drive it (nvme virt-mgmt on the
# PF); autoprobe off while doing that, so nothing probes the offline VF.
PCTRL=$(nvme_ctrl "$NVME")
expect restore.nvme.enable1 "$(sw "$P/sriov_numvfs" 1)" ok
why=$(nvme_online_vfs "$PCTRL" 1) || fail "nvme virt-mgmt: $why"
V=$(vfs "$NVME")
# With autoprobe off and no override, drivers_probe leaves the VF alone.
expect restore.nvme.probe_autoprobe0 "$(sw "$PCI/drivers_probe" "$V")" ok
expect restore.nvme.probe_autoprobe0.driver "$(drv "$V")" none
expect restore.nvme.autoprobe1 "$(sw "$P/sriov_drivers_autoprobe" 1)" ok
expect restore.nvme.probe "$(sw "$PCI/drivers_probe" "$V")" ok
# restored VF: waits until HOSTDRV has finished with it.
restored() { [ "$HOSTDRV" != nvme ] || wait_async 30 eval "nvme_live $1"; }
HOSTDRV=nvme
restored "$V"
expect restore.nvme.ctrl_state "$(nvme_state "$V")" live
restore_on restore.nvme "$NVME" nvme

# igb: igbvf drives the VF as soon as it exists.
if need_igb; then
        PI=$PCI/devices/$IGB
        expect restore.igb.autoprobe1 "$(sw "$PI/sriov_drivers_autoprobe" 1)" ok
        expect restore.igb.enable1 "$(sw "$PI/sriov_numvfs" 1)" ok
        restore_on restore.igb "$IGB" igbvf
fi
