# shellcheck shell=bash
# Helpers for the sriovctl tests. The harness (simulator, private bus, sriovd)
# and the sysfs helpers of the daemon tests (sysattr, driver_of, vf_bdf,
# assert_eq, snapshot) come from tests/daemon/common.sh.
source "$top_srcdir/tests/daemon/common.sh"

[ -x "$SRIOVCTL" ] || skip "sriovctl was not built"
command -v python3 >/dev/null || skip "no python3 (to parse the JSON output)"

# run CMD...: run a command; its stdout in OUT, stderr in ERR, status in RC
run() {
        local errf
        errf=$(mktemp)
        RC=0
        OUT=$("$@" 2>"$errf") || RC=$?
        ERR=$(<"$errf")
        rm -f "$errf"
}
ctl() { run "$SRIOVCTL" "$@"; }

# expect STATUS PATTERN ARGS...: sriovctl ARGS exits with STATUS and its
# stderr holds PATTERN (a fixed string)
expect() {
        local want=$1 pattern=$2
        shift 2
        ctl "$@"
        [ "$RC" = "$want" ] || fail "sriovctl $*: exit status $RC, expected $want; stderr: $ERR"
        [[ "$ERR" == *"$pattern"* ]] || fail "sriovctl $*: stderr lacks \"$pattern\": $ERR"
}
# expect_ok ARGS...: success, nothing on stderr
expect_ok() {
        ctl "$@"
        [ "$RC" = 0 ] || fail "sriovctl $*: exit status $RC; stderr: $ERR"
        [ -z "$ERR" ] || fail "sriovctl $*: unexpected stderr: $ERR"
}

# jq_out EXPR: a Python expression on the JSON document in $OUT, as "d"
jq_out() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$OUT"; }
# simdev BDF KEY: a field of the simulator's device (its state dump)
simdev() {
        sim_state | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([x for x in d["devices"] if x["bdf"] == sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}
# row ADDRESS: the line of the text table in $OUT that starts with ADDRESS
row() { grep -E "^ *$1( |$)" <<<"$OUT"; }
# field LABEL: the value of a "Label: value" line of $OUT
field() { sed -n "s/^ *$1: //p" <<<"$OUT"; }

# start_sriovd [OPTIONS...]: daemon_start without uevents: sriovd re-reads
# the devices after each operation, which keeps what the tests see exact
start_sriovd() { daemon_start --uevent-source none "$@"; }
# stop_sriovd [SIGNAL]: sriovd goes away (TERM: as systemctl stop does)
stop_sriovd() {
        kill -"${1:-TERM}" "$DAEMON_PID"
        daemon_stop
}
# start_host TOPOLOGY [SRIOVD OPTIONS...]: the simulated host, a private bus
# and sriovd on them
start_host() {
        sim_start "$1"
        bus_start
        start_sriovd "${@:2}"
}

# The method calls sriovctl makes, as the bus sees them: busctl monitor,
# with a Peer.Ping to sriovd as the marker that the monitor records
# (started) and has recorded everything sent before it (stopped).
bus_ping() { busctl --system call "$DEST" / org.freedesktop.DBus.Peer Ping >/dev/null; }
pings() { grep -c "Member=Ping" "$1" || :; }      # none: grep -c prints 0, fails
pings_in() { [ "$(pings "$1")" -ge "$2" ]; }
# calls_monitor_start LOG: the monitor writes to LOG, and records (MON_PID)
calls_monitor_start() {
        local n=0
        busctl --system monitor --match "type='method_call',destination='$DEST'" >"$1" 2>&1 &
        MON_PID=$!
        HARNESS_PIDS+=("$MON_PID")
        # each try's Ping may be the one that arrives first: wait for any
        until pings_in "$1" 1; do
                [ $((n += 1)) -le 100 ] || fail "busctl monitor records nothing: $(cat "$1")"
                bus_ping
                sleep 0.05
        done
}
# calls_monitor_stop LOG: every call made so far is in LOG; the monitor ends
calls_monitor_stop() {
        local n
        n=$(pings "$1")
        bus_ping
        wait_for 10 pings_in "$1" $((n + 1)) || fail "busctl monitor did not record the last Ping: $(cat "$1")"
        kill "$MON_PID"
        wait "$MON_PID" 2>/dev/null || :     # ended by SIGTERM
}
# calls_in LOG: the members called, in order, without the Pings
calls_in() { { grep -o "Member=[A-Za-z]*" "$1" || :; } | cut -d= -f2 | { grep -vx Ping || :; } | tr '\n' ' '; }
