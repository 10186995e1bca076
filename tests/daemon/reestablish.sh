#!/bin/bash
# Assignments outlive what destroys their VFs: a reboot, a reload of the
# PF's driver, a hot-unplug and replug of the PF. After each, the guest's
# VF is set up again (same PF, same index, the guest's driver and
# settings) before sriovd says it is ready, or it is not-ready/broken with
# why; AssignmentChanged tells each step. The ledger's records of the old
# VFs never act on the new ones.
#
# With no declared configuration for the PF, sriovd creates as many VFs as
# the PF had when the guest got its VF; with one, the configuration does.
# After a reboot, a VF the configuration declares settings for has them
# again under the guest's own, and its release puts back the declared
# settings, not the ones the new VF came with.
# Also: Release puts the PF's link back down when Assign brought it up (and
# leaves it up, saying why, when the configuration has a rule for the PF),
# and a Release that a VFIO user would make the kernel wait on is refused
# and changes nothing.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"

PF=0000:3b:00.0
start_sim() { sim_start x710.json --uevents; }
# a reboot: the daemon stops, the host comes back as the firmware makes it
reboot_host() {
        daemon_stop
        sim_stop_all
        rm -f "$SIM_RTNL"
        start_sim
}
start_sim
cat > "$T/sriovd.conf" <<'CONF'
{ "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
bus_start
mkdir -p "$T/dev/vfio"
daemon_start --uevent-source udev --dev-root "$T/dev"

# guest's assignment: "VF STATE" (busctl's JSON)
assignment() {
        busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "" |
                jq -r --arg g "$1" '.data[0][] | select(.[0] == $g) | "\(.[1]) \(.[3])"'
}
assignment_is() { [ "$(assignment "$1")" = "$2" ]; }
link_up() { jq -e --arg n "$1" '[.devices[].netdevs[] | select(.name == $n) | .up] == [true]' "$SIM_ROOT/.sim/state" >/dev/null; }
ipvf() { with_sim_rtnl "$IP" link show dev ens1f0 | grep "vf $1 "; }
generation() { jq -r --arg pf "$PF" '.pfs[$pf].generation // 0' "$T/state/state.json"; }
# AssignmentChanged signals, one line each: "GUEST VF STATE"
watch_signals() {
        gdbus monitor --system --dest "$DEST" --object-path "$MGR" >"$T/signals" 2>&1 &
        HARNESS_PIDS+=($!)
        wait_for 10 grep -q "^Monitoring signals" "$T/signals" || fail "gdbus monitor did not start"
}
signalled() { grep -q "AssignmentChanged ('$1', '$2', '$3'" "$T/signals"; }

note "the VFs by hand; Assign brings the PF's link up, Release puts it back down"
gmgr SetNumVFs $PF "uint32 4" "{'autoprobe': <true>}" >/dev/null || fail "SetNumVFs 4"
link_up ens1f0 && fail "ens1f0 is up before the test"
out=$(gmgr Assign g1 p "{'vlan': <uint32 42>, 'mac': <'02:00:00:00:00:42'>}") || fail "assign g1: $out"
link_up ens1f0 || fail "Assign did not bring ens1f0 up (the VF's settings need it)"
gmgr Release g1 "" "{}" >/dev/null || fail "release g1"
link_up ens1f0 && fail "Release left ens1f0 up, as it was not before the assignment"

note "a Release the kernel would wait on is refused and changes nothing"
out=$(gmgr Assign g1 p "{'vlan': <uint32 42>, 'mac': <'02:00:00:00:00:42'>}") || fail "assign g1: $out"
read -r VF state < <(assignment g1)
assert_eq "$state" ready "the new assignment"
G=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$VF/iommu_group")")
: > "$T/dev/vfio/$G"
sim_ctl hold "$VF"
exec 7<"$T/dev/vfio/$G"
before=$(snapshot)
expect_error org.sriovd.Error.DeviceBusy gmgr Release g1 "" "{}"
[ "$(snapshot)" = "$before" ] || fail "the refused Release changed the host"
assert_eq "$(assignment g1)" "$VF ready" "the assignment after a refused Release"
ipvf "$(jq -r --arg v "$VF" '.devices[] | select(.bdf == $v) | .vf_index' "$SIM_ROOT/.sim/state")" | grep -q "vlan 42" ||
        fail "the refused Release took the guest's VLAN"
