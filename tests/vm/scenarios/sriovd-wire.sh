# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-wire: the VF settings sriovd programs, seen on the wire. One igb VF
# stays on igbvf, its interface in the network namespace "vf"; the PF keeps
# its address in the initial one, where sriovd works. Traffic between them
# crosses QEMU's igb (the 82576's VM-to-VM switching, DTXSWC loopback), and
# a packet socket on the PF (the helper `wire`) shows every frame. sriovd
# sets, through sriovctl and SetVFConfig:
#   mac        the VF, reloaded as igb asks, sends from that address and
#              the PF's neighbour table learns it
#   vlan, qos  the VF's frames reach the PF tagged (VID and priority); an
#              untagged peer no longer answers; vlan 0 undoes it
#   spoofchk   a frame with a forged source MAC: on a real 82576 dropped
#              with spoof checking on; QEMU's igb does not emulate the
#              check (see below): it arrives either way, recorded so
#   trust      the VF's own MAC change (igbvf asking the PF over the
#              mailbox) is refused while the PF set its MAC, allowed with
#              trust on, and the PF then sees the new address
#   link_state igb has no ndo_set_vf_link_state: refused, traffic goes on
# The PF answers on the VLAN through 8021q where the kernel has it
# (Debian's), else through `wire respond` (6.12 without VLAN_8021Q).
#
# What the emulation (QEMU 10.0, hw/net/igb_core.c) does not do:
#  - MAC/VLAN anti-spoofing: igb_tx_pkt_switch() (igb_core.c:520-542) reads
#    only DTXSWC's loopback bit (E1000_DTXSWC_VMDQ_LOOPBACK_EN, line 531);
#    the per-VF spoof bits igb sets (E1000_DTXSWC_MAC_SPOOF_MASK,
#    igb_regs.h:222) are never read, and WVBR, where the 82576 reports
#    spoof events, is only cleared on read (igb_core.c:3661), never set.
#  - per-VF link state: nothing to emulate, Linux's igb has no
#    ndo_set_vf_link_state (igb_main.c igb_netdev_ops).
#
# diff-skip: the project's daemon and the data path on the real kernel; the VF attributes the kernel reports are compared with the simulator's igb model by tests/vm/wire-model.sh
# vm-needs: gdbus

need_bin sriovd sriovctl
need_tool gdbus
need_igb || skip "no igb NIC (QEMU < 8): the VF settings need it"
GP=$PCI/devices/$IGB
PF=$(ls "$GP/net" | head -n 1)
NS=vf
M1=02:00:00:5e:20:01    # the MAC sriovd gives the VF
M2=02:00:00:5e:20:02    # the one the VF asks for itself
FORGED=02:00:00:5e:66:66
PF_IP=10.99.0.1 VF_IP=10.99.0.2 PFV_IP=10.99.100.1 VFV_IP=10.99.100.2

