# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-ctl: sriovd and sriovctl on the real kernel, over the private bus.
# What `sriovctl status`, `list`, `show` and `groups` print agrees with
# sysfs; `enable` on the NVMe and the igb PF; a change of a non-zero VF
# count (the kernel's EBUSY rule) done by the daemon through 0; `bind VF
# vfio-pci` and `restore`; a VF whose VFIO device a process holds: the
# unbind, the disable and dma-check are refused up front, naming the
# holder; forced,
# the unbind blocks in the kernel, the daemon answers after its --timeout,
# shows the operation as pending and refuses more work on that PF until the
# holder lets go, then completes it by itself.
#
# diff-skip: the project's daemon and CLI on the real kernel, not a kernel rule
# vm-needs: gdbus

no_reference
only_on_kernel "debian-*" "the same igb, igbvf and nvme drivers; what 6.12 changes (iommufd, VFIO cdev, group rules) is in sriovd-vfio and sriovd-assign (make check-vm time budget)"
need_bin sriovd sriovctl
need_tool gdbus
NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME

# ctl ARGS...: sriovctl; its output (stdout and stderr) in $STATE/ctl.out,
# process ids as "PID"; prints the exit status.
ctl() {
        sriovctl --no-ask-password "$@" >"$STATE/ctl.raw" 2>&1
        _rc=$?
        sed 's/process [0-9][0-9]*/process PID/g' "$STATE/ctl.raw" >"$STATE/ctl.out"
        { echo "[$(cut -d' ' -f1 /proc/uptime)] sriovctl $* -> $_rc"; cat "$STATE/ctl.out"; } >&2
        echo "$_rc"
}
# field LABEL: a "Label: value" line of the last `ctl` (status, show)
field() { sed -n "s/^ *$1: //p" "$STATE/ctl.out" | head -n 1; }
# row ADDRESS: the row of ADDRESS in the last `ctl list` (VFs are indented)
row() { awk -v a="$1" '$1 == a' "$STATE/ctl.out"; }
col() { row "$1" | awk -v n="$2" '{ print $n }'; }
dash() { [ "$1" = none ] && echo - || echo "$1"; }

start_sriovd_fresh --timeout 4 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }

# ---- status against the kernel's facts.
npfs=$(ls -d "$PCI"/devices/*/sriov_totalvfs | wc -l)
expect status.exit "$(ctl status)" 0
expect status.state "$(field State)" running
expect status.iommu "$(field IOMMU)" yes
expect status.vfio_container "$(field 'VFIO container')" "$([ -c /dev/vfio/vfio ] && echo yes || echo no)"
expect status.iommufd "$(field IOMMUFD)" "$([ -c /dev/iommu ] && echo yes || echo no)"
expect status.pfs "$(field 'SR-IOV PFs')" "$npfs"
expect status.vfs "$(field VFs)" 0
expect status.pending "$(field Pending)" "0 devices"

# ---- list --kind all: one row per PCI function, driver and group as in sysfs.
expect list_all.exit "$(ctl list --kind all)" 0
for d in "$PCI"/devices/*; do
        b=${d##*/}
        echo "$b $(dash "$(drv "$b")") $(dash "$(grp "$b")")"
done >"$STATE/want"
awk '$1 ~ /^[0-9a-f]{4}:/ { print $1, $3, $6 }' "$STATE/ctl.out" >"$STATE/have"
expect list_all.rows "$(wc -l <"$STATE/have")" "$(wc -l <"$STATE/want")"
expect list_all.address_driver_group "$(diff "$STATE/want" "$STATE/have" >/dev/null && echo as-in-sysfs || cat "$STATE/have")" as-in-sysfs

# ---- groups: the members of every group as in /sys/kernel/iommu_groups.
expect groups.exit "$(ctl groups)" 0
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
        echo "$g" $(ls "/sys/kernel/iommu_groups/$g/devices")
done >"$STATE/want"
awk '$1 ~ /^[0-9]+$/ { printf "%s", $1; for (i = 4; i <= NF && $i ~ /^[0-9a-f]{4}:/; i++) printf " %s", $i; print "" }' \
        "$STATE/ctl.out" >"$STATE/have"
expect groups.members "$(diff "$STATE/want" "$STATE/have" >/dev/null && echo as-in-sysfs || cat "$STATE/have")" as-in-sysfs
# A group whose device a host driver has is not viable for passthrough.
expect groups.nvme_pf_viable "$(awk -v g="$(grp "$NVME")" '$1 == g { print $3 }' "$STATE/ctl.out")" no

# ---- show: the NVMe PF.
expect show_pf.exit "$(ctl show "$NVME")" 0
expect show_pf.kind "$(field Kind)" pf
expect show_pf.driver "$(field Driver)" "$(drv "$NVME")"
expect show_pf.group "$(field 'IOMMU group')" "$(grp "$NVME")"
expect show_pf.vfs "$(field VFs)" "0/$(rd "$P/sriov_totalvfs")"
expect show_pf.routing "$(field 'VF routing')" "offset $(rd "$P/sriov_offset"), stride $(rd "$P/sriov_stride")"
expect show_pf.vf_device_id "$(field 'VF device id')" "$(printf '0x%04x' "0x$(rd "$P/sriov_vf_device")")"
expect show_pf.config_space "$(field 'Config space')" "consistent with sysfs"

