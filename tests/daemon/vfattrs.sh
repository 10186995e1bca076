#!/bin/bash
# VF settings over rtnetlink (against the simulator's emulation through the
# preload shim, with real iproute2 as an independent reader): declared in
# the configuration and applied idempotently, given with an assignment and
# put back exactly on release; and the host-use check seeing addresses and
# routes.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true,
             "vfs": [ { "range": "0-1", "mac_base": "02:aa:00:00:00:10", "vlan": 100, "qos": 2,
                        "spoofchk": true, "trust": false, "max_tx_rate": 1000 } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#2-3" ] } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
daemon_start --uevent-source none --retry-ms 100

ipvf() { with_sim_rtnl "$IP" link show dev ens1f0 | grep "vf $1 "; }

note "declared attributes are in place after start"
ipvf 0 | grep -q "link/ether 02:aa:00:00:00:10.*vlan 100, qos 2.*max_tx_rate 1000Mbps.*spoof checking on.*trust off" \
        || fail "VF 0 as seen by ip: $(ipvf 0)"
grep -q "link/ether 02:aa:00:00:00:11" <<<"$(ipvf 1)" || fail "mac_base for VF 1: $(ipvf 1)"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "nothing left to do"

note "drift in a VF attribute is reported and corrected"
with_sim_rtnl "$IP" link set dev ens1f0 vf 0 vlan 7 || fail "ip link set failed"
out=$(mgr Apply b true)
case "$out" in *"vlan 7/0/802.1Q -> 100/2/802.1Q"*) ;; *) fail "drift not reported: $out";; esac
mgr Apply b false >/dev/null
grep -q "vlan 100, qos 2" <<<"$(ipvf 0)" || fail "not corrected: $(ipvf 0)"

note "a setting refused for a while (igb while the PF's link comes up) lands without another call"
with_sim_rtnl "$IP" link set dev ens1f0 vf 0 max_tx_rate 500 || fail "ip link set failed"
sim_ctl fail vf_set ens1f0/rate EINVAL 2
out=$(mgr Apply b false)
case "$out" in *"Invalid argument"*) ;; *) fail "the refused rate is not reported: $out";; esac
vf0_rate_back() { ipvf 0 | grep -q 'max_tx_rate 1000Mbps'; }
wait_for 10 vf0_rate_back \
        || fail "the rate was not tried again: $(ipvf 0)"
assert_eq "$(grep -c 'rtnl/ens1f0/vf0/rate "min 0 max 1000" EINVAL$' "$SIM_ROOT/.sim/log")" 2 "refused tries"
ipvf 0 | grep -q "link/ether 02:aa:00:00:00:10.*vlan 100, qos 2.*spoof checking on.*trust off" \
        || fail "VF 0 after the tries: $(ipvf 0)"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "nothing left to do"

note "an assignment's settings, and release puts back exactly what was there"
before2=$(ipvf 2)
out=$(gmgr Assign vm1 p "{'mac': <'02:00:00:00:00:42'>, 'vlan': <uint32 42>, 'qos': <uint32 5>, 'trust': <true>, 'spoofchk': <false>, 'max_tx_rate': <uint32 500>}") \
        || fail "Assign failed: $out"
ipvf 2 | grep -q "link/ether 02:00:00:00:00:42.*vlan 42, qos 5.*max_tx_rate 500Mbps.*spoof checking off.*trust on" \
        || fail "VF 2 after assign: $(ipvf 2)"
case "$out" in *"<mac address='02:00:00:00:00:42'/>"*"<tag id='42'/>"*) ;; *) fail "libvirt interface XML lacks mac/vlan: $out";; esac
mgr Release 'ssa{sv}' vm1 "" 0 >/dev/null || fail "release failed"
assert_eq "$(ipvf 2)" "$before2" "VF 2 after release"

note "a setting the driver refuses: the assignment is refused and nothing stays"
before2=$(ipvf 2)
expect_error "Cannot set vlan of VF 2 on ens1f0: Protocol not supported" \
        gmgr Assign vm2 p "{'vlan': <uint32 5>, 'vlan_proto': <'802.1ad'>, 'mac': <'02:00:00:00:00:43'>}"
