# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-k8s: sriovd-kubelet-plugin on the real kernel, between sriovd and
# the fake kubelet of tests/k8s (python3-grpcio, carried into the guest).
# A pool of two igb VFs is one resource: the plugin registers it with the
# kubelet, ListAndWatch lists both VFs healthy; the kubelet admits a pod:
# GetPreferredAllocation and Allocate answer the VF that sriovd assigned to
# owner "kubernetes" on vfio-pci, the DeviceSpecs of one VFIO backend
# (group + container node; on a kernel with iommufd and the VFIO cdev, the
# cdev + /dev/iommu) whose host nodes exist, PCIDEVICE_ and CDI names with
# the spec sriovd wrote. This run's QEMU, as the pod's user in a /dev that
# has only what a runtime gives a container plus those DeviceSpecs,
# realizes the VF (the same QEMU in a pod /dev without them cannot open
# it: the control). The pod deleted: the plugin asks PodResources and calls
# Reconcile, sriovd releases the VF and resets it, igbvf has it again, the
# CDI spec is gone and the kubelet sees it healthy and free. The plugin
# stopped: the kubelet's ListAndWatch stream ends. (sriovd-cdi checks the
# CDI spec itself: its schema, and podman injecting the VF by that name.)
#
# diff-skip: the project's plugin and daemon and a VMM on the real kernel, not a kernel rule
# vm-needs: gdbus qemu fake-kubelet

no_reference
ci_need_bin sriovd sriovd-kubelet-plugin
ci_need_tool gdbus qemu fake-kubelet
need_igb || ci_skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
GP=$PCI/devices/$IGB
IF=$(ls "$GP/net" | head -n 1)
RES=sriovd.io/net
POD_USER=107:107        # KubeVirt's virt-launcher runs QEMU as 107 (qemu)
K=$STATE/k8s
CDI=/run/cdi
export FAKE_KUBELET_PY=/vm/k8s
KSTATE=$K/kubelet.json

# kj EXPR: EXPR (python) of the fake kubelet's state d; aj FILE EXPR: of a
# JSON answer o
kj() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$KSTATE" "$1" 2>/dev/null; }
aj() { python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
kcall() { _kc=$1; shift; python3 /vm/k8s/fake-kubelet.py "$_kc" --state "$KSTATE" "$@"; }
devices() { kj "' '.join('%s=%s' % (x['id'], x['health']) for x in sorted(d['resources']['$RES']['devices'], key=lambda x: x['id']))"; }
devices_are() { [ "$(devices)" = "$1" ]; }
streaming() { kj "d['resources']['$RES']['streaming']"; }
owned() { gmgr ListAssignments "'kubernetes'"; }
cdi_name() { echo "$1" | tr : -; }

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "net", "select": [ "$IGB#0-1" ] } ] }
EOF
$IP link set dev "$IF" up
rm -rf "$K" "$CDI"
mkdir -p "$K/device-plugins" "$K/pod-resources" "$K/pods"
start_sriovd_fresh --timeout 60 --cdi-dir "$CDI" || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
set -- $(vfs "$IGB")
VF0=$1 VF1=$2
wait_until 30 eval '[ "$(drv "$VF0")" = igbvf ] && [ "$(drv "$VF1")" = igbvf ]'
expect before.drivers "$(drv "$VF0") $(drv "$VF1")" "igbvf igbvf"

# ---- the kubelet, then the plugin: registration and ListAndWatch
t0=$(cut -d. -f1 /proc/uptime)
python3 /vm/k8s/fake-kubelet.py serve --dir "$K/device-plugins" --pod-resources "$K/pod-resources/kubelet.sock" \
        --pods-dir "$K/pods" --state "$KSTATE" >"$RESULTS/$NAME.kubelet.log" 2>&1 &
echo $! >>"$STATE/pids"
wait_until 120 test -S "$K/device-plugins/kubelet.sock" || fail "the fake kubelet did not start: $(tail -n 5 "$RESULTS/$NAME.kubelet.log")"
echo "the fake kubelet serves after $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
sriovd-kubelet-plugin --plugin-dir "$K/device-plugins" --pod-resources-socket "$K/pod-resources/kubelet.sock" \
        --pods-dir "$K/pods" --log-level debug --allocate-grace 0 >"$RESULTS/$NAME.plugin.log" 2>&1 &
