#!/bin/bash
# kill -9 after every kernel write of the operations that change more than
# one device: a VF count change (SetNumVFs), a Reload that makes VFs and
# gives them drivers and settings, a whole-group Bind (a PF and its peer).
#
# For each operation: one clean run counts its kernel writes (W) and takes
# the host before and after. Then for k = 1..W: from the host as before, the
# simulator kills sriovd right after its k-th write ("kill PID k"), sriovd
# starts again, and
#   - it comes up (the state file loads, recovery finishes);
#   - nothing is left marked under way in the state file;
#   - `sriovctl verify` finds the ledger and the host in agreement;
#   - the host is as before the operation or as after it, nothing between
#     (a Reload: as after, since the configuration on disk is the new one);
# and the host is brought back to "before" for the next k.
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
START=$(date +%s)

start_sim() { sim_start "$1"; }
stop_sim() {
        daemon_stop
        sim_stop_all
        rm -rf "$SIM_RTNL" "$T/state"
}
call() { local m=$1; shift; gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.$m" -- "$@"; }
# the host, without what changes whenever a netdev is registered again
host() { jq -S 'del(.devices[].netdevs[].ifindex) | del(.devices[].vf_config.mac_admin)' "$SIM_ROOT/.sim/state"; }
kill_left() { sed -n 's/^kill [0-9]* after //p' "$SIM_ROOT/.sim/faults"; }
settled() {
        [ ! -e "$T/state/state.json" ] ||
                jq -e '([.assignments[]? | select(.phase != "done")] | length == 0) and
                       ([.devices[]? | select(.pending == true)] | length == 0) and
                       ([.pfs[]? | select(.numvfs_pending == true)] | length == 0)' "$T/state/state.json" >/dev/null
}
verify() { with_sim_rtnl "$SRIOVCTL" verify; }

# crash_every NAME WANT: DO and UNDO are functions; WANT is "either" or
# "after" (what a restart must leave)
crash_every() {
        local name=$1 want=$2 before after w k outcome n_before=0 n_after=0
        before=$(host)
        sim_ctl kill "$DAEMON_PID" 1000000
        do_op >/dev/null || fail "$name: the clean run failed"
        w=$((1000000 - $(kill_left)))
        sim_ctl clear
        after=$(host)
        [ "$after" != "$before" ] || fail "$name: the clean run changed nothing"
        undo_op
        [ "$(host)" = "$before" ] || fail "$name: the undo does not give the host back"
        note "$name: $w kernel writes"
        for k in $(seq "$w"); do
                sim_ctl kill "$DAEMON_PID" "$k"
                do_op >/dev/null 2>&1 || true
                { wait "$DAEMON_PID"; } 2>/dev/null || true
                kill -0 "$DAEMON_PID" 2>/dev/null && fail "$name: sriovd outlived the kill after write $k"
                DAEMON_PID=
                daemon_start "${DAEMON_ARGS[@]}"
                ls "$T"/state/*.corrupt-* >/dev/null 2>&1 && fail "$name, kill after write $k: the state file did not load"
                settled || fail "$name, kill after write $k: left under way: $(cat "$T/state/state.json")"
                verify >"$T/verify.out" 2>&1 || fail "$name, kill after write $k: verify: $(cat "$T/verify.out")"
                now=$(host)
                if [ "$now" = "$after" ]; then
                        outcome=after; n_after=$((n_after + 1))
                elif [ "$now" = "$before" ] && [ "$want" = either ]; then
                        outcome=before; n_before=$((n_before + 1))
                else
                        fail "$name, kill after write $k: the host is neither as before nor as after:
$(diff <(echo "$before") <(echo "$now") | head -n 20)
--- against after:
$(diff <(echo "$after") <(echo "$now") | head -n 20)"
                fi
                [ "$outcome" = before ] || undo_op
                [ "$(host)" = "$before" ] || fail "$name, kill after write $k: the undo does not give the host back"
        done
        note "$name: $w kills: $n_before rolled back, $n_after finished"
}

note "a VF count change"
start_sim x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 2, "autoprobe": true } ] }
CONF
bus_start
DAEMON_ARGS=(--uevent-source none)
daemon_start "${DAEMON_ARGS[@]}"
PF1=0000:3b:00.1
call SetNumVFs $PF1 "uint32 2" "{'autoprobe': <true>}" >/dev/null || fail "PF1's first VFs"
do_op() { call SetNumVFs $PF1 "uint32 3" "{'autoprobe': <true>}"; }
undo_op() { call SetNumVFs $PF1 "uint32 2" "{'autoprobe': <true>}" >/dev/null || fail "SetNumVFs 2"; }
crash_every SetNumVFs either

note "a Reload that makes VFs and gives them drivers and settings"
cp "$T/sriovd.conf" "$T/a.conf"
cat > "$T/b.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true,
             "vfs": [ { "range": "2", "driver": "vfio-pci", "vlan": 100, "spoofchk": false },
                      { "range": "3", "mac": "02:aa:00:00:00:03", "trust": true } ] } ] }
CONF
sim_ctl netdev ens1f0 up
do_op() { cp "$T/b.conf" "$T/sriovd.conf"; call Reload; }
undo_op() { cp "$T/a.conf" "$T/sriovd.conf"; call Reload >/dev/null || fail "Reload back"; }
crash_every Reload after
undo_op
stop_sim

note "a whole-group Bind: a PF and its peer"
start_sim shared-group.json
echo '{}' > "$T/sriovd.conf"
daemon_start "${DAEMON_ARGS[@]}"
PEER=0000:03:00.1
do_op() { call Bind $PEER vfio-pci "{'whole_group': <true>}"; }
undo_op() { call RestoreDriver $PEER >/dev/null || fail "RestoreDriver"; }
crash_every "whole-group Bind" either

daemon_stop
! grep -q "Sanitizer\|runtime error:" "$T/sriovd.log" || fail "sanitizer reports: $(grep -A5 "Sanitizer\|runtime error:" "$T/sriovd.log" | head -n 30)"
echo "# $(($(date +%s) - START)) s"
echo ok
