#!/bin/bash
# sriovctl metrics: Prometheus' text format (and OpenMetrics), checked by
# promtool (Debian's prometheus package) and by a strict reader of our own
# (tests/metrics/exposition.py), with values that say what happened: VF
# counters labelled with PF, VF index, address, pool, guest and owner,
# none for a driver that counts nothing; pools; assignments by state;
# operations, failures by error name, retries, duration histograms; and
# --output writing the file whole for node_exporter's textfile collector.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
PROMTOOL=$(command -v promtool) || {
        [ "${CI:-}" = true ] && fail "promtool is missing (Debian package prometheus; tools/install-deps --test)"
        skip "promtool is not installed (Debian package prometheus)"
}
READER="$top_srcdir/tests/metrics/exposition.py"
sim_start "$top_srcdir/tests/daemon/observe-host.json"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 },
           { "match": { "interface": "enp2s0f0" }, "num_vfs": 2, "vfs": [ { "range": "0", "max_tx_rate": 100 } ] } ],
  "pools": [ { "name": "web", "select": [ "ens1f0#0-1" ] }, { "name": "db", "select": [ "ens1f0#2-3" ] } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
sim_ctl netdev enp2s0f0 up
# the igb rate is refused twice: the configuration's step is tried again
sim_ctl fail vf_set enp2s0f0/rate EINVAL 2
daemon_start --uevent-source none --retry-ms 100
S=$SRIOVCTL
VF0=$(vf_bdf 0000:01:00.0 0) IGB0=$(vf_bdf 0000:02:00.0 0)
rate_set() { with_sim_rtnl ip link show dev enp2s0f0 | grep -q "vf 0 .*max_tx_rate 100Mbps"; }
wait_for 10 rate_set || fail "the retried step did not land"

note "the reader refuses what is not the format"
printf '# TYPE x counter\nx 1\n' >"$T/bad1"
printf '# TYPE x_total counter\nx_total 1\nx_total 2\n' >"$T/bad2"
printf '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' >"$T/bad3"
printf '# TYPE g gauge\ng{a="x} 1\n' >"$T/bad4"
for b in bad1 bad2 bad3 bad4; do
        ! python3 "$READER" "$T/$b" >/dev/null 2>&1 || fail "the reader took $b: $(cat "$T/$b")"
done

out=$(gmgr Assign vm1 web "{'owner': <'kubernetes'>}") || fail "Assign: $out"
out=$(gmgr Assign vm2 db "{}") || fail "Assign: $out"
out=$(gmgr Bind "$(vf_bdf 0000:01:00.0 1)" no-such-driver "{}" 2>&1) && fail "a bind to no driver succeeded"
bind_error=$(grep -o 'org\.sriovd\.Error\.[A-Za-z]*' <<<"$out" | head -n 1)
[ -n "$bind_error" ] || fail "no error name: $out"
sim_ctl traffic "$VF0" rx_packets 7
sim_ctl traffic "$VF0" tx_bytes 900
sim_ctl traffic "$IGB0" rx_packets 5

note "promtool check metrics"
"$S" metrics >"$T/metrics.prom" || fail "sriovctl metrics"
"$PROMTOOL" check metrics <"$T/metrics.prom" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
python3 "$READER" "$T/metrics.prom" >"$T/samples" || fail "the reader"
has() { grep -qxF -- "$1" "$T/samples" || fail "no sample: $1"; }
lacks() { ! grep -qF -- "$1" "$T/samples" || fail "unexpected: $(grep -F -- "$1" "$T/samples")"; }
has "sriovd_vf_rx_packets_total {address=$VF0,guest=vm1,owner=kubernetes,pf=0000:01:00.0,pf_interface=ens1f0,pool=web,vf=0} 7.0"
has "sriovd_vf_tx_bytes_total {address=$VF0,guest=vm1,owner=kubernetes,pf=0000:01:00.0,pf_interface=ens1f0,pool=web,vf=0} 900.0"
has "sriovd_vf_stats_reported {address=$IGB0,guest=,owner=,pf=0000:02:00.0,pf_interface=enp2s0f0,pool=,vf=0} 0.0"
lacks "sriovd_vf_rx_packets_total {address=$IGB0"
has "sriovd_pool_size {pool=web} 2.0"
has "sriovd_pool_assigned {pool=web} 1.0"
has "sriovd_pool_free {pool=db} 1.0"
has "sriovd_assignments {state=ready} 2.0"
has "sriovd_pf_carrier {pf=0000:01:00.0,pf_interface=ens1f0} 1.0"
has "sriovd_pf_link_speed_bytes_per_second {pf=0000:02:00.0,pf_interface=enp2s0f0} 125000000.0"
grep -q "^sriovd_operation_failures_total {error=$bind_error,operation=bind} 1.0$" "$T/samples" \
        || fail "the failed bind: $(grep failures "$T/samples")"
grep -q "^sriovd_retries_total {operation=apply} [1-9]" "$T/samples" || fail "retries: $(grep retries "$T/samples")"
grep -q "^sriovd_operation_duration_seconds_count {operation=assign-prepare} 2.0$" "$T/samples" \
        || fail "assign durations: $(grep duration_seconds_count "$T/samples")"
grep -q "^sriovd_operations_total {operation=vf-stats} 1.0$" "$T/samples" || fail "the read for these metrics is counted"

note "OpenMetrics"
"$S" metrics --openmetrics >"$T/metrics.om"
python3 "$READER" --openmetrics "$T/metrics.om" >/dev/null || fail "OpenMetrics: the reader"
[ "$(tail -n 1 "$T/metrics.om")" = "# EOF" ] || fail "no # EOF"
grep -q "^# TYPE sriovd_vf_rx_packets counter$" "$T/metrics.om" || fail "OpenMetrics counter family"

note "--output: the file is replaced whole"
mkdir "$T/textfile"
"$S" metrics --output "$T/textfile/sriovd.prom" || fail "--output"
"$PROMTOOL" check metrics <"$T/textfile/sriovd.prom" >/dev/null 2>&1 || fail "the file"
assert_eq "$(ls "$T/textfile")" sriovd.prom "nothing else left in the directory"
expect_error "Cannot write" "$S" metrics --output "$T/no/such/dir/x.prom"
echo PASS
