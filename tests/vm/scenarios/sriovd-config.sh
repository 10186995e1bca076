# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-config: the declared configuration on the real kernel. VFs, their
# drivers and their attributes (MAC, VLAN and QoS, spoof checking, trust,
# tx rate) on the igb PF, VFs for vfio-pci on the NVMe PF, all applied at
# the daemon's start, as iproute2 and sysfs show; a change made by hand is
# reported by a dry run of Apply and corrected by Apply; applying twice
# changes nothing the second time. When a PF's driver is unbound and bound
# again through sysfs, the daemon puts back the declared VFs, attributes and
# drivers by itself, from the kernel's uevents. A tx rate igb refuses while
# its link comes back after a VF count change lands by itself too (the
# daemon tries failed steps again).
#
# diff-skip: the project's daemon on the real kernel, not a kernel rule
# vm-needs: gdbus

no_reference
only_on_kernel "debian-*" "the same igb, igbvf and nvme drivers; what 6.12 changes (iommufd, VFIO cdev, group rules) is in sriovd-vfio and sriovd-assign (make check-vm time budget)"
need_bin sriovd
need_tool gdbus
NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
need_igb || skip "no igb NIC (QEMU < 8): VF attributes need it"
P=$PCI/devices/$NVME GP=$PCI/devices/$IGB

# vf_lines IFACE: the PF's "vf N ..." lines of `ip link show`, one per VF,
# spaces squeezed.
vf_lines() { $IP link show dev "$1" | sed -n 's/^ *vf \([0-9]*\) */vf\1 /p' | tr -s ' '; }
pf_if() { ls "$GP/net" 2>/dev/null | head -n 1; }
# steps REPLY: Apply's steps from gdbus's printout, one per line (the PFs
# are worked on in parallel: record_steps sorts them):
# "BDF KIND DETAIL [ERROR]"
steps() {
        echo "$1" | sed -e 's/^(\[//' -e 's/\],)$//' -e 's/), (/)\n(/g' | sed -n "s/^('\([^']*\)', '\([^']*\)', '\([^']*\)', '\([^']*\)')\$/\1 \2 \3 \4/p" | sed 's/ *$//'
}
# record_steps KEY REPLY: the steps as KEY.N, their number as KEY.count
record_steps() {
        steps "$2" | sort >"$STATE/steps"
        _n=0
        while read -r _l; do
                _n=$((_n + 1))
                obs "$1.$_n" "$_l"
        done <"$STATE/steps"
        obs "$1.count" "$_n"
}
# world: what the configuration governs, as the kernel and iproute2 show it
world() {
        echo "igb numvfs=$(rd "$GP/sriov_numvfs") autoprobe=$(rd "$GP/sriov_drivers_autoprobe")"
        for v in $(vfs "$IGB"); do echo "$v $(drv "$v")"; done
        vf_lines "$(pf_if)"
        echo "nvme numvfs=$(rd "$P/sriov_numvfs") autoprobe=$(rd "$P/sriov_drivers_autoprobe")"
        for v in $(vfs "$NVME"); do echo "$v $(drv "$v")"; done
}
# converged: the world is what the configuration says (after a PF came back)
converged() {
        [ "$(rd "$GP/sriov_numvfs")" = 3 ] && [ "$(rd "$P/sriov_numvfs")" = 2 ] || return 1
        set -- $(vfs "$IGB")
        [ "$(drv "$1")" = vfio-pci ] && [ "$(drv "$2")" = igbvf ] && [ "$(drv "$3")" = igbvf ] || return 1
        vf_lines "$(pf_if)" | grep -q '^vf0 link/ether 02:00:00:5e:00:10 .*vlan 100, qos 3' || return 1
        vf_lines "$(pf_if)" | grep -q '^vf1 link/ether 02:00:00:5e:00:11 .*vlan 200,' || return 1
        set -- $(vfs "$NVME")
        [ "$(drv "$1")" = vfio-pci ] && [ "$(drv "$2")" = vfio-pci ]
}

cat >"$SRIOVD_CONF" <<EOF
{
  "pfs": [
    { "match": { "bdf": "$IGB" }, "num_vfs": 3, "autoprobe": false,
      "vfs": [ { "range": "0", "driver": "vfio-pci", "mac": "02:00:00:5e:00:10", "vlan": 100, "qos": 3,
                 "spoofchk": false, "trust": true },
               { "range": "1", "driver": "host", "mac": "02:00:00:5e:00:11", "vlan": 200 },
               { "range": "2", "driver": "host", "max_tx_rate": 100 } ] },
    { "match": { "bdf": "$NVME" }, "num_vfs": 2, "autoprobe": false,
      "vfs": [ { "range": "0-1", "driver": "vfio-pci" } ] }
  ]
}
EOF
expect check_config "$(sriovd --check-config --config "$SRIOVD_CONF" 2>&1)" "configuration OK"
# igb takes VF settings on a PF that is up, a tx rate only while its link is up.
$IP link set dev "$(pf_if)" up
wait_until 20 eval '[ "$(rd "$GP/net/$(pf_if)/carrier")" = 1 ]'
expect pf.carrier "$(rd "$GP/net/$(pf_if)/carrier")" 1

