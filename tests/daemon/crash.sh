#!/bin/bash
# kill -9 at every recorded step of assign and release, restart, and check
# that the host matches the state: unfinished assignments rolled back,
# releases finished, nothing held twice, nothing left half-bound.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
if [ "${SRIOVD_TEST_HOOKS:-no}" != yes ]; then
        # CI builds with them (tools/check): there, their absence is a failure
        [ "${CI:-}" = true ] && fail "sriovd was built without --enable-test-hooks: no crash points to test"
        skip "sriovd was built without --enable-test-hooks (the crash points)"
fi
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
bus_start
daemon_start --uevent-source none
PF=0000:3b:00.0

# invariants: the state parses, nothing is mid-way, every assigned VF is on
# vfio-pci, every other VF is back on iavf, no VF twice
check_invariants() {
        local what=$1
        python3 - "$T/state/state.json" "$SIM_ROOT" "$what" <<'PY' || fail "invariants after $what"
import json, os, sys
state, root, what = sys.argv[1:]
d = json.load(open(state))
pf = os.path.join(root, "bus/pci/devices/0000:3b:00.0")
vfs = [os.path.basename(os.readlink(os.path.join(pf, "virtfn%d" % i))) for i in range(4)]
def driver(v):
    l = os.path.join(root, "bus/pci/devices", v, "driver")
    return os.path.basename(os.readlink(l)) if os.path.islink(l) else None
held = [a["vf"] for a in d.get("assignments", [])]
ok = True
if len(held) != len(set(held)):
    print("a VF is held twice", held); ok = False
for a in d.get("assignments", []):
    if a["phase"] != "done":
        print("left mid-way:", a["vf"], a["phase"]); ok = False
for v in vfs:
    want = "vfio-pci" if v in held else "iavf"
    if driver(v) != want:
        print(v, "is on", driver(v), "expected", want); ok = False
sys.exit(0 if ok else 1)
PY
}

points="assign-reserved assign-prepared assign-attrs assign-bind assign-owner assign-done release-marked release-attrs release-driver release-done"
n=0
for point in $points; do
        n=$((n + 1))
        note "crash at $point"
        daemon_stop
        case $point in
        release-*)
                daemon_start --uevent-source none
                gmgr Assign "c$n" p '{}' >/dev/null || fail "setup assign failed"
                daemon_stop
                SRIOVD_CRASH_AT=$point daemon_start --uevent-source none
                # every crash point comes before the reply
                ! out=$(gmgr Release "c$n" "" '{}') || fail "Release answered, yet sriovd was to die at $point: $out"
                ;;
        *)
                SRIOVD_CRASH_AT=$point daemon_start --uevent-source none
                ! out=$(gmgr Assign "c$n" p '{}') || fail "Assign answered, yet sriovd was to die at $point: $out"
                ;;
        esac
        wait_for 5 pid_gone "$DAEMON_PID" || fail "the daemon did not die at $point"
        grep -q "crash point $point reached" "$T/sriovd.log" || fail "crash point $point was not reached"
        DAEMON_PID=
        daemon_start --uevent-source none
        check_invariants "$point"
        # and the service still works: a fresh assign and release
        out=$(gmgr Assign "after$n" p '{}') || fail "assign after the crash at $point: $out"
        mgr Release 'ssa{sv}' "after$n" "" 0 >/dev/null || fail "release after the crash at $point"
        check_invariants "$point, then assign+release"
done
echo "ok ($n crash points)"
