#!/bin/bash
# Failure injection (fail/clear, counts), the control file's error handling,
# the operation log (.sim/log and --log FILE), and the latency model: the
# sleep holds only that device's lock, so two PFs work in parallel.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
log=$(mktemp)
sim_start "$TOPO/x710.json" "" -- --log "$log"
on_exit 'sim_cleanup; rm -f "$log"'
M=$SIM_ROOT
PF0=$(dev 0000:3b:00.0)
PF1=$(dev 0000:3b:00.1)

# --- bad commands ---
for c in frobnicate "fail numvfs" "fail nope * EIO" "fail numvfs * ENOTANERRNO" "fail numvfs * EIO x" \
         "latency nope 5" "latency probe -1" "clear nope" "hold" "partial 0000:3b:00.0 x" "netdev ens1f0 sideways" "\n"; do
        expect_write "$M/.sim/ctl" "$c" EINVAL
done
expect_write "$M/.sim/ctl" "partial 0000:3a:00.0 1" EINVAL
expect_write "$M/.sim/ctl" "assign 0000:99:00.0" ENODEV

# --- a failure happens once by default and changes nothing ---
before=$(rd "$M/.sim/state")
ctl fail numvfs 0000:3b:00.0 EIO
expect_write "$PF1/sriov_numvfs" 1 0                    # another device: unaffected
expect_write "$PF1/sriov_numvfs" 0 0
expect_write "$PF0/sriov_numvfs" 2 EIO
expect_eq "$(rd "$M/.sim/state")" "$before" "state after an injected failure"
expect_write "$PF0/sriov_numvfs" 2 0
# PCI core checks come before the driver's sriov_configure: they do not
# consume the injection
ctl fail numvfs '*' ENOMEM
expect_write "$PF0/sriov_numvfs" 3 EBUSY
expect_write "$PF0/sriov_numvfs" 0 ENOMEM
expect_write "$PF0/sriov_numvfs" 0 0

# --- counts: N times, 0 = until cleared ---
ctl fail bind '*' EBUSY 2
expect_write "$M/bus/pci/drivers/i40e/unbind" 0000:3b:00.1 0
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.1 EBUSY
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.1 EBUSY
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.1 0
ctl fail override 0000:3b:00.1 EPERM 0
for _ in 1 2 3; do
        expect_write "$PF1/driver_override" vfio-pci EPERM
done
ctl fail autoprobe '*' 5 0
expect_write "$PF1/sriov_drivers_autoprobe" 0 EIO
ctl clear override
expect_write "$PF1/driver_override" "\n" 0
expect_write "$PF1/sriov_drivers_autoprobe" 0 EIO
ctl clear
expect_write "$PF1/sriov_drivers_autoprobe" 1 0
for op in unbind new_id remove_id drivers_probe remove rescan reset; do
        ctl fail $op '*' EAGAIN
done
expect_write "$M/bus/pci/drivers/i40e/unbind" 0000:3b:00.1 EAGAIN
expect_write "$M/bus/pci/drivers/vfio-pci/new_id" "8086 154c" EAGAIN
expect_write "$M/bus/pci/drivers/vfio-pci/remove_id" "8086 154c" EAGAIN
expect_write "$M/bus/pci/drivers_probe" 0000:3b:00.1 EAGAIN
expect_write "$PF1/remove" 1 EAGAIN
expect_write "$M/bus/pci/rescan" 1 EAGAIN
expect_write "$PF1/reset" 1 EAGAIN
expect_write "$PF1/reset" 1 0

# --- "after N": the first N matching operations pass ---
points=$(grep -c '^override 0000:3b:00.1$' "$M/.sim/points")
ctl fail override 0000:3b:00.1 EIO 1 after 2
expect_write "$PF1/driver_override" i40e 0
expect_write "$PF1/driver_override" "\n" 0
expect_write "$PF1/driver_override" i40e EIO
expect_write "$PF1/driver_override" "\n" 0
expect_eq "$(tail -n 1 "$M/.sim/points")" "override 0000:3b:00.1" ".sim/points: the last failure point passed"
expect_eq "$(grep -c '^override 0000:3b:00.1$' "$M/.sim/points")" $((points + 4)) ".sim/points: every override of PF1"

