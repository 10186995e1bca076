#!/bin/bash
# The per-driver VF models through iproute2: igb (82576, Linux 6.1), mlx5
# (connectx.json), ixgbe (no-iommu.json); failure injection and latency
# of ndo_set_vf_* (serialized by rtnl_lock, as in the kernel).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd ip iproute2
. "$top_srcdir/tests/sim/rtnl-lib.sh"
work=$RTNL_WORK

# ---- igb, 82576 (igb_main.c igb_ndo_set_vf_*, Linux 6.1) ----
cat >"$work/igb.json" <<'JSON'
{
  "drivers": {
    "pcieport": { "ids": [ { "class": "0x060400", "class_mask": "0xffffff" } ] },
    "igb":   { "ids": [ "8086:10c9" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "probe", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] },
                           "rate": { "min": false, "link_up": true, "max": 1000 },
                           "spoofchk": { "default": true }, "trust": true, "link_state": false, "query_rss": false } },
    "igbvf": { "ids": [ "8086:10ca" ], "netdev": true }
  },
  "devices": [
    { "bdf": "0000:00:02.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:02:00.0", "parent": "0000:00:02.0", "id": "8086:10c9", "class": "0x020000",
      "driver": "igb", "netdev": "enp2s0f0",
      "sriov": { "total": 8, "offset": 128, "stride": 2, "vf_id": "8086:10ca", "vf_netdev": "enp2s0f0v%u" } }
  ]
}
JSON
sim_start_rtnl "$work/igb.json"
expect_write "$(dev 0000:02:00.0)/sriov_numvfs" 2 0
# the PF is down: its link too, and igb refuses rates without a link
expect_ip_err "$EINVAL" link set dev enp2s0f0 vf 0 max_tx_rate 100
expect_ip_ok link set dev enp2s0f0 vf 0 mac 52:54:00:00:02:01      # works while down (a warning in dmesg)
expect_ip_ok link set dev enp2s0f0 up
expect_ip_ok link set dev enp2s0f0 vf 0 max_tx_rate 100
expect_ip_err "$EINVAL" link set dev enp2s0f0 vf 0 max_tx_rate 1001      # above the 1 Gbit/s link
expect_ip_err "$EINVAL" link set dev enp2s0f0 vf 0 min_tx_rate 10        # max only
expect_ip_err "$EPROTONOSUPPORT" link set dev enp2s0f0 vf 0 vlan 10 proto 802.1ad
expect_ip_ok link set dev enp2s0f0 vf 0 vlan 10 qos 7
expect_ip_ok link set dev enp2s0f0 vf 0 vlan 4095                   # igb: vlan > 4095 only
expect_ip_err "$EOPNOTSUPP" link set dev enp2s0f0 vf 0 state enable  # no ndo_set_vf_link_state
expect_ip_err "$EOPNOTSUPP" link set dev enp2s0f0 vf 0 query_rss on  # no ndo_set_vf_rss_query_en
expect_ip_ok link set dev enp2s0f0 vf 1 spoofchk off trust on
expect_ip_err "$EINVAL" link set dev enp2s0f0 vf 2 trust on              # 2 VFs allocated
expect_eq "$(vf_line enp2s0f0 0)" \
        "vf 0     link/ether 52:54:00:00:02:01 brd ff:ff:ff:ff:ff:ff, vlan 4095, tx rate 100 (Mbps), max_tx_rate 100Mbps, spoof checking on, link-state auto, trust off" \
        "igb VF 0"
# a zero MAC drops the administrative one
expect_ip_ok link set dev enp2s0f0 vf 0 mac 00:00:00:00:00:00
expect_eq "$(vf_line enp2s0f0 0 | awk '{print $4}')" 00:00:00:00:00:00 "igb VF 0 after zero"
# "Reload the VF driver to make this change effective": igbvf keeps its address
v1=$(rd "$SIM_ROOT/class/net/enp2s0f0v1/address")
expect_ip_ok link set dev enp2s0f0 vf 1 mac 52:54:00:00:02:02
expect_eq "$(rd "$SIM_ROOT/class/net/enp2s0f0v1/address")" "$v1" "igbvf's address before a reload"

