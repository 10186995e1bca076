# shellcheck shell=bash
# The kubelet plugin's tests: sriovd on the kernel simulator and a private
# bus (tests/daemon/common.sh), a fake kubelet with the real gRPC library
# (fake-kubelet.py), and sriovd-kubelet-plugin between them.
source "$top_srcdir/tests/daemon/common.sh"

PLUGIN="$top_builddir/sriovd-kubelet-plugin"
FAKE_KUBELET="$top_srcdir/tests/k8s/fake-kubelet.py"

# a prerequisite missing: a skip, except in CI where it is a failure
need() {
        [ "${CI:-}" = true ] && fail "$*"
        skip "$*"
}

k8s_init() {
        [ "${SRIOVD_KUBELET_PLUGIN:-yes}" = yes ] || need "built with --disable-kubelet-plugin"
        [ -x "$PLUGIN" ] || need "sriovd-kubelet-plugin was not built"
        command -v protoc >/dev/null || need "no protoc (protobuf-compiler)"
        # Debian's python3 (python3-grpcio), also where another python3 comes first in PATH
        KPY=
        for p in /usr/bin/python3 python3; do
                "$p" -c 'import grpc, google.protobuf' 2>/dev/null && { KPY=$p; break; }
        done
        [ -n "$KPY" ] || need "no python3 with grpc and protobuf (python3-grpcio, python3-protobuf)"
        command -v gdbus >/dev/null || need "no gdbus (libglib2.0-bin)"
        export FAKE_KUBELET_PY="$T/py"
        mkdir -p "$FAKE_KUBELET_PY" "$T/device-plugins" "$T/pod-resources" "$T/pods" "$T/dev/vfio"
        protoc --python_out="$FAKE_KUBELET_PY" -I"$top_srcdir/k8s" deviceplugin.proto podresources.proto ||
                fail "protoc cannot read the protos"
        KSTATE="$T/kubelet.json"
        # the VFIO container node, as a VMM or runtime opens it
        mknod "$T/dev/vfio/vfio" c 10 196
}

# A host of two PFs on two NUMA nodes (the X710 of x710.json, its second
# port moved to node 1), with a pool over both.
k8s_topology() {
        python3 - "$TOPOLOGIES/x710.json" "$T/topo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for dev in d["devices"]:
    if dev["bdf"] == "0000:3b:00.1":
        dev["numa"] = 1
json.dump(d, open(sys.argv[2], "w"))
PY
        echo "$T/topo.json"
}

# every VF's group node under the test's /dev (the simulator has no devtmpfs)
make_group_nodes() {
        local v g
        for v in "$SIM_ROOT"/bus/pci/devices/*/physfn; do
                [ -e "$v" ] || continue
                g=$(basename "$(readlink "$(dirname "$v")/iommu_group")")
                [ -e "$T/dev/vfio/$g" ] || mknod "$T/dev/vfio/$g" c 245 "$g"
        done
}

kubelet_start() {
        "$KPY" "$FAKE_KUBELET" serve --dir "$T/device-plugins" --pod-resources "$T/pod-resources/kubelet.sock" \
                --pods-dir "$T/pods" --state "$KSTATE" >>"$T/kubelet.log" 2>&1 &
        KUBELET_PID=$!
        HARNESS_PIDS+=("$KUBELET_PID")
        wait_for 20 test -S "$T/device-plugins/kubelet.sock" || fail "the fake kubelet did not start: $(tail "$T/kubelet.log")"
}
# (stop_pids answers the status of the last process it waited for: not a failure here)
kubelet_stop() {
        [ -z "${KUBELET_PID:-}" ] || stop_pids "$KUBELET_PID" || :
        KUBELET_PID=
        rm -f "$T/device-plugins/kubelet.sock"
}

# plugin_start [options...]: as $PLUGIN_USER when set (setpriv), else root
plugin_start() {
        local -a as=()
        [ -n "${PLUGIN_USER:-}" ] && as=(setpriv --reuid "$PLUGIN_USER" --regid "$PLUGIN_GROUP" --clear-groups --)
        "${as[@]}" "$PLUGIN" --plugin-dir "$T/device-plugins" --pod-resources-socket "$T/pod-resources/kubelet.sock" \
                --pods-dir "$T/pods" --log-level debug "$@" >>"$T/plugin.log" 2>&1 &
        PLUGIN_PID=$!
        HARNESS_PIDS+=("$PLUGIN_PID")
}
plugin_stop() { [ -z "${PLUGIN_PID:-}" ] || stop_pids "$PLUGIN_PID" || :; PLUGIN_PID=; }
sriovd_stop() { daemon_stop || :; }
plugin_kill9() { kill -9 "$PLUGIN_PID"; wait "$PLUGIN_PID" 2>/dev/null || :; PLUGIN_PID=; }

kcall() { "$KPY" "$FAKE_KUBELET" "$1" --state "$KSTATE" "${@:2}"; }
# kjson EXPR: evaluate against the fake kubelet's state "d"
kjson() { json_get "$KSTATE" "$1"; }
kstate_is() { [ "$(kjson "$1" 2>/dev/null)" = "$2" ]; }

res_devices() { kjson "[(x['id'], x['health'], x['numa']) for x in d['resources']['$1']['devices']]"; }
# healthy_count RESOURCE -> how many devices the kubelet was told are healthy
healthy_count() { kjson "sum(x['health'] == 'Healthy' for x in d['resources'].get('$1', {}).get('devices', []))"; }
healthy_is() { [ "$(healthy_count "$1" 2>/dev/null)" = "$2" ]; }

# assignment facts from sriovd
held_by() { busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "${2:-}" |
        python3 -c 'import json,sys; print(" ".join(sorted(a[1] for a in json.load(sys.stdin)["data"][0])))'; }
assigned_is() { [ "$(held_by x "${2:-}")" = "$1" ]; }
