#!/bin/bash
# monitor prints the events that other sriovctl calls cause, live, one line
# each (one JSON object a line with --json), for root and for an
# unprivileged user, and ends with status 0 on SIGINT and SIGTERM.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json

PF=0000:3b:00.0
# start_monitor NAME COMMAND...: COMMAND monitor in the background, output in $T/NAME.out and .err; waits until it listens
start_monitor() {
        local name=$1 pid
        shift
        : >"$T/$name.out"
        "$@" monitor >>"$T/$name.out" 2>"$T/$name.err" &   # appends: the test empties the file
        pid=$!
        HARNESS_PIDS+=($pid)
        wait_for 10 grep -q "^Monitoring sriovd" "$T/$name.err" || fail "$name monitor did not start: $(cat "$T/$name.err")"
        eval "${name}_pid=$pid"
        # a function (as_nobody) runs in a subshell: signals are for the sriovctl under it,
        # and the subshell's status is its status
        eval "${name}_sig=$(pgrep -P "$pid" -x sriovctl || echo "$pid")"
}
# has NAME LINE: the text monitor printed that line
has() { grep -qx "$2" "$T/$1.out"; }
# stop NAME SIGNAL: the monitor ends with status 0
stop() {
        local rc=0
        kill -"$2" "$(eval echo "\$${1}_sig")"
        wait "$(eval echo "\$${1}_pid")" || rc=$?
        assert_eq "$rc" 0 "exit status of monitor after SIG$2"
}

# a background job of a script starts with SIGINT ignored: give it its default
CTL=(env --default-signal=INT "$SRIOVCTL")
start_monitor text "${CTL[@]}"
start_monitor json "${CTL[@]}" --json
# (a sriovctl nobody can run: the build tree may be out of its reach)
start_monitor nobody as_nobody env --default-signal=INT "$(reachable_by nobody nogroup "$SRIOVCTL")"

note "enable: VFs added, the PF changed"
expect_ok enable ens1f0 2 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
for m in text nobody; do
        wait_for 10 has $m "added   $VF1" || fail "$m monitor: no event for $VF1: $(cat "$T/$m.out")"
        has $m "added   $VF0" || fail "$m monitor: no event for $VF0: $(cat "$T/$m.out")"
        has $m "changed $PF" || fail "$m monitor: the PF did not change: $(cat "$T/$m.out")"
done

note "bind: the VF changed"
: >"$T/text.out"
expect_ok bind "$VF0" vfio-pci
wait_for 10 has text "changed $VF0" || fail "no event for the bind: $(cat "$T/text.out")"

note "disable: the VFs removed"
expect_ok disable ens1f0
wait_for 10 has text "removed $VF1" || fail "no removal of $VF1: $(cat "$T/text.out")"
has text "removed $VF0" || fail "no removal of $VF0: $(cat "$T/text.out")"
grep -qv -E '^(added  |removed|changed) 0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$' "$T/text.out" \
        && fail "a line of an unexpected form: $(cat "$T/text.out")"

note "--json: one object a line"
wait_for 10 grep -q "\"removed\".*\"$VF1\"" "$T/json.out" || fail "JSON monitor missed the removal: $(cat "$T/json.out")"
python3 - "$T/json.out" "$VF0" "$VF1" "$PF" <<'EOF' || fail "JSON monitor output: $(cat "$T/json.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(l) for l in lines]
assert all(sorted(e) == ["address", "event", "path"] for e in events), events
assert all(e["path"].startswith("/org/sriovd/Manager1/device/_3") for e in events), events
seen = {(e["event"], e["address"]) for e in events}
vf0, vf1, pf = sys.argv[2:5]
for want in [("added", vf0), ("added", vf1), ("changed", pf), ("changed", vf0), ("removed", vf0), ("removed", vf1)]:
    assert want in seen, (want, seen)
EOF

note "SIGINT and SIGTERM end it with status 0"
stop text INT
stop json TERM
stop nobody INT
[ ! -s "$T/text.err" ] || [ "$(cat "$T/text.err")" = "Monitoring sriovd; press Ctrl-C to stop." ] \
        || fail "text monitor stderr: $(cat "$T/text.err")"

note "sriovd goes away and comes back: the monitor says so and keeps going"
start_monitor text "${CTL[@]}"
stop_sriovd
wait_for 10 grep -q "sriovd left the bus" "$T/text.err" || fail "no note when sriovd left: $(cat "$T/text.err")"
start_sriovd
wait_for 10 grep -q "sriovd is back" "$T/text.err" || fail "no note when sriovd came back: $(cat "$T/text.err")"
: >"$T/text.out"
expect_ok enable ens1f0 1
wait_for 10 has text "changed $PF" || fail "no events after sriovd came back: $(cat "$T/text.out")"
stop text TERM
echo ok
