#!/bin/bash
# Crash consistency: kill -9 of sriovd right after a random one of its kernel
# operations, restart, check the invariants; CRASH_KILLS times (default 30;
# 12 in a sanitizer build, where each restart costs several times as much).
#
# The workload cycles through SetNumVFs (PF1: 2 or 3 VFs), Bind (PF1's VF 0
# to vfio-pci), Assign (two guests from a pool of PF0's VFs, with VF
# settings), RestoreDriver and Release. Each round arms the simulator's
# "kill PID N": the daemon gets SIGKILL right after its N-th sysfs write or
# rtnetlink change from then on (N random within one cycle's writes), so the
# kills land at every step of every operation, the state saves between them
# included. The workload goes on until the kill fires, then:
#   - what the state file holds for recovery is counted (assignments
#     reserved / prepared: rolled back; releasing: finished; a binding change
#     under way: put back) together with leftover temp files;
#   - sriovd restarts: the state file must load (it serves, nothing moved
#     aside as corrupt) and recovery must finish;
#   - the invariants: no temp file in the state directory; every assignment
#     done and every VF held once at most; every assigned VF bound to its
#     driver with the guest's settings; every other pool VF on iavf with no
#     override and its settings as before it was first assigned; PF1's VFs
#     each on a driver, vfio-pci only with a recorded prior driver, no stray
#     override, no binding change left marked;
#   - `sriovctl verify` finds the ledger and the host in agreement;
#   - the workload goes on with the next operation.
# At the end everything is released and restored and PF0's VFs must be
# exactly as at the start. CRASH_SEED makes a run repeatable.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
if [ "${SRIOVD_SANITIZERS:-no}" = yes ]; then KILLS=${CRASH_KILLS:-12}; else KILLS=${CRASH_KILLS:-30}; fi
SEED=${CRASH_SEED:-$$}
RANDOM=$SEED
START=$(date +%s)
note "$KILLS kills, seed $SEED (CRASH_KILLS, CRASH_SEED)"

PF0=0000:3b:00.0
PF1=0000:3b:00.1
sim_start x710.json
sim_ctl netdev ens1f0 up
sim_ctl netdev ens1f1 up
# the VFs made in one order: IOMMU group numbers are the lowest free ones
echo 4 > "$SIM_ROOT/bus/pci/devices/$PF0/sriov_numvfs"
echo 2 > "$SIM_ROOT/bus/pci/devices/$PF1/sriov_numvfs"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-2" ] } ] }
CONF
bus_start
daemon_start --uevent-source none
# PF0's VFs as the host driver has them: what every release must give back
jq --arg pf "$PF0" '[.devices[] | select(.physfn == $pf) | {key: .bdf, value: (.vf_config | del(.mac_admin))}] | from_entries' \
        "$SIM_ROOT/.sim/state" > "$T/baseline.json"

