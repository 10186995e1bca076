# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-guest-net: a guest's traffic through the VF sriovd assigned it.
# A pool of igb VFs with a VLAN and a MAC base; `sriovctl assign` as the
# guest's user (nobody) hands over VF 0 on vfio-pci and prints the QEMU
# arguments; this run's QEMU, as nobody, boots a minimal guest with them
# (the kernel of tests/vm/nested-kernel, igbvf built in, a busybox
# initramfs made here) under TCG inside this TCG guest. The guest brings
# the VF up and pings the PF's address: the echo requests reach the PF
# tagged with the pool's VLAN from the MAC the pool gave, and the replies
# come back. Then `sriovctl release`: the VF is on igbvf again with its
# settings as before, and traffic through it from the host works again.
# The PF answers on the VLAN through 8021q where the kernel has it
# (Debian's), else through `wire respond` (6.12 without VLAN_8021Q).
#
# diff-skip: the project's daemon and a VMM's guest on the real kernel, not a kernel rule
# vm-needs: gdbus qemu nested

no_reference
need_bin sriovd sriovctl
need_tool gdbus qemu nested
need_igb || skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
GP=$PCI/devices/$IGB
PF=$(ls "$GP/net" | head -n 1)
NS=vf
POOL_MAC=02:00:00:5e:30:00
PF_IP=10.30.0.1 VF_IP=10.30.0.2 PFV_IP=10.31.0.1 GUEST_IP=10.31.0.2
# the nested guest's whole life, from QEMU's start to its exit
GUEST_TIMEOUT=${SRIOVD_VM_NESTED_TIMEOUT:-240}

vf_line() { $IP link show dev "$PF" | sed -n 's/^ *vf 0 *//p' | tr -s ' '; }
nsx() { $IP netns exec "$NS" "$@"; }
phase() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*" >&2; }
ctl() {
        sriovctl --no-ask-password "$@" >"$STATE/ctl.out" 2>&1
        _rc=$?
        { echo "[$(cut -d' ' -f1 /proc/uptime)] sriovctl $* -> $_rc"; cat "$STATE/ctl.out"; } >&2
        echo "$_rc"
}
cap_mark() { MARK=$(wc -l <"$STATE/cap.pf"); }
cap_since() { tail -n +"$((MARK + 1))" "$STATE/cap.pf"; }
seen() {
        _pat=$1
        wait_until 10 eval 'cap_since | grep -q -E "$_pat"'
        cap_since | grep -E "$1" | head -n 1 | sed "s/$PFMAC/PFMAC/g"
}

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "guests", "select": [ "$IGB#0-1" ], "vlan": 300, "mac_base": "$POOL_MAC" } ] }
EOF
$IP link set dev "$PF" up
wait_until 20 eval '[ "$(rd "$GP/net/$PF/carrier")" = 1 ]'
$IP addr add "$PF_IP/24" dev "$PF"
PFMAC=$(cat "$GP/net/$PF/address")
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
set -- $(vfs "$IGB")
VF=$1
wait_until 20 eval '[ "$(drv "$VF")" = igbvf ]'
expect before.driver "$(drv "$VF")" igbvf
before=$(vf_line)
expect_glob before.vf_line "$before" 'link/ether *, spoof checking on, *'

# The PF's end of the pool's VLAN.
if $IP link add link "$PF" name "$PF.300" type vlan id 300 2>/dev/null; then
        note "the PF answers on VLAN 300 through 8021q"
        $IP addr add "$PFV_IP/24" dev "$PF.300"
        $IP link set dev "$PF.300" up
else
        note "the PF answers on VLAN 300 through wire respond (no 8021q in this kernel)"
        wire respond "$PF" 300 "$PFV_IP" >"$STATE/respond.out" 2>&1 &
        echo $! >>"$STATE/pids"
        wait_until 10 file_has "$STATE/respond.out" '^listening' || fail "wire respond: $(cat "$STATE/respond.out")"
fi
wire capture "$PF" >"$STATE/cap.pf" 2>&1 &
echo $! >>"$STATE/pids"
wait_until 10 file_has "$STATE/cap.pf" '^listening' || fail "no capture on $PF: $(cat "$STATE/cap.pf")"

# ---- the guest's minimal system: busybox and an init that brings the
# one NIC up, pings, reports on the console and ends (reboot -f, which
# -no-reboot makes QEMU's exit)
phase initramfs
G=$STATE/nested
rm -rf "$G"
mkdir -p "$G/root/bin" "$G/root/proc" "$G/root/sys" "$G/root/dev" "$G/out"
cp /usr/bin/busybox "$G/root/bin/busybox"
cat >"$G/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "NESTED $*"; }
for w in $(cat /proc/cmdline); do
        case $w in nested.ip=*) ip=${w#*=} ;; nested.peer=*) peer=${w#*=} ;; esac
done
say "up $(cut -d' ' -f1 /proc/uptime)"
nic=
for d in /sys/class/net/*; do
        [ -e "$d/device" ] && { nic=${d##*/}; break; }
done
if [ -z "$nic" ]; then
        say "nic none"
