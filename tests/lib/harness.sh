# shellcheck shell=bash
# Shared setup for the integration tests: a kernel simulator, a private
# system-like dbus-daemon with sriovd's real policy, and sriovd itself.
# Each test sources this, calls harness_init and then what it needs; every
# piece is torn down on exit. Tests run in private mount and network
# namespaces: the simulator's FUSE mount and its fake uevents stay inside.

: "${top_builddir:?}" "${top_srcdir:?}"
source "$top_srcdir/tests/lib/strict.sh"
source "$top_srcdir/tests/lib/sim.sh"
source "$top_srcdir/tests/lib/bus.sh"
source "$top_srcdir/tests/lib/users.sh"
SRIOVD="$top_builddir/sriovd"
SRIOVCTL="$top_builddir/sriovctl"
SIM="$top_builddir/tests/sim/sriov-sim"
TOPOLOGIES="$top_srcdir/tests/sim/topologies"

skip() { echo "SKIP: $*"; exit 77; }
# json_get FILE PYTHON-EXPRESSION: evaluate against the parsed document "d"
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

harness_need_root() { [ "$(id -u)" = 0 ] || skip "needs root (FUSE mounts, network namespaces, sysfs writes)"; }

# Re-run the test inside fresh mount + network namespaces, once.
harness_init() {
        harness_need_root
        [ -e /dev/fuse ] || skip "no /dev/fuse"
        command -v unshare >/dev/null || skip "no unshare (util-linux)"
        if [ -z "${SRIOVD_TEST_NS:-}" ]; then
                SRIOVD_TEST_NS=1 exec unshare --mount --net --propagation private "$BASH" "$0" "$@"
        fi
        ip link set lo up
        T=$(mktemp -d /tmp/sriovd-test.XXXXXX)
        chmod 755 "$T"
        USERS_BIN=$T/bin        # programs as_user runs from copies
        HARNESS_PIDS=()
        trap harness_cleanup EXIT
}

harness_cleanup() {
        local rc=$?
        set +e
        trap - ERR
        [ -n "${DAEMON_PID:-}" ] && stop_pids "$DAEMON_PID"
        [ "${#HARNESS_PIDS[@]}" -gt 0 ] && stop_pids "${HARNESS_PIDS[@]}"
        # a safety net: anything still running with the test directory in
        # its command line (a process started outside these helpers)
        pkill -KILL -f -- "$T/" 2>/dev/null
        sim_stop_all
        if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
                for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
        fi
        rm -rf "$T"
        exit "$rc"
}

# sim_start TOPOLOGY [sim options...]: mount the simulator at $T/sys, with
# its rtnetlink emulation on $T/rtnl.sock
sim_start() {
        local topo=$1; shift
        [ -f "$topo" ] || topo="$TOPOLOGIES/$topo"
        [ -x "$SIM" ] || skip "the simulator was not built"
        mkdir -p "$T/sys"
        sim_spawn "$SIM" "$topo" "$T/sys" "$T/sim.log" --rtnl "$T/rtnl.sock" "$@" ||
                fail "simulator did not come up: $(cat "$T/sim.log")"
        HARNESS_PIDS+=("$SIM_PID")
}

# bus_start [extra busconfig XML]: a private bus with the system bus policy
bus_start() {
        bus_spawn "$T" "$T/bus.log" "${1:-}" || fail "dbus-daemon did not start: $(cat "$T/bus.log")"
        HARNESS_PIDS+=("$BUS_PID")
}

# daemon_start [sriovd options...]: sriovd on the simulator and the private bus
# With a simulator, the daemon's rtnetlink sockets go to the simulator's
# emulation through the preload shim (tests/sim/README.md, "rtnetlink").
SIM_SHIM="$top_builddir/tests/sim/libsim-rtnl.so"
# with_sim_rtnl COMMAND...: COMMAND with its rtnetlink sockets on the
# simulator (sim_env); unchanged without a simulator
with_sim_rtnl() {
        local -a e
        mapfile -t e < <(sim_env "$SIM_SHIM")
        env "${e[@]}" "$@"
}

# The daemon is exec'd (env, then the wrapper if any), so $DAEMON_PID is the
# process itself and stopping it cannot orphan it.
daemon_start() {
        local -a e
        mapfile -t e < <(sim_env "$SIM_SHIM")
        env "${e[@]}" ${DAEMON_WRAPPER:-} "$SRIOVD" --sysfs-root "${SIM_ROOT:-/sys}" --state-dir "$T/state" --log-level debug \
                --cdi-dir "$T/cdi" \
                --config "$T/sriovd.conf" --config-dir "$T/conf.d" "$@" \
                >>"$T/sriovd.log" 2>&1 &
        DAEMON_PID=$!
        wait_for 20 sriovd_running || fail "sriovd did not come up: $(tail -n 20 "$T/sriovd.log")"
}
daemon_stop() {
        [ -n "${DAEMON_PID:-}" ] || return 0
        stop_pids "$DAEMON_PID"
        DAEMON_PID=
}

# as_nobody, as_user: tests/lib/users.sh

# expect_error NAME COMMAND...: the command fails and stderr names the D-Bus error
expect_error() {
        local want=$1 out; shift
        if out=$("$@" 2>&1); then fail "expected $want from: $* (got success: $out)"; fi
        case "$out" in *"$want"*) ;; *) fail "expected $want from: $*; got: $out";; esac
}
