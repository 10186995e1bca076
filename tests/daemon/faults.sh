#!/bin/bash
# Fault injection at every kernel operation of enable, bind, configure,
# assign and release.
#
# Workloads: enable (SetNumVFs), bind, unbind, restore (RestoreDriver),
# vfconfig (SetVFConfig), configure (Reload: the declared VF settings and
# driver), assign, release. Each runs once without faults while the
# simulator traces the injection points it passes (.sim/points: every sriov_numvfs,
# sriov_drivers_autoprobe, driver_override, unbind, drivers_probe, driver
# probe and ndo_set_vf_* the kernel saw, in order). Then, for every point and
# every fault kind — EIO, EBUSY, ENOMEM, and "block" (the kernel holds the
# write past the daemon's --timeout; only where the kernel can block: VF
# count changes, unbinds, probes) — a fresh host, the fault at exactly that
# operation ("fail OP TARGET KIND 1 after N": the N+1-th such operation), the
# workload again, and the verdict:
#   - the call answers success (then the host is exactly as after a clean
#     run) or a named org.sriovd.Error.* (Apply: steps with errors);
#   - the daemon is alive and answers a read;
#   - the host is exactly as before the call (rolled back), or what is left
#     is recorded (an unfinished assignment in the state file, a Pending
#     device, the declared configuration) and the daemon finishes it once
#     the fault is cleared — the held write completes, a restart recovers,
#     the next Apply converges — after which the host is exactly as after a
#     clean run or as before the call, and nothing is pending.
# Anything else is a half-configured host and fails the test.
#
# A case starts from the workload's baseline: a fresh host, or the host the
# previous case left when its snapshot equals the baseline (after a roll
# back, or after the workload's undo call once it completed) — restarting
# the simulator and the daemon for every case would triple the run time.
#
# make check runs one errno kind per point (rotating through the three) and
# every "block"; SRIOVD_FAULTS_FULL=1 runs every kind at every point;
# SRIOVD_FAULTS_WORKLOADS="enable bind ..." a selection.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
FULL=${SRIOVD_FAULTS_FULL:-0}
# A process whose write the simulator holds cannot exit until it is let go:
# clear every rule before the harness stops anything.
release_all() { [ -z "${SIM_ROOT:-}" ] || timeout 5 sh -c "echo clear > '$SIM_ROOT/.sim/ctl'" 2>/dev/null; }
faults_cleanup() {
        local rc=$?
        set +e
        trap - ERR
        release_all
        (exit "$rc")
        harness_cleanup
}
trap faults_cleanup EXIT
START=$(date +%s)

