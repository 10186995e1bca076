#!/bin/bash
# The daemon's whole lifecycle under valgrind: start (scan, configuration
# applied), rescans, apply, assign, release, reload, stop. No invalid
# accesses, no leaks.
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

mgr Rescan >/dev/null
mgr Apply b true >/dev/null
mgr ListDevices s "" >/dev/null
mgr DescribeDevices s "" >/dev/null
mgr ListGroups >/dev/null
gmgr Assign g1 p "{'token': <'t'>}" >/dev/null || fail "assign"
gmgr Assign g2 p '{}' >/dev/null || fail "assign 2"
mgr ListAssignments s "" >/dev/null
mgr Release 'ssa{sv}' g1 "" 0 >/dev/null || fail "release"
gmgr Bind "$(vf_bdf $PF 3)" vfio-pci '{}' >/dev/null 2>&1 || true
mgr RestoreDriver s "$(vf_bdf $PF 3)" >/dev/null 2>&1 || true
gmgr GetDevice ../x >/dev/null 2>&1 || true
echo 1 > "$SIM_ROOT/bus/pci/devices/$PF/sriov_numvfs" 2>/dev/null || true
kill -HUP "$DAEMON_PID"
sleep 2
mgr Apply b false >/dev/null || true
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
