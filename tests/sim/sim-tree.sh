#!/bin/bash
# The tree mirrors sysfs: layout, relative links as the kernel makes them,
# attribute formats, modes and sizes; bad topologies are refused clearly;
# SIGTERM unmounts cleanly.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root

# --- bad topologies ---
tmp=$(mktemp -d)
on_exit 'rm -rf "$tmp"'
printf '{ "devices": [\n  { "bdf" "0000:01:00.0" }\n] }\n' > "$tmp/syntax.json"
out=$(sriov-sim "$tmp/syntax.json" "$tmp" 2>&1) && fail "a syntax error was accepted"
[[ "$out" == "$tmp/syntax.json:2:"* ]] || fail "syntax error without file:line:col: $out"
printf '{ "devices": [ { "bdf": "0000:01:00.0", "id": "8086:1572", "sriov": { "total": 4, "ofset": 1 } } ] }' > "$tmp/key.json"
out=$(sriov-sim "$tmp/key.json" "$tmp" 2>&1) && fail "an unknown key was accepted"
[[ "$out" == *'devices[0] (0000:01:00.0).sriov: unknown key "ofset"'* ]] || fail "unclear message: $out"
printf '{ "drivers": { "iavf": { "ids": ["8086:154c"] } }, "devices": [ { "bdf": "0000:01:00.0", "id": "8086:1572", "driver": "iavf" } ] }' > "$tmp/bind.json"
out=$(sriov-sim "$tmp/bind.json" "$tmp" 2>&1) && fail "an impossible boot binding was accepted"
[[ "$out" == *"driver iavf would not bind it"* ]] || fail "unclear message: $out"
printf '{ "devices": [ { "bdf": "0000:01:00.0", "id": "8086:1572", "sriov": { "total": 4, "offset": 1, "vf_id": "8086:154c" } }, { "bdf": "0000:01:00.2", "id": "8086:1572" } ] }' > "$tmp/clash.json"
out=$(sriov-sim "$tmp/clash.json" "$tmp" 2>&1) && fail "a VF address clash was accepted"
[[ "$out" == *"0000:01:00.2 is used twice"* ]] || fail "unclear message: $out"
out=$(sriov-sim "$tmp/missing.json" "$tmp" 2>&1) && fail "a missing topology was accepted"
[[ "$out" == *"missing.json: No such file or directory"* ]] || fail "unclear message: $out"
rm -rf "$tmp"
trap - EXIT

sim_start "$TOPO/x710.json"
M=$SIM_ROOT
PF=$(dev 0000:3b:00.0)
PFDIR=devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0

# --- layout and links ---
expect_eq "$(link_target "$PF")" "../../../$PFDIR" "bus/pci/devices link"
expect_eq "$(link_target "$PF/driver")" "../../../../bus/pci/drivers/i40e" "driver link"
expect_eq "$(link_target "$PF/subsystem")" "../../../../bus/pci" "subsystem link"
grp=$(basename "$(link_target "$PF/iommu_group")")
expect_eq "$(link_target "$PF/iommu_group")" "../../../../kernel/iommu_groups/$grp" "iommu_group link"
expect_eq "$(link_target "$M/kernel/iommu_groups/$grp/devices/0000:3b:00.0")" "../../../../$PFDIR" "group device link"
expect_eq "$(link_target "$M/bus/pci/drivers/i40e/0000:3b:00.0")" "../../../../$PFDIR" "driver's device link"
expect_eq "$(link_target "$M/bus/pci/drivers/i40e/module")" "../../../../module/i40e" "driver module link"
expect_eq "$(link_target "$M/module/vfio_pci/drivers/pci:vfio-pci")" "../../../bus/pci/drivers/vfio-pci" "module driver link"
expect_eq "$(link_target "$M/class/net/ens1f0")" "../../$PFDIR/net/ens1f0" "class/net link"
expect_eq "$(link_target "$M/$PFDIR/net/ens1f0/device")" "../../../0000:3b:00.0" "netdev device link"
expect_eq "$(rd "$M/class/net/ens1f0/device/sriov_totalvfs")" 64 "class/net/ens1f0/device/sriov_totalvfs"
[ -d "$M/.sim" ] || fail ".sim is missing"
grep -q '^\.sim$' <<<"$(ls -a "$M")" && fail ".sim shows up in the root's listing"
for d in bus/pci/slots/1 bus/pci/drivers/pcieport bus/pci/drivers/pci-stub module/pci_stub devices/pci0000:00/0000:00:00.0; do
        [ -d "$M/$d" ] || fail "$d is missing"