# ---- enable on the NVMe PF (autoprobe off: its VFs start offline).
expect enable2.exit "$(ctl enable "$NVME" 2 --autoprobe no)" 0
expect enable2.output "$(cat "$STATE/ctl.out")" "$NVME: 2 VFs enabled"
expect enable2.sysfs_numvfs "$(rd "$P/sriov_numvfs")" 2
expect enable2.sysfs_autoprobe "$(rd "$P/sriov_drivers_autoprobe")" 0
set -- $(vfs "$NVME")
VF0=$1 VF1=$2
expect list2.exit "$(ctl list)" 0
expect list2.pf_vfs "$(col "$NVME" 7)" "2/$(rd "$P/sriov_totalvfs")"
expect list2.vf0 "$(col "$VF0" 2) $(col "$VF0" 3) $(col "$VF0" 6)" "vf - $(grp "$VF0")"
expect list2.vf1 "$(col "$VF1" 2) $(col "$VF1" 3) $(col "$VF1" 6)" "vf - $(grp "$VF1")"

# The kernel refuses 2 -> 3 (EBUSY); the daemon goes through 0.
expect ebusy.kernel "$(sw "$P/sriov_numvfs" 3)" EBUSY
expect enable3.exit "$(ctl enable "$NVME" 3)" 0
expect enable3.output "$(cat "$STATE/ctl.out")" "$NVME: 3 VFs enabled"
expect enable3.sysfs_numvfs "$(rd "$P/sriov_numvfs")" 3
expect enable3.links "$(virtfn_links "$NVME")" "virtfn0 virtfn1 virtfn2"
expect status3.vfs "$(ctl status >/dev/null; field VFs)" 3
# Out of range: refused before the kernel is asked.
expect enable5.exit "$(ctl enable "$NVME" 5)" 6
expect_glob enable5.output "$(cat "$STATE/ctl.out")" "*5 VFs exceed the 4 that $NVME supports*"
expect enable5.sysfs_numvfs "$(rd "$P/sriov_numvfs")" 3

# ---- enable on the igb PF: igbvf takes its VFs (autoprobe on).
if need_igb; then
        GP=$PCI/devices/$IGB
        expect igb.enable2.exit "$(ctl enable "$IGB" 2)" 0
        expect igb.enable2.sysfs_numvfs "$(rd "$GP/sriov_numvfs")" 2
        set -- $(vfs "$IGB")
        IVF0=$1
        wait_until 20 eval '[ "$(drv "$IVF0")" = igbvf ] && [ -d "$PCI/devices/$IVF0/net" ]'
        expect igb.vf0_driver "$(drv "$IVF0")" igbvf
        ifname=$(ls "$PCI/devices/$IVF0/net" 2>/dev/null | head -n 1)
        expect igb.show_vf.exit "$(ctl show "$IVF0")" 0
        expect igb.show_vf.driver "$(field Driver)" igbvf
        expect igb.show_vf.interfaces "$(field Interfaces)" "$ifname"
        expect igb.show_vf.pf "$(field PF)" "$IGB"
        expect igb.show_vf.vf_index "$(field 'VF index')" 0
        expect igb.show_vf.pf_driver "$(field 'PF driver')" igb

        # bind to vfio-pci and restore: igbvf comes back, the override goes.
        expect igb.bind.exit "$(ctl bind "$IVF0" vfio-pci)" 0
        expect igb.bind.output "$(cat "$STATE/ctl.out")" "$IVF0: bound to vfio-pci (was igbvf)"
        expect igb.bind.sysfs_driver "$(drv "$IVF0")" vfio-pci
        expect igb.bind.sysfs_override "$(rd "$PCI/devices/$IVF0/driver_override")" vfio-pci
        expect igb.bind.dev_node "$([ -c "/dev/vfio/$(grp "$IVF0")" ] && echo present || echo missing)" present
        expect igb.bind.prior "$(ctl show "$IVF0" >/dev/null; field 'Prior driver')" igbvf
        expect igb.restore.exit "$(ctl restore "$IVF0")" 0
        expect igb.restore.output "$(cat "$STATE/ctl.out")" "$IVF0: driver igbvf bound"
        expect igb.restore.sysfs_driver "$(drv "$IVF0")" igbvf
        expect igb.restore.sysfs_override "$(rd "$PCI/devices/$IVF0/driver_override")" "(null)"
        wait_until 20 test -d "$PCI/devices/$IVF0/net"
        expect igb.restore.netdev "$([ -d "$PCI/devices/$IVF0/net" ] && echo present || echo missing)" present
        # both VFs in one call each way (BindDevices, RestoreDrivers)
        IVF1=$(vfs "$IGB" | awk '{ print $2 }')
        expect igb.bind_many.exit "$(ctl bind "$IVF0" "$IVF1" vfio-pci)" 0
        expect igb.bind_many.drivers "$(drv "$IVF0") $(drv "$IVF1")" "vfio-pci vfio-pci"
        expect igb.restore_many.exit "$(ctl restore "$IVF0" "$IVF1")" 0
        expect igb.restore_many.drivers "$(drv "$IVF0") $(drv "$IVF1")" "igbvf igbvf"
        expect igb.disable.exit "$(ctl disable "$IGB")" 0
        expect igb.disable.sysfs_numvfs "$(rd "$GP/sriov_numvfs")" 0
