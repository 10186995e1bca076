#!/bin/bash
# Calls on different VFs of one PF run at the same time (the kernel locks
# per device); calls on one VF run one after another, and so does a call on
# the PF with those on its VFs; calls on different PFs run at the same time.
# The simulator's operation log shows the order the kernel saw.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json
bus_start
daemon_start --uevent-source none

PFA=0000:3b:00.0
PFB=0000:3b:00.1
mgr SetNumVFs 'sua{sv}' $PFA 2 1 autoprobe b false >/dev/null
mgr SetNumVFs 'sua{sv}' $PFB 2 1 autoprobe b false >/dev/null
A0=$(vf_bdf $PFA 0); A1=$(vf_bdf $PFA 1); B0=$(vf_bdf $PFB 0)

# probe_times BDF...: when (ms) each device's drivers_probe write finished
probe_time() { awk -v b="$1" '$2 == "bus/pci/drivers_probe" && index($3, b) {t=$1} END {print t}' "$SIM_ROOT/.sim/log"; }

note "two VFs of one PF: in parallel (the second bind ends while the first one's probe is held)"
sim_ctl fail probe "$A0" block 1
mgr Bind 'ssa{sv}' "$A0" vfio-pci 0 >/dev/null & p1=$!
wait_for 10 grep -qx "blocked 1" "$SIM_ROOT/.sim/faults" || fail "the probe of A0 was not held: $(cat "$SIM_ROOT/.sim/faults")"
timeout 20 busctl --system call "$DEST" "$MGR" "$IFACE" Bind 'ssa{sv}' "$A1" vfio-pci 0 >/dev/null ||
        fail "the bind of A1 waited for A0's (calls on two VFs of one PF were serialized)"
kill -0 $p1 2>/dev/null || fail "the bind of A0 ended while its probe was held"
sim_ctl clear
wait $p1 || fail "bind A0 failed"
assert_eq "$(driver_of "$A0") $(driver_of "$A1")" "vfio-pci vfio-pci" "A0 and A1"

LAT=600
sim_ctl latency probe $LAT

note "one VF: serialized, in the order asked"
mgr Bind 'ssa{sv}' "$A0" pci-stub 0 >/dev/null & p1=$!
wait_for 10 grep -q "/$A0/driver_override \"pci-stub\" 0\$" "$SIM_ROOT/.sim/log" || fail "the first bind did not start"
mgr Bind 'ssa{sv}' "$A0" vfio-pci 0 >/dev/null & p2=$!
wait $p1 || fail "bind A0 to pci-stub failed"
wait $p2 || fail "bind A0 back to vfio-pci failed"
assert_eq "$(driver_of "$A0")" vfio-pci "A0 after two binds in a row"
t1=$(awk -v b="$A0" '$2 == "bus/pci/drivers_probe" && index($3, b) {print $1}' "$SIM_ROOT/.sim/log" | tail -n 2 | head -n 1)
t2=$(probe_time "$A0")
gap=$((t2 - t1))
note "same VF: probes finished ${gap} ms apart"
[ "$gap" -ge $((LAT * 9 / 10)) ] || fail "calls on one VF overlapped in the kernel (${gap} ms apart)"

note "the PF and its VF: serialized"
mgr Bind 'ssa{sv}' "$A1" pci-stub 0 >/dev/null & p1=$!
wait_for 10 grep -q "/$A1/driver_override \"pci-stub\" 0\$" "$SIM_ROOT/.sim/log" || fail "the bind of A1 did not start"
mgr SetNumVFs 'sua{sv}' $PFA 2 1 autoprobe b true >/dev/null & p2=$!
wait $p1 || fail "bind A1 failed"
wait $p2 || fail "SetNumVFs (autoprobe) on A failed"
ta1=$(probe_time "$A1")
tap=$(awk -v b="$PFA" '$2 ~ b"/sriov_drivers_autoprobe$" {t=$1} END {print t}' "$SIM_ROOT/.sim/log")
[ -n "$tap" ] || fail "the autoprobe write is not in the log"
note "the PF's write came $((tap - ta1)) ms after its VF's probe finished"
[ "$tap" -ge "$ta1" ] || fail "a call on the PF overlapped one on its VF"

note "two PFs: in parallel"
sim_ctl latency probe 0
sim_ctl latency vf_create $LAT
numvfs_time() { awk -v b="$1" '$2 ~ b"/sriov_numvfs$" && $3 == "\"3\"" {t=$1} END {print t}' "$SIM_ROOT/.sim/log"; }
mgr SetNumVFs 'sua{sv}' $PFA 3 0 >/dev/null & p1=$!
mgr SetNumVFs 'sua{sv}' $PFB 3 0 >/dev/null & p2=$!
wait $p1 || fail "SetNumVFs A failed"
wait $p2 || fail "SetNumVFs B failed"
ta=$(numvfs_time $PFA); tb=$(numvfs_time $PFB)
[ -n "$ta" ] && [ -n "$tb" ] || fail "numvfs writes not in the log"
gap=$(( ta > tb ? ta - tb : tb - ta ))
note "different PFs: VF creation (3 x ${LAT} ms each) finished ${gap} ms apart"
[ "$gap" -lt $((LAT * 2)) ] || fail "calls on different PFs were serialized (${gap} ms apart)"
sim_ctl latency vf_create 0

note "reads are answered while a PF is busy"
B0=$(vf_bdf $PFB 0)
sim_ctl latency probe 3000
mgr Bind 'ssa{sv}' "$B0" pci-stub 0 >"$T/bind-b0.out" &
p1=$!
# the override written, the probe (3 s) is next: the PF's lane is busy
override_written() { grep -q "/$B0/driver_override \"pci-stub\" 0\$" "$SIM_ROOT/.sim/log"; }
wait_for 10 override_written || fail "the bind of $B0 did not start"
start=$(date +%s%N)
mgr ListDevices s sriov >/dev/null || fail "ListDevices failed while busy"
mgr GetDevice s $PFB >/dev/null || fail "GetDevice failed while busy"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -0 $p1 2>/dev/null || fail "the bind finished before the reads: the check proves nothing"
note "reads took ${ms} ms while the PF's probe was running"
[ "$ms" -lt 2000 ] || fail "reads waited for the kernel (${ms} ms)"
wait $p1 || fail "the bind of $B0 that the reads overtook failed"
assert_eq "$(cat "$T/bind-b0.out")" 's ""' "its reply (the VF had no driver)"
assert_eq "$(driver_of "$B0")" pci-stub "the bind the reads overtook"
echo ok
