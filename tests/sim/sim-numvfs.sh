#!/bin/bash
# sriov_numvfs and sriov_drivers_autoprobe as iov.c implements them:
# parsing (EINVAL), ERANGE, the no-op, ENOENT without a capable PF driver,
# EBUSY, disable removing everything, partial enable, autoprobe, assigned
# VFs, and PF driver removal taking the VFs with it.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
sim_start "$TOPO/x710.json"
M=$SIM_ROOT
PF=$(dev 0000:3b:00.0)
N=$PF/sriov_numvfs

# --- parsing: kstrtou16(buf, 0), any failure is EINVAL ---
for v in abc -1 " 1" "1 " "1\n\n" "\n" 0x 70000 99999999999999999999; do
        expect_write "$N" "$v" EINVAL
done
expect_write "$N" 65 ERANGE
expect_write "$N" 65535 ERANGE
expect_eq "$(rd "$N")" 0 "numvfs after refused writes"
expect_eq "$(rd "$M/kernel/uevent_seqnum")" 0 "no uevent for refused writes"

# --- enable (base 0: hex works), no-op, EBUSY ---
expect_write "$N" "0x2\n" 0
expect_eq "$(rd "$N")" 2 numvfs
expect_eq "$(ls -d "$PF"/virtfn* | wc -l)" 2 "virtfn links"
seq=$(rd "$M/kernel/uevent_seqnum")
expect_write "$N" "2\n" 0
expect_eq "$(rd "$M/kernel/uevent_seqnum")" "$seq" "writing the current count changes nothing"
expect_write "$N" 3 EBUSY
expect_write "$N" 2 0
expect_eq "$(rd "$N")" 2 "numvfs after EBUSY"
g0=$(basename "$(link_target "$(dev 0000:3b:02.0)/iommu_group")")
g1=$(basename "$(link_target "$(dev 0000:3b:02.1)/iommu_group")")
[ "$g0" != "$g1" ] || fail "VFs of an ACS-isolated PF share group $g0"
expect_eq "$(state "dev('0000:3b:02.0')['netdevs'][0]['name']")" ens1f0v0 "VF netdev in the state"

# --- disable removes VFs, links, groups, netdevs, driver links ---
expect_write "$N" 0 0
expect_eq "$(rd "$N")" 0 "numvfs after disable"
ls "$PF"/virtfn* >/dev/null 2>&1 && fail "virtfn links left"
for p in bus/pci/devices/0000:3b:02.0 devices/pci0000:3a/0000:3a:00.0/0000:3b:02.1 class/net/ens1f0v0 \
         bus/pci/drivers/iavf/0000:3b:02.0 "kernel/iommu_groups/$g0" "kernel/iommu_groups/$g1"; do
        [ -e "$M/$p" ] || [ -L "$M/$p" ] && fail "$p is left after disable"
done
# pci_iov_remove_virtfn() for VF0, then VF1; each: netdev, unbind, remove
expect_eq "$(tail -6 "$M/.sim/uevents" | awk '{ n = split($4, p, "/"); printf "%s:%s ", $2, p[n] }')" \
        "remove:ens1f0v0 unbind:0000:3b:02.0 remove:0000:3b:02.0 remove:ens1f0v1 unbind:0000:3b:02.1 remove:0000:3b:02.1 " \
        "uevents of a disable"
# group ids are reused, lowest first (ida)
expect_write "$N" 2 0
expect_eq "$(basename "$(link_target "$(dev 0000:3b:02.0)/iommu_group")")" "$g0" "VF0 group id after re-enable"
expect_write "$N" 0 0

# --- ENOENT without a PF driver or with one that has no sriov_configure ---
expect_write "$M/bus/pci/drivers/i40e/unbind" 0000:3b:00.0 0
expect_write "$N" 2 ENOENT
expect_write "$N" 0 0
expect_write "$N" 65 ERANGE
expect_write "$PF/driver_override" pci-stub 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:00.0 0
expect_eq "$(driver_of 0000:3b:00.0)" pci-stub "PF driver"
expect_write "$N" 2 ENOENT
expect_write "$M/bus/pci/drivers/pci-stub/unbind" 0000:3b:00.0 0
expect_write "$PF/driver_override" "\n" 0
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.0 0