exec 7<&-
sim_ctl release "$VF"
gmgr Release g1 "" "{}" >/dev/null || fail "release once the VFIO user is gone"
out=$(gmgr Assign g1 p "{'vlan': <uint32 42>, 'mac': <'02:00:00:00:00:42'>}") || fail "assign g1: $out"
read -r VF state < <(assignment g1)
IDX=$(jq -r --arg v "$VF" '.devices[] | select(.bdf == $v) | .vf_index' "$SIM_ROOT/.sim/state")

note "a reboot: the VFs are made again (4, as when g1 got its VF), g1's VF set up before READY"
gen=$(generation)
reboot_host
assert_eq "$(sysattr $PF sriov_numvfs)" 0 "VFs after the reboot, before sriovd"
daemon_start --uevent-source udev --dev-root "$T/dev"
# daemon_start returns once State is "running": by then it must be done
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "VFs made again"
assert_eq "$(assignment g1)" "$VF ready" "g1 after the reboot"
assert_eq "$(driver_of "$VF")" vfio-pci "g1's VF driver after the reboot"
ipvf "$IDX" | grep -q "vlan 42" || fail "g1's VLAN after the reboot: $(ipvf "$IDX")"
ipvf "$IDX" | grep -qi "02:00:00:00:00:42" || fail "g1's MAC after the reboot: $(ipvf "$IDX")"
[ "$(generation)" -gt "$gen" ] || fail "the PF's generation did not move on: the records of the old VFs could act on new ones"
ctl_verify() { with_sim_rtnl "$SRIOVCTL" verify; }
ctl_verify >/dev/null || fail "verify after the reboot: $(ctl_verify 2>&1)"

note "the PF's driver reloaded: not-ready, then set up again"
watch_signals
sim_ctl rmmod i40e
wait_for 10 assignment_is g1 "$VF not-ready" || fail "g1 after the PF lost its driver: $(assignment g1)"
signalled g1 "$VF" not-ready || fail "no AssignmentChanged for not-ready: $(cat "$T/signals")"
sim_ctl modprobe i40e
wait_for 20 assignment_is g1 "$VF ready" || fail "g1 after the PF driver came back: $(assignment g1)"
wait_for 10 signalled g1 "$VF" ready || fail "no AssignmentChanged for ready: $(cat "$T/signals")"
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "VFs after the driver came back"
assert_eq "$(driver_of "$VF")" vfio-pci "g1's VF driver after the reload"
ipvf "$IDX" | grep -q "vlan 42" || fail "g1's VLAN after the reload: $(ipvf "$IDX")"

note "the PF unplugged and plugged back"
sim_ctl remove $PF
wait_for 10 assignment_is g1 "$VF not-ready" || fail "g1 with its PF gone: $(assignment g1)"
sim_ctl add $PF
wait_for 20 assignment_is g1 "$VF ready" || fail "g1 after the PF came back: $(assignment g1)"
assert_eq "$(driver_of "$VF")" vfio-pci "g1's VF driver after the replug"

note "fewer VFs than the guest's index: broken, with why"
gmgr SetNumVFs $PF "uint32 1" "{'force': <true>}" >/dev/null || fail "forced SetNumVFs 1"
wait_for 10 assignment_is g1 "$VF broken" || fail "g1 with its VF destroyed by a forced SetNumVFs: $(assignment g1)"
gmgr Release g1 "" "{}" >/dev/null || fail "a broken assignment is released"
[ -z "$(assignment g1)" ] || fail "g1 still listed after its release"

