#!/bin/bash
# A VF's settings through sriovctl, against the simulator's rtnetlink and
# real iproute2 as an independent reader: show lists them (and "-" where
# they cannot be read, without failing), set changes them and prints what
# the kernel reports afterwards, a zero MAC a driver refuses is replaced
# with a warning; every refusal with its exit status, changing nothing.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"
# the i40e model of x710.json; igb as of Linux 4.14 (a zero MAC is EINVAL);
# an SR-IOV NVMe controller: VFs without a network interface on the PF
cat > "$T/host.json" <<'JSON'
{
  "drivers": {
    "pcieport": { "ids": [ { "class": "0x060400", "class_mask": "0xffffff" } ] },
    "i40e":  { "ids": [ "8086:1572" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "reset", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] }, "rate": { "min": false, "max": 10000 },
                           "spoofchk": { "default": true }, "trust": true, "link_state": true, "query_rss": false } },
    "iavf":  { "ids": [ "8086:154c" ], "netdev": true },
    "igb414": { "ids": [ "8086:1526" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "einval", "netdev": "probe", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] },
                           "rate": { "min": false, "link_up": true, "max": 1000 },
                           "spoofchk": { "default": true }, "trust": true } },
    "nvme":  { "ids": [ "1b36:0010" ], "sriov": true },
    "vfio-pci": { "override_only": true, "vfio": true }
  },
  "devices": [
    { "bdf": "0000:00:01.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:01:00.0", "parent": "0000:00:01.0", "id": "8086:1572", "class": "0x020000", "acs": true,
      "driver": "i40e", "netdev": "ens1f0",
      "sriov": { "total": 8, "offset": 16, "vf_id": "8086:154c", "vf_netdev": "ens1f0v%u" } },
    { "bdf": "0000:00:03.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:04:00.0", "parent": "0000:00:03.0", "id": "8086:1526", "class": "0x020000",
      "driver": "igb414", "netdev": "enp4s0f0",
      "sriov": { "total": 8, "offset": 128, "stride": 2, "vf_id": "8086:10ca" } },
    { "bdf": "0000:00:04.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:05:00.0", "parent": "0000:00:04.0", "id": "1b36:0010", "class": "0x010802", "driver": "nvme",
      "sriov": { "total": 4, "offset": 1, "stride": 1, "vf_id": "1b36:0010" } }
  ]
}
JSON
sim_start "$T/host.json"
bus_start
sim_ctl netdev ens1f0 up
sim_ctl netdev enp4s0f0 up
start_sriovd

PF=0000:01:00.0
expect_ok enable $PF 2 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
ipvf() { with_sim_rtnl "$IP" link show dev "${2:-ens1f0}" | grep "vf $1 "; }

