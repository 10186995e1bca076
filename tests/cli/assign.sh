#!/bin/bash
# VFs for guests through sriovctl: pools, assign with settings and the VFIO
# nodes handed to a user, the libvirt XML and QEMU arguments alone
# (--format), idempotence, assignments, release putting everything back,
# run-time pools; every refusal with its exit status, changing nothing.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "vms", "select": [ "ens1f0#0-1" ] } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
mkdir -p "$T/dev/vfio"
start_sriovd --dev-root "$T/dev"

PF=0000:3b:00.0
for n in 0 1 2 3; do declare "VF$n=$(vf_bdf $PF $n)"; done
group_of() { basename "$(readlink "$SIM_ROOT/bus/pci/devices/$1/iommu_group")"; }
ipvf() { with_sim_rtnl "$IP" link show dev ens1f0 | grep "vf $1 "; }
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3)
[ -n "$NOGROUP" ] || skip "no group nogroup"
ASSIGN_KEYS="device_nodes driver gid guest iommu_group libvirt_hostdev libvirt_interface missing numa_node owner pf pool
qemu_args reason reset settings state uid vf vf_index"
sorted() { tr ' ' '\n' <<<"$*" | grep . | sort | tr '\n' ' '; }
keys_are() {
        local expr=$1; shift
        assert_eq "$(jq_out "' '.join(sorted($expr.keys()))") " "$(sorted "$@")" "keys of $expr"
}

note "pools"
expect_ok pools
assert_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "POOL SOURCE DRIVER USED QUARANTINED RESET SELECTORS SETTINGS" "pools: header"
assert_eq "$(row vms | tr -s ' ')" "vms configuration vfio-pci 0/2 0 auto ens1f0#0-1 -" "pools: the pool"
expect_ok --json pools
assert_eq "$(jq_out d)" "{'pools': [{'name': 'vms', 'selectors': ['ens1f0#0-1'], 'source': 'configuration', \
'driver': 'vfio-pci', 'size': 2, 'assigned': 0, 'quarantined': 0, 'reset': 'auto', 'settings': {}}]}" "pools --json"

note "assign from a pool, with settings and the VFIO node for a user"
g0=$(group_of "$VF0")
mknod "$T/dev/vfio/$g0" c 245 0
chmod 600 "$T/dev/vfio/$g0"
before0=$(ipvf 0)
expect_ok assign vm1 vms --mac 02:00:00:00:00:42 --vlan 42 --qos 3 --uid nobody --gid nogroup
while IFS='|' read -r label value; do
        assert_eq "$(field "$label" | head -n1)" "$value" "assign: $label"
done <<EOF
Guest|vm1
Lease holder|local
VF|$VF0
PF|$PF
VF index|0
Pool|vms
Driver|vfio-pci
State|ready
Reset between guests|auto
IOMMU group|$g0
NUMA node|0
Device nodes|$T/dev/vfio/$g0
Node owner|$NOBODY:$NOGROUP
MAC|02:00:00:00:00:42
VLAN|42, QoS 3, 802.1Q
QEMU arguments|-device vfio-pci,host=$VF0,id=sriovd-0000-3b-02.0
libvirt hostdev|<hostdev mode='subsystem' type='pci' managed='no'>
libvirt interface|<interface type='hostdev' managed='no'>
EOF
assert_eq "$(driver_of "$VF0")" vfio-pci "the assigned VF's driver"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g0")" "$NOBODY:$NOGROUP 660" "the VFIO node handed over"
grep -q "link/ether 02:00:00:00:00:42.*vlan 42, qos 3" <<<"$(ipvf 0)" || fail "VF 0 after assign: $(ipvf 0)"

note "idempotent for the guest that holds the VF; other settings are refused (7)"
expect_ok --json assign vm1 "$VF0" --mac 02:00:00:00:00:42 --vlan 42 --qos 3 --uid nobody --gid nogroup
keys_are d $ASSIGN_KEYS
assert_eq "$(jq_out "d['vf'], d['uid'], d['gid'], d['settings']")" \
        "('$VF0', $NOBODY, $NOGROUP, {'mac': '02:00:00:00:00:42', 'vlan': 42, 'qos': 3, 'vlan_proto': '802.1Q'})" \
        "assign --json"
