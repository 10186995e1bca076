# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-release-busy: a refused Release changes nothing, on the real kernel
# (issue 15, defect 7: the VF lost its VLAN before the refusal). A guest
# holds an igb VF from a pool with "vlan": 42, with a MAC of its own and its
# VFIO nodes handed to it (nobody); a VMM-like process, as that user, holds
# the VF's VFIO device (container + group + device fd; on a kernel with the
# VFIO cdev, then the cdev). `sriovctl release vm1` is refused (exit 7,
# DeviceBusy, naming the holder), and so is Release over D-Bus: the VF's
# VLAN, MAC, driver and override, its nodes and their owner, the PF's link
# and the assignment (ListAssignments, state ready; sriovctl verify clean)
# are exactly as before. Once the holder is gone, the release works: the
# VF's prior driver and settings come back, its nodes go, and the PF's link
# is down again, as before the assignment brought it up.
#
# diff-skip: the project's daemon on the real kernel, not a kernel rule
# vm-needs: gdbus

no_reference
need_bin sriovd sriovctl
need_tool gdbus
need_igb || ci_skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
IF=$(ls "$PCI/devices/$IGB/net" | head -n 1)
GUEST_USER=65534:65534
vf_line() { $IP link show dev "$IF" | sed -n "s/^ *vf $1 *//p" | tr -s ' '; }
# pf_up: UP among the PF interface's flags
pf_link() { $IP -o link show dev "$IF" | sed -n 's/^[0-9]*: [^ ]* <\([^>]*\)>.*/\1/p' | tr , '\n' | grep -qx UP && echo up || echo down; }
# ctl ARGS...: sriovctl; its output in $STATE/ctl.out (process ids as PID); prints the exit status
ctl() {
        sriovctl --no-ask-password "$@" >"$STATE/ctl.raw" 2>&1
        _rc=$?
        sed 's/process [0-9][0-9]*/process PID/g' "$STATE/ctl.raw" >"$STATE/ctl.out"
        { echo "[$(cut -d' ' -f1 /proc/uptime)] sriovctl $* -> $_rc"; cat "$STATE/ctl.out"; } >&2
        echo "$_rc"
}
# snapshot: everything a refused Release must leave as it is
snapshot() {
        echo "driver=$(drv "$VF") override=$(rd "$PCI/devices/$VF/driver_override")"
        echo "vf=$(vf_line "$IDX")"
        echo "pf_link=$(pf_link) numvfs=$(rd "$PCI/devices/$IGB/sriov_numvfs")"
        while read -r n; do echo "node $n $(stat -c '%u:%g %a' "$n" 2>&1)"; done <"$STATE/nodes"
        echo "assignment=$(assignment_reply vm1)"
}
# holder MODE: a VMM-like process, as the guest's user, holding the VF's
# VFIO device through MODE (vfio-hold: device, cdev); HOLD_PID
holder() {
        # the helper itself, not the shell function: $! is then the holder
        as-user "${GUEST_USER%%:*}" "${GUEST_USER#*:}" vfio-hold "$1" "$VF" >"$STATE/hold.out" 2>&1 &
        HOLD_PID=$!
        echo "$HOLD_PID" >>"$STATE/pids"
        wait_until 30 eval "grep -q -e '^held' -e '^error=' '$STATE/hold.out' || ! alive $HOLD_PID"
        grep -q '^held' "$STATE/hold.out"
}
# refused KEY: sriovctl release and Release over D-Bus are refused, and change nothing
refused() {
        expect "$1.ctl.exit" "$(ctl release vm1)" 7
        expect_glob "$1.ctl.output" "$(cat "$STATE/ctl.out")" "*$VF is in use: process PID (vfio-hold) holds /dev/vfio/*"
        expect "$1.ctl.unchanged" "$(snapshot)" "$BEFORE"
        r=$(gmgr Release vm1 "''" '{}')
        expect "$1.dbus.error" "${r%%:*}" "ERROR org.sriovd.Error.DeviceBusy"
        expect "$1.dbus.unchanged" "$(snapshot)" "$BEFORE"
        expect "$1.holder_alive" "$(alive "$HOLD_PID" && echo yes || echo no)" yes
        expect "$1.verify" "$(ctl verify)" 0
}

# The pool in the configuration, the VFs made through the API: with a
# declared rule for the PF, Release would leave its link up on purpose
# (sriovd-reestablish checks that case).
cat >"$SRIOVD_CONF" <<EOF
{ "pools": [ { "name": "guests", "select": [ "$IGB#0-1" ], "vlan": 42 } ] }
EOF
# Assign brings the PF's link up (igb takes VF settings on a PF that is up);
# Release puts it back: down, as here.
$IP link set dev "$IF" down
# (debug: the log says how each check for VFIO users was answered)
start_sriovd_fresh --timeout 60 --log-level debug || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
expect enable "$(gmgr SetNumVFs "$IGB" 2 "{'autoprobe': <true>}")" "(uint32 2,)"
set -- $(vfs "$IGB")
VF=$1 IDX=0
wait_until 20 eval '[ "$(drv "$VF")" = igbvf ]'
expect before.driver "$(drv "$VF")" igbvf
expect before.pf_link "$(pf_link)" down
before_vf=$(vf_line "$IDX")
expect_ne before.vlan "$(echo "$before_vf" | grep -c 'vlan 42')" 1

