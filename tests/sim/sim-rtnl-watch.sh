#!/bin/bash
# The rtnetlink emulation's link facts, VF counters and notifications, as
# the kernel has them (Linux 6.1: rtnl_fill_vfinfo(), rtmsg_ifinfo(),
# do_setlink(), linkwatch; carrier_show(), speed_show()), read through
# lib/ (linkmon.c, vfstats.c) by tests/sriov-tool and iproute2:
#  - carrier, operstate, speed and duplex: EINVAL while down; a link
#    partner gone ("netdev IF carrier off"): carrier 0, operstate down,
#    speed -1, no RUNNING/LOWER_UP;
#  - IFLA_VF_STATS in every IFLA_VF_INFO unless RTEXT_FILTER_SKIP_STATS;
#    the counters of a driver with ndo_get_vf_stats (i40e), zeros from one
#    without (igb) whatever the VF's traffic;
#  - RTM_NEWLINK to RTNLGRP_LINK members on a VF setting, up/down, carrier,
#    MTU; RTM_NEWLINK/RTM_DELLINK as VF net devices come and go; nothing
#    to sockets that did not join.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
. "$top_srcdir/tests/sim/rtnl-lib.sh"
command -v sriov-tool >/dev/null || PATH="$top_builddir/tests:$PATH"
command -v sriov-tool >/dev/null || skip "sriov-tool is not built"

work=$RTNL_WORK
cat >"$work/host.json" <<'JSON'
{
  "drivers": {
    "pcieport": { "ids": [ { "class": "0x060400", "class_mask": "0xffffff" } ] },
    "i40e":  { "ids": [ "8086:1572" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "reset", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] }, "rate": { "min": false, "max": 10000 },
                           "spoofchk": { "default": true }, "trust": true, "link_state": true, "stats": true } },
    "iavf":  { "ids": [ "8086:154c" ], "netdev": true },
    "igb":   { "ids": [ "8086:10c9" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "probe", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] }, "rate": { "min": false, "link_up": true, "max": 1000 },
                           "spoofchk": { "default": true }, "trust": true } },
    "igbvf": { "ids": [ "8086:10ca" ], "netdev": true }
  },
  "devices": [
    { "bdf": "0000:00:01.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:01:00.0", "parent": "0000:00:01.0", "id": "8086:1572", "class": "0x020000", "acs": true,
      "driver": "i40e", "netdev": "ens1f0", "port_speed": 10000,
      "sriov": { "total": 8, "offset": 16, "vf_id": "8086:154c", "vf_netdev": "ens1f0v%u", "autoprobe": false } },
    { "bdf": "0000:00:02.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:02:00.0", "parent": "0000:00:02.0", "id": "8086:10c9", "class": "0x020000",
      "driver": "igb", "netdev": "enp2s0f0", "port_speed": 1000,
      "sriov": { "total": 8, "offset": 128, "stride": 2, "vf_id": "8086:10ca", "vf_netdev": "enp2s0f0v%u",
                 "autoprobe": false } }
  ]
}
JSON
sim_start_rtnl "$work/host.json"
tool() { SRIOV_SIM_RTNL="$RTNL_SOCK" LD_PRELOAD="$SHIM" sriov-tool --sysfs-root "$SIM_ROOT" "$@"; }
net() { cat "$SIM_ROOT/class/net/$1/$2" 2>&1 | sed 's/^cat: .*: //'; }

# ---- link facts: down, up, no link partner
expect_eq "$(net ens1f0 carrier)" "Invalid argument" "carrier while down"
expect_eq "$(net ens1f0 speed)" "Invalid argument" "speed while down"
expect_eq "$(tool link-info ens1f0)" "NEWLINK ens1f0 type=ethernet up=no carrier=0 operstate=down
speed -1" "link-info down"
expect_ip_ok link set ens1f0 up
expect_eq "$(net ens1f0 carrier) $(net ens1f0 operstate) $(net ens1f0 speed) $(net ens1f0 duplex)" "1 up 10000 full" "link up"
expect_eq "$(tool link-info ens1f0)" "NEWLINK ens1f0 type=ethernet up=yes carrier=1 operstate=up
speed 10000" "link-info up"
expect_ip 'state UP' link show dev ens1f0
ctl netdev ens1f0 carrier off
expect_eq "$(net ens1f0 carrier) $(net ens1f0 operstate) $(net ens1f0 speed) $(net ens1f0 duplex)" "0 down -1 unknown" "no link partner"
expect_ip 'NO-CARRIER.*state DOWN' link show dev ens1f0
expect_eq "$(tool link-info ens1f0)" "NEWLINK ens1f0 type=ethernet up=yes carrier=0 operstate=down
speed -1" "link-info without link"
ctl netdev ens1f0 carrier on
expect_eq "$(net ens1f0 carrier)" 1 "link partner back"

