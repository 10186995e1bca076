#!/bin/bash
# sriovd-kubelet-plugin against a fake kubelet (real gRPC) and sriovd on the
# simulator: registration, ListAndWatch with NUMA topology, NUMA-aware
# GetPreferredAllocation, Allocate (VFIO nodes of one backend, PCIDEVICE_,
# CDI names and specs), all or none, a pod deleted -> its VFs released and
# reset, a new VF streamed.
set -euo pipefail
source "$top_srcdir/tests/k8s/common.sh"
harness_init
k8s_init
sim_start "$(k8s_topology)"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 },
           { "match": { "interface": "ens1f1" }, "num_vfs": 2 } ],
  "pools": [ { "name": "net", "select": [ "ens1f0", "ens1f1" ] } ] }
CONF
bus_start
daemon_start --uevent-source none --dev-root "$T/dev"
make_group_nodes
RES=sriovd.io/net
PF0=0000:3b:00.0 PF1=0000:3b:00.1

note "the plugin registers one resource per pool, and lists its VFs with their NUMA nodes"
kubelet_start
plugin_start --allocate-grace 0
wait_for 20 healthy_is $RES 6 || fail "not 6 healthy devices: $(cat "$KSTATE"; tail "$T/plugin.log")"
assert_eq "$(kjson "d['resources']['$RES']['endpoint']")" "sriovd-net.sock" "endpoint"
assert_eq "$(kjson "d['resources']['$RES']['preferred']")" True "GetPreferredAllocation announced"
assert_eq "$(kcall call --resource $RES GetDevicePluginOptions)" \
        '{"pre_start_required": false, "get_preferred_allocation_available": true}' "options"
assert_eq "$(kjson "sorted((x['id'], x['numa']) for x in d['resources']['$RES']['devices'])")" \
        "[('$(vf_bdf $PF0 0)', [0]), ('$(vf_bdf $PF0 1)', [0]), ('$(vf_bdf $PF0 2)', [0]), ('$(vf_bdf $PF0 3)', [0]), ('$(vf_bdf $PF1 0)', [1]), ('$(vf_bdf $PF1 1)', [1])]" \
        "devices and NUMA nodes"

note "NUMA: with a must-include device, its node; without, the node with the most free VFs"
out=$(kcall allocate --resource $RES --pod p1 --size 2 --must "$(vf_bdf $PF1 1)") || fail "allocate p1: $out"
P1A=$(vf_bdf $PF1 1) P1B=$(vf_bdf $PF1 0)
assert_eq "$(python3 -c 'import json,sys; print(",".join(json.loads(sys.argv[1])["chosen"]))' "$out")" "$P1A,$P1B" \
        "p1 on node 1"
out=$(kcall allocate --resource $RES --pod p2 --size 1) || fail "allocate p2: $out"
P2=$(vf_bdf $PF0 0)
assert_eq "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["chosen"][0])' "$out")" "$P2" \
        "p2 on node 0 (4 free there, 0 on node 1), the pool's first"

note "Allocate: the VFs are assigned by sriovd to owner kubernetes, on vfio-pci"
assigned_is "$P2 $P1B $P1A" kubernetes || assigned_is "$(echo "$P1B $P1A $P2" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" kubernetes ||
        fail "not assigned: $(held_by x kubernetes)"
for v in $P1A $P1B $P2; do assert_eq "$(driver_of "$v")" vfio-pci "driver of $v"; done

note "the answer: the group nodes and /dev/vfio/vfio (one backend), PCIDEVICE_ and PCI_RESOURCE_, CDI names"
g=$(basename "$(readlink "$SIM_ROOT/bus/pci/devices/$P2/iommu_group")")
python3 - "$out" "$T" "$g" "$P2" <<'PY' || fail "Allocate's answer: $out"
import json, os, sys
o, t, g, vf = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
devs = {d["container_path"]: d for d in o["devices"]}
assert set(devs) == {"/dev/vfio/" + g, "/dev/vfio/vfio"}, devs
assert devs["/dev/vfio/" + g]["host_path"] == t + "/dev/vfio/" + g, devs
assert devs["/dev/vfio/vfio"]["host_path"] == t + "/dev/vfio/vfio", devs
for d in devs.values():
    assert d["permissions"] == "rw" and os.path.exists(d["host_path"]), d
