# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Workload 1, bring-up: 4 PFs x 64 VFs created and all 256 bound to vfio-pci
# (autoprobe off), by sriovd (Reload of a configuration declaring it, the
# daemon already running with an empty one), driverctl, dpdk-devbind.py, and
# the plain shell loop serially and one shell per PF (the measured parallel
# limit). Every contestant gets a freshly mounted simulated host, and its
# result is checked: all VFs on vfio-pci, or the time does not count.
# Sourced by bench/run (lib.sh loaded).

BRINGUP_TOPO="$SRCDIR/bench/topologies/bringup-4x64.json"
BRINGUP_PFS=(0000:3b:00.0 0000:3b:00.1 0000:5e:00.0 0000:5e:00.1)
BRINGUP_NVFS=64
# BENCH_CONTESTANTS="sriovd shell" runs a subset (while working on one of them)
# shellcheck disable=SC2206
BRINGUP_CONTESTANTS=(${BENCH_CONTESTANTS:-sriovd driverctl dpdk shell shell-par})

# write_bringup_config N PF...: the declared configuration sriovd applies
write_bringup_config() {
        local n=$1 sep= pf
        shift
        {
                echo '{ "pfs": ['
                for pf in "$@"; do
                        printf '  %s{ "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": false,\n' "$sep" "$pf" "$n"
                        printf '     "vfs": [ { "range": "0-%d", "driver": "vfio-pci" } ] }\n' $((n - 1))
                        sep=,
                done
                echo '] }'
        } >"$W/sriovd.conf"
}

# bringup_verify N PF...: every PF has N VFs and every VF is bound to
# vfio-pci. Prints "ok" or what is wrong.
bringup_verify() {
        local n=$1
        shift
        sim_state | "$PYTHON" -c '
import json, sys
n = int(sys.argv[1]); pfs = sys.argv[2:]
d = json.load(sys.stdin)
devs = {x["bdf"]: x for x in d["devices"]}
bad = []
for pf in pfs:
    got = (devs.get(pf, {}).get("sriov") or {}).get("numvfs")
    if got != n:
        bad.append("%s has %s VFs" % (pf, got))
vfs = [x for x in d["devices"] if x.get("physfn") in pfs]
wrong = [x["bdf"] + "=" + str(x.get("driver")) for x in vfs if x.get("driver") != "vfio-pci"]
if len(vfs) != n * len(pfs):
    bad.append("%d VFs instead of %d" % (len(vfs), n * len(pfs)))
if wrong:
    bad.append("%d VFs not on vfio-pci (%s)" % (len(wrong), ", ".join(wrong[:3])))
print("; ".join(bad) if bad else "ok")
' "$n" "$@"
}

bringup_available() {   # bringup_available CONTESTANT: prints why not, if not
        case $1 in
        driverctl)
                command -v driverctl >/dev/null || { echo "driverctl is not installed (Debian package driverctl)"; return; }
                [ -n "$MODPROBE_STUB_OK" ] || echo "cannot replace kmod's modprobe with the simulator's stub in the namespace"
                ;;
        dpdk)
                [ -n "$DPDK_DEVBIND" ] || echo "dpdk-devbind.py is not installed (Debian package dpdk)"
                ;;
        esac
}

# reload_config: what `sriovctl reload` would do, if sriovctl has it (it is
# being written), else the D-Bus method Reload() through busctl
reload_config() {
        if "$SRIOVCTL" --help 2>&1 | grep -q '^  reload'; then
                "$SRIOVCTL" --timeout 900 reload >"$W/reload.out" 2>&1
        else
                mgr Reload >"$W/reload.out" 2>&1
        fi
}

# run_contestant NAME N PF...: on the simulator that is mounted; sets
# RESULT_MS and RESULT_OK
run_contestant() {
        local c=$1 n=$2 out t0
        shift 2
        RESULT_MS=
        RESULT_OK=
        case $c in
        sriovd)
                echo '{}' >"$W/sriovd.conf"
                daemon_up "bringup" --uevent-source udev --log-level debug
                write_bringup_config "$n" "$@"
                now_us
                t0=$NOW_US
                if reload_config; then
                        RESULT_MS=$(ms_since "$t0")
                else
                        RESULT_OK="Reload failed: $(head -c 300 "$W/reload.out")"
                fi
                daemon_down
                ;;
        *)
                out=$(DPDK_DEVBIND="$DPDK_DEVBIND" bash "$SRCDIR/bench/bringup-tools.sh" "$c" "$n" "$@" 2>>"$W/tools-$c.log") ||
                        RESULT_OK="$c failed: $(tail -n 3 "$W/tools-$c.log" | tr '\n' ' ')"
                RESULT_MS=$(sed -n 's/^ms=//p' <<<"$out" | tail -n 1)
                ;;
        esac
        local v
        v=$(bringup_verify "$n" "$@")
        [ "$v" = ok ] || RESULT_OK="${RESULT_OK:+$RESULT_OK; }wrong result: $v"
        [ -n "$RESULT_OK" ] || RESULT_OK=ok
}

