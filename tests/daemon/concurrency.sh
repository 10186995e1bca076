#!/bin/bash
# Calls on one PF run one after another; calls on different PFs run at the
# same time. The simulator's operation log shows the order the kernel saw.
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

LAT=600
sim_ctl latency probe $LAT

note "two VFs of one PF: serialized"
mgr Bind 'ssa{sv}' "$A0" vfio-pci 0 >/dev/null & p1=$!
mgr Bind 'ssa{sv}' "$A1" vfio-pci 0 >/dev/null & p2=$!
wait $p1 || fail "bind A0 failed"
wait $p2 || fail "bind A1 failed"
ta0=$(probe_time "$A0"); ta1=$(probe_time "$A1")
[ -n "$ta0" ] && [ -n "$ta1" ] || fail "probes not in the log"
gap=$(( ta0 > ta1 ? ta0 - ta1 : ta1 - ta0 ))
note "same PF: probes finished ${gap} ms apart (each takes ${LAT} ms)"
[ "$gap" -ge $((LAT * 9 / 10)) ] || fail "calls on one PF overlapped in the kernel (${gap} ms apart)"

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