assert o["envs"] == {"PCIDEVICE_SRIOVD_IO_NET": vf, "PCI_RESOURCE_SRIOVD_IO_NET": vf}, o["envs"]
assert o["cdi_devices"] == ["sriovd.io/vf=" + vf.replace(":", "-")], o["cdi_devices"]
PY
spec="$T/cdi/sriovd.io-vf_${P2//:/-}.json"
[ -f "$spec" ] || fail "no CDI spec $spec: $(ls "$T/cdi")"
python3 - "$spec" "$T" "$g" "$P2" <<'PY' || fail "CDI spec: $(cat "$spec")"
import json, sys
s, t, g, vf = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
assert s["cdiVersion"] == "0.5.0" and s["kind"] == "sriovd.io/vf", s
(d,) = s["devices"]
assert d["name"] == vf.replace(":", "-"), d
nodes = {n["path"]: n["hostPath"] for n in d["containerEdits"]["deviceNodes"]}
assert nodes == {"/dev/vfio/" + g: t + "/dev/vfio/" + g, "/dev/vfio/vfio": t + "/dev/vfio/vfio"}, nodes
assert d["containerEdits"]["env"] == ["SRIOVD_VF=" + vf], d
PY

note "allocated VFs stay healthy for the kubelet (it counts them as in use)"
healthy_is $RES 6 || fail "$(res_devices $RES)"

note "all or none: a VF another owner holds fails the Allocate, and the other VF is given back"
L=$(vf_bdf $PF0 3)
gmgr Assign vm1 "$L" '{}' >/dev/null
wait_for 10 healthy_is $RES 5 || fail "a VF of a local guest stays healthy: $(res_devices $RES)"
out=$(kcall allocate --resource $RES --pod p3 --ids "$(vf_bdf $PF0 2),$L") && fail "Allocate with a taken VF: $out"
case "$out" in *FAILED_PRECONDITION*"assigned to guest vm1"*) ;; *) fail "the reason: $out";; esac
wait_for 10 assigned_is "" "" 2>/dev/null || :
case " $(held_by x) " in *" $(vf_bdf $PF0 2) "*) fail "half an Allocate stayed: $(held_by x)";; esac
gmgr Release vm1 "" '{}' >/dev/null

note "a pod deleted: sriovd releases its VFs (reset), the CDI specs go"
kcall delete-pod --pod p1
wait_for 20 assigned_is "$P2" kubernetes || fail "p1's VFs were not released: $(held_by x kubernetes); $(tail "$T/plugin.log")"
for v in $P1A $P1B; do
        grep -q "Released $v from $v, reset with" "$T/sriovd.log" || fail "sriovd did not release and reset $v"
        [ ! -e "$T/cdi/sriovd.io-vf_${v//:/-}.json" ] || fail "the CDI spec of $v stayed"
        [ "$(driver_of "$v")" != vfio-pci ] || fail "$v is still on vfio-pci after the release"
done
grep "Released $P1A" "$T/sriovd.log" | head -1
grep -q "Released $P1A: the pod that had it is gone" "$T/plugin.log" || fail "the plugin did not say"

note "a VF that appears is streamed to the kubelet"
mgr SetNumVFs 'sua{sv}' $PF1 3 0 >/dev/null
make_group_nodes
wait_for 20 healthy_is $RES 7 || fail "the new VF was not streamed: $(res_devices $RES)"
kjson "[x for x in d['resources']['$RES']['devices'] if x['id'] == '$(vf_bdf $PF1 2)']"

note "the VF freed is allocated again, to a new pod"
out=$(kcall allocate --resource $RES --pod p4 --size 1 --must "$P1A") || fail "allocate p4: $out"
assigned_is "$(printf '%s\n' "$P2" "$P1A" | sort | tr '\n' ' ' | sed 's/ $//')" kubernetes || fail "$(held_by x kubernetes)"
echo "plugin: OK"