PF0=0000:3b:00.0
PF1=0000:3b:00.1
# PF0: VFs 0-1 are the pool (assign, release), 2-3 the declared settings
# (configure); PF1: its VF count (enable) and VF 0 (bind)
cat > "$T/base.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true },
           { "match": { "interface": "ens1f1" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-1" ] } ] }
CONF
cat > "$T/configure.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true,
             "vfs": [ { "range": "2", "mac_base": "02:aa:00:00:00:02", "vlan": 100, "qos": 2, "trust": true },
                      { "range": "3", "driver": "vfio-pci", "vlan": 300, "spoofchk": false } ] },
           { "match": { "interface": "ens1f1" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#0-1" ] } ] }
CONF
ASSIGN_OPTS="{'mac': <'02:00:00:00:00:42'>, 'vlan': <uint32 42>, 'qos': <uint32 3>, 'trust': <true>}"

# The host and the daemon's record, normalized: net device ifindexes change
# whenever a driver re-registers one, and whether a VF's MAC is
# "administrative" is not reported over netlink, so no restore can keep it.
snap() {
        jq -S 'del(.devices[].netdevs[].ifindex) | del(.devices[].vf_config.mac_admin)' "$SIM_ROOT/.sim/state"
        if [ -e "$T/state/state.json" ]; then
                # generations count how often VFs were re-created: bookkeeping, not the host
                jq -S 'del(.version) | del(.assignments[]?.since) | del(.pfs[]?.generation) | del(.devices[]?.generation) |
                        del(.assignments[]?.generation) | with_entries(select(.value != {} and .value != [] and .value != null))' \
                        "$T/state/state.json"
        else
                echo '{}'
        fi
}
# snap_diff A B: the lines that differ, for the failure message
snap_diff() { diff <(echo "$1") <(echo "$2") | head -n 30; }

# pending: every device whose Pending property is set ("BDF: what"), and
# every assignment not done ("BDF: phase")
# pending_writes: what waits for the kernel (the daemon finishes it by itself)
pending_writes() {
        kill -0 "$DAEMON_PID" 2>/dev/null || { echo "sriovd is not running"; return; }
        busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListDevices s "" |
                jq -r '.data[0][] | select(.[2].Pending.data != "") | "\(.[0]): \(.[2].Pending.data)"'
}
pending() {
        pending_writes
        [ ! -e "$T/state/state.json" ] ||
                jq -r '(.assignments[]? | select(.phase != "done") | "\(.vf): \(.phase)"),
                       (.devices | to_entries[] | select(.value.pending == true) | "\(.key): binding change under way")' \
                        "$T/state/state.json"
}
no_pending() { [ -z "$(pending)" ]; }
# a snapshot without its quarantine records; whether a VF is quarantined, with a reason
unquarantined() { jq -S 'del(.quarantine)' <<<"$1" 2>/dev/null || echo "$1"; }
quarantined() { jq -e --arg vf "$1" '[.quarantine[]? | select(.vf == $vf and (.reason | length) > 0)] | length == 1' "$T/state/state.json" >/dev/null; }
no_pending_writes() { [ -z "$(pending_writes)" ]; }
blocked() { sed -n 's/^blocked //p' "$SIM_ROOT/.sim/faults"; }
rules() { grep -v '^blocked \|^killed ' "$SIM_ROOT/.sim/faults"; }
points_seen() { wc -l < "$SIM_ROOT/.sim/points"; }

# ---- a fresh host: simulator, state and daemon from scratch ----
world_fresh() {
        release_all
        daemon_stop
        sim_stop_all
        rm -rf "$T/state"
        cp "$T/base.conf" "$T/sriovd.conf"
        sim_start x710.json
        sim_ctl netdev ens1f0 up
        sim_ctl netdev ens1f1 up
        # the declared VFs, made in one order: IOMMU group numbers are the
        # lowest free ones, so the daemon's PFs in parallel would vary them
        echo 4 > "$SIM_ROOT/bus/pci/devices/$PF0/sriov_numvfs"
        echo 2 > "$SIM_ROOT/bus/pci/devices/$PF1/sriov_numvfs"
        daemon_start --uevent-source none --timeout 2
        BIND_VF=$(vf_bdf $PF1 0)
        CONF_VF=$(vf_bdf $PF1 1)
}

# ---- the workloads: prepare (no faults), run (the call under test) ----
# run_X prints the reply and returns gdbus's status; completion_X is what
# finishes a recorded leftover once the fault is cleared.
prepare_enable() { :; }
run_enable() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.SetNumVFs" \
                       "$PF1" 3 "{'autoprobe': <false>}" 2>&1; }
completion_enable() { :; }

undo_enable() { gmgr SetNumVFs "$PF1" 2 "{'autoprobe': <true>}"; }

prepare_bind() { :; }
run_bind() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.Bind" \
                     "$BIND_VF" vfio-pci "{}" 2>&1; }
completion_bind() { :; }
undo_bind() { gmgr RestoreDriver "$BIND_VF"; }

prepare_unbind() { :; }
run_unbind() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.Unbind" \
                       "$BIND_VF" "{}" 2>&1; }
completion_unbind() { :; }
undo_unbind() { gmgr RestoreDriver "$BIND_VF"; }

prepare_restore() { gmgr Bind "$BIND_VF" vfio-pci "{}" >/dev/null || fail "restore: the setup bind failed"; }
run_restore() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.RestoreDriver" \
                        "$BIND_VF" 2>&1; }
completion_restore() { :; }
undo_restore() { prepare_restore; }

# one VF's settings over rtnetlink, and back to the driver's defaults
prepare_vfconfig() { :; }
run_vfconfig() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.SetVFConfig" \
                         "$CONF_VF" "{'vlan': <uint32 200>, 'qos': <uint32 1>, 'trust': <true>, 'spoofchk': <false>}" "{}" 2>&1; }
completion_vfconfig() { :; }
undo_vfconfig() { gmgr SetVFConfig "$CONF_VF" "{'vlan': <uint32 0>, 'trust': <false>, 'spoofchk': <true>}" "{}"; }

prepare_assign() { :; }
run_assign() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.Assign" \
                       g1 p "$ASSIGN_OPTS" 2>&1; }
completion_assign() { daemon_stop; daemon_start --uevent-source none --timeout 2; }
undo_assign() { gmgr Release g1 "" "{}"; }

prepare_release() { gmgr Assign g1 p "$ASSIGN_OPTS" >/dev/null || fail "release: the setup assignment failed"; }
run_release() { gdbus call --system --timeout 30 --dest "$DEST" --object-path "$MGR" --method "$IFACE.Release" \
                        g1 "" "{}" 2>&1; }
completion_release() { daemon_stop; daemon_start --uevent-source none --timeout 2; }
undo_release() { prepare_release; }

prepare_configure() { cp "$T/configure.conf" "$T/sriovd.conf"; }
# Reload: read the configuration and apply it; failed steps carry an error
run_configure() {
        local out
        out=$(busctl --system --json=short --timeout=30 call "$DEST" "$MGR" "$IFACE" Reload 2>&1) || { echo "$out"; return 2; }
        jq -r '.data[0][] | join(" | ")' <<<"$out"
        jq -e '[.data[0][] | select(.[3] != "")] | length == 0' <<<"$out" >/dev/null
}
completion_configure() { mgr Apply b false >/dev/null || fail "configure: Apply after the fault failed"; }
undo_configure() { return 1; }   # declared settings are not undone by a configuration without them

# ---- the baseline of a workload: reuse the host when it is exactly that ----
# AT: the workload whose baseline the host is at, "clean:W" after W
# completed, "" unknown
AT=
declare -A BEFORE
baseline() {
        local w=$1
        if [ "$AT" = "clean:$w" ] && "undo_$w" >/dev/null 2>&1 && no_pending && [ "$(snap)" = "${BEFORE[$w]}" ]; then
                AT=$w
        fi
        [ "$AT" = "$w" ] && return
        world_fresh
        "prepare_$w"
        AT=$w
        REUSED=0
}

# ---- the fault kinds at an operation ----
kinds_for() {
        local op=$1 i=$2 k
        if [ "$FULL" = 1 ]; then
                echo EIO EBUSY ENOMEM
        else
                k=(EIO EBUSY ENOMEM)
                echo "${k[$((i % 3))]}"
        fi
        case $op in numvfs|unbind|drivers_probe|probe) echo block;; esac
}

WORKLOADS=${SRIOVD_FAULTS_WORKLOADS:-enable bind unbind restore vfconfig configure assign release}
declare -A COUNT OUTCOMES
TOTAL=0
FRESH_SAVED=0
GLOBAL_I=0

# one point: a fresh host, the fault, the workload, the verdict
run_point() {
        local w=$1 n=$2 op=$3 target=$4 skip=$5 kind=$6 before after out rc name outcome=""
        local what="$w #$n: $op $target (after $skip) $kind"

        REUSED=1
        baseline "$w"
        if [ "$REUSED" = 1 ]; then
                before=${BEFORE[$w]}
                FRESH_SAVED=$((FRESH_SAVED + 1))
        else
                before=$(snap)
                [ "$before" = "${BEFORE[$w]}" ] || fail "$what: a fresh host differs from the clean run's:
$(snap_diff "${BEFORE[$w]}" "$before")"
        fi
        sim_ctl fail "$op" "$target" "$kind" 1 after "$skip" || fail "$what: the simulator refused the rule"
        rc=0
        out=$("run_$w") || rc=$?
        # the fault must have been hit: an errno rule is used up, a block holds one operation
        if [ "$kind" = block ]; then
                [ "$(blocked)" = 1 ] || fail "$what: no operation is held by the block rule ($(rules)); the workload passed ${op} $target fewer than $((skip + 1)) times"
        else
                [ -z "$(rules)" ] || fail "$what: the fault was never hit: $(rules)"
        fi
        kill -0 "$DAEMON_PID" 2>/dev/null || fail "$what: sriovd died: $(tail -n 15 "$T/sriovd.log")"
        timeout 20 busctl --system call "$DEST" "$MGR" "$IFACE" ListDevices s pf >/dev/null ||
                fail "$what: sriovd does not answer a read after the fault"
        if [ $rc = 0 ]; then
                outcome=retried
        elif [ "$w" = configure ]; then
                [ $rc = 1 ] || fail "$what: Reload itself failed: $out"
        else
                name=$(grep -o 'GDBus.Error:[A-Za-z.]*' <<<"$out" | head -n 1)
                name=${name#GDBus.Error:}
                case "$name" in
                org.sriovd.Error.*) ;;
                *) fail "$what: not a named org.sriovd.Error: $out";;
                esac
                [ "$kind" != block ] || [ "$name" = org.sriovd.Error.Timeout ] ||
                        fail "$what: a held write should answer Timeout, got $name"
        fi
        after=$(snap)
        if [ "$outcome" = retried ] && [ "$op" = reset ] && [ "$after" != "${CLEAN_AFTER[$w]}" ]; then
                # released, but its reset failed: the VF goes to no guest (recorded, with why)
                [ "$(unquarantined "$after")" = "${CLEAN_AFTER[$w]}" ] && quarantined "$target" ||
                        fail "$what: the release succeeded, the reset did not, and the VF is not quarantined:
$(snap_diff "${CLEAN_AFTER[$w]}" "$after")"
                outcome=done,quarantined
                mgr ClearQuarantine s "$target" >/dev/null || fail "$what: the quarantine cannot be cleared"
        elif [ "$outcome" = retried ]; then
                [ "$after" = "${CLEAN_AFTER[$w]}" ] || fail "$what: the call succeeded but the host is not as after a clean run:
$(snap_diff "${CLEAN_AFTER[$w]}" "$after")"
        elif [ "$after" = "$before" ] && [ "$kind" != block ] && no_pending; then
                outcome=rolled-back
        elif [ "$op" = reset ] && [ "$(unquarantined "$after")" = "$before" ] && quarantined "$target" && no_pending; then
                # a VF whose reset between tenants failed goes to no guest: recorded, with why
                outcome=rolled-back,quarantined
                mgr ClearQuarantine s "$target" >/dev/null || fail "$what: the quarantine cannot be cleared"
                [ "$(snap)" = "$before" ] || fail "$what: clearing the quarantine left the host changed"
        else
                # something is left: it must be recorded, and finished once the fault is gone
                if [ "$w" != configure ] && no_pending; then
                        fail "$what: answered ${name:-?} and left the host half-configured, with nothing recorded:
$(snap_diff "$before" "$after")"
                fi
                sim_ctl clear
                wait_for 20 no_pending_writes || fail "$what: still pending after the fault was cleared: $(pending_writes)"
                [ "$(blocked)" = 0 ] || fail "$what: an operation is still held"
                kill -0 "$DAEMON_PID" 2>/dev/null || fail "$what: sriovd died finishing the operation: $(tail -n 15 "$T/sriovd.log")"
                "completion_$w"
                wait_for 20 no_pending || fail "$what: still pending after recovery: $(pending)"
                after=$(snap)
                if [ "$after" = "${CLEAN_AFTER[$w]}" ]; then
                        outcome=completed
                elif [ "$after" = "$before" ]; then
                        outcome=rolled-back-later
                else
                        fail "$what: left neither as before nor as after a clean run once recovered:
--- against a clean run:
$(snap_diff "${CLEAN_AFTER[$w]}" "$after")"
                fi
        fi
        [ -z "$(rules)" ] || sim_ctl clear
        case $outcome in
        rolled-back*) AT=$w;;
        *) AT="clean:$w";;
        esac
        printf '# %-58s %-40s %s\n' "$what" "${name:-ok}" "$outcome"
        OUTCOMES[$outcome]=$((${OUTCOMES[$outcome]:-0} + 1))
        COUNT[$w]=$((${COUNT[$w]:-0} + 1))
        TOTAL=$((TOTAL + 1))
}

