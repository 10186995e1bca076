# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-vfio: passthrough safety and VFIO through the daemon, on the real
# kernel and its emulated VT-d. IOMMU group 4 holds the ICH9 LPC, SATA and
# SMBus functions (one multifunction device without ACS): on 6.12, where
# ahci and i2c-i801 drive two of them, binding one to vfio-pci is refused
# (a host driver shares the group) until the whole group is asked for, and
# restoring gives every member its driver back; on 6.1 (no driver for
# them) the group is viable as it is. A PF with an address is refused as in
# use by the host. DmaCheck maps and unmaps DMA through the type1 container
# and, where the kernel has it, iommufd. An unprivileged user (nobody) gets
# nothing without polkit; with the real polkitd allowing it the open-device
# action only, it receives the VFIO fds over D-Bus (vfio-client) and maps
# DMA with them, and is still refused everything else. Then the host's own
# QEMU, run in the guest as nobody on the VF whose nodes the daemon handed
# over (SetDeviceOwner), realizes vfio-pci on it (paused machine, QMP), quits,
# and lets the group go; the nodes are given back and the driver restored.
# A boot without an IOMMU (the no-IOMMU refusal) is not done here: it would
# take a third boot; tests/daemon/noiommu.sh covers it on the simulator.
#
# diff-skip: VFIO ioctls, D-Bus fd passing and a VMM: nothing of it is in the simulator
# vm-needs: gdbus polkitd qemu

no_reference
need_bin sriovd vfio-client
need_tool gdbus
NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME
GDIR=/sys/kernel/iommu_groups

start_sriovd_fresh --timeout 10 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }

# ---- IOMMU group 4: the ICH9 functions of slot 1f share it.
LPC=0000:00:1f.0 SATA=0000:00:1f.2 SMBUS=0000:00:1f.3
G4=$(grp "$SMBUS")
expect group4.members "$(ls "$GDIR/$G4/devices" | tr '\n' ' ' | sed 's/ $//')" "$LPC $SATA $SMBUS"
sata_drv=$(drv "$SATA") smbus_drv=$(drv "$SMBUS")
obs group4.drivers "$(drv "$LPC") $sata_drv $smbus_drv"
if [ "$sata_drv" != none ]; then
        # A host driver (ahci) in the group: refused, and nothing changed.
        r=$(gmgr Bind "$SMBUS" vfio-pci '{}')
        expect group4.bind.error "${r%%:*}" "ERROR org.sriovd.Error.GroupNotViable"
        expect_glob group4.bind.message "$r" "*IOMMU group $G4 of $SMBUS is not viable: $SATA shares it and is bound to $sata_drv, a host driver*pass the whole group*"
        expect group4.bind.drivers "$(drv "$SATA") $(drv "$SMBUS")" "$sata_drv $smbus_drv"
        r=$(gmgr Bind "$SMBUS" vfio-pci "{'whole_group': <true>}")
        expect group4.whole.reply "$r" "('$smbus_drv',)"
        expect group4.whole.drivers "$(drv "$LPC") $(drv "$SATA") $(drv "$SMBUS")" "none vfio-pci vfio-pci"
else
        # No driver on the other members (Debian's guest loads no ahci): viable as is.
        r=$(gmgr Bind "$SMBUS" vfio-pci '{}')
        expect group4.bind.reply "$r" "('',)"
        expect group4.bind.drivers "$(drv "$LPC") $(drv "$SATA") $(drv "$SMBUS")" "none none vfio-pci"
fi
expect group4.dev_node "$([ -c "/dev/vfio/$G4" ] && echo present || echo missing)" present
r=$(gmgr DmaCheck "$SMBUS" "{'backend': <'container'>}")
expect_glob group4.dma_check "$r" "*'backend': <'container'>, 'group': <$G4>, 'remap_refused': <true>*"
r=$(gmgr RestoreDriver "$SMBUS")
expect group4.restore.reply "$r" "('$([ "$smbus_drv" = none ] && echo || echo "$smbus_drv")',)"
expect group4.restore.drivers "$(drv "$LPC") $(drv "$SATA") $(drv "$SMBUS")" "none $sata_drv $smbus_drv"
expect group4.restore.dev_node "$([ -e "/dev/vfio/$G4" ] && echo present || echo gone)" gone

