#!/bin/bash
# VF counters: GetVFStats for one VF, a PF's VFs, a pool's, a guest's, and
# every VF, labelled with PF, pool, guest and owner; sriovctl stats (text,
# JSON, --watch with rates between samples); a VF whose PF driver counts
# nothing (igb: the kernel sends zeros) says so instead of printing zeros.
# The traffic is the simulator's ("traffic VF COUNTER N").
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
sim_start "$top_srcdir/tests/daemon/observe-host.json"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 },
           { "match": { "interface": "enp2s0f0" }, "num_vfs": 2 } ],
  "pools": [ { "name": "web", "select": [ "ens1f0#0-1" ] }, { "name": "db", "select": [ "ens1f0#2-3" ] } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
sim_ctl netdev enp2s0f0 up
daemon_start --uevent-source none
S=$SRIOVCTL
VF0=$(vf_bdf 0000:01:00.0 0) VF1=$(vf_bdf 0000:01:00.0 1) VF2=$(vf_bdf 0000:01:00.0 2) IGB0=$(vf_bdf 0000:02:00.0 0)
traffic() { local vf=$1; shift; while [ $# -gt 0 ]; do sim_ctl traffic "$vf" "$1" "$2"; shift 2; done; }
# jq-like: stats --json through python
js() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

traffic "$VF0" rx_packets 100 rx_bytes 150000 tx_packets 40 tx_bytes 6000 broadcast 3 multicast 5 rx_dropped 1 tx_dropped 2
traffic "$IGB0" rx_packets 100 rx_bytes 150000

note "one VF, over D-Bus"
out=$(gmgr GetVFStats vf "$VF0") || fail "GetVFStats: $out"
case "$out" in *"('$VF0', 0, '0000:01:00.0', 'ens1f0', 'web', '', '', true, '', {'rx_packets': uint64 100, 'tx_packets': 40, 'rx_bytes': 150000, 'tx_bytes': 6000, 'broadcast': 3, 'multicast': 5, 'rx_dropped': 1, 'tx_dropped': 2}, uint64 "*) ;;
*) fail "GetVFStats vf: $out" ;; esac
note "a VF whose PF driver has no counters: not reported, and why; no zeros"
out=$(gmgr GetVFStats vf "$IGB0")
case "$out" in *"'enp2s0f0', '', '', '', false, 'the PF driver does not count VF traffic (the kernel sends zeros)', @a{st} {}"*) ;;
*) fail "igb VF: $out" ;; esac
out=$("$S" stats "$IGB0")
grep -q "not reported: the PF driver does not count VF traffic" <<<"$out" || fail "sriovctl stats igb VF: $out"
assert_eq "$("$S" --json stats "$IGB0" | js 'd["vfs"][0]["counters"]["rx_packets"]')" None "igb counter in JSON"

note "the scopes: a PF's, a pool's, a guest's, every VF"
assert_eq "$("$S" --json stats --pf ens1f0 | js 'len(d["vfs"])')" 4 "--pf by interface"
assert_eq "$("$S" --json stats --pf 0000:02:00.0 | js '[v["address"] for v in d["vfs"]]')" "['$IGB0', '$(vf_bdf 0000:02:00.0 1)']" "--pf by address"
assert_eq "$("$S" --json stats --pool db | js '[v["vf_index"] for v in d["vfs"]]')" "[2, 3]" "--pool"
assert_eq "$("$S" --json stats | js 'len(d["vfs"])')" 6 "every VF"
out=$(gmgr Assign vm1 web "{'owner': <'kubernetes'>}") || fail "Assign: $out"
out=$(gmgr Assign vm1 db "{}") || fail "Assign: $out"
j=$("$S" --json stats --guest vm1)
assert_eq "$(js '[(v["address"], v["pool"], v["guest"], v["owner"]) for v in d["vfs"]]' <<<"$j")" \
        "[('$VF0', 'web', 'vm1', 'kubernetes'), ('$VF2', 'db', 'vm1', 'local')]" "--guest"
expect_error org.sriovd.Error.NotFound gmgr GetVFStats guest nobody
expect_error org.sriovd.Error.NotFound gmgr GetVFStats pool nopool
expect_error org.sriovd.Error.NoSuchDevice gmgr GetVFStats vf 0000:09:00.0
expect_error org.sriovd.Error.NoSuchDevice gmgr GetVFStats vf 0000:01:00.0
expect_error org.sriovd.Error.InvalidArgument gmgr GetVFStats bogus x
expect_error "give one of VF, --pf, --pool and --guest" "$S" stats "$VF0" --pool web
as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method "$IFACE.GetVFStats" "" "" >/dev/null \
        || fail "GetVFStats is a read: anyone may call it"

note "text: one line a VF, the counters in columns"
out=$("$S" stats --guest vm1)
grep -qE "^$VF0 +0 +ens1f0 +web +vm1 +100 +150000 +40 +6000 +3 +5 +1 +2$" <<<"$out" || fail "text: $out"

note "--watch: rates between samples from sriovd's read times"
"$S" --json=short stats "$VF0" --watch 1 --samples 3 >"$T/watch.json" &
W=$!
first() { [ "$(wc -l <"$T/watch.json")" -ge 1 ]; }
wait_for 10 first || fail "no first sample"
traffic "$VF0" rx_packets 1000 rx_bytes 1000000 tx_packets 10
wait "$W" || fail "stats --watch failed"
python3 - "$T/watch.json" <<'PY' || fail "rates: $(cat "$T/watch.json")"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
assert len(s) == 3, s
assert s[0]["vfs"][0]["rates"]["rx_pps"] is None, s[0]          # no earlier sample
r = [x["vfs"][0]["rates"] for x in s[1:]]
dt = (s[2]["vfs"][0]["timestamp_usec"] - s[0]["vfs"][0]["timestamp_usec"]) / 1e6
got = sum(x["rx_pps"] for x in r)
# the 1000 packets came in one of the two intervals, each about a second
assert 700 <= got <= 1300 and 0.9 <= dt <= 4, (got, dt, r)
assert s[2]["vfs"][0]["counters"]["rx_packets"] == 1100, s[2]
assert max(x["rx_bps"] for x in r) > 0 and max(x["tx_pps"] for x in r) > 0, r
PY
echo PASS
