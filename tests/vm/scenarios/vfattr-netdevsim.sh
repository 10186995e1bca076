# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# vfattr-netdevsim: VF settings over rtnetlink through lib/vfattr.c on a
# second real PF driver, netdevsim (built into the 6.12 kernel): the
# project's own IFLA_VF_* payloads, an 802.1ad VLAN included (igb refuses
# that protocol, so sriovd-config cannot show its byte order is right),
# query_rss too, read back by the library and by iproute2, then cleared
# again.
#
# diff-skip: netdevsim's VFs are not PCI functions; the simulator serves PCI

no_reference
only_on_kernel "kernel2-*" "netdevsim is built into the 6.12 kernel, not Debian's"
need_bin sriov-tool
[ -w /sys/bus/netdevsim/new_device ] || skip "no netdevsim in this kernel"
NS=/sys/bus/netdevsim/devices/netdevsim10
echo "10 1" >/sys/bus/netdevsim/new_device
wait_until 10 eval 'ls "$NS/net" 2>/dev/null | grep -q .'
IF=$(ls "$NS/net" | head -n 1)
expect numvfs.store "$(sw "$NS/sriov_numvfs" 4)" ok
expect numvfs.ip "$($IP link show dev "$IF" | grep -c '^ *vf [0-9]')" 4

# vf_line N: iproute2's line for VF N, spaces squeezed
vf_line() { $IP link show dev "$IF" | sed -n "s/^ *vf $1 */vf$1 /p" | tr -s ' '; }

r=$(sriov-tool vf-set "$IF" 1 '{"mac": "02:00:00:5e:10:01", "vlan": 100, "qos": 3, "vlan_proto": "802.1ad", "min_tx_rate": 10, "max_tx_rate": 1000, "spoofchk": false, "trust": true, "link_state": "disable", "query_rss": true}' 2>&1)
expect_glob set.reply "$r" '{*"mac":"02:00:00:5e:10:01","vlan":100,"qos":3,"vlan_proto":"802.1ad","min_tx_rate":10,"max_tx_rate":1000,"spoofchk":false,"trust":true,"link_state":"disable","query_rss":true}'
case "$r" in *ignored:*) fail "netdevsim ignored a setting: $r" ;; esac
obs set.ip "$(vf_line 1)"
expect_glob set.ip.mac "$(vf_line 1)" 'vf1 link/ether 02:00:00:5e:10:01 *'
expect_glob set.ip.vlan "$(vf_line 1)" '*, vlan 100, qos 3, vlan protocol 802.1ad,*'
expect_glob set.ip.rate "$(vf_line 1)" '*max_tx_rate 1000Mbps, min_tx_rate 10Mbps,*'
expect_glob set.ip.flags "$(vf_line 1)" '*spoof checking off, link-state disable, trust on, query_rss on'
r=$(sriov-tool vf-get "$IF" | grep '^vf1 ')
expect_glob get.vf1 "$r" 'vf1 {*"vlan":100,"qos":3,"vlan_proto":"802.1ad"*}'
expect get.vf0_untouched "$(sriov-tool vf-get "$IF" | grep -c '^vf0 .*"vlan":100')" 0

# back to no VLAN (the protocol returns to 802.1Q), no rate limit, defaults
r=$(sriov-tool vf-set "$IF" 1 '{"vlan": 0, "max_tx_rate": 0, "min_tx_rate": 0, "spoofchk": true, "trust": false, "link_state": "auto", "query_rss": false}' 2>&1)
expect_glob clear.reply "$r" '{*"vlan":0,"qos":0,"vlan_proto":"802.1Q","min_tx_rate":0,"max_tx_rate":0,"spoofchk":true,"trust":false,"link_state":"auto","query_rss":false}'
obs clear.ip "$(vf_line 1)"
case "$(vf_line 1)" in *"vlan 100"*|*max_tx_rate*) fail "not cleared: $(vf_line 1)" ;; esac

# a VF number past the enabled ones: refused before anything is sent
before=$($IP link show dev "$IF" | grep '^ *vf ')
r=$(sriov-tool vf-set "$IF" 4 '{"trust": true}' 2>&1)
expect_glob past_numvfs.refused "$r" "ERANGE: $IF has no VF 4 (the kernel reports 4 VFs)"
expect past_numvfs.unchanged "$($IP link show dev "$IF" | grep '^ *vf ')" "$before"

sw "$NS/sriov_numvfs" 0 >/dev/null
echo 10 >/sys/bus/netdevsim/del_device
