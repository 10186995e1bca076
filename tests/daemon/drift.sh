#!/bin/bash
# Drift caught as it happens: a declared or assigned VF's setting changed by
# hand (ip link set PF vf N ...) is seen through the rtnetlink subscription
# within a second (DriftDetected, ListDrift, `sriovctl status`), without
# any call; with "enforce" (a PF rule, a pool) sriovd puts the declared
# value back and says what it overwrote; sriovd's own changes are no drift.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": false,
             "vfs": [ { "range": "0-1", "mac_base": "02:aa:00:00:00:10", "vlan": 100, "spoofchk": true } ] },
           { "match": { "interface": "ens1f1" }, "num_vfs": 4, "autoprobe": false, "enforce": true,
             "vfs": [ { "range": "0-1", "mac_base": "02:bb:00:00:00:10", "vlan": 200 } ] } ],
  "pools": [ { "name": "free", "select": [ "ens1f0#2-3" ] },
             { "name": "strict", "select": [ "ens1f1#2-3" ], "enforce": true } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
sim_ctl netdev ens1f1 up
daemon_start --uevent-source none
SRIOVCTL="$top_builddir/sriovctl"
ipvf() { with_sim_rtnl "$IP" link show dev "$1" | grep "vf $2 "; }
iplink() { with_sim_rtnl "$IP" link set dev "$@" || fail "ip link set $*"; }

# the signals, as they come (gdbus monitor prints one line each)
gdbus monitor --system --dest "$DEST" --object-path "$MGR" >"$T/signals.log" 2>&1 &
HARNESS_PIDS+=("$!")
monitoring() { grep -q "Monitoring signals" "$T/signals.log"; }
wait_for 10 monitoring || fail "gdbus monitor did not start: $(cat "$T/signals.log")"
drift_signals() { grep -c "DriftDetected" "$T/signals.log" || :; }
drift_count() { local n; n=$(mgr ListDrift); echo "${n#a(ssissa\{sv\}a\{sv\}tbu) }" | cut -d' ' -f1; }
# time_until SECONDS CMD...: how long (ms) CMD took to become true; fails after SECONDS
time_until() {
        local limit=$1 start; shift
        start=$(date +%s%N)
        wait_for "$limit" "$@" || fail "not within ${limit}s: $*"
        echo $((($(date +%s%N) - start) / 1000000))
}
ms_le() { [ "$1" -le "$2" ] || fail "$3 took ${1} ms, more than ${2} ms"; }

note "the declared settings are in place; sriovd's own apply is no drift"
ipvf ens1f0 0 | grep -q "02:aa:00:00:00:10.*vlan 100," || fail "VF 0: $(ipvf ens1f0 0)"
assert_eq "$(drift_count)" 0 "drift after start"
assert_eq "$(drift_signals)" 0 "DriftDetected after start"

note "a declared VF's MAC changed by hand: caught within a second, not put back without enforce"
iplink ens1f0 vf 0 mac 02:00:00:00:99:01
ms=$(time_until 5 eval '[ "$(drift_signals)" -ge 1 ]')
ms_le "$ms" 1000 "DriftDetected"
note "DriftDetected after $ms ms"
grep -q "DriftDetected ('$(vf_bdf 0000:3b:00.0 0)', '0000:3b:00.0', 0, 'config', '', {'mac': <'02:aa:00:00:00:10'>}, {'mac': <'02:00:00:00:99:01'>}, false)" "$T/signals.log" \
        || fail "the signal: $(grep DriftDetected "$T/signals.log")"
assert_eq "$(drift_count)" 1 "ListDrift"
ipvf ens1f0 0 | grep -q "02:00:00:00:99:01" || fail "not enforced, so it stays: $(ipvf ens1f0 0)"
out=$("$SRIOVCTL" status)
grep -q "$(vf_bdf 0000:3b:00.0 0).*VF 0 of 0000:3b:00.0.*mac 02:00:00:00:99:01, declared mac 02:aa:00:00:00:10" <<<"$out" \
        || fail "status has no line for it: $out"
grep -q "caught drift.*0000:3b:00.0.*mac" "$T/sriovd.log" || grep -q "changed behind sriovd's back" "$T/sriovd.log" \
        || fail "not logged"

note "the same setting read again is not a second drift; putting it back by hand ends it"
reads() { mgr GetMetrics 'a{sv}' 0 | grep -o 'sriovd_operations_total{operation=\\"link-read\\"} [0-9]*' | awk '{print $2}'; }
n=$(reads)
iplink ens1f0 mtu 9000
wait_for 5 eval '[ "$(reads)" -gt "$n" ]' || fail "the PF was not read again after its MTU changed"
assert_eq "$(drift_signals)" 1 "DriftDetected once, after the PF was read again"
assert_eq "$(drift_count)" 1 "ListDrift after the PF was read again"
iplink ens1f0 vf 0 mac 02:aa:00:00:00:10
wait_for 5 eval '[ "$(drift_count)" = 0 ]' || fail "drift not over: $(mgr ListDrift)"
assert_eq "$(drift_signals)" 1 "DriftDetected once"
grep -q "its settings are as declared again" "$T/sriovd.log" || fail "the end of the drift is not logged"

note "with enforce: put back within a second, the overwritten value logged"
iplink ens1f1 vf 1 vlan 7
ms=$(time_until 5 eval 'ipvf ens1f1 1 | grep -q "vlan 200,"')
ms_le "$ms" 1000 "putting back"
note "put back after $ms ms"
grep -q "DriftDetected ('$(vf_bdf 0000:3b:00.1 1)', '0000:3b:00.1', 1, 'config', '', {'vlan': <uint32 200>, 'qos': <uint32 0>, 'vlan_proto': <'802.1Q'>}, {'vlan': <uint32 7>, 'qos': <uint32 0>, 'vlan_proto': <'802.1Q'>}, true)" "$T/signals.log" \
        || fail "the signal: $(grep DriftDetected "$T/signals.log")"
grep -q "putting back vlan 200 qos 0 802.1Q, overwriting vlan 7 qos 0 802.1Q (enforce)" "$T/sriovd.log" \
        || fail "the overwritten value is not logged: $(grep -i drift "$T/sriovd.log")"
wait_for 5 eval '[ "$(drift_count)" = 0 ]' || fail "drift not over after enforcement: $(mgr ListDrift)"

note "an assigned VF of an enforced pool: its guest's settings are put back"
out=$(gmgr Assign vm1 strict "{'mac': <'02:00:00:00:00:42'>, 'vlan': <uint32 42>}") || fail "Assign: $out"
VFA=$(vf_bdf 0000:3b:00.1 2)
before=$(drift_signals)
ipvf ens1f1 2 | grep -q "02:00:00:00:00:42.*vlan 42," || fail "assigned VF: $(ipvf ens1f1 2)"
assert_eq "$(drift_signals)" "$before" "the assignment's own settings are no drift"
iplink ens1f1 vf 2 mac 02:00:00:00:66:66
ms=$(time_until 5 eval 'ipvf ens1f1 2 | grep -q "02:00:00:00:00:42"')
ms_le "$ms" 1000 "putting the guest's MAC back"
grep -q "DriftDetected ('$VFA', '0000:3b:00.1', 2, 'assignment', 'vm1', {'mac': <'02:00:00:00:00:42'>}, {'mac': <'02:00:00:00:66:66'>}, true)" "$T/signals.log" \
        || fail "the signal: $(grep DriftDetected "$T/signals.log")"

note "an assigned VF of a pool without enforce: reported, left alone"
out=$(gmgr Assign vm2 free "{'vlan': <uint32 43>}") || fail "Assign: $out"
iplink ens1f0 vf 2 vlan 44
wait_for 5 eval 'grep -q "DriftDetected (.*, 2, .assignment., .vm2." "$T/signals.log"' || fail "no signal for vm2's VF"
ipvf ens1f0 2 | grep -q "vlan 44," || fail "changed although not enforced: $(ipvf ens1f0 2)"

note "release puts back what was there before the assignment: no drift left"
mgr Release 'ssa{sv}' vm2 "" 0 >/dev/null || fail "release vm2"
wait_for 5 eval '! mgr ListDrift | grep -q vm2' || fail "drift of a released VF: $(mgr ListDrift)"
mgr Release 'ssa{sv}' vm1 "" 0 >/dev/null || fail "release vm1"
echo PASS
