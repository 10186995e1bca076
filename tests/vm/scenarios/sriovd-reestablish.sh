# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-reestablish: assignments come back after their PF's driver is
# reloaded, on the real kernel (issue 15). Each guest's VF is given to the
# user nobody; after each event the assignment is checked in ListAssignments
# (state, IOMMU group, device nodes and their owner, QEMU arguments) and a
# real QEMU, started as nobody from the NEW reply, realizes the VF.
#
# - igb (the configuration declares 2 VFs and a pool with VLAN 42): the PF's
#   driver is unbound, which destroys its VFs; the assignment goes
#   not-ready (AssignmentChanged); bound again, the configuration makes the
#   VFs again and the assignment is set up again: ready (AssignmentChanged,
#   with the new group and nodes), the guest's MAC and VLAN back.
# - NVMe (no configuration: VFs made with SetNumVFs, the VF assigned by its
#   address): the PF's driver is unbound and bound again. nvme's remove()
#   leaves SR-IOV enabled: the VFs stay, and so does the assignment. Then
#   the PF's slot is hot-unplugged and plugged back (its root port removed,
#   a rescan): its VFs go, sriovd makes as many again, and the assignment
#   is set up again.
#
# diff-skip: the project's daemon and a VMM on the real kernel, not a kernel rule
# vm-needs: gdbus qemu

no_reference
need_bin sriovd sriovctl
need_tool gdbus
have_tool qemu || ci_skip "no QEMU for the guest (see tests/vm/run)"
need_igb || ci_skip "no igb NIC (QEMU < 8)"
NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
GUEST_USER=65534:65534
vf_line() { $IP link show dev "$(ls "$PCI/devices/$IGB/net" | head -n 1)" | sed -n "s/^ *vf $1 *//p" | tr -s ' '; }
state_is() { [ "$(assignment_of "$1")" = "$2" ]; }
# pf_driver_seen PF DRIVER: the daemon's model shows the PF with that driver ("-": none)
pf_driver_seen() { [ "$(sriovctl show "$1" 2>/dev/null | sed -n 's/^ *Driver: //p')" = "$2" ]; }

# AssignmentChanged signals, one line each, from the mark on
SIG=$STATE/signals
mark() { MARK=$(wc -l <"$SIG"); }
signals() { tail -n +"$((MARK + 1))" "$SIG" | grep "AssignmentChanged ('$1', '$2', "; }
signalled() { signals "$1" "$2" | grep -q "AssignmentChanged ('$1', '$2', '$3'"; }
# the states signalled since the mark, in order
signal_states() { signals "$1" "$2" | sed -n "s/.*AssignmentChanged ('$1', '$2', '\\([^']*\\)'.*/\\1/p" | tr '\n' ' ' | sed 's/ $//'; }

# check_reply KEY REPLY VF: what an assignment's reply names is the host now:
# the VF's group and nodes (owned by the guest's user), vfio-pci, QEMU's arguments
check_reply() {
        _g=$(grp "$3")
        expect "$1.driver" "$(drv "$3")" vfio-pci
        expect "$1.iommu_group" "$(gv_string "$2" iommu_group)" "$_g"
        gv_list "$2" device_nodes >"$STATE/nodes"
        expect "$1.device_nodes.group" "$(head -n 1 "$STATE/nodes")" "/dev/vfio/$_g"
        _cdev=$(ls "$PCI/devices/$3/vfio-dev" 2>/dev/null | head -n 1)
        if [ -n "$_cdev" ] && [ -c "/dev/vfio/devices/$_cdev" ]; then
                expect "$1.device_nodes.cdev" "$(sed -n 2p "$STATE/nodes")" "/dev/vfio/devices/$_cdev"
        fi
        obs "$1.device_nodes.count" "$(wc -l <"$STATE/nodes")"
        while read -r _n; do
                expect "$1.owner.${_n##*/}" "$(stat -c '%u:%g %a' "$_n" 2>&1)" "65534:65534 660"
        done <"$STATE/nodes"
        expect "$1.qemu_args" "$(gv_list "$2" qemu_args | tr '\n' ' ' | sed 's/ $//')" \
                "-device vfio-pci,host=$3,id=sriovd-$(echo "$3" | tr : -)"
}
# realize KEY REPLY VF: this run's QEMU, as the guest's user, with exactly
# the reply's qemu_args, realizes the VF (paused machine, QMP) and quits
realize() {
        gv_list "$2" qemu_args >"$STATE/qemu.args"
        _qid=sriovd-$(echo "$3" | tr : -)
        t0=$(cut -d. -f1 /proc/uptime)
        # shellcheck disable=SC2046  # one argument a line, none with spaces
        guest_qemu "$STATE/qemu.out" "$GUEST_USER" -- $(cat "$STATE/qemu.args")
        expect "$1.qemu.exit" "$?" 0
        echo "qemu ($1) took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
        cat "$STATE/qemu.out.err" >&2
        expect "$1.qemu.realized" "$(qmp_pci_id "$STATE/qemu.out" "$_qid")" "$(pci_id "$3")"
        expect "$1.qemu.quit" "$(grep -c '"event": "SHUTDOWN"' "$STATE/qemu.out")" 1
}

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "guests", "select": [ "$IGB#0-1" ], "vlan": 42 } ] }
EOF
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
gdbus monitor --system --dest org.sriovd.Manager1 --object-path /org/sriovd/Manager1 >"$SIG" 2>&1 &
echo $! >>"$STATE/pids"
wait_until 10 grep -q "^Monitoring signals" "$SIG" || fail "gdbus monitor did not start: $(cat "$SIG")"

