# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# vfio-hold: a process with a VF's VFIO device open makes the kernel wait:
# "echo 0 > sriov_numvfs" and the VF's unbind block until it lets go, and
# sysfs looks half-done meanwhile. Holding only the group fd does not block.
#
# diff-exclude: group.viable device.second_group_open -- VFIO ioctls and the exclusive open of /dev/vfio/N: the simulator has no /dev/vfio
# diff-exclude: group.dev_node_after *.dev_node -- /dev/vfio nodes: character devices, which the simulator cannot create
# diff-exclude: device.pending.klog_* -- kernel log lines (dmesg): the simulator has no kernel log

NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
P=$PCI/devices/$NVME

# setup KEY: 2 VFs, autoprobe off, VF0 on vfio-pci.
setup() {
        sw "$P/sriov_drivers_autoprobe" 0 >/dev/null
        expect "$1.enable2" "$(sw "$P/sriov_numvfs" 2)" ok
        set -- $(vfs "$NVME")
        VF0=$1 VF1=$2
        sw "$PCI/devices/$VF0/driver_override" vfio-pci >/dev/null
        sw "$PCI/drivers_probe" "$VF0" >/dev/null
        G=$(grp "$VF0")
        [ "$(drv "$VF0")" = vfio-pci ] || fail "setup: $VF0 not on vfio-pci"
}

# ---- 1. only the group fd: the disable goes through.
setup group
hold group "$VF0" "$STATE/g.out" || fail "vfio-hold group: $(cat "$STATE/g.out")"
expect group.viable "$(sed -n 's/^viable=//p' "$STATE/g.out")" 1
uev_begin
expect group.disable "$(sw_t 10000 "$P/sriov_numvfs" 0)" ok
uev_record group.disable.uevent
expect group.disable.numvfs "$(rd "$P/sriov_numvfs")" 0
expect group.holder_alive "$(alive "$HOLD_PID" && echo yes || echo no)" yes
expect group.dev_node_after "$([ -e "/dev/vfio/$G" ] && echo present || echo gone)" gone
release "$HOLD_PID" || fail "group holder did not exit"

# ---- 2. the device fd: the disable blocks until it is closed.
setup device
hold device "$VF0" "$STATE/d.out" || fail "vfio-hold device: $(cat "$STATE/d.out")"
DHOLD=$HOLD_PID
# A group is opened by one process at a time.
expect device.second_group_open "$(try_open group "$VF0")" open_group:EBUSY
# The device fd keeps the VF awake.
obs device.power_state "$(rd "$PCI/devices/$VF0/power_state")"

uev_begin
# The writer runs in the background so that it can be observed and signalled.
bg_write "$P/sriov_numvfs" 0 "$STATE/disable.result"
expect device.disable "$BG_RESULT" pending
wpid=$WPID
# While the writer waits: VFs are removed in index order and VF0 is stuck.
# The PF has dropped its virtfn0 link and VF0 its physfn and driver links,
# though vfio-pci still has it; VF1 is untouched. Reads of sriov_numvfs wait
# for the same lock.
expect device.pending.virtfn_links "$(virtfn_links "$NVME")" virtfn1
expect device.pending.vf0_dir "$([ -d "$PCI/devices/$VF0" ] && echo present || echo gone)" present
expect device.pending.vf0_driver "$(drv "$VF0")" none
expect device.pending.vf0_physfn "$(link_name "$PCI/devices/$VF0/physfn")" none
expect device.pending.vf1_dir "$([ -d "$PCI/devices/$VF1" ] && echo present || echo gone)" present
expect device.pending.vf1_physfn "$(link_name "$PCI/devices/$VF1/physfn")" "$NVME"
expect device.pending.read_numvfs "$(rd_t 2000 "$P/sriov_numvfs")" pending
expect device.pending.read_totalvfs "$(rd_t 2000 "$P/sriov_totalvfs")" 4
expect device.pending.dev_node "$([ -c "/dev/vfio/$G" ] && echo present || echo gone)" present
expect device.pending.group_dir "$([ -d "/sys/kernel/iommu_groups/$G" ] && echo present || echo gone)" present
# vfio-pci asks the user to let go (no request channel here), once per 10 s.
expect device.pending.klog_request "$(klog | grep -c 'blocked until released by user')" 1
obs device.pending.klog_request_line "$(klog | grep 'blocked until released by user' | head -n 1 | sed 's/^\[[^]]*\] //')"
# The writer waits interruptibly at first; a signal turns the wait
# uninterruptible (with a warning) and the write still completes later.
obs device.pending.writer_state "$(proc_state "$wpid")"
kill -KILL "$wpid"
wait_until 5 eval '[ "$(proc_state "$wpid")" = D ]'
expect device.pending.writer_after_sigkill "$(proc_state "$wpid")" D
expect device.pending.klog_in_use "$(klog | grep -c 'Device is currently in use')" 1
obs device.pending.klog_in_use_line "$(klog | grep 'Device is currently in use' | head -n 1 | sed -e 's/^\[[^]]*\] //' -e 's/([0-9]*)/(PID)/')"
uev_record device.pending.uevent

release "$DHOLD" || fail "device holder did not exit"
wait_until 10 eval "! alive $wpid"
expect device.released.writer "$(alive "$wpid" && echo alive || echo exited)" exited
# The SIGKILLed writer died as its write returned: it printed nothing.
expect device.released.writer_output "$(cat "$STATE/disable.result")" ""
wait "$wpid" 2>/dev/null
expect device.released.numvfs "$(rd_t 2000 "$P/sriov_numvfs")" 0
expect device.released.vf0_dir "$([ -d "$PCI/devices/$VF0" ] && echo present || echo gone)" gone
expect device.released.dev_node "$([ -e "/dev/vfio/$G" ] && echo present || echo gone)" gone
uev_record device.released.uevent

# ---- 3. the device fd: the VF's unbind blocks too.
setup unbind
hold device "$VF0" "$STATE/d.out" || fail "vfio-hold device: $(cat "$STATE/d.out")"
DHOLD=$HOLD_PID
uev_begin
rm -f "$STATE/unbind.result"
expect unbind.write "$(sw_t 3000 "$PCI/drivers/vfio-pci/unbind" "$VF0" "$STATE/unbind.result")" pending
# The driver link goes before vfio-pci's remove() starts waiting.
expect unbind.pending.driver "$(drv "$VF0")" none
expect unbind.pending.dev_node "$([ -c "/dev/vfio/$G" ] && echo present || echo gone)" present
expect unbind.pending.read_numvfs "$(rd_t 3000 "$P/sriov_numvfs")" 2
uev_record unbind.pending.uevent
release "$DHOLD" || fail "device holder did not exit"
wait_until 10 test -s "$STATE/unbind.result"
expect unbind.released.result "$(cat "$STATE/unbind.result" 2>/dev/null || echo none)" ok
expect unbind.released.driver "$(drv "$VF0")" none
uev_record unbind.released.uevent
sw "$PCI/devices/$VF0/driver_override" '\n' >/dev/null
expect unbind.final_disable "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