else
        say "nic $nic driver $(basename "$(readlink /sys/class/net/$nic/device/driver)") mac $(cat /sys/class/net/$nic/address)"
        ip addr add "$ip" dev "$nic"
        ip link set dev "$nic" up
        n=600
        while [ "$(cat /sys/class/net/$nic/carrier 2>/dev/null)" != 1 ] && [ $n -gt 0 ]; do
                sleep 0.1
                n=$((n - 1))
        done
        say "carrier $(cat /sys/class/net/$nic/carrier 2>/dev/null) $(cut -d' ' -f1 /proc/uptime)"
        if ping -c 3 -W 10 "$peer" >/ping.out 2>&1; then say "ping ok"; else say "ping failed"; fi
        sed 's/^/NESTED ping: /' /ping.out
fi
say "end $(cut -d' ' -f1 /proc/uptime)"
reboot -f
EOF
chmod 755 "$G/root/init"
(cd "$G/root" && find . | cpio -o -H newc 2>/dev/null) >"$G/initrd"
chmod 755 "$G" "$G/out"
chown 65534:65534 "$G/out"

# ---- Assign, as the guest's user, from the pool.
phase assign
expect assign.exit "$(ctl assign vm1 guests --uid 65534 --gid 65534 --format qemu)" 0
QARGS=$(cat "$STATE/ctl.out")
QID=sriovd-$(echo "$VF" | tr : -)
expect assign.qemu_args "$QARGS" "-device vfio-pci,host=$VF,id=$QID"
expect assign.driver "$(drv "$VF")" vfio-pci
expect_glob assign.vf_line "$(vf_line)" "link/ether $POOL_MAC *, vlan 300, *"

# ---- the guest: QEMU as nobody, with exactly those arguments
phase guest
cap_mark
t0=$(cut -d. -f1 /proc/uptime)
# shellcheck disable=SC2086  # QEMU's arguments as sriovctl printed them
as_user 65534:65534 timeout -s KILL "$GUEST_TIMEOUT" /usr/bin/qemu-system-x86_64 -L /usr/share/qemu-vm \
        -nodefaults -no-user-config -machine pc -accel tcg -m 64 -display none -monitor none -no-reboot \
        -kernel /usr/share/qemu-vm/nested-bzImage -initrd "$G/initrd" \
        -append "console=ttyS0 quiet panic=-1 no_timer_check nested.ip=$GUEST_IP/24 nested.peer=$PFV_IP" \
        -serial "file:$G/out/console" $QARGS >"$G/qemu.out" 2>&1
rc=$?
took=$(($(cut -d. -f1 /proc/uptime) - t0))
phase "guest done: exit $rc after $took s"
sed 's/^/  guest: /' "$G/out/console" "$G/qemu.out" >&2
note "the nested guest ran for $took s"
expect guest.qemu_exit "$rc" 0
console() { tr -d '\r' <"$G/out/console" | sed -n "s/^NESTED $1 //p" | head -n 1; }
expect guest.nic "$(console nic)" "eth0 driver igbvf mac $POOL_MAC"
expect guest.carrier "$(console carrier | cut -d" " -f1)" 1
expect guest.ping "$(tr -d '\r' <"$G/out/console" | grep -c '^NESTED ping ok')" 1
expect_glob guest.ping_summary "$(tr -d '\r' <"$G/out/console" | sed -n 's/^NESTED ping: \(.* packets received\).*/\1/p')" \
        "3 packets transmitted, [123] packets received"
expect guest.frame "$(seen "^in $POOL_MAC > $PFMAC .*echo-request")" \
        "in $POOL_MAC > PFMAC vlan 300 prio 0 icmp echo-request $GUEST_IP > $PFV_IP"
expect guest.reply "$(seen "^out $PFMAC > $POOL_MAC .*echo-reply")" \
        "out PFMAC > $POOL_MAC vlan 300 prio 0 icmp echo-reply $PFV_IP > $GUEST_IP"
expect guest.untagged_frames "$(cap_since | grep "^in $POOL_MAC " | grep -c -v ' vlan 300 ')" 0

# ---- Release: igbvf and the settings as before; traffic from the host
phase release
expect release.exit "$(ctl release vm1)" 0
expect release.driver "$(drv "$VF")" igbvf
expect release.vf_line "$(vf_line | sed 's,^link/ether [^ ]*,link/ether MAC,')" \
        "$(echo "$before" | sed 's,^link/ether [^ ]*,link/ether MAC,')"
expect_ne release.mac_not_pools "$(vf_line | awk '{ print $2 }')" "$POOL_MAC"
$IP netns add "$NS"
wait_until 20 test -d "$PCI/devices/$VF/net"
ifname=$(ls "$PCI/devices/$VF/net" | head -n 1)
$IP link set dev "$ifname" netns "$NS"
nsx "$IP" addr add "$VF_IP/24" dev "$ifname"
nsx "$IP" link set dev "$ifname" up
wait_until 90 eval '[ "$(nsx cat /sys/class/net/$ifname/carrier 2>/dev/null)" = 1 ]'
VMAC=$(nsx cat "/sys/class/net/$ifname/address")
cap_mark
ping1() { nsx ping -c 1 -W 3 "$PF_IP" >/dev/null 2>&1; }
expect release.host_reach "$(wait_until 30 ping1 && echo yes || echo no)" yes
expect release.frame "$(seen "^in $VMAC > $PFMAC .*echo-request" | sed "s/$VMAC/VFMAC/")" \
        "in VFMAC > PFMAC icmp echo-request $VF_IP > $PF_IP"
expect release.assignments "$(gmgr ListAssignments "''")" "(@a(ssssa{sv}) [],)"

phase end
$IP netns del "$NS"
$IP link del "$PF.300" 2>/dev/null
stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
$IP addr flush dev "$PF"
$IP link set dev "$PF" down
