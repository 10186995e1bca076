# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# hotplug: a PF removed through its "remove" attribute while its VFs are
# bound (the driver's remove() goes first, then the functions), brought back
# by a bus rescan in its initial state; and a VF driver's module unloaded
# and loaded again while it drives VFs (only where it is a module).
#
# diff-exclude: hotplug.igb.class_net_lo -- the loopback device: the simulator has only the net devices of PCI functions

need_igb || exit 0
PI=$PCI/devices/$IGB
G=$(grp "$IGB")

# ---- remove the igb PF with two VFs on igbvf
expect igb.autoprobe1 "$(sw "$PI/sriov_drivers_autoprobe" 1)" ok
expect igb.enable2 "$(sw "$PI/sriov_numvfs" 2)" ok
set -- $(vfs "$IGB")
VF0=$1 VF1=$2
expect igb.vf0_driver "$(drv "$VF0")" igbvf
sw "$PI/driver_override" igb >/dev/null
uev_op remove.pf ok "$PI/remove" 1
expect remove.pf_dir "$([ -e "$PI" ] && echo present || echo gone)" gone
expect remove.vf0_dir "$([ -e "$PCI/devices/$VF0" ] && echo present || echo gone)" gone
expect remove.group_dir "$([ -d "/sys/kernel/iommu_groups/$G" ] && echo present || echo gone)" gone
expect remove.driver_link "$([ -L "$PCI/drivers/igb/$IGB" ] && echo present || echo gone)" gone
obs remove.class_net "$(ls -d /sys/class/net/*/device 2>/dev/null | cut -d/ -f5 | tr '\n' ' ' | sed 's/ $//')"
obs hotplug.igb.class_net_lo "$([ -e /sys/class/net/lo ] && echo present || echo absent)"
expect remove.again "$(sw "$PCI/drivers_probe" "$IGB")" ENODEV

# ---- a rescan brings it back as it was at boot: no override, no VFs,
# autoprobe on, igb bound, the lowest free group id and net device name
uev_op rescan ok "$PCI/rescan" 1
wait_async 10 test -d "$PI/net"
expect rescan.driver "$(drv "$IGB")" igb
expect rescan.group "$(grp "$IGB")" "$G"
obs rescan.state "numvfs=$(rd "$PI/sriov_numvfs") totalvfs=$(rd "$PI/sriov_totalvfs") autoprobe=$(rd "$PI/sriov_drivers_autoprobe") driver_override=$(rd "$PI/driver_override") power_state=$(rd "$PI/power_state")"
obs rescan.netdev "$(ls "$PI/net" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect rescan.rescan_again "$(sw "$PCI/rescan" 1)" ok
uev_op rescan.nothing_new ok "$PCI/rescan" 1
expect rescan.bad "$(sw "$PCI/rescan" x)" EINVAL

# ---- the VF driver's module, unloaded and loaded while it drives two VFs
if [ -L "$PCI/drivers/igbvf/module" ]; then
        obs module.igbvf module
        expect module.enable2 "$(sw "$PI/sriov_numvfs" 2)" ok
        set -- $(vfs "$IGB")
        VF0=$1 VF1=$2
        uev_begin
        expect module.unload "$(mod_unload igbvf)" ok
        uev_record module.unload.uevent
        obs module.unloaded "driver_dir=$([ -d "$PCI/drivers/igbvf" ] && echo present || echo gone) module_dir=$([ -d /sys/module/igbvf ] && echo present || echo gone)"
        obs module.unloaded.vfs "$(drv "$VF0") $(drv "$VF1")"
        uev_begin
        expect module.load "$(mod_load igbvf)" ok
        uev_record module.load.uevent
        obs module.loaded.vfs "$(drv "$VF0") $(drv "$VF1")"
        obs module.loaded.netdevs "$(ls "$PCI/devices/$VF0/net" "$PCI/devices/$VF1/net" 2>/dev/null | grep -v : | grep . | tr '\n' ' ' | sed 's/ $//')"
        obs module.loaded.link "$(link_name "$PCI/drivers/igbvf/module")"
        expect module.disable "$(sw_t 30000 "$PI/sriov_numvfs" 0)" ok
else
        obs module.igbvf builtin
fi
