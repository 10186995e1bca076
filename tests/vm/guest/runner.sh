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
. /etc/sriovd-vm.conf
. /vm/lib.sh

mkdir -p "$STATE"
: >"$STATE/pids"
: >"$RESULTS/results"

say() { echo "$*" >/dev/console; }

uevent-log >"$UEVENTS" 2>&1 &
wait_until 10 file_has "$UEVENTS" '^# listening' || say "runner: uevent-log did not start"

# The NVMe controller comes up asynchronously (nvme_reset_work).
wait_until 30 sh -c 'ls /sys/class/nvme/nvme0 >/dev/null 2>&1' || say "runner: no nvme0 after 30 s"
record_world

{
        echo "kernel=$(uname -r)"
        echo "kernel_version=$(uname -v)"
        echo "cmdline=$(cat /proc/cmdline)"
        echo "modules=$(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
        echo "pfs=$(tr '\n' ';' <"$STATE/pfs")"
} >"$RESULTS/boot.info"

now() { cut -d. -f1 /proc/uptime; }

# result LINE: to the results file; to the console with the time it took.
result() {
        echo "$1" >>"$RESULTS/results"
        say "$1 ($(($(now) - START))s)"
}

for NAME in $SCENARIOS; do
        T=$RESULTS/$NAME.txt
        rm -f "$T" "$RESULTS/$NAME.reasons" "$RESULTS/$NAME.skip" "$RESULTS/$NAME.noref"
        say "=== $NAME"
        START=$(now)
        if ! why=$(reset_world); then
                result "FAIL $NAME: could not reset the devices before it: $why"
                continue
        fi
        dmesg -c >/dev/null
        export NAME T
        timeout -s KILL "$SCENARIO_TIMEOUT" sh -c '. /vm/lib.sh; . "/vm/scenarios/$NAME.sh"; [ ! -s "$RESULTS/$NAME.reasons" ]' \
                >"$RESULTS/$NAME.log" 2>&1
        rc=$?
        dmesg >"$RESULTS/$NAME.dmesg"
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
touch "$RESULTS/done"
