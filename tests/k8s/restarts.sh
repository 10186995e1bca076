#!/bin/bash
# Each side going away and coming back: the kubelet restarting (the plugin
# serves and registers again), the plugin stopped and killed (-9) and
# started again (no VF lost, none held twice), a pod deleted while the
# plugin was down (its VF released when the plugin starts: the leak
# scenario), sriovd restarting while the kubelet watches (the devices go
# unhealthy and come back on the same stream).
set -euo pipefail
source "$top_srcdir/tests/k8s/common.sh"
harness_init
k8s_init
sim_start "$(k8s_topology)"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 } ],
  "pools": [ { "name": "net", "select": [ "ens1f0" ] } ] }
CONF
bus_start
daemon_start --uevent-source none --dev-root "$T/dev"
make_group_nodes
RES=sriovd.io/net
PF=0000:3b:00.0
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
registrations() { kjson "d['registrations']"; }
registered_again() { kstate_is "d['registrations'] > $1" True; }
streaming() { kstate_is "d['resources']['$RES'].get('streaming')" True; }

kubelet_start
plugin_start --allocate-grace 0
wait_for 20 healthy_is $RES 4 || fail "not registered: $(tail "$T/plugin.log")"
out=$(kcall allocate --resource $RES --pod a --size 1) || fail "$out"
out=$(kcall allocate --resource $RES --pod b --size 1) || fail "$out"
A=$(vf_bdf $PF 0) B=$(vf_bdf $PF 1)
assigned_is "$(sorted "$A" "$B")" kubernetes || fail "$(held_by x kubernetes)"

note "the kubelet restarts: its sockets are gone, kubelet.sock is new; the plugin registers again"
kubelet_stop
kubelet_start
wait_for 20 registered_again 0 || fail "no registration after the kubelet restarted: $(tail "$T/plugin.log")"
wait_for 20 healthy_is $RES 4 || fail "no devices after the kubelet restarted: $(cat "$KSTATE")"
[ -S "$T/device-plugins/sriovd-net.sock" ] || fail "the plugin's socket is not back"
assigned_is "$(sorted "$A" "$B")" kubernetes || fail "a kubelet restart changed the assignments: $(held_by x kubernetes)"
grep -q "The kubelet (re)started" "$T/plugin.log" || fail "the plugin did not see the kubelet restart"

note "the plugin is stopped and started: nothing is lost"
plugin_stop
wait_for 10 kstate_is "d['resources']['$RES'].get('streaming')" False || fail "the stream did not end"
[ ! -e "$T/device-plugins/sriovd-net.sock" ] || fail "the socket stayed after SIGTERM"
assigned_is "$(sorted "$A" "$B")" kubernetes || fail "stopping the plugin changed the assignments"
n=$(registrations)
plugin_start --allocate-grace 0
wait_for 20 registered_again "$n" || fail "not registered again"
wait_for 20 streaming || fail "not streaming again"
wait_for 20 kstate_is "d.get('lists', 0) >= 2" True || fail "no cleanup at start"
assigned_is "$(sorted "$A" "$B")" kubernetes || fail "a plugin restart changed the assignments: $(held_by x kubernetes)"

note "kill -9 and start again: no VF lost, none held twice"
plugin_kill9
n=$(registrations)
plugin_start --allocate-grace 0
wait_for 20 registered_again "$n" || fail "not registered after kill -9: $(tail "$T/plugin.log")"
wait_for 20 streaming || fail "not streaming after kill -9"
out=$(kcall allocate --resource $RES --pod c --size 1) || fail "allocate after kill -9: $out"
C=$(vf_bdf $PF 2)
assert_eq "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["chosen"][0])' "$out")" "$C" "a free VF, not a held one"
assigned_is "$(sorted "$A" "$B" "$C")" kubernetes || fail "$(held_by x kubernetes)"

note "the leak scenario: pod a is deleted while the plugin is down; the plugin releases its VF when it starts"
plugin_kill9
kcall delete-pod --pod a
assigned_is "$(sorted "$A" "$B" "$C")" kubernetes || fail "released without the plugin?"
plugin_start --allocate-grace 0
wait_for 20 assigned_is "$(sorted "$B" "$C")" kubernetes || fail "pod a's VF was not released: $(held_by x kubernetes); $(tail "$T/plugin.log")"
grep "Released $A" "$T/plugin.log" "$T/sriovd.log" | sed "s|$T/||"
grep -q "Released $A from $A, reset with" "$T/sriovd.log" || fail "not reset"
[ "$(driver_of "$A")" != vfio-pci ] || fail "$A stays on vfio-pci"
[ ! -e "$T/cdi/sriovd.io-vf_${A//:/-}.json" ] || fail "the CDI spec of $A stayed"
wait_for 20 healthy_is $RES 4 || fail "$(res_devices $RES)"

note "sriovd restarts while the kubelet watches: unhealthy meanwhile, healthy again, the same stream"
updates=$(kjson "d['resources']['$RES']['updates']") n=$(registrations)
sriovd_stop
wait_for 20 healthy_is $RES 0 || fail "sriovd gone, the devices stay healthy: $(res_devices $RES)"
daemon_start --uevent-source none --dev-root "$T/dev"
wait_for 20 healthy_is $RES 4 || fail "sriovd back, the devices are not: $(res_devices $RES); $(tail "$T/plugin.log")"
assert_eq "$(registrations)" "$n" "no registration needed"
[ "$(kjson "d['resources']['$RES']['updates']")" -ge $((updates + 2)) ] || fail "not streamed"
assigned_is "$(sorted "$B" "$C")" kubernetes || fail "$(held_by x kubernetes)"
out=$(kcall allocate --resource $RES --pod d --size 1) || fail "allocate after sriovd restarted: $out"
echo "restarts: OK"
