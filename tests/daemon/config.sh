#!/bin/bash
# The declared configuration: validation with file:line:col, applying at
# start, dry runs that show drift, idempotence, reload, and convergence after
# hot-plug and driver reload, with a failing PF not holding up the others.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json --uevents
mkdir -p "$T/conf.d"

check() { "$SRIOVD" --check-config --sysfs-root "$SIM_ROOT" --config "$T/sriovd.conf" --config-dir "$T/conf.d" 2>/dev/null; }
expect_check() {
        local want=$1 out
        out=$(check) && fail "check-config accepted a bad configuration; wanted: $want"
        case "$out" in *"$want"*) ;; *) fail "check-config: expected '$want', got: $out";; esac
}

note "check-config: errors with their position"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "bdf": "0000:3b:00.0" }, "num_vfs": 8, "bogus": 1,
             "vfs": [ { "range": "0-3", "driver": "vfio-pci", "mac": "02:00:00:00:00:01" },
                      { "range": "4-5", "vlan": 4095, "trust": "yes" },
                      { "range": "6", "mac": "ff:ff:ff:ff:ff:ff", "qos": 2 } ] } ] }
CONF
out=$(check) && fail "accepted"
for want in \
        "$T/sriovd.conf:1:64: unknown key \"bogus\" in a PF rule" \
        "$T/sriovd.conf:2:70: \"mac\" on a range of 4 VFs would give them one address; use \"mac_base\"" \
        "$T/sriovd.conf:3:49: \"vlan\" must be between 0 and 4094" \
        "$T/sriovd.conf:3:64: \"trust\" must be a boolean, not a string" \
        "$T/sriovd.conf:4:46: invalid MAC address \"ff:ff:ff:ff:ff:ff\"" \
        "$T/sriovd.conf:4:23: \"qos\" needs a non-zero \"vlan\""; do
        grep -qF -- "$want" <<<"$out" || fail "missing: $want; got:
$out"
done

printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.0" } }, ] }\n' > "$T/sriovd.conf"
expect_check "$T/sriovd.conf:1:52: "
printf '{ "pfs": [], "pfs": [] }\n' > "$T/sriovd.conf"
expect_check "$T/sriovd.conf:1:14: duplicate key"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.0" }, "num_vfs": 65 } ] }\n' > "$T/sriovd.conf"
expect_check "$T/sriovd.conf:1:61: 65 VFs exceed the 64 that 0000:3b:00.0 supports"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "bdf": "0000:3b:00.0" }, "num_vfs": 2 },
           { "match": { "interface": "ens1f0" }, "num_vfs": 4 } ] }
CONF
expect_check "$T/sriovd.conf:2:12: this rule and the one at $T/sriovd.conf:1:12 both match 0000:3b:00.0"
printf '{ "pfs": [ { "match": { "id": "8086:1572" }, "vfs": [ { "range": "60-70" } ] } ] }\n' > "$T/sriovd.conf"
expect_check "goes beyond the 0 VFs of 0000:3b:00.0"

note "check-config: a good configuration, with a drop-in that replaces a rule"
cat > "$T/sriovd.conf" <<'CONF'
{
  "pfs": [
    { "match": { "interface": "ens1f0" }, "num_vfs": 2, "autoprobe": true },
    { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": 2 }
  ]
}
CONF
cat > "$T/conf.d/50-ens1f0.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 6, "autoprobe": false,
             "vfs": [ { "range": "0-3", "driver": "vfio-pci" }, { "range": "4-5", "driver": "host" } ] } ] }
CONF
assert_eq "$(check)" "configuration OK" "check-config on a good configuration"

note "applied at start, before READY"
bus_start
daemon_start --uevent-source udev --retry-ms 100
PF=0000:3b:00.0; PF1=0000:3b:00.1
assert_eq "$(sysattr $PF sriov_numvfs)" 6 "VFs on $PF after start"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 2 "VFs on $PF1 after start"
for n in 0 1 2 3; do assert_eq "$(driver_of "$(vf_bdf $PF $n)")" vfio-pci "driver of VF $n"; done
for n in 4 5; do assert_eq "$(driver_of "$(vf_bdf $PF $n)")" iavf "driver of VF $n"; done
grep -q "50-ens1f0.conf" <<<"$(busctl --system get-property "$DEST" "$MGR" "$IFACE" ConfigFiles)" || fail "ConfigFiles"

