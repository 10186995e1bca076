#!/bin/bash
# Authorization without polkit: reads are open to everyone; every call that
# changes the host is denied to an unprivileged caller and allowed to root.
# With a real polkitd: auth-polkit.sh.
set -euo pipefail
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

note "the caller is unprivileged: nobody, no groups, no capabilities at all"
assert_eq "$(as_nobody id -u):$(as_nobody id -G)" "$(id -u nobody):$(getent group nogroup | cut -d: -f3)" "uid:groups"
assert_eq "$(as_nobody grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status | awk '{print $2}' | sort -u)" \
        0000000000000000 "capability sets"
mkdir -m 700 "$T/private"
cp "$(type -P true)" "$T/private/true"
! as_nobody env "$T/private/true" 2>/dev/null || fail "nobody ran a program in a directory only root may enter"

note "reads are open"
nobody ListDevices s "" >/dev/null || fail "ListDevices denied to nobody"
nobody GetDevice s $PF >/dev/null || fail "GetDevice denied to nobody"
nobody ListGroups >/dev/null || fail "ListGroups denied to nobody"
nobody Rescan >/dev/null || fail "Rescan denied to nobody"
as_nobody busctl --system get-property "$DEST" "$PFP" org.sriovd.PF1 NumVFs >/dev/null || fail "property read denied"
as_nobody busctl --system introspect "$DEST" "$VF0P" >/dev/null || fail "introspection denied"

note "an unprivileged Rescan re-reads the host once per 5 s at most, root's every time"
VF1=$(vf_bdf $PF 1)
# on vfio-pci, which has no interface: its unbind sends no link notification either
# without uevents sriovd re-reads the host after each operation: the bind's
# re-read (logged "Re-read PF") is over before the kernel changes behind its back
rereads() { grep -c "^Re-read $PF\$" "$T/sriovd.log" || :; }
n=$(rereads)
mgr Bind 'ssa{sv}' "$VF1" vfio-pci 0 >/dev/null
wait_for 5 eval '[ "$(rereads)" -gt "$n" ]' || fail "no re-read after the bind"
echo "$VF1" >"$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"   # no uevent: only a re-read sees it
nobody Rescan >/dev/null || fail "a second Rescan denied to nobody"
# the first re-read above was moments ago: this one is answered and re-reads nothing
! wait_for 1 prop_is "$(devpath "$VF1")" org.sriovd.Device1 Driver "" ||
        fail "nobody's second Rescan within 5 s re-read the host"
mgr Rescan >/dev/null
wait_for 5 prop_is "$(devpath "$VF1")" org.sriovd.Device1 Driver "" || fail "root's Rescan did not re-read the host"
assert_eq "$(mgr RestoreDriver s "$VF1")" 's "iavf"' "RestoreDriver after the test"

note "changes are denied without polkit, and nothing changes"
before=$(snapshot)
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.SetNumVFs $PF 4 '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.Bind "$VF0" vfio-pci '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.Unbind "$VF0" '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.RestoreDriver "$VF0"
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.BindDevices "['$VF0']" vfio-pci '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$MGR" --method $IFACE.RestoreDrivers "['$VF0']"
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.Bind vfio-pci '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.Unbind '{}'
expect_error org.sriovd.Error.AccessDenied gnobody "$VF0P" --method org.sriovd.Device1.RestoreDriver
expect_error org.sriovd.Error.AccessDenied gnobody "$PFP" --method org.sriovd.PF1.SetNumVFs 4 '{}'
# property writes are refused by the bus policy itself
expect_error org.freedesktop.DBus.Error.AccessDenied gnobody "$PFP" --method org.freedesktop.DBus.Properties.Set \
        org.sriovd.PF1 NumVFs '<uint32 4>'
[ "$before" = "$(snapshot)" ] || fail "a denied call changed the host"

note "a caller that execs a setuid-root program right after its call is still denied"
# what sriovd decides on is the bus's word (the connection's peer
# credentials), never /proc, which shows the process as root by then
cp "$(type -P sleep)" "$T/suid-sleep"
chown root:root "$T/suid-sleep"
chmod 4755 "$T/suid-sleep"
before=$(snapshot)
denials=$(grep -c "Not authorized: Bind from" "$T/sriovd.log" || :)
drv0=$(driver_of "$VF0")
as_nobody "$top_builddir/tests/bus-exec-race" "$VF0" vfio-pci "$T/suid-sleep" 600 >"$T/race.out" &
RACE=$!
HARNESS_PIDS+=("$RACE")
wait_for 10 grep -q sent "$T/race.out" || fail "bus-exec-race did not send: $(cat "$T/race.out")"
decided() { [ "$(grep -c "Not authorized: Bind from" "$T/sriovd.log" || :)" -gt "$denials" ] || [ "$(driver_of "$VF0")" != "$drv0" ]; }
wait_for 10 decided || fail "sriovd did not decide on the call"
[ "$(awk '/^Uid:/ {print $3}' "/proc/$RACE/status")" = 0 ] || fail "the caller is not setuid root by now: the test proves nothing"
[ "$before" = "$(snapshot)" ] || fail "the call of a caller that became setuid root was taken as root's"
stop_pids "$RACE"

note "only root may own the name"
expect_error org.freedesktop.DBus.Error.AccessDenied as_nobody gdbus call --system --dest org.freedesktop.DBus \
        --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.RequestName org.sriovd.Manager1 0

note "the same calls as root work"
mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0 >/dev/null || fail "root denied"

echo ok
