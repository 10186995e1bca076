#!/bin/bash
# The daemon on a simulated X710 host: introspection, listing, VF count,
# bind/restore with the prior driver remembered across a restart.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json
bus_start
daemon_start --uevent-source none

PF=0000:3b:00.0
note "introspection and properties"
grep -q '^\.SetNumVFs' <<<"$(busctl --system introspect "$DEST" "$MGR" "$IFACE")" || fail "SetNumVFs not introspected"
grep -q "_30000_3a3b_3a00_2e0" <<<"$(busctl --system tree "$DEST")" || fail "PF object missing from the tree"
assert_eq "$(busctl --system get-property "$DEST" "$MGR" "$IFACE" NumPFs)" "u 2" NumPFs
assert_eq "$(busctl --system get-property "$DEST" "$MGR" "$IFACE" NumVFs)" "u 0" NumVFs
PFP=$(devpath $PF)
assert_eq "$PFP" "/org/sriovd/Manager1/device/_30000_3a3b_3a00_2e0" "object path"
assert_eq "$(prop "$PFP" org.sriovd.Device1 Driver)" "i40e" "PF driver"
assert_eq "$(prop "$PFP" org.sriovd.PF1 TotalVFs)" "64" TotalVFs
assert_eq "$(prop "$PFP" org.sriovd.Device1 Kind)" "pf" Kind
NETDEV=$(ls "$SIM_ROOT/bus/pci/devices/$PF/net")
assert_eq "$(devpath "$NETDEV")" "$PFP" "lookup by interface name"
assert_eq "$(devpath 3b:00.0)" "$PFP" "lookup by short address"

note "enable 4 VFs without autoprobe"
assert_eq "$(mgr SetNumVFs 'sua{sv}' $PF 4 1 autoprobe b false)" "u 4" "SetNumVFs reply"
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "kernel numvfs"
assert_eq "$(sysattr $PF sriov_drivers_autoprobe)" 0 "autoprobe"
assert_eq "$(prop "$PFP" org.sriovd.PF1 NumVFs)" 4 "PF1.NumVFs after the call returned"
VF0=$(vf_bdf $PF 0)
VF0P=$(devpath "$VF0")
assert_eq "$(prop "$VF0P" org.sriovd.VF1 PhysFnAddress)" "$PF" PhysFnAddress
assert_eq "$(prop "$VF0P" org.sriovd.VF1 VFIndex)" 0 VFIndex
assert_eq "$(prop "$VF0P" org.sriovd.Device1 Driver)" "" "VF unbound (autoprobe off)"
grep -q "$VF0P" <<<"$(busctl --system get-property "$DEST" "$PFP" org.sriovd.PF1 VFs)" || fail "PF1.VFs lacks VF 0"

note "changing a non-zero count goes through 0"
assert_eq "$(mgr SetNumVFs 'sua{sv}' $PF 6 1 autoprobe b true)" "u 6"
assert_eq "$(sysattr $PF sriov_numvfs)" 6
grep -q '0000:3b:00.0/sriov_numvfs "0" 0$' "$SIM_ROOT/.sim/log" || fail "the daemon did not write 0 first"
VF0=$(vf_bdf $PF 0)
assert_eq "$(driver_of "$VF0")" iavf "autoprobed VF driver"

note "bind to vfio-pci and restore, across a daemon restart"
assert_eq "$(mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0)" 's "iavf"' "Bind returns the prior driver"
assert_eq "$(driver_of "$VF0")" vfio-pci "kernel driver after Bind"
assert_eq "$(sysattr "$VF0" driver_override)" vfio-pci "override kept for vfio-pci"
VF0P=$(devpath "$VF0")
assert_eq "$(prop "$VF0P" org.sriovd.Device1 PriorDriver)" iavf PriorDriver
assert_eq "$(json_get "$T/state/state.json" "d['devices']['$VF0']['prior_driver']")" iavf "prior driver in state.json"
# binding again is idempotent and keeps the first prior driver
assert_eq "$(mgr Bind 'ssa{sv}' "$VF0" vfio-pci 0)" 's "vfio-pci"'
daemon_stop
daemon_start --uevent-source none
assert_eq "$(prop "$(devpath "$VF0")" org.sriovd.Device1 PriorDriver)" iavf "PriorDriver after restart"
assert_eq "$(mgr RestoreDriver s "$VF0")" 's "iavf"' RestoreDriver
assert_eq "$(driver_of "$VF0")" iavf "kernel driver after RestoreDriver"
assert_eq "$(sysattr "$VF0" driver_override)" "(null)" "override cleared"
grep -q "$VF0" "$T/state/state.json" && fail "state.json still has $VF0 after restore"

note "unbind, then restore without a record lets the kernel choose"
assert_eq "$(mgr Unbind 'sa{sv}' "$VF0" 0)" 's "iavf"'
assert_eq "$(driver_of "$VF0")" none "unbound"
assert_eq "$(mgr RestoreDriver s "$VF0")" 's "iavf"'
VF1=$(vf_bdf $PF 1)
echo "$VF1" > "$SIM_ROOT/bus/pci/drivers/iavf/unbind"
mgr Rescan >/dev/null
wait_for 5 prop_is "$(devpath "$VF1")" org.sriovd.Device1 Driver "" || fail "Rescan did not notice the unbind"
assert_eq "$(mgr RestoreDriver s "$VF1")" 's "iavf"' "RestoreDriver without a record"

note "ListDevices"
n=$(mgr ListDevices s vf | awk '{print $2}')
assert_eq "$n" 6 "ListDevices vf count"
n=$(mgr ListDevices s pf | awk '{print $2}')
assert_eq "$n" 2 "ListDevices pf count"

note "disable"
assert_eq "$(mgr SetNumVFs 'sua{sv}' $PF 0 0)" "u 0"
assert_eq "$(sysattr $PF sriov_numvfs)" 0
assert_eq "$(busctl --system get-property "$DEST" "$MGR" "$IFACE" NumVFs)" "u 0" "NumVFs after disable"
busctl --system tree "$DEST" | grep -q "$(basename "$VF0P")" && fail "VF object still there after disable"

note "under systemd, \$STATE_DIRECTORY names the state directory"
daemon_stop
mkdir -p "$T/statedir"
STATE_DIRECTORY="$T/statedir:/nonexistent" with_sim_rtnl "$SRIOVD" --sysfs-root "$SIM_ROOT" --uevent-source none \
        --config "$T/sriovd.conf" --config-dir "$T/conf.d" >>"$T/sriovd.log" 2>&1 &
DAEMON_PID=$!
wait_for 20 sriovd_running || fail "sriovd did not come up with STATE_DIRECTORY"
mgr SetNumVFs 'sua{sv}' $PF 1 0 >/dev/null
mgr Bind 'ssa{sv}' "$(vf_bdf $PF 0)" vfio-pci 0 >/dev/null || fail "bind"
[ -s "$T/statedir/state.json" ] || fail "no state.json in \$STATE_DIRECTORY"
echo "ok"