# --- partial enable: the driver enables fewer, the write succeeds ---
ctl partial 0000:3b:00.0 3
expect_write "$N" 8 0
expect_eq "$(rd "$N")" 3 "numvfs after a partial enable"
expect_eq "$(ls -d "$PF"/virtfn* | wc -l)" 3 "virtfn links after a partial enable"
expect_write "$N" 0 0
ctl partial 0000:3b:00.0 0
expect_write "$N" 4 0
expect_eq "$(rd "$N")" 0 "numvfs when the driver enables none"
ctl partial 0000:3b:00.0 64

# --- sriov_drivers_autoprobe: kstrtobool; off leaves VFs unbound ---
A=$PF/sriov_drivers_autoprobe
expect_write "$A" x EINVAL
expect_write "$A" "" 0
expect_write "$A" off 0
expect_eq "$(rd "$A")" 0 autoprobe
expect_write "$A" Yes 0
expect_eq "$(rd "$A")" 1 autoprobe
expect_write "$A" 0 0
expect_write "$N" 2 0
expect_eq "$(driver_of 0000:3b:02.0)" none "VF driver with autoprobe off"
[ -e "$M/class/net/ens1f0v0" ] && fail "VF netdev with autoprobe off"
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.0 0
expect_eq "$(driver_of 0000:3b:02.0)" none "drivers_probe of a VF with autoprobe off"
expect_write "$M/bus/pci/drivers/iavf/bind" 0000:3b:02.0 ENODEV
expect_write "$(dev 0000:3b:02.0)/driver_override" iavf 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.0 0
expect_eq "$(driver_of 0000:3b:02.0)" iavf "VF with driver_override, autoprobe off"
expect_write "$A" 1 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.1 0
expect_eq "$(driver_of 0000:3b:02.1)" iavf "VF probed after autoprobe on"
expect_write "$N" 0 0

# --- assigned VFs: i40e refuses to disable (EINVAL), and on remove leaves them ---
expect_write "$N" 2 0
ctl assign 0000:3b:02.1
before=$(rd "$M/.sim/state")
expect_write "$N" 0 EINVAL
expect_eq "$(rd "$M/.sim/state")" "$before" "state after a refused disable"
ctl unassign 0000:3b:02.1
expect_write "$N" 0 0
expect_write "$N" 2 0
ctl assign 0000:3b:02.0
expect_write "$M/bus/pci/drivers/i40e/unbind" 0000:3b:00.0 0
expect_eq "$(rd "$N")" 2 "numvfs after the PF driver left assigned VFs"
[ -d "$(dev 0000:3b:02.0)" ] || fail "assigned VF vanished with the PF driver"
expect_write "$N" 0 ENOENT
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.0 0
expect_write "$N" 0 EINVAL
ctl unassign 0000:3b:02.0
expect_write "$N" 0 0

# --- PF driver unbind disables SR-IOV ---
expect_write "$N" 4 0
expect_write "$M/bus/pci/drivers/i40e/unbind" 0000:3b:00.0 0
expect_eq "$(rd "$N")" 0 "numvfs after PF unbind"
ls "$PF"/virtfn* >/dev/null 2>&1 && fail "virtfn links after PF unbind"
[ -e "$(dev 0000:3b:02.0)" ] && fail "VF left after PF unbind"
[ -e "$M/class/net/ens1f0" ] && fail "PF netdev left after PF unbind"
expect_write "$M/bus/pci/drivers/i40e/bind" 0000:3b:00.0 0
[ -e "$M/class/net/ens1f0" ] || fail "PF netdev missing after rebind"

# the log has every write, refused ones included
grep -q '3b:00.0/sriov_numvfs "65" ERANGE$' "$M/.sim/log" || fail "ERANGE write not logged"
grep -q '3b:00.0/sriov_numvfs "0x2\\n" 0$' "$M/.sim/log" || fail "hex write not logged"
sim_stop
exit 0
