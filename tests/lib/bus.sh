# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A private system bus with the installed policy, and calls to sriovd on it,
# one way for the integration tests (tests/lib/harness.sh), the benchmarks
# (bench/lib.sh) and tools/demo. Sourced (bash); nothing here exits.

BUS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUS_PID=${BUS_PID:-}

# bus_spawn DIR LOG [extra busconfig XML]: a dbus-daemon with the system
# bus's default policy and sriovd's own policy file (systemd/), listening
# on DIR/system_bus_socket, its output appended to LOG; exports
# DBUS_SYSTEM_BUS_ADDRESS and sets BUS_PID. Waits, 10 s at most, until the
# bus answers; status 1 if it does not (LOG says why).
bus_spawn() {
        local dir=$1 log=$2 sock=$1/system_bus_socket i
        sed -e "s|@SOCKET@|$sock|" -e "s|@POLICY@|$BUS_LIB_DIR/../../systemd/org.sriovd.Manager1.conf|" \
            -e "s|@EXTRA@|${3:-}|" "$BUS_LIB_DIR/system-bus.conf.in" >"$dir/bus.conf"
        dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile >>"$log" 2>&1 &
        BUS_PID=$!
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sock"
        for ((i = 0; i < 200; i++)); do
                [ -S "$sock" ] && busctl --system list --no-pager -q >/dev/null 2>&1 && return 0
                kill -0 "$BUS_PID" 2>/dev/null || return 1
                sleep 0.05
        done
        return 1
}

# mgr METHOD SIGNATURE ARGS...: org.sriovd.Manager1.METHOD through busctl
# (MGR_TIMEOUT: seconds to wait for the reply, busctl's default otherwise)
mgr() {
        busctl --system ${MGR_TIMEOUT:+--timeout="$MGR_TIMEOUT"} call \
                org.sriovd.Manager1 /org/sriovd/Manager1 org.sriovd.Manager1 "$@"
}
# mgr_prop NAME: a property of the manager, as busctl prints it
mgr_prop() { busctl --system get-property org.sriovd.Manager1 /org/sriovd/Manager1 org.sriovd.Manager1 "$1"; }

# sriovd_running: the bus name is taken and the declared configuration
# applied (State is "running")
sriovd_running() { [ "$(mgr_prop State 2>/dev/null)" = 's "running"' ]; }
