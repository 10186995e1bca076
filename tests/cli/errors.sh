#!/bin/bash
# Every error the daemon can answer, as sriovctl says it: the exit status of
# sriovctl(8), a sentence with what was being done and the daemon's reason,
# a hint where one helps, and a host that a refused call left alone.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json --timeout 1

PF=0000:3b:00.0
BRIDGE=0000:3a:00.0

# refused STATUS PATTERN ARGS...: expect, and the simulated host is unchanged
refused() {
        local before
        before=$(snapshot)
        expect "$@"
        [ "$before" = "$(snapshot)" ] || fail "sriovctl ${*:3} was refused but changed the host"
        [ -z "$OUT" ] || fail "sriovctl ${*:3} failed but printed on stdout: $OUT"
}

note "malformed addresses, driver names and path tricks: refused before any call (2)"
for bad in 0000:3b:00.8 0000:3b:20.0 ../0000:3b:00.0 "0000:3b:00.0/../../x" /sys/bus/pci/devices/0000:3b:00.0 \
           ../../../etc/passwd "a-very-long-interface-name" "0000:3b:00.0 " ""; do
        not_dev="\"$bad\" is neither a PCI address (DDDD:BB:DD.F or BB:DD.F) nor the name of a network interface."
        refused 2 "show: DEV $not_dev" show "$bad"
        refused 2 "enable: PF $not_dev" enable "$bad" 2
        refused 2 "bind: DEV $not_dev" bind "$bad" vfio-pci
        refused 2 "set: VF $not_dev" set "$bad" --trust on
        refused 2 "release: VF $not_dev" release vm1 "$bad"
done
for drv in .. ../vfio-pci vfio/pci "vfio pci" ""; do
        refused 2 "bind: invalid driver name \"$drv\": 1 to 63 letters, digits, '_', '.' or '-'." bind $PF "$drv"
done

note "the same names straight to sriovd: invalid argument (6)"
gmgr_fails() { local out; out=$(gmgr "$@" 2>&1) && fail "sriovd took $*: $out"; echo "$out"; }
[[ "$(gmgr_fails GetDevice ../0000:3b:00.0)" == *"org.sriovd.Error.InvalidArgument: Invalid device"* ]] ||
        fail "GetDevice of a path"
[[ "$(gmgr_fails Bind "$PF" "vfio/pci" "{}")" == *"org.sriovd.Error.InvalidArgument: Invalid driver name"* ]] ||
        fail "Bind to a path"

note "no such device (5), with a hint"
refused 5 "Cannot show 0000:99:00.0: No PCI function 0000:99:00.0" show 0000:99:00.0
[[ "$ERR" == *'Hint: "sriovctl list --kind all" shows every PCI function'* ]] || fail "no hint: $ERR"
refused 5 "No PCI function 0000:99:00.0" enable 99:00.0 1
refused 5 "No PCI function has network interface nosuchif0" restore nosuchif0
refused 5 "No PCI function has network interface eth7" unbind eth7

note "counts beyond sriov_totalvfs (6)"
refused 6 "Cannot enable 65 VFs on $PF: 65 VFs exceed the 64 that $PF supports" enable $PF 65
refused 6 "4294967295 VFs exceed the 64" enable ens1f0 4294967295

note "not an SR-IOV PF (6)"
refused 6 "Cannot enable 1 VFs on $BRIDGE: $BRIDGE is not an SR-IOV physical function" enable $BRIDGE 1
[[ "$ERR" == *'"sriovctl list --kind pf" shows the SR-IOV physical functions'* ]] || fail "no hint: $ERR"
refused 6 "Cannot disable the VFs of 0000:00:00.0: 0000:00:00.0 is not an SR-IOV physical function" \
        disable 0000:00:00.0
refused 6 "$BRIDGE is a PCI bridge" bind $BRIDGE vfio-pci

note "a driver that does not exist (1)"
refused 1 "Cannot bind $PF to nosuchdriver:" bind $PF nosuchdriver
[[ "$ERR" == *"Hint: load the driver's kernel module"* ]] || fail "no hint: $ERR"

expect_ok enable $PF 2 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
refused 6 "$VF0 is not an SR-IOV physical function" enable "$VF0" 1

