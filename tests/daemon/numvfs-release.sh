#!/bin/bash
# A VF count change unbinds the VFs it destroys first, at once, instead of
# leaving their drivers' remove() to the kernel's sriov_disable(), which
# runs them one after another; a change that fails gives them their
# drivers back. (A restart between the unbinds and the count: crash-ops.sh.)
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
sim_start x710.json --uevents
mkdir -p "$T/conf.d"
PF=0000:3b:00.0
conf() { printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": %d, "autoprobe": true } ] }\n' "$PF" "$1" >"$T/sriovd.conf"; }
conf 4
bus_start
daemon_start --uevent-source udev
VFS=()
for i in 0 1 2 3; do VFS+=("$(vf_bdf $PF $i)"); done
for v in "${VFS[@]}"; do assert_eq "$(driver_of "$v")" iavf "$v before"; done
# present, and on no driver
unbound() { for v in "$@"; do [ -e "$SIM_ROOT/bus/pci/devices/$v" ] && [ "$(driver_of "$v")" = none ] || return 1; done; }

note "the unbinds run at once: three end while the first is held in the kernel"
sim_ctl fail unbind "${VFS[0]}" block 1
conf 0
"$top_builddir/sriovctl" reload >"$T/reload.out" 2>&1 &
rl=$!
wait_for 10 unbound "${VFS[1]}" "${VFS[2]}" "${VFS[3]}" || fail "the other VFs were not unbound while the first one's unbind was held: $(for v in "${VFS[@]}"; do driver_of "$v"; done | tr '\n' ' ')"
assert_eq "$(driver_of "${VFS[0]}")" iavf "the held VF"
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "the count while an unbind is held"
sim_ctl clear
wait "$rl" || fail "reload: $(cat "$T/reload.out")"
assert_eq "$(sysattr $PF sriov_numvfs)" 0 "the count after the reload"
grep -q "numvfs .*done" "$T/reload.out" || fail "reload: $(cat "$T/reload.out")"

note "a count change the driver refuses: the VFs get their drivers back"
conf 4
"$top_builddir/sriovctl" reload >/dev/null
for v in "${VFS[@]}"; do assert_eq "$(driver_of "$v")" iavf "$v after the VFs came back"; done
sim_ctl fail numvfs $PF EIO 1
conf 0
"$top_builddir/sriovctl" reload >"$T/reload.out" 2>&1 && fail "a refused count change succeeded: $(cat "$T/reload.out")"
assert_eq "$(sysattr $PF sriov_numvfs)" 4 "the count after the refusal"
for v in "${VFS[@]}"; do assert_eq "$(driver_of "$v")" iavf "$v after the refusal"; done
jq -e '[.devices[]? | select(.pending == true)] | length == 0' "$T/state/state.json" >/dev/null ||
        fail "records left under way: $(cat "$T/state/state.json")"
echo ok
