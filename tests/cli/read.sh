#!/bin/bash
# The read verbs in text: list (every --kind), show (PF, VF, by address,
# short address and interface name), groups and status, compared with what
# the simulated kernel holds.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json

PF=0000:3b:00.0
PF1=0000:3b:00.1
NAME="Intel Corporation Ethernet Controller X710 for 10GbE SFP+"
expect_ok enable $PF 3 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
VF2=$(vf_bdf $PF 2)
assert_eq "$(driver_of "$VF0")" iavf "VF driver in the simulator"

note "list: the SR-IOV PFs, their VFs indented under them, in VF order"
expect_ok list
assert_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "ADDRESS KIND DRIVER NETDEV NUMA GROUP VFS USE HEALTH NAME" "header"
assert_eq "$(wc -l <<<"$OUT")" 6 "lines (header, 2 PFs, 3 VFs)"
assert_eq "$(sed -n 2p <<<"$OUT" | awk '{print $1}')" $PF "first row"
assert_eq "$(sed -n 3,5p <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')" "$VF0 $VF1 $VF2 " "VFs follow their PF"
assert_eq "$(sed -n 6p <<<"$OUT" | awk '{print $1}')" $PF1 "second PF after the VFs of the first"
row "  $VF0" >/dev/null || fail "the VF is not indented: $OUT"
group=$(simdev $PF iommu_group)
read -r -a f <<<"$(row $PF)"
assert_eq "${f[*]:1:6}" "pf i40e ens1f0 0 $group 3/64" "PF row"
[[ "$(row $PF)" == *"$NAME" ]] || fail "PF row lacks the name: $(row $PF)"
read -r -a f <<<"$(row "  $VF1")"
# HEALTH: the PF's interface is down here (nothing set it up)
assert_eq "${f[*]}" "$VF1 vf iavf ens1f0v1 0 $(simdev "$VF1" iommu_group) - - PF link down (ens1f0 is administratively down) -" "VF row"
assert_eq "$(row $PF1 | awk '{print $7}')" "0/64" "PF without VFs"
# the columns are aligned: every row has its KIND at the same offset as the header
col=$(head -n1 <<<"$OUT" | grep -bo KIND | cut -d: -f1)
for a in $PF "  $VF0" $PF1; do
        assert_eq "$(row "$a" | cut -c$((col + 1))-$((col + 2)))" "$(row "$a" | awk '{print substr($2,1,2)}')" "KIND column of $a"
done

note "list --kind"
expect_ok list --kind pf
assert_eq "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')" "$PF $PF1 " "--kind pf"
expect_ok list --kind vf
assert_eq "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')" "$VF0 $VF1 $VF2 " "--kind vf"
row "$VF0" >/dev/null || fail "--kind vf indents VFs whose PF is not listed: $OUT"
expect_ok list --kind sriov
assert_eq "$(wc -l <<<"$OUT")" 6 "--kind sriov is the default"
expect_ok list --kind all
assert_eq "$(tail -n +2 <<<"$OUT" | wc -l)" \
        "$(sim_state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))')" \
        "--kind all lists every function of the simulator"
assert_eq "$(row 0000:3a:00.0 | awk '{print $2, $3}')" "bridge pcieport" "the root port"
assert_eq "$(row 0000:00:00.0 | awk '{print $2, $3, $4}')" "function - -" "a function without a driver shows -"

note "show PF, by interface name"
expect_ok show ens1f0
assert_eq "$(field Address)" $PF Address
assert_eq "$(field Kind)" pf Kind
assert_eq "$(field Name)" "$NAME" Name
assert_eq "$(field IDs)" "8086:1572 (subsystem 8086:0007)" IDs
assert_eq "$(field Driver)" i40e Driver
assert_eq "$(field 'Driver override')" - "Driver override"
assert_eq "$(field Interfaces)" ens1f0 Interfaces
assert_eq "$(field 'IOMMU group')" "$group" "IOMMU group"
assert_eq "$(field 'Parent bridge')" 0000:3a:00.0 Parent
assert_eq "$(field VFs)" 3/64 VFs
assert_eq "$(field 'VF device id')" 0x154c "VF device id"
assert_eq "$(field 'VF routing')" "offset 16, stride 1" "VF routing"
assert_eq "$(field 'VF autoprobe')" yes "VF autoprobe"
grep -q . <<<"$(field "VF index")" && fail "a PF shows a VF index"
# the VF table under it: index, address, driver, netdev
grep -q "^VFs:$" <<<"$OUT" || fail "show PF lacks the VF table: $OUT"
assert_eq "$(row "  *2" | awk '{print $2, $3, $4}')" "$VF2 iavf ens1f0v2" "VF 2 in the PF's table"
assert_eq "$(sed -n '/^VFs:/,$p' <<<"$OUT" | tail -n +3 | wc -l)" 3 "VF table rows"
ctl show 3b:00.0
assert_eq "$(field Address)" $PF "show by short address"

note "show VF, by its interface name: the PF it belongs to"
expect_ok bind "$VF1" vfio-pci
expect_ok show "$VF1"
assert_eq "$(field Kind)" vf Kind
assert_eq "$(field Driver)" vfio-pci Driver
assert_eq "$(field 'Driver override')" vfio-pci "Driver override"
assert_eq "$(field 'Prior driver')" iavf "Prior driver"
assert_eq "$(field PF)" $PF PF
assert_eq "$(field 'PF driver')" i40e "PF driver"
assert_eq "$(field 'PF interfaces')" ens1f0 "PF interfaces"
assert_eq "$(field 'VF index')" 1 "VF index"
grep -q . <<<"$(field VFs)" && fail "a VF shows a VF count"
expect_ok show ens1f0v2
assert_eq "$(field Address)" "$VF2" "show by the VF's interface"

note "groups: one row per group, viability and why not"
expect_ok groups
assert_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "GROUP TYPE VIABLE DEVICES RESERVED" "groups header"
n_groups=$(sim_state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["iommu_groups"]))')
assert_eq "$(grep -cE '^ +[0-9]+ ' <<<"$OUT")" "$n_groups" "group rows"
g1=$(simdev "$VF1" iommu_group)
assert_eq "$(row " *$g1" | awk '{print $3, $4}')" "yes $VF1" "the vfio-pci VF's group is viable"
assert_eq "$(row " *$group" | awk '{print $3, $4}')" "no $PF" "the PF's group is not"
grep -A1 -E "^ +$group " <<<"$OUT" | grep -q "not viable: .*i40e" || fail "no reason under the PF's group: $OUT"

note "status"
expect_ok status
assert_eq "$(field Version)" "$("$SRIOVD" --version | awk '{print $2}')" Version
assert_eq "$(field State)" running State
assert_eq "$(field 'Sysfs root')" "$SIM_ROOT" "Sysfs root"
assert_eq "$(field IOMMU)" yes IOMMU
grep -q . <<<"$(field "IOMMU hint")" && fail "an IOMMU hint with an IOMMU"
assert_eq "$(field 'SR-IOV PFs')" 2 "PFs"
assert_eq "$(field VFs)" 3 "VFs"
assert_eq "$(field Pending)" "0 devices" Pending
grep -q "Devices with a pending operation" <<<"$OUT" && fail "a pending table without pending operations"
echo ok