# ---- helpers
vf_line() { $IP link show dev "$PF" | sed -n 's/^ *vf 0 *//p' | tr -s ' '; }
nsx() { $IP netns exec "$NS" "$@"; }
# ctl ARGS...: sriovctl; output in $STATE/ctl.out; prints the exit status
ctl() {
        sriovctl --no-ask-password "$@" >"$STATE/ctl.out" 2>&1
        _rc=$?
        { echo "[$(cut -d' ' -f1 /proc/uptime)] sriovctl $* -> $_rc"; cat "$STATE/ctl.out"; } >&2
        echo "$_rc"
}
# vf_into_ns: the VF's interface (after igbvf's probe) into the namespace
# as "vf0", up, with its address
vf_into_ns() {
        wait_until 20 eval '[ -d "$PCI/devices/$VF/net" ]' || return 1
        _if=$(ls "$PCI/devices/$VF/net" | head -n 1)
        $IP link set dev "$_if" netns "$NS" &&
        nsx "$IP" link set dev "$_if" name vf0 &&
        nsx "$IP" addr add "$VF_IP/24" dev vf0 &&
        nsx "$IP" link set dev vf0 up &&
        vf_link_up
}
# vf_link_up: igbvf reports a link once its reset handshake with igb over
# the mailbox went through (under TCG it may take a few tries, 10 s apart:
# "PF still resetting")
vf_link_up() { wait_until 90 eval '[ "$(nsx cat /sys/class/net/vf0/carrier 2>/dev/null)" = 1 ]'; }
phase() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*" >&2; }
# reload_vf: igbvf unbound and bound again ("Reload the VF driver to make
# this change effective", igb says); it reads the MAC the PF set at probe
reload_vf() {
        [ "$(sw "$PCI/drivers/igbvf/unbind" "$VF")" = ok ] &&
        [ "$(sw "$PCI/drivers/igbvf/bind" "$VF")" = ok ] &&
        vf_into_ns
}
vf_mac() { nsx cat /sys/class/net/vf0/address 2>/dev/null; }
# reach IP: one echo answered within 3 s, tried for at most 20 s (the
# VF's link comes up a few seconds after igbvf's probe)
ping1() { nsx ping -c 1 -W 3 "$1" >/dev/null 2>&1; }
reach() { wait_until 20 ping1 "$1" && echo yes || echo no; }
flush_neigh() { $IP neigh flush dev "$PF" >/dev/null 2>&1; nsx "$IP" neigh flush dev vf0 >/dev/null 2>&1; :; }
# The capture on the PF runs all along; each check looks at what came
# after its mark.
cap_mark() { MARK=$(wc -l <"$STATE/cap.pf"); }
cap_since() { tail -n +"$((MARK + 1))" "$STATE/cap.pf"; }
# seen PATTERN: a frame matching PATTERN (grep -E) since the mark, waiting
# at most 10 s for the capture to print it; prints the first one
seen() {
        _pat=$1
        wait_until 10 eval 'cap_since | grep -q -E "$_pat"'
        cap_since | grep -E "$1" | head -n 1
}
# The first frame of a kind, without the MAC of the PF's own interface.
frame() { seen "$1" | sed "s/$PFMAC/PFMAC/g"; }

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 1, "autoprobe": true } ] }
EOF
# igb takes VF settings on a PF that is up.
$IP link set dev "$PF" up
wait_until 20 eval '[ "$(rd "$GP/net/$PF/carrier")" = 1 ]'
$IP addr add "$PF_IP/24" dev "$PF"
PFMAC=$(cat "$GP/net/$PF/address")
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
VF=$(vfs "$IGB")
wait_until 20 eval '[ "$(drv "$VF")" = igbvf ]'
expect setup.vf_driver "$(drv "$VF")" igbvf
$IP netns add "$NS"
vf_into_ns || fail "the VF's interface did not come into the namespace"
wire capture "$PF" >"$STATE/cap.pf" 2>&1 &
echo $! >>"$STATE/pids"
wait_until 10 file_has "$STATE/cap.pf" '^listening' || fail "no capture on $PF: $(cat "$STATE/cap.pf")"

# ---- the path itself: VF -> igb switch -> PF and back, untagged
phase base
cap_mark
expect base.reach "$(reach "$PF_IP")" yes
VMAC0=$(vf_mac)
expect base.frame "$(frame "^in $VMAC0 > $PFMAC .*echo-request" | sed "s/$VMAC0/VFMAC/")" \
        "in VFMAC > PFMAC icmp echo-request $VF_IP > $PF_IP"
obs rtnl.initial "$(vf_line | sed 's/^link\/ether [^ ]*/link\/ether MAC/')"