# ---- applied at start, before the daemon reports itself running.
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
IF=$(pf_if)
expect start.igb_numvfs "$(rd "$GP/sriov_numvfs")" 3
expect start.igb_autoprobe "$(rd "$GP/sriov_drivers_autoprobe")" 0
set -- $(vfs "$IGB")
IVF0=$1 IVF1=$2 IVF2=$3
expect start.igb_vf_drivers "$(drv "$IVF0") $(drv "$IVF1") $(drv "$IVF2")" "vfio-pci igbvf igbvf"
vf_lines "$IF" >"$STATE/vf.lines"
expect_glob start.ip.vf0 "$(sed -n 1p "$STATE/vf.lines")" 'vf0 link/ether 02:00:00:5e:00:10 *, vlan 100, qos 3, spoof checking off, * trust on'
expect_glob start.ip.vf1 "$(sed -n 2p "$STATE/vf.lines")" 'vf1 link/ether 02:00:00:5e:00:11 *, vlan 200, spoof checking on, * trust off'
# Enabling VFs makes igb reinitialize the PF: its link goes down and comes
# back a second or two later. A tx rate set meanwhile is refused (EINVAL);
# the daemon tries the failed step again (1 s, 2 s, 4 s ... later) and it
# lands with no call. What the first read showed is recorded.
obs start.ip.vf2_rate "$(sed -n 3p "$STATE/vf.lines" | grep -o 'max_tx_rate [0-9]*Mbps' || echo none)"
vf2_rate_set() { vf_lines "$(pf_if)" | sed -n 3p | grep -q 'max_tx_rate 100Mbps'; }
wait_until 70 vf2_rate_set
expect_glob start.retried.vf2 "$(vf_lines "$IF" | sed -n 3p)" 'vf2 link/ether *, max_tx_rate 100Mbps, spoof checking on, * trust off'
obs start.retry_log "$(grep -c 'Applying the declared configuration to .* again (try' "$RESULTS/$NAME.sriovd.log")"
# The daemon binds the host driver before it sets the MAC: igbvf, finding
# none, made up one at its probe and keeps it (igb: "Reload the VF driver
# to make this change effective"). Recorded, not asserted (see the report).
wait_until 10 test -d "$PCI/devices/$IVF1/net"
obs start.igbvf_address "$(cat "$PCI"/devices/"$IVF1"/net/*/address 2>/dev/null | sed 's/^02:00:00:5e:00:11$/&/;t;s/.*/random/')"
# Probed again, igbvf takes the MAC the PF gave its VF (autoprobe is off on
# this PF: a VF probes only with a driver_override, even through bind).
expect start.igbvf_unbind "$(sw "$PCI/drivers/igbvf/unbind" "$IVF1")" ok
expect start.igbvf_override "$(sw "$PCI/devices/$IVF1/driver_override" igbvf)" ok
expect start.igbvf_probe "$(sw "$PCI/drivers_probe" "$IVF1")" ok
sw "$PCI/devices/$IVF1/driver_override" "\n" >/dev/null
wait_until 10 test -d "$PCI/devices/$IVF1/net"
expect start.igbvf_reprobed_address "$(cat "$PCI"/devices/"$IVF1"/net/*/address 2>/dev/null)" 02:00:00:5e:00:11
expect start.nvme_numvfs "$(rd "$P/sriov_numvfs")" 2
set -- $(vfs "$NVME")
NVF0=$1 NVF1=$2
expect start.nvme_vf_drivers "$(drv "$NVF0") $(drv "$NVF1")" "vfio-pci vfio-pci"

# Nothing is left to do, with no Apply called.
r=$(gmgr Apply true)
expect start.dry_run "$r" "(@a(ssss) [],)"