note "show: the VF's settings as the kernel reports them"
mac0=$(ipvf 0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$mac0" ] || fail "ip shows no MAC for VF 0: $(ipvf 0)"
expect_ok show "$VF0"
while IFS='|' read -r label value; do
        assert_eq "$(field "$label")" "$value" "show: $label"
done <<EOF
MAC|$mac0
VLAN|none
TX rate|no limit
Spoof check|on
Trust|off
Link state|auto
Query RSS|-
Not reported|query_rss
EOF
grep -q . <<<"$(field Settings)" && fail "show: a settings error where there is none: $OUT"
expect_ok --json show "$VF0"
assert_eq "$(jq_out "d['settings_not_reported'], d['settings_error']")" "(['query_rss'], None)" \
        "show --json: what the driver does not report"
assert_eq "$(jq_out "d['settings']")" "{'mac': '$mac0', 'vlan': 0, 'qos': 0, 'vlan_proto': '802.1Q', 'min_tx_rate': 0, \
'max_tx_rate': 0, 'spoofchk': True, 'trust': False, 'link_state': 'auto'}" "show --json: settings"
expect_ok --json show $PF
assert_eq "$(jq_out "'settings' in d")" False "a PF has no VF settings"

note "set: the settings, and what the kernel reports after"
expect_ok set "$VF0" --mac 02:00:00:00:00:10 --vlan 100 --qos 2 --max-tx-rate 1000 --spoofchk off --trust on \
        --link-state enable
while IFS='|' read -r label value; do
        assert_eq "$(field "$label")" "$value" "set: $label"
done <<EOF
VF|$VF0
PF interface|ens1f0
VF index|0
MAC|02:00:00:00:00:10
VLAN|100, QoS 2, 802.1Q
TX rate|at most 1000 Mbit/s
Spoof check|off
Trust|on
Link state|enable
EOF
ipvf 0 | grep -q "link/ether 02:00:00:00:00:10 .*, vlan 100, qos 2, .*max_tx_rate 1000Mbps, spoof checking off, link-state enable, trust on" \
        || fail "VF 0 as ip sees it: $(ipvf 0)"
expect_ok show "$VF0"
assert_eq "$(field VLAN) / $(field Trust)" "100, QoS 2, 802.1Q / on" "show after set"
expect_ok --json set ens1f0v1 --vlan 0 --trust off
assert_eq "$(jq_out "sorted(d.keys())")" "['ignored', 'pf_netdev', 'settings', 'vf', 'vf_index', 'zero_mac_fallback']" \
        "set --json: keys"
assert_eq "$(jq_out "d['vf'], d['pf_netdev'], d['vf_index'], d['settings']['vlan'], d['settings']['trust']")" \
        "('ens1f0v1', 'ens1f0', 1, 0, False)" "set --json: values"
assert_eq "$(jq_out "d['ignored'], d['zero_mac_fallback']")" "([], False)" "set --json: nothing ignored"
expect_ok set "$VF0" --mac 00:00:00:00:00:00
assert_eq "$(field MAC)" 00:00:00:00:00:00 "a zero MAC clears the VF's MAC on i40e"

note "a driver that refuses the zero MAC: 02:00:00:00:00:00 instead, and a warning"
expect_ok enable 0000:04:00.0 1 --autoprobe no
IGBVF=$(vf_bdf 0000:04:00.0 0)
expect_ok set "$IGBVF" --mac 52:54:00:cc:00:02
ctl set "$IGBVF" --mac 00:00:00:00:00:00
assert_eq "$RC" 0 "exit status of the zero-MAC fallback"
assert_eq "$(field MAC)" 02:00:00:00:00:00 "the MAC written instead"
assert_eq "$ERR" "sriovctl: warning: the driver of enp4s0f0 refused the zero MAC address; sriovd set 02:00:00:00:00:00 instead." \
        "the warning"
ctl --json set "$IGBVF" --mac 00:00:00:00:00:00
assert_eq "$(jq_out "d['zero_mac_fallback'], d['settings']['mac']")" "(True, '02:00:00:00:00:00')" "--json: the fallback"

note "a VF whose PF has no network interface: show says \"-\", and does not fail"
expect_ok enable 0000:05:00.0 1
NVMEVF=$(vf_bdf 0000:05:00.0 0)
expect_ok show "$NVMEVF"
for label in MAC VLAN "TX rate" "Spoof check" Trust "Link state" "Query RSS"; do
        assert_eq "$(field "$label")" - "show without settings: $label"
done
assert_eq "$(field Settings)" "The PF of $NVMEVF has no network interface: VF settings (MAC, VLAN, ...) need one" \
        "show: why there are no settings"
grep -q . <<<"$(field "Not reported")" && fail "show: \"Not reported\" without settings: $OUT"
expect_ok --json show "$NVMEVF"
assert_eq "$(jq_out "d['settings'], d['physfn'], d['settings_not_reported']")" "(None, '0000:05:00.0', None)" \
        "show --json without settings"
[[ "$(jq_out "d['settings_error']")" == *"has no network interface"* ]] || fail "show --json: no settings_error: $OUT"

# refused STATUS PATTERN ARGS...: the sentence and exit status; the host and
# the VFs' settings as they were
refused() {
        local before_host before_vfs
        before_host=$(snapshot)
        before_vfs=$(with_sim_rtnl "$IP" link show dev ens1f0)
        expect "$@"
        [ -z "$OUT" ] || fail "sriovctl ${*:3}: refused, but printed on stdout: $OUT"
        [ "$before_host" = "$(snapshot)" ] || fail "sriovctl ${*:3} was refused but changed the host"
        [ "$before_vfs" = "$(with_sim_rtnl "$IP" link show dev ens1f0)" ] || fail "sriovctl ${*:3} changed VF settings"
}

note "refused before any call (2)"
refused 2 "set: nothing to set; give --mac" set "$VF1"
refused 2 "set: nothing to set" set "$VF1" --bring-pf-up
refused 2 "--mac 02-00-00-00-00-01: expected a unicast MAC address, xx:xx:xx:xx:xx:xx." set "$VF1" --mac 02-00-00-00-00-01
refused 2 "--vlan 4095: expected a whole number from 0 to 4094." set "$VF1" --vlan 4095
refused 2 "--vlan -1: expected a whole number from 0 to 4094." set "$VF1" --vlan=-1
refused 2 "--qos 8: expected a whole number from 0 to 7." set "$VF1" --qos 8
refused 2 "--vlan-proto 802.1x: expected 802.1Q or 802.1ad." set "$VF1" --vlan-proto 802.1x
refused 2 "--max-tx-rate 1G: expected a whole number of Mbit/s." set "$VF1" --max-tx-rate 1G
refused 2 "--spoofchk maybe: expected on or off." set "$VF1" --spoofchk maybe
refused 2 "--link-state up: expected auto, enable or disable." set "$VF1" --link-state up
refused 2 "--uid does not go with set." set "$VF1" --trust on --uid 0
refused 2 "--mac-base does not go with set." set "$VF1" --mac-base 02:00:00:00:00:01
refused 2 "set: expected VF, got 2 arguments." set "$VF1" "$VF0" --trust on
refused 2 "set: --qos 3 needs a VLAN: give --vlan (1 to 4094) too." set "$VF1" --qos 3
refused 2 "set: --min-tx-rate 10 is above --max-tx-rate 5." set "$VF1" --min-rate 10 --max-rate 5

note "refused by sriovd or the kernel: invalid (6), not supported (10)"
refused 2 "--mac 01:00:00:00:00:01: expected a unicast MAC address" set "$VF1" --mac 01:00:00:00:00:01
refused 6 "$PF is not a VF: settings such as MAC and VLAN belong to VFs" set $PF --trust on
refused 10 "Cannot set query_rss of VF 1 on ens1f0: Operation not supported" set "$VF1" --query-rss on
[[ "$ERR" == *'Hint: "sriovctl show VF" lists the settings the driver of its PF reports'* ]] || fail "no hint: $ERR"
refused 6 "Cannot set rate of VF 1 on ens1f0: Invalid argument" set "$VF1" --max-tx-rate 20000
refused 10 "has no network interface" set "$NVMEVF" --trust on

note "refused: no such device (5), a guest's VF (7), not supported (10), failures of the kernel (1)"
refused 5 "Cannot change the settings of 0000:99:00.0: No PCI function 0000:99:00.0" set 0000:99:00.0 --trust on
expect_ok assign vm1 "$VF1" --vlan 7
refused 7 "Cannot change the settings of $VF1: $VF1 is assigned to guest vm1" set "$VF1" --trust on
[[ "$ERR" == *'Hint: "sriovctl assignments" lists the guests and their VFs; release the VF first'* ]] \
        || fail "no hint: $ERR"
expect_ok release vm1
refused 10 "Cannot set vlan of VF 1 on ens1f0: Protocol not supported" set "$VF1" --vlan 5 --vlan-proto 802.1ad
refused 10 "Cannot set vlan of VF 1 on ens1f0: Protocol not supported" set "$VF1" --vlan 5 --proto 802.1ad
sim_ctl fail vf_set ens1f0/trust EIO 1
refused 1 "Cannot set trust of VF 1 on ens1f0" set "$VF1" --trust on --vlan 9

note "the PF is down: refused (1), or brought up with --bring-pf-up"
sim_ctl netdev ens1f0 down
refused 1 "ens1f0 is down" set "$VF1" --trust on
expect_ok set "$VF1" --trust on --bring-pf-up
assert_eq "$(field Trust)" on "set with --bring-pf-up"
assert_eq "$(cat "$SIM_ROOT/class/net/ens1f0/operstate")" up "the PF is up"
echo ok