workload_bringup() {
        local rep i c k order why limit
        say "== 1. bring-up: ${#BRINGUP_PFS[@]} PFs x $BRINGUP_NVFS VFs to vfio-pci (autoprobe off), $REPS repetitions"
        limit=$(($(lat sriov_enable) + BRINGUP_NVFS * ($(lat vf_create) + $(lat probe))))
        rec "{\"kind\": \"bringup_limit\", \"pfs\": ${#BRINGUP_PFS[@]}, \"vfs_per_pf\": $BRINGUP_NVFS, \"computed_ms\": $limit, \"formula\": \"sriov_enable + $BRINGUP_NVFS x (vf_create + probe)\"}"
        note "computed parallel limit (slowest PF's chain of kernel latencies): $limit ms"
        for c in "${BRINGUP_CONTESTANTS[@]}"; do
                why=$(bringup_available "$c")
                if [ -n "$why" ]; then
                        note "skipping $c: $why"
                        rec "{\"kind\": \"bringup\", \"contestant\": \"$c\", \"skipped\": $(jstr "$why")}"
                fi
        done
        for ((rep = 1; rep <= REPS; rep++)); do
                # rotate the order so that no contestant always runs first (or last)
                order=()
                for ((i = 0; i < ${#BRINGUP_CONTESTANTS[@]}; i++)); do
                        k=$(((i + rep - 1) % ${#BRINGUP_CONTESTANTS[@]}))
                        order+=("${BRINGUP_CONTESTANTS[$k]}")
                done
                for c in "${order[@]}"; do
                        [ -z "$(bringup_available "$c")" ] || continue
                        sim_up "$BRINGUP_TOPO" --uevents --rtnl "$W/rtnl.sock"
                        run_contestant "$c" "$BRINGUP_NVFS" "${BRINGUP_PFS[@]}"
                        sim_down
                        note "rep $rep: $(printf '%-10s' "$c") ${RESULT_MS:-?} ms  $RESULT_OK"
                        rec "{\"kind\": \"bringup\", \"rep\": $rep, \"contestant\": \"$c\", \"ms\": ${RESULT_MS:-null}, \"ok\": $([ "$RESULT_OK" = ok ] && echo true || echo false), \"detail\": $(jstr "$RESULT_OK")}"
                done
        done
        if [ -f "$W/sriovd-bringup.log" ]; then
                rec "{\"kind\": \"bringup_daemon\", \"rereads_last_rep\": $(grep -c 'Re-read' "$W/sriovd-bringup.log")}"
        fi
}

# What each contestant does per VF, counted (not timed) under strace on one
# PF with ACCOUNT_VFS VFs and no latency: path syscalls that resolve a name
# under /sys (each is a walk through sysfs; on the simulator every component
# is a FUSE round trip), and programs executed.
ACCOUNT_VFS=16
workload_account() {
        local c pf=${BRINGUP_PFS[0]} f sys execs spid i
        command -v strace >/dev/null || {
                note "skipping the syscall accounting: strace is not installed"
                rec '{"kind": "account", "skipped": "strace is not installed"}'
                return
        }
        say "== accounting: what each contestant does for $ACCOUNT_VFS VFs of one PF (strace, untimed, no latency)"
        local saved=$LATENCY_MODEL
        LATENCY_MODEL="sriov_enable=0 sriov_disable=0 vf_create=0 vf_destroy=0 probe=0 unbind=0 hotplug=0"
        for c in "${BRINGUP_CONTESTANTS[@]}"; do
                [ "$c" = shell-par ] && continue
                [ -z "$(bringup_available "$c")" ] || continue
                f="$W/strace-$c.txt"
                sim_up "$BRINGUP_TOPO" --uevents --rtnl "$W/rtnl.sock"
                if [ "$c" = sriovd ]; then
                        echo '{}' >"$W/sriovd.conf"
                        daemon_up "account" --uevent-source udev --log-level debug
                        write_bringup_config "$ACCOUNT_VFS" "$pf"
                        strace -f -qq -e trace=%file -o "$f" -p "$DAEMON_PID" 2>/dev/null &
                        spid=$!
                        # attached: the daemon's tracer is strace (bounded)
                        for ((i = 0; i < 200; i++)); do
                                grep -q "^TracerPid:[[:space:]]*$spid\$" "/proc/$DAEMON_PID/status" && break
                                sleep 0.05
                        done
                        [ "$i" -lt 200 ] || die "strace did not attach to sriovd"
                        reload_config || die "the reload failed: $(cat "$W/reload.out")"
                        # what the bring-up sets off afterwards (uevents, re-reads) counts too
                        wait_cpu_quiet "$DAEMON_PID" || die "sriovd did not go quiet after the bring-up"
                        kill -INT "$spid" 2>/dev/null
                        wait "$spid" 2>/dev/null
                        daemon_down
                else
                        DPDK_DEVBIND="$DPDK_DEVBIND" strace -f -qq -e trace=%file -o "$f" \
                                bash "$SRCDIR/bench/bringup-tools.sh" "$c" "$ACCOUNT_VFS" "$pf" >/dev/null 2>>"$W/tools-$c.log"
                fi
                sim_down
                # a name under /sys, or under an open sysfs directory
                # (/proc/self/fd/N/ATTR: sriovd's device scopes, one component)
                sys=$(grep '"/sys/' "$f" | grep -vc '"/sys/\.sim')
                fdrel=$(grep -c '"/proc/self/fd/[0-9]*/' "$f")
                execs=$(grep -c 'execve(.* = 0' "$f")
                note "$(printf '%-10s' "$c") $((sys + fdrel)) sysfs path syscalls ($(awk -v a="$((sys + fdrel))" -v n="$ACCOUNT_VFS" 'BEGIN { printf "%.1f", a / n }') per VF; $fdrel of them relative to an open device directory), $execs programs executed"
                rec "{\"kind\": \"account\", \"contestant\": \"$c\", \"vfs\": $ACCOUNT_VFS, \"sysfs_path_syscalls\": $((sys + fdrel)), \"fd_relative\": $fdrel, \"execs\": $execs}"
        done
        LATENCY_MODEL=$saved
}
