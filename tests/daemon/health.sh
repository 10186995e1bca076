#!/bin/bash
# Health in the model: a PF's link (Carrier, OperState, Speed, LinkType,
# RDMADevice) and a VF's Healthy and HealthReason, kept by the link
# notifications (no polling) and told with PropertiesChanged: the PF's link
# going down (no carrier, administratively down) and coming back, a VF on
# the wrong driver, quarantined, an assignment that is not ready, its VF
# gone; GetHealth and `sriovctl status/list/show`.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
sim_start "$top_srcdir/tests/daemon/observe-host.json"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "vfs": [ { "range": "3", "driver": "vfio-pci" } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-1" ], "reset": "always" } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
daemon_start --uevent-source none
S=$SRIOVCTL
PF=0000:01:00.0
VF0=$(vf_bdf $PF 0) VF1=$(vf_bdf $PF 1) VF3=$(vf_bdf $PF 3)
pfp=$(devpath $PF) vf0p=$(devpath "$VF0") vf1p=$(devpath "$VF1") vf3p=$(devpath "$VF3")
gdbus monitor --system --dest "$DEST" >"$T/signals.log" 2>&1 &
HARNESS_PIDS+=("$!")
monitoring() { grep -q "Monitoring signals" "$T/signals.log"; }
wait_for 10 monitoring || fail "gdbus monitor did not start"
healthy() { prop "$1" org.sriovd.VF1 Healthy; }
reason() { prop "$1" org.sriovd.VF1 HealthReason; }
# a PropertiesChanged of path carrying Healthy false/true
changed_to() { grep -q "^$1: org.freedesktop.DBus.Properties.PropertiesChanged ('org.sriovd.VF1', {.*'Healthy': <$2>" "$T/signals.log"; }

note "the PF's link as read at start"
assert_eq "$(prop "$pfp" org.sriovd.PF1 Interface)" ens1f0 "Interface"
assert_eq "$(prop "$pfp" org.sriovd.PF1 Carrier)" true "Carrier"
assert_eq "$(prop "$pfp" org.sriovd.PF1 OperState)" up "OperState"
assert_eq "$(prop "$pfp" org.sriovd.PF1 Speed)" 10000 "Speed"
assert_eq "$(prop "$pfp" org.sriovd.PF1 LinkType)" ethernet "LinkType"
assert_eq "$(prop "$pfp" org.sriovd.PF1 RDMADevice)" "" "RDMADevice"
assert_eq "$(prop "$(devpath 0000:02:00.0)" org.sriovd.PF1 Carrier)" false "a PF whose interface is down"
assert_eq "$(healthy "$vf0p")" true "VF 0"

note "a VF declared on vfio-pci, bound elsewhere: wrong driver"
assert_eq "$(healthy "$vf3p")" true "VF 3 on vfio-pci as declared"
mgr Bind 'ssa{sv}' "$VF3" iavf 0 >/dev/null || fail "bind iavf"
wait_for 5 eval '[ "$(healthy "$vf3p")" = false ]' || fail "VF 3 healthy on iavf"
assert_eq "$(reason "$vf3p")" "wrong driver: iavf, expected vfio-pci" "VF 3 reason"
changed_to "$vf3p" false || fail "no PropertiesChanged for VF 3"
out=$("$S" status)
grep -qE "$VF3 +vf +- +wrong driver: iavf, expected vfio-pci" <<<"$out" || fail "status: $out"
mgr Bind 'ssa{sv}' "$VF3" vfio-pci 0 >/dev/null || fail "bind back"
wait_for 5 eval '[ "$(healthy "$vf3p")" = true ]' || fail "VF 3 healthy again"

note "the PF loses its link partner: every VF of it is unhealthy at once, the PF's properties change"
n0=$(grep -c "^$vf1p: .*'Healthy': <false>" "$T/signals.log" || :)
sim_ctl netdev ens1f0 carrier off
wait_for 2 eval '[ "$(healthy "$vf1p")" = false ]' || fail "VF 1 still healthy without the PF's link"
assert_eq "$(reason "$vf1p")" "PF link down (ens1f0 has no carrier)" "reason"
assert_eq "$(prop "$pfp" org.sriovd.PF1 Carrier)" false "Carrier"
assert_eq "$(prop "$pfp" org.sriovd.PF1 Speed)" -1 "Speed without a link"
grep -q "^$pfp: org.freedesktop.DBus.Properties.PropertiesChanged ('org.sriovd.PF1', {.*'Carrier': <false>" "$T/signals.log" \
        || fail "no PropertiesChanged of the PF"
changed_to "$vf1p" false || fail "no PropertiesChanged for VF 1"
"$S" show "$VF1" | grep -q "Health: PF link down (ens1f0 has no carrier)" || fail "show: $("$S" show "$VF1")"
"$S" list | grep -qE "^0000:01:00.0 .*LINK DOWN" || fail "list: $("$S" list)"
grep -q "0000:01:00.0 (ens1f0): link down (no carrier)" "$T/sriovd.log" || fail "not logged"
sim_ctl netdev ens1f0 carrier on
wait_for 2 eval '[ "$(healthy "$vf1p")" = true ]' || fail "VF 1 not healthy again"
# the carrier comes with the notification, the speed with the read of the PF after it
wait_for 2 eval '[ "$(prop "$pfp" org.sriovd.PF1 Speed)" = 10000 ]' || fail "Speed back: $(prop "$pfp" org.sriovd.PF1 Speed)"
note "... and when it is set down"
with_sim_rtnl ip link set ens1f0 down
wait_for 2 eval '[ "$(reason "$vf1p")" = "PF link down (ens1f0 is administratively down)" ]' || fail "down: $(reason "$vf1p")"
with_sim_rtnl ip link set ens1f0 up
wait_for 2 eval '[ "$(healthy "$vf1p")" = true ]' || fail "up again"

note "quarantined: its reset between tenants failed"
out=$(gmgr Assign vm1 p "{}") || fail "Assign: $out"
sim_ctl fail reset "$VF0" EIO 1
mgr Release 'ssa{sv}' vm1 "" 0 >/dev/null || :
wait_for 5 eval '[ "$(healthy "$vf0p")" = false ]' || fail "quarantined VF healthy"
case "$(reason "$vf0p")" in quarantined:*) ;; *) fail "reason: $(reason "$vf0p")" ;; esac
mgr ClearQuarantine s "$VF0" >/dev/null
wait_for 5 eval '[ "$(healthy "$vf0p")" = true ]' || fail "not healthy after ClearQuarantine"