note "a dry run shows nothing to do: applying twice changes nothing"
before=$(snapshot)
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "dry run right after start"
assert_eq "$(mgr Apply b false)" "a(ssss) 0" "second apply"
[ "$before" = "$(snapshot)" ] || fail "the second apply changed the host"

note "drift: a VF rebound by hand shows up in the dry run and is corrected by Apply"
VF2=$(vf_bdf $PF 2)
echo "$VF2" > "$SIM_ROOT/bus/pci/drivers/vfio-pci/unbind"
out=$(mgr Apply b true)
case "$out" in *"$VF2"*driver*"(none) -> vfio-pci"*) ;; *) fail "drift not reported: $out";; esac
assert_eq "$(driver_of "$VF2")" none "a dry run does not change anything"
grep -q "$VF2" <<<"$(mgr Apply b false)" || fail "Apply did not report the correction"
assert_eq "$(driver_of "$VF2")" vfio-pci "driver after Apply"
[ "$(gdbus call --system --dest $DEST --object-path $MGR --method $IFACE.Apply true)" = "(@a(ssss) [],)" ] \
        || fail "drift left after Apply"

note "reload with a broken drop-in: refused with its position, the old configuration stays"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": "four" } ] }\n' > "$T/conf.d/60-bad.conf"
expect_error "org.sriovd.Error.InvalidConfig" gmgr Reload
expect_error "60-bad.conf:1:61: \"num_vfs\" must be an integer" gmgr Reload
grep -q "60-bad.conf" <<<"$(busctl --system get-property "$DEST" "$MGR" "$IFACE" ConfigErrors)" || fail "ConfigErrors"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 2 "the failed reload changed nothing"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": 3 } ] }\n' > "$T/conf.d/60-bad.conf"
mgr Reload >/dev/null || fail "Reload of a fixed configuration failed"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 3 "VFs after the reload"

note "SIGHUP reloads too"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": 1 } ] }\n' > "$T/conf.d/60-bad.conf"
kill -HUP "$DAEMON_PID"
wait_for 10 sysattr_is $PF1 sriov_numvfs 1 || fail "SIGHUP did not apply"

note "hot-unplug and replug: the declared VFs come back by themselves"
sim_ctl remove $PF
wait_for 10 test ! -e "$SIM_ROOT/bus/pci/devices/$PF" || fail "PF not removed"
sim_ctl add $PF
wait_for 15 sysattr_is $PF sriov_numvfs 6 || fail "VFs not restored after replug"
wait_for 15 vf_driver_is $PF 0 vfio-pci || fail "VF driver not restored after replug"

note "PF driver reload: the declared VFs come back by themselves"
sim_ctl rmmod i40e
wait_for 10 test ! -e "$SIM_ROOT/bus/pci/devices/$PF/virtfn0" || fail "VFs did not go with the driver"
sim_ctl modprobe i40e
wait_for 15 sysattr_is $PF sriov_numvfs 6 || fail "VFs not restored after driver reload"
wait_for 15 vf_driver_is $PF 3 vfio-pci || fail "VF driver not restored after driver reload"
wait_for 15 sysattr_is $PF1 sriov_numvfs 1 || fail "$PF1 not restored"

note "a PF whose writes fail does not hold up the others"
printf '{ "pfs": [ { "match": { "bdf": "0000:3b:00.1" }, "num_vfs": 4 } ] }\n' > "$T/conf.d/60-bad.conf"
printf '{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 2 } ] }\n' > "$T/conf.d/50-ens1f0.conf"
# the PF's interface is back in the daemon's model after the driver reload
wait_for 10 mgr GetDevice s ens1f0 || fail "sriovd does not know ens1f0 again"
sim_ctl fail numvfs $PF EIO 0
out=$(mgr Reload) || fail "Reload failed as a whole"
assert_eq "$(sysattr $PF1 sriov_numvfs)" 4 "the healthy PF converged"
case "$out" in *"$PF"*) ;; *) fail "the failing PF is not reported: $out";; esac
assert_eq "$(sysattr $PF sriov_numvfs)" 6 "the failing PF kept its VFs"

