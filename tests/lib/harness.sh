# shellcheck shell=bash
# Shared setup for the integration tests: a kernel simulator, a private
# system-like dbus-daemon with sriovd's real policy, and sriovd itself.
# Each test sources this, calls harness_init and then what it needs; every
# piece is torn down on exit. Tests run in private mount and network
# namespaces: the simulator's FUSE mount and its fake uevents stay inside.

: "${top_builddir:?}" "${top_srcdir:?}"
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
        ip link set lo up 2>/dev/null || true
        T=$(mktemp -d /tmp/sriovd-test.XXXXXX)
        chmod 755 "$T"
        HARNESS_PIDS=()
        trap harness_cleanup EXIT
}

# stop_pids PID...: SIGTERM, up to 5 s to go, then SIGKILL (a process stuck
# on a blocked simulated write must not hang the test)
stop_pids() {
        local p i
        for p in "$@"; do kill "$p" 2>/dev/null; done
        for i in $(seq 50); do
                local alive=0
                for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
                [ $alive = 0 ] && break
                sleep 0.1
        done
        for p in "$@"; do kill -9 "$p" 2>/dev/null; done
        for p in "$@"; do wait "$p" 2>/dev/null; done
}

harness_cleanup() {
        local rc=$?
        set +e
        [ -n "${DAEMON_PID:-}" ] && stop_pids "$DAEMON_PID"
        [ "${#HARNESS_PIDS[@]}" -gt 0 ] && stop_pids "${HARNESS_PIDS[@]}"
        # a safety net: anything still running with the test directory in
        # its command line (a process started outside these helpers)
        pkill -KILL -f -- "$T/" 2>/dev/null
        if [ -n "${SIM_ROOT:-}" ] && mountpoint -q "$SIM_ROOT"; then
                fusermount3 -u "$SIM_ROOT" 2>/dev/null || umount -l "$SIM_ROOT"
        fi
        if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
                for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
        fi
        rm -rf "$T"
        exit "$rc"
}

# wait_for TIMEOUT_SECONDS COMMAND...: poll (bounded) until the command succeeds
wait_for() {
        local t=$1 i=0; shift
        while ! "$@" >/dev/null 2>&1; do
                i=$((i + 1))
                [ "$i" -gt $((t * 20)) ] && return 1
                sleep 0.05
        done
}

# sim_start TOPOLOGY [sim options...]: mount the simulator at $T/sys
sim_start() {
        local topo=$1; shift
        [ -f "$topo" ] || topo="$TOPOLOGIES/$topo"
        [ -x "$SIM" ] || skip "the simulator was not built"
        SIM_ROOT="$T/sys"
        mkdir -p "$SIM_ROOT"
        SIM_RTNL="$T/rtnl.sock"
        "$SIM" "$topo" "$SIM_ROOT" --rtnl "$SIM_RTNL" "$@" >"$T/sim.log" 2>&1 &
        HARNESS_PIDS+=($!)
        wait_for 10 test -e "$SIM_ROOT/bus/pci/devices" || fail "simulator did not come up: $(cat "$T/sim.log")"
}
sim_ctl() { echo "$*" > "$SIM_ROOT/.sim/ctl"; }
sim_state() { cat "$SIM_ROOT/.sim/state"; }

# bus_start [extra busconfig XML]: a private bus with the system bus policy
bus_start() {
        local sock="$T/system_bus_socket"
        sed -e "s|@SOCKET@|$sock|" -e "s|@POLICY@|$top_srcdir/systemd/org.sriovd.Manager1.conf|" \
            -e "s|@EXTRA@|${1:-}|" "$top_srcdir/tests/lib/system-bus.conf.in" > "$T/bus.conf"
        dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile >"$T/bus.log" 2>&1 &
        HARNESS_PIDS+=($!)
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sock"
        wait_for 10 test -S "$sock" || fail "dbus-daemon did not start: $(cat "$T/bus.log")"
        wait_for 10 busctl --system list --no-pager -q || fail "dbus-daemon does not answer"
}

# daemon_start [sriovd options...]: sriovd on the simulator and the private bus
# With a simulator, the daemon's rtnetlink sockets go to the simulator's
# emulation through the preload shim (tests/sim/README.md, "rtnetlink").
SIM_SHIM="$top_builddir/tests/sim/libsim-rtnl.so"
# sim_env: the environment (as env(1) arguments) that points a process's
# rtnetlink sockets at the simulator; nothing without a simulator
sim_env() {
        [ -n "${SIM_RTNL:-}" ] && [ -e "$SIM_SHIM" ] || return 0
        printf '%s\n' "SRIOV_SIM_RTNL=$SIM_RTNL" "LD_PRELOAD=$SIM_SHIM${LD_PRELOAD:+:$LD_PRELOAD}" \
                "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}
with_sim_rtnl() {
        local -a e
        mapfile -t e < <(sim_env)
        env "${e[@]}" "$@"
}

# The daemon is exec'd (env, then the wrapper if any), so $DAEMON_PID is the
# process itself and stopping it cannot orphan it.
daemon_start() {
        local -a e
        mapfile -t e < <(sim_env)
        env "${e[@]}" ${DAEMON_WRAPPER:-} "$SRIOVD" --sysfs-root "${SIM_ROOT:-/sys}" --state-dir "$T/state" --log-level debug \
                --config "$T/sriovd.conf" --config-dir "$T/conf.d" "$@" \
                >>"$T/sriovd.log" 2>&1 &
        DAEMON_PID=$!
        wait_for 20 daemon_running || fail "sriovd did not come up: $(tail -n 20 "$T/sriovd.log")"
}
# running: the bus name is taken and the declared configuration applied
daemon_running() {
        [ "$(busctl --system get-property org.sriovd.Manager1 /org/sriovd/Manager1 org.sriovd.Manager1 State 2>/dev/null)" = 's "running"' ]
}
daemon_stop() {
        [ -n "${DAEMON_PID:-}" ] || return 0
        stop_pids "$DAEMON_PID"
        DAEMON_PID=
}

as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups -- "$@"; }

# expect_error NAME COMMAND...: the command fails and stderr names the D-Bus error
expect_error() {
        local want=$1 out; shift
        if out=$("$@" 2>&1); then fail "expected $want from: $* (got success: $out)"; fi
        case "$out" in *"$want"*) ;; *) fail "expected $want from: $*; got: $out";; esac
}