note "the kernel says busy (7): the binding stays"
sim_ctl fail unbind "$VF0" EBUSY 1
refused 7 "Cannot bind $VF0 to vfio-pci:" bind "$VF0" vfio-pci
assert_eq "$(simdev "$VF0" driver)" iavf "driver after a busy unbind"

note "a probe that fails (1) is rolled back"
sim_ctl fail probe "$VF0" ENODEV 1
expect 1 "Cannot bind $VF0 to vfio-pci:" bind "$VF0" vfio-pci
[[ "$ERR" == *"Hint: the kernel log"* ]] || fail "no hint: $ERR"
assert_eq "$(simdev "$VF0" driver)" iavf "driver after the rollback"
assert_eq "$(simdev "$VF0" driver_override)" None "override after the rollback"

note "VFs assigned to a guest: the PF refuses (7)"
sim_ctl assign "$VF1"
expect 7 "Cannot disable the VFs of $PF:" disable $PF
[[ "$ERR" == *"Hint: detach the VFs from their guests first"* ]] || fail "no hint: $ERR"
assert_eq "$(sysattr $PF sriov_numvfs)" 2 "VFs still enabled"
sim_ctl unassign "$VF1"

note "a VFIO user holds the VF: timeout (7), pending in status, then finished"
expect_ok bind "$VF1" vfio-pci
sim_ctl hold "$VF1"
expect 7 "Cannot restore the driver of $VF1:" restore "$VF1"
[[ "$ERR" == *'"sriovctl status" shows what is pending'* ]] || fail "no hint: $ERR"
expect_ok status
grep -q "^Devices with a pending operation:$" <<<"$OUT" || fail "status lacks the pending table: $OUT"
read -r -a f <<<"$(row "  $VF1")"
assert_eq "${f[0]} ${f[1]}" "$VF1 vf" "status: the pending device"
[[ "$(row "  $VF1")" == *"Unbinding $VF1"* ]] || fail "status: the pending operation is not named: $OUT"
# the daemon shows the operation on the VF, and on the PF whose lane it blocks
expect_ok --json status
assert_eq "$(jq_out "'$VF1' in [x['address'] for x in d['pending']]")" True "status --json: pending"
assert_eq "$(jq_out "[x['address'] for x in d['pending'] if x['address'] not in ('$VF1', '$PF')]")" "[]" \
        "status --json: nothing else pending"
n=$(jq_out "len(d['pending'])")
expect_ok status
assert_eq "$(field Pending)" "$n devices" "status: pending count"
expect_ok show "$VF1"
[ "$(field Pending)" != - ] || fail "show: Pending empty while the kernel works"
refused 7 "Cannot bind $VF0 to vfio-pci:" bind "$VF0" vfio-pci
sim_ctl release "$VF1"
wait_for 10 driver_is "$VF1" iavf || fail "the pending restore was not finished"
wait_for 10 eval '[ "$("$SRIOVCTL" status | sed -n "s/^ *Pending: //p")" = "0 devices" ]' \
        || fail "status still shows a pending operation"

note "sriovctl's own --timeout (7)"
sim_ctl latency probe 3000
expect 7 "Cannot bind $VF0 to vfio-pci: sriovd did not answer in time" --timeout 0.5 bind "$VF0" vfio-pci
[[ "$ERR" == *"raise --timeout"* ]] || fail "no hint: $ERR"
wait_for 10 driver_is "$VF0" vfio-pci || fail "the bind did not complete in the daemon"
sim_ctl latency probe 0
note "output that cannot be written: a read fails and says why (1); a change made stays made (0)"
for fmt in "" --json; do
        rc=0
        "$SRIOVCTL" $fmt list >/dev/full 2>"$T/err" || rc=$?
        [ "$rc" = 1 ] || fail "sriovctl $fmt list >/dev/full: exit $rc, not 1"
        grep -q "No space left on device" "$T/err" || fail "sriovctl $fmt list >/dev/full: $(cat "$T/err")"
done
PF1=0000:3b:00.1
rc=0
"$SRIOVCTL" enable $PF1 2 >&- 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || fail "sriovctl enable with stdout closed: exit $rc although the change was made: $(cat "$T/err")"
grep -q "The change was made, but its report could not be written" "$T/err" || fail "no warning: $(cat "$T/err")"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 2 "the VFs enabled with stdout closed"
echo ok
