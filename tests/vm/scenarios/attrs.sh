# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# attrs: what sysfs shows of every function, PF, VF and net device (ids,
# modalias, uevent, power state, links, the configuration space header and
# SR-IOV capability), and the stores besides SR-IOV and binding: enable,
# numa_node, uevent, reset, sriov_vf_msix_count, an IOMMU group's type, the
# bus's drivers_autoprobe, a net device's mtu, tx_queue_len and flags.
#
# diff-exclude: boot.0000:00:1f.2.irq -- the AHCI function's MSI vector (6.12): its number is allocated when ahci probes and depends on the order of the boot's asynchronous probes (27 or 28 under load)

# cfg_dword BDF OFFSET: 32 bits of config space, as 0xNNNNNNNN.
cfg_dword() { printf '0x%s\n' "$(od -An -tx4 -j "$2" -N4 "$PCI/devices/$1/config" | tr -d ' ')"; }

# ext_cap BDF ID: the offset of PCIe extended capability ID (0x10: SR-IOV).
ext_cap() {
        _off=256
        while [ "$_off" -ge 256 ]; do
                _h=$(cfg_dword "$1" "$_off")
                [ $((_h & 0xffff)) = $(($2)) ] && { echo "$_off"; return 0; }
                _off=$(((_h >> 20) & 0xffc))
        done
        return 1
}

# sriov_cap KEY PF: the SR-IOV capability's registers: control (VF Enable,
# VF MSE), InitialVFs, TotalVFs, NumVFs, offset, stride, VF device id.
sriov_cap() {
        _c=$(ext_cap "$2" 0x10) || { obs "$1" none; return; }
        _ctl=$(cfg_word "$2" $((_c + 8)))
        obs "$1" "vfe=$((_ctl & 1)) mse=$(((_ctl >> 3) & 1)) initial=$(($(cfg_word "$2" $((_c + 12)))))" \
                "total=$(($(cfg_word "$2" $((_c + 14))))) numvfs=$(($(cfg_word "$2" $((_c + 16)))))" \
                "offset=$(($(cfg_word "$2" $((_c + 20))))) stride=$(($(cfg_word "$2" $((_c + 22)))))" \
                "vf_device=$(cfg_word "$2" $((_c + 26)))"
}

# fn_attrs KEY BDF: one function's attributes.
fn_attrs() {
        _p=$PCI/devices/$2
        obs "$1.ids" "$(rd "$_p/vendor") $(rd "$_p/device") $(rd "$_p/subsystem_vendor") $(rd "$_p/subsystem_device") $(rd "$_p/class") $(rd "$_p/revision")"
        obs "$1.modalias" "$(rd "$_p/modalias")"
        obs "$1.uevent" "$(tr '\n' ';' <"$_p/uevent" | sed 's/;$//')"
        obs "$1.state" "driver=$(drv "$2") enable=$(rd "$_p/enable") power_state=$(rd "$_p/power_state") driver_override=$(rd "$_p/driver_override")"
        obs "$1.numa" "numa_node=$(rd "$_p/numa_node") local_cpulist=$(rd "$_p/local_cpulist")"
        obs "$1.irq" "$(rd "$_p/irq")"
        obs "$1.link" "$(rd "$_p/current_link_speed") x$(rd "$_p/current_link_width")"
        [ -e "$_p/secondary_bus_number" ] && obs "$1.buses" "$(rd "$_p/secondary_bus_number")-$(rd "$_p/subordinate_bus_number")"
        obs "$1.links" "subsystem=$(link_name "$_p/subsystem") physfn=$(link_name "$_p/physfn") iommu_group=$([ -L "$_p/iommu_group" ] && echo yes || echo no)"
        # The header as the function's config file shows it: ids (0xffff
        # for a VF), class and revision, header type (multi-function bit),
        # subsystem ids, and whether Memory Space and Bus Master are on.
        _cmd=$(cfg_word "$2" 4)
        obs "$1.config" "id=$(cfg_dword "$2" 0) class_rev=$(cfg_dword "$2" 8) header=$(od -An -tx1 -j 14 -N1 "$_p/config" | tr -d ' ')" \
                "subsys=$(cfg_dword "$2" 44) mem_bm=$((_cmd & 6)) size=$(stat -c %s "$_p/config")"
}

