#!/bin/bash
# A client that goes away in the middle of a call: the kernel work still
# completes, the daemon stays up and answers the next caller. The bus
# itself going away: the daemon exits with an error (systemd restarts it).
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

note "the bus goes away: sriovd exits non-zero instead of idling unreachable"
bus_pid=$(pgrep -f -- "--config-file=$T/bus.conf")
[ -n "$bus_pid" ] || fail "no dbus-daemon found"
kill -9 "$bus_pid"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "sriovd is still running 5 s after losing its bus"
wait "$DAEMON_PID"; rc=$?
DAEMON_PID=
[ "$rc" != 0 ] || fail "sriovd exited with 0 after losing its bus"
grep -q "Lost the connection to the system bus" "$T/sriovd.log" || fail "no log line about the lost bus"
echo ok
