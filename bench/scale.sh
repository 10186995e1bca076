# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Workloads 2-4 on the big host, tests/sim/topologies/scale-16x128.json with
# all 16 PFs at 128 VFs (2048 VFs, 2072 PCI functions):
#   3. the uevent storm: sriovd (listening to udev events) absorbs the
#      creation of 2048 VFs done behind its back: CPU time, re-reads
#   3. then, with 2048 VFs: RSS, wake-ups while idle
#   2. listing: `sriovctl list --json` (and --kind all) against `lspci -D`,
#      end to end, side by side
#   4. D-Bus reads per second from 1 and 8 clients (sriovd-bench calls)
#   2. the daemon's start-up time on that host (to READY=1 / State=running)
# Sourced by bench/run (lib.sh loaded).

SCALE_TOPO="$SRCDIR/tests/sim/topologies/scale-16x128.json"
SCALE_NVFS=128
IDLE_SECONDS=${IDLE_SECONDS:-10}
DBUS_SECONDS=${DBUS_SECONDS:-3}

scale_pfs() {
        local d
        for d in /sys/bus/pci/devices/*; do
                [ -e "$d/sriov_numvfs" ] && echo "${d##*/}"
        done
}

# wait_num_vfs N SECONDS: until the daemon reports N VFs (bounded)
wait_num_vfs() {
        local want=$1 t=$2 i
        for ((i = 0; i < t * 5; i++)); do
                [ "$(mgr_prop NumVFs 2>/dev/null)" = "u $want" ] && return 0
                sleep 0.2
        done
        return 1
}

