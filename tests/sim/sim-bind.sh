#!/bin/bash
# driver_override (driver_set_override), bind/unbind (bus.c), drivers_probe,
# new_id/remove_id (pci-driver.c), probe failures, rmmod/modprobe.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
sim_start "$TOPO/x710.json"
M=$SIM_ROOT
D=$M/bus/pci/drivers
expect_write "$(dev 0000:3b:00.0)/sriov_numvfs" 3 0
VF=0000:3b:02.0
O=$(dev $VF)/driver_override

# --- driver_override ---
expect_write "$O" "vfio-pci\n" 0
expect_eq "$(rd "$O")" vfio-pci "override with a trailing newline"
expect_write "$O" "\n" 0
expect_eq "$(rd "$O")" "(null)" "a lone newline clears"
expect_write "$O" "foo\nbar" 0
expect_eq "$(rd "$O")" foo "the name ends at a newline"
expect_write "$O" "\0" 0
expect_eq "$(rd "$O")" "(null)" "python's \\0 clears (strlen)"
expect_write "$O" "nosuchdriver" 0
expect_eq "$(rd "$O")" nosuchdriver "any name is accepted"
expect_write "$O" "$(head -c 4094 /dev/zero | tr '\0' a)" 0
expect_write "$O" "$(head -c 4095 /dev/zero | tr '\0' a)" EINVAL
expect_write "$O" "$(head -c 5000 /dev/zero | tr '\0' a)" E2BIG
expect_write "$O" "\n" 0

# --- unbind ---
expect_write "$D/i40e/unbind" $VF ENODEV
expect_write "$D/iavf/unbind" 0000:3b:09.0 ENODEV
expect_write "$D/iavf/unbind" "$VF " ENODEV
expect_write "$D/iavf/unbind" "$VF\n" 0
expect_eq "$(driver_of $VF)" none "after unbind"
[ -L "$D/iavf/$VF" ] && fail "driver's device link left"
[ -e "$M/class/net/ens1f0v0" ] && fail "netdev left after unbind"
expect_write "$D/iavf/unbind" $VF ENODEV

# --- bind ---
expect_write "$D/i40e/bind" $VF ENODEV                  # no id match
expect_write "$D/iavf/bind" 0000:3b:09.0 ENODEV         # no such device
expect_write "$D/iavf/bind" 3b:02.0 ENODEV              # names are exact
expect_write "$D/vfio-pci/bind" $VF ENODEV              # override_only table
expect_write "$D/iavf/bind" 0000:3b:00.0 ENODEV
expect_write "$D/i40e/bind" 0000:3b:00.0 EBUSY          # already bound
expect_write "$O" vfio-pci 0
expect_write "$D/iavf/bind" $VF ENODEV                  # override excludes others
expect_write "$D/vfio-pci/bind" "$VF\n" 0
expect_eq "$(driver_of $VF)" vfio-pci "bound by override"
expect_eq "$(rd "$(dev $VF)/enable")" 0 "vfio-pci does not enable the device"
expect_write "$D/vfio-pci/unbind" $VF 0

# --- drivers_probe: ENODEV only for an unknown device ---
expect_write "$M/bus/pci/drivers_probe" 0000:3b:09.0 ENODEV
expect_write "$M/bus/pci/drivers_probe" "$VF\n" 0
expect_eq "$(driver_of $VF)" vfio-pci "drivers_probe honours driver_override"
expect_write "$M/bus/pci/drivers_probe" $VF 0
expect_write "$D/vfio-pci/unbind" $VF 0
expect_write "$O" nosuchdriver 0
expect_write "$M/bus/pci/drivers_probe" $VF 0
expect_eq "$(driver_of $VF)" none "no driver took it, still a success"
expect_write "$O" "\n" 0

# --- probe errors: bind returns them; drivers_probe swallows them ---
ctl fail probe $VF EIO
expect_write "$D/iavf/bind" $VF EIO
expect_eq "$(driver_of $VF)" none "after a failed probe"
[ -L "$(dev $VF)/driver" ] && fail "driver link after a failed probe"
ctl fail probe $VF ENXIO
expect_write "$M/bus/pci/drivers_probe" $VF 0
expect_eq "$(driver_of $VF)" none "after a failed probe through drivers_probe"
expect_write "$M/bus/pci/drivers_probe" $VF 0
expect_eq "$(driver_of $VF)" iavf "the injected failure was used up"

