# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# rtnl-link: the kernel's link facts and VF counters as sriovd reads them
# (lib/linkmon.c, lib/vfstats.c through tests/sriov-tool), and the link
# notifications (RTNLGRP_LINK): the igb PF's carrier, operstate, speed and
# duplex in sysfs and over rtnetlink, down and up; the IFLA_VF_STATS nest
# of igb's VFs (present, all zeros: igb has no ndo_get_vf_stats); an
# RTM_NEWLINK of the PF for a VF setting made with ip(8), for down, and for
# up followed by the carrier. Compared with the simulator's rtnetlink
# emulation (tests/sim/README.md, "rtnetlink").
#
# diff-rtnl: the simulator's rtnetlink through the preload shim
# diff-exclude: up.wait_carrier -- igb negotiates its link (a second or two), the simulator's partner answers at once

need_bin sriov-tool
need_igb || skip "no igb NIC (QEMU < 8)"
GP=$PCI/devices/$IGB
IF=$(ls "$GP/net" 2>/dev/null | head -n 1)
[ -n "$IF" ] || { fail "the igb PF has no interface"; exit 1; }
netrd() { cat "/sys/class/net/$IF/$1" 2>&1 | sed 's/^cat: .*: //'; }
# watch_from N: the notifications after the first N ones, "|" between
watch_from() { grep '^notify' "$STATE/watch" | tail -n +$(($1 + 1)) | sed "s/ $IF / IF /" | tr '\n' '|'; }
notified() { grep -c '^notify' "$STATE/watch"; }

# ---- down: nothing to read but the state
$IP link set dev "$IF" down
expect down.carrier "$(netrd carrier)" "Invalid argument"
expect down.speed "$(netrd speed)" "Invalid argument"
expect down.duplex "$(netrd duplex)" "Invalid argument"
expect down.operstate "$(netrd operstate)" down
expect down.link_info "$(sriov-tool link-info "$IF" | sed "s/ $IF / IF /")" "NEWLINK IF type=ethernet up=no carrier=0 operstate=down
speed -1"

sriov-tool link-watch "$IF" 60 >"$STATE/watch" 2>&1 &
W=$!
echo "$W" >>"$STATE/pids"
wait_until 10 grep -q subscribed "$STATE/watch"

# ---- up: first without the carrier, which follows once the link is negotiated
$IP link set dev "$IF" up
wait_until 20 eval 'watch_from 0 | grep -q "up=yes carrier=1"'
obs up.wait_carrier "$(watch_from 0)"
expect up.notified_first "$(watch_from 0 | cut -d'|' -f1)" "notify NEWLINK IF type=ethernet up=yes carrier=0 operstate=down"
expect up.notified_carrier "$(watch_from 0 | tr '|' '\n' | grep -c 'up=yes carrier=1 operstate=up' | sed 's/^[1-9][0-9]*$/yes/')" yes
wait_until 20 eval '[ "$(netrd carrier)" = 1 ]'
expect up.carrier "$(netrd carrier)" 1
expect up.operstate "$(netrd operstate)" up
expect up.speed "$(netrd speed)" 1000
expect up.duplex "$(netrd duplex)" full
expect up.link_info "$(sriov-tool link-info "$IF" | sed "s/ $IF / IF /")" "NEWLINK IF type=ethernet up=yes carrier=1 operstate=up
speed 1000"

# ---- VF counters: the nest of every VF, zeros from igb
expect stats.autoprobe "$(sw "$GP/sriov_drivers_autoprobe" 0)" ok
n=$(notified)
expect stats.enable "$(sw "$GP/sriov_numvfs" 2)" ok
wait_until 20 eval '[ "$(netrd carrier)" = 1 ]'
sriov-tool vf-stats "$IF" igb >"$STATE/stats" 2>&1
expect stats.head "$(sed -n 1p "$STATE/stats")" "num_vf 2 vfinfo yes"
expect stats.vf0 "$(sed -n 2p "$STATE/stats")" "vf0 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=no: the PF driver does not count VF traffic (the kernel sends zeros)"
expect stats.vf1 "$(sed -n 3p "$STATE/stats")" "vf1 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=no: the PF driver does not count VF traffic (the kernel sends zeros)"

# ---- a VF setting made with ip(8): an RTM_NEWLINK of the PF, without VF information
n=$(notified)
$IP link set dev "$IF" vf 1 mac 02:00:00:5e:77:01
wait_until 10 eval '[ "$(notified)" -gt "$n" ]'
expect vf_mac.notified "$(watch_from "$n" | cut -d'|' -f1)" "notify NEWLINK IF type=ethernet up=yes carrier=1 operstate=up"
# ---- down: one RTM_NEWLINK, no carrier
n=$(notified)
$IP link set dev "$IF" down
wait_until 10 eval '[ "$(notified)" -gt "$n" ]'
expect down.notified "$(watch_from "$n" | cut -d'|' -f1)" "notify NEWLINK IF type=ethernet up=no carrier=0 operstate=down"
$IP link set dev "$IF" up
wait_until 20 eval '[ "$(netrd carrier)" = 1 ]'
kill "$W" 2>/dev/null
sw "$GP/sriov_numvfs" 0 >/dev/null