before=$(snapshot)
expect 7 "Cannot assign $VF0 to vm1: The guest holds this VF with other settings" assign vm1 "$VF0" --vlan 43
[ "$before" = "$(snapshot)" ] || fail "a refused assign changed the host"

note "--format: only the libvirt XML, or only the QEMU arguments"
expect_ok assign vm2 vms --token t1 --format libvirt
echo "$OUT" > "$T/hostdev.xml"
python3 - "$T/hostdev.xml" "$VF1" <<'PY' || fail "the libvirt XML: $OUT"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
a = root.find("source/address").attrib
dom, rest = sys.argv[2].split(":", 1)
bus, slotfn = rest.split(":")
slot, fn = slotfn.split(".")
assert root.tag == "hostdev" and root.get("type") == "pci", root.tag
assert (int(a["domain"], 16), int(a["bus"], 16), int(a["slot"], 16), int(a["function"], 16)) == \
       (int(dom, 16), int(bus, 16), int(slot, 16), int(fn, 16)), a
PY
# (tests/cli/libvirt-xml.sh validates it against libvirt's schema)
expect_ok assign vm2 vms --token t1 --format qemu
assert_eq "$OUT" "-device vfio-pci,host=$VF1,id=sriovd-0000-3b-02.1" "--format qemu (the same VF: same token)"
expect_ok assign vm2 vms --token t1 --format libvirt-interface
assert_eq "$(head -n1 <<<"$OUT")" "<interface type='hostdev' managed='no'>" "--format libvirt-interface"
assert_eq "$(tail -n1 <<<"$OUT")" "</interface>" "--format libvirt-interface: the whole element"
expect_ok --json assign vm2 vms --token t1
assert_eq "$(jq_out "d['vf'], d['pool'], d['qemu_args'], d['uid'], d['settings']")" \
        "('$VF1', 'vms', ['-device', 'vfio-pci,host=$VF1,id=sriovd-0000-3b-02.1'], None, {})" "assign --json from a pool"

note "assignments"
expect_ok assignments
assert_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "GUEST OWNER VF PF POOL STATE DRIVER GROUP NUMA" "assignments: header"
assert_eq "$(row vm1 | tr -s ' ')" "vm1 local $VF0 $PF vms ready vfio-pci $g0 0" "assignments: vm1"
assert_eq "$(row vm2 | awk '{print $3, $6}')" "$VF1 ready" "assignments: vm2"
expect_ok --json assignments
assert_eq "$(jq_out "len(d['assignments'])")" 2 "assignments --json"
keys_are "d['assignments'][0]" $ASSIGN_KEYS
assert_eq "$(jq_out "[(a['guest'], a['vf'], a['state'], a['missing']) for a in d['assignments']]")" \
        "[('vm1', '$VF0', 'ready', False), ('vm2', '$VF1', 'ready', False)]" "assignments --json: values"
expect_ok pools
assert_eq "$(row vms | awk '{print $4}')" 2/2 "pools: both VFs in use"

# refused STATUS PATTERN ARGS...: the exit status and sentence; the host,
# the VF settings and the assignments as they were; nothing on stdout
refused() {
        local before_host before_vfs before_list
        before_host=$(snapshot)
        before_vfs=$(with_sim_rtnl "$IP" link show dev ens1f0)
        before_list=$("$SRIOVCTL" --json assignments)
        expect "$@"
        [ -z "$OUT" ] || fail "sriovctl ${*:3}: refused, but printed on stdout: $OUT"
        [ "$before_host" = "$(snapshot)" ] || fail "sriovctl ${*:3} was refused but changed the host"
        [ "$before_vfs" = "$(with_sim_rtnl "$IP" link show dev ens1f0)" ] || fail "sriovctl ${*:3} changed VF settings"
        [ "$before_list" = "$("$SRIOVCTL" --json assignments)" ] || fail "sriovctl ${*:3} changed the assignments"
}

