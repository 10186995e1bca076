#!/bin/bash
# The rtnetlink emulation seen through real iproute2 (a second client,
# independent of lib/vfattr.c), run with LD_PRELOAD=libsim-rtnl.so: links
# and their VF lists, VF attributes set and read back, the VF's net device
# following an administrative MAC (i40e resets the VF), link state, MTU,
# renames, the reset of VF state with the VFs, the operation log and
# .sim/state, addresses and routes from the topology.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd ip iproute2
require_cmd python3 python3
. "$top_srcdir/tests/sim/rtnl-lib.sh"
work=$RTNL_WORK
# x710.json, with the host's network configuration on the first port
python3 - "$TOPO/x710.json" "$work/host.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
for d in t["devices"]:
    if d["bdf"] == "0000:3b:00.0":
        d["addresses"] = ["192.0.2.1/24", "2001:db8::1/64"]
        d["routes"] = ["default via 192.0.2.254", "198.51.100.0/24 via 192.0.2.253 metric 100"]
json.dump(t, open(sys.argv[2], "w"))
PY
sim_start_rtnl "$work/host.json"
M=$SIM_ROOT
PF0=$(dev 0000:3b:00.0)

# --- links: every simulated net device, by dump and by name ---
expect_eq "$(ipr -o link show | awk '{print $2}' | tr '\n' ' ')" "ens1f0: ens1f1: " "ip link show"
ifindex=$(rd "$M/class/net/ens1f0/ifindex")
expect_ip "^$ifindex: ens1f0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN" link show dev ens1f0
expect_ip "link/ether $(rd "$M/class/net/ens1f0/address") brd ff:ff:ff:ff:ff:ff" link show dev ens1f0
expect_ip "parentbus pci parentdev 0000:3b:00.0" -d link show dev ens1f0
expect_ip_err 'Device "nosuch0" does not exist.' link show dev nosuch0

# --- up and down: sysfs and rtnetlink agree ---
ipr link set dev ens1f0 up || fail "ip link set up"
expect_eq "$(rd "$M/class/net/ens1f0/operstate")" up "operstate after ip link set up"
expect_eq "$(rd "$M/class/net/ens1f0/flags")" 0x1003 "flags after ip link set up"
expect_ip "<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP" link show dev ens1f0
expect_eq "$(state "dev('0000:3b:00.0')['netdevs'][0]['up']")" true "state: up"
ctl netdev ens1f1 up
expect_ip "state UP" link show dev ens1f1
ctl netdev ens1f1 down

# --- MTU, rename ---
ipr link set dev ens1f1 mtu 9000 || fail "ip link set mtu 9000"
expect_eq "$(rd "$M/class/net/ens1f1/mtu")" 9000 "mtu"
expect_ip_err "Error: mtu greater than device maximum." link set dev ens1f1 mtu 9703
expect_ip_err "Error: mtu less than device minimum." link set dev ens1f1 mtu 67
expect_ip_err "RTNETLINK answers: Device or resource busy" link set dev ens1f0 name lan0
ipr link set dev ens1f1 name lan1 || fail "rename"
[ -e "$M/class/net/lan1" ] || fail "class/net/lan1 after the rename"
ipr link set dev lan1 name ens1f1 || fail "rename back"

# --- VFs: the list, as the kernel reports it with RTEXT_FILTER_VF ---
expect_write "$PF0/sriov_numvfs" 4 0
expect_eq "$(ipr link show dev ens1f0 | grep -cE '^ +vf [0-9]+ ')" 4 "VF lines"
v0mac=$(rd "$M/class/net/ens1f0v0/address")
expect_eq "$(vf_line ens1f0 0)" \
        "vf 0     link/ether $v0mac brd ff:ff:ff:ff:ff:ff, spoof checking on, link-state auto, trust off" \
        "VF 0 before (i40e reports the address iavf uses)"

# --- setting them ---
ipr link set dev ens1f0 vf 1 mac 52:54:00:12:34:56 || fail "vf 1 mac"
expect_eq "$(rd "$M/class/net/ens1f0v1/address")" 52:54:00:12:34:56 "iavf's address after the VF reset"
ipr link set dev ens1f0 vf 1 vlan 100 qos 3 || fail "vf 1 vlan"
ipr link set dev ens1f0 vf 1 max_tx_rate 2000 min_tx_rate 0 || fail "vf 1 rates"
ipr link set dev ens1f0 vf 1 spoofchk off trust on state disable || fail "vf 1 spoofchk/trust/state"
expect_eq "$(vf_line ens1f0 1)" \
        "vf 1     link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff, vlan 100, qos 3, tx rate 2000 (Mbps), max_tx_rate 2000Mbps, spoof checking off, link-state disable, trust on" \
        "VF 1 after"
ipr link set dev ens1f0 vf 1 rate 3000 || fail "vf 1 rate (IFLA_VF_TX_RATE)"
expect_ip "max_tx_rate 3000Mbps" link show dev ens1f0
ipr link set dev ens1f0 vf 1 vlan 0 || fail "vf 1 vlan 0"
grep -q "vlan" <<<"$(vf_line ens1f0 1)" && fail "VF 1 still has a VLAN"
ipr link set dev ens1f0 vf 2 vlan 4095 || fail "VLAN 4095 (I40E_MAX_VLANID)"
ipr link set dev ens1f0 vf 2 mac 00:00:00:00:00:00 || fail "a zero MAC (i40e drops the administrative one)"
expect_eq "$(vf_line ens1f0 2 | awk '{print $4}')" 00:00:00:00:00:00 "VF 2 MAC after zero"
# the statistics nest comes unless RTEXT_FILTER_SKIP_STATS
expect_ip "RX: bytes +packets +mcast +bcast" -s link show dev ens1f0
# every attribute in .sim/state
expect_eq "$(state "[{k: v for k, v in dev(x)['vf_config'].items() if k != 'probe_hook'} for x in dev('0000:3b:00.0')['sriov']['vfs']][1]")" \
        '{"mac": "52:54:00:12:34:56", "mac_admin": true, "vlan": 0, "qos": 0, "vlan_proto": "802.1Q", "min_tx_rate": 0, "max_tx_rate": 3000, "spoofchk": false, "trust": true, "link_state": "disable", "query_rss": false}' \
        "state: VF 1"
