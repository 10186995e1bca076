#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# Runs the scenarios named in $SCENARIOS (from /etc/sriovd-vm.conf), one
# after another, each in its own shell with the world reset first. Writes
# per scenario NAME.txt (transcript), NAME.log (its output), NAME.dmesg (kernel
# messages while it ran), and one line to $RESULTS/results:
#   PASS NAME | FAIL NAME: reason | SKIP NAME: reason
# then $RESULTS/done. Every line also goes to the console.
#
# The same runner drives the simulator target (SRIOVD_VM_TARGET=sim, from
# tests/vm/diff-sim): there the configuration comes from the environment,
# the files from the source tree (SRIOVD_VM_LIB, SRIOVD_VM_SCENARIO_DIR),
# the uevents from the simulator (udevd's format, uevent-log -u), lines go
# to stderr instead of the console, and the host's kernel log is left alone.
CONF=${SRIOVD_VM_CONF:-/etc/sriovd-vm.conf}
[ ! -r "$CONF" ] || . "$CONF"
# the scenarios see which kernel they run on (only_on_kernel), and CI (ci_skip)
export KERNEL_NAME SRIOVD_VM_CI
VM_LIB=${SRIOVD_VM_LIB:-/vm/lib.sh}
export SRIOVD_VM_LIB=$VM_LIB
. "$VM_LIB"

mkdir -p "$STATE"
: >"$STATE/pids"
: >"$RESULTS/results"

if on_sim; then
        say() { echo "$*" >&2; }
else
        say() { echo "$*" >/dev/console; }
fi

if on_sim; then
        sim_mounted || { say "runner: /sys is not the simulator"; exit 1; }
        uevent-log -u >"$UEVENTS" 2>&1 &
else
        uevent-log >"$UEVENTS" 2>&1 &
fi
echo $! >"$STATE/uevent-log.pid"
wait_until 10 file_has "$UEVENTS" '^# listening' || say "runner: uevent-log did not start"

if ! on_sim; then
        # The NVMe controller comes up asynchronously (nvme_reset_work).
        wait_until 30 sh -c 'ls /sys/class/nvme/nvme0 >/dev/null 2>&1' || say "runner: no nvme0 after 30 s"
fi
record_world

if on_sim; then
        {
                echo "target=sim"
                echo "pfs=$(tr '\n' ';' <"$STATE/pfs")"
        } >"$RESULTS/boot.info"
else
        {
                echo "kernel=$(uname -r)"
                echo "kernel_version=$(uname -v)"
                echo "cmdline=$(cat /proc/cmdline)"
                echo "modules=$(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
                echo "pfs=$(tr '\n' ';' <"$STATE/pfs")"
        } >"$RESULTS/boot.info"
fi

now() { cut -d. -f1 /proc/uptime; }

# result LINE: to the results file; to the console with the time it took.
result() {
        echo "$1" >>"$RESULTS/results"
        say "$1 ($(($(now) - START))s)"
}

for NAME in $SCENARIOS; do
        if [ "$NAME" = "${FAKE_STALL:-}" ]; then
                # what a guest kernel whose timers stopped prints, again and again, and nothing else
                while :; do
                        echo "rcu: rcu_preempt kthread timer wakeup didn't happen (a fake stall: SRIOVD_VM_FAKE_STALL=$NAME)" >/dev/console
                        sleep 2
                done
        fi
        T=$RESULTS/$NAME.txt
        rm -f "$T" "$RESULTS/$NAME.reasons" "$RESULTS/$NAME.skip" "$RESULTS/$NAME.noref"
        say "=== $NAME"
        START=$(now)
        if on_sim && ! sim_mounted; then
                result "FAIL $NAME: /sys is not the simulator any more"
                continue
        fi
        if ! why=$(reset_world); then
                result "FAIL $NAME: could not reset the devices before it: $why"
                continue
        fi
        klog_clear
        export NAME T
        # on the simulator, a scenario that says "# diff-rtnl" has its
        # rtnetlink (iproute2, sriov-tool) on the simulator's (tests/vm/README)
        RTNL_ENV=
        if on_sim && [ -n "${SRIOVD_VM_SIM_RTNL:-}" ] && grep -q '^# diff-rtnl' "$SCENARIO_DIR/$NAME.sh"; then
                RTNL_ENV="SRIOV_SIM_RTNL=$SRIOVD_VM_SIM_RTNL LD_PRELOAD=$SRIOVD_VM_SIM_SHIM PATH=$PATH:$SRIOVD_VM_SIM_TOOLS"
        fi
        env $RTNL_ENV timeout -s KILL "$SCENARIO_TIMEOUT" sh -c '. "$SRIOVD_VM_LIB"; . "$SCENARIO_DIR/$NAME.sh"; [ ! -s "$RESULTS/$NAME.reasons" ]' \
                >"$RESULTS/$NAME.log" 2>&1
        rc=$?
        on_sim || dmesg >"$RESULTS/$NAME.dmesg"
        if [ $rc = 0 ]; then
                result "PASS $NAME"
        elif [ $rc = 77 ]; then
                result "SKIP $NAME: $(head -n 1 "$RESULTS/$NAME.skip" 2>/dev/null)"
        elif [ $rc = 137 ]; then
                result "FAIL $NAME: killed after ${SCENARIO_TIMEOUT}s"
        elif [ -s "$RESULTS/$NAME.reasons" ]; then
                n=$(wc -l <"$RESULTS/$NAME.reasons")
                result "FAIL $NAME: $(head -n 1 "$RESULTS/$NAME.reasons")$([ "$n" -gt 1 ] && echo " (+$((n - 1)) more)")"
        else
                result "FAIL $NAME: exit status $rc"
        fi
done

# The world as the last scenario left it, for the record.
why=$(reset_world) || say "runner: final reset failed: $why"
if on_sim; then
        # Helpers left behind (a holder, a blocked writer) and the logger.
        for p in $(cat "$STATE/pids") $(cat "$STATE/uevent-log.pid"); do kill -TERM "$p" 2>/dev/null; done
fi
touch "$RESULTS/done"