# ---- failure injection and latency ----
ctl fail vf_set 0000:02:10.2 EIO                 # VF 1, once
expect_ip_err "RTNETLINK answers: Input/output error" link set dev enp2s0f0 vf 1 trust off
expect_ip_ok link set dev enp2s0f0 vf 1 trust off
ctl fail vf_set enp2s0f0/spoofchk EBUSY 0         # one attribute of every VF, until cleared
expect_ip_ok link set dev enp2s0f0 vf 0 trust on
expect_ip_err "RTNETLINK answers: Device or resource busy" link set dev enp2s0f0 vf 0 spoofchk off
expect_ip_err "RTNETLINK answers: Device or resource busy" link set dev enp2s0f0 vf 1 spoofchk off
ctl clear vf_set
expect_ip_ok link set dev enp2s0f0 vf 1 spoofchk on
grep -q 'rtnl/enp2s0f0/vf1/trust "off" EIO$' "$SIM_ROOT/.sim/log" || fail "log: the injected failure"
# one request per VF, each waits 300 ms in the driver; rtnl_lock makes two
# clients wait for each other
ctl latency vf_set 300
t0=$(now_ms)
ipr link set dev enp2s0f0 vf 0 trust off &
p1=$!
ipr link set dev enp2s0f0 vf 1 trust on &
p2=$!
wait $p1 || fail "latency: VF 0"
wait $p2 || fail "latency: VF 1"
t=$(($(now_ms) - t0))
[ "$t" -ge 600 ] || fail "two ndo_set_vf_* under rtnl_lock took ${t} ms, expected >= 600"
ctl latency vf_set 0
expect_write "$SIM_ROOT/.sim/ctl" "fail vf_set" EINVAL
expect_write "$SIM_ROOT/.sim/ctl" "latency vf_set x" EINVAL
sim_stop

# ---- mlx5 (en_main.c mlx5e_set_vf_*, eswitch.c mlx5_eswitch_*) ----
sim_start_rtnl "$TOPO/connectx.json"
expect_write "$(dev 0000:5e:00.0)/sriov_numvfs" 2 0
# mlx5_eswitch_get_vport_config() memsets ifla_vf_info: query_rss reads
# "off" (0, not -1), no address until one is set
expect_eq "$(vf_line ens2f0np0 0)" \
        "vf 0     link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof checking off, link-state auto, trust off, query_rss off" \
        "mlx5 VF 0 before"
expect_ip_ok link set dev ens2f0np0 vf 0 min_tx_rate 100 max_tx_rate 1000
expect_ip_err "$EINVAL" link set dev ens2f0np0 vf 0 rate 50    # IFLA_VF_TX_RATE below the minimum: the core refuses
expect_ip_err "$EPROTONOSUPPORT" link set dev ens2f0np0 vf 0 vlan 10 proto 802.1ad
expect_ip_ok link set dev ens2f0np0 vf 0 state disable spoofchk on trust on
expect_ip_err "$EOPNOTSUPP" link set dev ens2f0np0 vf 0 query_rss on
expect_ip_ok link set dev ens2f0np0 vf 1 mac 52:54:00:00:05:01
expect_eq "$(vf_line ens2f0np0 0)" \
        "vf 0     link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, tx rate 1000 (Mbps), max_tx_rate 1000Mbps, min_tx_rate 100Mbps, spoof checking on, link-state disable, trust on, query_rss off" \
        "mlx5 VF 0 after"
# the e-switch has vports for every VF the device can have: VF 5 of 8 is
# accepted although only 2 are enabled; VF 8 is not
expect_ip_ok link set dev ens2f0np0 vf 5 trust on
expect_ip_err "$EINVAL" link set dev ens2f0np0 vf 8 trust on
sim_stop

# ---- ixgbe (ixgbe_sriov.c ixgbe_ndo_set_vf_*) ----
sim_start_rtnl "$TOPO/no-iommu.json"
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 2 0
ctl netdev enp1s0f0 up
expect_eq "$(vf_line enp1s0f0 0 | sed 's/.*, spoof/spoof/')" \
        "spoof checking on, link-state auto, trust off, query_rss off" "ixgbe VF 0"
expect_ip_ok link set dev enp1s0f0 vf 0 max_tx_rate 1000
expect_ip_err "$EINVAL" link set dev enp1s0f0 vf 0 max_tx_rate 10   # 11 Mbit/s at least
expect_ip_err "$EINVAL" link set dev enp1s0f0 vf 0 max_tx_rate 10001
expect_ip_ok link set dev enp1s0f0 vf 0 query_rss on               # 82599: ndo_set_vf_rss_query_en
expect_ip_err "$EOPNOTSUPP" link set dev enp1s0f0 vf 0 state enable  # not before 6.x
ctl netdev enp1s0f0 down
expect_ip_err "$EINVAL" link set dev enp1s0f0 vf 1 max_tx_rate 1000 # no link
expect_eq "$(vf_line enp1s0f0 0 | sed 's/.*, spoof/spoof/')" \
        "spoof checking on, link-state auto, trust off, query_rss on" "ixgbe VF 0 after"
echo "PASS: per-driver VF models"