# ---- the guest's VF: the pool's VLAN 42, its own MAC, its nodes for nobody
r=$(gmgr Assign vm1 guests "{'uid': <uint32 65534>, 'gid': <uint32 65534>, 'mac': <'02:00:00:5e:15:01'>}")
echo "Assign: $r" >&2
expect assign.vf "$(gv_string "$r" vf)" "$VF"
gv_list "$r" device_nodes >"$STATE/nodes"
expect assign.driver "$(drv "$VF")" vfio-pci
expect_glob assign.vf_line "$(vf_line "$IDX")" 'link/ether 02:00:00:5e:15:01 *, vlan 42, *'
expect assign.pf_link "$(pf_link)" up
expect assign.state "$(assignment_of vm1)" "$VF ready"
while read -r n; do expect "assign.owner.${n##*/}" "$(stat -c '%u:%g %a' "$n")" "65534:65534 660"; done <"$STATE/nodes"
BEFORE=$(snapshot)
echo "the host before the refused releases:" >&2
echo "$BEFORE" >&2

# ---- a VMM holds the VF's VFIO device (container, group, device fd)
holder device || fail "vfio-hold device as $GUEST_USER: $(cat "$STATE/hold.out")"
refused held.device
# the kernel refused sriovd's open of the group node (EBUSY); /proc only named the holder
expect_ne held.device.log.group_busy "$(grep -c "VFIO users of $VF: the kernel says the group node is held; /proc scanned" "$RESULTS/$NAME.sriovd.log")" 0
release "$HOLD_PID" || fail "vfio-hold did not exit"
# ---- and through the VFIO cdev, where the kernel has one (6.12)
CDEV=$(ls "$PCI/devices/$VF/vfio-dev" 2>/dev/null | head -n 1)
HAS_CDEV=no
[ -n "$CDEV" ] && [ -c "/dev/vfio/devices/$CDEV" ] && HAS_CDEV=yes
if [ "$HAS_CDEV" = yes ]; then
        holder cdev || fail "vfio-hold cdev as $GUEST_USER: $(cat "$STATE/hold.out")"
        # an opened, unbound cdev leaves the group free to open: only /proc sees it
        _before=$(grep -c "VFIO users of $VF: the group node opened, nobody holds it; /proc scanned" "$RESULTS/$NAME.sriovd.log" || :)
        refused held.cdev
        expect_ne held.cdev.log.scanned "$(grep -c "VFIO users of $VF: the group node opened, nobody holds it; /proc scanned" "$RESULTS/$NAME.sriovd.log")" "$_before"
        release "$HOLD_PID" || fail "vfio-hold did not exit"
else
        note "no VFIO cdev on this kernel: the group and device fd only"
fi
expect log.refusals "$(grep -c "Not releasing $VF from vm1: .*; nothing was changed" "$RESULTS/$NAME.sriovd.log")" \
        "$([ "$HAS_CDEV" = yes ] && echo 4 || echo 2)"

# ---- the holder is gone: the release works, and puts everything back
expect release.exit "$(ctl release vm1)" 0
expect release.output "$(cat "$STATE/ctl.out")" "vm1: released $VF"
expect release.driver "$(drv "$VF")" igbvf
expect release.override "$(rd "$PCI/devices/$VF/driver_override")" "(null)"
# the MAC sriovd set is taken back (igbvf may then pick one of its own)
expect release.vf_line "$(vf_line "$IDX" | sed 's,^link/ether [^ ]*,link/ether MAC,')" \
        "$(echo "$before_vf" | sed 's,^link/ether [^ ]*,link/ether MAC,')"
expect release.pf_link "$(pf_link)" down
expect release.log.pf_link "$(grep -c "$IF is down again, as before the assignment" "$RESULTS/$NAME.sriovd.log")" 1
while read -r n; do
        expect "release.node.${n##*/}" "$([ -e "$n" ] && stat -c '%u:%g %a' "$n" || echo gone)" gone
done <"$STATE/nodes"
expect release.assignments "$(gmgr ListAssignments "''")" "(@a(ssssa{sv}) [],)"
expect release.verify "$(ctl verify)" 0
# the release's check was the kernel's answer alone: the group node opened,
# no /proc scan (with a VFIO cdev, which does not hold the group, /proc too)
if [ "$HAS_CDEV" = yes ]; then
        expect_ne release.log.group_free "$(grep -c "VFIO users of $VF: the group node opened, nobody holds it; /proc scanned" "$RESULTS/$NAME.sriovd.log")" 0
else
        expect_ne release.log.group_free "$(grep -c "VFIO users of $VF: the group node opened, nobody holds it, no /proc scan" "$RESULTS/$NAME.sriovd.log")" 0
fi

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
# the PF's link as the scenarios after this one expect it (not part of the runner's reset)
$IP link set dev "$(ls "$PCI/devices/$IGB/net" | head -n 1)" down