# and in the operation log
grep -q 'rtnl/ens1f0/vf1/mac "52:54:00:12:34:56" 0$' "$M/.sim/log" || fail "log: vf1 mac"
grep -q 'rtnl/ens1f0/vf1/vlan "vlan 100 qos 3 proto 802.1Q" 0$' "$M/.sim/log" || fail "log: vf1 vlan"
grep -q 'rtnl/ens1f0/flags "up" 0$' "$M/.sim/log" || fail "log: flags"

# --- errors as the kernel (i40e) gives them ---
expect_ip_err "$EPROTONOSUPPORT" link set dev ens1f0 vf 0 vlan 5 proto 802.1ad
expect_ip_err "$EINVAL" link set dev ens1f0 vf 0 min_tx_rate 100
expect_ip_err "$EINVAL" link set dev ens1f0 vf 0 max_tx_rate 20000
expect_ip_err "$EINVAL" link set dev ens1f0 vf 9 trust on
expect_ip_err "$EINVAL" link set dev ens1f0 vf 0 mac 01:00:5e:00:00:01
expect_ip_err "$EOPNOTSUPP" link set dev ens1f0 vf 0 query_rss on
# iproute2 itself refuses VLAN ids above 4095 before asking the kernel
expect_ip_err 'Invalid "vlan" value' link set dev ens1f0 vf 0 vlan 5000
grep -q 'rtnl/ens1f0/vf9/trust "on" EINVAL$' "$M/.sim/log" || fail "log: the failed trust"

# --- VF state goes with the VFs ---
expect_write "$PF0/sriov_numvfs" 0 0
expect_eq "$(ipr link show dev ens1f0 | grep -c ' vf ')" 0 "VF lines without VFs"
expect_write "$PF0/sriov_numvfs" 2 0
expect_eq "$(vf_line ens1f0 1)" \
        "vf 1     link/ether $(rd "$M/class/net/ens1f0v1/address") brd ff:ff:ff:ff:ff:ff, spoof checking on, link-state auto, trust off" \
        "VF 1 after re-enabling: the driver's defaults"
[ "$(rd "$M/class/net/ens1f0v1/address")" != 52:54:00:12:34:56 ] || fail "the new VF 1 kept the old address"

# --- the VF driver reads the PF-set address at probe ---
expect_eq "$(state "dev('0000:3b:02.0')['vf_config'].get('probe_hook', False)")" true \
        "sim_rtnl_netdev_registered() called from netdev_register() (README)"
ipr link set dev ens1f0 vf 0 mac 52:54:00:00:00:10 || fail "vf 0 mac"
expect_write "$M/bus/pci/drivers/iavf/unbind" 0000:3b:02.0 0
expect_write "$M/bus/pci/drivers/iavf/bind" 0000:3b:02.0 0
expect_eq "$(rd "$M/class/net/ens1f0v0/address")" 52:54:00:00:00:10 "iavf's address after a rebind"

# --- addresses and routes (topology), as the kernel keeps them ---
expect_ip "inet 192.0.2.1/24 brd 192.0.2.255 scope global ens1f0" addr show dev ens1f0
expect_ip "inet6 2001:db8::1/64 scope global" addr show dev ens1f0
expect_eq "$(ipr -4 -o addr show | awk '{print $2, $4}')" "ens1f0 192.0.2.1/24" "ip -4 addr"
expect_eq "$(ipr route show | tr -s ' ' | sed 's/ $//')" "default via 192.0.2.254 dev ens1f0
192.0.2.0/24 dev ens1f0 proto kernel scope link src 192.0.2.1
198.51.100.0/24 via 192.0.2.253 dev ens1f0 metric 100" "ip route"
expect_ip "^2001:db8::/64 dev ens1f0 proto kernel metric 256 pref medium" -6 route show
expect_ip "^local 192.0.2.1 dev ens1f0 table local proto kernel scope host src 192.0.2.1" route show table all
# a link that goes down loses its routes and IPv6 addresses, keeps IPv4 ones
ipr link set dev ens1f0 down || fail "ip link set down"
expect_eq "$(ipr route show)" "" "routes of a down link"
expect_eq "$(ipr -6 addr show dev ens1f0)" "" "IPv6 addresses of a down link"
expect_ip "inet 192.0.2.1/24" addr show dev ens1f0
# added at run time, on a VF's net device
ctl netdev ens1f0v0 addr add 203.0.113.5/28
expect_ip "inet 203.0.113.5/28 brd 203.0.113.15 scope global ens1f0v0" addr show dev ens1f0v0
expect_write "$M/.sim/ctl" "netdev ens1f0v0 addr add 203.0.113.5/28" EEXIST
expect_write "$M/.sim/ctl" "netdev ens1f0v0 addr del 203.0.113.6/28" ENOENT
expect_write "$M/.sim/ctl" "netdev nosuch0 addr add 203.0.113.5/28" ENODEV
expect_write "$M/.sim/ctl" "netdev ens1f0v0 addr add 203.0.113.5" EINVAL
ctl netdev ens1f0v0 addr del 203.0.113.5/28
expect_eq "$(ipr -4 addr show dev ens1f0v0)" "" "address deleted"
echo "PASS: rtnetlink through iproute2"
