# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Workload 7, observability (issue 18), on the big host
# (tests/sim/topologies/scale-16x128.json, 16 PFs x 128 VFs = 2048 VFs,
# every PF's interface up, traffic counted on every VF):
#   - `sriovctl metrics` and `sriovctl stats --json` (every VF), `stats` of
#     one VF: wall time per call and the client's peak RSS, sriovd's RSS
#     after them, the size of the exposition;
#   - idle with the rtnetlink link subscription on: context switches and
#     CPU of sriovd over IDLE_SECONDS (0 expected: nothing polls);
#   - one link notification's cost: a VF setting changed by hand, the time
#     until sriovd has read the PF again (DriftDetected would follow).
# Sourced by bench/run (lib.sh loaded).

OBSERVE_REPS=${OBSERVE_REPS:-5}

# measure CMD...: "MS KIB" — wall time and the peak RSS of CMD (its stdout discarded)
measure() {
        "$PYTHON" - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
ms = (time.monotonic() - t) * 1000
if r.returncode != 0:
    sys.exit(r.returncode)
print("%.1f %d" % (ms, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}

# observe_rep NAME CMD...: OBSERVE_REPS timed runs, recorded; prints the median ms
observe_rep() {
        local name=$1 rep out ms=() kib=0
        shift
        "$@" >/dev/null || die "$name failed"          # warm up, untimed
        for ((rep = 1; rep <= OBSERVE_REPS; rep++)); do
                out=$(measure "$@") || die "$name failed"
                ms+=("${out% *}")
                [ "${out#* }" -gt "$kib" ] && kib=${out#* }
                rec "{\"kind\": \"observe\", \"what\": $(jstr "$name"), \"rep\": $rep, \"ms\": ${out% *}, \"client_maxrss_kib\": ${out#* }}"
        done
        note "$(printf '%-34s median %s ms (of %d), client peak RSS %s KiB' "$name" "$(median "${ms[@]}")" "$OBSERVE_REPS" "$kib")"
}

workload_observe() {
        local pfs pf i vfs s0 s1 c0 cpu n0 t0 first e
        say "== 7. observability on 16 PFs x $SCALE_NVFS VFs: metrics, stats, idle with the link subscription"
        sim_up "$SCALE_TOPO" --uevents --rtnl "$W/rtnl.sock"
        mapfile -t pfs < <(scale_pfs)
        { printf '{ "pfs": ['
          for ((i = 0; i < ${#pfs[@]}; i++)); do
                  printf '%s{ "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": false }' \
                          "$([ "$i" = 0 ] || echo ,)" "${pfs[i]}" "$SCALE_NVFS"
          done
          printf '], "pools": [ { "name": "all", "select": ['
          for ((i = 0; i < ${#pfs[@]}; i++)); do
                  printf '%s"%s"' "$([ "$i" = 0 ] || echo ,)" "${pfs[i]}"
          done
          printf '] } ] }\n'; } >"$W/sriovd.conf"
        for pf in "${pfs[@]}"; do
                echo "netdev $(ls "/sys/bus/pci/devices/$pf/net") up" >/sys/.sim/ctl
        done
        daemon_up "observe" --uevent-source udev
        first=$(vf_bdfs "${pfs[0]}" 1)
        first=${first# }
        # every VF counted something (ice reports its counters)
        for pf in "${pfs[@]}"; do
                for vfs in $(vf_bdfs "$pf" "$SCALE_NVFS"); do
                        echo "traffic $vfs rx_packets 1000" >/sys/.sim/ctl
                done
        done
        for ((i = 0; i < 8; i++)); do "$SRIOVCTL" assign "g$i" all >/dev/null || die "assign g$i"; done
        note "sriovd ready with $(mgr_prop NumVFs | cut -d' ' -f2) VFs, 8 assigned; RSS $(rss_kib "$DAEMON_PID") KiB"
        rec "{\"kind\": \"rss\", \"when\": \"observe: 2048 VFs, before metrics\", \"kib\": $(rss_kib "$DAEMON_PID")}"

        observe_rep "sriovctl metrics" "$SRIOVCTL" metrics
        observe_rep "sriovctl metrics --openmetrics" "$SRIOVCTL" metrics --openmetrics
        observe_rep "sriovctl stats --json (2048 VFs)" "$SRIOVCTL" --json stats
        observe_rep "sriovctl stats (2048 VFs, text)" "$SRIOVCTL" stats
        observe_rep "sriovctl stats VF (one VF)" "$SRIOVCTL" stats "$first"
        rec "{\"kind\": \"observe_size\", \"metrics_bytes\": $("$SRIOVCTL" metrics | wc -c), \"metrics_lines\": $("$SRIOVCTL" metrics | wc -l), \"stats_json_bytes\": $("$SRIOVCTL" --json stats | wc -c)}"
        note "metrics: $("$SRIOVCTL" metrics | wc -c) bytes, $("$SRIOVCTL" metrics | grep -vc '^#') samples"
        rec "{\"kind\": \"rss\", \"when\": \"observe: 2048 VFs, after metrics and stats\", \"kib\": $(rss_kib "$DAEMON_PID")}"
        note "sriovd RSS after them: $(rss_kib "$DAEMON_PID") KiB"

        # idle, with the subscription on
        wait_cpu_quiet "$DAEMON_PID"
        n0=$("$SRIOVCTL" metrics | awk '/^sriovd_link_notifications_total /{print $2}')
        s0=$(ctx_switches "$DAEMON_PID")
        c0=$(cpu_ticks "$DAEMON_PID")
        sleep "$IDLE_SECONDS"
        s1=$(ctx_switches "$DAEMON_PID")
        cpu=$(( ($(cpu_ticks "$DAEMON_PID") - c0) * 1000 / CLK_TCK ))
        note "idle with the link subscription: $((s1 - s0)) context switches in ${IDLE_SECONDS} s ($cpu ms CPU); $n0 notifications so far"
        rec "{\"kind\": \"observe_idle\", \"seconds\": $IDLE_SECONDS, \"switches\": $((s1 - s0)), \"cpu_ms\": $cpu, \"notifications\": $n0}"

        # one notification: a VF's MAC changed by hand, until sriovd read the PF again
        n0=$("$SRIOVCTL" metrics | awk '/^sriovd_operations_total\{operation="link-read"\}/{print $2}')
        now_us
        t0=$NOW_US
        mapfile -t e < <(sim_env "$SIM_SHIM")
        env "${e[@]}" ip link set "$(ls "/sys/bus/pci/devices/${pfs[0]}/net")" vf 5 mac 02:00:00:00:77:01 ||
                die "ip link set"
        for ((i = 0; i < 200; i++)); do
                [ "$("$SRIOVCTL" metrics | awk '/^sriovd_operations_total\{operation="link-read"\}/{print $2}')" -gt "$n0" ] && break
                sleep 0.01
        done
        note "a VF's MAC changed by hand: sriovd read the PF again after $(ms_since "$t0") ms"
        rec "{\"kind\": \"observe_notification\", \"reread_ms\": $(ms_since "$t0")}"
        daemon_down
        echo '{}' >"$W/sriovd.conf"
        sim_down
}
