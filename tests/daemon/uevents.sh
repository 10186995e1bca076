#!/bin/bash
# uevents keep the model current: a change made behind sriovd's back (a
# sysadmin echoing into sysfs) shows up without a Rescan, and a storm of
# events is coalesced into a few re-reads.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json --uevents
bus_start
daemon_start --uevent-source udev --coalesce-ms 100

PF=0000:3b:00.0
PFP=$(devpath $PF)

note "a VF count set by hand"
echo 0 > "$SIM_ROOT/bus/pci/devices/$PF/sriov_drivers_autoprobe"
echo 64 > "$SIM_ROOT/bus/pci/devices/$PF/sriov_numvfs"
wait_for 10 prop_is "$PFP" org.sriovd.PF1 NumVFs 64 || fail "the daemon did not notice 64 VFs"
vf_objects() { mgr ListDevices s vf | awk '{print $2}'; }
vf_objects_are() { [ "$(vf_objects)" = "$1" ]; }
wait_for 10 vf_objects_are 64 || fail "VF objects after the storm: $(vf_objects), expected 64"
reads=$(grep -c "^Re-read $PF" "$T/sriovd.log" || :)     # none: grep -c prints 0, fails
note "64 VFs created by hand: $reads re-reads of the PF"
[ "$reads" -ge 1 ] && [ "$reads" -le 4 ] || fail "the storm was not coalesced: $reads re-reads"

note "a driver bound by hand"
VF3=$(vf_bdf $PF 3)
echo iavf > "$SIM_ROOT/bus/pci/devices/$VF3/driver_override"
echo "$VF3" > "$SIM_ROOT/bus/pci/drivers_probe"
wait_for 10 prop_is "$(devpath "$VF3")" org.sriovd.Device1 Driver iavf || fail "the bind by hand went unnoticed"

note "hot-unplug and replug of the PF"
sim_ctl remove $PF
pf_gone() { local t; t=$(busctl --system tree "$DEST") && ! grep -q _30000_3a3b_3a00_2e0 <<<"$t"; }
wait_for 10 pf_gone || fail "removed PF still listed"
assert_eq "$(vf_objects)" 0 "VFs after the PF left"
sim_ctl add $PF
wait_for 10 prop_is "$PFP" org.sriovd.Device1 Driver i40e || fail "replugged PF not seen"
echo ok
