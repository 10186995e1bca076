#!/bin/bash
# A host without an IOMMU: groups and status say so and what to change;
# the devices show no IOMMU group ("-" in text, null in JSON).
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host no-iommu.json

PF=0000:01:00.0
note "groups: no IOMMU, and the hint"
expect_ok groups
assert_eq "$(head -n1 <<<"$OUT")" "This host has no IOMMU: no device can be passed through with VFIO." "groups"
[[ "$(sed -n 2p <<<"$OUT")" == "Hint: "*intel_iommu=on* ]] || fail "groups: no hint: $OUT"
grep -q "^GROUP" <<<"$OUT" && fail "groups: a table without groups: $OUT"
expect_ok --json groups
assert_eq "$(jq_out "d['iommu_present'], d['groups']")" "(False, [])" "groups --json"
jq_out "d['iommu_hint']" | grep -q "intel_iommu=on" || fail "groups --json: no hint: $OUT"

note "status"
expect_ok status
assert_eq "$(field IOMMU)" no IOMMU
field "IOMMU hint" | grep -q "intel_iommu=on" || fail "status: no IOMMU hint: $OUT"
expect_ok --json status
assert_eq "$(jq_out "d['iommu_present']")" False "status --json"

note "devices have no group"
expect_ok list
assert_eq "$(row $PF | awk '{print $6}')" - "GROUP column"
expect_ok --json show enp1s0f0
assert_eq "$(jq_out "d['iommu_group']")" None "iommu_group"
expect_ok show enp1s0f0
assert_eq "$(field 'IOMMU group')" - "IOMMU group"
echo ok
