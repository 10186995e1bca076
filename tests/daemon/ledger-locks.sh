#!/bin/bash
# Assigned means locked, and the ledger says who holds what:
#   - Bind, Unbind, RestoreDriver, SetNumVFs, SetVFConfig and
#     SetDeviceOwner refuse a guest's VF (VFsAssigned, sriovctl exit 7)
#     and change nothing; forced, the device changes and the assignment is
#     broken (AssignmentChanged says so, with why), and Release still
#     gives the VF back;
#   - Verify: nothing to say on a host that matches the ledger (exit 0);
#     a VLAN, a driver or a node owner changed behind sriovd's back is
#     named (exit 12);
#   - leases: ListAssignments(owner) lists one holder's, Reconcile(owner,
#     live guests) releases that holder's others (dry run: only says so),
#     never another holder's;
#   - a binding recorded for a VF that was destroyed and made again is
#     forgotten: RestoreDriver never acts on the new VF with the old one's
#     record;
#   - tenants: a released VF is reset; one whose reset fails is quarantined
#     (no pool hands it out, pools and list say so) until an administrator
#     clears it; a configuration pool's "reset" policy is read and checked.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"

PF0=0000:3b:00.0
PF1=0000:3b:00.1
sim_start x710.json
sim_ctl netdev ens1f0 up
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
bus_start
mkdir -p "$T/dev/vfio"
daemon_start --uevent-source none --dev-root "$T/dev"

ctl() { with_sim_rtnl "$SRIOVCTL" "$@"; }
expect_exit() {
        local want=$1 rc=0; shift
        "$@" >"$T/out" 2>&1 || rc=$?
        [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat "$T/out")"
}
# guest -> "VF STATE REASON" (of one owner, or all)
assignments() {
        busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "${1:-}" |
                jq -r '[.data[0][] | .[0]] | sort | join(" ")'
}
assignment() {
        busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "" |
                jq -r --arg g "$1" '.data[0][] | select(.[0] == $g) | "\(.[1]) \(.[3]) \(.[4].reason.data)"'
}
vf_index_of() { jq -r --arg v "$1" '.devices[] | select(.bdf == $v) | .vf_index' "$SIM_ROOT/.sim/state"; }
differences() {
        busctl --system --json=short call "$DEST" "$MGR" "$IFACE" Verify | jq -r '[.data[0][] | "\(.[0]) \(.[2])"] | join(", ")'
}
mknode() {
        local g
        g=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$1/iommu_group")")
        [ -e "$T/dev/vfio/$g" ] || { : > "$T/dev/vfio/$g"; chmod 600 "$T/dev/vfio/$g"; }
        echo "$T/dev/vfio/$g"
}
for i in 0 1 2 3; do mknode "$(vf_bdf $PF0 $i)" >/dev/null; done

note "a guest's VF is locked"
out=$(gmgr Assign g1 p "{'vlan': <uint32 5>, 'owner': <'k8s'>, 'uid': <uint32 4242>, 'gid': <uint32 4242>}") || fail "assign g1: $out"
read -r VF _ < <(assignment g1)
IDX=$(vf_index_of "$VF")
before=$(snapshot)
expect_error org.sriovd.Error.VFsAssigned gmgr Bind "$VF" iavf "{}"
expect_error org.sriovd.Error.VFsAssigned gmgr Unbind "$VF" "{}"
expect_error org.sriovd.Error.VFsAssigned gmgr RestoreDriver "$VF"
expect_error org.sriovd.Error.VFsAssigned gmgr SetNumVFs $PF0 "uint32 2" "{}"
expect_error org.sriovd.Error.VFsAssigned gmgr SetVFConfig "$VF" "{'vlan': <uint32 9>}" "{}"
expect_error org.sriovd.Error.VFsAssigned gmgr SetDeviceOwner "$VF" "uint32 0" "uint32 0"
expect_exit 7 ctl unbind "$VF"
grep -q "assigned to guest g1" "$T/out" || fail "sriovctl did not say who holds it: $(cat "$T/out")"
expect_exit 7 ctl restore "$VF"
expect_exit 7 ctl disable $PF0
[ "$(snapshot)" = "$before" ] || fail "a refused call on an assigned VF changed the host"
assert_eq "$(assignment g1)" "$VF ready " "g1 after the refusals"

note "verify: a host that matches the ledger"
ctl verify >/dev/null || fail "verify on a matching host: $(ctl verify 2>&1)"
assert_eq "$(differences)" "" "Verify on a matching host"