# net_attrs KEY IFNAME: a net device's attributes (the address only as
# its kind: a PF's is the NIC's, a VF driver's random).
net_attrs() {
        _n=/sys/class/net/$2
        obs "$1.attrs" "addr_assign_type=$(rd "$_n/addr_assign_type") addr_len=$(rd "$_n/addr_len") broadcast=$(rd "$_n/broadcast") type=$(rd "$_n/type") dev_id=$(rd "$_n/dev_id") dev_port=$(rd "$_n/dev_port")"
        obs "$1.address_format" "$(rd "$_n/address" | sed 's/^[0-9a-f][0-9a-f]\(:[0-9a-f][0-9a-f]\)\{5\}$/xx:xx:xx:xx:xx:xx/')"
        obs "$1.state" "flags=$(rd "$_n/flags") operstate=$(rd "$_n/operstate") carrier=$(rd "$_n/carrier") mtu=$(rd "$_n/mtu") tx_queue_len=$(rd "$_n/tx_queue_len")"
        obs "$1.ifindex_is_iflink" "$([ "$(rd "$_n/ifindex")" = "$(rd "$_n/iflink")" ] && echo yes || echo no)"
        obs "$1.uevent" "$(sed -n 1p "$_n/uevent")"
        obs "$1.device" "$(link_name "$_n/device")"
}

NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME

