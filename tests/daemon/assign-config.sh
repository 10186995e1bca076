#!/bin/bash
# Assignments and the declared configuration side by side: the
# configuration leaves a guest's VF alone (its driver and the guest's
# settings), refuses a VF count change that would destroy assigned VFs, and
# Release puts back what the configuration had, including a VFIO node that
# outlives the assignment (the VF stays on vfio-pci) returned to root.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
IP=$(command -v ip) || skip "no iproute2"
sim_start x710.json
conf() {
        cat > "$T/sriovd.conf" <<CONF
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": $1,
             "vfs": [ { "range": "0-$(($1 - 1))", "driver": "vfio-pci", "vlan": 100 } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-3" ] } ] }
CONF
}
conf 4
bus_start
mkdir -p "$T/dev/vfio"
sim_ctl netdev ens1f0 up
daemon_start --uevent-source none --dev-root "$T/dev"
PF=0000:3b:00.0
VF0=$(vf_bdf $PF 0)
ipvf() { with_sim_rtnl "$IP" link show dev ens1f0 | grep "vf $1 "; }
assert_eq "$(driver_of "$VF0")" vfio-pci "VF 0 as declared"
grep -q "vlan 100" <<<"$(ipvf 0)" || fail "VF 0 as declared: $(ipvf 0)"
g=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$VF0/iommu_group")")
mknod "$T/dev/vfio/$g" c 245 0 && chmod 600 "$T/dev/vfio/$g"

note "a guest's VF: its settings, not the configuration's"
out=$(gmgr Assign g1 p "{'vlan': <uint32 7>, 'uid': <uint32 4242>, 'gid': <uint32 4343>}") || fail "Assign: $out"
case "$out" in *"'vf': <'$VF0'>"*) ;; *) fail "expected $VF0: $out";; esac
grep -q "vlan 7" <<<"$(ipvf 0)" || fail "the guest's VLAN: $(ipvf 0)"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "4242:4343 660" "the node is the guest's"
out=$(mgr Apply b true)
case "$out" in *"$VF0"*) fail "the configuration wants to change an assigned VF: $out";; esac
mgr Apply b false >/dev/null
grep -q "vlan 7" <<<"$(ipvf 0)" || fail "Apply overwrote the guest's VLAN: $(ipvf 0)"

note "a VF count change that would destroy assigned VFs is refused"
before=$(snapshot)
conf 2
out=$(mgr Reload) || fail "Reload failed as a whole: $out"
case "$out" in *"numvfs"*"assigned to guest g1"*) ;; *) fail "the refused count change is not reported: $out";; esac
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "VF count"
assert_eq "$(driver_of "$VF0")" vfio-pci "the assigned VF"
out=$(mgr Apply b true)
case "$out" in *"assigned to guest g1"*) ;; *) fail "a dry run does not show the refusal: $out";; esac
conf 4
mgr Reload >/dev/null || fail "Reload"

note "release: the configuration's settings back, the node back to root"
mgr Release 'ssa{sv}' g1 "" 0 >/dev/null || fail "release failed"
grep -q "vlan 100" <<<"$(ipvf 0)" || fail "VLAN after release: $(ipvf 0)"
assert_eq "$(driver_of "$VF0")" vfio-pci "the VF stays where the configuration wants it"
assert_eq "$(stat -c '%u:%g %a' "$T/dev/vfio/$g")" "0:0 600" "the node after release"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "nothing left to do"
echo ok
