#!/bin/bash
# A client that goes away in the middle of a call: the kernel work still
# completes, the daemon stays up and answers the next caller.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json
bus_start
daemon_start --uevent-source none

PF=0000:3b:00.0
mgr SetNumVFs 'sua{sv}' $PF 1 1 autoprobe b false >/dev/null
VF0=$(vf_bdf $PF 0)
sim_ctl latency probe 1500
busctl --system call "$DEST" "$MGR" "$IFACE" Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null 2>&1 &
client=$!
sleep 0.3
kill -9 $client
wait $client 2>/dev/null
kill -0 "$DAEMON_PID" || fail "daemon died"
wait_for 10 driver_is "$VF0" vfio-pci || fail "the bind of the vanished caller did not complete"
sim_ctl latency probe 0
mgr GetDevice s "$VF0" >/dev/null || fail "daemon not answering after the disconnect"
wait_for 5 prop_is "$(devpath "$VF0")" org.sriovd.Device1 Driver vfio-pci || fail "model not updated"
grep -q "Cannot reply" "$T/sriovd.log" || note "(the reply to the vanished caller was dropped silently)"
echo ok