note "with the declared configuration, the configuration makes the VFs and sets their MAC and spoofchk"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 2, "autoprobe": true,
             "vfs": [ { "range": "0-1", "mac_base": "02:5d:00:00:00:10", "spoofchk": false } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
mgr Reload >/dev/null || fail "reload"
vf_index() { jq -r --arg v "$1" '.devices[] | select(.bdf == $v) | .vf_index' "$SIM_ROOT/.sim/state"; }
# declared: the VF's MAC (mac_base + index) and spoofchk off
declared() { ipvf "$1" | grep -qi "link/ether 02:5d:00:00:00:1$1 .*spoof checking off"; }

note "the PF has a rule: Release leaves its link up, though Assign brought it up, and says why"
with_sim_rtnl "$IP" link set dev ens1f0 down || fail "ens1f0 down by hand"
out=$(gmgr Assign g3 p "{'vlan': <uint32 7>}") || fail "assign g3: $out"
link_up ens1f0 || fail "Assign did not bring ens1f0 up"
gmgr Release g3 "" "{}" >/dev/null || fail "release g3"
link_up ens1f0 || fail "Release took ens1f0 down, though the configuration has a rule for it"
grep -q "ens1f0 stays up: the configuration has a rule for its PF" "$T/sriovd.log" ||
        fail "the log does not say why ens1f0 stays up: $(grep ens1f0 "$T/sriovd.log" | tail -n 5)"

note "a reboot with a declared VF assigned: its release puts back the declared settings, not the new VF's"
out=$(gmgr Assign g2 p "{'vlan': <uint32 7>, 'mac': <'02:00:00:00:07:01'>}") || fail "assign g2: $out"
read -r VF2 state < <(assignment g2)
IDX2=$(vf_index "$VF2")
declared "$IDX2" && fail "g2's VF kept the declared MAC: $(ipvf "$IDX2")"
reboot_host
daemon_start --uevent-source udev --dev-root "$T/dev"
assert_eq "$(sysattr $PF sriov_numvfs)" 2 "VFs as declared after the reboot"
assert_eq "$(assignment g2)" "$VF2 ready" "g2 after the reboot"
assert_eq "$(driver_of "$VF2")" vfio-pci "g2's VF driver after the reboot"
ipvf "$IDX2" | grep -qi "link/ether 02:00:00:00:07:01" || fail "g2's MAC after the reboot: $(ipvf "$IDX2")"
# what the guest's VF had before the reboot: the declared spoofchk off under the guest's own MAC and VLAN
ipvf "$IDX2" | grep -q "vlan 7, .*spoof checking off" || fail "g2's VF after the reboot, as before it: $(ipvf "$IDX2")"
gmgr Release g2 "" "{}" >/dev/null || fail "release g2"
assert_eq "$(driver_of "$VF2")" iavf "g2's VF after its release"
declared "$IDX2" || fail "g2's VF after its release lacks the declared MAC and spoofchk off: $(ipvf "$IDX2")"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "a dry run after the release (the VF as declared)"

note "a reboot with a VF the configuration binds to vfio-pci assigned: its release puts back the declared driver"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 2, "autoprobe": true,
             "vfs": [ { "range": "0-1", "driver": "vfio-pci" } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
mgr Reload >/dev/null || fail "reload"
wait_for 10 eval '[ "$(driver_of "$VF2")" = vfio-pci ]' || fail "the declared driver: $(driver_of "$VF2")"
out=$(gmgr Assign g4 p "{}") || fail "assign g4: $out"
read -r VF4 state < <(assignment g4)
reboot_host
daemon_start --uevent-source udev --dev-root "$T/dev"
assert_eq "$(assignment g4)" "$VF4 ready" "g4 after the reboot"
gmgr Release g4 "" "{}" >/dev/null || fail "release g4"
# the new VF came up on iavf (autoprobe) while the configuration left it to
# the guest: the declared vfio-pci is what it would have had
assert_eq "$(driver_of "$VF4")" vfio-pci "g4's VF after its release"
assert_eq "$(sysattr "$VF4" driver_override)" vfio-pci "g4's VF override after its release"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "a dry run after the release (the VF as declared)"
echo ok