call() { local m=$1; shift; gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.$m" -- "$@" >/dev/null 2>&1; }
vf0() { vf_bdf "$PF1" 0 2>/dev/null; }
op_enable() { call SetNumVFs "$PF1" "uint32 $((2 + RANDOM % 2))" "{'autoprobe': <true>}"; }
op_bind() { local v; v=$(vf0) && [ -n "$v" ] && call Bind "$v" vfio-pci "{}"; }
op_assign1() { call Assign g1 p "{'mac': <'02:00:00:00:00:42'>, 'vlan': <uint32 42>, 'qos': <uint32 3>, 'trust': <true>}"; }
op_assign2() { call Assign g2 p "{'vlan': <uint32 7>, 'spoofchk': <false>}"; }
op_restore() { local v; v=$(vf0) && [ -n "$v" ] && call RestoreDriver "$v"; }
op_release1() { call Release g1 "" "{}"; }
op_release2() { call Release g2 "" "{}"; }
OPS=(enable bind assign1 assign2 restore release1 release2)

killed() { sed -n 's/^killed //p' "$SIM_ROOT/.sim/faults"; }
kill_left() { sed -n 's/^kill [0-9]* after //p' "$SIM_ROOT/.sim/faults"; }

# recovery finished: nothing left mid-way in the state file
recovered() {
        [ ! -e "$T/state/state.json" ] ||
                jq -e '([.assignments[]? | select(.phase != "done")] | length == 0) and
                       ([.devices[]? | select(.pending == true)] | length == 0)' "$T/state/state.json" >/dev/null
}

check_invariants() {
        python3 - "$T/state" "$SIM_ROOT/.sim/state" "$T/baseline.json" "$PF0" "$PF1" <<'PY'
import json, os, sys
statedir, simstate, baseline, pf0, pf1 = sys.argv[1:]
bad = []
for f in os.listdir(statedir):
    if f != "state.json":
        bad.append("left in the state directory: " + f)
path = os.path.join(statedir, "state.json")
st = json.load(open(path)) if os.path.exists(path) else {"version": 2, "devices": {}, "assignments": []}
if st.get("version") != 2:
    bad.append("state version %r" % st.get("version"))
host = {d["bdf"]: d for d in json.load(open(simstate))["devices"]}
base = json.load(open(baseline))
held = {}
for a in st.get("assignments", []):
    if a["phase"] != "done":
        bad.append("%s left %s" % (a["vf"], a["phase"]))
    if a["vf"] in held:
        bad.append("%s held by %s and %s" % (a["vf"], held[a["vf"]], a["guest"]))
    held[a["vf"]] = a["guest"]
    d = host.get(a["vf"])
    if not d:
        bad.append("%s assigned to %s is not on the host" % (a["vf"], a["guest"]))
        continue
    if d["driver"] != a.get("driver", "vfio-pci"):
        bad.append("%s assigned to %s is on %s" % (a["vf"], a["guest"], d["driver"]))
    for k, v in (a.get("want") or {}).items():
        if k in d["vf_config"] and d["vf_config"][k] != v:
            bad.append("%s assigned to %s has %s %r, not %r" % (a["vf"], a["guest"], k, d["vf_config"][k], v))
for vf, cfg in base.items():
    if vf in held:
        continue
    d = host.get(vf)
    if not d:
        bad.append("%s is gone" % vf)
        continue
    if d["driver"] != "iavf" or d["driver_override"] is not None:
        bad.append("%s (free) is on %s, override %s" % (vf, d["driver"], d["driver_override"]))
    now = dict(d["vf_config"]); now.pop("mac_admin", None)
    if now != cfg:
        bad.append("%s (free) settings %s, not %s" % (vf, now, cfg))
records = st.get("devices", {})
for bdf, r in records.items():
    if r.get("pending"):
        bad.append("%s: a binding change is still marked under way" % bdf)
for bdf, d in host.items():
    if d.get("physfn") != pf1:
        continue
    r = records.get(bdf)
    if d["driver"] == "iavf":
        if d["driver_override"] is not None:
            bad.append("%s on iavf with a stray override %s" % (bdf, d["driver_override"]))
    elif d["driver"] == "vfio-pci":
        if not r or r.get("prior_driver") != "iavf":
            bad.append("%s on vfio-pci without a record of its prior driver: %s" % (bdf, r))
        if d["driver_override"] not in (None, "vfio-pci"):
            bad.append("%s on vfio-pci with override %s" % (bdf, d["driver_override"]))
    else:
        bad.append("%s left on %s (override %s)" % (bdf, d["driver"], d["driver_override"]))
    if d.get("held"):
        bad.append("%s is held by a VFIO user" % bdf)
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}

# one cycle without kills: how many kernel writes it makes
sim_ctl kill "$DAEMON_PID" 1000000
for op in "${OPS[@]}"; do "op_$op" || fail "the clean cycle: $op failed"; done
W=$((1000000 - $(kill_left)))
sim_ctl clear
[ "$W" -gt 10 ] || fail "a cycle made only $W kernel writes"
check_invariants || fail "invariants after the clean cycle"
note "one cycle of ${OPS[*]}: $W kernel writes"

kills=0 restarts=0 checks=0 pos=0
declare -A AT RECOVERED
while [ "$kills" -lt "$KILLS" ]; do
        before=$(killed)
        sim_ctl kill "$DAEMON_PID" $((1 + RANDOM % W))
        steps=0
        while [ "$(killed)" = "$before" ]; do
                [ $steps -lt $((3 * ${#OPS[@]})) ] || fail "sriovd was not killed within three cycles ($(kill_left) writes short)"
                # the operation the kill lands in fails, and others may be
                # refused meanwhile (a guest released twice): what counts is
                # the host after the restart
                "op_${OPS[pos]}" || :
                pos=$(((pos + 1) % ${#OPS[@]}))
                steps=$((steps + 1))
        done
        rc=0
        { wait "$DAEMON_PID"; } 2>/dev/null || rc=$?
        [ "$rc" = 137 ] || fail "kill $((kills + 1)): sriovd ended with status $rc, not by SIGKILL"
        kills=$((kills + 1))
        # the write it died after, by kind
        w=$(grep -B1 ' \.sim/killed ' "$SIM_ROOT/.sim/log" | tail -n 2 | head -n 1 | awk '{print $2}')
        case $w in
        rtnl/*/vf*/*) w="vf_set/${w##*/}";;
        rtnl/*) w="rtnl/${w##*/}";;
        *) w=${w##*/};;
        esac
        AT[$w]=$((${AT[$w]:-0} + 1))
        # what the restart has to finish
        if [ -e "$T/state/state.json" ]; then
                while read -r what; do
                        [ -n "$what" ] && RECOVERED[$what]=$((${RECOVERED[$what]:-0} + 1))
                done < <(jq -r '(.assignments[]? | select(.phase != "done") |
                                 if .phase == "releasing" then "release finished" else "assignment rolled back (\(.phase))" end),
                                (.devices | to_entries[] | select(.value.pending == true) | "binding put back")' "$T/state/state.json" 2>/dev/null)
        fi
        for f in "$T"/state/state.json.tmp.*; do
                [ -e "$f" ] && RECOVERED["temp file removed"]=$((${RECOVERED["temp file removed"]:-0} + 1))
        done
        DAEMON_PID=
        daemon_start --uevent-source none
        restarts=$((restarts + 1))
        ls "$T"/state/*.corrupt-* >/dev/null 2>&1 && fail "kill $kills (after $w): the state file did not load"
        wait_for 20 recovered || fail "kill $kills (after $w): recovery did not finish: $(cat "$T/state/state.json")"
        out=$(check_invariants) || fail "kill $kills (after $w, seed $SEED): invariants broken:
$out"
        out=$(with_sim_rtnl "$SRIOVCTL" verify 2>&1) || fail "kill $kills (after $w, seed $SEED): verify: $out"
        checks=$((checks + 1))
        [ $((kills % 50)) -ne 0 ] || note "$kills kills, $(($(date +%s) - START)) s"
done

note "the end: everything released and restored"
# either guest may hold nothing now (NotFound): the assignments left are checked below
op_release1 || :
op_release2 || :
v=$(vf0)
[ -z "$v" ] || out=$(gmgr RestoreDriver "$v") || fail "RestoreDriver $v at the end: $out"
check_invariants || fail "invariants at the end"
jq -e 'length == 0' <(jq '.assignments // []' "$T/state/state.json") >/dev/null || fail "assignments left at the end"
now=$(jq --arg pf "$PF0" '[.devices[] | select(.physfn == $pf) | {key: .bdf, value: (.vf_config | del(.mac_admin))}] | from_entries' \
        "$SIM_ROOT/.sim/state")
[ "$now" = "$(cat "$T/baseline.json")" ] || fail "PF0's VFs are not as at the start"
checks=$((checks + 1))

daemon_stop
! grep -q "Sanitizer\|runtime error:" "$T/sriovd.log" || fail "sanitizer reports: $(grep -A5 "Sanitizer\|runtime error:" "$T/sriovd.log" | head -n 30)"

echo "# $kills kills, $restarts restarts, $checks invariant checks (seed $SEED, $W writes per cycle)"
echo "# killed right after: $(for k in "${!AT[@]}"; do printf '%s %s, ' "$k" "${AT[$k]}"; done | sed 's/, $//')"
echo "# found at restart: $(for k in "${!RECOVERED[@]}"; do printf '%s %s, ' "$k" "${RECOVERED[$k]}"; done | sed 's/, $//')"
echo "# $(($(date +%s) - START)) s"
echo ok