declare -A CLEAN_AFTER KINDS
bus_start
POINTS=0
for w in $WORKLOADS; do
        note "workload $w: a clean run, tracing the kernel operations"
        world_fresh
        "prepare_$w"
        BEFORE[$w]=$(snap)
        p0=$(points_seen)
        out=$("run_$w") || fail "$w: the clean run failed: $out"
        CLEAN_AFTER[$w]=$(snap)
        [ "${CLEAN_AFTER[$w]}" != "${BEFORE[$w]}" ] || fail "$w: the clean run changed nothing"
        AT="clean:$w"
        tail -n +$((p0 + 1)) "$SIM_ROOT/.sim/points" > "$T/points.$w"
        [ -s "$T/points.$w" ] || fail "$w: no kernel operation traced"
        note "$w: $(wc -l < "$T/points.$w") operations: $(awk '{print $1}' "$T/points.$w" | sort | uniq -c | xargs)"

        declare -A seen=()
        n=0
        while read -r op target; do
                n=$((n + 1))
                skip=${seen["$op $target"]:-0}
                seen["$op $target"]=$((skip + 1))
                for kind in $(kinds_for "$op" "$GLOBAL_I"); do
                        run_point "$w" "$n" "$op" "$target" "$skip" "$kind" </dev/null
                        KINDS[$kind]=1
                done
                GLOBAL_I=$((GLOBAL_I + 1))
        done < "$T/points.$w"
        POINTS=$((POINTS + n))
        unset seen
