#!/bin/bash
# Real clients: gdbus (GLib) calls with option dictionaries and introspection,
# and the signals a change emits as another client sees them.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
bus_start
daemon_start --uevent-source none

PF=0000:3b:00.0
gd() { gdbus call --system --dest "$DEST" "$@"; }

note "gdbus introspection parses our XML"
gdbus introspect --system --dest "$DEST" --object-path "$MGR" | grep -q "SetNumVFs(in  s pf," \
        || fail "gdbus introspection lacks SetNumVFs"
gdbus introspect --system --dest "$DEST" --object-path "$MGR" --recurse | grep -q "interface org.sriovd.PF1" \
        || fail "recursive introspection does not reach the PF objects"

note "signals seen by a monitoring client"
gdbus monitor --system --dest "$DEST" >"$T/monitor.log" 2>&1 &
HARNESS_PIDS+=($!)
# gdbus subscribes to the signals, then asks who owns the name: the answer
# comes after the subscription is in place
wait_for 10 grep -q "^The name $DEST is owned by :" "$T/monitor.log" || fail "gdbus monitor did not start: $(cat "$T/monitor.log")"
out=$(gd --object-path "$MGR" --method org.sriovd.Manager1.SetNumVFs "$PF" 3 "{'autoprobe': <false>}")
assert_eq "$out" "(uint32 3,)" "gdbus SetNumVFs"
VF2=$(vf_bdf $PF 2)
wait_for 5 grep -q "DeviceAdded ('$VF2'" "$T/monitor.log" || fail "no DeviceAdded for $VF2: $(cat "$T/monitor.log")"
grep -q "InterfacesAdded" "$T/monitor.log" || fail "no InterfacesAdded"
grep -q "DeviceChanged ('$PF'" "$T/monitor.log" || fail "no DeviceChanged for the PF"
grep -q "PropertiesChanged.*org.sriovd.PF1.*NumVFs.*<uint32 3>" "$T/monitor.log" || fail "no PropertiesChanged with NumVFs 3"

note "per-device object methods"
VF0=$(vf_bdf $PF 0)
VF0P=$(devpath "$VF0")
out=$(gd --object-path "$VF0P" --method org.sriovd.Device1.Bind vfio-pci "{'keep_override': <false>}")
assert_eq "$out" "('',)" "Bind on the VF object (was unbound)"
assert_eq "$(driver_of "$VF0")" vfio-pci
assert_eq "$(sysattr "$VF0" driver_override)" "(null)" "keep_override=false clears the override"
out=$(gd --object-path "$(devpath $PF)" --method org.sriovd.PF1.SetNumVFs 0 "{}")
assert_eq "$out" "(uint32 0,)"
wait_for 5 grep -q "DeviceRemoved ('$VF0'" "$T/monitor.log" || fail "no DeviceRemoved"
grep -q "InterfacesRemoved" "$T/monitor.log" || fail "no InterfacesRemoved"

note "GetManagedObjects returns everything in one call"
n=$(gd --object-path "$MGR" --method org.freedesktop.DBus.ObjectManager.GetManagedObjects | grep -o "org.sriovd.Device1" | wc -l)
[ "$n" -ge 3 ] || fail "GetManagedObjects returned $n devices"
echo ok
