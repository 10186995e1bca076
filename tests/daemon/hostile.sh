#!/bin/bash
# Hostile callers: wrong types, wrong arity, oversized and malformed strings,
# path tricks, unknown objects, and a flood from many clients at once. Every
# call gets a named error, the daemon stays up, the host is unchanged, and
# its memory stays flat.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v dbus-send >/dev/null || skip "no dbus-send (dbus-bin)"
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
bus_start
daemon_start --uevent-source none --log-level warning
PF=0000:3b:00.0
mgr SetNumVFs 'sua{sv}' $PF 2 0 >/dev/null

send() { dbus-send --system --print-reply --dest=$DEST "$@" 2>&1; }
expect_named() {
        local want=$1 out; shift
        out=$("$@" 2>&1) && fail "accepted: $(cut -c1-200 <<<"$*") -> $(cut -c1-200 <<<"$out")"
        case "$out" in *"$want"*) ;; *) fail "expected $want from $(cut -c1-200 <<<"$*"), got: $(cut -c1-300 <<<"$out")";; esac
}

before=$(snapshot)
note "wrong types and arity"
expect_named org.freedesktop.DBus.Error.InvalidArgs send $MGR $IFACE.SetNumVFs int32:5
expect_named org.freedesktop.DBus.Error.InvalidArgs send $MGR $IFACE.SetNumVFs string:$PF string:4
expect_named org.freedesktop.DBus.Error.InvalidArgs send $MGR $IFACE.Bind string:$PF
expect_named org.freedesktop.DBus.Error.InvalidArgs send $MGR $IFACE.GetDevice uint32:7
expect_named org.freedesktop.DBus.Error.InvalidArgs send $MGR $IFACE.Assign string:g string:p uint32:1
expect_named org.freedesktop.DBus.Error.UnknownMethod send $MGR $IFACE.NoSuchMethod
expect_named org.freedesktop.DBus.Error.UnknownObject send /org/sriovd/Manager1/device/_30000_3a99 org.sriovd.Device1.Unbind
expect_named org.freedesktop.DBus.Error.UnknownObject send /org/sriovd/Manager1/device/garbage org.freedesktop.DBus.Properties.GetAll string:org.sriovd.Device1

note "oversized, malformed and tricky strings"
big=$(head -c 60000 /dev/zero | tr '\0' a)      # gdbus parses arguments up to about 64 KiB
for dev in "$big" "../../../etc/passwd" "/sys/bus/pci/devices/$PF" "$PF/../0000:3b:00.1" "$PF
" " $PF" "0000:3b:00.0;reboot" "%s%s%s%n" "0000:3b:00.0 0000:3b:00.1"; do
        expect_named org.sriovd.Error.InvalidArgument send $MGR $IFACE.GetDevice "string:$dev"
        expect_named org.sriovd.Error.InvalidArgument gmgr Unbind "$dev" '{}'
done
expect_named org.sriovd.Error.InvalidArgument gmgr Assign "$big" vms '{}'
expect_named org.sriovd.Error.InvalidArgument gmgr Assign "../../x" vms '{}'
expect_named org.sriovd.Error.InvalidArgument gmgr Bind $PF "$big" '{}'
expect_named org.sriovd.Error.InvalidArgument gmgr Bind $PF ../../../../bin/sh '{}'
expect_named org.sriovd.Error.InvalidArgument gmgr Bind $PF vfio-pci "{'keep_override': <'yes'>}"
expect_named org.sriovd.Error.InvalidArgument gmgr Bind $PF vfio-pci "{'$big': <true>}"
expect_named org.sriovd.Error.NoSuchDevice send $MGR $IFACE.GetDevice string:0000:ff:1f.7
# a valid interface name to the kernel, just not one that exists
expect_named org.sriovd.Error.NoSuchDevice send $MGR $IFACE.GetDevice 'string:$(id)'
expect_named org.sriovd.Error.OutOfRange gmgr SetNumVFs $PF 4294967295 '{}'
[ "$before" = "$(snapshot)" ] || fail "hostile calls changed the host"

note "a flood from 8 clients"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
flood() {
        local end=$((SECONDS + $1))
        while [ $SECONDS -lt $end ]; do
                mgr GetDevice s $PF >/dev/null
                mgr ListDevices s "" >/dev/null
                send $MGR $IFACE.GetDevice "string:../x" >/dev/null || true
                send $MGR $IFACE.SetNumVFs int32:1 >/dev/null || true
                as_nobody busctl --system call $DEST $MGR $IFACE SetNumVFs 'sua{sv}' $PF 1 0 >/dev/null 2>&1 || true
        done
}
flood 3       # warm up: caches, pools
rss0=$(rss)
secs=${SRIOVD_FLOOD_SECONDS:-20}
pids=()
for i in $(seq 8); do flood "$secs" & pids+=($!); done
wait "${pids[@]}"
kill -0 "$DAEMON_PID" || fail "the daemon died under the flood"
rss1=$(rss)
note "RSS ${rss0} kB before, ${rss1} kB after ${secs} s of 8 clients"
if [ "${SRIOVD_SANITIZERS:-no}" = yes ]; then
        note "RSS bound not checked: AddressSanitizer's quarantine holds freed memory"
else
        [ $((rss1 - rss0)) -lt 2048 ] || fail "memory grew by $((rss1 - rss0)) kB under load"
fi
mgr GetDevice s $PF >/dev/null || fail "not answering after the flood"
[ "$before" = "$(snapshot)" ] || fail "the flood changed the host"
echo ok
