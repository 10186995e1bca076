#!/bin/bash
# The behaviours the real kernels showed in tests/vm (see tests/vm/README.md,
# "The differential check"), on qemu.json and qemu-6.12.json without a VM:
# a driver's sriov_totalvfs limit, nvme keeping its VFs, VFs that are not
# ready, power_state, the Command register, per-device reserved regions,
# built-in drivers, net device stores, synthetic uevent arguments; and the
# topology keys behind them ("base" overlays, validation).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
tmp=$(mktemp -d)
on_exit 'sim_cleanup; rm -rf "$tmp"'

power() { rd "$(dev "$1")/power_state"; }
command_word() { od -An -tx2 -j 4 -N2 "$(dev "$1")/config" | tr -d ' '; }

sim_start "$TOPO/qemu.json"
M=$SIM_ROOT
NV=$(dev 0000:01:00.0) IGB=$(dev 0000:02:00.0)

# --- igb: 7 of 8 VFs while bound
expect_eq "$(rd "$IGB/sriov_totalvfs")" 7 "igb's limit"
expect_write "$IGB/sriov_numvfs" 8 ERANGE
expect_write "$M/bus/pci/drivers/igb/unbind" 0000:02:00.0 0
expect_eq "$(rd "$IGB/sriov_totalvfs")" 8 "TotalVFs without igb"
expect_write "$IGB/sriov_numvfs" 8 ENOENT
expect_eq "$(power 0000:02:00.0)" D0 "6.1: power_state after the unbind"
expect_eq "$(command_word 0000:02:00.0)" 0002 "Command after pci_disable_device()"
expect_write "$M/bus/pci/drivers/igb/bind" 0000:02:00.0 0
expect_eq "$(command_word 0000:02:00.0)" 0006 "Command with igb"
expect_write "$IGB/sriov_numvfs" 7 0
expect_eq "$(ls -d "$IGB"/virtfn* | wc -l)" 7 "VFs"
expect_eq "$(driver_of 0000:02:11.4)" igbvf "VF6 (offset 128, stride 2)"
expect_eq "$(rd "$M/class/net/eth1/addr_assign_type")" 1 "a VF's random address"
expect_eq "$(rd "$M/class/net/eth0/addr_assign_type")" 0 "the PF's address"
expect_write "$M/class/net/eth0/mtu" 9216 0
expect_write "$M/class/net/eth0/mtu" 9217 EINVAL
expect_write "$M/class/net/eth0/tx_queue_len" 500 0
expect_eq "$(rd "$M/class/net/eth0/tx_queue_len")" 500 tx_queue_len
expect_write "$IGB/sriov_numvfs" 0 0

# --- nvme: VFs offline until "ready"; 6.1 binds and releases them
expect_write "$NV/sriov_numvfs" 2 0
expect_eq "$(driver_of 0000:01:00.1)" none "an offline VF after nvme's probe"
grep -q ' bind pci .*/0000:01:00.1 DRIVER=nvme$' "$M/.sim/uevents" || fail "no bind uevent for the offline VF"
grep -q ' unbind pci .*/0000:01:00.1$' "$M/.sim/uevents" || fail "no unbind uevent for the offline VF"
expect_eq "$(power 0000:01:00.1)" D0 "power_state after nvme's probe"
expect_eq "$(power 0000:01:00.2)" D0 "power_state of VF1"
ctl ready 0000:01:00.1
expect_write "$M/bus/pci/drivers/nvme/bind" 0000:01:00.1 0
expect_eq "$(driver_of 0000:01:00.1)" nvme "a ready VF"
expect_eq "$(state "dev('0000:01:00.1')['ready']")" true "ready in the state"
# nvme's remove() leaves the VFs
expect_write "$M/bus/pci/drivers/nvme/unbind" 0000:01:00.0 0
expect_eq "$(rd "$NV/sriov_numvfs")" 2 "VFs after nvme let go of the PF"
expect_write "$NV/sriov_numvfs" 0 ENOENT
expect_write "$M/bus/pci/drivers/nvme/bind" 0000:01:00.0 0
expect_write "$NV/sriov_numvfs" 0 0
# a new VF is offline again, and unknown until probed
expect_write "$NV/sriov_drivers_autoprobe" 0 0
expect_write "$NV/sriov_numvfs" 1 0
expect_eq "$(state "dev('0000:01:00.1')['ready']")" false "a new VF"
expect_eq "$(power 0000:01:00.1)" unknown "power_state of a new VF"
expect_eq "$(command_word 0000:01:00.1)" 0000 "Command of a new VF"
expect_write "$(dev 0000:01:00.1)/enable" 1 0
expect_eq "$(power 0000:01:00.1)" D0 "power_state after enable"
expect_eq "$(command_word 0000:01:00.1)" 0002 "Command after enable"
expect_write "$(dev 0000:01:00.1)/enable" 0 0
expect_write "$(dev 0000:01:00.1)/driver_override" vfio-pci 0
expect_write "$M/bus/pci/drivers_probe" 0000:01:00.1 0
expect_eq "$(power 0000:01:00.1)" D3hot "vfio-pci, nobody holding it"
ctl hold 0000:01:00.1
expect_eq "$(power 0000:01:00.1)" D0 "vfio-pci, held"
ctl release 0000:01:00.1
expect_write "$NV/sriov_numvfs" 0 0