done
expect_eq "$(rd "$M/bus/pci/slots/1/address")" "0000:3b:00" "slot address"

# --- attributes ---
expect_eq "$(rd "$PF/vendor")" 0x8086 vendor
expect_eq "$(rd "$PF/device")" 0x1572 device
expect_eq "$(rd "$PF/subsystem_vendor")" 0x8086 subsystem_vendor
expect_eq "$(rd "$PF/subsystem_device")" 0x0007 subsystem_device
expect_eq "$(rd "$PF/class")" 0x020000 class
expect_eq "$(rd "$PF/revision")" 0x02 revision
expect_eq "$(rd "$PF/numa_node")" 0 numa_node
expect_eq "$(rd "$PF/local_cpulist")" 0-15 local_cpulist
expect_eq "$(rd "$PF/enable")" 1 enable
expect_eq "$(rd "$PF/driver_override")" "(null)" driver_override
expect_eq "$(rd "$PF/modalias")" "pci:v00008086d00001572sv00008086sd00000007bc02sc00i00" modalias
expect_eq "$(rd "$PF/uevent")" "DRIVER=i40e
PCI_CLASS=20000
PCI_ID=8086:1572
PCI_SUBSYS_ID=8086:0007
PCI_SLOT_NAME=0000:3b:00.0
MODALIAS=pci:v00008086d00001572sv00008086sd00000007bc02sc00i00" uevent
expect_eq "$(rd "$PF/sriov_totalvfs")" 64 sriov_totalvfs
expect_eq "$(rd "$PF/sriov_numvfs")" 0 sriov_numvfs
expect_eq "$(rd "$PF/sriov_offset")" 16 sriov_offset
expect_eq "$(rd "$PF/sriov_stride")" 1 sriov_stride
expect_eq "$(rd "$PF/sriov_vf_device")" 154c sriov_vf_device
expect_eq "$(rd "$PF/sriov_drivers_autoprobe")" 1 sriov_drivers_autoprobe
expect_eq "$(rd "$PF/current_link_speed")" "8.0 GT/s PCIe" current_link_speed
expect_eq "$(rd "$PF/resource" | wc -l)" 13 "resource lines (endpoint)"
expect_eq "$(rd "$(dev 0000:3a:00.0)/resource" | wc -l)" 17 "resource lines (bridge)"
expect_eq "$(rd "$(dev 0000:3a:00.0)/secondary_bus_number")" 59 secondary_bus_number
expect_eq "$(rd "$(dev 0000:00:00.0)/numa_node")" 0 "host bridge numa_node"
[ -e "$(dev 0000:3a:00.0)/sriov_numvfs" ] && fail "a bridge has sriov_numvfs"
expect_eq "$(rd "$M/kernel/uevent_seqnum")" 0 "uevent_seqnum at boot"

# --- modes, owners, sizes (stat -L: through bus/pci/devices) ---
for a in vendor:444 sriov_numvfs:644 sriov_drivers_autoprobe:644 driver_override:644 config:644 remove:200 \
         sriov_totalvfs:444 uevent:644 resource:444; do
        expect_eq "$(stat -L -c %a "$PF/${a%%:*}")" "${a##*:}" "mode of ${a%%:*}"
done
for a in bind:200 unbind:200 new_id:200 remove_id:200 uevent:200; do
        expect_eq "$(stat -c %a "$M/bus/pci/drivers/iavf/${a%%:*}")" "${a##*:}" "mode of drivers/iavf/${a%%:*}"
done
expect_eq "$(stat -c %a "$M/bus/pci/drivers_probe")" 200 "mode of drivers_probe"
expect_eq "$(stat -c %a "$M/.sim/ctl")" 200 "mode of .sim/ctl"
expect_eq "$(stat -L -c %u:%g:%s "$PF/vendor")" 0:0:4096 "owner and size of vendor"
expect_eq "$(stat -L -c %s "$PF/config")" 4096 "size of config"
expect_eq "$(sim-write "$PF/vendor" 0x1234)" EACCES "root writing a read-only attribute"
cat "$PF/remove" 2>/dev/null && fail "a write-only attribute was readable"
mkdir "$M/devices/foo" 2>/dev/null && fail "mkdir in the tree succeeded"
touch "$M/bus/pci/foo" 2>/dev/null && fail "creating a file in the tree succeeded"