# ---- MAC: sriovd sets it; igbvf takes it at its next probe; it is what
phase mac
# the peer sees
expect mac.set "$(ctl set "$VF" --mac "$M1")" 0
expect_glob rtnl.mac "$(vf_line)" "link/ether $M1 *"
reload_vf || fail "igbvf did not come back"
expect mac.vf_netdev "$(vf_mac)" "$M1"
flush_neigh
cap_mark
expect mac.reach "$(reach "$PF_IP")" yes
expect mac.frame "$(frame "^in $M1 > $PFMAC .*echo-request")" "in $M1 > PFMAC icmp echo-request $VF_IP > $PF_IP"
expect mac.peer_neigh "$($IP neigh show "$VF_IP" dev "$PF" | awk '{ print $3 }')" "$M1"

# ---- VLAN and QoS, through D-Bus: the VF's frames arrive tagged
phase vlan
r=$(gmgr SetVFConfig "$VF" "{'vlan': <uint32 100>, 'qos': <uint32 3>}" '{}')
echo "SetVFConfig: $r" >&2
expect vlan.dbus.vlan "$(gv_string "$r" vlan)" 100
expect vlan.dbus.qos "$(gv_string "$r" qos)" 3
expect_glob rtnl.vlan "$(vf_line)" "link/ether $M1 *, vlan 100, qos 3, *"
nsx "$IP" addr add "$VFV_IP/24" dev vf0
if $IP link add link "$PF" name "$PF.100" type vlan id 100 2>/dev/null; then
        PEER="8021q"
        $IP addr add "$PFV_IP/24" dev "$PF.100"
        $IP link set dev "$PF.100" up
else
        # 6.12 here has no VLAN_8021Q: the peer is a packet socket
        PEER="wire respond"
        wire respond "$PF" 100 "$PFV_IP" >"$STATE/respond.out" 2>&1 &
        echo $! >>"$STATE/pids"
        wait_until 10 file_has "$STATE/respond.out" '^listening' || fail "wire respond: $(cat "$STATE/respond.out")"
fi
note "the PF answers on VLAN 100 through $PEER"
flush_neigh
cap_mark
expect vlan.reach_tagged_peer "$(reach "$PFV_IP")" yes
expect vlan.frame "$(frame "^in $M1 > $PFMAC .*echo-request")" \
        "in $M1 > PFMAC vlan 100 prio 3 icmp echo-request $VFV_IP > $PFV_IP"
expect vlan.reply "$(frame "^out $PFMAC > $M1 .*echo-reply")" \
        "out PFMAC > $M1 vlan 100 prio 0 icmp echo-reply $PFV_IP > $VFV_IP"
# every frame the VF sent meanwhile was tagged
expect vlan.untagged_frames "$(cap_since | grep "^in $M1 " | grep -c -v " vlan 100 prio 3 ")" 0
expect vlan.unset "$(ctl set "$VF" --vlan 0)" 0
expect_glob rtnl.vlan0 "$(vf_line)" "link/ether $M1 *, spoof checking *"
flush_neigh
cap_mark
expect vlan0.reach "$(reach "$PF_IP")" yes
expect vlan0.frame "$(frame "^in $M1 > $PFMAC .*echo-request")" "in $M1 > PFMAC icmp echo-request $VF_IP > $PF_IP"
$IP link del "$PF.100" 2>/dev/null
nsx "$IP" addr del "$VFV_IP/24" dev vf0

# ---- spoof checking: a frame with a forged source MAC
phase spoofchk
for s in on off; do
        expect "spoofchk.$s.set" "$(ctl set "$VF" --spoofchk "$s")" 0
        expect_glob "rtnl.spoofchk_$s" "$(vf_line)" "link/ether $M1 *, spoof checking $s, *"
        cap_mark
        nsx wire send vf0 "$FORGED" "$PFMAC" "$VF_IP" "$PF_IP" 3 "forged-$s" >/dev/null
        phase "forged frames sent"
        got=$(frame "tag forged-$s\$")
        phase "forged frames seen"
        # QEMU's igb passes it either way (no anti-spoofing: see the top).
        expect "spoofchk.$s.forged_frame" "${got:-dropped}" \
                "in $FORGED > PFMAC udp $VF_IP:40000 > $PF_IP:9 tag forged-$s"
        cap_mark
        nsx wire send vf0 "$M1" "$PFMAC" "$VF_IP" "$PF_IP" 1 "own-$s" >/dev/null
        got=$(frame "tag own-$s\$")
        expect "spoofchk.$s.own_frame" "${got:-dropped}" "in $M1 > PFMAC udp $VF_IP:40000 > $PF_IP:9 tag own-$s"