# ==== igb: the PF's driver unbound (its VFs destroyed) and bound again
r=$(gmgr Assign vm1 guests "{'uid': <uint32 65534>, 'gid': <uint32 65534>, 'mac': <'02:00:00:5e:15:02'>}")
echo "Assign vm1: $r" >&2
VF=$(gv_string "$r" vf)
IDX=$(gv_string "$r" vf_index)
expect igb.assign.vf "$VF" "$(vfs "$IGB" | cut -d' ' -f1)"
expect igb.assign.state "$(assignment_of vm1)" "$VF ready"
r=$(assignment_reply vm1)
check_reply igb.assign "$r" "$VF"
G0=$(grp "$VF")
expect_glob igb.assign.vf_line "$(vf_line "$IDX")" 'link/ether 02:00:00:5e:15:02 *, vlan 42, *'

mark
expect igb.unbind "$(sw "$PCI/drivers/igb/unbind" "$IGB")" ok
expect igb.unbound.vf "$([ -e "$PCI/devices/$VF" ] && echo present || echo gone)" gone
expect igb.unbound.numvfs "$(rd "$PCI/devices/$IGB/sriov_numvfs")" 0
wait_until 30 state_is vm1 "$VF not-ready"
expect igb.unbound.state "$(assignment_of vm1)" "$VF not-ready"
obs igb.unbound.reason "$(gv_string "$(assignment_reply vm1)" reason)"
wait_until 10 signalled vm1 "$VF" not-ready
expect igb.unbound.signalled "$(signalled vm1 "$VF" not-ready && echo yes || echo no)" yes
expect igb.unbound.ctl_assignments "$(sriovctl assignments 2>&1 | awk -v v="$VF" '$3 == v { print $6 }')" not-ready

expect igb.bind "$(sw "$PCI/drivers/igb/bind" "$IGB")" ok
wait_until 60 state_is vm1 "$VF ready"
expect igb.rebound.state "$(assignment_of vm1)" "$VF ready"
expect igb.rebound.numvfs "$(rd "$PCI/devices/$IGB/sriov_numvfs")" 2
wait_until 10 signalled vm1 "$VF" ready
expect_glob igb.rebound.signal_states "$(signal_states vm1 "$VF")" "not-ready*ready"
r=$(assignment_reply vm1)
echo "ListAssignments vm1 after the reload: $r" >&2
check_reply igb.rebound "$r" "$VF"
obs igb.rebound.group "$([ "$(grp "$VF")" = "$G0" ] && echo "the same ($G0)" || echo "changed ($G0 -> $(grp "$VF"))")"
# the ready signal carries the new group and nodes
sig=$(signals vm1 "$VF" | grep "'ready'" | tail -n 1)
expect igb.rebound.signal.iommu_group "$(gv_string "$sig" iommu_group)" "$(grp "$VF")"
expect igb.rebound.signal.device_nodes "$(gv_list "$sig" device_nodes | tr '\n' ' ')" "$(gv_list "$r" device_nodes | tr '\n' ' ')"
expect_glob igb.rebound.vf_line "$(vf_line "$IDX")" 'link/ether 02:00:00:5e:15:02 *, vlan 42, *'
expect igb.rebound.verify "$(sriovctl verify >&2; echo $?)" 0
realize igb.rebound "$r" "$VF"
expect igb.release "$(gmgr Release vm1 "''" '{}')" "(['$VF'],)"
expect igb.released.driver "$(drv "$VF")" igbvf
# The PF has a declared rule: its link stays up after the release, as
# documented (dbus-api.md, Release), and the log says why.
IF=$(ls "$PCI/devices/$IGB/net" | head -n 1)
expect igb.released.pf_link "$($IP -o link show dev "$IF" | grep -c '<[^>]*[<,]UP[,>]')" 1
expect_ne igb.released.log.pf_link_stays_up "$(grep -c "$IF stays up" "$RESULTS/$NAME.sriovd.log")" 0

