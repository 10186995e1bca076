#!/bin/bash
# Handing functions to user space: IOMMU group viability (refused while a
# peer is bound to a host driver, or the whole group taken together and given
# back together), host use (an interface that is up), no IOMMU at all, and
# the ownership of the VFIO nodes for a VMM's user.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start shared-group.json
bus_start
mkdir -p "$T/dev/vfio"
daemon_start --uevent-source none --dev-root "$T/dev"

PF=0000:03:00.0; PEER=0000:03:00.1
mgr SetNumVFs 'sua{sv}' $PF 2 1 autoprobe b false >/dev/null
VF0=$(vf_bdf $PF 0)
group=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$VF0/iommu_group")")
assert_eq "$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$PEER/iommu_group")")" "$group" "the peer shares the VF's group"

note "a group with a peer on a host driver is not viable: refused, nothing changed"
before=$(snapshot)
expect_error org.sriovd.Error.GroupNotViable gmgr Bind "$VF0" vfio-pci '{}'
[ "$before" = "$(snapshot)" ] || fail "a refused bind changed the host"

note "a VF that shares its PF's group cannot be passed through at all"
expect_error "taking the PF from its driver would remove its VFs" gmgr Bind "$VF0" vfio-pci "{'whole_group': <true>}"
[ "$before" = "$(snapshot)" ] || fail "a refused whole-group bind changed the host"
mgr SetNumVFs 'sua{sv}' $PF 0 0 >/dev/null

note "without VFs, the peer on its host driver is what stands in the way"
expect_error "0000:03:00.0 shares it and is bound to ixgbe, a host driver" gmgr Bind $PEER vfio-pci '{}'

note "the whole group: refused while the host uses a member"
sim_ctl netdev ens8f0 up
before=$(snapshot)
expect_error org.sriovd.Error.DeviceInUse gmgr Bind $PEER vfio-pci "{'whole_group': <true>}"
expect_error "ens8f0 is up" gmgr Bind $PEER vfio-pci "{'whole_group': <true>}"
[ "$before" = "$(snapshot)" ] || fail "a refused whole-group bind changed the host"
sim_ctl netdev ens8f0 down

note "the whole group, taken together"
out=$(gmgr Bind $PEER vfio-pci "{'whole_group': <true>}") || fail "whole-group bind failed: $out"
for dev in $PF $PEER; do
        assert_eq "$(driver_of "$dev")" vfio-pci "driver of $dev after the whole-group bind"
done
assert_eq "$(json_get "$T/state/state.json" "d['devices']['$PF']['bound_with']")" "$PEER" "peer recorded with its primary"
assert_eq "$(driver_of 0000:02:08.0)" pcieport "the bridge was left alone"

note "... and given back together"
mgr RestoreDriver s $PEER >/dev/null || fail "restore failed"
assert_eq "$(driver_of $PF)" ixgbe "PF back"
assert_eq "$(driver_of $PEER)" ixgbe "peer back"
[ "$(json_get "$T/state/state.json" "'$PF' in d['devices']")" = False ] || fail "the peer's record outlived the restore"

note "host use: an interface that is up is not taken without force"
sim_ctl netdev ens8f1 up
expect_error org.sriovd.Error.DeviceInUse gmgr Unbind $PEER '{}'
assert_eq "$(driver_of $PEER)" ixgbe "the refused unbind changed nothing"
out=$(gmgr Unbind $PEER "{'force': <true>}") || fail "forced unbind failed: $out"
assert_eq "$(driver_of $PEER)" none "forced unbind"
mgr RestoreDriver s $PEER >/dev/null

note "host use: VFs whose interfaces are up keep a VF count change away"
assert_eq "$(mgr SetNumVFs 'sua{sv}' $PF 2 1 autoprobe b true)" "u 2"
mgr SetNumVFs 'sua{sv}' $PF 0 0 >/dev/null
mgr SetNumVFs 'sua{sv}' $PF 1 1 autoprobe b true >/dev/null
VF0=$(vf_bdf $PF 0)
vifname=$(ls "$SIM_ROOT/bus/pci/devices/$VF0/net" 2>/dev/null || :)     # none: checked next
[ -n "$vifname" ] || fail "the autoprobed VF has no interface"
sim_ctl netdev "$vifname" up
expect_error org.sriovd.Error.DeviceInUse gmgr SetNumVFs $PF 0 '{}'
assert_eq "$(sysattr $PF sriov_numvfs)" 1 "VF count after the refusal"
gmgr SetNumVFs $PF 0 "{'force': <true>}" >/dev/null || fail "forced VF count change failed"

note "ownership of the VFIO nodes for a VMM's user"
VF0=0000:04:00.0        # the NVMe controller, alone in its group behind the ACS port
expect_error org.sriovd.Error.NotBoundToVFIO gmgr SetDeviceOwner "$VF0" 1000 1000
expect_error org.sriovd.Error.NotBoundToVFIO gmgr OpenDevice "$VF0" '{}'
out=$(gmgr Bind "$VF0" vfio-pci '{}') || fail "bind failed: $out"
g=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$VF0/iommu_group")")
mknod "$T/dev/vfio/$g" c 245 0
chmod 600 "$T/dev/vfio/$g"
out=$(gmgr SetDeviceOwner "$VF0" 4242 4343) || fail "SetDeviceOwner failed: $out"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "4242:4343 660" "node handed over"
assert_eq "$(json_get "$T/state/state.json" "d['nodes']['$T/dev/vfio/$g']['uid']")" 0 "prior owner recorded"
gmgr ResetDeviceOwner "$VF0" >/dev/null || fail "ResetDeviceOwner failed"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "0:0 600" "node given back"
as_nobody gdbus call --system --dest $DEST --object-path $MGR --method $IFACE.SetDeviceOwner "$VF0" 65534 65534 \
        >/dev/null 2>&1 && fail "nobody handed itself a VFIO node"
assert_eq "$(stat -c '%u:%g' "$T/dev/vfio/$g")" "0:0" "node after the denied call"
expect_error org.sriovd.Error.AccessDenied as_nobody gdbus call --system --dest $DEST --object-path $MGR \
        --method $IFACE.OpenDevice "$VF0" '{}'
echo ok
