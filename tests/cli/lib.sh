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
        OUT=$("$@" 2>"$errf")
        RC=$?
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