PLUGIN_PID=$!
echo "$PLUGIN_PID" >>"$STATE/pids"
wait_until 120 devices_are "$VF0=Healthy $VF1=Healthy" || fail "ListAndWatch: $(devices); $(tail -n 5 "$RESULTS/$NAME.plugin.log")"
expect register.endpoint "$(kj "d['resources']['$RES']['endpoint']")" sriovd-net.sock
expect register.preferred "$(kj "d['resources']['$RES']['preferred']")" True
expect law.devices "$(devices)" "$VF0=Healthy $VF1=Healthy"
expect law.numa "$(kj "[x['numa'] for x in d['resources']['$RES']['devices']]")" "[[], []]"

# ---- a pod admitted: GetPreferredAllocation, Allocate
kcall allocate --resource "$RES" --pod pod1 --size 1 >"$K/alloc.json" 2>"$K/alloc.err"
expect allocate.status "$?" 0
echo "Allocate: $(cat "$K/alloc.json" "$K/alloc.err")" >&2
expect allocate.chosen "$(aj "$K/alloc.json" "','.join(o['chosen'])")" "$VF0"
# the VFIO nodes of one backend: iommufd where sriovd finds /dev/iommu and
# the VF's cdev (6.12), else the VF's group and the container node
G=$(grp "$VF0")
CDEV=$(ls "$PCI/devices/$VF0/vfio-dev" 2>/dev/null | head -n 1)
if [ -c /dev/iommu ] && [ -n "$CDEV" ] && [ -c "/dev/vfio/devices/$CDEV" ]; then
        BACKEND=iommufd
        WANT="/dev/iommu=/dev/iommu /dev/vfio/devices/$CDEV=/dev/vfio/devices/$CDEV"
        QARGS="-object iommufd,id=iommufd0 -device vfio-pci,host=$VF0,iommufd=iommufd0,id=pod1vf"
else
        BACKEND=container
        WANT="/dev/vfio/$G=/dev/vfio/$G /dev/vfio/vfio=/dev/vfio/vfio"
        QARGS="-device vfio-pci,host=$VF0,id=pod1vf"
fi
obs allocate.backend "$BACKEND"
expect allocate.devices "$(aj "$K/alloc.json" "' '.join(sorted('%s=%s' % (x['container_path'], x['host_path']) for x in o['devices']))")" "$WANT"
expect allocate.permissions "$(aj "$K/alloc.json" "' '.join(sorted(set(x['permissions'] for x in o['devices'])))")" rw
aj "$K/alloc.json" "'\n'.join('%s %s' % (x['host_path'], x['container_path']) for x in o['devices'])" >"$K/nodes"
expect allocate.host_nodes_missing "$(while read -r h c; do [ -c "$h" ] || echo "$h"; done <"$K/nodes" | tr '\n' ' ')" ""
expect allocate.envs "$(aj "$K/alloc.json" "' '.join('%s=%s' % kv for kv in sorted(o['envs'].items()))")" \
        "PCIDEVICE_SRIOVD_IO_NET=$VF0 PCI_RESOURCE_SRIOVD_IO_NET=$VF0"
expect allocate.cdi "$(aj "$K/alloc.json" "' '.join(o['cdi_devices'])")" "sriovd.io/vf=$(cdi_name "$VF0")"
SPEC=$CDI/sriovd.io-vf_$(cdi_name "$VF0").json
expect cdi.spec "$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
(d,) = s["devices"]
print(s["cdiVersion"], s["kind"], d["name"], " ".join(sorted("%s=%s" % (n["path"], n["hostPath"]) for n in d["containerEdits"]["deviceNodes"])), *d["containerEdits"]["env"])' "$SPEC" 2>&1)" \
        "0.5.0 sriovd.io/vf $(cdi_name "$VF0") /dev/vfio/$G=/dev/vfio/$G /dev/vfio/vfio=/dev/vfio/vfio SRIOVD_VF=$VF0"
