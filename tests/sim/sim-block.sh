#!/bin/bash
# A VFIO user holding a device ("hold") blocks its removal from vfio-pci:
# unbind, sriov_numvfs=0 and the PF driver's unbind wait until "release",
# showing meanwhile what the real kernel shows (no driver link, no virtfnN
# link), and the device lock they hold blocks sriov_numvfs readers and
# driver_override writers.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
sim_start "$TOPO/x710.json"
M=$SIM_ROOT
D=$M/bus/pci/drivers
PF=$(dev 0000:3b:00.0)
tmp=$(mktemp -d)
on_exit 'sim_cleanup; rm -rf "$tmp"'

to_vfio() {
        expect_write "$(dev "$1")/driver_override" vfio-pci 0
        [ "$(driver_of "$1")" = none ] || expect_write "$D/$(driver_of "$1")/unbind" "$1" 0
        expect_write "$M/bus/pci/drivers_probe" "$1" 0
        expect_eq "$(driver_of "$1")" vfio-pci "$1 driver"
}

expect_write "$PF/sriov_numvfs" 2 0
to_vfio 0000:3b:02.0
expect_write "$M/.sim/ctl" "hold 0000:3b:02.1" EINVAL   # iavf: no VFIO user possible
ctl hold 0000:3b:02.0
expect_eq "$(state "dev('0000:3b:02.0')['held']")" true "held in the state"

# --- unbind blocks; the device looks unbound meanwhile ---
sim-write "$D/vfio-pci/unbind" 0000:3b:02.0 > "$tmp/unbind" &
w=$!
expect_blocked $w "unbind of a held device"
# the writer waits for the simulator's answer from the start: what says that
# the driver's remove() is the one waiting is the state
wait_state "dev('0000:3b:02.0')['vfio_waiting']" true "remove() waiting for the VFIO user"
[ -L "$(dev 0000:3b:02.0)/driver" ] && fail "driver link while the unbind waits"
[ -L "$D/vfio-pci/0000:3b:02.0" ] && fail "driver's device link while the unbind waits"
expect_eq "$(state "dev('0000:3b:02.0')['driver']")" vfio-pci "dev->driver while the unbind waits"
# the device lock is held: driver_override writes wait too
sim-write "$(dev 0000:3b:02.0)/driver_override" "\n" > "$tmp/override" &
o=$!
expect_blocked $o "driver_override write during a pending unbind"
expect_blocked $w "still held before the release"
expect_blocked $o "still held before the release"
ctl release 0000:3b:02.0
wait $w || fail "the held request ended with status $?"
wait $o || fail "the held request ended with status $?"
expect_eq "$(cat "$tmp/unbind")" 0 "unbind result after release"
expect_eq "$(cat "$tmp/override")" 0 "driver_override result after release"
expect_eq "$(driver_of 0000:3b:02.0)" none "after the unbind completed"
expect_eq "$(state "dev('0000:3b:02.0')['held']")" false "released"

# --- sriov_numvfs=0 blocks on a held VF; readers of sriov_numvfs block ---
to_vfio 0000:3b:02.0
to_vfio 0000:3b:02.1
ctl hold 0000:3b:02.0
sim-write "$PF/sriov_numvfs" 0 > "$tmp/disable" &
w=$!
expect_blocked $w "sriov_numvfs=0 with a held VF"
cat "$PF/sriov_numvfs" > "$tmp/numvfs" &
r=$!
expect_blocked $r "reading sriov_numvfs during a pending disable"
# pci_iov_remove_virtfn() goes VF0, VF1: once VF0's remove() waits for its
# VFIO user, VF0's link is gone, VF1's not yet
wait_state "dev('0000:3b:02.0')['vfio_waiting']" true "VF0's remove() waiting for its VFIO user"
[ -L "$PF/virtfn0" ] && fail "virtfn0 while VF0's removal waits"
[ -L "$PF/virtfn1" ] || fail "virtfn1 gone before VF0's removal finished"
[ -d "$(dev 0000:3b:02.0)" ] || fail "VF0 is gone while its removal waits"
[ -L "$(dev 0000:3b:02.0)/driver" ] && fail "VF0 driver link while its removal waits"
expect_blocked $w "still held before the release"
expect_blocked $r "still held before the release"
ctl release 0000:3b:02.0
wait $w || fail "the held request ended with status $?"
wait $r || fail "the held request ended with status $?"
expect_eq "$(cat "$tmp/disable")" 0 "disable result after release"
expect_eq "$(cat "$tmp/numvfs")" 0 "sriov_numvfs read after the disable"
[ -e "$(dev 0000:3b:02.0)" ] && fail "VF0 left after the disable"

# holding the last VF: no virtfn links at all while waiting
expect_write "$PF/sriov_numvfs" 2 0
to_vfio 0000:3b:02.1
ctl hold 0000:3b:02.1
sim-write "$PF/sriov_numvfs" 0 > "$tmp/disable" &
w=$!
expect_blocked $w "sriov_numvfs=0 with the last VF held"
wait_state "dev('0000:3b:02.1')['vfio_waiting']" true "VF1's remove() waiting for its VFIO user"
ls "$PF"/virtfn* >/dev/null 2>&1 && fail "virtfn links while the last VF's removal waits"
[ -e "$(dev 0000:3b:02.0)" ] && fail "VF0 still there while VF1's removal waits"
expect_blocked $w "still held before the release"
ctl release 0000:3b:02.1
wait $w || fail "the held request ended with status $?"
expect_eq "$(cat "$tmp/disable")" 0 "disable result"

# --- the PF driver's unbind disables SR-IOV and waits as well ---
expect_write "$PF/sriov_numvfs" 1 0
to_vfio 0000:3b:02.0
ctl hold 0000:3b:02.0
sim-write "$D/i40e/unbind" 0000:3b:00.0 > "$tmp/pfunbind" &
w=$!
expect_blocked $w "PF driver unbind with a held VF"
[ -L "$PF/driver" ] && fail "PF driver link while its unbind waits"
expect_blocked $w "still held before the release"
ctl release 0000:3b:02.0
wait $w || fail "the held request ended with status $?"
expect_eq "$(cat "$tmp/pfunbind")" 0 "PF unbind result"
expect_eq "$(rd "$PF/sriov_numvfs")" 0 "numvfs after the PF unbind"
expect_eq "$(driver_of 0000:3b:00.0)" none "PF after unbind"
sim_stop
exit 0
