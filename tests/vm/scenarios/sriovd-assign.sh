# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-assign: a guest assignment from a pool, end to end on the real
# kernel. The configuration declares igb VFs and a pool of them with a VLAN;
# Assign(guest, pool, {uid, gid, mac}) takes the lowest free VF from its
# host driver to vfio-pci, sets its MAC and the pool's VLAN, hands its VFIO
# nodes to that user and returns the QEMU arguments; the host's own QEMU,
# run in the guest as that user with exactly those arguments (paused q35
# machine, QMP), realizes the VF and quits; Release gives the VF its prior
# driver and attributes back, and its VFIO nodes go with vfio-pci.
#
# diff-skip: the project's daemon and a VMM on the real kernel, not a kernel rule
# vm-needs: gdbus qemu

no_reference
need_bin sriovd
need_tool gdbus qemu
need_igb || skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
GP=$PCI/devices/$IGB
IF=$(ls "$GP/net" | head -n 1)
vf_line() { $IP link show dev "$IF" | sed -n "s/^ *vf $1 *//p" | tr -s ' '; }
# gv_list REPLY KEY: the strings of an "as" member, one per line
gv_list() { echo "$1" | sed -n "s/.*'$2': <\\[\\([^]]*\\)\\]>.*/\\1/p" | sed "s/', '/\\n/g; s/^'//; s/'\$//"; }

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "guests", "select": [ "$IGB#0-1" ], "vlan": 300 } ] }
EOF
# igb takes VF settings on a PF that is up.
$IP link set dev "$IF" up
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
set -- $(vfs "$IGB")
VF0=$1
wait_until 20 eval '[ "$(drv "$VF0")" = igbvf ]'
expect before.vf0_driver "$(drv "$VF0")" igbvf
before=$(vf_line 0)
expect_glob before.vf0_vlan "$before" '* spoof checking on, *'
r=$(gmgr ListPools)
expect_glob pool.listed "$r" "*('guests', \\['$IGB#0-1'\\], {'source': <'configuration'>, 'driver': <'vfio-pci'>, 'size': <uint32 2>, 'assigned': <uint32 0>*"

# ---- Assign: the lowest free VF of the pool, for user nobody.
r=$(gmgr Assign vm1 guests "{'uid': <uint32 65534>, 'gid': <uint32 65534>, 'mac': <'02:00:00:5e:01:01'>}")
echo "Assign: $r" >&2
expect assign.vf "$(gv_string "$r" vf)" "$VF0"
expect assign.pool "$(gv_string "$r" pool)" guests
expect assign.driver "$(gv_string "$r" driver)" vfio-pci
expect assign.state "$(gv_string "$r" state)" ready
G=$(grp "$VF0")
expect assign.iommu_group "$(gv_string "$r" iommu_group)" "$G"
gv_list "$r" device_nodes >"$STATE/nodes"
expect assign.device_nodes "$(head -n 1 "$STATE/nodes")" "/dev/vfio/$G"
obs assign.device_nodes.count "$(wc -l <"$STATE/nodes")"
# The VFIO cdev, where the kernel has one (6.12; 6.1 has only the vfio-dev
# class device in sysfs, no /dev/vfio/devices).
CDEV=$(ls "$PCI/devices/$VF0/vfio-dev" 2>/dev/null | head -n 1)
if [ -n "$CDEV" ] && [ -c "/dev/vfio/devices/$CDEV" ]; then
        expect assign.device_nodes.cdev "$(sed -n 2p "$STATE/nodes")" "/dev/vfio/devices/$CDEV"
fi
# Every node Assign names exists: on 6.1, which has the vfio-dev class
# device in sysfs but no VFIO cdev, no /dev/vfio/devices/vfioN is named.
expect assign.device_nodes.missing "$(while read -r n; do [ -e "$n" ] || echo "$n"; done <"$STATE/nodes" | tr '\n' ' ')" ""
gv_list "$r" qemu_args >"$STATE/qemu.args"
QID=sriovd-$(echo "$VF0" | tr : -)
expect assign.qemu_args "$(tr '\n' ' ' <"$STATE/qemu.args" | sed 's/ $//')" "-device vfio-pci,host=$VF0,id=$QID"
# The host as Assign left it.
expect assign.sysfs_driver "$(drv "$VF0")" vfio-pci
expect_glob assign.ip "$(vf_line 0)" 'link/ether 02:00:00:5e:01:01 *, vlan 300, *'
while read -r n; do
        [ -e "$n" ] || continue
        expect "assign.owner.${n##*/}" "$(stat -c '%u:%g %a' "$n")" "65534:65534 660"
done <"$STATE/nodes"

# ---- the VMM: this run's QEMU as nobody, with exactly those arguments.
t0=$(cut -d. -f1 /proc/uptime)
# shellcheck disable=SC2046  # one argument a line, none with spaces
guest_qemu "$STATE/qemu.out" 65534:65534 -- $(cat "$STATE/qemu.args")
expect qemu.exit "$?" 0
echo "qemu took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
cat "$STATE/qemu.out.err" >&2
expect qemu.realized "$(qmp_pci_id "$STATE/qemu.out" "$QID")" "$(pci_id "$VF0")"
expect qemu.quit "$(grep -c '"event": "SHUTDOWN"' "$STATE/qemu.out")" 1
expect qemu.group_free "$(try_open group "$VF0")" held
r=$(gmgr ListAssignments "''")
expect_glob listed "$r" "*('vm1', '$VF0', 'guests', 'ready', *"

# ---- Release: prior driver, attributes and nodes back.
expect release.reply "$(gmgr Release vm1 '' '{}')" "(['$VF0'],)"
expect release.sysfs_driver "$(drv "$VF0")" igbvf
expect release.override "$(rd "$PCI/devices/$VF0/driver_override")" "(null)"
# Release takes back the MAC it set (to none, as before); igbvf, bound
# again, may then give the VF an address of its own (6.1's igb shows it).
# Everything else is as before.
expect release.ip_as_before "$(vf_line 0 | sed 's,^link/ether [^ ]*,link/ether MAC,')" \
        "$(echo "$before" | sed 's,^link/ether [^ ]*,link/ether MAC,')"
expect_ne release.mac_not_assigned "$(vf_line 0 | awk '{ print $2 }')" 02:00:00:5e:01:01
while read -r n; do
        expect "release.node.${n##*/}" "$([ -e "$n" ] && stat -c '%u:%g %a' "$n" || echo gone)" gone
done <"$STATE/nodes"
expect release.assignments "$(gmgr ListAssignments "''")" "(@a(ssssa{sv}) [],)"
r=$(gmgr Apply true)
expect release.dry_run "$r" "(@a(ssss) [],)"

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
$IP link set dev "$IF" down
