#!/bin/bash
# An unprivileged caller: every read verb works and shows what root sees
# (status with the drift, and a dry run of the configuration, among them);
# every verb that changes the host ends with exit status 4 and a sentence,
# and changes nothing. The calls that change the host carry
# ALLOW_INTERACTIVE_AUTHORIZATION unless --no-ask-password, and only they.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f1" }, "num_vfs": 1, "vfs": [ { "range": "0", "driver": "host" } ] } ],
  "pools": [ { "name": "vms", "select": [ "ens1f0#2" ] } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
start_sriovd

PF=0000:3b:00.0
expect_ok enable $PF 3 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
VF2=$(vf_bdf $PF 2)
expect_ok bind "$VF0" vfio-pci
expect_ok assign vm1 vms
# drift, for status and the dry run to show
echo "$(vf_bdf 0000:3b:00.1 0)" > "$SIM_ROOT/bus/pci/devices/$(vf_bdf 0000:3b:00.1 0)/driver/unbind"
nobody() { run as_nobody "$SRIOVCTL" "$@"; }

note "read verbs: open to everyone, the same output as for root"
for args in "list" "list --kind all" "show $PF" "show ens1f0v1" "groups" "status" "--json list --kind all" \
            "--json show $VF0" "--json groups" "--json status" "show $VF1" "--json show $VF1" "assignments" \
            "--json assignments" "pools" "--json pools" "apply --dry-run" "--json apply --dry-run"; do
        # shellcheck disable=SC2086
        expect_ok $args
        root_out=$OUT
        # shellcheck disable=SC2086
        nobody $args
        [ "$RC" = 0 ] || fail "sriovctl $args as nobody: exit status $RC: $ERR"
        assert_eq "$OUT" "$root_out" "sriovctl $args as nobody"
done
expect_ok status
assert_eq "$(field Drift)" "1 change" "status as nobody shows the drift"
expect_ok show "$VF1"
[ "$(field MAC)" != - ] || fail "show as nobody: the VF's settings are missing: $OUT"

note "verbs that change the host: exit status 4, nothing changed"
before=$(snapshot)
for args in "enable $PF 4" "enable ens1f0 1 --autoprobe no" "disable $PF" "bind $PF vfio-pci" \
            "bind $VF0 iavf --no-keep-override" "unbind $VF0" "restore $VF0" "disable $PF --force" \
            "bind $VF1 vfio-pci --whole-group --force" "unbind $VF0 --force" "set $VF1 --trust on" \
            "set ens1f0v1 --mac 02:00:00:00:00:01 --bring-pf-up" "assign vm2 ens1f0v1" "assign vm2 vms --vlan 3" \
            "release vm1" "release vm1 $VF2 --force" "pool-create p ens1f0#0" "pool-delete vms" "apply" "reload" \
            "dma-check $VF0" "owner $VF0 --uid nobody --gid nogroup" "owner --reset $VF0"; do
        for opt in "" "--no-ask-password"; do
                # shellcheck disable=SC2086
                nobody $opt $args
                [ "$RC" = 4 ] || fail "sriovctl $opt $args as nobody: exit status $RC, expected 4: $ERR"
                [[ "$ERR" == *"Not authorized"* ]] || fail "sriovctl $args as nobody: $ERR"
                [[ "$ERR" == *"Hint: run as root, or get the polkit authorization org.sriovd.manage"* ]] \
                        || fail "sriovctl $args as nobody: no hint: $ERR"
                [ -z "$OUT" ] || fail "sriovctl $args as nobody printed on stdout: $OUT"
        done
done
[ "$before" = "$(snapshot)" ] || fail "a refused call changed the host"
nobody unbind "$VF0"
[[ "$ERR" == "sriovctl: Cannot unbind $VF0: Not authorized"* ]] || fail "the sentence: $ERR"

note "ALLOW_INTERACTIVE_AUTHORIZATION (flag 0x4) on changes, unless --no-ask-password"
calls_monitor_start "$T/monitor.log"
nobody unbind "$VF0"
nobody --no-ask-password restore "$VF0"
nobody list
nobody apply --dry-run
nobody set "$VF1" --trust on
nobody assign vm2 vms
expect_ok --no-ask-password restore "$VF0"
calls_monitor_stop "$T/monitor.log"
# the flags of each call, in order: Member=... follows the header line with Flags=
flags=$(awk '/Type=method_call/ { for (i = 1; i <= NF; i++) if ($i ~ /^Flags=/) f = substr($i, 7) }
             /Member=/ { for (i = 1; i <= NF; i++) if ($i ~ /^Member=/ && $i != "Member=Ping") print substr($i, 8), f }' "$T/monitor.log")
assert_eq "$(tr '\n' ' ' <<<"$flags")" \
        "Unbind 4 RestoreDriver 0 ListDevices 0 GetAll 0 Apply 0 SetVFConfig 4 Assign 4 RestoreDriver 0 " "call flags"
assert_eq "$(simdev "$VF0" driver)" iavf "root's restore went through"
echo ok