# --- block: the operation waits until the rule is cleared, then succeeds ---
ctl fail override 0000:3b:00.1 block
sim-write "$PF1/driver_override" i40e > /dev/null &
blocked=$!
expect_blocked $blocked "a write under a block rule"
expect_eq "$(head -n 1 "$M/.sim/faults")" "blocked 1" ".sim/faults while one write waits"
ctl clear
wait $blocked || fail "the blocked write failed once released"
expect_eq "$(rd "$PF1/driver_override")" i40e "driver_override after the blocked write"
expect_eq "$(head -n 1 "$M/.sim/faults")" "blocked 0" ".sim/faults once released"
expect_write "$PF1/driver_override" "\n" 0

# --- kill PID N: SIGKILL right after the N-th write of that process ---
expect_write "$M/.sim/ctl" "kill 999999999 1" ENOENT
expect_write "$M/.sim/ctl" "kill $$ 0" EINVAL
bash -c 'while :; do printf "\n" > "$1"; done' _ "$PF1/driver_override" 2>/dev/null &
writer=$!
ctl kill $writer 3
status=0
{ wait $writer; } 2>/dev/null || status=$?
expect_eq "$status" 137 "the writer's exit status (SIGKILL)"
expect_eq "$(sed -n 's/^killed //p' "$M/.sim/faults")" 1 "kills done"
grep -q "^[0-9]* \.sim/killed \"$writer\" 0$" "$M/.sim/log" || fail "the kill is not in the log"

# --- the operation log ---
grep -q '^[0-9]* devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/sriov_numvfs "2" EIO$' "$M/.sim/log" ||
        fail "failed write missing from the log"
grep -q '^[0-9]* \.sim/ctl "fail bind \* EBUSY 2" 0$' "$M/.sim/log" || fail "ctl write missing from the log"
expect_eq "$(cat "$log")" "$(rd "$M/.sim/log")" "--log FILE and .sim/log"
expect_eq "$(wc -l < "$log")" "$(grep -c . "$log")" "one line per write"

# --- latency: two PFs in parallel take about as long as one ---
ctl latency vf_create 100
t0=$(now_ms)
expect_write "$PF0/sriov_numvfs" 4 0
expect_write "$PF1/sriov_numvfs" 4 0
serial=$(($(now_ms) - t0))
expect_write "$PF0/sriov_numvfs" 0 0
expect_write "$PF1/sriov_numvfs" 0 0
t0=$(now_ms)
sim-write "$PF0/sriov_numvfs" 4 > /dev/null &
a=$!
sim-write "$PF1/sriov_numvfs" 4 > /dev/null &
b=$!
wait $a || fail "a parallel write ended with status $?"
wait $b || fail "a parallel write ended with status $?"
parallel=$(($(now_ms) - t0))
echo "serial ${serial} ms, parallel ${parallel} ms"
[ "$serial" -ge 800 ] || fail "8 VFs at 100 ms each took only $serial ms"
[ $((parallel * 4)) -lt $((serial * 3)) ] || fail "two PFs did not work in parallel: $parallel ms vs $serial ms serial"
expect_eq "$(rd "$PF0/sriov_numvfs"):$(rd "$PF1/sriov_numvfs")" 4:4 "both enabled"
ctl latency vf_create 0
ctl latency probe 300
t0=$(now_ms)
expect_write "$M/bus/pci/drivers/iavf/unbind" 0000:3b:02.0 0
expect_write "$M/bus/pci/drivers/iavf/bind" 0000:3b:02.0 0
[ $(($(now_ms) - t0)) -ge 300 ] || fail "probe latency not applied"
ctl latency probe 0
sim_stop
exit 0
