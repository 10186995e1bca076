#!/bin/bash
# The declared configuration through sriovctl: status shows its files, its
# errors and the drift of the host from it (a VF rebound by hand); apply
# --dry-run plans, apply carries out, a failed step is exit status 8 with
# its reason; reload refuses broken files with file:line:col (exit status
# 6) and changes nothing; a step that cannot be made in a dry run.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
sim_start x710.json
mkdir -p "$T/conf.d"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true,
             "vfs": [ { "range": "0-1", "driver": "vfio-pci" } ] } ] }
CONF
bus_start
start_sriovd --timeout 1

PF=0000:3b:00.0
PF1=0000:3b:00.1
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
assert_eq "$(driver_of "$VF1")" vfio-pci "applied at start"

note "as declared: nothing to change, no drift"
expect_ok apply --dry-run
assert_eq "$OUT" "Nothing to change: the host is as declared." "apply --dry-run"
expect_ok status
assert_eq "$(field Drift)" none "status: drift"
assert_eq "$(field 'Config files')" "$T/sriovd.conf" "status: config files"
[ -z "$(field 'Config errors')" ] || fail "status: config errors without errors: $OUT"

note "drift: a VF rebound by hand shows in status and in the dry run, which change nothing"
echo "$VF1" > "$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"
before=$(snapshot)
expect_ok status
assert_eq "$(field Drift)" "1 change" "status: drift"
grep -q "^Drift from the declared configuration:$" <<<"$OUT" || fail "status: no drift table: $OUT"
assert_eq "$(row "  $VF1" | grep ' driver ' | tr -s ' ')" " $VF1 driver driver (none) -> vfio-pci" "status: the drift"
expect_ok --json status
assert_eq "$(jq_out "d['drift']")" \
        "[{'device': '$VF1', 'step': 'driver', 'change': 'driver (none) -> vfio-pci', 'error': None}]" "status --json: drift"
assert_eq "$(jq_out "d['config_files'], d['config_errors']")" "(['$T/sriovd.conf'], [])" "status --json: config"
expect_ok apply --dry-run
assert_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "DEVICE STEP CHANGE RESULT" "apply --dry-run: header"
assert_eq "$(row "$VF1" | tr -s ' ')" "$VF1 driver driver (none) -> vfio-pci planned" "apply --dry-run: the step"
expect_ok --json apply --dry-run
assert_eq "$(jq_out "sorted(d.keys())")" "['config_errors', 'config_files', 'dry_run', 'failed', 'steps']" "apply --json keys"
assert_eq "$(jq_out "d['dry_run'], d['failed'], d['steps']")" \
        "(True, 0, [{'device': '$VF1', 'step': 'driver', 'change': 'driver (none) -> vfio-pci', 'result': 'planned', 'error': None}])" \
        "apply --dry-run --json"
[ "$before" = "$(snapshot)" ] || fail "status or a dry run changed the host"
assert_eq "$(driver_of "$VF1")" none "still unbound after the dry runs"

note "apply corrects it"
expect_ok apply
assert_eq "$(row "$VF1" | tr -s ' ')" "$VF1 driver driver (none) -> vfio-pci done" "apply: the step"
assert_eq "$(driver_of "$VF1")" vfio-pci "driver after apply"
expect_ok apply
assert_eq "$OUT" "Nothing to change: the host is as declared." "apply twice"

note "a step that fails: exit status 8, the reason under its row, the rest done"
echo "$VF0" > "$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"
echo "$VF1" > "$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"
sim_ctl fail probe "$VF1" ENODEV 2
ctl apply
assert_eq "$RC" 8 "exit status of an apply with a failed step"
assert_eq "$(row "$VF0" | tr -s ' ')" "$VF0 driver driver (none) -> vfio-pci done" "the step that worked"
assert_eq "$(row "$VF1" | tr -s ' ')" "$VF1 driver driver (none) -> vfio-pci failed" "the step that failed"
grep -A1 "^$VF1 " <<<"$OUT" | tail -n1 | grep -q "^ *error: " || fail "no error under the failed step: $OUT"
[[ "$ERR" == "sriovctl: 1 of the 2 steps failed; the others were done." ]] || fail "apply: stderr: $ERR"
assert_eq "$(driver_of "$VF0")" vfio-pci "the step that worked is done"
ctl --json apply
assert_eq "$RC" 8 "exit status of apply --json with a failed step"
assert_eq "$(jq_out "d['failed'], [(s['device'], s['result']) for s in d['steps']]")" "(1, [('$VF1', 'failed')])" \
        "apply --json: the failed step"
