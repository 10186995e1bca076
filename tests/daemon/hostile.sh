#!/bin/bash
# Hostile callers: wrong types, wrong arity, oversized and malformed strings,
# path tricks, unknown objects, and a flood from many clients at once. Every
# call gets a named error, the daemon stays up, the host is unchanged, and
# its memory stays flat.
set -euo pipefail
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

note "a flood from 8 clients, half of them unprivileged"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
FLOOD="$top_builddir/tests/dbus-flood"
nobody=$(id -u nobody)
"$FLOOD" -c 2 -s 2 -u "$nobody" $PF >/dev/null || fail "warm-up flood: unexpected replies"
rss0=$(rss)
secs=${SRIOVD_FLOOD_SECONDS:-20}
"$FLOOD" -c 8 -s "$secs" -u "$nobody" $PF >"$T/flood.out" 2>"$T/flood.err" &
flood_pid=$!
# RSS sampled ten times over the run: it must stay flat, not only end low
samples=$rss0 step=$(( secs >= 20 ? secs / 10 : 2 )) t=0
while [ $((t += step)) -lt "$secs" ]; do
        sleep "$step"
        kill -0 "$DAEMON_PID" || fail "the daemon died under the flood"
        samples="$samples $(rss)"
done
wait $flood_pid || fail "unexpected replies under the flood: $(cat "$T/flood.out" "$T/flood.err")"
kill -0 "$DAEMON_PID" || fail "the daemon died under the flood"
rss1=$(rss)
calls=$(awk '{print $2}' "$T/flood.out")
note "RSS ${rss0} kB before, ${rss1} kB after ${secs} s of 8 clients, ${calls} calls ($((calls / secs))/s), each answered as expected; samples (kB): $samples $rss1"
if [ "${SRIOVD_SANITIZERS:-no}" = yes ]; then
        note "RSS bound not checked: AddressSanitizer's quarantine holds freed memory"
else
        [ $((rss1 - rss0)) -lt 2048 ] || fail "memory grew by $((rss1 - rss0)) kB under load"
fi
mgr GetDevice s $PF >/dev/null || fail "not answering after the flood"
[ "$before" = "$(snapshot)" ] || fail "the flood changed the host"
echo ok
