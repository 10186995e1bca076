#!/bin/bash
# Authorization: reads are open to everyone; every call that changes the host
# is denied to an unprivileged caller without polkit, allowed to root, and
# allowed to that caller once a real polkitd says so.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v setpriv >/dev/null || skip "no setpriv"
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

note "reads are open"
nobody ListDevices s "" >/dev/null || fail "ListDevices denied to nobody"
nobody GetDevice s $PF >/dev/null || fail "GetDevice denied to nobody"
nobody ListGroups >/dev/null || fail "ListGroups denied to nobody"
nobody Rescan >/dev/null || fail "Rescan denied to nobody"
as_nobody busctl --system get-property "$DEST" "$PFP" org.sriovd.PF1 NumVFs >/dev/null || fail "property read denied"
as_nobody busctl --system introspect "$DEST" "$VF0P" >/dev/null || fail "introspection denied"

note "changes are denied without polkit, and nothing changes"
before=$(snapshot)
expect_error org.sriovd.Error.AccessDenied nobody SetNumVFs 'sua{sv}' $PF 4 0
expect_error org.sriovd.Error.AccessDenied nobody Bind 'ssa{sv}' "$VF0" vfio-pci 0
expect_error org.sriovd.Error.AccessDenied nobody Unbind 'sa{sv}' "$VF0" 0
expect_error org.sriovd.Error.AccessDenied nobody RestoreDriver s "$VF0"
expect_error org.sriovd.Error.AccessDenied as_nobody busctl --system call "$DEST" "$VF0P" org.sriovd.Device1 Bind 'sa{sv}' vfio-pci 0
expect_error org.sriovd.Error.AccessDenied as_nobody busctl --system call "$DEST" "$VF0P" org.sriovd.Device1 Unbind 'a{sv}' 0
expect_error org.sriovd.Error.AccessDenied as_nobody busctl --system call "$DEST" "$VF0P" org.sriovd.Device1 RestoreDriver
expect_error org.sriovd.Error.AccessDenied as_nobody busctl --system call "$DEST" "$PFP" org.sriovd.PF1 SetNumVFs 'ua{sv}' 4 0
# property writes are refused by the bus policy itself
expect_error AccessDenied as_nobody busctl --system set-property "$DEST" "$PFP" org.sriovd.PF1 NumVFs u 4
[ "$before" = "$(snapshot)" ] || fail "a denied call changed the host"

note "only root may own the name"
expect_error AccessDenied as_nobody busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus RequestName su org.sriovd.Manager1 0

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
        assert_eq "$(driver_of "$VF0")" "-" "unbound by an authorized user"
        nobody SetNumVFs 'sua{sv}' $PF 3 0 >/dev/null || fail "SetNumVFs not allowed by polkit"
        assert_eq "$(sysattr $PF sriov_numvfs)" 3
        # another user, not in the rule: polkit wants a password, and the
        # caller did not allow interaction
        expect_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                setpriv --reuid daemon --regid daemon --clear-groups -- \
                busctl --system --allow-interactive-authorization=no call "$DEST" "$MGR" "$IFACE" SetNumVFs 'sua{sv}' $PF 1 0
        assert_eq "$(sysattr $PF sriov_numvfs)" 3
else
        note "polkitd not installed: the polkit part is skipped"
fi
echo ok
