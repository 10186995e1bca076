#!/bin/bash
# Assigning VFs to guests: pools from the configuration and at run time,
# idempotence, exclusivity, exhaustion, release putting back the driver, the
# QEMU arguments a VMM needs, persistence across a restart, and bad input.
# The libvirt XML (the same strings ListAssignments returns) is validated
# with libvirt's own validator in tests/cli/libvirt-xml.sh, a test of its
# own that skips, saying so, without virt-xml-validate.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 6, "autoprobe": true } ],
  "pools": [ { "name": "vms", "select": [ "ens1f0#0-3" ] } ] }
CONF
bus_start
daemon_start --uevent-source none

PF=0000:3b:00.0
ga() { gmgr Assign "$@"; }
# field OUT KEY: a string value out of gdbus's a{sv} printout
field() { python3 -c "import re,sys; m=re.search(r\"'\" + sys.argv[2] + r\"': <(?:'([^']*)'|(-?\\d+))>\", sys.argv[1]); print(m.group(1) if m and m.group(1) is not None else (m.group(2) if m else ''))" "$1" "$2"; }

note "assign from a pool: the lowest free VF, bound to vfio-pci"
out=$(ga guest1 vms '{}') || fail "Assign failed: $out"
VF0=$(vf_bdf $PF 0)
assert_eq "$(field "$out" vf)" "$VF0" "assigned VF"
assert_eq "$(field "$out" pool)" vms "pool"
assert_eq "$(driver_of "$VF0")" vfio-pci "driver of the assigned VF"
assert_eq "$(field "$out" iommu_group)" "$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$VF0/iommu_group")")" "group"
case "$out" in *"vfio-pci,host=$VF0,id=sriovd-0000-3b-02.0"*) ;; *) fail "no QEMU arguments: $out";; esac
assert_eq "$(json_get "$T/state/state.json" "[a['phase'] for a in d['assignments'] if a['vf']=='$VF0'][0]")" done "state"

note "idempotent for the guest that holds it; refused to any other"
out2=$(ga guest1 "$VF0" '{}') || fail "repeated Assign failed: $out2"
assert_eq "$(field "$out2" vf)" "$VF0" "repeated Assign"
expect_error org.sriovd.Error.DeviceBusy ga guest2 "$VF0" '{}'
expect_error "assigned to guest guest1" ga guest2 "$VF0" '{}'

note "a pool token makes a retried pool request idempotent"
out=$(ga guest2 vms "{'token': <'req-42'>}") || fail "$out"
VF1=$(field "$out" vf)
out=$(ga guest2 vms "{'token': <'req-42'>}") || fail "$out"
assert_eq "$(field "$out" vf)" "$VF1" "same token, same VF"

note "exhaustion is a clear error"
ga guest3 vms '{}' >/dev/null || fail "third"
ga guest4 vms '{}' >/dev/null || fail "fourth"
expect_error "Pool vms is exhausted: all 4 VFs are assigned" ga guest5 vms '{}'
expect_error org.sriovd.Error.PoolExhausted ga guest5 vms '{}'
n=$(mgr ListAssignments s "" | awk '{print $2}')
assert_eq "$n" 4 "assignments listed"

note "release puts the driver back, and the VF returns to the pool"
assert_eq "$(driver_of "$VF0")" vfio-pci
assert_eq "$(mgr Release 'ssa{sv}' guest1 "" 0)" "as 1 \"$VF0\"" "Release"
assert_eq "$(driver_of "$VF0")" iavf "driver after release"
assert_eq "$(json_get "$T/state/state.json" "len([a for a in d['assignments'] if a['guest']=='guest1'])")" 0 "state after release"
out=$(ga guest5 vms '{}') || fail "$out"
assert_eq "$(field "$out" vf)" "$VF0" "the released VF is assigned again"
expect_error org.sriovd.Error.NotFound gmgr Release guest1 "" '{}'

note "assignments survive a restart"
before=$(mgr ListAssignments s "")
daemon_stop
daemon_start --uevent-source none
assert_eq "$(mgr ListAssignments s "")" "$before" "assignments after the restart"

note "run-time pools"
gmgr CreatePool spare "['ens1f0#4-5']" "{'driver': <'vfio-pci'>}" >/dev/null || fail "CreatePool failed"
expect_error org.sriovd.Error.InvalidArgument gmgr CreatePool bad "['ens1f0#x']" '{}'
expect_error org.sriovd.Error.InvalidArgument gmgr CreatePool spare2 "['numa:1']" "{'uid': <uint32 5>}"
expect_error "exists" gmgr CreatePool spare "['ens1f0#4']" '{}'
out=$(ga guest6 spare '{}') || fail "$out"
assert_eq "$(field "$out" vf)" "$(vf_bdf $PF 4)" "VF from the run-time pool"
expect_error org.sriovd.Error.DeviceBusy gmgr DeletePool spare
mgr Release 'ssa{sv}' guest6 "" 0 >/dev/null
gmgr DeletePool spare >/dev/null || fail "DeletePool failed"
expect_error "comes from the configuration" gmgr DeletePool vms
expect_error org.sriovd.Error.ReadOnly gmgr DeletePool vms
expect_error org.sriovd.Error.NotFound gmgr DeletePool nosuchpool

note "bad input changes nothing"
before=$(snapshot)
for g in "" "../x" "a b" "-leading" "$(printf 'a%.0s' $(seq 65))" "x/y" "é"; do
        expect_error org.sriovd.Error.InvalidArgument ga "$g" vms '{}'
done
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'mac': <'01:00:00:00:00:01'>}"
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'vlan': <uint32 4095>}"
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'qos': <uint32 3>}"
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'numa_policy': <'required'>}"
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'uid': <uint32 5>}"
expect_error org.sriovd.Error.InvalidArgument ga guest9 vms "{'bogus': <true>}"
expect_error org.sriovd.Error.NotFound ga guest9 nosuchpool '{}'
expect_error 'No pool or VF named "nosuchpool"' ga guest9 nosuchpool '{}'
expect_error org.sriovd.Error.InvalidArgument ga guest9 $PF '{}'
expect_error org.sriovd.Error.AccessDenied as_nobody gdbus call --system --dest $DEST --object-path $MGR \
        --method $IFACE.Assign guest9 vms '{}'
[ "$before" = "$(snapshot)" ] || fail "refused calls changed the host"
echo ok