# ---- VF counters
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 2 0
expect_write "$(dev 0000:02:00.0)/sriov_numvfs" 2 0
out=$(tool vf-stats ens1f0 i40e)
expect_eq "$out" "num_vf 2 vfinfo yes
vf0 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=yes
vf1 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=yes" "i40e counters at 0"
vf0=$(basename "$(readlink "$(dev 0000:01:00.0)/virtfn0")")
igbvf0=$(basename "$(readlink "$(dev 0000:02:00.0)/virtfn0")")
for c in "rx_packets 10" "rx_bytes 15000" "tx_packets 3" "tx_bytes 180" "broadcast 2" "multicast 1" "rx_dropped 4" "tx_dropped 5"; do
        ctl traffic "$vf0" $c
        ctl traffic "$igbvf0" $c
done
ctl traffic "$vf0" rx_packets 1
expect_eq "$(tool vf-stats ens1f0 i40e | grep '^vf0')" \
        "vf0 nest yes rx_packets=11 tx_packets=3 rx_bytes=15000 tx_bytes=180 broadcast=2 multicast=1 rx_dropped=4 tx_dropped=5 reported=yes" "i40e counts"
expect_eq "$(tool vf-stats enp2s0f0 igb | grep '^vf0')" \
        "vf0 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=no: the PF driver does not count VF traffic (the kernel sends zeros)" \
        "igb has no ndo_get_vf_stats"
# iproute2 reads the same nest (ip -s link)
expect_ip 'RX: bytes +packets +mcast +bcast +dropped' -s link show dev ens1f0
expect_ip '^ +15000 +11 +1 +2 +4' -s link show dev ens1f0
expect_write "$SIM_ROOT/.sim/ctl" "traffic 0000:01:00.0 rx_packets 1" ENODEV
expect_write "$SIM_ROOT/.sim/ctl" "traffic $vf0 bogus 1" EINVAL
# a VF made again starts from zero
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 0 0
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 2 0
expect_eq "$(tool vf-stats ens1f0 i40e | grep -c 'rx_packets=0 ')" 2 "counters of new VFs"

# ---- notifications
# watch_start IF SECONDS [COUNT]: with COUNT the watcher ends once that many
# came (SECONDS only bounds it), so a loaded machine cannot outlast it
watch_start() {
        tool link-watch "$@" >"$work/watch.out" 2>&1 &
        WATCH=$!
        for ((i = 0; i < 200; i++)); do
                grep -q subscribed "$work/watch.out" && return 0
                sleep 0.05
        done
        fail "link-watch did not subscribe: $(cat "$work/watch.out")"
}
# watch_end: wait for it (not in a subshell: it is this shell's child); then
# watch_seen prints the notifications it got
watch_end() {
        wait "$WATCH" || fail "link-watch: $(cat "$work/watch.out")"
}
watch_seen() { grep '^notify' "$work/watch.out" || :; }
# a watcher that ends once the seven notifications came: what came meanwhile
watch_start ens1f0 60 7
expect_ip_ok link set ens1f0 vf 1 mac 02:00:00:00:01:01
expect_ip_ok link set ens1f0 mtu 9000
expect_ip_ok link set ens1f0 down
expect_ip_ok link set ens1f0 up
ctl netdev ens1f0 carrier off
ctl netdev ens1f0 carrier on
watch_end
expect_eq "$(watch_seen)" "notify NEWLINK ens1f0 type=ethernet up=yes carrier=1 operstate=up
notify NEWLINK ens1f0 type=ethernet up=yes carrier=1 operstate=up
notify NEWLINK ens1f0 type=ethernet up=no carrier=0 operstate=down
notify NEWLINK ens1f0 type=ethernet up=yes carrier=0 operstate=down
notify NEWLINK ens1f0 type=ethernet up=yes carrier=1 operstate=up
notify NEWLINK ens1f0 type=ethernet up=yes carrier=0 operstate=down
notify NEWLINK ens1f0 type=ethernet up=yes carrier=1 operstate=up" "notifications: VF MAC, MTU, down, up (then the carrier), carrier off, on"
# a refused VF setting changes nothing: no notification
watch_start ens1f0 1
expect_ip_err "$EINVAL" link set ens1f0 vf 7 mac 02:00:00:00:01:07
watch_end
expect_eq "$(watch_seen)" "" "refused setting"
# VF net devices come and go
expect_write "$(dev 0000:01:00.0)/sriov_drivers_autoprobe" 1 0
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 0 0
watch_start ens1f0v0 60 2
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 1 0
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 0 0
watch_end
expect_eq "$(watch_seen)" "notify NEWLINK ens1f0v0 type=ethernet up=no carrier=0 operstate=down
notify DELLINK ens1f0v0 type=ethernet up=no carrier=0 operstate=down" "VF netdev added and removed"
# nothing without joining the group: a plain query socket gets its answers only
expect_eq "$(tool vf-stats enp2s0f0 | head -n 1)" "num_vf 2 vfinfo yes" "query"
echo "PASS"