# --- groups, uevents, built-in drivers
expect_eq "$(rd "$M/kernel/iommu_groups/4/reserved_regions")" \
        "0x0000000000000000 0x0000000000ffffff direct-relaxable
0x00000000fee00000 0x00000000feefffff msi" "the ISA bridge's group"
expect_eq "$(rd "$M/kernel/iommu_groups/4/type")" identity "iommu=pt"
expect_write "$M/kernel/iommu_groups/4/type" DMA EINVAL
expect_write "$NV/uevent" "change foo" EINVAL
expect_write "$NV/uevent" "change 01234567-89ab-cdef-0123-456789abcdef A=1 B=2" 0
expect_write "$NV/uevent" "change 01234567-89ab-cdef-0123-456789abcdef A" EINVAL
expect_write "$NV/uevent" "chang" EINVAL
expect_write "$NV/uevent" "change\n" 0
[ -L "$M/bus/pci/drivers/pcieport/module" ] && fail "a built-in driver with a module link"
[ -L "$M/bus/pci/drivers/nvme/module" ] || fail "nvme's module link"
expect_write "$M/.sim/ctl" "rmmod pcieport" ENOENT
sim_stop

# --- 6.12 over 6.1
sim_start "$TOPO/qemu-6.12.json"
M=$SIM_ROOT
expect_eq "$(driver_of 0000:00:1f.2)" ahci "ahci on 6.12"
expect_eq "$(rd "$(dev 0000:00:1f.2)/irq")" 28 "its MSI"
[ -L "$M/bus/pci/drivers/nvme/module" ] && fail "nvme is built in on 6.12"
expect_write "$(dev 0000:01:00.0)/sriov_numvfs" 1 0
grep -q ' bind pci .*/0000:01:00.1 ' "$M/.sim/uevents" && fail "6.12's nvme bound an offline VF"
expect_eq "$(driver_of 0000:01:00.1)" none "an offline VF on 6.12"
expect_write "$M/bus/pci/drivers/igb/unbind" 0000:02:00.0 0
expect_eq "$(power 0000:02:00.0)" unknown "6.12: power_state after the unbind"
sim_stop

# --- topology validation and overlays
bad() {
        printf '%s\n' "$1" >"$tmp/t.json"
        sriov-sim "$tmp/t.json" "$tmp" 2>"$tmp/err" && fail "accepted: $1"
        grep -q -- "$2" "$tmp/err" || fail "topology error for $1: $(cat "$tmp/err"), expected $2"
}
bad '{ "kernel": "5.15", "devices": [] }' 'must be "6.1" or "6.12"'
bad '{ "drivers": { "x": { "not_ready": "maybe" } }, "devices": [] }' '"not_ready" must be'
bad '{ "drivers": { "x": { "max_vfs": 7 } }, "devices": [] }' '"max_vfs" and "keeps_vfs" need "sriov"'
bad '{ "devices": [ { "bdf": "0000:00:01.0", "id": "8086:1234", "reserved_regions": [ "0x0 0xff msi" ] } ] }' 'reserved_regions\[0\]'
bad '{ "base": "nonexistent.json" }' 'nonexistent.json'
bad "{ \"base\": \"$TOPO/qemu.json\", \"devices\": [ { \"id\": \"8086:1234\" } ] }" 'needs a "bdf"'
# a null removes a key: the NVMe PF without its driver, the rest as in qemu.json
printf '{ "base": "%s", "devices": [ { "bdf": "0000:01:00.0", "driver": null } ] }\n' "$TOPO/qemu.json" >"$tmp/o.json"
sim_start "$tmp/o.json"
expect_eq "$(driver_of 0000:01:00.0)" none "a driver removed by an overlay"
expect_eq "$(driver_of 0000:02:00.0)" igb "the rest of the base"
sim_stop
exit 0
