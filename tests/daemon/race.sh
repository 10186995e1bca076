#!/bin/bash
# 16 clients race for a pool of 4 VFs, twice over, with releases in between:
# every VF is held by at most one guest at any time, exactly 4 win each
# round, and the losers get a clear "exhausted".
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 8, "autoprobe": false } ],
  "pools": [ { "name": "small", "select": [ "ens1f0#2-5" ] } ] }
CONF
bus_start
daemon_start --uevent-source none
sim_ctl latency probe 20

for round in 1 2; do
        note "round $round: 16 clients, 4 VFs"
        mkdir -p "$T/r$round"
        pids=()
        for i in $(seq 1 16); do
                gmgr Assign "g$round-$i" small '{}' >"$T/r$round/$i.out" 2>&1 &
                pids+=($!)
        done
        ok=0
        for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)) || :; done
        assert_eq "$ok" 4 "calls that succeeded"
        # (no file at all: grep fails, and wc counts 0)
        won=$(grep -l "'vf': <'" "$T/r$round"/*.out | wc -l || :)
        lost=$(grep -l "Pool small is exhausted" "$T/r$round"/*.out | wc -l || :)
        assert_eq "$won" 4 "winners"
        assert_eq "$lost" 12 "losers with the exhausted error"
        vfs=$(grep -ho "'vf': <'[^']*'" "$T/r$round"/*.out | sort)
        assert_eq "$(uniq <<<"$vfs" | wc -l)" 4 "distinct VFs among the winners"
        assert_eq "$(json_get "$T/state/state.json" "len(set(a['vf'] for a in d['assignments']))")" 4 "VFs in the state"
        assert_eq "$(json_get "$T/state/state.json" "len(d['assignments'])")" 4 "assignments in the state"
        for v in $(grep -ho "'vf': <'[^']*'" "$T/r$round"/*.out | sed "s/.*<'//; s/'//"); do
                assert_eq "$(driver_of "$v")" vfio-pci "driver of $v"
        done
        note "releasing them all at once"
        pids=()
        for i in $(seq 1 16); do
                mgr Release 'ssa{sv}' "g$round-$i" "" 0 >/dev/null 2>&1 &
                pids+=($!)
        done
        ok=0
        for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)) || :; done
        assert_eq "$ok" 4 "releases that succeeded (the others: guests without a VF)"
        assert_eq "$(json_get "$T/state/state.json" "len(d['assignments'])")" 0 "assignments after the releases"
        for n in 2 3 4 5; do
                assert_eq "$(driver_of "$(vf_bdf 0000:3b:00.0 $n)")" none "VF $n back to unbound"
        done
done
echo ok