# ---- the host uses the igb PF: an address on its interface.
if need_igb; then
        IF=$(ls "$PCI/devices/$IGB/net" | head -n 1)
        $IP address add 192.0.2.1/24 dev "$IF"
        r=$(gmgr Bind "$IGB" vfio-pci '{}')
        expect host_use.bind.error "${r%%:*}" "ERROR org.sriovd.Error.DeviceInUse"
        expect_glob host_use.bind.message "$r" "*The host uses $IGB: *its interface $IF has the address 192.0.2.1/24*"
        expect host_use.driver "$(drv "$IGB")" igb
        $IP address del 192.0.2.1/24 dev "$IF"
fi

# ---- a VF on vfio-pci: DmaCheck with each backend the kernel has.
expect vf.enable "$(gmgr SetNumVFs "$NVME" 2 "{'autoprobe': <false>}")" "(uint32 2,)"
set -- $(vfs "$NVME")
VF=$1
G=$(grp "$VF")
expect vf.bind "$(gmgr Bind "$VF" vfio-pci '{}')" "('',)"
r=$(gmgr DmaCheck "$VF" "{'backend': <'container'>}")
expect_glob dma.container "$r" "*'backend': <'container'>, 'group': <$G>, 'remap_refused': <true>, 'page_sizes': <uint64 *>, 'iova': <uint64 *>, 'size': <uint64 *>, 'unmapped': <uint64 *>*"
obs dma.container.size "$(gv_string "$r" size)"
expect dma.container.unmapped_all "$(gv_string "$r" unmapped)" "$(gv_string "$r" size)"
# sriovctl dma-check: the same report, with the ranges the session saw
r=$(sriovctl --json=short dma-check "$VF" --backend container 2>&1)
expect_glob ctl.dma_check "$r" "{\"device\":\"$VF\",\"backend\":\"container\",\"iommu_group\":$G,*\"remap_refused\":true,*\"iova_ranges\":\\[{\"start\":\"0x*\",\"end\":\"0x*\"*}*\\],\"reserved_regions\":\\[*{\"start\":\"0xfee00000\",\"end\":\"0xfeefffff\",\"type\":\"msi\"}*\\]}"
r=$(sriovctl dma-check "$VF" --backend container 2>&1)
expect_glob ctl.dma_check.text "$r" "*IOVA ranges:*0x*-0x*Reserved regions:*0xfee00000-0xfeefffff msi*DMA mapping through the IOMMU works*"
if [ -c /dev/iommu ]; then
        r=$(gmgr DmaCheck "$VF" "{'backend': <'iommufd'>}")
        expect_glob dma.iommufd "$r" "*'backend': <'iommufd'>, 'group': <$G>, 'remap_refused': <true>*"
        expect dma.iommufd.unmapped_all "$(gv_string "$r" unmapped)" "$(gv_string "$r" size)"
        expect_glob dma.auto "$(gmgr DmaCheck "$VF" '{}')" "*'backend': <'iommufd'>*"
else
        r=$(gmgr DmaCheck "$VF" "{'backend': <'iommufd'>}")
        expect dma.iommufd.error "${r%%:*}" "ERROR org.sriovd.Error.NotSupported"
        expect dma.iommufd.message "${r#*: }" "iommufd is not available for $VF (no /dev/iommu or no VFIO cdev)"
        expect_glob dma.auto "$(gmgr DmaCheck "$VF" '{}')" "*'backend': <'container'>*"
fi
# The daemon let go of everything: the group opens.
expect dma.group_free "$(try_open group "$VF")" held

# ---- an unprivileged VMM: nobody.
NOBODY=65534:65534
as_user "$NOBODY" vfio-client "$VF" >"$STATE/client.out" 2>&1
expect nobody.no_polkit.exit "$?" 1
expect nobody.no_polkit.uid "$(sed -n 's/^uid=//p' "$STATE/client.out")" 65534
expect nobody.no_polkit "$(grep -v '^uid=' "$STATE/client.out")" \
        "org.sriovd.Error.AccessDenied: Not authorized: only root may do this when polkit is not running"
if ! have_tool polkitd; then
        note "no polkitd on the host: the unprivileged OpenDevice is not tried"
