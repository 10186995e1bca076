#!/bin/bash
# A host without an IOMMU: passthrough is refused with the kernel-parameter
# hint, unless the unsafe no-IOMMU mode is asked for explicitly.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start no-iommu.json
bus_start
daemon_start --uevent-source none

assert_eq "$(busctl --system get-property $DEST $MGR $IFACE IOMMUPresent)" "b false" IOMMUPresent
grep -q "intel_iommu=on" <<<"$(busctl --system get-property $DEST $MGR $IFACE IOMMUHint)" || fail "no hint"
pfs=("$SIM_ROOT"/bus/pci/devices/*/sriov_totalvfs)
PF=$(basename "$(dirname "${pfs[0]}")")
mgr SetNumVFs 'sua{sv}' "$PF" 1 1 autoprobe b false >/dev/null
VF0=$(vf_bdf "$PF" 0)
before=$(snapshot)
expect_error org.sriovd.Error.NoIOMMU gmgr Bind "$VF0" vfio-pci '{}'
expect_error "intel_iommu=on" gmgr Bind "$VF0" vfio-pci '{}'
[ "$before" = "$(snapshot)" ] || fail "the refused bind changed the host"
out=$(gmgr Bind "$VF0" vfio-pci "{'allow_unsafe_noiommu': <true>}") || fail "explicit no-IOMMU bind failed: $out"
assert_eq "$(driver_of "$VF0")" vfio-pci "bound in unsafe no-IOMMU mode"
grep -q "unsafe no-IOMMU passthrough requested" "$T/sriovd.log" || fail "the unsafe request was not recorded in the log"
echo ok