[ "$(jq_out "d['steps'][0]['error']")" != None ] || fail "apply --json: no error: $OUT"
expect_ok apply
assert_eq "$(driver_of "$VF1")" vfio-pci "applied once the kernel lets it"

note "a plan that cannot be made: a dry run with an error step is exit status 8 too"
sim_ctl hold "$VF1"
expect 7 "Cannot restore the driver of $VF1" restore "$VF1"
ctl apply --dry-run
assert_eq "$RC" 8 "exit status of a dry run that cannot be carried out"
assert_eq "$(row $PF | tr -s ' ')" "$PF error - failed" "the error step"
grep -A1 "^$PF " <<<"$OUT" | tail -n1 | grep -q "error: .*still pending" || fail "no reason under the error step: $OUT"
[[ "$ERR" == "sriovctl: 1 of the 1 steps cannot be carried out." ]] || fail "apply --dry-run: stderr: $ERR"
expect_ok status
assert_eq "$(field Drift)" "1 to change, not all can be" "status: drift that cannot be corrected now"
sim_ctl release "$VF1"
wait_for 10 driver_is "$VF1" iavf || fail "the pending restore was not finished"
expect_ok apply
assert_eq "$(driver_of "$VF1")" vfio-pci "applied after the pending operation"

note "reload: broken files are refused with file:line:col, the configuration in force stays"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": "four" } ] }\n' > "$T/conf.d/60-bad.conf"
before=$(snapshot)
expect 6 "Cannot reload the configuration: the files have errors, and sriovd keeps the configuration it had:" reload
[[ "$ERR" == *$'\n'"  $T/conf.d/60-bad.conf:1:61: \"num_vfs\" must be an integer"* ]] || fail "reload: the error: $ERR"
[[ "$ERR" == *'Hint: "sriovd --check-config" shows where the configuration is wrong'* ]] || fail "reload: no hint: $ERR"
[ -z "$OUT" ] || fail "a refused reload printed on stdout: $OUT"
[ "$before" = "$(snapshot)" ] || fail "a refused reload changed the host"
expect_ok status
grep -qF "$T/conf.d/60-bad.conf:1:61: " <<<"$(field 'Config errors')" || fail "status: no config errors: $OUT"
expect_ok --json status
assert_eq "$(jq_out "len(d['config_errors'])")" 1 "status --json: config errors"
ctl apply
assert_eq "$RC" 0 "apply goes by the configuration in force"
[[ "$ERR" == "sriovctl: warning: the configuration files have errors;"*"$T/conf.d/60-bad.conf:1:61: "* ]] \
        || fail "apply: no warning about the errors: $ERR"
ctl --json apply
assert_eq "$(jq_out "len(d['config_errors']), d['steps']")" "(1, [])" "apply --json: config errors"

note "reload of good files applies them"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": 2 } ] }\n' > "$T/conf.d/60-bad.conf"
expect_ok reload
assert_eq "$(row $PF1 | tr -s ' ')" "$PF1 numvfs VFs 0 -> 2 done" "reload: the step"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 2 "VFs after the reload"
expect_ok --json status
assert_eq "$(jq_out "d['config_errors'], len(d['config_files']), d['drift']")" "([], 2, [])" "status after the reload"

note "nothing declared"
rm -f "$T/sriovd.conf" "$T/conf.d"/*
expect_ok reload
assert_eq "$OUT" "No configuration is declared: nothing to do." "reload without files"
expect_ok status
assert_eq "$(field Drift)" none "status: no drift without a configuration"
echo ok
