#!/bin/bash
# The verbs that change the host, checked in the simulated kernel: enable
# (with and without autoprobe, a new count, fewer VFs than asked), bind with
# and without keeping the override, unbind, restore, disable.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json

PF=0000:3b:00.0
numvfs() { simdev $PF sriov | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())["numvfs"])'; }
autoprobe() { sysattr $PF sriov_drivers_autoprobe; }

note "enable, by interface name, without autoprobe: VFs without a driver"
expect_ok enable ens1f0 4 --autoprobe no
assert_eq "$OUT" "ens1f0: 4 VFs enabled" "enable output"
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "kernel sriov_numvfs"
assert_eq "$(numvfs)" 4 "simulator numvfs"
assert_eq "$(autoprobe)" 0 "sriov_drivers_autoprobe"
VF0=$(vf_bdf $PF 0)
assert_eq "$(simdev "$VF0" driver)" None "VF driver without autoprobe"
assert_eq "$(simdev "$VF0" physfn)" $PF "the VF belongs to the PF"

note "a new count, with autoprobe: the VFs get their driver"
expect_ok enable 3b:00.0 2 --autoprobe yes
assert_eq "$OUT" "3b:00.0: 2 VFs enabled" "enable output"
assert_eq "$(sysattr $PF sriov_numvfs)" 2 "kernel sriov_numvfs"
assert_eq "$(autoprobe)" 1 "sriov_drivers_autoprobe"
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
assert_eq "$(simdev "$VF0" driver)" iavf "VF driver with autoprobe"
expect_ok enable $PF 1
assert_eq "$OUT" "$PF: 1 VF enabled" "one VF"
assert_eq "$(autoprobe)" 1 "autoprobe untouched without --autoprobe"
expect_ok enable $PF 2
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)

note "bind to vfio-pci: the override stays (default for vfio-pci)"
expect_ok bind "$VF0" vfio-pci
assert_eq "$OUT" "$VF0: bound to vfio-pci (was iavf)" "bind output"
assert_eq "$(simdev "$VF0" driver)" vfio-pci "kernel driver"
assert_eq "$(simdev "$VF0" driver_override)" vfio-pci "driver_override kept"
expect_ok bind "$VF0" vfio-pci
assert_eq "$OUT" "$VF0: bound to vfio-pci (was vfio-pci)" "binding again is idempotent"

note "bind --no-keep-override: the override is cleared after the bind"
expect_ok bind "$VF1" vfio-pci --no-keep-override
assert_eq "$(simdev "$VF1" driver)" vfio-pci "kernel driver"
assert_eq "$(simdev "$VF1" driver_override)" None "driver_override cleared"
note "bind --keep-override to a host driver"
expect_ok restore "$VF1"
expect_ok bind "$VF1" pci-stub --keep-override
assert_eq "$(simdev "$VF1" driver_override)" pci-stub "driver_override kept on request"

note "unbind and restore: back to the driver before sriovd changed it"
expect_ok unbind "$VF0"
assert_eq "$OUT" "$VF0: unbound (was vfio-pci)" "unbind output"
assert_eq "$(simdev "$VF0" driver)" None "unbound"
expect_ok unbind "$VF0"
assert_eq "$OUT" "$VF0: unbound (had no driver)" "unbind of an unbound function"
expect_ok restore "$VF0"
assert_eq "$OUT" "$VF0: driver iavf bound" "restore output"
assert_eq "$(simdev "$VF0" driver)" iavf "driver after restore"
assert_eq "$(simdev "$VF0" driver_override)" None "override after restore"
expect_ok show "$VF0"
assert_eq "$(field 'Prior driver')" - "nothing recorded after restore"
expect_ok restore "$VF1"
assert_eq "$(simdev "$VF1" driver)" iavf "the other VF restored"

note "fewer VFs than asked: said on stderr, exit status 8"
sim_ctl partial $PF 3
ctl enable $PF 6
assert_eq "$RC" 8 "exit status of a partial enable"
assert_eq "$OUT" "$PF: 3 VFs enabled" "what was enabled, on stdout"
[[ "$ERR" == *"the driver of $PF enabled only 3 of the 6 VFs asked for"* ]] || fail "partial: stderr: $ERR"
assert_eq "$(sysattr $PF sriov_numvfs)" 3 "kernel sriov_numvfs after a partial enable"
ctl --json enable $PF 5
assert_eq "$RC" 8 "exit status of a partial enable with --json"
assert_eq "$(jq_out d)" "{'pf': '$PF', 'requested': 5, 'enabled': 3}" "partial enable --json"
sim_ctl partial $PF 64

note "disable"
expect_ok disable ens1f0
assert_eq "$OUT" "ens1f0: VFs disabled" "disable output"
assert_eq "$(sysattr $PF sriov_numvfs)" 0 "kernel sriov_numvfs after disable"
assert_eq "$(simdev "$VF0" bdf 2>/dev/null)" "" "the VFs are gone from the simulator"
expect_ok disable ens1f0
assert_eq "$OUT" "ens1f0: VFs disabled" "disable twice"
expect_ok enable ens1f0 0
assert_eq "$OUT" "ens1f0: VFs disabled" "enable 0 disables"
echo ok
