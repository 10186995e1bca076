#!/bin/bash
# Authorization: reads are open to everyone; every call that changes the host
# is denied to an unprivileged caller without polkit, allowed to root, and
# allowed to that caller once a real polkitd says so.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v setpriv >/dev/null || skip "no setpriv"
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
POLKIT_CONF=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
extra=""
[ -f "$POLKIT_CONF" ] && extra="<include>$POLKIT_CONF</include>"
bus_start "$extra"
daemon_start --uevent-source none

PF=0000:3b:00.0
mgr SetNumVFs 'sua{sv}' $PF 2 0 >/dev/null
VF0=$(vf_bdf $PF 0)
VF0P=$(devpath "$VF0")
PFP=$(devpath $PF)

nobody() { as_nobody busctl --system call "$DEST" "$MGR" "$IFACE" "$@"; }
gnobody() { as_nobody gdbus call --system --dest "$DEST" --object-path "$@"; }

note "reads are open"
nobody ListDevices s "" >/dev/null || fail "ListDevices denied to nobody"
nobody GetDevice s $PF >/dev/null || fail "GetDevice denied to nobody"
nobody ListGroups >/dev/null || fail "ListGroups denied to nobody"
nobody Rescan >/dev/null || fail "Rescan denied to nobody"
as_nobody busctl --system get-property "$DEST" "$PFP" org.sriovd.PF1 NumVFs >/dev/null || fail "property read denied"
as_nobody busctl --system introspect "$DEST" "$VF0P" >/dev/null || fail "introspection denied"

note "changes are denied without polkit, and nothing changes"
before=$(snapshot)
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.SetNumVFs $PF 4 '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.Bind "$VF0" vfio-pci '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.Unbind "$VF0" '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.RestoreDriver "$VF0"
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.Bind vfio-pci '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.Unbind '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.RestoreDriver
expect_error org.sriovd.Error.AccessDenied gnobody "$PFP" --method org.sriovd.PF1.SetNumVFs 4 '{}'
# property writes are refused by the bus policy itself
expect_error org.freedesktop.DBus.Error.AccessDenied gnobody "$PFP" --method org.freedesktop.DBus.Properties.Set \
        org.sriovd.PF1 NumVFs '<uint32 4>'
[ "$before" = "$(snapshot)" ] || fail "a denied call changed the host"

note "only root may own the name"
expect_error org.freedesktop.DBus.Error.AccessDenied as_nobody gdbus call --system --dest org.freedesktop.DBus \
        --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.RequestName org.sriovd.Manager1 0

note "the same calls as root work"
mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null || fail "root denied"

note "polkit: a rule that allows nobody makes the calls pass"
POLKITD=/usr/lib/polkit-1/polkitd
if [ -x "$POLKITD" ] && [ -f "$POLKIT_CONF" ]; then
        mkdir -p "$T/actions" "$T/rules"
        cp /usr/share/polkit-1/actions/*.policy "$T/actions/" 2>/dev/null || true
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
        mkdir -p "$T/empty" && mount --bind "$T/empty" /usr/share/polkit-1/rules.d
        "$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 &
        HARNESS_PIDS+=($!)
        wait_for 10 busctl --system status org.freedesktop.PolicyKit1 --no-pager -q >/dev/null \
                || fail "polkitd did not start: $(cat "$T/polkitd.log")"
        assert_eq "$(nobody Unbind 'sa{sv}' "$VF0" 0)" 's "vfio-pci"' "Unbind allowed by polkit"
        assert_eq "$(driver_of "$VF0")" none "unbound by an authorized user"
        nobody SetNumVFs 'sua{sv}' $PF 3 0 >/dev/null || fail "SetNumVFs not allowed by polkit"
        assert_eq "$(sysattr $PF sriov_numvfs)" 3
        # another user, not in the rule: polkit wants a password, and the
        # caller did not allow interaction
        expect_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                setpriv --reuid daemon --regid daemon --clear-groups -- \
                gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.SetNumVFs $PF 1 '{}' 
        assert_eq "$(sysattr $PF sriov_numvfs)" 3
        # the VFIO fds are a separate action: managing does not grant them
        VF0=$(vf_bdf $PF 0)
        mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null || fail "bind to vfio-pci as root"
        expect_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.OpenDevice "$VF0" '{}'
        out=$(setpriv --reuid daemon --regid daemon --clear-groups -- \
                gdbus call --system --dest "$DEST" --object-path "$MGR" --method $IFACE.OpenDevice "$VF0" '{}' 2>&1) &&
                fail "OpenDevice succeeded on the simulator, which has no VFIO: $out"
        case "$out" in
        *AccessDenied*|*InteractiveAuthorization*) fail "org.sriovd.open-device granted by a rule, yet denied: $out";;
        *org.sriovd.Error.*) ;;
        *) fail "OpenDevice by an authorized caller: unexpected answer $out";;
        esac
else
        note "polkitd not installed: the polkit part is skipped"
fi
echo ok