note "verify: changes made behind sriovd's back"
with_sim_rtnl "$IP" link set dev ens1f0 vf "$IDX" vlan 99
expect_exit 12 ctl verify
grep -q "$VF" "$T/out" || fail "verify did not name $VF: $(cat "$T/out")"
assert_eq "$(differences)" "$VF settings" "Verify after a VLAN changed by hand"
with_sim_rtnl "$IP" link set dev ens1f0 vf "$IDX" vlan 5
node=$(mknode "$VF")
chown 0:0 "$node"
assert_eq "$(differences)" "$node node-owner" "Verify after a node's owner changed by hand"
chown 4242:4242 "$node"
assert_eq "$(differences)" "" "Verify once put back"
ctl --json verify >"$T/verify.json" || fail "verify --json"
jq -e '.differences == []' "$T/verify.json" >/dev/null || fail "verify --json: $(cat "$T/verify.json")"

note "forced: the device changes and the assignment is broken"
gdbus monitor --system --dest "$DEST" --object-path "$MGR" >"$T/signals" 2>&1 &
HARNESS_PIDS+=($!)
wait_for 10 grep -q "^Monitoring signals" "$T/signals" || fail "gdbus monitor did not start"
gmgr Unbind "$VF" "{'force': <true>}" >/dev/null || fail "forced Unbind"
assert_eq "$(driver_of "$VF")" none "the VF after a forced Unbind"
read -r _ state reason < <(assignment g1)
assert_eq "$state" broken "g1 after a forced Unbind"
case $reason in *Unbind*) ;; *) fail "no why for the broken assignment: $reason";; esac
wait_for 10 grep -q "AssignmentChanged ('g1', '$VF', 'broken'" "$T/signals" || fail "no AssignmentChanged: $(cat "$T/signals")"
expect_exit 12 ctl verify
grep -q broken "$T/out" || fail "verify did not report the broken assignment: $(cat "$T/out")"
gmgr Release g1 "" "{}" >/dev/null || fail "release of a broken assignment"
assert_eq "$(driver_of "$VF")" iavf "the VF after the release of a broken assignment"
wait_for 10 grep -q "AssignmentChanged ('g1', '$VF', 'released'" "$T/signals" || fail "no AssignmentChanged for the release"
assert_eq "$(assignments)" "" "assignments after the release"

note "leases: one holder's assignments, and Reconcile"
for g in a b c; do gmgr Assign "$g" p "{'owner': <'k8s'>}" >/dev/null || fail "assign $g"; done
gmgr Assign other p "{'owner': <'openstack'>}" >/dev/null || fail "assign other"
assert_eq "$(assignments k8s)" "a b c" "ListAssignments(k8s)"
assert_eq "$(assignments openstack)" "other" "ListAssignments(openstack)"
ctl assignments --owner k8s >"$T/out" || fail "sriovctl assignments --owner"
grep -q other "$T/out" && fail "sriovctl assignments --owner k8s lists openstack's: $(cat "$T/out")"
before=$(snapshot)
out=$(busctl --system --json=short call "$DEST" "$MGR" "$IFACE" Reconcile 'sasa{sv}' k8s 1 a 1 dry_run b true |
        jq -r '[.data[0][] | .[0]] | sort | join(" ")')
assert_eq "$out" "b c" "what a dry run of Reconcile(k8s, [a]) would release"
[ "$(snapshot)" = "$before" ] || fail "a dry run changed the host"
assert_eq "$(assignments)" "a b c other" "assignments after a dry run"
ctl reconcile k8s a --dry-run >"$T/out" || fail "sriovctl reconcile --dry-run"
grep -q "would be released" "$T/out" || fail "sriovctl reconcile --dry-run: $(cat "$T/out")"
ctl reconcile k8s a >"$T/out" || fail "sriovctl reconcile: $(cat "$T/out")"
assert_eq "$(assignments)" "a other" "assignments after Reconcile(k8s, [a])"
expect_error org.sriovd.Error.InvalidArgument gmgr Reconcile "bad owner!" "['a']" "{}"
assert_eq "$(assignments)" "a other" "assignments after a refused Reconcile"
for g in a other; do gmgr Release "$g" "" "{}" >/dev/null || fail "release $g"; done

note "a VF whose reset fails is quarantined until an administrator clears it"
out=$(gmgr Assign q p "{}") || fail "assign q: $out"
read -r QVF _ < <(assignment q)
sim_ctl fail reset "$QVF" EIO 1
gmgr Release q "" "{}" >/dev/null || fail "the release of q (its reset fails: the release itself succeeds)"
[ "$(jq -r --arg v "$QVF" '[.quarantine[]? | select(.vf == $v)] | length' "$T/state/state.json")" = 1 ] ||
        fail "$QVF is not quarantined: $(cat "$T/state/state.json")"
[ "$(busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListPools | jq -r '.data[0][0][2].quarantined.data')" = 1 ] ||
        fail "ListPools does not count the quarantined VF"
