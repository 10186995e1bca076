#!/bin/bash
# The daemon's whole lifecycle under valgrind: start (scan, configuration
# applied), rescans, apply, assign, release, bind, restore, a refused call,
# drift and a reload, stop. No invalid accesses, no leaks.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v valgrind >/dev/null || skip "no valgrind"
[ "${SRIOVD_SANITIZERS:-no}" != yes ] || skip "valgrind cannot run a sanitizer build"
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json --uevents
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true,
             "vfs": [ { "range": "0", "driver": "vfio-pci" } ] } ],
  "pools": [ { "name": "p", "select": [ "ens1f0#1-3" ] } ] }
CONF
bus_start
DAEMON_WRAPPER="valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=$T/valgrind.log" \
        daemon_start --uevent-source udev
PF=0000:3b:00.0

VF0=$(vf_bdf $PF 0)
VF3=$(vf_bdf $PF 3)

mgr Rescan >/dev/null
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "nothing to do after start"
mgr ListDevices s "" >/dev/null
mgr DescribeDevices s "" >/dev/null
mgr ListGroups >/dev/null
gmgr Assign g1 p "{'token': <'t'>}" >/dev/null || fail "assign"
gmgr Assign g2 p '{}' >/dev/null || fail "assign 2"
mgr ListAssignments s "" >/dev/null
mgr Release 'ssa{sv}' g1 "" 0 >/dev/null || fail "release"
gmgr Bind "$VF3" vfio-pci '{}' >/dev/null || fail "bind a free pool VF"
assert_eq "$(mgr RestoreDriver s "$VF3")" 's "iavf"' "restore"
expect_error org.sriovd.Error.InvalidArgument gmgr GetDevice ../x

note "drift made by hand, and a reload (SIGHUP): the declared driver is back"
echo "$VF0" > "$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"
kill -HUP "$DAEMON_PID"
wait_for 30 grep -q "SIGHUP: reloading the configuration" "$T/sriovd.log" || fail "SIGHUP not handled"
wait_for 30 driver_is "$VF0" vfio-pci || fail "the reload did not correct the drift"
assert_eq "$(mgr Apply b false)" "a(ssss) 0" "nothing left to apply"
mgr SetNumVFs 'sua{sv}' 0000:3b:00.1 2 0 >/dev/null
mgr SetNumVFs 'sua{sv}' 0000:3b:00.1 0 0 >/dev/null
kill "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[ "$rc" = 99 ] && fail "valgrind found errors: $(cat "$T/valgrind.log")"
[ "$rc" = 0 ] || fail "sriovd exited with $rc under valgrind: $(tail -20 "$T/sriovd.log")"
[ -s "$T/valgrind.log" ] && fail "valgrind reports: $(cat "$T/valgrind.log")"
echo ok
