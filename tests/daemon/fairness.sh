#!/bin/bash
# Unprivileged callers cannot stall, starve or exhaust sriovd, and no
# answer is larger than the bus carries:
#   - 8 unprivileged clients that send listings and never read the answers:
#     root's calls are answered (each within 5 s), sriovd's memory stays
#     flat, and the flooders are held to their share (LimitsExceeded);
#   - 8 unprivileged clients looping on the open expensive calls (a dry run
#     of the configuration, Rescan): root's binds are answered, each within
#     5 s; the dry runs are coalesced, and an unprivileged caller may get
#     the last one made (five seconds old at most), never one older than a
#     change;
#   - a CreatePool of 300,000 selectors: refused (AccessDenied) before it
#     is read when the caller is not authorized, and at the 65th selector
#     when it is (LimitsExceeded), in well under a second either way;
#   - the limits where data enters: 64 selectors a pool, 256 pools made at
#     run time, 64 options a call;
#   - an answer that would be larger than a message may be: LimitsExceeded
#     with what to ask for instead, and sriovd stays on the bus.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 64, "autoprobe": false },
           { "match": { "interface": "ens1f1" }, "num_vfs": 64, "autoprobe": false } ] }
CONF
bus_start
daemon_start --uevent-source none --log-level info
PF0=0000:3b:00.0
VF=$(vf_bdf $PF0 3)
FLOOD="$top_builddir/tests/dbus-flood"
nobody=$(id -u nobody)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }

# root's work during a flood: reads and a bind and its undo, each answered
# within 5 s (GMGR_TIMEOUT), the slowest one reported
ROOT_SLOWEST=0
root_calls() {
        local what t0 ms
        for what in "GetDevice $VF" "Bind $VF vfio-pci {}" "RestoreDriver $VF"; do
                t0=$(date +%s%N)
                # shellcheck disable=SC2086
                GMGR_TIMEOUT=5 gmgr $what >/dev/null || fail "root's $what was not answered in time during the flood"
                ms=$((($(date +%s%N) - t0) / 1000000))
                [ "$ms" -le "$ROOT_SLOWEST" ] || ROOT_SLOWEST=$ms
        done
}
flood_done() {
        local pid=$1 out=$2
        wait "$pid" || fail "the flood saw answers it should not have: $(cat "$out" "$out.err")"
}

note "8 unprivileged clients that never read their answers"
rss0=$(rss)
"$FLOOD" -k noread -c 8 -s 15 -u "$nobody" -a $PF0 >"$T/noread.out" 2>"$T/noread.out.err" &
FL=$!
HARNESS_PIDS+=("$FL")
wait_for 20 eval '[ "$(grep -c "^sent" "$T/noread.out.err")" = 8 ]' || fail "the flooders did not send: $(cat "$T/noread.out.err")"
for i in 1 2 3; do root_calls; done
rss1=$(rss)
flood_done "$FL" "$T/noread.out"
note "root's slowest call during it: $ROOT_SLOWEST ms; RSS $rss0 kB before, $rss1 kB during ($(cat "$T/noread.out"))"
if [ "${SRIOVD_SANITIZERS:-no}" != yes ]; then
        [ $((rss1 - rss0)) -lt 8192 ] || fail "sriovd grew by $((rss1 - rss0)) kB for callers who never read"
fi
kill -0 "$DAEMON_PID" || fail "sriovd died"

note "8 unprivileged clients looping on dry runs and Rescan"
ROOT_SLOWEST=0
"$FLOOD" -k open -c 8 -s 10 -u "$nobody" -a $PF0 >"$T/open.out" 2>"$T/open.out.err" &
FL=$!
HARNESS_PIDS+=("$FL")
for i in 1 2 3 4 5; do root_calls; done
flood_done "$FL" "$T/open.out"
read -r _ calls _ ok _ wrong _ limited _ <"$T/open.out"
note "root's slowest call during it: $ROOT_SLOWEST ms; the flood: $calls calls, $ok answered, $limited held to their share"
[ "$limited" -gt 0 ] || fail "8 clients looping on expensive calls were never held to their share"
[ "$ok" -gt 0 ] || fail "the flooders got no answer at all"

note "an unprivileged caller's dry run may be the last one made, never one older than a change"
# nobody's share was spent by the flood (every connection of a user draws
# on one): a dry run is answered once it has refilled
ndry() { as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method "$IFACE.Apply" true >"$T/ndry.out" 2>&1; }
wait_for 20 ndry || fail "nobody's dry run refused for good: $(cat "$T/ndry.out")"
assert_eq "$(cat "$T/ndry.out")" "(@a(ssss) [],)" "nobody's dry run of a host as declared"
gmgr SetNumVFs 0000:3b:00.1 "uint32 2" "{'force': <true>}" >/dev/null || fail "SetNumVFs"
wait_for 20 ndry || fail "nobody's dry run after a change: $(cat "$T/ndry.out")"
out=$(cat "$T/ndry.out")
case $out in *"numvfs"*"VFs 2 -> 64"*) ;; *) fail "nobody's dry run right after a change did not show it: $out";; esac
gmgr Apply false >/dev/null || fail "apply"