# ---- every function at boot
for d in "$PCI"/devices/*; do
        fn_attrs "boot.$(basename "$d")" "$(basename "$d")"
done
sriov_cap boot.nvme.sriov_cap "$NVME"
obs bus.drivers_autoprobe "$(rd "$PCI/drivers_autoprobe")"
for dr in pcieport nvme vfio-pci virtio-pci igb igbvf; do
        [ -d "$PCI/drivers/$dr" ] || { obs "driver.$dr" absent; continue; }
        obs "driver.$dr" "$(ls "$PCI/drivers/$dr" | grep -v ':' | tr '\n' ' ' | sed 's/ $//')"
done

# ---- NVMe VFs, unbound (autoprobe off)
expect nvme.autoprobe0 "$(sw "$P/sriov_drivers_autoprobe" 0)" ok
expect nvme.enable2 "$(sw "$P/sriov_numvfs" 2)" ok
set -- $(vfs "$NVME")
VF0=$1 VF1=$2
V0=$PCI/devices/$VF0
fn_attrs nvme.vf0 "$VF0"
sriov_cap nvme.enabled.sriov_cap "$NVME"

# enable: refused while a driver is bound; counts pci_enable_device() calls.
expect enable.bad "$(sw "$V0/enable" x)" EINVAL
expect enable.on "$(sw "$V0/enable" 1)" ok
obs enable.on.state "enable=$(rd "$V0/enable") power_state=$(rd "$V0/power_state") mem_bm=$(($(cfg_word "$VF0" 4) & 6))"
expect enable.off "$(sw "$V0/enable" 0)" ok
obs enable.off.enable "$(rd "$V0/enable")"
expect enable.off_again "$(sw "$V0/enable" 0)" EIO
expect enable.bound_pf "$(sw "$P/enable" 0)" EBUSY

# numa_node: only an online node or -1.
expect numa.bad "$(sw "$V0/numa_node" abc)" EINVAL
expect numa.offline "$(sw "$V0/numa_node" 1)" EINVAL
expect numa.set0 "$(sw "$V0/numa_node" 0)" ok
obs numa.set0.read "$(rd "$V0/numa_node")"
expect numa.reset "$(sw "$V0/numa_node" -1)" ok
obs numa.reset.read "$(rd "$V0/numa_node")"

# uevent: a synthetic event (what udevadm trigger writes).
uev_op uevent.change ok "$V0/uevent" change
uev_op uevent.add ok "$V0/uevent" add
expect uevent.bad "$(sw "$V0/uevent" bogus)" EINVAL
expect uevent.change_arg_not_uuid "$(sw "$V0/uevent" 'change foo')" EINVAL
uev_op uevent.change_uuid ok "$V0/uevent" 'change 01234567-89ab-cdef-0123-456789abcdef'
obs uevent.read "$(tr '\n' ';' <"$V0/uevent" | sed 's/;$//')"

# reset: only "1".
expect reset.bad "$(sw "$V0/reset" 2)" EINVAL
expect reset.ok "$(sw "$V0/reset" 1)" ok

# sriov_vf_msix_count: write-only; neither nvme nor igb can change it.
expect msix.read "$(rd "$V0/sriov_vf_msix_count")" EACCES
expect msix.bad "$(sw "$V0/sriov_vf_msix_count" abc)" EINVAL
expect msix.negative "$(sw "$V0/sriov_vf_msix_count" -1)" EINVAL
expect msix.unsupported "$(sw "$V0/sriov_vf_msix_count" 4)" EOPNOTSUPP
obs msix.total "$(rd "$P/sriov_vf_total_msix")"

# an IOMMU group's type: VF0's group (one device, no driver), then VF1's
# with vfio-pci bound, then the shared group of the ICH9 functions.
G0=/sys/kernel/iommu_groups/$(grp "$VF0")
expect type.bad "$(sw "$G0/type" bogus)" EINVAL
obs type.to_dma "$(sw "$G0/type" DMA)"
obs type.to_dma.read "$(rd "$G0/type")"
obs type.to_identity "$(sw "$G0/type" 'identity\n')"
obs type.to_identity.read "$(rd "$G0/type")"
sw "$PCI/devices/$VF1/driver_override" vfio-pci >/dev/null
expect type.vf1_vfio "$(sw "$PCI/drivers_probe" "$VF1")" ok
obs type.bound "$(sw "/sys/kernel/iommu_groups/$(grp "$VF1")/type" DMA)"
obs type.bound.read "$(rd "/sys/kernel/iommu_groups/$(grp "$VF1")/type")"
sw "$PCI/drivers/vfio-pci/unbind" "$VF1" >/dev/null
obs type.vf1_unbound.power_state "$(rd "$PCI/devices/$VF1/power_state")"
sw "$PCI/devices/$VF1/driver_override" '\n' >/dev/null
obs type.shared "$(sw "/sys/kernel/iommu_groups/$(grp 0000:00:1f.0)/type" DMA)"
obs type.shared.read "$(rd "/sys/kernel/iommu_groups/$(grp 0000:00:1f.0)/type")"
expect nvme.disable "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
sriov_cap nvme.disabled.sriov_cap "$NVME"
expect nvme.autoprobe1 "$(sw "$P/sriov_drivers_autoprobe" 1)" ok

need_igb || exit 0
PI=$PCI/devices/$IGB
sriov_cap boot.igb.sriov_cap "$IGB"

# ---- the bus's drivers_autoprobe off: a new VF is still probed (with the
# PF's sriov_drivers_autoprobe on), and drivers_probe works as ever.
expect busprobe.off "$(sw "$PCI/drivers_autoprobe" 0)" ok
obs busprobe.off.read "$(rd "$PCI/drivers_autoprobe")"
uev_op busprobe.enable1 ok "$PI/sriov_numvfs" 1
V=$(vfs "$IGB")
# pci_bus_add_device() calls device_attach() itself: the bus's
# drivers_autoprobe does not stop the probe of a new PCI function.
expect busprobe.vf_driver "$(drv "$V")" igbvf
uev_op busprobe.drivers_probe ok "$PCI/drivers_probe" "$V"
expect busprobe.drivers_probe.driver "$(drv "$V")" igbvf
expect busprobe.on "$(sw "$PCI/drivers_autoprobe" 1)" ok
expect busprobe.disable "$(sw_t 30000 "$PI/sriov_numvfs" 0)" ok

# ---- igb VFs on igbvf, and the net devices
expect igb.enable2 "$(sw "$PI/sriov_numvfs" 2)" ok
set -- $(vfs "$IGB")
fn_attrs igb.vf0 "$1"
sriov_cap igb.enabled.sriov_cap "$IGB"
ND=$(ls "$PI/net" | head -n 1)
VND=$(ls "$PCI/devices/$1/net" 2>/dev/null | head -n 1)
obs net.names "pf=$ND vf0=${VND:-none}"
net_attrs net.pf "$ND"
[ -n "$VND" ] && net_attrs net.vf0 "$VND"
N=/sys/class/net/$ND
expect net.mtu_9000 "$(sw "$N/mtu" 9000)" ok
obs net.mtu_9000.read "$(rd "$N/mtu")"
obs net.mtu_too_big "$(sw "$N/mtu" 9217)"
obs net.mtu_too_small "$(sw "$N/mtu" 67)"
expect net.mtu_bad "$(sw "$N/mtu" abc)" EINVAL
expect net.mtu_1500 "$(sw "$N/mtu" 1500)" ok
obs net.txqlen "$(sw "$N/tx_queue_len" 500)"
obs net.txqlen.read "$(rd "$N/tx_queue_len")"
sw "$N/tx_queue_len" 1000 >/dev/null
# Up through the flags attribute (dev_change_flags()), and down again.
expect net.up "$(sw "$N/flags" 0x1003)" ok
# igb's watchdog reports the link (QEMU's NIC has one, even without a
# -netdev) a moment later.
wait_async 10 eval '[ "$(rd "$N/carrier")" = 1 ]'
obs net.up.state "flags=$(rd "$N/flags") operstate=$(rd "$N/operstate") carrier=$(rd "$N/carrier")"
expect net.down "$(sw "$N/flags" 0x1002)" ok
obs net.down.state "flags=$(rd "$N/flags") operstate=$(rd "$N/operstate") carrier=$(rd "$N/carrier")"
expect igb.disable "$(sw_t 30000 "$PI/sriov_numvfs" 0)" ok
sriov_cap igb.disabled.sriov_cap "$IGB"

# ---- without its driver, the PF's TotalVFs register is unchanged
expect igb.unbind "$(sw "$PCI/drivers/igb/unbind" "$IGB")" ok
fn_attrs igb.nodrv "$IGB"
sriov_cap igb.nodrv.sriov_cap "$IGB"
obs igb.nodrv.totalvfs "$(rd "$PI/sriov_totalvfs")"
expect igb.bind "$(sw "$PCI/drivers/igb/bind" "$IGB")" ok
wait_async 10 test -d "$PI/net"
