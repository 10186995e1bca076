#!/bin/bash
# A client that goes away in the middle of a call: the kernel work still
# completes, the daemon stays up and answers the next caller. The bus
# itself going away: the daemon exits with an error (systemd restarts it).
set -euo pipefail
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
# the override written, the probe (1.5 s) is next: the bind is under way
override_written() { grep -q "/$VF0/driver_override \"vfio-pci\" 0\$" "$SIM_ROOT/.sim/log"; }
wait_for 10 override_written || fail "the bind did not start: $(cat "$SIM_ROOT/.sim/log")"
kill -9 $client
wait $client 2>/dev/null || :          # ended by the SIGKILL
# (the simulator logs a write when it returns)
! grep -q "drivers_probe \"$VF0\"" "$SIM_ROOT/.sim/log" || fail "the bind was done before its caller vanished: nothing tested"
kill -0 "$DAEMON_PID" || fail "daemon died"
wait_for 10 driver_is "$VF0" vfio-pci || fail "the bind of the vanished caller did not complete"
sim_ctl latency probe 0
mgr GetDevice s "$VF0" >/dev/null || fail "daemon not answering after the disconnect"
wait_for 5 prop_is "$(devpath "$VF0")" org.sriovd.Device1 Driver vfio-pci || fail "model not updated"
# finished as its own: logged, and the prior driver recorded for a restore
wait_for 5 grep -qx "Bound $VF0 to vfio-pci" "$T/sriovd.log" || fail "the finished bind was not logged"
assert_eq "$(prop "$(devpath "$VF0")" org.sriovd.Device1 PriorDriver)" "" "no prior driver (the VF was unbound)"
assert_eq "$(json_get "$T/state/state.json" "d['devices']['$VF0']['prior_driver']")" None "the bind recorded in the state (no prior driver)"

note "the bus goes away: sriovd exits non-zero instead of idling unreachable"
kill -9 "$BUS_PID"
wait_for 5 pid_gone "$DAEMON_PID" || fail "sriovd is still running 5 s after losing its bus"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[ "$rc" != 0 ] || fail "sriovd exited with 0 after losing its bus"
grep -q "Lost the connection to the system bus" "$T/sriovd.log" || fail "no log line about the lost bus"
echo ok