note "failed steps are tried again, a bounded number of times, then the timer stops"
# one write per try, each refused: the reload's, then 6 tries 0.1 s, 0.2 s ... 3.2 s apart
failed_writes() { grep -c "$PF/sriov_numvfs \".*\" EIO\$" "$SIM_ROOT/.sim/log"; }
wait_for 20 grep -q "$PF: 1 step(s) of the declared configuration still fail after 6 tries" "$T/sriovd.log" \
        || fail "no bounded retry: $(grep "$PF" "$T/sriovd.log" | tail -n 5)"
assert_eq "$(failed_writes)" 7 "refused numvfs writes (the reload's and 6 tries)"
# every try is announced ("trying again in"); after the last, none is
last=$(grep "^$PF: 1 step(s)" "$T/sriovd.log" | tail -n 1)
case "$last" in *"still fail after 6 tries"*) ;; *) fail "another try is due after the sixth: $last";; esac
assert_eq "$(sysattr $PF sriov_numvfs)" 6 "the failing PF kept its VFs"

note "a refusal that passes: the PF converges by itself"
mgr Apply b false >/dev/null
sim_ctl clear
wait_for 10 sysattr_is $PF sriov_numvfs 2 || fail "the PF did not converge once its writes work"
wait_for 5 grep -Eq "$PF: the declared configuration is in place \(after [1-6] tr(y|ies)\)" "$T/sriovd.log" \
        || fail "convergence not logged: $(grep "$PF" "$T/sriovd.log" | tail -n 5)"
assert_eq "$(mgr Apply b true)" "a(ssss) 0" "nothing left to do"
note "files that are not files, and names with a NUL: errors with their reason, never a hang"
before=$(mgr Apply b true)
mkfifo "$T/conf.d/70-fifo.conf"
out=$(timeout 10 "$SRIOVD" --check-config --sysfs-root "$SIM_ROOT" --config "$T/sriovd.conf" --config-dir "$T/conf.d" 2>&1) &&
        fail "--check-config took a FIFO: $out"
case $out in *"70-fifo.conf: cannot read: it is not a regular file"*) ;; *) fail "--check-config and a FIFO: $out";; esac
GMGR_TIMEOUT=10 expect_error org.sriovd.Error.InvalidConfig gmgr Reload
assert_eq "$(mgr Apply b true)" "$before" "the configuration in force after a refused reload"
kill -HUP "$DAEMON_PID"
mgr ListPools >/dev/null || fail "sriovd does not answer after SIGHUP with a FIFO drop-in"
rm "$T/conf.d/70-fifo.conf"
printf '{ "pools": [ { "name": "n", "select": [ "ens1f0" ], "driver": "vfio-pci\\u0000/../x" } ] }\n' > "$T/conf.d/70-nul.conf"
out=$("$SRIOVD" --check-config --sysfs-root "$SIM_ROOT" --config "$T/sriovd.conf" --config-dir "$T/conf.d" 2>&1) &&
        fail "--check-config took a NUL in a name: $out"
case $out in *"70-nul.conf:1:"*"NUL"*) ;; *) fail "a NUL in a name: $out";; esac
printf '{ "pools": [ { "name": "n\0x", "select": [ "ens1f0" ] } ] }\n' > "$T/conf.d/70-nul.conf"
out=$("$SRIOVD" --check-config --sysfs-root "$SIM_ROOT" --config "$T/sriovd.conf" --config-dir "$T/conf.d" 2>&1) &&
        fail "--check-config took a NUL byte: $out"
case $out in *"70-nul.conf:1:"*"NUL"*) ;; *) fail "a NUL byte: $out";; esac
rm "$T/conf.d/70-nul.conf"
echo ok