fi

# ---- a VF held by a VFIO user.
set -- $(vfs "$NVME")
VF0=$1
G=$(grp "$VF0")
expect bind.exit "$(ctl bind "$VF0" vfio-pci)" 0
expect bind.output "$(cat "$STATE/ctl.out")" "$VF0: bound to vfio-pci (had no driver)"
expect bind.sysfs_driver "$(drv "$VF0")" vfio-pci
hold device "$VF0" "$STATE/hold.out" || fail "vfio-hold device: $(cat "$STATE/hold.out")"
HPID=$HOLD_PID

# Refused up front: the daemon names the holder instead of letting the kernel wait.
expect held.unbind.exit "$(ctl unbind "$VF0")" 7
expect_glob held.unbind.output "$(cat "$STATE/ctl.out")" "*$VF0 is in use: process PID (vfio-hold) holds /dev/vfio/$G*"
expect held.disable.exit "$(ctl disable "$NVME")" 7
expect_glob held.disable.output "$(cat "$STATE/ctl.out")" "*$VF0 is in use*changing the VF count of $NVME removes VF 0*"
# DMA through VFIO needs the group, which the holder has: named as the reason
# (the VF is bound to vfio-pci)
expect held.dma_check.exit "$(ctl dma-check "$VF0")" 7
expect_glob held.dma_check.output "$(cat "$STATE/ctl.out")" "*IOMMU group $G of $VF0 is in use: process PID (vfio-hold) holds /dev/vfio/$G*"
expect held.after_refusals.driver "$(drv "$VF0")" vfio-pci
expect held.after_refusals.numvfs "$(rd "$P/sriov_numvfs")" 3

# Forced: the kernel's unbind waits for the holder; the daemon answers after
# its --timeout (4 s) and keeps the operation as pending.
r=$(gmgr Unbind "$VF0" "{'force': <true>}")
expect forced.unbind.error "${r%%:*}" "ERROR org.sriovd.Error.Timeout"
expect_glob forced.unbind.message "$r" "*Unbinding $VF0 from vfio-pci did not finish within 4.0s*completes the unbind once it is released*"
expect forced.holder_alive "$(alive "$HPID" && echo yes || echo no)" yes
expect forced.status.exit "$(ctl status)" 0
# Pending: the VF, and its PF (whose lane of kernel work waits).
expect forced.status.pending "$(field Pending)" "2 devices"
expect_glob forced.status.pending_vf "$(grep "^ *$VF0 " "$STATE/ctl.out")" "*$VF0*vf*Unbinding $VF0*"
expect_glob forced.status.pending_pf "$(grep "^ *$NVME " "$STATE/ctl.out")" "*$NVME*pf*Unbinding $VF0*"
expect forced.show.exit "$(ctl show "$VF0")" 0
expect_glob forced.show.pending "$(field Pending)" "Unbinding $VF0 from vfio-pci did not finish*"
# More work on the same PF is refused while the kernel holds the write.
r=$(gmgr SetNumVFs "$NVME" 1 '{}')
expect forced.more_work.error "${r%%:*}" "ERROR org.sriovd.Error.OperationPending"
expect forced.more_work.numvfs "$(rd_t 2000 "$P/sriov_numvfs")" 3
# Other PFs are not held up.
if [ -n "$IGB" ]; then
        expect forced.other_pf.exit "$(ctl enable "$IGB" 1 --autoprobe no)" 0
        expect forced.other_pf.exit2 "$(ctl disable "$IGB")" 0
fi

release "$HPID" || fail "vfio-hold did not exit"
# The kernel finishes the unbind; the daemon notices by itself.
wait_until 20 eval '[ "$(ctl status >/dev/null; field Pending)" = "0 devices" ]'
expect released.status.pending "$(field Pending)" "0 devices"
expect released.sysfs_driver "$(drv "$VF0")" none
expect released.dev_node "$([ -e "/dev/vfio/$G" ] && echo present || echo gone)" gone
expect released.show.driver "$(ctl show "$VF0" >/dev/null; field Driver)" -
expect released.disable.exit "$(ctl disable "$NVME")" 0
expect released.disable.output "$(cat "$STATE/ctl.out")" "$NVME: VFs disabled"
expect released.sysfs_numvfs "$(rd "$P/sriov_numvfs")" 0

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
# The daemon's log names the late completion.
expect log.late_completion "$(grep -c 'pending kernel write to .* finished late' "$RESULTS/$NAME.sriovd.log")" 1