note "refused before any call (2)"
for g in "a b" "../x" "é" "$(printf 'a%.0s' $(seq 65))" ".hidden"; do
        refused 2 "assign: invalid guest name \"$g\"" assign "$g" vms
        refused 2 "release: invalid guest name \"$g\"" release "$g"
done
refused 2 "--vlan 4095: expected a whole number from 0 to 4094." assign vm3 vms --vlan 4095
refused 2 "--qos 8: expected a whole number from 0 to 7." assign vm3 vms --qos 8
refused 2 "--mac 02:00:00:00:00: expected a unicast MAC address" assign vm3 vms --mac 02:00:00:00:00
refused 2 "--numa-policy strict: expected required, preferred or any." assign vm3 vms --numa-policy strict
refused 2 "--uid nosuchuser-x: expected a user name or number." assign vm3 vms --uid nosuchuser-x
refused 2 "--token : expected 1 to 128 printable characters." assign vm3 vms --token ""
refused 2 "--driver a/b: expected a driver name." assign vm3 vms --driver a/b
refused 2 "--format libvirt does not go with --json" --json assign vm3 vms --format libvirt
refused 2 "--mac-base does not go with assign." assign vm3 vms --mac-base 02:00:00:00:00:01
refused 2 "--mac does not go with pool-create." pool-create p ens1f0#2 --mac 02:00:00:00:00:01
refused 2 "--uid does not go with pool-create." pool-create p ens1f0#2 --uid 0
refused 2 "pool-create: expected NAME SELECTOR..., got 1 argument." pool-create p
refused 2 "release: expected GUEST [VF], got 3 arguments." release vm1 a b
refused 2 "assign: --qos 3 needs a VLAN: give --vlan (1 to 4094) too." assign vm3 vms --qos 3
refused 2 "assign: --qos 3 needs a VLAN" assign vm3 vms --qos 3 --vlan 0
refused 2 "assign: --numa-policy required needs --numa-node." assign vm3 vms --numa-policy required
refused 2 "assign: --uid and --gid go together: give both, or neither." assign vm3 vms --uid 0
refused 2 "assign: --min-tx-rate 100 is above --max-tx-rate 50." assign vm3 vms --min-tx-rate 100 --max-tx-rate 50
refused 2 "pool-create: --qos 1 needs a VLAN" pool-create p ens1f0#2 --qos 1
refused 2 "pool-create: invalid pool name \"a:b\": 1 to 64 letters, digits, '_', '.' or '-'." pool-create a:b ens1f0#2
refused 2 "pool-delete: invalid pool name \"\"" pool-delete ""
refused 2 "set: VF \"02:00.8\" is neither a PCI address" set 02:00.8 --trust on

note "refused by sriovd: invalid (6)"
refused 2 "--mac 01:00:00:00:00:01: expected a unicast MAC address" assign vm3 vms --mac 01:00:00:00:00:01
refused 6 "Only VFs are assigned to guests" assign vm3 $PF
refused 6 "Invalid selector \"ens1f0#x\"" pool-create p ens1f0#x
refused 6 "Cannot delete pool vms: The pool comes from the configuration files" pool-delete vms
[[ "$ERR" == *'Hint: change the configuration files, then "sriovctl reload"'* ]] || fail "no hint: $ERR"

note "refused by sriovd: no such pool, VF or assignment (5)"
# (a name that could be an interface is looked for as one)
refused 5 "Cannot assign nosuchpool to vm3: No pool or VF named \"nosuchpool\"" assign vm3 nosuchpool
[[ "$ERR" == *'Hint: "sriovctl pools" lists the pools'* ]] || fail "no hint: $ERR"
refused 5 "Cannot release the VFs of vm9: Guest vm9 holds no VFs" release vm9
[[ "$ERR" == *'Hint: "sriovctl assignments" lists the guests and their VFs'* ]] || fail "no hint: $ERR"
refused 5 "Cannot release $VF1 from vm1: Guest vm1 holds no such VF" release vm1 "$VF1"
refused 5 "No PCI function 0000:99:00.0" release vm1 0000:99:00.0
refused 5 "Cannot delete pool nope: No such pool" pool-delete nope