assert_eq "$(ipvf 2)" "$before2" "VF 2 after the refused assignment (the MAC set first is put back)"
assert_eq "$(driver_of "$(vf_bdf 0000:3b:00.0 2)")" iavf "driver after the refused assignment"
assert_eq "$(json_get "$T/state/state.json" "len(d['assignments'])")" 0 "no assignment recorded"

note "GetVFConfig reads one VF as the kernel reports it"
VF1=$(vf_bdf 0000:3b:00.0 1)
out=$(gmgr GetVFConfig "$VF1") || fail "GetVFConfig: $out"
for want in "'mac': <'02:aa:00:00:00:11'>" "'vlan': <uint32 100>" "'qos': <uint32 2>" "'vlan_proto': <'802.1Q'>" \
            "'max_tx_rate': <uint32 1000>" "'spoofchk': <true>" "'trust': <false>" "'pf_netdev': <'ens1f0'>" "'vf_index': <uint32 1>"; do
        case "$out" in *"$want"*) ;; *) fail "GetVFConfig lacks $want: $out";; esac
done
as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method "$IFACE.GetVFConfig" "$VF1" >/dev/null \
        || fail "GetVFConfig is a read: anyone may call it"
expect_error org.sriovd.Error.InvalidArgument gmgr GetVFConfig 0000:3b:00.0
expect_error org.sriovd.Error.NoSuchDevice gmgr GetVFConfig 0000:3b:0f.7

note "SetVFConfig sets, reads back, and refuses bad input and strangers without changing anything"
before=$(ipvf 1)
expect_error "Invalid MAC address" gmgr SetVFConfig "$VF1" "{'mac': <'01:00:5e:00:00:01'>}" '{}'
expect_error "VLAN 4095 is out of range" gmgr SetVFConfig "$VF1" "{'vlan': <uint32 4095>}" '{}'
expect_error "No VF setting given" gmgr SetVFConfig "$VF1" '{}' '{}'
expect_error org.sriovd.Error.InvalidArgument gmgr SetVFConfig "$VF1" "{'colour': <'red'>}" '{}'
expect_error org.sriovd.Error.AccessDenied as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" \
        --method "$IFACE.SetVFConfig" "$VF1" "{'trust': <true>}" '{}'
assert_eq "$(ipvf 1)" "$before" "VF 1 after refused SetVFConfig calls"
out=$(gmgr SetVFConfig "$VF1" "{'mac': <'02:bb:00:00:00:01'>, 'vlan': <uint32 0>, 'trust': <true>, 'link_state': <'disable'>}" '{}') \
        || fail "SetVFConfig: $out"
for want in "'mac': <'02:bb:00:00:00:01'>" "'vlan': <uint32 0>" "'trust': <true>" "'link_state': <'disable'>" "'ignored': <@as []>"; do
        case "$out" in *"$want"*) ;; *) fail "SetVFConfig reply lacks $want: $out";; esac
done
grep -q "link/ether 02:bb:00:00:00:01.*trust on" <<<"$(ipvf 1)" || fail "VF 1 as ip sees it: $(ipvf 1)"
grep -q "vlan" <<<"$(ipvf 1)" && fail "VLAN not cleared: $(ipvf 1)"
out=$(mgr Apply b true)
case "$out" in *"02:bb:00:00:00:01 -> 02:aa:00:00:00:11"*) ;; *) fail "a hand-set VF is drift against the configuration: $out";; esac
mgr Apply b false >/dev/null
grep -q "link/ether 02:aa:00:00:00:11.*vlan 100, qos 2" <<<"$(ipvf 1)" || fail "Apply did not correct VF 1: $(ipvf 1)"
out=$(gmgr SetVFConfig "$VF1" "{'mac': <'00:00:00:00:00:00'>}" '{}') || fail "clearing the MAC: $out"
case "$out" in *"'mac': <'00:00:00:00:00:00'>"*|*"'mac': <'02:00:00:00:00:00'>"*) ;; *) fail "MAC not cleared: $out";; esac
mgr Apply b false >/dev/null