# --- new_id / remove_id ---
V=$(dev 0000:3b:02.1)
expect_write "$D/iavf/unbind" 0000:3b:02.1 0
expect_write "$D/iavf/unbind" 0000:3b:02.2 0
expect_write "$D/vfio-pci/new_id" 8086 EINVAL
expect_write "$D/vfio-pci/new_id" "8086:154c" EINVAL
expect_write "$D/vfio-pci/new_id" "8086 154c ffffffff ffffffff 0 0 5" EINVAL   # driver_data not in the table
expect_write "$D/vfio-pci/new_id" "8086 154c\n" 0
expect_eq "$(driver_of 0000:3b:02.1)" vfio-pci "new_id binds unbound matching devices"
expect_eq "$(driver_of 0000:3b:02.2)" vfio-pci "new_id binds every unbound match"
expect_eq "$(driver_of $VF)" iavf "new_id leaves bound devices alone"
expect_write "$D/vfio-pci/new_id" "8086 154c" EEXIST
expect_write "$D/i40e/new_id" "8086 1572" EEXIST                                  # static table
expect_write "$D/pci-stub/new_id" "8086 154c ffffffff ffffffff 0 0 5" 0           # no table: any driver_data
expect_eq "$(state "[x['dynids'] for x in d['drivers'] if x['name'] == 'vfio-pci'][0]")" \
        '["8086 154c ffffffff ffffffff 0 0"]' "vfio-pci dynids"
expect_write "$D/vfio-pci/remove_id" 8086 EINVAL
expect_write "$D/vfio-pci/remove_id" "8086 154c" 0
expect_write "$D/vfio-pci/remove_id" "8086 154c" ENODEV
expect_eq "$(driver_of 0000:3b:02.1)" vfio-pci "remove_id does not unbind"
expect_write "$D/vfio-pci/unbind" 0000:3b:02.1 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.1 0
expect_eq "$(driver_of 0000:3b:02.1)" iavf "after remove_id the id table decides again"

# --- rmmod / modprobe ---
expect_write "$(dev 0000:3b:02.2)/driver_override" vfio-pci 0
ctl rmmod iavf
[ -e "$D/iavf" ] && fail "drivers/iavf after rmmod"
[ -e "$M/module/iavf" ] && fail "module/iavf after rmmod"
expect_eq "$(driver_of $VF)" none "VF after rmmod"
[ -e "$M/class/net/ens1f0v0" ] && fail "VF netdev after rmmod"
expect_write "$M/.sim/ctl" "rmmod iavf" ENOENT
expect_write "$M/.sim/ctl" "modprobe nosuchmodule" ENOENT
ctl modprobe iavf
expect_eq "$(driver_of $VF)" iavf "VF after modprobe"
expect_eq "$(driver_of 0000:3b:02.1)" iavf "VF after modprobe"
expect_eq "$(driver_of 0000:3b:02.2)" vfio-pci "a VF with an override stays with its driver"
ctl modprobe iavf                       # loaded already: fine
expect_write "$M/bus/pci/drivers_autoprobe" 0 0
ctl rmmod vfio_pci
expect_eq "$(driver_of 0000:3b:02.2)" none "after rmmod vfio_pci"
ctl modprobe vfio-pci
expect_eq "$(driver_of 0000:3b:02.2)" none "bus drivers_autoprobe=0: modprobe binds nothing"
expect_write "$M/bus/pci/drivers_autoprobe" 1 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.2 0
expect_eq "$(driver_of 0000:3b:02.2)" vfio-pci "drivers_probe after modprobe"
ctl hold 0000:3b:02.2
expect_write "$M/.sim/ctl" "rmmod vfio-pci" EBUSY
expect_write "$M/.sim/ctl" "hold $VF" EINVAL          # not a VFIO device
ctl release 0000:3b:02.2
ctl rmmod vfio-pci
sim_stop
exit 0