done

release_all
daemon_stop
! grep -q "Sanitizer\|runtime error:" "$T/sriovd.log" || fail "sanitizer reports: $(grep -A5 "Sanitizer\|runtime error:" "$T/sriovd.log" | head -n 30)"

summary="# $POINTS injection points, ${#KINDS[@]} fault kinds (${!KINDS[*]}), $TOTAL cases:"
for w in $WORKLOADS; do
        [ "${COUNT[$w]:-0}" -gt 0 ] || fail "no injection point exercised for $w"
        summary+=" $w $(wc -l < "$T/points.$w")/${COUNT[$w]},"
done
echo "${summary%,} (points/cases; $([ "$FULL" = 1 ] && echo "full matrix" || echo "make check subset: one errno kind per point, rotating; SRIOVD_FAULTS_FULL=1 for all"))"
echo "# outcomes: $(for o in "${!OUTCOMES[@]}"; do printf '%s %s, ' "$o" "${OUTCOMES[$o]}"; done | sed 's/, $//')"
echo "# $((TOTAL - FRESH_SAVED)) cases on a fresh host, $FRESH_SAVED on the previous case's (equal to the baseline); $(($(date +%s) - START)) s"
expected=0
for w in $WORKLOADS; do
        while read -r op target; do
                expected=$((expected + $(kinds_for "$op" 0 | wc -w)))
        done < "$T/points.$w"
done
assert_eq "$TOTAL" "$expected" "cases run"
echo ok
