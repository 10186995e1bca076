# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Workload 6, fairness (docs/security.md, "Limits"): root's GetDevice and
# Bind (+ RestoreDriver) latency on the big host (16 PFs x 128 VFs), idle
# and under each unprivileged flood of tests/dbus-flood (8 clients, all
# switched to nobody): "mixed" (reads, bad names, denied changes), "noread"
# (listings never read), "open" (dry runs and Rescan). Goal: p99 under a
# flood at most 3x idle, no root call slower than 1 s.
# And the soak (--only soak, not in the default set): every flood at once
# for SOAK_SECONDS (600) while root assigns and releases, sriovd's RSS and
# open fds sampled every 10 s.
# Sourced by bench/run (lib.sh loaded).

FAIR_SECONDS=${FAIR_SECONDS:-10}
SOAK_SECONDS=${SOAK_SECONDS:-600}
FLOOD_BIN=${FLOOD_BIN:-$BUILDDIR/tests/dbus-flood}

fairness_host() {
        local pfs pf i
        sim_up "$SCALE_TOPO" --rtnl "$W/rtnl.sock"
        mapfile -t pfs < <(scale_pfs)
        { printf '{ "pfs": ['
          for ((i = 0; i < ${#pfs[@]}; i++)); do
                  printf '%s{ "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": false }' \
                          "$([ "$i" = 0 ] || echo ,)" "${pfs[i]}" "$SCALE_NVFS"
          done
          printf '], "pools": [ { "name": "soak", "select": [ "%s" ] } ] }\n' "${pfs[0]}"; } >"$W/sriovd.conf"
        daemon_up "fairness" --uevent-source none
        FAIR_PF=${pfs[1]}
        FAIR_VF=$(vf_bdfs "$FAIR_PF" 1)
        FAIR_VF=${FAIR_VF# }
}

# fair_measure LABEL: root's latencies now (one client each, in turn)
fair_measure() {
        local label=$1 get bind
        get=$("$BENCH" calls -c 1 -s "$FAIR_SECONDS" GetDevice "$FAIR_VF") || get='{"error": "GetDevice failed"}'
        bind=$("$BENCH" bind -s "$FAIR_SECONDS" "$FAIR_VF") || bind='{"error": "Bind failed"}'
        note "$(printf '%-8s' "$label") GetDevice p50 $(jfield "${get#*lat_us}" p50) us p99 $(jfield "${get#*lat_us}" p99) us max $(jfield "${get#*lat_us}" max) us;" \
                "Bind+RestoreDriver p50 $(jfield "${bind#*lat_us}" p50) us p99 $(jfield "${bind#*lat_us}" p99) us max $(jfield "${bind#*lat_us}" max) us"
        rec "{\"kind\": \"fairness\", \"flood\": $(jstr "$label"), \"get\": $get, \"bind\": $bind}"
}

workload_fairness() {
        local kind pid nobody
        nobody=$(id -u nobody)
        say "== 6. fairness: root's latency, idle and under 8 unprivileged flooders, 2048 VFs ($FAIR_SECONDS s each)"
        fairness_host
        fair_measure idle
        for kind in mixed noread open; do
                "$FLOOD_BIN" -k "$kind" -c 8 -s $((FAIR_SECONDS * 2 + 10)) -u "$nobody" -a "$FAIR_PF" \
                        >"$W/flood-$kind.out" 2>"$W/flood-$kind.log" &
                pid=$!
                fair_measure "$kind"
                wait "$pid"
                rec "{\"kind\": \"fairness_flood\", \"flood\": $(jstr "$kind"), \"result\": $(jstr "$(cat "$W/flood-$kind.out")"), \"rss_kib\": $(rss_kib "$DAEMON_PID")}"
        done
        daemon_down
        sim_down
}

workload_soak() {
        local nobody pids=() t0 i rss fds
        nobody=$(id -u nobody)
        say "== 6b. soak: every flood at once for $SOAK_SECONDS s while root assigns and releases"
        fairness_host
        for kind in mixed noread open; do
                "$FLOOD_BIN" -k "$kind" -c 8 -s "$SOAK_SECONDS" -u "$nobody" -a "$FAIR_PF" \
                        >"$W/soak-$kind.out" 2>"$W/soak-$kind.log" &
                pids+=($!)
        done
        "$BENCH" assign -c 2 -s "$SOAK_SECONDS" soak >"$W/soak-assign.json" 2>"$W/soak-assign.log" &
        pids+=($!)
        t0=$SECONDS
        i=0
        while [ $((SECONDS - t0)) -lt "$SOAK_SECONDS" ]; do
                sleep 10        # the sampling interval, not a synchronisation
                rss=$(rss_kib "$DAEMON_PID")
                fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
                rec "{\"kind\": \"soak_sample\", \"t\": $((SECONDS - t0)), \"rss_kib\": $rss, \"fds\": $fds}"
                i=$((i + 1))
                [ $((i % 6)) -ne 0 ] || note "soak t=$((SECONDS - t0)) s: RSS $rss KiB, $fds fds"
        done
        for pid in "${pids[@]}"; do wait "$pid" || note "a soak client reported unexpected answers"; done
        rec "{\"kind\": \"soak_assign\", \"result\": $(cat "$W/soak-assign.json" 2>/dev/null || echo '{}')}"
        note "soak: root's Assign+Release $(cat "$W/soak-assign.json")"
        for kind in mixed noread open; do note "soak flood $kind: $(cat "$W/soak-$kind.out")"; done
        daemon_down
        sim_down
}
