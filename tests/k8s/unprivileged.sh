#!/bin/bash
# The plugin as an unprivileged user that polkit allows org.sriovd.assign
# alone: it allocates and cleans up (Assign, Release, Reconcile,
# ListAssignments), while the same user may not manage sriovd (SetNumVFs,
# Bind); a user without the rule cannot allocate at all. A real polkitd.
set -euo pipefail
source "$top_srcdir/tests/k8s/common.sh"
harness_init
k8s_init
command -v setpriv >/dev/null || need "no setpriv"
POLKITD=/usr/lib/polkit-1/polkitd
POLKIT_CONF=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
[ -x "$POLKITD" ] && [ -f "$POLKIT_CONF" ] || need "no polkitd (polkitd)"
sim_start "$(k8s_topology)"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 } ],
  "pools": [ { "name": "net", "select": [ "ens1f0" ] } ] }
CONF
bus_start "<include>$POLKIT_CONF</include>"
mkdir -p "$T/actions" "$T/rules" "$T/empty"
cp /usr/share/polkit-1/actions/*.policy "$T/actions/" 2>/dev/null || :
cp "$top_srcdir/systemd/org.sriovd.policy" "$T/actions/"
cat > "$T/rules/50-k8s.rules" <<'RULES'
polkit.addRule(function(action, subject) {
        if (action.id == "org.sriovd.assign" && subject.user == "nobody")
                return polkit.Result.YES;
});
RULES
chmod -R a+rX "$T/actions" "$T/rules"
mount --bind "$T/actions" /usr/share/polkit-1/actions
mount --bind "$T/rules" /etc/polkit-1/rules.d
mount --bind "$T/empty" /usr/share/polkit-1/rules.d
"$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 &
HARNESS_PIDS+=($!)
wait_for 10 busctl --system status org.freedesktop.PolicyKit1 --no-pager -q || fail "polkitd did not start: $(cat "$T/polkitd.log")"
daemon_start --uevent-source none --dev-root "$T/dev"
make_group_nodes
RES=sriovd.io/net
PF=0000:3b:00.0

kubelet_start
chmod 0666 "$T/device-plugins/kubelet.sock" "$T/pod-resources/kubelet.sock"
chown nobody "$T/device-plugins"

note "a user without the rule: the plugin runs, Allocate is refused by polkit, nothing is assigned"
PLUGIN_USER=daemon PLUGIN_GROUP=daemon
chown daemon "$T/device-plugins"
plugin_start --allocate-grace 0
wait_for 20 healthy_is $RES 4 || fail "not registered: $(tail "$T/plugin.log")"
out=$(kcall allocate --resource $RES --pod denied --size 1) && fail "allocated without the right: $out"
case "$out" in *PERMISSION_DENIED*) ;; *) fail "the refusal: $out";; esac
assigned_is "" || fail "assigned anyway: $(held_by x)"
plugin_stop

note "nobody, with org.sriovd.assign: allocates, and cleans up"
PLUGIN_USER=nobody PLUGIN_GROUP=nogroup
chown nobody "$T/device-plugins"
plugin_start --allocate-grace 0
wait_for 20 kstate_is "d['resources']['$RES'].get('streaming') and d['registrations'] >= 2" True ||
        fail "not registered as nobody: $(tail "$T/plugin.log")"
out=$(kcall allocate --resource $RES --pod p --size 2) || fail "allocate as nobody: $out"
A=$(vf_bdf $PF 0) B=$(vf_bdf $PF 1)
assigned_is "$A $B" kubernetes || fail "$(held_by x kubernetes)"
assert_eq "$(ps -o user= -p "$PLUGIN_PID")" nobody "the plugin's user"
kcall delete-pod --pod p
wait_for 20 assigned_is "" kubernetes || fail "not cleaned up as nobody: $(held_by x kubernetes); $(tail "$T/plugin.log")"

note "the same user may not manage sriovd"
before=$(snapshot)
out=$(as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.SetNumVFs $PF 2 '{}' 2>&1) &&
        fail "nobody changed the VF count: $out"
case "$out" in *AccessDenied*|*InteractiveAuthorizationRequired*) ;; *) fail "SetNumVFs: $out";; esac
out=$(as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.Bind "$A" vfio-pci '{}' 2>&1) &&
        fail "nobody bound a VF: $out"
[ "$before" = "$(snapshot)" ] || fail "a refused call changed the host"
echo "unprivileged: OK"