note "a CreatePool of 300,000 selectors"
"$FLOOD" -k bigpool -c 1 -s 1 -u "$nobody" -a $PF0 >"$T/big.out" 2>&1 || fail "bigpool as nobody: $(cat "$T/big.out")"
read -r _ secs _ name <"$T/big.out"
assert_eq "$name" org.sriovd.Error.AccessDenied "the unauthorized caller's answer"
note "refused to nobody in $secs s"
awk -v s="$secs" 'BEGIN { exit !(s < 5) }' || fail "the refusal took $secs s: the selectors were read first"
"$FLOOD" -k bigpool -c 1 -s 1 $PF0 >"$T/big.out" 2>&1 || fail "bigpool as root: $(cat "$T/big.out")"
read -r _ secs _ name <"$T/big.out"
assert_eq "$name" org.sriovd.Error.LimitsExceeded "root's answer"
note "refused to root in $secs s"
GMGR_TIMEOUT=5 gmgr GetDevice "$VF" >/dev/null || fail "not answering after the big pool"

note "the limits where data enters"
sels=$(python3 -c "print('[' + ','.join(\"'ens1f0#%d'\" % i for i in range(65)) + ']')")
expect_error "org.sriovd.Error.LimitsExceeded" gmgr CreatePool many "$sels" "{}"
expect_error "At most 64 selectors" gmgr CreatePool many "$sels" "{}"
# 65 entries of a known option: refused at the 65th
mapfile -t opts < <(for i in $(seq 65); do printf '%s\n' keep_override b true; done)
out=$(busctl --system call "$DEST" "$MGR" "$IFACE" Bind 'ssa{sv}' "$VF" vfio-pci 65 "${opts[@]}" 2>&1) &&
        fail "65 options accepted: $out"
case $out in *"At most 64 options"*) ;; *) fail "65 options: $out";; esac
for i in $(seq 256); do
        busctl --system call "$DEST" "$MGR" "$IFACE" CreatePool 'sasa{sv}' "p$i" 1 ens1f1 0 >/dev/null ||
                fail "pool $i of 256 refused"
done
expect_error org.sriovd.Error.LimitsExceeded gmgr CreatePool p257 "['ens1f1']" "{}"
mgr ListPools >/dev/null || fail "ListPools with 256 pools"
for i in $(seq 256); do mgr DeletePool s "p$i" >/dev/null; done
bad=$(python3 -c "import json; print(json.dumps({'pools': [{'name': 'n', 'select': ['ens1f0#%d' % i for i in range(65)]}]}))")
echo "$bad" > "$T/bad.conf"
out=$("$SRIOVD" --check-config --config "$T/bad.conf" --config-dir "$T/none" 2>&1) && fail "65 selectors in a file accepted"
case $out in *"more than 64"*) ;; *) fail "65 selectors in a file: $out";; esac

note "the observability reads come out of a user's share too"
held=no
for _ in $(seq 300); do
        if ! out=$(as_nobody gdbus call --system --dest "$DEST" --object-path "$MGR" --method "$IFACE.GetHealth" 2>&1); then
                case $out in *org.sriovd.Error.LimitsExceeded*) held=yes; break ;; esac
                fail "GetHealth as nobody: $out"
        fi
done
assert_eq "$held" yes "nobody's GetHealth calls held to its share"

note "an answer larger than a message may be"
if [ "${SRIOVD_TEST_HOOKS:-no}" = yes ]; then
        daemon_stop
        SRIOVD_TEST_REPLY_MAX=32768 daemon_start --uevent-source none
        expect_error "org.sriovd.Error.LimitsExceeded" gmgr ListDevices ""
        expect_error "ask for one kind of functions" gmgr DescribeDevices ""
        gmgr ListDevices pf >/dev/null || fail "a small listing refused"
        GMGR_TIMEOUT=5 gmgr GetDevice "$VF" >/dev/null || fail "sriovd left the bus"
        kill -0 "$DAEMON_PID" || fail "sriovd died"
else
        [ "${CI:-}" = true ] && fail "sriovd was built without --enable-test-hooks: the reply limit cannot be lowered"
        note "not built with --enable-test-hooks: the reply limit is not tested here"
fi
echo ok
