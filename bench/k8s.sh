#!/bin/bash
# sriovd-kubelet-plugin under the kubelet's load (docs/benchmarks.md,
# "Kubernetes"): sriovd on the simulator with the latency model of
# bench/lib.sh, a fake kubelet with real gRPC, the plugin between them.
#   Allocate latency, one pod at a time (p50/p99);
#   rounds of 64 pods admitted at once, then deleted, until sriovd has given
#   every VF back (reset): pods/s;
#   the plugin idle: wake-ups per second (context switches of all its
#   threads over 10 s) and its RSS.
# Run from a build tree: top_builddir=$PWD top_srcdir=.. ../bench/k8s.sh
# (root, /dev/fuse); prints one JSON line at the end.
set -euo pipefail
: "${top_builddir:?}" "${top_srcdir:?}"
source "$top_srcdir/tests/k8s/common.sh"
harness_init
k8s_init
LATENCY_MODEL=${LATENCY_MODEL:-"sriov_enable=100 sriov_disable=1000 vf_create=5 vf_destroy=2 probe=5 unbind=5 hotplug=0"}
SEQ=${K8S_BENCH_SEQ:-30} PODS=${K8S_BENCH_PODS:-64} ROUNDS=${K8S_BENCH_ROUNDS:-3} IDLE=${K8S_BENCH_IDLE:-10}
sim_start "$(k8s_topology)"
for kv in $LATENCY_MODEL; do sim_ctl latency "${kv%%=*}" "${kv#*=}"; done
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 40 },
           { "match": { "interface": "ens1f1" }, "num_vfs": 40 } ],
  "pools": [ { "name": "net", "select": [ "ens1f0", "ens1f1" ] } ] }
CONF
bus_start
daemon_start --uevent-source none --dev-root "$T/dev"
make_group_nodes
kubelet_start
plugin_start --log-level notice --allocate-grace 0
wait_for 60 healthy_is sriovd.io/net 80 || fail "not registered: $(tail "$T/plugin.log")"

note "load: $SEQ Allocate one at a time, $ROUNDS rounds of $PODS pods at once (latency model: $LATENCY_MODEL)"
load=$("$KPY" "$top_srcdir/bench/k8s-load.py" --state "$KSTATE" --resource sriovd.io/net --sequential "$SEQ" \
        --concurrent "$PODS" --rounds "$ROUNDS")

note "idle: $IDLE s without an event"
ctxsw() { cat /proc/"$PLUGIN_PID"/task/*/status | awk '/ctxt_switches/ { n += $2 } END { print n }'; }
sleep 1         # measuring: let the last cleanup's replies settle
c0=$(ctxsw)
per_thread() { for t in /proc/"$PLUGIN_PID"/task/*; do echo "$(basename "$t") $(cat "$t/comm") $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status")"; done; }
t0=$(per_thread)
sleep "$IDLE"   # measuring: the idle interval itself
c1=$(ctxsw)
# which threads woke (K8S_BENCH_THREADS=1)
[ -z "${K8S_BENCH_THREADS:-}" ] || join <(echo "$t0" | sort) <(per_thread | sort) | awk '$5 != $3 { print "# thread", $2, $5 - $3 }'
rss=$(awk '/VmRSS/ { print $2 }' /proc/"$PLUGIN_PID"/status)
threads=$(ls /proc/"$PLUGIN_PID"/task | wc -l)
printf '%s\n' "$load" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
d["idle"] = {"seconds": int(sys.argv[1]), "context_switches": int(sys.argv[2]), "wakeups_per_s": round(int(sys.argv[2]) / int(sys.argv[1]), 2),
             "threads": int(sys.argv[3])}
d["rss_kib"] = int(sys.argv[4])
d["machine"] = {"nproc": int(sys.argv[5]), "loadavg": open("/proc/loadavg").read().split()[:3]}
print(json.dumps(d))' "$IDLE" $((c1 - c0)) "$threads" "$rss" "$(nproc)"