note "an assignment made broken (its VF unbound by force): not ready"
out=$(gmgr Assign vm3 p "{}") || fail "Assign: $out"
vm3vf=$("$S" --json stats --guest vm3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["vfs"][0]["address"])')
mgr Unbind 'sa{sv}' "$vm3vf" 1 force b true >/dev/null || fail "forced unbind"
wait_for 5 eval '[ "$(healthy "$(devpath "$vm3vf")")" = false ]' || fail "broken assignment healthy"
case "$(reason "$(devpath "$vm3vf")")" in "assignment not ready: broken, "*) ;; *) fail "reason: $(reason "$(devpath "$vm3vf")")" ;; esac
mgr Release 'ssa{sv}' vm3 "" 1 force b true >/dev/null || fail "release vm3"

note "an assignment whose VF is gone: not ready, then its VF gone"
out=$(gmgr Assign vm2 p "{}") || fail "Assign: $out"
vm2vf=$("$S" --json stats --guest vm2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["vfs"][0]["address"])')
[ -n "$vm2vf" ] || fail "vm2's VF"
assert_eq "$(healthy "$(devpath "$vm2vf")")" true "vm2's VF"
mgr SetNumVFs 'sua{sv}' $PF 0 1 force b true >/dev/null || fail "SetNumVFs 0"
out=$(mgr GetHealth)
grep -q "\"$vm2vf\" \"vf\" \"vm2\" false \"VF gone\"" <<<"$out" || fail "GetHealth: $out"
"$S" status | grep -qE "$vm2vf +vf +vm2 +VF gone" || fail "status: $("$S" status)"
echo PASS
