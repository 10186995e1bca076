#!/bin/bash
# A VF count change the configuration makes is read once: the apply reads
# the family after the change (for its next round's plan, and for the
# model), and that read covers the uevents the change sent, so the
# refreshes they ask for do not read the PF again ("Re-read PF" in the
# log: none). Nor do the events of the VFs an apply binds, while its jobs
# still run: their read-backs cover them. A change made by hand afterwards
# is still read.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json --uevents
mkdir -p "$T/conf.d"
PF=0000:3b:00.0
printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": 0 } ] }\n' "$PF" >"$T/sriovd.conf"
bus_start
daemon_start --uevent-source udev --coalesce-ms 100

rereads() { grep -c "^Re-read $PF\$" "$T/sriovd.log" || :; }
# sync: a driver bound by hand to VF N after the change; its uevent comes
# after the change's, and its refresh runs in the PF's lane after theirs
bound_by_hand() {
        local vf
        vf=$(vf_bdf $PF "$1")
        echo iavf >"$SIM_ROOT/bus/pci/devices/$vf/driver_override"
        [ -e "$SIM_ROOT/bus/pci/devices/$vf/driver" ] && echo "$vf" >"$SIM_ROOT/bus/pci/devices/$vf/driver/unbind"
        echo "$vf" >"$SIM_ROOT/bus/pci/drivers_probe"
        wait_for 10 prop_is "$(devpath "$vf")" org.sriovd.Device1 Driver iavf || fail "the bind of $vf by hand went unnoticed"
}

for n in 8 16; do
        note "the configuration makes $n VFs"
        before=$(rereads)
        printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": false } ] }\n' "$PF" "$n" >"$T/sriovd.conf"
        out=$("$top_builddir/sriovctl" reload)
        grep -q "numvfs .* done" <<<"$out" || fail "reload did not change the VF count: $out"
        assert_eq "$(prop "$(devpath $PF)" org.sriovd.PF1 NumVFs)" "$n" "NumVFs right after the reload"
        bound_by_hand $((n - 1))
        assert_eq "$(( $(rereads) - before ))" 0 "re-reads of $PF after the reload made $n VFs"
done

note "the configuration binds 16 VFs, each probe 100 ms: windows of events close while its jobs run"
sim_ctl latency probe 100
before=$(rereads)
printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": 16, "autoprobe": false, "vfs": [ { "range": "0-13", "driver": "vfio-pci" } ] } ] }\n' "$PF" >"$T/sriovd.conf"
out=$("$top_builddir/sriovctl" reload)
[ "$(grep -c "driver .* done" <<<"$out")" = 14 ] || fail "reload did not bind 14 VFs: $out"
sim_ctl latency probe 0
bound_by_hand 15
assert_eq "$(( $(rereads) - before ))" 0 "re-reads of $PF beside the reload's binds (their own read-backs cover their events)"

note "a VF count changed by hand is read"
before=$(rereads)
echo 0 >"$SIM_ROOT/bus/pci/devices/$PF/sriov_numvfs"
wait_for 10 prop_is "$(devpath $PF)" org.sriovd.PF1 NumVFs 0 || fail "the daemon did not notice 0 VFs"
[ "$(( $(rereads) - before ))" -ge 1 ] || fail "the change by hand was not read"
echo ok
