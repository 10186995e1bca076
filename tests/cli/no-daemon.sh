#!/bin/bash
# sriovd not running, the bus unreachable, the bus going away under monitor:
# exit status 3 and a sentence that says what to do, for every verb.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
bus_start

VERBS=("list" "list --kind all" "show ens1f0" "enable ens1f0 2" "disable ens1f0" "bind 3b:02.0 vfio-pci"
       "unbind 3b:02.0" "restore 3b:02.0" "groups" "status" "monitor" "--json status" "set 3b:02.0 --trust on"
       "assign vm1 vms" "release vm1" "assignments" "pools" "pool-create p ens1f0#0" "pool-delete p" "apply"
       "apply --dry-run" "reload" "dma-check 3b:02.0" "owner 3b:02.0 --uid 0 --gid 0" "owner --reset 3b:02.0")

note "a bus without sriovd"
for args in "${VERBS[@]}"; do
        # shellcheck disable=SC2086
        expect 3 ": sriovd is not running" $args
        [[ "$ERR" == *'Hint: start it with "systemctl start sriovd"'* ]] || fail "sriovctl $args: no hint: $ERR"
        [ -z "$OUT" ] || fail "sriovctl $args printed on stdout: $OUT"
done
expect 3 "sriovctl: Cannot enable 2 VFs on ens1f0: sriovd is not running" enable ens1f0 2
expect 3 "sriovctl: Cannot list the devices: sriovd is not running" list
run as_nobody "$SRIOVCTL" unbind 3b:02.0
assert_eq "$RC" 3 "exit status for an unprivileged caller without sriovd"

note "no bus at all"
for args in "${VERBS[@]}"; do
        # shellcheck disable=SC2086
        DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/nothing-here" expect 3 \
                "Cannot connect to the system bus (unix:path=$T/nothing-here): No such file or directory" $args
done

note "sriovd goes away in the middle of a call"
sim_start x710.json
start_sriovd
expect_ok enable ens1f0 1
sim_ctl latency probe 5000
"$SRIOVCTL" bind ens1f0v0 vfio-pci >"$T/bind.out" 2>"$T/bind.err" &
client=$!
# the bind is under way once the override is written: its probe takes 5 s
VF0=$(vf_bdf 0000:3b:00.0 0)
override_written() { grep -q "/$VF0/driver_override \"vfio-pci\" 0\$" "$SIM_ROOT/.sim/log"; }
wait_for 10 override_written || fail "the bind did not start"
stop_sriovd KILL
rc=0
wait "$client" || rc=$?
assert_eq "$rc" 7 "exit status when sriovd vanished during the call"
grep -q "sriovctl: Cannot bind ens1f0v0 to vfio-pci: sriovd did not answer: " "$T/bind.err" \
        || fail "the sentence when sriovd vanished: $(cat "$T/bind.err")"
sim_ctl latency probe 0

note "the bus goes away under monitor"
start_sriovd
env --default-signal=INT "$SRIOVCTL" monitor >"$T/monitor.out" 2>"$T/monitor.err" &
mon=$!
wait_for 10 grep -q "^Monitoring sriovd" "$T/monitor.err" || fail "monitor did not start: $(cat "$T/monitor.err")"
stop_sriovd
kill "$BUS_PID"
rc=0
wait "$mon" || rc=$?
assert_eq "$rc" 3 "monitor's exit status when the bus goes away"
grep -q "the connection to the system bus was lost" "$T/monitor.err" || fail "monitor stderr: $(cat "$T/monitor.err")"
echo ok
