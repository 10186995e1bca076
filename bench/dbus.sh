# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Workload 4b: Assign + Release cycles per second. One PF of the bring-up
# host with 8 VFs on their host driver (iavf, autoprobe on) in a pool;
# each cycle is Assign(guest, pool, {}) — the VF goes to vfio-pci, with the
# group check, the host-use check (rtnetlink through the simulator) and the
# state file's intent records — then Release(guest, "", {}), which gives it
# back to iavf. Kernel work per cycle in the model: unbind + probe twice.
# Sourced by bench/run (lib.sh loaded).

ASSIGN_PF=0000:3b:00.0
ASSIGN_NVFS=8

# The daemon's syscalls per cycle: strace -f -c on it during a short
# one-client run (strace slows the cycles; the count per cycle is what
# matters). Recorded as kind "assign_syscalls".
assign_syscalls() {
        local sp j total cycles i
        command -v strace >/dev/null || { note "no strace: syscalls per Assign+Release cycle not counted"; return 0; }
        strace -f -c -q -o "$W/assign-strace.txt" -p "$DAEMON_PID" &
        sp=$!
        # attached once the kernel names strace as the daemon's tracer (10 s at most)
        for ((i = 0; i < 200; i++)); do traced "$DAEMON_PID" && break; sleep 0.05; done
        traced "$DAEMON_PID" || { kill "$sp" 2>/dev/null; note "strace did not attach"; return 0; }
        j=$("$BENCH" assign -c 1 -s 3 bench) || j="{}"
        kill -INT "$sp" 2>/dev/null
        wait "$sp" 2>/dev/null || :
        total=$(awk '$NF == "total" { print $(NF - 2) }' "$W/assign-strace.txt")
        cycles=$(jfield "$j" calls)
        if [ -n "$total" ] && [ -n "$cycles" ] && [ "$cycles" -gt 0 ]; then
                note "syscalls per Assign+Release cycle: $total in $cycles cycles = $((total / cycles)) (strace -f -c, 1 client)"
                rec "{\"kind\": \"assign_syscalls\", \"syscalls\": $total, \"cycles\": $cycles, \"top\": \"$(sort -k4 -nr "$W/assign-strace.txt" | awk 'NF >= 5 && $NF != "total" { printf "%s %s, ", $NF, $4 }' | head -c 200)\"}"
        fi
}
traced() { [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status")" != 0 ]; }

workload_assign() {
        local c j variant saved kernel
        say "== 4. Assign + Release cycles (sriovd-bench assign, ${DBUS_SECONDS} s each)"
        saved=$LATENCY_MODEL
        for variant in model none; do
                if [ "$variant" = none ]; then
                        LATENCY_MODEL="sriov_enable=0 sriov_disable=0 vf_create=0 vf_destroy=0 probe=0 unbind=0 hotplug=0"
                fi
                kernel=$((2 * ($(lat unbind) + $(lat probe))))
                sim_up "$BRINGUP_TOPO" --uevents --rtnl "$W/rtnl.sock"
                cat >"$W/sriovd.conf" <<EOF
{ "pfs": [ { "match": { "bdf": "$ASSIGN_PF" }, "num_vfs": $ASSIGN_NVFS, "autoprobe": true } ],
  "pools": [ { "name": "bench", "select": [ "$ASSIGN_PF#0-$((ASSIGN_NVFS - 1))" ] } ] }
EOF
                daemon_up "assign-$variant" --uevent-source udev --log-level debug
                for c in 1 4; do
                        j=$("$BENCH" assign -c "$c" -s "$DBUS_SECONDS" bench) || j="{\"error\": \"sriovd-bench assign failed\"}"
                        note "$(printf 'latency %-5s %d client(s): ' "$variant" "$c")$(jfield "$j" rate) cycles/s, p50 $(jfield "${j#*lat_us}" p50) us per cycle (kernel work per cycle: $kernel ms), errors $(jfield "$j" errors)"
                        rec "{\"kind\": \"assign\", \"latency\": \"$variant\", \"clients\": $c, \"kernel_ms_per_cycle\": $kernel, \"result\": $j}"
                done
                [ "$variant" = model ] && assign_syscalls
                daemon_down
                sim_down
        done
        LATENCY_MODEL=$saved
}