# --- VFs: kernel routing-id arithmetic, links, attributes ---
expect_write "$PF/sriov_numvfs" 2 0
expect_eq "$(link_target "$PF/virtfn0")" "../0000:3b:02.0" virtfn0
expect_eq "$(link_target "$PF/virtfn1")" "../0000:3b:02.1" virtfn1
expect_eq "$(link_target "$(dev 0000:3b:02.1)/physfn")" "../0000:3b:00.0" physfn
expect_eq "$(link_target "$(dev 0000:3b:02.1)")" "../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:02.1" "VF bus link"
expect_eq "$(rd "$(dev 0000:3b:02.1)/device")" 0x154c "VF device"
expect_eq "$(rd "$(dev 0000:3b:02.1)/vendor")" 0x8086 "VF vendor"
expect_eq "$(rd "$(dev 0000:3b:02.1)/subsystem_device")" 0x0000 "VF subsystem_device"
expect_eq "$(driver_of 0000:3b:02.1)" iavf "VF driver"
expect_eq "$(link_target "$M/class/net/ens1f0v1")" "../../devices/pci0000:3a/0000:3a:00.0/0000:3b:02.1/net/ens1f0v1" "VF netdev"
[ -e "$(dev 0000:3b:02.1)/sriov_numvfs" ] && fail "a VF has sriov_numvfs"
[ -e "$(dev 0000:3b:02.1)/sriov_vf_msix_count" ] || fail "a VF lacks sriov_vf_msix_count"
expect_write "$(dev 0000:3b:00.1)/sriov_numvfs" 1 0
expect_eq "$(link_target "$(dev 0000:3b:00.1)/virtfn0")" "../0000:3b:0a.0" "PF1 virtfn0 (offset 79)"

# --- net devices ---
ND="$M/class/net/ens1f0"
[[ "$(rd "$ND/ifindex")" =~ ^[0-9]+$ ]] || fail "ifindex"
expect_eq "$(rd "$ND/iflink")" "$(rd "$ND/ifindex")" iflink
expect_eq "$(rd "$ND/flags")" 0x1002 "flags while down"
expect_eq "$(rd "$ND/operstate")" down "operstate while down"
cat "$ND/carrier" 2>/dev/null && fail "carrier readable while down"
expect_eq "$(rd "$ND/addr_len")" 6 addr_len
[[ "$(rd "$ND/address")" =~ ^3c:fd:fe(:[0-9a-f]{2}){3}$ ]] || fail "address $(rd "$ND/address")"
ctl netdev ens1f0 up
expect_eq "$(rd "$ND/flags")" 0x1003 "flags while up"
expect_eq "$(rd "$ND/operstate")" up "operstate while up"
expect_eq "$(rd "$ND/carrier")" 1 carrier
expect_eq "$(sim-write "$M/.sim/ctl" "netdev ens1f0 rename lan0")" EBUSY "renaming an interface that is up"
ctl netdev ens1f0 down
ctl netdev ens1f0 rename lan0
[ -e "$M/class/net/ens1f0" ] && fail "the old name is still there"
expect_eq "$(link_target "$M/class/net/lan0")" "../../$PFDIR/net/lan0" "renamed netdev"
grep -q "move net /$PFDIR/net/lan0 INTERFACE=lan0 DEVPATH_OLD=/$PFDIR/net/ens1f0" <<<"$(tail -1 "$M/.sim/uevents")" ||
        fail "no move uevent: $(tail -1 "$M/.sim/uevents")"

sim_stop

# --- a large host: VFs past the end of the PF's bus ---
sim_start "$TOPO/scale-16x128.json"
M=$SIM_ROOT
P=$(dev 0000:01:00.1)
expect_eq "$(rd "$P/sriov_offset")" 135 "offset of the second PF"
expect_eq "$(rd "$(dev 0000:00:01.0)/subordinate_bus_number")" 2 "root port reserves the VF bus"
expect_write "$P/sriov_numvfs" 128 0
expect_eq "$(link_target "$P/virtfn119")" "../0000:01:1f.7" virtfn119
expect_eq "$(link_target "$P/virtfn120")" "../0000:02:00.0" "virtfn120 (next bus)"
expect_eq "$(link_target "$(dev 0000:02:00.7)")" "../../../devices/pci0000:00/0000:00:01.0/0000:02:00.7" "VF on the next bus"
expect_eq "$(rd "$(dev 0000:02:00.7)/numa_node")" 0 "VF numa_node"
expect_eq "$(rd "$(dev 0000:81:00.0)/local_cpulist")" 32-63 "node 1 cpulist"
expect_eq "$(ls "$M/bus/pci/devices" | wc -l)" $((24 + 128)) "device count"
expect_write "$P/sriov_numvfs" 0 0
expect_eq "$(ls "$M/bus/pci/devices" | wc -l)" 24 "device count after disable"
sim_stop
exit 0