done
note "QEMU's igb does not emulate anti-spoofing (hw/net/igb_core.c:531 reads only DTXSWC's loopback bit): a forged frame arrives with spoof checking on"
expect spoofchk.restore "$(ctl set "$VF" --spoofchk on)" 0

# ---- trust: the VF asks the PF for another MAC (igbvf over the mailbox)
phase trust
setmac() {
        nsx "$IP" link set dev vf0 down
        nsx "$IP" link set dev vf0 address "$1" 2>&1 | head -n 1
        nsx "$IP" link set dev vf0 up
        vf_link_up
}
expect trust.off.set "$(ctl set "$VF" --trust off)" 0
expect_glob rtnl.trust_off "$(vf_line)" "link/ether $M1 *, trust off"
klog_clear
expect trust.off.vf_request "$(setmac "$M2")" "RTNETLINK answers: Cannot assign requested address"
expect trust.off.vf_netdev "$(vf_mac)" "$M1"
expect_glob trust.off.pf_log "$(klog | grep -o 'VF 0 attempted to override administratively set MAC address' | head -n 1)" \
        "VF 0 attempted to override*"
expect_glob rtnl.trust_off_after "$(vf_line)" "link/ether $M1 *"
expect trust.on.set "$(ctl set "$VF" --trust on)" 0
expect_glob rtnl.trust_on "$(vf_line)" "link/ether $M1 *, trust on"
expect trust.on.vf_request "$(setmac "$M2")" ""
expect trust.on.vf_netdev "$(vf_mac)" "$M2"
expect_glob rtnl.trust_on_after "$(vf_line)" "link/ether $M2 *"
flush_neigh
cap_mark
expect trust.on.reach "$(reach "$PF_IP")" yes
expect trust.on.frame "$(frame "^in $M2 > $PFMAC .*echo-request")" "in $M2 > PFMAC icmp echo-request $VF_IP > $PF_IP"
expect trust.on.peer_neigh "$($IP neigh show "$VF_IP" dev "$PF" | awk '{ print $3 }')" "$M2"
# trust off again; the MAC the VF chose stays (igb keeps it as the VF's)
expect trust.restore "$(ctl set "$VF" --trust off)" 0

# ---- link state: igb has no ndo_set_vf_link_state
phase link_state
# sriovctl: "the device or its driver cannot do it" (exit status 10); auto
# is what igb reports already, and nothing is asked of the kernel
for s in disable enable; do
        expect "link_state.$s.exit" "$(ctl set "$VF" --link-state "$s")" 10
        expect "link_state.$s.message" "$(head -n 1 "$STATE/ctl.out")" \
                "sriovctl: Cannot change the settings of $VF: Cannot set link_state of VF 0 on $PF: Operation not supported"
done
expect link_state.auto.exit "$(ctl set "$VF" --link-state auto)" 0
# the kernel's own answer, for the comparison with the simulator's model
expect rtnl.link_state_disable "$($IP link set dev "$PF" vf 0 state disable 2>&1)" \
        "RTNETLINK answers: Operation not supported"
expect_glob rtnl.link_state "$(vf_line)" "link/ether $M2 *"
expect link_state.traffic_goes_on "$(reach "$PF_IP")" yes
note "igb (Linux igb_main.c igb_netdev_ops) implements no ndo_set_vf_link_state: the link state of an 82576 VF cannot be set, and traffic goes on"

# ---- the end (the runner stops the capture)
phase end
$IP netns del "$NS"
stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
$IP addr flush dev "$PF"
$IP link set dev "$PF" down