# sriovd holds it for the kubelet, on vfio-pci
expect_glob allocate.sriovd "$(owned)" "*('$VF0', '$VF0', 'net', 'ready', *"
expect allocate.driver "$(drv "$VF0")" vfio-pci
expect allocate.other_vf "$(drv "$VF1")" igbvf
# the host's nodes stay root's: only the pod's /dev gives them to its user
expect allocate.host_node_owner "$(stat -c '%u %a' "/dev/vfio/$G")" "0 600"

# ---- the pod's VMM: QEMU as the pod's user with exactly those nodes
t0=$(cut -d. -f1 /proc/uptime)
# shellcheck disable=SC2086  # one argument a word
pod_qemu "$K/qemu.out" "$POD_USER" "$K/nodes" -- $QARGS
expect qemu.exit "$?" 0
echo "qemu took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
cat "$K/qemu.out.err" >&2
expect qemu.realized "$(qmp_pci_id "$K/qemu.out" pod1vf)" "$(pci_id "$VF0")"
expect qemu.quit "$(grep -c '"event": "SHUTDOWN"' "$K/qemu.out")" 1
grep -o '"qdev_id": "pod1vf"[^}]*}[^}]*}' "$K/qemu.out" >&2
# the control: the same QEMU as the same user in a pod /dev without the
# DeviceSpecs' nodes cannot open the VF (so it was those nodes that did)
: >"$K/no-nodes"
# shellcheck disable=SC2086  # one argument a word
if pod_qemu "$K/qemu-none.out" "$POD_USER" "$K/no-nodes" -- $QARGS; then r=ok; else r=failed; fi
expect control.qemu_exit "$r" failed
expect_glob control.qemu_error "$(grep 'vfio-pci' "$K/qemu-none.out.err")" "*vfio-pci,host=$VF0*: vfio $VF0: *open*/dev/*"

# ---- the pod deleted: PodResources, Reconcile, the VF released and reset
lists0=$(kj "d.get('lists', 0)")
t0=$(cut -d. -f1 /proc/uptime)
kcall delete-pod --pod pod1
wait_until 120 eval '[ "$(owned)" = "(@a(ssssa{sv}) [],)" ]' || fail "$VF0 not released: $(owned); $(tail -n 5 "$RESULTS/$NAME.plugin.log")"
echo "released $(($(cut -d. -f1 /proc/uptime) - t0)) s after the pod was deleted" >&2
expect release.assignments "$(owned)" "(@a(ssssa{sv}) [],)"
expect release.podresources_asked "$([ "$(kj "d.get('lists', 0)")" -gt "$lists0" ] && echo yes || echo no)" yes
expect release.plugin_said "$(grep -c "Released $VF0: the pod that had it is gone" "$RESULTS/$NAME.plugin.log")" 1
expect_glob release.sriovd_said "$(grep "Released $VF0 from $VF0" "$RESULTS/$NAME.sriovd.log" | head -n 1)" "*Released $VF0 from $VF0, reset with *"
grep "Released $VF0 from $VF0" "$RESULTS/$NAME.sriovd.log" >&2
wait_until 30 eval '[ "$(drv "$VF0")" = igbvf ]'
expect release.driver "$(drv "$VF0")" igbvf
expect release.override "$(rd "$PCI/devices/$VF0/driver_override")" "(null)"
expect release.cdi_spec "$([ -e "$SPEC" ] && echo present || echo gone)" gone
expect release.group_node "$([ -e "/dev/vfio/$G" ] && echo present || echo gone)" gone
wait_until 30 devices_are "$VF0=Healthy $VF1=Healthy"
expect release.law "$(devices)" "$VF0=Healthy $VF1=Healthy"
expect release.dry_run "$(gmgr Apply true)" "(@a(ssss) [],)"

# ---- the plugin stops: the kubelet's stream ends, nothing is assigned
kill -TERM "$PLUGIN_PID"
wait_until 30 eval "! alive $PLUGIN_PID" || fail "the plugin did not stop on SIGTERM"
wait_until 30 eval '[ "$(streaming)" = False ]'
expect stop.streaming "$(streaming)" False
stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
$IP link set dev "$IF" down