note "a VF assigned to a guest keeps the guest's settings"
out=$(gmgr Assign vm3 p '{}') || fail "assign: $out"
VFA=$(json_get "$T/state/state.json" "d['assignments'][0]['vf']")
expect_error org.sriovd.Error.VFsAssigned gmgr SetVFConfig "$VFA" "{'trust': <true>}" '{}'
mgr Release 'ssa{sv}' vm3 "" 0 >/dev/null || fail "release failed"

note "a pool created at run time with mac_base: each VF gets base + its place in the pool"
gmgr CreatePool rp "['ens1f0#2-3']" "{'mac_base': <'02:cc:00:00:00:00'>}" >/dev/null || fail "CreatePool"
out=$(gmgr Assign vm4 rp "{'token': <'t4'>}") || fail "assign from rp: $out"
VFA=$(json_get "$T/state/state.json" "d['assignments'][0]['vf']")
idx=$(busctl --system get-property "$DEST" "$(devpath "$VFA")" org.sriovd.VF1 VFIndex | awk '{print $2}')
grep -q "link/ether 02:cc:00:00:00:0$((idx - 2))" <<<"$(ipvf "$idx")" || fail "mac_base of a run-time pool not applied: $(ipvf "$idx")"
out2=$(gmgr Assign vm4 rp "{'token': <'t4'>}") || fail "the same request again: $out2"
assert_eq "$out2" "$out" "a repeated Assign (same token) from a pool with a MAC base is idempotent"
out=$(gmgr Assign vm5 rp '{}') || fail "assign from rp: $out"
VFB=$(json_get "$T/state/state.json" "[a['vf'] for a in d['assignments'] if a['guest'] == 'vm5'][0]")
idx=$(busctl --system get-property "$DEST" "$(devpath "$VFB")" org.sriovd.VF1 VFIndex | awk '{print $2}')
grep -q "link/ether 02:cc:00:00:00:0$((idx - 2))" <<<"$(ipvf "$idx")" || fail "the second VF of the pool: $(ipvf "$idx")"
out=$(gmgr Assign vm6 rp '{}' 2>&1) && fail "a third VF from a pool of two: $out"
case "$out" in *PoolExhausted*) ;; *) fail "exhaustion: $out";; esac
out=$(gmgr ListPools) || fail "ListPools"
case "$out" in *"'mac_base': <'02:cc:00:00:00:00'>"*) ;; *) fail "ListPools names the MAC base: $out";; esac
mgr Release 'ssa{sv}' vm4 "" 0 >/dev/null || fail "release failed"
mgr Release 'ssa{sv}' vm5 "" 0 >/dev/null || fail "release failed"
gmgr DeletePool rp >/dev/null || fail "DeletePool"

note "host use: an address or a route on a PF interface"
mgr SetNumVFs 'sua{sv}' 0000:3b:00.1 0 0 >/dev/null
sim_ctl netdev ens1f1 down
sim_ctl netdev ens1f1 addr add 192.0.2.5/24
expect_error org.sriovd.Error.DeviceInUse gmgr Unbind 0000:3b:00.1 '{}'
expect_error "has the address 192.0.2.5/24" gmgr Unbind 0000:3b:00.1 '{}'
sim_ctl netdev ens1f1 addr del 192.0.2.5/24
# the kernel keeps routes only on interfaces that are up
sim_ctl netdev ens1f1 up
sim_ctl netdev ens1f1 route add 198.51.100.0/24
grep -q "198.51.100.0/24 dev ens1f1" <<<"$(with_sim_rtnl "$IP" route show)" || fail "the route is not in place"
expect_error "its interface ens1f1 is up; the route 198.51.100.0/24 goes through its interface ens1f1" \
        gmgr Unbind 0000:3b:00.1 '{}'
sim_ctl netdev ens1f1 route del 198.51.100.0/24
sim_ctl netdev ens1f1 down
out=$(gmgr Unbind 0000:3b:00.1 '{}') || fail "unbind of an unused PF refused: $out"
echo ok