ctl list >"$T/out" || fail "sriovctl list"
grep "$QVF" "$T/out" | grep -qi quarantin || fail "sriovctl list does not show the quarantine: $(grep "$QVF" "$T/out")"
for g in q1 q2 q3; do gmgr Assign "$g" p "{}" >/dev/null || fail "assign $g"; done
expect_error org.sriovd.Error.PoolExhausted gmgr Assign q4 p "{}"
# the refusal says what holds the pool's VFs: the quarantined one is not assigned
expect_error "Pool p is exhausted: of its 4 VFs, 3 assigned, 1 quarantined (their reset between guests failed)" \
        gmgr Assign q4 p "{}"
assignments | grep -q "$QVF" && fail "a quarantined VF was handed out"
busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "" | jq -e --arg v "$QVF" '[.data[0][] | select(.[1] == $v)] == []' >/dev/null ||
        fail "the quarantined VF was assigned"
other=$(vf_bdf $PF0 3); [ "$other" != "$QVF" ] || other=$(vf_bdf $PF0 2)
expect_exit 5 ctl unquarantine "$other"
grep -q "not quarantined" "$T/out" || fail "unquarantine of a VF that is not: $(cat "$T/out")"
[ "$(prop "$(devpath "$QVF")" org.sriovd.VF1 Quarantine)" != "" ] || fail "the VF's Quarantine property is empty"
ctl unquarantine "$QVF" >/dev/null || fail "sriovctl unquarantine"
assert_eq "$(prop "$(devpath "$QVF")" org.sriovd.VF1 Quarantine)" "" "the Quarantine property once cleared"
out=$(gmgr Assign q4 p "{}") || fail "assign q4 once the VF is cleared: $out"
assert_eq "$(prop "$(devpath "$QVF")" org.sriovd.VF1 Guest)" q4 "the VF's Guest property"
case $out in *"'$QVF'"*) ;; *) fail "q4 did not get the cleared VF: $out";; esac
for g in q1 q2 q3 q4; do gmgr Release "$g" "" "{}" >/dev/null || fail "release $g"; done

note "a configuration pool's reset policy"
cat > "$T/bad.conf" <<'CONF'
{ "pools": [ { "name": "n", "select": [ "ens1f0" ], "reset": "sometimes" } ] }
CONF
expect_exit 1 "$SRIOVD" --check-config --config "$T/bad.conf" --config-dir "$T/none"
grep -q 'bad.conf:1:.*invalid reset policy "sometimes"' "$T/out" || fail "no position for the bad reset policy: $(cat "$T/out")"
cat > "$T/good.conf" <<'CONF'
{ "pools": [ { "name": "n", "select": [ "ens1f0" ], "reset": "never" } ] }
CONF
"$SRIOVD" --check-config --config "$T/good.conf" --config-dir "$T/none" >"$T/out" 2>&1 || fail "reset never: $(cat "$T/out")"
cp "$T/sriovd.conf" "$T/saved.conf"
jq '.pools[0].reset = "never"' "$T/saved.conf" > "$T/sriovd.conf"
mgr Reload >/dev/null || fail "reload with reset never"
[ "$(busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListPools | jq -r '.data[0][0][2].reset.data')" = never ] ||
        fail "ListPools does not show the configured reset policy"
cp "$T/saved.conf" "$T/sriovd.conf"
mgr Reload >/dev/null || fail "reload back"

note "a VF made again is a new VF: the old one's binding record is forgotten"
# the old VF had no driver (no autoprobe): its record says "none"; the new
# one is on iavf, where RestoreDriver without a record leaves it
gmgr SetNumVFs $PF1 "uint32 2" "{'autoprobe': <false>}" >/dev/null || fail "SetNumVFs PF1 2"
W=$(vf_bdf $PF1 0)
assert_eq "$(driver_of "$W")" none "PF1's VF 0 without autoprobe"
gmgr Bind "$W" vfio-pci "{}" >/dev/null || fail "bind PF1's VF 0"
[ "$(jq -r --arg v "$W" '.devices[$v] | has("pf") and .prior_driver == null' "$T/state/state.json")" = true ] ||
        fail "the bind was not recorded as from no driver: $(jq -c --arg v "$W" '.devices[$v]' "$T/state/state.json")"
gmgr SetNumVFs $PF1 "uint32 0" "{'force': <true>}" >/dev/null || fail "SetNumVFs PF1 0"
gmgr SetNumVFs $PF1 "uint32 2" "{'autoprobe': <true>}" >/dev/null || fail "SetNumVFs PF1 2 again"
assert_eq "$(vf_bdf $PF1 0)" "$W" "the new VF 0's address"
[ "$(jq -r --arg v "$W" '.devices[$v] // "none"' "$T/state/state.json")" = none ] || fail "the old VF's record outlived it"
assert_eq "$(driver_of "$W")" iavf "the new VF (autoprobe)"
gmgr RestoreDriver "$W" >/dev/null || fail "RestoreDriver of the new VF"
assert_eq "$(driver_of "$W")" iavf "the new VF after RestoreDriver (the old VF's record would have unbound it)"
echo ok