note "refused by sriovd: busy (7), exhausted (9), existing (1)"
refused 7 "Cannot assign $VF0 to vm3: $VF0 is assigned to guest vm1" assign vm3 "$VF0"
refused 9 "Cannot assign vms to vm3: Pool vms is exhausted: all 2 VFs are assigned" assign vm3 vms
[[ "$ERR" == *'Hint: "sriovctl pools" shows how many VFs each pool has free'* ]] || fail "no hint: $ERR"
refused 9 "Pool vms is exhausted" --json assign vm3 vms --numa-node 0 --numa-policy preferred
refused 1 "Cannot create pool vms: A pool of that name is in the configuration files" pool-create vms ens1f0#2

note "run-time pools: a MAC base, a VLAN"
expect_ok pool-create spare ens1f0#2-3 --driver vfio-pci --vlan 7 --mac-base 02:aa:00:00:00:00
assert_eq "$OUT" "spare: pool created" "pool-create"
refused 1 "Cannot create pool spare: A pool of that name exists" pool-create spare ens1f0#2
expect_ok --json pools
assert_eq "$(jq_out "[(p['name'], p['source'], p['size'], p['settings']) for p in d['pools'] if p['name'] == 'spare'][0]")" \
        "('spare', 'runtime', 2, {'mac': '02:aa:00:00:00:00', 'vlan': 7, 'qos': 0, 'vlan_proto': '802.1Q'})" \
        "pools --json: the run-time pool"
expect_ok pools
assert_eq "$(row spare | tr -s ' ')" "spare runtime vfio-pci 0/2 0 auto ens1f0#2-3 mac 02:aa:00:00:00:00, vlan 7/0/802.1Q" \
        "pools: the run-time pool"
expect_ok assign vm3 spare
assert_eq "$(field VF)" "$VF2" "the VF of the run-time pool"
assert_eq "$(field MAC)" 02:aa:00:00:00:00 "the MAC base plus the VF's place in the pool (the first)"
assert_eq "$(field VLAN)" "7, 802.1Q" "the pool's VLAN"
refused 7 "Cannot delete pool spare: VFs of the pool are assigned" pool-delete spare
[[ "$ERR" == *'Hint: "sriovctl assignments" lists the guests and their VFs'* ]] || fail "no hint: $ERR"
refused 10 "Cannot assign $VF3 to vm4: Cannot set vlan of VF 3 on ens1f0: Protocol not supported" \
        assign vm4 "$VF3" --vlan 5 --proto 802.1ad

note "release puts back the driver and the settings"
expect_ok release vm3
assert_eq "$OUT" "vm3: released $VF2" "release"
expect_ok pool-delete spare
assert_eq "$OUT" "spare: pool deleted" "pool-delete"
expect_ok release vm1 "$VF0"
assert_eq "$OUT" "vm1: released $VF0" "release of one VF"
assert_eq "$(driver_of "$VF0")" iavf "driver after release"
assert_eq "$(ipvf 0)" "$before0" "VF 0's settings after release"
expect_ok --json release vm2
assert_eq "$(jq_out d)" "{'guest': 'vm2', 'released': ['$VF1']}" "release --json"
expect_ok assignments
assert_eq "$OUT" "No VFs are assigned to guests." "no assignments"
expect_ok --json assignments
assert_eq "$(jq_out d)" "{'assignments': []}" "assignments --json, none"
expect_ok --json pool-create p2 "$PF#3" numa:0
assert_eq "$(jq_out d)" "{'pool': 'p2', 'selectors': ['$PF#3', 'numa:0']}" "pool-create --json"
expect_ok --json pool-delete p2
assert_eq "$(jq_out d)" "{'pool': 'p2'}" "pool-delete --json"
echo ok
