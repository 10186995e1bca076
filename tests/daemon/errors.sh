#!/bin/bash
# Every named error, and that a refused call changes nothing on the host.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
bus_start
daemon_start --uevent-source none --timeout 1

PF=0000:3b:00.0

note "invalid arguments"
for bad in "" "0000:3b:00" "0000:3b:00.8" "0000:3b:20.0" "../0000:3b:00.0" "0000:3b:00.0/../../x" \
           "/sys/bus/pci/devices/0000:3b:00.0" "a-very-long-interface-name" "eth0:1" "0000:3b:00.0 "; do
        unchanged expect_error org.sriovd.Error.InvalidArgument gmgr SetNumVFs "$bad" 1 '{}'
        unchanged expect_error org.sriovd.Error.InvalidArgument gmgr Bind "$bad" vfio-pci '{}'
done
for drv in "" ".." "../vfio-pci" "vfio/pci" "vfio pci"; do
        unchanged expect_error org.sriovd.Error.InvalidArgument gmgr Bind $PF "$drv" '{}'
done
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr Bind $PF vfio-pci "{'bogus': <true>}"
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr Bind $PF vfio-pci "{'keep_override': <'yes'>}"
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr ListDevices nonsense

note "unknown devices"
unchanged expect_error org.sriovd.Error.NoSuchDevice gmgr SetNumVFs 0000:99:00.0 1 '{}'
unchanged expect_error org.sriovd.Error.NoSuchDevice gmgr GetDevice nosuchif0
unchanged expect_error org.sriovd.Error.NoSuchDevice gmgr RestoreDriver 0000:99:00.0

note "counts beyond totalvfs are refused before anything is written"
unchanged expect_error org.sriovd.Error.OutOfRange gmgr SetNumVFs $PF 65 '{}'
unchanged expect_error org.sriovd.Error.OutOfRange gmgr SetNumVFs $PF 4294967295 '{}'

note "not a PF"
BRIDGE=$(basename "$(dirname "$(readlink -f "$SIM_ROOT/bus/pci/devices/$PF")")")
unchanged expect_error org.sriovd.Error.NotSRIOV gmgr SetNumVFs "$BRIDGE" 1 '{}'
unchanged expect_error org.sriovd.Error.NotSRIOV gmgr Bind "$BRIDGE" vfio-pci '{}'

note "unknown driver"
unchanged expect_error org.sriovd.Error.NoDriver gmgr Bind $PF nosuchdriver '{}'

mgr SetNumVFs 'sua{sv}' $PF 2 1 autoprobe b true >/dev/null
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)

note "the kernel says busy: unbind fails, the binding stays"
sim_ctl fail unbind "$VF0" EBUSY 1
unchanged expect_error org.sriovd.Error.DeviceBusy gmgr Bind "$VF0" vfio-pci '{}'
assert_eq "$(driver_of "$VF0")" iavf "driver after a refused unbind"

note "a probe that fails is rolled back to the prior driver"
sim_ctl fail probe "$VF0" ENODEV 1
expect_error org.sriovd.Error.BindFailed gmgr Bind "$VF0" vfio-pci '{}'
assert_eq "$(driver_of "$VF0")" iavf "driver after the rollback"
assert_eq "$(sysattr "$VF0" driver_override)" "(null)" "override after the rollback"

note "no PF driver: SR-IOV cannot be configured"
PF2=0000:3b:00.1
echo $PF2 > "$SIM_ROOT/bus/pci/drivers/i40e/unbind"
mgr Rescan >/dev/null
wait_for 5 prop_is "$(devpath $PF2)" org.sriovd.Device1 Driver "" || fail "Rescan did not see the unbind"
unchanged expect_error org.sriovd.Error.NoDriver gmgr SetNumVFs $PF2 2 '{}'

echo $PF2 > "$SIM_ROOT/bus/pci/drivers/i40e/bind"
mgr Rescan >/dev/null
wait_for 5 prop_is "$(devpath $PF2)" org.sriovd.Device1 Driver i40e || fail "Rescan did not see the bind"

note "assigned VFs: the PF driver refuses to disable"
sim_ctl assign "$VF1"
expect_error org.sriovd.Error.VFsAssigned gmgr SetNumVFs $PF 0 '{}'
assert_eq "$(sysattr $PF sriov_numvfs)" 2 "VFs still enabled"
sim_ctl unassign "$VF1"

note "a VFIO user holds a VF: the unbind blocks; bounded wait, pending, then finished"
mgr Bind 'ssa{sv}' "$VF1" vfio-pci 0 >/dev/null
sim_ctl hold "$VF1"
expect_error org.sriovd.Error.Timeout gmgr RestoreDriver "$VF1"
VF1P=$(devpath "$VF1")
[ -n "$(prop "$VF1P" org.sriovd.Device1 Pending)" ] || fail "Pending property empty while the unbind waits"
expect_error org.sriovd.Error.OperationPending gmgr Bind "$VF0" vfio-pci '{}'
# the daemon keeps serving everything else meanwhile: reads, and work on
# another PF
mgr ListDevices s pf >/dev/null || fail "daemon not serving during a pending operation"
assert_eq "$(mgr SetNumVFs 'sua{sv}' $PF2 2 0)" "u 2" "SetNumVFs on the other PF while one is pending"
assert_eq "$(sysattr $PF2 sriov_numvfs)" 2 "VFs on the other PF"
sim_ctl release "$VF1"
wait_for 10 driver_is "$VF1" iavf || fail "the pending restore was not finished"
wait_for 10 prop_is "$VF1P" org.sriovd.Device1 Pending "" || fail "Pending not cleared"
assert_eq "$(mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0)" 's "iavf"' "the PF accepts work again"
echo ok