elif ! start_polkitd nobody org.sriovd.open-device; then
        fail "polkitd did not come up: $(tail -n 5 "$RESULTS/$NAME.polkitd.log")"
else
for backend in container $([ -c /dev/iommu ] && echo iommufd); do
        as_user "$NOBODY" vfio-client --backend "$backend" "$VF" >"$STATE/client.out" 2>&1
        expect "nobody.$backend.exit" "$?" 0
        sed -n 's/^\(fds\|config_vendor\|misaligned_map\)=/&/p' "$STATE/client.out" |
                while read -r l; do obs "nobody.$backend.${l%%=*}" "${l#*=}"; done
        expect "nobody.$backend.remap_refused" "$(sed -n 's/^remap_refused=//p' "$STATE/client.out")" yes
        expect "nobody.$backend.uid" "$(sed -n 's/^uid=//p' "$STATE/client.out")" 65534
        expect "nobody.$backend.backend" "$(sed -n 's/^backend=//p' "$STATE/client.out")" "$backend"
        expect "nobody.$backend.dma" "$(grep -c '^mapped=\|^unmapped=' "$STATE/client.out")" 2
        expect "nobody.$backend.ok" "$(tail -n 1 "$STATE/client.out")" ok
done
# polkit allows nobody that one action only.
r=$(as_user "$NOBODY" gdbus call --system --dest org.sriovd.Manager1 --object-path /org/sriovd/Manager1 \
        --method org.sriovd.Manager1.SetNumVFs "$NVME" 1 '{}' 2>&1)
# (the action's default is auth_admin: polkit asks for a password, which a
# call without the interactive flag cannot give)
expect_glob nobody.set_numvfs "$r" "*org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: *"
expect nobody.numvfs "$(rd "$P/sriov_numvfs")" 2
stop_polkitd
fi

# ---- the real QEMU, as nobody, on the VF whose nodes the daemon handed over.
# The group node, and the VFIO cdev where the kernel has one (6.1 has the
# vfio-dev class device in sysfs, but no /dev/vfio/devices).
CDEV=$(ls "$PCI/devices/$VF/vfio-dev" 2>/dev/null | head -n 1)
[ -c "/dev/vfio/devices/$CDEV" ] || CDEV=
NODES="'/dev/vfio/$G'${CDEV:+, '/dev/vfio/devices/$CDEV'}"
r=$(gmgr SetDeviceOwner "$VF" 65534 65534)
expect owner.set "$r" "([$NODES],)"
expect owner.node "$(stat -c '%u:%g %a' "/dev/vfio/$G")" "65534:65534 660"
[ -z "$CDEV" ] || expect owner.cdev "$(stat -c '%u:%g %a' "/dev/vfio/devices/$CDEV")" "65534:65534 660"
if ! have_tool qemu; then
        note "no QEMU for the guest (see tests/vm/run): not started"
else
        t0=$(cut -d. -f1 /proc/uptime)
        guest_qemu "$STATE/qemu.out" "$NOBODY" -- -device "vfio-pci,host=$VF,id=hostdev0"
        expect qemu.exit "$?" 0
        echo "qemu took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
        cat "$STATE/qemu.out.err" >&2
        expect qemu.realized "$(qmp_pci_id "$STATE/qemu.out" hostdev0)" "$(pci_id "$VF")"
        expect qemu.quit "$(grep -c '"event": "SHUTDOWN"' "$STATE/qemu.out")" 1
        # QEMU is gone, and with it its hold on the group.
        expect qemu.group_free "$(try_open group "$VF")" held
fi
r=$(gmgr ResetDeviceOwner "$VF")
expect owner.reset "$r" "([$NODES],)"
expect owner.node_after "$(stat -c '%u:%g %a' "/dev/vfio/$G")" "0:0 600"
[ -z "$CDEV" ] || expect owner.cdev_after "$(stat -c '%u:%g %a' "/dev/vfio/devices/$CDEV")" "0:0 600"
expect vf.restore "$(gmgr RestoreDriver "$VF")" "('',)"
expect vf.driver_after "$(drv "$VF")" none
expect vf.dev_node_after "$([ -e "/dev/vfio/$G" ] && echo present || echo gone)" gone

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