# ---- drift, made by hand: a dry run reports it, Apply corrects it.
$IP link set dev "$IF" vf 0 vlan 7
$IP link set dev "$IF" vf 0 trust off
$IP link set dev "$IF" vf 1 mac 02:00:00:5e:00:99
$IP link set dev "$IF" vf 2 max_tx_rate 0
sw "$PCI/drivers/vfio-pci/unbind" "$NVF1" >/dev/null
before=$(world)
r=$(gmgr Apply true)
record_steps drift.dry_run "$r"
expect drift.dry_run_changed_nothing "$(world)" "$before"
expect drift.nvme_vf1_driver "$(drv "$NVF1")" none
r=$(gmgr Apply false)
record_steps drift.apply "$r"
expect_glob drift.fixed.vf0 "$(vf_lines "$IF" | sed -n 1p)" 'vf0 link/ether 02:00:00:5e:00:10 *, vlan 100, qos 3, spoof checking off, * trust on'
expect_glob drift.fixed.vf1 "$(vf_lines "$IF" | sed -n 2p)" 'vf1 link/ether 02:00:00:5e:00:11 *, vlan 200, *'
expect_glob drift.fixed.vf2 "$(vf_lines "$IF" | sed -n 3p)" 'vf2 link/ether * max_tx_rate 100Mbps, *'
expect drift.fixed.nvme_vf1_driver "$(drv "$NVF1")" vfio-pci
r=$(gmgr Apply true)
expect drift.after.dry_run "$r" "(@a(ssss) [],)"
before=$(world)
r=$(gmgr Apply false)
expect again.apply "$r" "(@a(ssss) [],)"
expect again.world_unchanged "$(world)" "$before"

# ---- the igb PF's driver unbound and bound again through sysfs: its VFs go
# with it (igb disables SR-IOV on remove); the daemon brings back the VFs,
# their attributes and drivers when the PF is bound again.
expect igb_rebind.unbind "$(sw "$PCI/drivers/igb/unbind" "$IGB")" ok
wait_until 10 eval '[ -z "$(virtfn_links "$IGB")" ]'
expect igb_rebind.unbound.virtfn_links "$(virtfn_links "$IGB")" ""
expect igb_rebind.bind "$(sw "$PCI/drivers/igb/bind" "$IGB")" ok
wait_until 60 converged
expect igb_rebind.converged "$(converged && echo yes || echo no)" yes
IF=$(pf_if)
set -- $(vfs "$IGB")
expect igb_rebind.vf_drivers "$(drv "$1") $(drv "$2") $(drv "$3")" "vfio-pci igbvf igbvf"
expect_glob igb_rebind.ip.vf0 "$(vf_lines "$IF" | sed -n 1p)" 'vf0 link/ether 02:00:00:5e:00:10 *, vlan 100, qos 3, spoof checking off, * trust on'
expect_glob igb_rebind.ip.vf1 "$(vf_lines "$IF" | sed -n 2p)" 'vf1 link/ether 02:00:00:5e:00:11 *, vlan 200, *'
# The new PF netdev is down and the daemon brings it up to set the VF
# attributes: the rate meets a link still negotiating, is refused, and is
# tried again until it lands.
wait_until 70 vf2_rate_set
expect_glob igb_rebind.ip.vf2 "$(vf_lines "$IF" | sed -n 3p)" 'vf2 link/ether * max_tx_rate 100Mbps, *'

# ---- the NVMe PF's driver unbound and bound again: nvme leaves SR-IOV on
# (its VFs stay, on vfio-pci); a VF unbound by hand meanwhile is bound
# again once the PF is back.
expect nvme_rebind.unbind "$(sw "$PCI/drivers/nvme/unbind" "$NVME")" ok
expect nvme_rebind.unbound.numvfs "$(rd "$P/sriov_numvfs")" 2
expect nvme_rebind.unbound.vf_drivers "$(drv "$NVF0") $(drv "$NVF1")" "vfio-pci vfio-pci"
sw "$PCI/drivers/vfio-pci/unbind" "$NVF1" >/dev/null
# the daemon has seen the unbind (its model of the VF has no driver), and
# leaves the VF alone while its PF has no driver
nvf1_unbound_for_the_daemon() {
        case "$(gmgr GetDevice "$NVF1")" in *"'Driver': <''>"*) return 0 ;; esac
        return 1
}
wait_until 10 nvf1_unbound_for_the_daemon
expect nvme_rebind.unbound.daemon_sees_it "$(nvf1_unbound_for_the_daemon && echo yes || echo no)" yes
expect nvme_rebind.unbound.vf1_stays_unbound "$(drv "$NVF1")" none
expect nvme_rebind.bind "$(sw "$PCI/drivers/nvme/bind" "$NVME")" ok
wait_until 60 eval '[ "$(drv "$NVF1")" = vfio-pci ]'
expect nvme_rebind.vf1_driver "$(drv "$NVF1")" vfio-pci
expect nvme_rebind.converged "$(converged && echo yes || echo no)" yes

# Both rebinds converged by themselves: a dry run finds nothing to do.
r=$(gmgr Apply true)
expect final.dry_run "$r" "(@a(ssss) [],)"
expect final.converged "$(converged && echo yes || echo no)" yes
expect_glob final.ip.vf2 "$(vf_lines "$(pf_if)" | sed -n 3p)" 'vf2 link/ether * max_tx_rate 100Mbps, *'
stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
$IP link set dev "$(pf_if)" down