# ==== NVMe: no configuration; the VFs made with SetNumVFs, the VF assigned by address
expect nvme.enable "$(gmgr SetNumVFs "$NVME" 2 "{'autoprobe': <false>}")" "(uint32 2,)"
set -- $(vfs "$NVME")
NVF=$1
r=$(gmgr Assign vm2 "$NVF" "{'uid': <uint32 65534>, 'gid': <uint32 65534>}")
echo "Assign vm2: $r" >&2
expect nvme.assign.vf "$(gv_string "$r" vf)" "$NVF"
expect nvme.assign.state "$(assignment_of vm2)" "$NVF ready"
check_reply nvme.assign "$(assignment_reply vm2)" "$NVF"

# -- the PF's driver unbound and bound again: nvme's remove() leaves SR-IOV
# enabled, the VFs stay on their drivers
mark
expect nvme.unbind "$(sw "$PCI/drivers/nvme/unbind" "$NVME")" ok
expect nvme.unbound.vfs "$(vfs "$NVME")" "$*"
expect nvme.unbound.vf_driver "$(drv "$NVF")" vfio-pci
wait_until 20 pf_driver_seen "$NVME" -
expect nvme.unbound.seen "$(pf_driver_seen "$NVME" - && echo yes || echo no)" yes
obs nvme.unbound.state "$(assignment_of vm2)"
expect nvme.bind "$(sw "$PCI/drivers/nvme/bind" "$NVME")" ok
wait_async 30 nvme_live "$NVME"
wait_until 20 pf_driver_seen "$NVME" nvme
wait_until 60 state_is vm2 "$NVF ready"
expect nvme.rebound.state "$(assignment_of vm2)" "$NVF ready"
obs nvme.rebound.signal_states "$(signal_states vm2 "$NVF")"
r=$(assignment_reply vm2)
echo "ListAssignments vm2 after the reload: $r" >&2
check_reply nvme.rebound "$r" "$NVF"
expect nvme.rebound.verify "$(sriovctl verify >&2; echo $?)" 0
realize nvme.rebound "$r" "$NVF"

# -- the PF's slot unplugged and plugged back: its root port removed (with
# it the PF and its VFs; removing the PF alone would leave the VFs behind,
# nvme having left SR-IOV enabled) and a rescan: the PF comes back without
# VFs, and sriovd makes as many as it had again
G0=$(grp "$NVF")
RP=$(basename "$(dirname "$(readlink -f "$PCI/devices/$NVME")")")
mark
expect nvme.remove "$(sw "$PCI/devices/$RP/remove" 1)" ok
expect nvme.removed.pf "$([ -e "$PCI/devices/$NVME" ] && echo present || echo gone)" gone
expect nvme.removed.vf "$([ -e "$PCI/devices/$NVF" ] && echo present || echo gone)" gone
wait_until 30 state_is vm2 "$NVF not-ready"
expect nvme.removed.state "$(assignment_of vm2)" "$NVF not-ready"
obs nvme.removed.reason "$(gv_string "$(assignment_reply vm2)" reason)"
expect nvme.rescan "$(sw "$PCI/rescan" 1)" ok
wait_async 30 nvme_live "$NVME"
wait_until 60 state_is vm2 "$NVF ready"
expect nvme.replugged.state "$(assignment_of vm2)" "$NVF ready"
expect nvme.replugged.numvfs "$(rd "$PCI/devices/$NVME/sriov_numvfs")" 2
expect_glob nvme.replugged.signal_states "$(signal_states vm2 "$NVF")" "not-ready*ready"
r=$(assignment_reply vm2)
echo "ListAssignments vm2 after the replug: $r" >&2
check_reply nvme.replugged "$r" "$NVF"
obs nvme.replugged.group "$([ "$(grp "$NVF")" = "$G0" ] && echo "the same ($G0)" || echo "changed ($G0 -> $(grp "$NVF"))")"
expect nvme.replugged.verify "$(sriovctl verify >&2; echo $?)" 0
realize nvme.replugged "$r" "$NVF"
expect nvme.release "$(gmgr Release vm2 "''" '{}')" "(['$NVF'],)"
obs nvme.released.driver "$(drv "$NVF")"
expect nvme.released.assignments "$(gmgr ListAssignments "''")" "(@a(ssssa{sv}) [],)"

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
# the PF's link as the scenarios after this one expect it (not part of the runner's reset)
$IP link set dev "$(ls "$PCI/devices/$IGB/net" | head -n 1)" down
