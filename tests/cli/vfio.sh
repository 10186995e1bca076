#!/bin/bash
# Passthrough through sriovctl, on a switch whose port has no ACS: bind
# --whole-group (and what stands in its way), --force for functions the
# host uses (bind, unbind, enable/disable), owner of the VFIO nodes handed
# to a user and given back, and dma-check's refusals. The simulator has no
# VFIO: a DMA check that passes needs the VM bench (tests/vm).
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
sim_start shared-group.json
bus_start
mkdir -p "$T/dev/vfio"
start_sriovd --dev-root "$T/dev"

PF=0000:03:00.0
PEER=0000:03:00.1
NVME=0000:04:00.0       # alone in its group behind the ACS port

# refused STATUS PATTERN ARGS...: the sentence and exit status, and a host
# as it was
refused() {
        local before
        before=$(snapshot)
        expect "$@"
        [ -z "$OUT" ] || fail "sriovctl ${*:3}: refused, but printed on stdout: $OUT"
        [ "$before" = "$(snapshot)" ] || fail "sriovctl ${*:3} was refused but changed the host"
}

note "a peer on a host driver: the group is not viable (7)"
refused 7 "Cannot bind $PEER to vfio-pci: IOMMU group" bind $PEER vfio-pci
[[ "$ERR" == *"$PF shares it and is bound to ixgbe"* ]] || fail "the reason: $ERR"
[[ "$ERR" == *'Hint: "sriovctl groups" shows which function of the IOMMU group is in the way'* ]] || fail "hint: $ERR"

note "--whole-group: refused while the host uses a member (7), then the group together"
sim_ctl netdev ens8f0 up
refused 7 "ens8f0 is up" bind $PEER vfio-pci --whole-group
sim_ctl netdev ens8f0 down
expect_ok bind $PEER vfio-pci --whole-group
assert_eq "$OUT" "$PEER: bound to vfio-pci (was ixgbe)" "bind --whole-group"
assert_eq "$(driver_of $PF) $(driver_of $PEER)" "vfio-pci vfio-pci" "the group bound together"
expect_ok show $PF
assert_eq "$(field 'Prior driver')" ixgbe "the peer's prior driver is recorded"
expect_ok restore $PEER
assert_eq "$(driver_of $PF) $(driver_of $PEER)" "ixgbe ixgbe" "the group given back together"

note "--force: functions the host uses"
sim_ctl netdev ens8f1 up
refused 7 "Cannot unbind $PEER: " unbind $PEER
[[ "$ERR" == *"ens8f1 is up"* ]] || fail "unbind: the reason: $ERR"
expect_ok --json unbind $PEER --force
assert_eq "$(jq_out d)" "{'device': '$PEER', 'driver': None, 'prior_driver': 'ixgbe'}" "unbind --force"
expect_ok restore $PEER
sim_ctl netdev ens8f1 down
expect_ok enable $PF 1 --autoprobe yes
VF0=$(vf_bdf $PF 0)
vifname=$(ls "$SIM_ROOT/bus/pci/devices/$VF0/net")
sim_ctl netdev "$vifname" up
refused 7 "Cannot disable the VFs of $PF: " disable $PF
[[ "$ERR" == *"changing the VF count of $PF removes VF 0"* ]] || fail "disable: the reason: $ERR"
refused 7 "Cannot enable 2 VFs on $PF: " enable $PF 2
expect_ok disable $PF --force
assert_eq "$(sysattr $PF sriov_numvfs)" 0 "disable --force"
expect_ok enable $PF 1 --force --autoprobe no
assert_eq "$(sysattr $PF sriov_numvfs)" 1 "enable --force"
expect_ok disable $PF

note "owner: the VFIO nodes of a function on vfio-pci"
refused 6 "Cannot hand the VFIO nodes of $NVME to 1000:1000: $NVME is bound to nvme, not to vfio-pci" owner $NVME --uid 1000 --gid 1000
[[ "$ERR" == *"Hint: it must be bound to vfio-pci, and the kernel must have made its nodes"* ]] || fail "hint: $ERR"
expect_ok bind $NVME vfio-pci
refused 6 "The device's VFIO nodes do not exist" owner $NVME --uid 1000 --gid 1000
g=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$NVME/iommu_group")")
mknod "$T/dev/vfio/$g" c 245 0
chmod 600 "$T/dev/vfio/$g"
expect_ok owner 04:00.0 --uid 4242 --gid 4343
assert_eq "$OUT" "04:00.0: $T/dev/vfio/$g handed to 4242:4343" "owner"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "4242:4343 660" "the node handed over"
expect_ok --json owner $NVME --uid nobody --gid nogroup
assert_eq "$(jq_out d)" "{'device': '$NVME', 'uid': $(id -u nobody), 'gid': $(getent group nogroup | cut -d: -f3), \
'nodes': ['$T/dev/vfio/$g']}" "owner --json, by names"
expect_ok owner --reset $NVME
assert_eq "$OUT" "$NVME: $T/dev/vfio/$g given back" "owner --reset"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "0:0 600" "the node given back"
expect_ok --json owner --reset $NVME
assert_eq "$(jq_out d)" "{'device': '$NVME', 'nodes': []}" "owner --reset --json, nothing to give back"
expect_ok owner --reset $NVME
assert_eq "$OUT" "$NVME: nothing to give back" "owner --reset, nothing to give back"
refused 2 "owner: give --uid USER and --gid GROUP, or --reset." owner $NVME --uid 1000
refused 2 "owner: give --uid USER and --gid GROUP, or --reset." owner $NVME
refused 2 "owner: --reset gives the nodes back to their prior owner; it does not go with --uid or --gid." \
        owner --reset $NVME --gid 1
refused 2 "owner: expected DEV, got 3 arguments." owner $NVME 1 1
refused 2 "--uid nosuchuser-x: expected a user name or number." owner $NVME --uid nosuchuser-x --gid 0
refused 2 "--gid 4294967295: expected a group name or number." owner $NVME --uid 0 --gid 4294967295
refused 5 "No PCI function 0000:99:00.0" owner 0000:99:00.0 --uid 0 --gid 0

note "dma-check: refused without vfio-pci (6); the simulator has no VFIO (10)"
refused 6 "Cannot check DMA through $PF: $PF is bound to ixgbe, not to vfio-pci" dma-check $PF
[[ "$ERR" == *"Hint: bind it to vfio-pci first"* ]] || fail "hint: $ERR"
refused 10 "Cannot check DMA through $NVME: $T/dev/vfio/vfio does not exist: the kernel has no VFIO container" dma-check $NVME
[[ "$ERR" == *'Hint: "sriovctl status" shows the IOMMU and the VFIO interfaces of the host'* ]] || fail "hint: $ERR"
refused 10 "Cannot check DMA through $NVME: iommufd is not available" dma-check $NVME --backend iommufd
[[ "$ERR" == *'Hint: "sriovctl status" shows the IOMMU and the VFIO interfaces of the host'* ]] || fail "hint: $ERR"
refused 2 "--backend vfio: expected auto, container or iommufd." dma-check $NVME --backend vfio
refused 2 "--backend does not go with bind." bind $NVME vfio-pci --backend auto
refused 5 "No PCI function 0000:99:00.0" dma-check 0000:99:00.0
expect_ok restore $NVME
echo ok
