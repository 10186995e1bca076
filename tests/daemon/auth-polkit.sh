#!/bin/bash
# Authorization with a real polkitd: a rule that allows an unprivileged
# caller the action org.sriovd.manage makes its calls pass; another user,
# not in the rule, is asked for a password it did not allow; the VFIO
# devices are a separate action (org.sriovd.open-device) that managing
# does not grant. Without polkit: auth.sh.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
POLKITD=/usr/lib/polkit-1/polkitd
POLKIT_CONF=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
[ -x "$POLKITD" ] || skip "no $POLKITD (Debian package polkitd)"
[ -f "$POLKIT_CONF" ] || skip "no $POLKIT_CONF, polkitd's bus policy (Debian package polkitd)"
sim_start x710.json
bus_start "<include>$POLKIT_CONF</include>"
daemon_start --uevent-source none

PF=0000:3b:00.0
mgr SetNumVFs 'sua{sv}' $PF 2 0 >/dev/null
VF0=$(vf_bdf $PF 0)
mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null
nobody() { as_nobody busctl --system call "$DEST" "$MGR" "$IFACE" "$@"; }
# as_daemon COMMAND...: as the user daemon, whom the rule names only for open-device
as_daemon() { as_user daemon daemon "$@"; }

note "polkitd with the project's actions and one rule"
mkdir -p "$T/actions" "$T/rules" "$T/empty"
cp "$top_srcdir/systemd/org.sriovd.policy" "$T/actions/"
cat > "$T/rules/50-test.rules" <<'RULES'
polkit.addRule(function(action, subject) {
        if (action.id == "org.sriovd.manage" && subject.user == "nobody")
                return polkit.Result.YES;
        if (action.id == "org.sriovd.open-device" && subject.user == "daemon")
                return polkit.Result.YES;
});
RULES
chmod -R a+rX "$T/actions" "$T/rules"
mount --bind "$T/actions" /usr/share/polkit-1/actions
mount --bind "$T/rules" /etc/polkit-1/rules.d
mount --bind "$T/empty" /usr/share/polkit-1/rules.d
"$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 &
HARNESS_PIDS+=($!)
wait_for 10 busctl --system status org.freedesktop.PolicyKit1 --no-pager -q ||
        fail "polkitd did not start: $(cat "$T/polkitd.log")"

note "a rule allows nobody: the calls pass"
assert_eq "$(nobody Unbind 'sa{sv}' "$VF0" 0)" 's "vfio-pci"' "Unbind allowed by polkit"
assert_eq "$(driver_of "$VF0")" none "unbound by an authorized user"
nobody SetNumVFs 'sua{sv}' $PF 3 0 >/dev/null || fail "SetNumVFs not allowed by polkit"
assert_eq "$(sysattr $PF sriov_numvfs)" 3

note "another user, not in the rule: polkit wants a password, and the caller did not allow interaction"
expect_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
        as_daemon gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.SetNumVFs $PF 1 '{}'
assert_eq "$(sysattr $PF sriov_numvfs)" 3

note "the VFIO fds are a separate action: managing does not grant them"
VF0=$(vf_bdf $PF 0)
mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null || fail "bind to vfio-pci as root"
expect_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
        as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.OpenDevice "$VF0" '{}'
# allowed to daemon by the rule: authorized, then refused for what the
# simulator lacks (no VFIO devices), with a named error
out=$(as_daemon gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.OpenDevice "$VF0" '{}' 2>&1) &&
        fail "OpenDevice succeeded on the simulator, which has no VFIO: $out"
case "$out" in
*AccessDenied*|*InteractiveAuthorization*) fail "org.sriovd.open-device granted by a rule, yet denied: $out";;
*org.sriovd.Error.*) ;;
*) fail "OpenDevice by an authorized caller: unexpected answer $out";;
esac
echo ok
