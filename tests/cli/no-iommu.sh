#!/bin/bash
# A host without an IOMMU: groups and status say so and what to change;
# the devices show no IOMMU group ("-" in text, null in JSON); binding to
# vfio-pci is refused (exit status 1) unless --allow-unsafe-noiommu, and
# the VFIO verbs say why they cannot work.
set -euo pipefail
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
grep -q "intel_iommu=on" <<<"$(jq_out "d['iommu_hint']")" || fail "groups --json: no hint: $OUT"

note "status"
expect_ok status
assert_eq "$(field IOMMU)" no IOMMU
grep -q "intel_iommu=on" <<<"$(field "IOMMU hint")" || fail "status: no IOMMU hint: $OUT"
expect_ok --json status
assert_eq "$(jq_out "d['iommu_present']")" False "status --json"

note "devices have no group"
expect_ok list
assert_eq "$(row $PF | awk '{print $6}')" - "GROUP column"
expect_ok --json show enp1s0f0
assert_eq "$(jq_out "d['iommu_group']")" None "iommu_group"
expect_ok show enp1s0f0
assert_eq "$(field 'IOMMU group')" - "IOMMU group"

note "vfio-pci without an IOMMU: refused (1), changing nothing, unless asked for the unsafe mode"
expect_ok enable $PF 1 --autoprobe no
VF0=$(vf_bdf $PF 0)
before=$(snapshot)
expect 1 "Cannot bind $VF0 to vfio-pci: $VF0 has no IOMMU group: the host has no IOMMU enabled" bind "$VF0" vfio-pci
[[ "$ERR" == *'Hint: "sriovctl groups" says what to change'* ]] || fail "no hint: $ERR"
expect 1 "the host has no IOMMU enabled" bind "$VF0" vfio-pci --whole-group
[ "$before" = "$(snapshot)" ] || fail "a refused bind changed the host"
expect_ok bind "$VF0" vfio-pci --allow-unsafe-noiommu
assert_eq "$OUT" "$VF0: bound to vfio-pci (had no driver)" "bind --allow-unsafe-noiommu"
grep -q "unsafe no-IOMMU passthrough requested" "$T/sriovd.log" || fail "the unsafe request is not in the log"

note "the VFIO verbs on it"
before=$(snapshot)
expect 1 "Cannot check DMA through $VF0: $VF0 has no IOMMU group" dma-check "$VF0"
[[ "$ERR" == *'Hint: "sriovctl groups" says what to change'* ]] || fail "no hint: $ERR"
expect 6 "Cannot hand the VFIO nodes of $VF0 to 0:0: The device has no VFIO nodes" owner "$VF0" --uid 0 --gid 0
[ "$before" = "$(snapshot)" ] || fail "the VFIO verbs changed the host"
echo ok