workload_scale() {
        local pfs pf pids c0 t0 t_kernel absorb cpu rr0 rr u0 u1 rss0 rss1 rss2 s0 s1 rep ok

        say "== 3. daemon cost on 16 PFs x $SCALE_NVFS VFs (tests/sim/topologies/scale-16x128.json)"
        sim_up "$SCALE_TOPO" --uevents --rtnl "$W/rtnl.sock"
        mapfile -t pfs < <(scale_pfs)
        echo '{}' >"$W/sriovd.conf"
        daemon_up "scale" --uevent-source udev --log-level debug
        rec "{\"kind\": \"startup\", \"vfs\": 0, \"functions\": $(ls /sys/bus/pci/devices | wc -l), \"ms\": $DAEMON_READY_MS}"
        note "sriovd ready with 0 VFs after $DAEMON_READY_MS ms; RSS $(rss_kib "$DAEMON_PID") KiB"
        rec "{\"kind\": \"rss\", \"when\": \"started, 0 VFs\", \"kib\": $(rss_kib "$DAEMON_PID")}"

        # --- the storm: 2048 VFs appear behind the daemon's back ---
        wait_cpu_quiet "$DAEMON_PID"
        c0=$(cpu_ticks "$DAEMON_PID")
        rr0=$(grep -c 'Re-read' "$DAEMON_LOG")
        u0=$(wc -l </sys/.sim/uevents)
        now_us
        t0=$NOW_US
        pids=()
        for pf in "${pfs[@]}"; do
                (echo "$SCALE_NVFS" >"/sys/bus/pci/devices/$pf/sriov_numvfs") &
                pids+=($!)
        done
        for pf in "${pids[@]}"; do wait "$pf" || die "a VF count write of the storm failed"; done
        t_kernel=$(ms_since "$t0")
        ok=true
        wait_num_vfs $((${#pfs[@]} * SCALE_NVFS)) 300 || ok=false
        absorb=$(ms_since "$t0")
        wait_cpu_quiet "$DAEMON_PID"
        cpu=$(( ($(cpu_ticks "$DAEMON_PID") - c0) * 1000 / CLK_TCK ))
        rr=$(( $(grep -c 'Re-read' "$DAEMON_LOG") - rr0 ))
        u1=$(wc -l </sys/.sim/uevents)
        note "storm: ${#pfs[@]} x echo $SCALE_NVFS > sriov_numvfs took $t_kernel ms in the kernel; sriovd saw all VFs after $absorb ms"
        note "storm: $((u1 - u0)) uevents, sriovd used $cpu ms of CPU and re-read $rr times"
        rec "{\"kind\": \"storm\", \"pfs\": ${#pfs[@]}, \"vfs\": $((${#pfs[@]} * SCALE_NVFS)), \"uevents\": $((u1 - u0)), \"kernel_ms\": $t_kernel, \"absorbed_ms\": $absorb, \"complete\": $ok, \"cpu_ms\": $cpu, \"rereads\": $rr}"
        grep 'Re-read' "$DAEMON_LOG" | tail -n +$((rr0 + 1)) | sort | uniq -c | sort -rn | head -n 5 >"$W/storm-rereads.txt"

        # --- with 2048 VFs: memory and idleness ---
        rss1=$(rss_kib "$DAEMON_PID")
        rec "{\"kind\": \"rss\", \"when\": \"2048 VFs, after the storm\", \"kib\": $rss1}"
        s0=$(ctx_switches "$DAEMON_PID")
        c0=$(cpu_ticks "$DAEMON_PID")
        sleep "$IDLE_SECONDS"
        s1=$(ctx_switches "$DAEMON_PID")
        cpu=$(( ($(cpu_ticks "$DAEMON_PID") - c0) * 1000 / CLK_TCK ))
        note "idle: $((s1 - s0)) context switches in ${IDLE_SECONDS} s ($cpu ms CPU); RSS $rss1 KiB"
        rec "{\"kind\": \"idle\", \"seconds\": $IDLE_SECONDS, \"switches\": $((s1 - s0)), \"cpu_ms\": $cpu, \"threads\": $(ls /proc/"$DAEMON_PID"/task | wc -l)}"

        # --- 2. listing, side by side ---
        workload_listing
        rss2=$(rss_kib "$DAEMON_PID")
        rec "{\"kind\": \"rss\", \"when\": \"2048 VFs, after listing\", \"kib\": $rss2}"

        # --- 4. D-Bus reads ---
        workload_dbus_reads
        rec "{\"kind\": \"rss\", \"when\": \"2048 VFs, after the D-Bus load\", \"kib\": $(rss_kib "$DAEMON_PID")}"
        note "RSS: $rss1 KiB after the storm, $rss2 KiB after listing, $(rss_kib "$DAEMON_PID") KiB after the D-Bus load"

        # --- 2. start-up with 2048 VFs ---
        daemon_down
        for ((rep = 1; rep <= STARTUP_REPS; rep++)); do
                daemon_up "scale-startup" --uevent-source udev
                note "start-up with 2048 VFs: READY=1 after $DAEMON_READY_MS ms; RSS $(rss_kib "$DAEMON_PID") KiB"
                rec "{\"kind\": \"startup\", \"vfs\": 2048, \"rep\": $rep, \"functions\": $(ls /sys/bus/pci/devices | wc -l), \"ms\": $DAEMON_READY_MS}"
                rec "{\"kind\": \"rss\", \"when\": \"started with 2048 VFs\", \"kib\": $(rss_kib "$DAEMON_PID")}"
                daemon_down
        done
        sim_down
}

# 2b. start-up after a reboot with ASSIGNMENTS guests' VFs to set up again:
# 2048 VFs, ASSIGNMENTS of them assigned (with a VLAN each), then the host
# starts again with no VFs; sriovd must make the VFs and put every guest's
# VF back before READY=1. Once with the declared configuration making the
# VFs, once with sriovd making them from its records.
REBOOT_ASSIGNMENTS=${REBOOT_ASSIGNMENTS:-64}
workload_reboot() {
        local how pf pfs i n rep
        say "== 2b. start-up after a reboot: 2048 VFs, $REBOOT_ASSIGNMENTS assignments set up again"
        for how in configuration records; do
                for ((rep = 1; rep <= STARTUP_REPS; rep++)); do
                        sim_up "$SCALE_TOPO" --uevents --rtnl "$W/rtnl.sock"
                        mapfile -t pfs < <(scale_pfs)
                        { printf '{ "pfs": ['
                          for ((i = 0; i < ${#pfs[@]}; i++)); do
                                  printf '%s{ "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": false }' \
                                          "$([ "$i" = 0 ] || echo ,)" "${pfs[i]}" "$SCALE_NVFS"
                          done
                          printf '], "pools": [ { "name": "guests", "select": ['
                          for ((i = 0; i < ${#pfs[@]}; i++)); do
                                  printf '%s"%s"' "$([ "$i" = 0 ] || echo ,)" "${pfs[i]}"
                          done
                          printf '] } ] }\n'; } >"$W/sriovd.conf"
                        DAEMON_STATE="$W/state-reboot-$how-$rep"
                        rm -rf "$DAEMON_STATE"
                        daemon_up "reboot-setup" --uevent-source udev
                        for ((i = 0; i < REBOOT_ASSIGNMENTS; i++)); do
                                "$SRIOVCTL" assign "g$i" guests --vlan $((i + 2)) >/dev/null ||
                                        die "assign g$i for the reboot workload"
                        done
                        daemon_down
                        # without the PF rules: sriovd makes the VFs from its records
                        [ "$how" = records ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump({"pools": d["pools"]}, open(sys.argv[1], "w"))' "$W/sriovd.conf"
                        sim_up "$SCALE_TOPO" --uevents --rtnl "$W/rtnl.sock"
                        daemon_up "reboot-$how" --uevent-source udev
                        n=$("$SRIOVCTL" --json assignments | python3 -c 'import json,sys; print(sum(1 for a in json.load(sys.stdin)["assignments"] if a["state"] == "ready"))')
                        note "after a reboot ($how makes the VFs): READY=1 after $DAEMON_READY_MS ms, $n of $REBOOT_ASSIGNMENTS assignments ready"
                        rec "{\"kind\": \"startup_reboot\", \"vfs_by\": \"$how\", \"rep\": $rep, \"assignments\": $REBOOT_ASSIGNMENTS, \"ready\": $n, \"ms\": $DAEMON_READY_MS}"
                        daemon_down
                        unset DAEMON_STATE
                done
        done
        echo '{}' >"$W/sriovd.conf"
        sim_down
}

workload_listing() {
        local rep j lspci_ms list_ms all_ms
        say "== 2. listing 2048 VFs: sriovctl list --json vs lspci -D, $REPS repetitions"
        # warm both up once (pci.ids, page cache), untimed
        "$SRIOVCTL" list --json >/dev/null
        lspci -D >/dev/null 2>&1
        for ((rep = 1; rep <= REPS; rep++)); do
                j=$("$BENCH" time -n 1 -- lspci -D 2>/dev/null)
                lspci_ms=${j#*[}
                lspci_ms=${lspci_ms%]*}
                j=$("$BENCH" time -n 3 -- "$SRIOVCTL" list --json)
                list_ms=$(median $(tr -d '{}[]"a-z_:' <<<"$j" | tr ',' ' '))
                j=$("$BENCH" time -n 3 -- "$SRIOVCTL" list --json --kind all)
                all_ms=$(median $(tr -d '{}[]"a-z_:' <<<"$j" | tr ',' ' '))
                note "rep $rep: lspci -D $lspci_ms ms, sriovctl list --json $list_ms ms, --kind all $all_ms ms"
                rec "{\"kind\": \"listing\", \"rep\": $rep, \"lspci_ms\": $lspci_ms, \"list_json_ms\": $list_ms, \"list_all_json_ms\": $all_ms}"
        done
        # where the time goes: the D-Bus calls alone (no process start-up);
        # list --json makes DescribeDevices, the text table ListDevices
        j=$("$BENCH" calls -c 1 -s 2 DescribeDevices "sriov")
        rec "{\"kind\": \"listing_call\", \"method\": \"DescribeDevices\", \"result\": $j}"
        note "DescribeDevices(\"sriov\") alone: p50 $(jfield "${j#*lat_us}" p50) us"
        j=$("$BENCH" calls -c 1 -s 2 ListDevices "sriov")
        rec "{\"kind\": \"listing_call\", \"method\": \"ListDevices\", \"result\": $j}"
        note "ListDevices(\"sriov\") alone: p50 $(jfield "${j#*lat_us}" p50) us"
        rec "{\"kind\": \"listing_size\", \"json_bytes\": $("$SRIOVCTL" list --json | wc -c), \"lspci_lines\": $(lspci -D 2>/dev/null | wc -l)}"
}

workload_dbus_reads() {
        local vf c m a j
        say "== 4. D-Bus reads per second (sriovd-bench calls, ${DBUS_SECONDS} s each)"
        vf=$(vf_bdfs 0000:01:00.0 1)
        vf=${vf# }
        for m in "GetDevice $vf" "ListDevices pf" "ListDevices sriov" "DescribeDevices sriov"; do
                for c in 1 8; do
                        j=$("$BENCH" calls -c "$c" -s "$DBUS_SECONDS" $m) || j="{\"error\": $(jstr "sriovd-bench calls $m failed")}"
                        note "$(printf '%-22s %d client(s): ' "$m" "$c")$(jfield "$j" rate) calls/s, p50 $(jfield "${j#*lat_us}" p50) us, p99 $(jfield "${j#*lat_us}" p99) us"
                        rec "{\"kind\": \"dbus_read\", \"method\": $(jstr "$m"), \"clients\": $c, \"result\": $j}"
                done
        done
}
