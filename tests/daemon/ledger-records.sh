#!/bin/bash
# Records no call of the API could have made are set aside at start, never
# acted on: the state file is a ledger of what sriovd did, and recovery
# checks each record against the host as the API would have.
#   - a binding record for a bridge (the root port) that "was on vfio-pci";
#   - a binding record naming another PF than the VF's own;
#   - an assignment, half made, whose "VF" is a PF (its roll back would
#     unbind the PF);
#   - an assignment recorded for VF index 0 at the address of VF 1;
#   - a binding record of the PF itself saying it was on vfio-pci, under
#     way: putting it back is a Bind to vfio-pci, which the API refuses
#     while the PF has VFs and its interface is up.
# Each time: sriovd starts and serves, the log names the record, the host
# is exactly as before, and the record is no longer in the state file.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"

PF0=0000:3b:00.0
PF1=0000:3b:00.1
ROOT=0000:3a:00.0
sim_start x710.json
sim_ctl netdev ens1f0 up
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-1" ] } ] }
CONF
bus_start
daemon_start --uevent-source none
VF0=$(vf_bdf $PF0 0)
VF1=$(vf_bdf $PF0 1)
VF3=$(vf_bdf $PF0 3)
gmgr Assign g1 p "{}" >/dev/null || fail "assign g1"
gmgr Bind "$VF3" vfio-pci "{}" >/dev/null || fail "bind VF 3"
daemon_stop
cp "$T/state/state.json" "$T/good.json"
host() { jq -S 'del(.devices[].netdevs[].ifindex) | del(.devices[].vf_config.mac_admin)' "$SIM_ROOT/.sim/state"; }
HOST=$(host)

# hostile NAME JQ-PROGRAM LOG-LINE JQ-TEST: the good state edited by the
# program; sriovd must say LOG-LINE, leave the host alone, and JQ-TEST
# must hold for the state file it leaves
hostile() {
        local name=$1 edit=$2 line=$3 test=$4
        jq "$edit" "$T/good.json" > "$T/state/state.json" || fail "$name: the edit"
        : > "$T/sriovd.log"
        daemon_start --uevent-source none
        grep -q -- "$line" "$T/sriovd.log" || fail "$name: sriovd did not say \"$line\": $(cat "$T/sriovd.log")"
        [ "$(host)" = "$HOST" ] || fail "$name: the host changed:
$(diff <(echo "$HOST") <(host))"
        jq -e "$test" "$T/state/state.json" >/dev/null || fail "$name: the state after: $(cat "$T/state/state.json")"
        mgr ListAssignments s "" >/dev/null || fail "$name: sriovd does not answer"
        daemon_stop
}

note "a binding record for the root port"
hostile "root port" \
        ".devices[\"$ROOT\"] = (.devices[\"$VF3\"] | .prior_driver = \"vfio-pci\" | .pending = true | del(.pf) | del(.vf_index))" \
        "Setting aside the recorded binding of $ROOT" \
        ".devices[\"$ROOT\"] == null"

note "a binding record naming another PF"
hostile "another PF" \
        ".devices[\"$VF3\"].pf = \"$PF1\" | .devices[\"$VF3\"].pending = true | .devices[\"$VF3\"].prior_driver = \"vfio-pci\"" \
        "Setting aside the recorded binding of $VF3" \
        ".devices[\"$VF3\"] == null"

note "a half-made assignment whose VF is a PF"
hostile "a PF as the VF" \
        "(.assignments[] | select(.guest == \"g1\")) |= (.vf = \"$PF0\" | .phase = \"prepared\" | .prior_driver = \"vfio-pci\")" \
        "Setting aside the assignment of $PF0 to g1" \
        "[.assignments[] | select(.vf == \"$PF0\")] == []"

note "an assignment of VF index 0 at VF 1's address"
hostile "the wrong index" \
        "(.assignments[] | select(.guest == \"g1\")) |= (.vf = \"$VF1\" | .phase = \"releasing\")" \
        "Setting aside the assignment of $VF1 to g1" \
        "[.assignments[] | select(.vf == \"$VF1\")] == []"

note "the PF \"was on vfio-pci\": putting it back would be a Bind the API refuses"
hostile "the PF to vfio-pci" \
        ".devices[\"$PF0\"] = {\"prior_driver\": \"vfio-pci\", \"pending\": true, \"origin\": \"api\"}" \
        "$PF0" \
        "true"
grep -q "Cannot put back the binding of $PF0\|not viable\|is up" "$T/sriovd.log" ||
        fail "sriovd did not say why the PF stays: $(cat "$T/sriovd.log")"

note "the good state still works"
cp "$T/good.json" "$T/state/state.json"
daemon_start --uevent-source none
assert_eq "$(busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "" | jq -r '.data[0][0][1]')" "$VF0" "g1's VF"
with_sim_rtnl "$SRIOVCTL" verify >/dev/null || fail "verify with the good state: $(with_sim_rtnl "$SRIOVCTL" verify 2>&1)"
echo ok
